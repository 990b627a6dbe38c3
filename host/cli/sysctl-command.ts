/**
 * `wasmroute sysctl`: sysctl(8) for the route-cache knobs of host/cache/sysctl.ts.
 *
 *   wasmroute sysctl [--conf FILE] [OPTIONS] [-w] NAME[=VALUE] …   read NAME, or write NAME=VALUE
 *   wasmroute sysctl [--conf FILE] [OPTIONS] -a                    every value, `sysctl -a` order
 *   wasmroute sysctl [--conf FILE] [OPTIONS] -p [FILE|-] …         load sysctl.conf files (`-` = stdin)
 *
 * OPTIONS are sysctl(8)'s `-n` (values only), `-N` (names only), `-q` (writes print nothing), `-e`
 * (skip unknown names) and `-w` (every argument is a write), short options bundled as getopt allows
 * (`-nq`, `-pFILE`), plus:
 *   --conf FILE   the persistent state, a sysctl.conf: read (all-or-nothing) before anything else; each
 *                 write then rewrites that name's line in place or appends one, keeping comments
 *                 (updateSysctlConf). A missing file is the default state. `-p` alone reloads it.
 *   --ram SIZE    the RAM the §1.1 sizing sees (bytes, or with K/M/G/T, powers of 1024); default: this
 *                 machine's. It decides gc_thresh and max_size while they are not set.
 *   --hz HZ       the kernel HZ whose raw-jiffies values are shown (100, 250, 1000; default 1000).
 *
 * Output follows procps-ng sysctl(8): a read prints `name = value` (`-n`: the value, `-N`: the name);
 * a write echoes `name = value` with the value as given (so `gc_min_interval_ms=501` at HZ=250 echoes
 * 501 although it reads back 504), unless -q; `-p` echoes each line it applied. `flush` is write-only:
 * reading it, alone or in -a, prints nothing, as sysctl(8) skips files without the owner-read bit.
 *
 * The whole command is one transaction: arguments run in order (a read sees earlier writes), output is
 * held back, and on any error nothing is written to --conf, nothing is printed on stdout, one line goes
 * to stderr and the exit status is 2. sysctl(8) instead carries on past a bad argument and exits 255
 * (procps) or 1 (procps-ng) for an unknown key; 2 is what every other `wasmroute` error returns, and `-e`
 * still turns unknown names into no-ops with status 0.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { canonicalSysctlName, RouteSysctls, SUPPORTED_HZ, SysctlError, sysctlInfo } from "../cache/sysctl.ts";
import { applySysctlConf, updateSysctlConf } from "../cache/sysctl-file.ts";

export const SYSCTL_USAGE =
  "usage: wasmroute sysctl [--conf FILE] [--ram SIZE] [--hz HZ] [-n|-N] [-q] [-e] [-w] NAME[=VALUE]... | -a | -p [FILE|-]...";

export interface SysctlIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stdin: () => string;
}

class UsageError extends Error {}

interface Options {
  conf?: string;
  ramBytes?: number;
  hz?: number;
  all: boolean;
  load: boolean;
  loadFiles: string[];
  write: boolean;
  valuesOnly: boolean;
  namesOnly: boolean;
  quiet: boolean;
  ignoreUnknown: boolean;
  help: boolean;
  args: string[];
}

const UNITS: Record<string, number> = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** "4G", "512MiB", "1073741824" → bytes. */
export function parseSize(text: string): number | undefined {
  const m = /^([0-9]+)(?:([KMGT])(?:i?B)?|B)?$/i.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * UNITS[(m[2] ?? "").toUpperCase()]!;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    all: false, load: false, loadFiles: [], write: false, valuesOnly: false, namesOnly: false,
    quiet: false, ignoreUnknown: false, help: false, args: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      o.args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const opt = eq > 0 ? a.slice(0, eq) : a;
      const inline = eq > 0 ? a.slice(eq + 1) : undefined;
      const value = (): string => {
        if (inline !== undefined) return inline;
        const v = argv[++i];
        if (v === undefined) throw new UsageError(`option ${opt} needs a value`);
        return v;
      };
      switch (opt) {
        case "--conf":
          o.conf = value();
          break;
        case "--ram": {
          const v = value();
          const n = parseSize(v);
          if (n === undefined) throw new UsageError(`--ram must be a size such as 4G or 536870912, got ${JSON.stringify(v)}`);
          o.ramBytes = n;
          break;
        }
        case "--hz": {
          const v = value();
          const n = Number(v);
          if (!SUPPORTED_HZ.includes(n)) throw new UsageError(`--hz must be one of ${SUPPORTED_HZ.join(", ")}, got ${JSON.stringify(v)}`);
          o.hz = n;
          break;
        }
        case "--all": o.all = true; break;
        case "--values": o.valuesOnly = true; break;
        case "--names": o.namesOnly = true; break;
        case "--write": o.write = true; break;
        case "--quiet": o.quiet = true; break;
        case "--ignore": o.ignoreUnknown = true; break;
        case "--help": o.help = true; break;
        case "--load":
          o.load = true;
          if (inline !== undefined) o.loadFiles.push(inline);
          break;
        default:
          throw new UsageError(`unknown option ${JSON.stringify(a)}`);
      }
      continue;
    }
    if (a.startsWith("-") && a !== "-") {
      // A getopt bundle of sysctl(8)'s short options; -p takes the rest of the bundle as its file.
      for (let k = 1; k < a.length; k++) {
        const c = a[k]!;
        if (c === "a" || c === "A" || c === "X") o.all = true;
        else if (c === "n") o.valuesOnly = true;
        else if (c === "N") o.namesOnly = true;
        else if (c === "w") o.write = true;
        else if (c === "q") o.quiet = true;
        else if (c === "e") o.ignoreUnknown = true;
        else if (c === "h") o.help = true;
        else if (c === "p" || c === "f") {
          o.load = true;
          if (k + 1 < a.length) o.loadFiles.push(a.slice(k + 1));
          break;
        } else throw new UsageError(`unknown option "-${c}"`);
      }
      continue;
    }
    o.args.push(a);
  }
  return o;
}

function readOptional(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw e;
  }
}

function errorMessage(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, " ");
}

function run(o: Options, io: SysctlIo): void {
  if (o.namesOnly && o.quiet) throw new UsageError("options -N and -q cannot coexist");
  if (o.all && (o.load || o.args.length > 0)) throw new UsageError("-a takes no names and no -p");
  if (o.load && o.write) throw new UsageError("-p and -w cannot be combined");
  if (!o.all && !o.load && o.args.length === 0) throw new UsageError("no variables specified");
  const files = o.load ? [...o.loadFiles, ...o.args] : [];
  if (o.load && files.length === 0) {
    if (o.conf === undefined) throw new UsageError("-p needs a FILE (or --conf FILE to reload)");
    files.push(o.conf);
  }

  const sysctls = new RouteSysctls({ totalRamBytes: o.ramBytes, hz: o.hz });
  const confText = o.conf !== undefined ? readOptional(o.conf) : "";
  if (o.conf !== undefined) applySysctlConf(sysctls, confText, o.conf, { ignoreUnknown: o.ignoreUnknown });

  const out: string[] = [];
  const written: string[] = [];
  const print = (name: string, value: string): void => {
    out.push(o.namesOnly ? name : o.valuesOnly ? value : `${name} = ${value}`);
  };
  const echoWrite = (name: string, value: string, persist = true): void => {
    if (!o.quiet) print(name, value);
    if (persist) written.push(name);
  };

  if (o.all) {
    for (const e of sysctls.list()) print(e.name, e.value);
  } else if (o.load) {
    for (const f of files) {
      const fromStdin = f === "-";
      const text = fromStdin ? io.stdin() : readFileSync(f, "utf8");
      const applied = applySysctlConf(sysctls, text, fromStdin ? "<stdin>" : f, { ignoreUnknown: o.ignoreUnknown });
      // Reloading the --conf file itself (`-p` alone) leaves it as it is.
      for (const e of applied) echoWrite(e.name, e.value, f !== o.conf);
    }
  } else {
    for (const arg of o.args) {
      const eq = arg.indexOf("=");
      if (o.write && eq < 0) throw new SysctlError(`${JSON.stringify(arg)} must be of the form name=value`);
      const key = (eq < 0 ? arg : arg.slice(0, eq)).trim();
      const name = canonicalSysctlName(key);
      if (name === undefined) {
        if (o.ignoreUnknown) continue;
        throw new SysctlError(`unknown sysctl ${JSON.stringify(key)}`);
      }
      if (eq >= 0) {
        const value = arg.slice(eq + 1).trim();
        sysctls.set(name, value);
        echoWrite(name, value);
      } else if (sysctlInfo(name)!.kind !== "flush") {
        print(name, sysctls.get(name));
      }
    }
  }

  if (o.conf !== undefined && written.length > 0) {
    let text = confText;
    // Record the value as it now reads back (canonical decimal); the last write of a name wins.
    for (const name of written) {
      if (sysctlInfo(name)!.kind !== "flush") text = updateSysctlConf(text, name, sysctls.get(name));
    }
    if (text !== confText) writeFileSync(o.conf, text);
  }
  if (out.length > 0) io.stdout(out.map((l) => `${l}\n`).join(""));
}

/** Runs `wasmroute sysctl ARGV`; returns the exit status (0, or 2 after one line on stderr). */
export function runSysctl(argv: readonly string[], io: SysctlIo): number {
  try {
    const o = parseArgs(argv);
    if (o.help) {
      io.stdout(`${SYSCTL_USAGE}\n`);
      return 0;
    }
    run(o, io);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`wasmroute sysctl: ${e.message} (${SYSCTL_USAGE})\n`);
      return 2;
    }
    io.stderr(`${errorMessage(e)}\n`);
    return 2;
  }
}

// Run directly: node --import tsx host/cli/sysctl-command.ts ARGS (the `wasmroute sysctl` entry until
// main.ts dispatches to runSysctl).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = runSysctl(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stdin: () => readFileSync(0, "utf8"),
  });
}
