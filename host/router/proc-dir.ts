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
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync, constants } from "node:fs";
import { link, unlink, writeFile } from "node:fs/promises";
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
  /** The text of DIR/net/arp (formatProcNetArp), when the directory has one. */
  arp?: string;
}

let serial = 0;

/** A file that writeSoon replaces by a rename: its temporary copy, and a second name for the file it replaces. */
interface Renamed {
  f: ProcFile;
  tmp: string;
  old: string;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A file to be replaced that cannot have a second name (it is not there, or the file system has no hard links) is freed by the rename, on the loop, as before. */
const noSecondName = (): void => {};

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

/** One file of the directory: its short name, its path, its text, and whether it is overwritten in place. */
export interface ProcFile {
  name: string;
  target: string;
  text: string;
  inPlace: boolean;
}

function procFiles(dir: string, snapshot: ProcSnapshot): ProcFile[] {
  const net = join(dir, "net");
  const stat = join(net, "stat");
  const files: ProcFile[] = [
    { name: "snmp", target: join(net, "snmp"), text: formatProcSnmp(snapshot.snmp, { forwarding: snapshot.forwarding, defaultTtl: snapshot.defaultTtl ?? 64 }), inPlace: false },
    { name: "netstat", target: join(net, "netstat"), text: formatProcNetstat(snapshot.snmp), inPlace: false },
    { name: "rt_cache", target: join(stat, "rt_cache"), text: formatRtCacheStat(snapshot.rtCache), inPlace: true },
    { name: "arp_cache", target: join(stat, "arp_cache"), text: formatArpCacheStat(snapshot.arpCache), inPlace: true },
  ];
  if (snapshot.arp !== undefined) files.push({ name: "arp", target: join(net, "arp"), text: snapshot.arp, inPlace: false });
  return files;
}

function writeOne(dir: string, f: ProcFile): void {
  if (f.inPlace) replaceStatFile(dir, f.name, f.target, f.text);
  else replaceByRename(dir, f.name, f.target, f.text);
}

/**
 * Writes DIR/net/snmp, DIR/net/netstat, DIR/net/stat/rt_cache and DIR/net/stat/arp_cache (and DIR/net/arp
 * when the snapshot has it) from one snapshot, creating the directories as needed. Each file is replaced
 * whole (see the top).
 */
export function writeProcDir(dir: string, snapshot: ProcSnapshot): ProcFile[] {
  mkdirSync(join(dir, "net", "stat"), { recursive: true });
  const files = procFiles(dir, snapshot);
  for (const f of files) writeOne(dir, f);
  return files;
}

/**
 * Removes a statistics directory (or a tree holding one) that a ProcDirWriter may still be writing
 * into, as `wasmroute run` and `wasmroute lab` do at their stop. A temporary file the pool creates in
 * DIR/net while the tree is being removed makes the removal fail with ENOTEMPTY (seen in CI, and in
 * 17–25 % of stops with a write in flight, in a loop of 400). rmSync's own maxRetries retries only the
 * rmdir, without listing the directory again, so that does not help: this tries the whole removal
 * again, up to 20 times 5 ms apart. After close() the writer never creates a directory.
 */
export function removeProcDir(dir: string): void {
  for (let attempt = 1; ; attempt++) {
    try {
      rmSync(dir, { recursive: true, force: true });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOTEMPTY" || attempt === 20) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); // a 5 ms pause: the pool's open completes
    }
  }
}

/**
 * The directory of a running router, rewritten once a second without stalling forwarding. Creating,
 * writing and closing a file costs several system calls, about 0.15 ms a file on this machine kind and
 * up to a few ms when it is busy: done on the event loop for five files, that held the poll loop (and
 * the frames waiting in it) for 1–6 ms every second. So:
 *
 * - writeSoon: the texts are made on the loop (µs); the renamed files' temporary copies are written by
 *   libuv's thread pool; when all are written, the loop renames them into place and overwrites the
 *   in-place files (a rename or one write each). A writeSoon while one is in flight is dropped: the next
 *   second brings newer counters. Its steps are spread over turns of the loop (publishSoon), so that the
 *   poll loop runs between them: done in one go, with six hand-offs to the pool, it held the loop
 *   0.8–1.8 ms once a second (BENCHMARKS.md, "The loaded echo's slow ones").
 * - A rename over a file frees the file it replaces, and on a disk file system that is the expensive part:
 *   on ext4 (mounted with discard, as /run is on this machine kind's VMs) three renames took 0.6–0.7 ms of
 *   the loop, once a second, and an echo that came meanwhile waited for them (BENCHMARKS.md, "The
 *   statistics directory's renames"). So the pool first gives each file to be replaced a second name
 *   (a hard link in DIR/net), the loop's rename then only drops a name (0.13–0.16 ms for the three), and
 *   the pool removes the second name, which frees the old file, afterwards.
 * - writeNow: everything at once on the loop, as writeProcDir (for readers that must see the counters
 *   of now: a control-socket `cat`, the last write at stop). A writeNow supersedes the write in flight,
 *   which then publishes nothing, so the files never go back to older counters.
 * - writeSoon leaves alone a file whose text has not changed since it was last published and that is
 *   still there (a stat on the loop): an idle router's counters do not move, and rewriting five files
 *   a second cost it about 40 thread-pool wake-ups a second (BENCHMARKS.md, "An idle router sleeps").
 */
export class ProcDirWriter {
  private generation = 0;
  private inFlight = false;
  private closed = false;
  private made = false;
  /** Each file's text when it was last published, by path. */
  private readonly published = new Map<string, string>();

  readonly dir: string;
  private readonly onError: (e: Error) => void;

  constructor(dir: string, onError: (e: Error) => void) {
    this.dir = dir;
    this.onError = onError;
  }

  writeNow(snapshot: ProcSnapshot): void {
    this.generation++;
    this.published.clear();
    for (const f of writeProcDir(this.dir, snapshot)) this.published.set(f.target, f.text);
  }

  writeSoon(snapshot: ProcSnapshot): void {
    if (this.inFlight || this.closed) return;
    // The first write, and the first after a failure, makes the directories, on the loop: the pool never
    // creates them, so a write still in flight when the router stops cannot bring back a removed directory.
    if (!this.made) {
      this.writeNow(snapshot);
      this.made = true;
      return;
    }
    this.inFlight = true;
    void this.publishSoon(this.generation, snapshot);
  }

  /**
   * writeSoon's work, spread over turns of the loop so that no turn holds it long: the texts in a turn of
   * their own; each renamed file's temporary copy and second name handed to the pool one file at a time (a
   * hand-off costs the loop 60–120 µs on this machine kind's VMs, waking a pool thread); then one rename per
   * turn, and the in-place files. Before each step it checks that no writeNow or close came in between.
   */
  private async publishSoon(generation: number, snapshot: ProcSnapshot): Promise<void> {
    let renamed: Renamed[] = [];
    let done = 0; // of them renamed into place
    const stale = () => generation !== this.generation || this.closed;
    try {
      await nextTurn();
      if (stale()) return;
      const files = procFiles(this.dir, snapshot).filter((f) => this.published.get(f.target) !== f.text || !existsSync(f.target));
      if (files.length === 0) return;
      renamed = files.filter((f) => !f.inPlace).map((f) => ({ f, tmp: tempPath(this.dir, f.name), old: tempPath(this.dir, `${f.name}.old`) }));
      for (const { f, tmp, old } of renamed) {
        // Both settle before anything is cleaned up: a link still in flight would leave its name behind.
        const [written] = await Promise.allSettled([writeFile(tmp, f.text, { mode: 0o644 }), link(f.target, old).catch(noSecondName)]);
        if (written.status === "rejected") throw written.reason;
        if (stale()) return;
      }
      for (const { f, tmp } of renamed) {
        if (stale()) return;
        renameSync(tmp, f.target);
        this.published.set(f.target, f.text);
        done++;
        await nextTurn();
      }
      if (stale()) return;
      for (const f of files) {
        if (!f.inPlace) continue;
        writeOne(this.dir, f);
        this.published.set(f.target, f.text);
      }
    } catch (e) {
      this.made = false;
      this.published.clear();
      if (!this.closed) this.onError(e as Error);
    } finally {
      this.inFlight = false;
      this.discard(renamed, done);
    }
  }

  /** No more writeSoon; a write in flight publishes nothing. */
  close(): void {
    this.closed = true;
    this.generation++;
  }

  /**
   * Removes what a write left: the temporary files after the first `done`, which were not renamed (a stale or
   * failed write), and the replaced files' second names, in the pool, which frees those files there. A name
   * that is not there is no error.
   */
  private discard(renamed: Renamed[], done: number): void {
    for (const { tmp } of renamed.slice(done)) rmSync(tmp, { force: true });
    for (const { old } of renamed) unlink(old).catch(() => {});
  }
}
