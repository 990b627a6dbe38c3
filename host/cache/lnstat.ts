/**
 * `wasmroute lnstat`: iproute2's lnstat (misc/lnstat.c + misc/lnstat_util.c, as shipped in iproute2
 * 6.1) re-implemented so that it prints byte-identical stdout when reading the same files
 * (spec: /work/shared/docs/kernel-route-cache.md §5.3, sources IPR1/IPR2 in §0; the behaviour of
 * 6.1 was checked against the installed binary, see the notes below).
 *
 * Usage: lnstat [-c COUNT] [-i SECONDS] [-f FILE]... [-k [FILE:]KEY,...] [-s 0|1|2] [-w W[,W...]]
 *               [-d] [-j] [--proc DIR]
 *
 * `--proc DIR` (ours) reads DIR/net/stat/ instead of /proc/net/stat/ (and DIR/net/rt_cache_stat in
 * the old-kernel fallback). Everything else follows lnstat, including its oddities:
 *
 * - Files: every regular file of DIR/net/stat (or only those named by -f), in *reverse* readdir order
 *   (lnstat prepends each file to its list). Each is opened once; later reads re-read that open file.
 *   The first line gives the field names (split on space, tab, newline; at most 32 fields, else the
 *   file has no fields at all; names cut to 32 characters). An empty file makes lnstat drop every file.
 * - Lines are read with `fgets(buf, 1023)`: a line longer than 1022 bytes is read as several rows.
 * - Values (§5.3): each row is parsed with `strtoul(…, 16)` field by field; field 1 is the value of the
 *   *last* row (absolute), every other field is the sum over rows, in unsigned 64-bit arithmetic, and is
 *   shown as (sum now − sum at the previous read) / interval, truncated; the previous sum starts at 0,
 *   so the first line shows totals / interval. A decrease wraps to a number near 2^64.
 * - A file is re-read only if more than `interval` has passed since its last read (`time_after`);
 *   otherwise the previous results are printed again. The "previous sum" is re-read right after the
 *   new sum is taken (lnstat_update reads the file twice).
 * - Interval: the per-file interval is set from `-i` before `-i` is clamped to ≥ 1 for sleeping, so
 *   `-i 0` divides by zero (iproute2 dies of SIGFPE; we print a message and exit 136).
 * - `-c N`: number of lines (strtoul base 0); the default 0 means "forever" (6.1; the spec's §5.3 says
 *   1 for "newer" versions, but 6.1 runs until killed). No sleep after the last line.
 * - `-s`: header before line 0 (`-s 1`), before every 20th line (`-s 2` or more, default), never (`-s 0`
 *   or negative). The header is printed after the update, with the line.
 * - `-w`: widths in order, strtoul base 0 ("0x10" is 16, "010" is 8), capped at 20; a single value
 *   applies to every column; 0 or a missing value means 8. Data: `%*lu|`. Header line 0 is the file
 *   basename per column, `%W.Ws|`; the next lines are the field name cut into W-byte pieces, each
 *   right-justified (at most 9 such lines).
 * - `-k`: keys `[file:]field`, in the order given; the first file (in list order) with that field wins.
 *   An unknown key prints "Field `KEY' unknown" and exits 1.
 * - `-j`: one JSON object per line; values are printed as `unsigned int` (iproute2's jsonw_uint), i.e.
 *   modulo 2^32. `-d`: "PATH:" then "\t%2u: NAME" lines, on stdout (6.1; older versions used stderr).
 * - No DIR/net/stat: "Your kernel doesn't have lnstat support." and the rtstat fallback on
 *   DIR/net/rt_cache_stat with the compat field list (no header line in the file).
 *
 * Output text is latin1: one character per byte of the stat files (field names are copied byte for
 * byte), so callers must write it with `Buffer.from(text, "latin1")` to be byte-exact.
 *
 * Exit status (ours): 0 after the last line or a dump (iproute2's main() returns 1 even then), 1 for an
 * unknown key, 2 for a usage error, 0 for -h/-V (both print the usage on stderr), 136 for the `-i 0`
 * division by zero and 139 for a stat file whose first line has no field name (iproute2 crashes on both).
 */
import { closeSync, openSync, opendirSync, readSync } from "node:fs";
import { cString, cStrtoul, fgetsChunks, jsonString, scanUnsignedToInt, strtok } from "../cli/c-text.ts";

export interface LnstatIo {
  /** Standard output; latin1 text (one character per byte). Called once per printed line group. */
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface LnstatDeps {
  /** Sleeps `seconds` (lnstat's sleep(3)). Default: a real timer. */
  sleep?: (seconds: number) => Promise<void>;
  /**
   * gettimeofday(2) in microseconds since the epoch; drives the "re-read only after interval" rule.
   * Default: the real clock, plus, when `sleep` is injected, the time that the injected sleep was asked
   * for plus 1 µs per call (so an instant fake sleep still looks like a real sleep(3), which returns
   * strictly after the interval; an injected sleep that really sleeps only makes the clock run ahead,
   * which the rule tolerates).
   */
  now?: () => number;
  /** Program name: "rtstat" implies `-f rt_cache` and "ctstat" `-f ip_conntrack`, as in lnstat. */
  argv0?: string;
}

/** The iproute2 release whose lnstat we reproduce (printed in the usage text). */
export const LNSTAT_EMULATED_VERSION = "6.1.0";

const MAX_FIELDS = 128; // lnstat.c
const HDR_LINES = 10;
const FIELD_WIDTH_DEFAULT = 8;
const FIELD_WIDTH_MAX = 20;
const DEFAULT_INTERVAL = 2;
const LNSTAT_MAX_FILES = 32; // lnstat.h
const LNSTAT_MAX_FIELDS_PER_LINE = 32;
const LNSTAT_MAX_FIELD_NAME_LEN = 32;
const FGETS_SIZE = 1023; // fgets(buf, sizeof(buf) - 1) with buf[1024]: at most 1022 bytes per call
const RTSTAT_COMPAT_LINE =
  "entries  in_hit in_slow_tot in_no_route in_brd in_martian_dst in_martian_src  out_hit out_slow_tot out_slow_mc  gc_total gc_ignored gc_goal_miss gc_dst_overflow in_hlist_search out_hlist_search\n";


const ERRNO_TEXT: Record<string, string> = {
  ENOENT: "No such file or directory",
  EACCES: "Permission denied",
  EISDIR: "Is a directory",
  ENOTDIR: "Not a directory",
  EPERM: "Operation not permitted",
  EMFILE: "Too many open files",
  ENFILE: "Too many open files in system",
  ELOOP: "Too many levels of symbolic links",
  ENAMETOOLONG: "File name too long",
  EIO: "Input/output error",
};

function strerror(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code ?? "";
  return ERRNO_TEXT[code] ?? (code || String(e));
}

// ---------------------------------------------------------------------------------------------
// lnstat_util.c

interface Timeval {
  sec: number;
  usec: number;
}

interface LnField {
  file: LnFile;
  name: string;
  values: [bigint, bigint];
  result: bigint;
}

interface LnFile {
  path: string;
  basename: string;
  fd: number;
  compat: boolean;
  lastRead: Timeval;
  /** interval.tv_sec (time_t); tv_usec is always 0. */
  intervalSec: number;
  fields: LnField[];
}

/** Thrown where iproute2's lnstat would die of a signal. */
class LnstatCrash extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/** rewind + read the whole open file (latin1: one char per byte). Null when the read fails. */
function readAll(fd: number): string | null {
  const chunks: Buffer[] = [];
  const buf = Buffer.allocUnsafe(65536);
  let pos = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
      pos += n;
    }
  } catch {
    return null;
  }
  return Buffer.concat(chunks).toString("latin1");
}

class Lnstat {
  private readonly now: () => number;
  private readonly io: LnstatIo;

  constructor(io: LnstatIo, now: () => number) {
    this.io = io;
    this.now = now;
  }

  private gettimeofday(): Timeval {
    const us = Math.floor(this.now());
    return { sec: Math.floor(us / 1e6), usec: us % 1e6 };
  }

  /** scan_lines(): fills values[i]; -1 if the header line cannot be skipped. */
  private scanLines(lf: LnFile, i: 0 | 1): number {
    for (const f of lf.fields) f.values[i] = 0n;
    const text = readAll(lf.fd);
    const chunks = text === null ? [] : fgetsChunks(text, FGETS_SIZE);
    let k = 0;
    if (!lf.compat) {
      if (chunks.length === 0) return -1;
      k = 1; // skip first line
    }
    let numLines = 0;
    for (; k < chunks.length; k++) {
      const line = cString(chunks[k]!);
      numLines++;
      lf.lastRead = this.gettimeofday();
      let ptr = 0;
      for (let j = 0; j < lf.fields.length; j++) {
        const r = cStrtoul(line, ptr, 16);
        ptr = r.end;
        const f = lf.fields[j]!;
        f.values[i] = j === 0 ? r.value : BigInt.asUintN(64, f.values[i] + r.value);
      }
    }
    return numLines;
  }

  /** lnstat_update(). */
  update(files: readonly LnFile[]): void {
    const tv = this.gettimeofday();
    for (const lf of files) {
      if (!timeAfter(lf.lastRead, lf.intervalSec, tv)) continue;
      this.scanLines(lf, 1);
      lf.fields.forEach((f, i) => {
        if (i === 0) f.result = f.values[1];
        else {
          // (unsigned long)(values[1] - values[0]) / (time_t)tv_sec: the divisor converts to unsigned long
          const divisor = BigInt.asUintN(64, BigInt(lf.intervalSec));
          if (divisor === 0n) throw new LnstatCrash("division by zero: the interval is 0 (iproute2 lnstat dies of SIGFPE)", 136);
          f.result = BigInt.asUintN(64, f.values[1] - f.values[0]) / divisor;
        }
      });
      this.scanLines(lf, 0);
    }
  }

  /** __lnstat_scan_fields(): field names from the first line. */
  private scanFields(lf: LnFile, line: string): void {
    const toks = strtok(cString(line), " \t\n");
    if (toks.length === 0) {
      throw new LnstatCrash(`${lf.path}: the first line has no field name (iproute2 lnstat crashes with SIGSEGV)`, 139);
    }
    // More than LNSTAT_MAX_FIELDS_PER_LINE names: the loop ends without setting num_fields (stays 0).
    if (toks.length > LNSTAT_MAX_FIELDS_PER_LINE) return;
    lf.fields = toks.map((t) => ({ file: lf, name: t.slice(0, LNSTAT_MAX_FIELD_NAME_LEN), values: [0n, 0n], result: 0n }));
  }

  private allocAndOpen(dir: string, name: string): LnFile | null {
    const path = `${dir}/${name}`;
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      this.io.stderr(`${path}: ${strerror(e)}\n`);
      return null;
    }
    return { path, basename: name, fd, compat: false, lastRead: { sec: 0, usec: 0 }, intervalSec: 1, fields: [] };
  }

  /** lnstat_scan_dir(): the files in list order (reverse readdir order), or null. */
  scanDir(procDir: string, reqFiles: readonly string[]): LnFile[] | null {
    const path = `${procDir}/net/stat`;
    let dir: ReturnType<typeof opendirSync>;
    try {
      dir = opendirSync(path);
    } catch {
      return this.compatFallback(procDir, reqFiles);
    }
    const files: LnFile[] = [];
    const closeAll = (): void => {
      for (const f of files) closeSync(f.fd);
    };
    try {
      for (let de = dir.readSync(); de !== null; de = dir.readSync()) {
        if (!de.isFile()) continue; // d_type != DT_REG
        if (reqFiles.length > 0 && !reqFiles.includes(de.name)) continue;
        const lf = this.allocAndOpen(path, de.name);
        if (!lf) {
          closeAll();
          return null;
        }
        files.unshift(lf); // "prepend to global list"
        const first = fgetsChunks(readAll(lf.fd) ?? "", FGETS_SIZE)[0];
        if (first === undefined) {
          closeAll(); // lnstat_scan_fields() < 0: lnstat_scan_dir() returns NULL
          return null;
        }
        this.scanFields(lf, first);
      }
    } catch (e) {
      closeAll();
      throw e;
    } finally {
      dir.closeSync();
    }
    return files;
  }

  private compatFallback(procDir: string, reqFiles: readonly string[]): LnFile[] | null {
    this.io.stderr("Your kernel doesn't have lnstat support. ");
    if (reqFiles.length >= 2 || (reqFiles.length > 0 && !reqFiles.includes("rt_cache"))) {
      this.io.stderr("\n");
      return null;
    }
    this.io.stderr("Fallback to old rtstat-only operation\n");
    const lf = this.allocAndOpen(`${procDir}/net`, "rt_cache_stat");
    if (!lf) return null;
    lf.compat = true;
    lf.basename = "rt_cache";
    this.scanFields(lf, RTSTAT_COMPAT_LINE);
    return [lf];
  }
}

function timeAfter(last: Timeval, toutSec: number, now: Timeval): boolean {
  if (now.sec > last.sec + toutSec) return true;
  return now.sec === last.sec + toutSec && now.usec > last.usec;
}

/** lnstat_find_field(): `[file:]field`. */
function findField(files: readonly LnFile[], spec: string): LnField | undefined {
  const colon = spec.indexOf(":");
  const file = colon >= 0 ? spec.slice(0, colon) : undefined;
  const field = colon >= 0 ? spec.slice(colon + 1) : spec;
  for (const lf of files) {
    if (file !== undefined && file !== lf.basename) continue;
    const f = lf.fields.find((x) => x.name === field);
    if (f) return f;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// lnstat.c: options, header, lines

interface FieldParam {
  name?: string;
  lf?: LnField;
  width: number;
}

/** build_hdr_string(): the header lines (without newlines). */
export function buildHeaderLines(columns: readonly { basename: string; name: string; width: number }[]): string[] {
  const hdr: string[] = new Array<string>(HDR_LINES).fill("");
  let numLines = 0;
  for (const c of columns) {
    const w = c.width;
    hdr[0] += `${c.basename.slice(0, w).padStart(w)}|`;
    let off = 0;
    for (let h = 1; h < HDR_LINES; h++) {
      if (off >= c.name.length) hdr[h] += `${"".padStart(w)}|`;
      else {
        numLines = h + 1;
        hdr[h] += `${c.name.slice(off, off + w).padStart(w)}|`;
      }
      off += w;
    }
  }
  return hdr.slice(0, numLines);
}

function usageText(name: string): string {
  return (
    `${name} Version ${LNSTAT_EMULATED_VERSION}\n` +
    "Copyright (C) 2004 by Harald Welte <laforge@gnumonks.org>\n" +
    "This program is free software licensed under GNU GPLv2\nwith ABSOLUTELY NO WARRANTY.\n\n" +
    "Parameters:\n" +
    "\t-V --version\t\tPrint Version of Program\n" +
    "\t-c --count <count>\tPrint <count> number of intervals\n" +
    "\t-d --dump\t\tDump list of available files/keys\n" +
    "\t-j --json\t\tDisplay in JSON format\n" +
    "\t-f --file <file>\tStatistics file to use\n" +
    "\t-h --help\t\tThis help message\n" +
    "\t-i --interval <intv>\tSet interval to 'intv' seconds\n" +
    "\t-k --keys k,k,k,...\tDisplay only keys specified\n" +
    "\t-s --subject [0-2]\tControl header printing:\n" +
    "\t\t\t\t0 = never\n\t\t\t\t1 = once\n\t\t\t\t2 = every 20 lines (default))\n" +
    "\t-w --width n,n,n,...\tWidth for each field\n" +
    "\t   --proc <dir>\t\tRead <dir>/net/stat instead of /proc/net/stat (wasmroute)\n\n"
  );
}

/** getopt_long's table: lnstat's options (6.1, including its unusable "oneline") plus our --proc. */
const LONG_OPTS: readonly { name: string; hasArg: boolean; val: string }[] = [
  { name: "version", hasArg: false, val: "V" },
  { name: "count", hasArg: true, val: "c" },
  { name: "dump", hasArg: false, val: "d" },
  { name: "json", hasArg: false, val: "j" },
  { name: "file", hasArg: true, val: "f" },
  { name: "help", hasArg: false, val: "h" },
  { name: "interval", hasArg: true, val: "i" },
  { name: "keys", hasArg: true, val: "k" },
  { name: "subject", hasArg: true, val: "s" },
  { name: "width", hasArg: true, val: "w" },
  { name: "oneline", hasArg: false, val: "\0" },
  { name: "proc", hasArg: true, val: "P" },
];
const SHORT_OPTS = "Vc:djf:h?i:k:s:w:";

type Opt = { c: string; arg?: string } | { error: string };

/** GNU getopt_long: permutes (non-options are skipped), "--" ends options, unique prefixes of long names. */
function* getoptLong(argv: readonly string[], prog: string): Generator<Opt> {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") return;
    if (!a.startsWith("-") || a === "-") continue;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const exact = LONG_OPTS.find((o) => o.name === name);
      const cands = exact ? [exact] : LONG_OPTS.filter((o) => o.name.startsWith(name));
      if (cands.length === 0) {
        yield { error: `${prog}: unrecognized option '${a}'\n` };
        continue;
      }
      if (cands.length > 1) {
        yield { error: `${prog}: option '--${name}' is ambiguous; possibilities:${cands.map((o) => ` '--${o.name}'`).join("")}\n` };
        continue;
      }
      const o = cands[0]!;
      if (!o.hasArg) {
        if (eq >= 0) yield { error: `${prog}: option '--${o.name}' doesn't allow an argument\n` };
        else yield { c: o.val };
        continue;
      }
      if (eq >= 0) yield { c: o.val, arg: a.slice(eq + 1) };
      else if (i + 1 < argv.length) yield { c: o.val, arg: argv[++i]! };
      else yield { error: `${prog}: option '--${o.name}' requires an argument\n` };
      continue;
    }
    for (let k = 1; k < a.length; k++) {
      const ch = a[k]!;
      const at = SHORT_OPTS.indexOf(ch);
      if (ch === ":" || at < 0) {
        yield { error: `${prog}: invalid option -- '${ch}'\n` };
        continue;
      }
      if (SHORT_OPTS[at + 1] !== ":") {
        yield { c: ch };
        continue;
      }
      if (k + 1 < a.length) yield { c: ch, arg: a.slice(k + 1) };
      else if (i + 1 < argv.length) yield { c: ch, arg: argv[++i]! };
      else yield { error: `${prog}: option requires an argument -- '${ch}'\n` };
      break;
    }
  }
}

function realNowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

function realSleep(seconds: number): Promise<void> {
  return new Promise((resolve) => {
    let left = seconds * 1000;
    const step = (): void => {
      if (left <= 0) return resolve();
      const ms = Math.min(left, 2 ** 31 - 1);
      left -= ms;
      setTimeout(step, ms);
    };
    step();
  });
}

/**
 * Runs lnstat with `argv` (the arguments after `lnstat`). Resolves to the exit status; output goes to
 * `io` as it is produced (one stdout call per printed line plus its header).
 */
export async function runLnstat(argv: readonly string[], io: LnstatIo, deps: LnstatDeps = {}): Promise<number> {
  const prog = deps.argv0 ?? "lnstat";
  let sleptMicros = 0;
  const sleep = deps.sleep
    ? async (s: number): Promise<void> => {
        sleptMicros += s * 1e6 + 1; // sleep(3) returns strictly later than asked
        await deps.sleep!(s);
      }
    : realSleep;
  const now = deps.now ?? (deps.sleep ? () => realNowMicros() + sleptMicros : realNowMicros);

  let interval = DEFAULT_INTERVAL;
  let hdr = 2;
  let mode: "dump" | "json" | "normal" = "normal";
  let count = 0n;
  let procDir = "/proc";
  const params: FieldParam[] = Array.from({ length: MAX_FIELDS }, () => ({ width: 0 }));
  let numParams = 0;
  const reqFiles: string[] = [];
  const base = prog.slice(prog.lastIndexOf("/") + 1);
  if (base === "rtstat") reqFiles.push("rt_cache");
  else if (base === "ctstat") reqFiles.push("ip_conntrack");

  for (const o of getoptLong(argv, prog)) {
    if ("error" in o) {
      io.stderr(o.error + usageText(prog));
      return 2;
    }
    const arg = o.arg ?? "";
    switch (o.c) {
      case "c":
        count = cStrtoul(arg, 0, 0).value;
        break;
      case "d":
        mode = "dump";
        break;
      case "j":
        mode = "json";
        break;
      case "f":
        if (reqFiles.length >= LNSTAT_MAX_FILES) {
          io.stderr(`${prog}: at most ${LNSTAT_MAX_FILES} -f options\n`);
          return 2;
        }
        reqFiles.push(arg);
        break;
      case "?":
      case "h":
      case "V":
        // iproute2: -h/-? print the usage and exit 0; -V falls to "default" and exits 1 after the usage.
        io.stderr(usageText(prog));
        return 0;
      case "i": {
        const v = scanUnsignedToInt(arg);
        if (v !== undefined) interval = v;
        break;
      }
      case "k":
        for (const tok of strtok(arg, ",")) {
          if (numParams >= MAX_FIELDS) {
            io.stderr(`WARN: too many keys requested: (${MAX_FIELDS} max)\n`);
            break;
          }
          params[numParams++]!.name = tok;
        }
        break;
      case "s": {
        const v = scanUnsignedToInt(arg);
        if (v !== undefined) hdr = v;
        break;
      }
      case "w": {
        const toks = strtok(arg, ",");
        let len = 0;
        for (let i = 0; i < toks.length && i < MAX_FIELDS; i++) {
          len = Number(BigInt.asIntN(32, cStrtoul(toks[i]!, 0, 0).value));
          if (len > FIELD_WIDTH_MAX) len = FIELD_WIDTH_MAX;
          if (len < 0) {
            io.stderr(`${prog}: negative width "${toks[i]}"\n`);
            return 2;
          }
          params[i]!.width = len;
        }
        if (toks.length === 1) for (const p of params) p.width = len;
        break;
      }
      case "P":
        procDir = arg;
        break;
      default: // "--oneline": in the option table of 6.1 but not handled (usage, exit 1)
        io.stderr(usageText(prog));
        return 2;
    }
  }

  const ln = new Lnstat(io, now);
  let files: LnFile[] = [];
  try {
    files = ln.scanDir(procDir, reqFiles) ?? [];
    try {
      if (mode === "dump") {
        let out = "";
        for (const lf of files) {
          out += `${lf.path}:\n`;
          lf.fields.forEach((f, i) => (out += `\t${String(i + 1).padStart(2)}: ${f.name}\n`));
        }
        io.stdout(out);
        return 0;
      }

      // map_field_params()
      let cols: FieldParam[];
      if (numParams === 0) {
        let j = 0;
        outer: for (const lf of files) {
          for (const f of lf.fields) {
            const p = params[j]!;
            p.lf = f;
            f.file.intervalSec = interval;
            if (!p.width) p.width = FIELD_WIDTH_DEFAULT;
            if (++j >= MAX_FIELDS - 1) {
              io.stderr(`WARN: MAX_FIELDS (${MAX_FIELDS}) reached, truncating number of keys\n`);
              break outer;
            }
          }
        }
        cols = params.slice(0, j);
      } else {
        cols = params.slice(0, numParams);
        for (const p of cols) {
          p.lf = findField(files, p.name!);
          if (!p.lf) {
            io.stderr(`Field \`${p.name}' unknown\n`);
            return 1;
          }
          p.lf.file.intervalSec = interval;
          if (!p.width) p.width = FIELD_WIDTH_DEFAULT;
        }
      }

      const header = buildHeaderLines(cols.map((p) => ({ basename: p.lf!.file.basename, name: p.lf!.name, width: p.width })))
        .map((l) => `${l}\n`)
        .join("");
      const sleepSeconds = interval < 1 ? 1 : interval;

      for (let i = 0; count === 0n || BigInt(i) < count; i++) {
        ln.update(files);
        let out = "";
        if (mode === "json") {
          out = `{${cols.map((p) => `${jsonString(p.lf!.name)}:${BigInt.asUintN(32, p.lf!.result)}`).join(",")}}\n`;
        } else {
          if ((hdr > 1 && i % 20 === 0) || (hdr === 1 && i === 0)) out += header;
          for (const p of cols) out += `${p.lf!.result.toString().padStart(p.width)}|`;
          out += "\n";
        }
        io.stdout(out);
        if (count === 0n || BigInt(i) < count - 1n) await sleep(sleepSeconds);
      }
      return 0;
    } finally {
      for (const lf of files) closeSync(lf.fd);
    }
  } catch (e) {
    if (e instanceof LnstatCrash) {
      io.stderr(`${prog}: ${e.message}\n`);
      return e.status;
    }
    throw e;
  }
}
