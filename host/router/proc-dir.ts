/**
 * The router's statistics directory, laid out like /proc so that the iproute2 tools and ours read it:
 *
 *   DIR/net/snmp             Linux 6.1's /proc/net/snmp (host/router/snmp.ts)
 *   DIR/net/netstat          Linux 6.1's /proc/net/netstat, plus WrDrop (host/router/snmp.ts)
 *   DIR/net/stat/rt_cache    the 3.4 route cache's counters (host/cache/stat.ts)
 *   DIR/net/stat/arp_cache   the neighbour table's counters, Linux 6.1's neigh_stat_seq_show
 *
 * `wasmroute nstat --proc DIR` (and iproute2's nstat with PROC_ROOT=DIR) reads the first two;
 * `wasmroute lnstat --proc DIR` (and iproute2's lnstat with DIR bind-mounted over /proc) the last two.
 * A running router rewrites the directory once a second.
 *
 * How each file is replaced, so that no reader ever sees a short or empty file:
 *
 * - net/snmp and net/netstat: written to a temporary file in DIR/net and renamed over the old one.
 *   nstat opens them afresh on every run, so it sees either the old or the new file, whole.
 * - net/stat/*: lnstat opens each file once and re-reads the *open* file every interval, so a rename
 *   would hide every later update from a running lnstat (it would keep reading the unlinked old inode).
 *   These files have a fixed size for a fixed number of workers (every field is 8 hex digits), so when
 *   the file already has the new text's size it is overwritten in place by one write at offset 0 (same
 *   inode, never truncated: a reader sees the old or the new bytes, never a short file). When the size
 *   differs (first write, a different number of workers) the file is replaced by a rename as above.
 *   Temporary files live in DIR/net, never in DIR/net/stat, where lnstat would list them.
 */
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync, constants } from "node:fs";
import { join } from "node:path";
import { formatRtCacheStat, type RtCacheCounters } from "../cache/stat.ts";
import { formatProcNetstat, formatProcSnmp } from "./snmp.ts";

/** The columns of /proc/net/stat/arp_cache in order (struct neigh_statistics, plus the entry count). */
export const ARP_CACHE_FIELD_NAMES = [
  "entries",
  "allocs",
  "destroys",
  "hash_grows",
  "lookups",
  "hits",
  "res_failed",
  "rcv_probes_mcast",
  "rcv_probes_ucast",
  "periodic_gc_runs",
  "forced_gc_runs",
  "unresolved_discards",
  "table_fulls",
] as const;

/**
 * Header of /proc/net/stat/arp_cache in the column-aligned layout of recent kernels (6.1 prints it;
 * 4.3–5.x printed the same 13 names with other spacing). test/proc-dir.test.ts compares it with the
 * running kernel's file when that kernel prints this layout.
 */
export const ARP_CACHE_STAT_HEADER =
  "entries  allocs   destroys hash_grows lookups  hits     res_failed rcv_probes_mcast rcv_probes_ucast periodic_gc_runs forced_gc_runs unresolved_discards table_fulls\n";

/** What follows each of the 13 fields of a row (the kernel's format string, as spaces). */
const ARP_ROW_SEPARATORS = [" ", " ", " ", "   ", " ", " ", "   ", "         ", "         ", "         ", "       ", "            ", "\n"];

function hex8(v: number): string {
  return (v >>> 0).toString(16).padStart(8, "0");
}

/**
 * The exact text of /proc/net/stat/arp_cache, Linux 6.1 (`neigh_stat_seq_show`): the header, then one
 * row per worker (the kernel has one per possible CPU) of 13 `%08x`/`%08lx` fields:
 * `"%08x %08lx %08lx %08lx   %08lx %08lx %08lx   %08lx         %08lx         %08lx         %08lx       %08lx            %08lx\n"`.
 * The first field is the kernel's `tbl->entries`, the table's size, the same on every row: here the sum
 * of the workers' own entry counts (slot 0), modulo 2^32. The others are that worker's counters, modulo 2^32.
 */
export function formatArpCacheStat(perWorker: readonly ArrayLike<number>[]): string {
  let entries = 0;
  perWorker.forEach((w, i) => {
    if (w.length !== ARP_CACHE_FIELD_NAMES.length) {
      throw new RangeError(`arp_cache counters of worker ${i}: expected ${ARP_CACHE_FIELD_NAMES.length} values, got ${w.length}`);
    }
    entries = (entries + w[0]!) >>> 0;
  });
  let out = ARP_CACHE_STAT_HEADER;
  for (const w of perWorker) {
    let row = "";
    for (let f = 0; f < ARP_CACHE_FIELD_NAMES.length; f++) row += hex8(f === 0 ? entries : w[f]!) + ARP_ROW_SEPARATORS[f];
    out += row;
  }
  return out;
}

/** One snapshot of everything the directory shows. */
export interface ProcSnapshot {
  /** The core's MIB counters (readSnmp). */
  snmp: BigUint64Array;
  /** IPv4 forwarding as /proc/net/snmp prints it: 1 on, 2 off. */
  forwarding: 1 | 2;
  /** ipDefaultTTL (default 64). */
  defaultTtl?: number;
  /** Route cache counters, one set per worker (formatRtCacheStat's argument). */
  rtCache: readonly RtCacheCounters[];
  /** Neighbour-table counters, 13 per worker, in ARP_CACHE_FIELD_NAMES order (dp_arp_stat). */
  arpCache: readonly ArrayLike<number>[];
}

let serial = 0;

function tempPath(dir: string, name: string): string {
  return join(dir, "net", `.${name}.${process.pid}.${serial++}.tmp`);
}

/** Writes `text` to a temporary file in DIR/net and renames it to `target`. */
function replaceByRename(dir: string, name: string, target: string, text: string): void {
  const tmp = tempPath(dir, name);
  try {
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Overwrites `target` in place when it already has the text's size (see the top); otherwise renames. */
function replaceStatFile(dir: string, name: string, target: string, text: string): void {
  const bytes = Buffer.from(text, "latin1");
  let fd: number | undefined;
  try {
    fd = openSync(target, constants.O_WRONLY | constants.O_NOFOLLOW);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  if (fd !== undefined) {
    try {
      const st = fstatSync(fd);
      if (st.isFile() && st.size === bytes.length) {
        if (writeSync(fd, bytes, 0, bytes.length, 0) === bytes.length) return;
      }
    } finally {
      closeSync(fd);
    }
  }
  replaceByRename(dir, `stat-${name}`, target, text);
}

/**
 * Writes DIR/net/snmp, DIR/net/netstat, DIR/net/stat/rt_cache and DIR/net/stat/arp_cache from one
 * snapshot, creating the directories as needed. Each file is replaced whole (see the top).
 */
export function writeProcDir(dir: string, snapshot: ProcSnapshot): void {
  const net = join(dir, "net");
  const stat = join(net, "stat");
  mkdirSync(stat, { recursive: true });
  const snmp = formatProcSnmp(snapshot.snmp, { forwarding: snapshot.forwarding, defaultTtl: snapshot.defaultTtl ?? 64 });
  const netstat = formatProcNetstat(snapshot.snmp);
  const rt = formatRtCacheStat(snapshot.rtCache);
  const arp = formatArpCacheStat(snapshot.arpCache);
  replaceByRename(dir, "snmp", join(net, "snmp"), snmp);
  replaceByRename(dir, "netstat", join(net, "netstat"), netstat);
  replaceStatFile(dir, "rt_cache", join(stat, "rt_cache"), rt);
  replaceStatFile(dir, "arp_cache", join(stat, "arp_cache"), arp);
}
