/**
 * `wasmroute nstat [--proc DIR] [OPTIONS] [PATTERN ...]`: iproute2's nstat (misc/nstat.c, iproute2 6.1,
 * checked against Debian's binary) on the router's statistics directory instead of /proc.
 *
 * It reads DIR/net/netstat, DIR/net/snmp6, DIR/net/snmp and DIR/net/sctp/snmp, as nstat reads them
 * under PROC_ROOT=DIR (the router writes the first and the third: host/router/proc-dir.ts). DIR
 * defaults to /run/wasmroute/default, where `wasmroute run` keeps the statistics of the router named
 * "default" (`--name NAME` → /run/wasmroute/NAME).
 *
 * Output is nstat's byte for byte (test/nstat.test.ts runs Debian's nstat on the same files):
 *
 * - Counters in nstat's order: the files' entries in file order, the files in reverse load order
 *   (sctp, snmp, snmp6, netstat: nstat prepends each file's list). IpForwarding, IpDefaultTTL and the
 *   TCP constants are never shown ("useless numbers"), nor kept in the history.
 * - Text: a `#SOURCE` line, then `%-32s%-16llu%6.1f` per counter (+ " (overflow)" when a counter went
 *   down since the history; its delta is then 0). The rate column is 0.0: rates come only from nstat's
 *   daemon (-d), which we do not have.
 * - `-j`: `{"SOURCE":{"Name":value,...}}` through iproute2's json_writer; values are printed as C
 *   `unsigned int`, i.e. modulo 2^32, as nstat 6.1 does (jsonw_uint). `-p` pretty-prints (4-space indents).
 * - Without -a, and when the history holds counters, each value is the increase since the history;
 *   otherwise the absolute value. Zero values are left out unless -z. PATTERNs are fnmatch(3) globs;
 *   a counter that no pattern matches is neither shown nor moved forward in the history (it keeps its
 *   old history value, so its increase keeps accumulating), exactly as nstat.
 * - History: rewritten after the output unless -s (with nstat's rules: -r deletes it first; -a skips the
 *   age check; the file is created, mode 0600, even with -s unless -a is given too; a history whose
 *   `#` line is not "kernel" is "stale" and ignored; a history older than the machine's uptime is "aged
 *   out"). The format is nstat's ("#kernel", then `NAME VALUE RATE` lines), so iproute2's nstat and
 *   ours can share one file.
 * - History file: $NSTAT_HISTORY if set (nstat's variable), else
 *   `/tmp/.wasmroute-nstat.u<UID>-<first 12 hex digits of sha256(absolute DIR)>`: one history per user
 *   and per statistics directory. It is not nstat's /tmp/.nstat.u<UID> on purpose: both sources are
 *   "#kernel", so sharing that file would make each tool take the other's counters for its history.
 *
 * Also runnable directly: `node --import tsx host/cli/nstat-command.ts --proc DIR -z`.
 *
 * Differences (all outside stdout): no daemon (-d SECS > 0 is refused; -t is checked and ignored);
 * no flock(2) on the history (Node has none; nstat takes LOCK_EX); error messages start with
 * "wasmroute nstat:"; exit status 0, 2 for a usage error (-h: usage on stderr, 0), 255 for the
 * history-file checks nstat exits -1 on, 254 for a file nstat cannot parse (its exit -2), and 1 when
 * DIR has neither net/snmp nor net/netstat (after printing what nstat would, plus a hint on stderr).
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readFileSync, readSync, unlinkSync, writeSync } from "node:fs";
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { fgetsChunks, fnmatch, getlines, isSpace, JsonWriter, scansDouble, scanUll } from "./c-text.ts";

/** Where `wasmroute run` keeps the statistics of the router named "default". */
export const NSTAT_DEFAULT_DIR = "/run/wasmroute/default";

/** The iproute2 release whose nstat we reproduce. */
export const NSTAT_EMULATED_VERSION = "6.1.0";

const PROG = "wasmroute nstat";

export const NSTAT_USAGE =
  "Usage: wasmroute nstat [--proc DIR] [OPTION] [ PATTERN [ PATTERN ] ]\n" +
  "   -h, --help          this message\n" +
  "   -a, --ignore        ignore history\n" +
  "   -d, --scan=SECS     sample every statistics every SECS (not supported)\n" +
  "   -j, --json          format output in JSON\n" +
  "   -n, --nooutput      do history only\n" +
  "   -p, --pretty        pretty print\n" +
  "   -r, --reset         reset history\n" +
  "   -s, --noupdate      don't update history\n" +
  "   -t, --interval=SECS report average over the last SECS (no effect without -d)\n" +
  "   -V, --version       output version information\n" +
  "   -z, --zeros         show entries with zero activity\n" +
  `       --proc DIR      read DIR/net/snmp and DIR/net/netstat (default ${NSTAT_DEFAULT_DIR})\n`;

export interface NstatIo {
  /** Standard output; latin1 text (one character per byte of the statistics files). */
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface NstatDeps {
  /** Environment (NSTAT_HISTORY, POSIXLY_CORRECT). Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** getuid(). Default: process.getuid(). */
  uid?: number;
  /** time(NULL) in seconds. Default: the real clock. */
  now?: () => number;
  /** The integer part of /proc/uptime's first field, or -1 when unreadable. Default: read it. */
  uptime?: () => number;
}

/** The default history file for a statistics directory (see the top). */
export function defaultHistoryPath(dir: string, uid: number): string {
  const h = createHash("sha256").update(resolve(dir)).digest("hex").slice(0, 12);
  return `/tmp/.wasmroute-nstat.u${uid}-${h}`;
}

class Exit extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`exit ${status}`);
    this.status = status;
  }
}

// ---------------------------------------------------------------------------------------------
// nstat's tables

interface Ent {
  id: string;
  val: bigint;
  rate: number;
}

const USELESS = new Set(["IpForwarding", "IpDefaultTTL", "TcpRtoAlgorithm", "TcpRtoMin", "TcpRtoMax", "TcpMaxConn", "TcpCurrEstab"]);

class ParseError extends Error {}

function countSpaces(line: string): number {
  let n = 0;
  for (let i = 0; i < line.length; i++) if (line[i] === " " || line[i] === "\n") n++;
  return n;
}

/**
 * load_ugly_table: "Prefix: Name Name …" / "Prefix: v v …" line pairs (/proc/net/snmp, netstat).
 * Entries in file order, useless numbers dropped. Values are assigned from the end of the value line
 * backwards, with nstat's skip of surplus trailing values.
 */
function loadUglyTable(text: string): Ent[] {
  const lines = getlines(text);
  const db: Ent[] = [];
  let li = 0;
  while (li < lines.length) {
    const buf = lines[li++]!;
    const colon = buf.indexOf(":");
    if (colon < 0) throw new ParseError();
    const count1 = countSpaces(buf);
    const prefix = buf.slice(0, colon);
    let p = colon + 2;
    while (p < buf.length) {
      let end = buf.indexOf(" ", p);
      let next: number;
      if (end >= 0) next = end + 1;
      else {
        end = buf.indexOf("\n", p);
        if (end < 0) throw new ParseError(); // nstat would dereference NULL: a last line without "\n"
        next = end + 1;
      }
      db.push({ id: prefix + buf.slice(p, end), val: 0n, rate: 0 });
      p = next;
    }
    if (li >= lines.length) throw new ParseError();
    const vbuf = lines[li++]!;
    const count2 = countSpaces(vbuf);
    let skip = count2 > count1 ? count2 - count1 : 0;
    let n = db.length - 1;
    let end = vbuf.length;
    let sp: number;
    do {
      sp = end > 0 ? vbuf.lastIndexOf(" ", end - 1) : -1;
      if (sp < 0) throw new ParseError();
      const v = scanUll(vbuf.slice(sp + 1, end), 0);
      if (v === undefined) throw new ParseError();
      if (n < 0) throw new ParseError(); // nstat would write through a NULL entry
      db[n]!.val = v.value;
      end = sp;
      if (skip) skip--;
      else n--;
    } while (sp > colon + 2);
  }
  return db.filter((e) => !USELESS.has(e.id));
}

interface Source {
  info: string;
  mismatch: boolean;
}

/** load_good_table: "NAME VALUE [RATE]" lines and "#SOURCE" lines (history, snmp6, sctp/snmp). */
function loadGoodTable(text: string, src: Source): Ent[] {
  const out: Ent[] = [];
  for (const buf of fgetsChunks(text, 4096)) {
    if (buf[0] === "#") {
      const s = buf.slice(1, buf.length - 1);
      if (src.info !== "" && src.info !== s) src.mismatch = true;
      src.info = s.slice(0, 127);
      continue;
    }
    let p = 0;
    while (p < buf.length && isSpace(buf.charCodeAt(p))) p++;
    const idStart = p;
    while (p < buf.length && !isSpace(buf.charCodeAt(p))) p++;
    if (p === idStart) throw new ParseError();
    const id = buf.slice(idStart, p);
    const v = scanUll(buf, p);
    if (v === undefined) throw new ParseError();
    let rate = 0;
    if (scansDouble(buf, v.end)) rate = Number.parseFloat(buf.slice(v.end).trim()) || 0;
    if (USELESS.has(id)) continue;
    out.push({ id, val: v.value, rate });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Output: text lines and JSON (c-text.ts JsonWriter)

interface Opts {
  dumpZeros: boolean;
  resetHistory: boolean;
  ignoreHistory: boolean;
  noOutput: boolean;
  noUpdate: boolean;
  json: boolean;
  pretty: boolean;
  patterns: string[];
  dir: string;
}

function textLine(id: string, val: bigint, rate: number, tail = ""): string {
  return `${id.padEnd(32)}${val.toString().padEnd(16)}${rate.toFixed(1).padStart(6)}${tail}\n`;
}

function matches(o: Opts, id: string): boolean {
  return o.patterns.length === 0 || o.patterns.some((p) => fnmatch(p, id));
}

/** dump_kern_db: absolute values; with toHist, unmatched counters keep their history value. */
function dumpKern(o: Opts, kern: Ent[], hist: Ent[], info: string, toHist: boolean, json: boolean): string {
  const d = new Dump(o, info, json);
  let h = 0;
  for (const n of kern) {
    let val = n.val;
    if (!o.dumpZeros && val === 0n && n.rate === 0) continue;
    if (!matches(o, n.id)) {
      if (!toHist) continue;
      for (let j = h; j < hist.length; j++) {
        if (hist[j]!.id === n.id) {
          val = hist[j]!.val;
          h = j + 1;
          break;
        }
      }
    }
    d.line(n.id, val, n.rate);
  }
  return d.finish();
}

/** dump_incr_db: increases since the history (a decrease shows 0 and " (overflow)"). */
function dumpIncr(o: Opts, kern: Ent[], hist: Ent[], info: string): string {
  const d = new Dump(o, info, o.json);
  let h = 0;
  for (const n of kern) {
    let ovfl = false;
    let val = n.val;
    for (let j = h; j < hist.length; j++) {
      const h1 = hist[j]!;
      if (h1.id === n.id) {
        if (val < h1.val) {
          ovfl = true;
          val = h1.val;
        }
        val -= h1.val;
        h = j + 1;
        break;
      }
    }
    if (!o.dumpZeros && val === 0n && n.rate === 0) continue;
    if (!matches(o, n.id)) continue;
    d.line(n.id, val, n.rate, ovfl ? " (overflow)" : "");
  }
  return d.finish();
}

/** One dump's output, as text ("#info" then a line per counter) or as JSON ({"info": {id: value}}). */
class Dump {
  private readonly jw: JsonWriter | undefined;
  private out = "";

  constructor(o: Opts, info: string, json: boolean) {
    this.jw = json ? new JsonWriter() : undefined;
    if (this.jw) {
      this.jw.startObject();
      this.jw.setPretty(o.pretty);
      this.jw.name(info);
      this.jw.startObject();
    } else this.out += `#${info}\n`;
  }

  line(id: string, val: bigint, rate: number, suffix = ""): void {
    if (this.jw) this.jw.uintField(id, val);
    else this.out += textLine(id, val, rate, suffix);
  }

  finish(): string {
    if (!this.jw) return this.out;
    this.jw.endObject();
    this.jw.endObject();
    return this.jw.finish();
  }
}

// ---------------------------------------------------------------------------------------------
// Arguments: GNU getopt_long with nstat's "h?vVzrnasd:t:jp" and long options, plus --proc DIR

class UsageError extends Error {}

const LONGOPTS: readonly { name: string; arg: boolean; val: string }[] = [
  { name: "help", arg: false, val: "h" },
  { name: "ignore", arg: false, val: "a" },
  { name: "scan", arg: true, val: "d" },
  { name: "nooutput", arg: false, val: "n" },
  { name: "json", arg: false, val: "j" },
  { name: "reset", arg: false, val: "r" },
  { name: "noupdate", arg: false, val: "s" },
  { name: "pretty", arg: false, val: "p" },
  { name: "interval", arg: true, val: "t" },
  { name: "version", arg: false, val: "V" },
  { name: "zeros", arg: false, val: "z" },
];
const SHORT_NOARG = "h?vVzrnasjp";
const SHORT_ARG = "dt";

type Parsed = { kind: "run"; opts: Opts } | { kind: "help" } | { kind: "version" };

/** C atoi: leading white space, a sign, decimal digits; 0 when none. */
function atoi(s: string): number {
  const m = /^[\t\n\v\f\r ]*([+-]?\d+)/.exec(s);
  return m ? Number.parseInt(m[1]!, 10) : 0;
}

function parseArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Parsed {
  const o: Opts = {
    dumpZeros: false, resetHistory: false, ignoreHistory: false, noOutput: false, noUpdate: false,
    json: false, pretty: false, patterns: [], dir: NSTAT_DEFAULT_DIR,
  };
  const posixly = env.POSIXLY_CORRECT !== undefined;
  let scanInterval = 0;
  let scanArg = "";
  const apply = (c: string, arg: string | undefined): Parsed | undefined => {
    switch (c) {
      case "z": o.dumpZeros = true; break;
      case "r": o.resetHistory = true; break;
      case "a": o.ignoreHistory = true; break;
      case "s": o.noUpdate = true; break;
      case "n": o.noOutput = true; break;
      case "j": o.json = true; break;
      case "p": o.pretty = true; break;
      case "d":
        scanInterval = atoi(arg!) * 1000;
        scanArg = arg!;
        break;
      case "t": {
        const m = /^[\t\n\v\f\r ]*([+-]?\d+)/.exec(arg!);
        if (!m || Number.parseInt(m[1]!, 10) <= 0) throw new UsageError("invalid time constant divisor");
        break;
      }
      case "v":
      case "V":
        return { kind: "version" };
      default:
        return { kind: "help" };
    }
    return undefined;
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      o.patterns.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const inline = eq < 0 ? undefined : a.slice(eq + 1);
      if (name === "proc") {
        if (inline !== undefined) o.dir = inline;
        else if (i + 1 < argv.length) o.dir = argv[++i]!;
        else throw new UsageError(`option '--proc' requires an argument`);
        continue;
      }
      const exact = LONGOPTS.find((l) => l.name === name);
      const cands = exact ? [exact] : LONGOPTS.filter((l) => l.name.startsWith(name));
      if (cands.length === 0) throw new UsageError(`unrecognized option '${a.slice(0, eq < 0 ? undefined : eq)}'`);
      if (cands.length > 1) {
        throw new UsageError(`option '--${name}' is ambiguous; possibilities:${cands.map((c) => ` '--${c.name}'`).join("")}`);
      }
      const l = cands[0]!;
      let arg: string | undefined;
      if (l.arg) {
        if (inline !== undefined) arg = inline;
        else if (i + 1 < argv.length) arg = argv[++i]!;
        else throw new UsageError(`option '--${l.name}' requires an argument`);
      } else if (inline !== undefined) throw new UsageError(`option '--${l.name}' doesn't allow an argument`);
      const r = apply(l.val, arg);
      if (r) return r;
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const c = a[k]!;
        if (SHORT_ARG.includes(c)) {
          let arg: string;
          if (k + 1 < a.length) arg = a.slice(k + 1);
          else if (i + 1 < argv.length) arg = argv[++i]!;
          else throw new UsageError(`option requires an argument -- '${c}'`);
          const r = apply(c, arg);
          if (r) return r;
          break;
        }
        if (!SHORT_NOARG.includes(c) || c === ":") throw new UsageError(`invalid option -- '${c}'`);
        const r = apply(c, undefined);
        if (r) return r;
      }
      continue;
    }
    // A pattern. GNU getopt moves it after the options (POSIXLY_CORRECT: options end here).
    if (posixly) {
      o.patterns.push(...argv.slice(i));
      break;
    }
    o.patterns.push(a);
  }
  if (scanInterval > 0) {
    throw new UsageError(`-d ${scanArg}: nstat's daemon mode is not supported (the router's counters are read from its statistics directory)`);
  }
  return { kind: "run", opts: o };
}

// ---------------------------------------------------------------------------------------------
// The command

const ERRNO_TEXT: Record<string, string> = {
  EACCES: "Permission denied",
  ELOOP: "Too many levels of symbolic links",
  ENOENT: "No such file or directory",
  ENOTDIR: "Not a directory",
  EISDIR: "Is a directory",
  EROFS: "Read-only file system",
  ENOSPC: "No space left on device",
  EPERM: "Operation not permitted",
};

function perror(io: NstatIo, what: string, e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code ?? "";
  io.stderr(`${PROG}: ${what}: ${ERRNO_TEXT[code] ?? (e instanceof Error ? e.message : String(e))}\n`);
  throw new Exit(255);
}

function readProcUptime(): number {
  try {
    const m = /^[\t\n\v\f\r ]*([+-]?\d+)/.exec(readFileSync("/proc/uptime", "latin1"));
    return m ? Number.parseInt(m[1]!, 10) : -1;
  } catch {
    return -1;
  }
}

/** Reads a statistics file as nstat opens it: a file that cannot be read is skipped. */
function readStat(path: string): string | undefined {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return undefined;
  }
}

function readAll(fd: number): string {
  const chunks: Buffer[] = [];
  const b = Buffer.alloc(65536);
  for (;;) {
    const n = readSync(fd, b, 0, b.length, null);
    if (n <= 0) break;
    chunks.push(Buffer.from(b.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString("latin1");
}

/** Runs `wasmroute nstat ARGV…`; returns the exit status. */
export function runNstat(argv: readonly string[], io: NstatIo, deps: NstatDeps = {}): number {
  const env = deps.env ?? process.env;
  let parsed: Parsed;
  try {
    parsed = parseArgs(argv, env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`${PROG}: ${e.message}\n${NSTAT_USAGE}`);
    return 2;
  }
  if (parsed.kind === "help") {
    io.stderr(NSTAT_USAGE);
    return 0;
  }
  if (parsed.kind === "version") {
    io.stdout(`nstat utility, wasmroute (iproute2-${NSTAT_EMULATED_VERSION} nstat)\n`);
    return 0;
  }
  const o = parsed.opts;
  const uid = deps.uid ?? process.getuid?.() ?? 0;
  const histName = env.NSTAT_HISTORY ?? defaultHistoryPath(o.dir, uid);
  const src: Source = { info: "", mismatch: false };
  let histFd: number | undefined;
  try {
    if (o.resetHistory) {
      try {
        unlinkSync(histName);
      } catch {
        // as unlink(2) with the result ignored
      }
    }
    let hist: Ent[] = [];
    if (!o.ignoreHistory || !o.noUpdate) {
      try {
        histFd = openSync(histName, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
      } catch (e) {
        perror(io, "open history file", e);
      }
      const st = fstatSync(histFd);
      if (st.nlink !== 1 || st.uid !== uid) {
        io.stderr(`${PROG}: something is so wrong with history file, that I prefer not to proceed.\n`);
        throw new Exit(255);
      }
      if (!o.ignoreHistory) {
        const uptime = deps.uptime ? deps.uptime() : readProcUptime();
        const now = deps.now ? deps.now() : Math.floor(Date.now() / 1000);
        if (uptime >= 0 && now >= Math.floor(st.mtimeMs / 1000) + uptime) {
          io.stderr(`${PROG}: history is aged out, resetting\n`);
          ftruncateSync(histFd, 0);
        }
      }
      try {
        hist = loadGoodTable(readAll(histFd), src);
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        io.stderr(`${PROG}: ${histName}: error parsing history file\n`);
        throw new Exit(254);
      }
    }
    if (hist.length > 0 && src.info !== "" && src.info !== "kernel") {
      io.stderr(`${PROG}: history is stale, ignoring it.\n`);
      hist = [];
      src.info = "";
    }
    // load_netstat, load_snmp6, load_snmp, load_sctp_snmp: each file's entries go in front.
    let kern: Ent[] = [];
    const files: [string, "ugly" | "good"][] = [
      ["net/netstat", "ugly"],
      ["net/snmp6", "good"],
      ["net/snmp", "ugly"],
      ["net/sctp/snmp", "good"],
    ];
    let found = 0;
    for (const [rel, kind] of files) {
      const path = join(o.dir, rel);
      const text = readStat(path);
      if (text === undefined) continue;
      if (rel === "net/netstat" || rel === "net/snmp") found++;
      try {
        kern = [...(kind === "ugly" ? loadUglyTable(text) : loadGoodTable(text, src)), ...kern];
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        io.stderr(`${PROG}: ${path}: error parsing statistics file\n`);
        throw new Exit(254);
      }
    }
    if (src.info === "") src.info = "kernel";
    if (!o.noOutput) {
      io.stdout(o.ignoreHistory || hist.length === 0 ? dumpKern(o, kern, hist, src.info, false, o.json) : dumpIncr(o, kern, hist, src.info));
    }
    if (!o.noUpdate && histFd !== undefined) {
      const text = Buffer.from(dumpKern(o, kern, hist, src.info, true, false), "latin1");
      ftruncateSync(histFd, 0);
      writeSync(histFd, text, 0, text.length, 0);
    }
    if (found === 0) {
      io.stderr(`${PROG}: no statistics in ${o.dir} (no net/snmp, no net/netstat): is the router running? (--proc DIR)\n`);
      return 1;
    }
    return 0;
  } catch (e) {
    if (e instanceof Exit) return e.status;
    throw e;
  } finally {
    if (histFd !== undefined) closeSync(histFd);
  }
}

/**
 * `wasmroute nstat` as a subcommand of host/cli/main.ts. The router's files are ASCII, so main's
 * string output is byte-exact; `runNstat` with a latin1 writer is exact for any bytes.
 */
export function runNstatCommand(argv: string[], io: NstatIo): number {
  return runNstat(argv, io);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = runNstat(process.argv.slice(2), {
    stdout: (t) => void process.stdout.write(Buffer.from(t, "latin1")),
    stderr: (t) => void process.stderr.write(t),
  });
}
