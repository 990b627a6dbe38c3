/**
 * `wasmroute` command line.
 *
 *   wasmroute [--core debug|release] ip [--routes FILE] [-batch FILE|-] route …|rule …
 *   wasmroute demo
 *
 * With `--routes FILE` the file is the state: it is replayed (all-or-nothing) into a fresh FIB, the
 * command runs, and a command that changed the FIB is appended to the file as its canonical line.
 * `-batch FILE` (`-` = stdin) runs a file of commands all-or-nothing after the routes file is
 * loaded, printing their output only when every line succeeded.
 *
 * Exit status: 0 on success, 2 on any error (one line on stderr; usage errors add a usage line).
 */
import { appendFileSync, readFileSync } from "node:fs";
import { Fib } from "../fib/fib.ts";
import { runIpCommand } from "./commands.ts";
import { runScript } from "./script.ts";
import { runDemo } from "./demo.ts";
import { runSimulate } from "./simulate-command.ts";
import { runSysctl } from "./sysctl-command.ts";
import { runLnstatCommand } from "./lnstat-command.ts";
import { runNstatCommand } from "./nstat-command.ts";
import { runRouterCommand, RUN_USAGE } from "./run-command.ts";
import { runLabCommand } from "./lab-command.ts";
import { runControlClient } from "./control-client.ts";

/** Subcommands with their own argument parsing. */
const SUBCOMMANDS: Record<string, (argv: string[], io: Io) => number> = {
  simulate: runSimulate,
  sysctl: runSysctl,
  nstat: runNstatCommand,
};

export const USAGE =
  "usage: wasmroute [--core debug|release] ip [--routes FILE] [-batch FILE|-] route ...|rule ... | wasmroute demo | wasmroute simulate [OPTIONS] | wasmroute sysctl [--conf FILE] [-n] [-w] NAME[=VALUE]... | -a | -p FILE | wasmroute lnstat [-c N] [-i S] [-f FILE]... [-k KEYS] [-s 0|1|2] [-w W,...] [--proc DIR] | wasmroute nstat [--proc DIR] [-a] [-s] [-n] [-r] [-z] [-j] [-p] [PATTERN ...] | " + RUN_USAGE.slice("usage: ".length) + " | wasmroute lab [--duration S] [--table FILE|none] [--flows N] [--pcap] [--keep-captures] | wasmroute -n NAME|--control PATH ip ...|sysctl ...|nstat ...|lnstat ...|cat /proc/net/stat/rt_cache";

class UsageError extends Error {}

interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stdin: () => string;
}

interface IpOptions {
  core: "debug" | "release";
  routes?: string;
  batch?: string;
  words: string[];
}

function optionValue(argv: string[], i: number, name: string): string {
  const v = argv[i + 1];
  if (v === undefined) throw new UsageError(`option ${name} needs a value`);
  return v;
}

/** Parses the arguments; returns the subcommand and its options. */
function parseArgs(argv: string[]): { sub: "ip" | "demo" | "help"; opts: IpOptions } {
  const opts: IpOptions = { core: "release", words: [] };
  let sub: "ip" | "demo" | "help" | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    let a = argv[i]!;
    let inline: string | undefined;
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    if (eq > 0) {
      inline = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const value = (name: string): string => {
      if (inline !== undefined) return inline;
      const v = optionValue(argv, i, name);
      i++;
      return v;
    };
    if (a === "-h" || a === "--help" || a === "help") return { sub: "help", opts };
    if (a === "--core") {
      const v = value(a);
      if (v !== "debug" && v !== "release") throw new UsageError(`--core must be "debug" or "release", got "${v}"`);
      opts.core = v;
    } else if (a === "--routes") {
      opts.routes = value(a);
    } else if (a === "-batch" || a === "--batch" || a === "-b") {
      opts.batch = value(a);
    } else if (a === "-force" || a === "--force") {
      throw new UsageError(`${a} is not supported: a batch is applied all-or-nothing`);
    } else if (a.startsWith("-") && a !== "-") {
      throw new UsageError(`unknown option "${a}"`);
    } else if (sub === undefined && (a === "ip" || a === "demo")) {
      sub = a;
    } else if (sub === undefined) {
      throw new UsageError(`unknown command "${a}"`);
    } else break;
  }
  if (sub === undefined) throw new UsageError("missing command");
  opts.words = argv.slice(i);
  return { sub, opts };
}

function errorMessage(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, " ");
}

/** Reads the routes file; a missing file is the empty state. */
function readRoutes(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw e;
  }
}

function appendRoutes(path: string, existing: string, lines: string[]): void {
  if (lines.length === 0) return;
  const sep = existing.length > 0 && !existing.endsWith("\n") ? "\n" : "";
  appendFileSync(path, sep + lines.map((l) => `${l}\n`).join(""));
}

function runIp(opts: IpOptions, io: Io): void {
  if (opts.batch !== undefined && opts.words.length > 0) {
    throw new UsageError(`-batch and a command on the command line cannot be combined`);
  }
  if (opts.batch === undefined && opts.words.length === 0) throw new UsageError(`missing "route …" or "rule …"`);
  const fib = new Fib({ flavor: opts.core });
  const existing = opts.routes !== undefined ? readRoutes(opts.routes) : "";
  if (opts.routes !== undefined) runScript(fib, existing, opts.routes, () => {});
  const out: string[] = [];
  let canonical: string[];
  if (opts.batch !== undefined) {
    const fromStdin = opts.batch === "-";
    const text = fromStdin ? io.stdin() : readFileSync(opts.batch, "utf8");
    canonical = runScript(fib, text, fromStdin ? "<stdin>" : opts.batch, (l) => out.push(l)).canonical;
  } else {
    const r = runIpCommand(fib, opts.words, (l) => out.push(l));
    canonical = r.canonical !== undefined ? [r.canonical] : [];
  }
  if (opts.routes !== undefined) appendRoutes(opts.routes, existing, canonical);
  if (out.length > 0) io.stdout(out.map((l) => `${l}\n`).join(""));
}

/** Runs the CLI; returns the exit status. */
export function main(argv: string[], io: Io): number {
  const sub = SUBCOMMANDS[argv[0] ?? ""];
  if (sub) return sub(argv.slice(1), io);
  try {
    const { sub, opts } = parseArgs(argv);
    if (sub === "help") {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    if (sub === "demo") {
      runDemo((line) => io.stdout(`${line}\n`));
      return 0;
    }
    runIp(opts, io);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`wasmroute: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    io.stderr(`${errorMessage(e)}\n`);
    return 2;
  }
}

/** Subcommands that run on the event loop (timers, devices, signals). */
const ASYNC_SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  lnstat: runLnstatCommand,
  run: runRouterCommand,
  lab: runLabCommand,
};

const args = process.argv.slice(2);
const asyncSub = ASYNC_SUBCOMMANDS[args[0] ?? ""];
// #6: `wasmroute -n NAME …` / `--control PATH …` runs the command in a running router (host/cli/control-client.ts).
const viaControl = /^(-n|--name|--control)$|^--control=/.test(args[0] ?? "");
process.exitCode = viaControl
  ? await runControlClient(args)
  : asyncSub
  ? await asyncSub(args.slice(1))
  : main(args, {
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
        stdin: () => readFileSync(0, "utf8"),
      });
