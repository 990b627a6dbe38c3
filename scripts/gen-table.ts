/**
 * CLI: prints a deterministic synthetic IPv4 table as a CIDR list (one prefix a line).
 *
 *   node --import tsx scripts/gen-table.ts --size N --seed S [--out FILE]
 *
 * Exit status: 0 ok, 1 generation/output failure, 2 usage error (one-line message on stderr).
 */

import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { formatPrefix } from "../host/fib/ipv4.ts";
import { generateTable } from "./lib/synthetic-table.ts";

const USAGE = "usage: gen-table.ts --size N --seed S [--out FILE]";
const LINES_PER_CHUNK = 65536;

interface Options {
  size: number;
  seed: number;
  out?: string;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Options | "help" {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") return "help";
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (name !== "--size" && name !== "--seed" && name !== "--out") throw new UsageError(`unknown argument "${arg}"`);
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined || value === "") throw new UsageError(`${name} needs a value`);
    if (values.has(name)) throw new UsageError(`${name} given twice`);
    values.set(name, value);
  }
  return {
    size: integerArg(values, "--size", 0, Number.MAX_SAFE_INTEGER),
    seed: integerArg(values, "--seed", 0, 0xffffffff),
    out: values.get("--out"),
  };
}

function integerArg(values: Map<string, string>, name: string, min: number, max: number): number {
  const text = values.get(name);
  if (text === undefined) throw new UsageError(`${name} is required`);
  const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${name} must be an integer ${min}..${max}, got "${text}"`);
  return n;
}

/** The table as text, LINES_PER_CHUNK lines at a time. */
function* chunks(addrs: Uint32Array, lens: Uint8Array): Generator<string> {
  for (let start = 0; start < addrs.length; start += LINES_PER_CHUNK) {
    const end = Math.min(addrs.length, start + LINES_PER_CHUNK);
    let chunk = "";
    for (let i = start; i < end; i++) chunk += `${formatPrefix(addrs[i], lens[i])}\n`;
    yield chunk;
  }
}

async function main(): Promise<number> {
  let opts: Options | "help";
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`gen-table: ${e.message} (${USAGE})\n`);
    return 2;
  }
  if (opts === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { addrs, lens } = generateTable({ size: opts.size, seed: opts.seed });
  if (opts.out === undefined) {
    process.stdout.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(0); // the reader went away (e.g. `| head`)
      throw e;
    });
    for (const chunk of chunks(addrs, lens)) {
      if (!process.stdout.write(chunk)) await once(process.stdout, "drain");
    }
  } else {
    await pipeline(Readable.from(chunks(addrs, lens)), createWriteStream(opts.out));
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`gen-table: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
