/**
 * The route cache's `/proc/net/stat/rt_cache` statistics (spec: /work/shared/docs/kernel-route-cache.md §5).
 *
 * The 17 counters keep the kernel's order and names (§5.1, K34 `rt_cpu_seq_show`; 2.6.24–3.4 identical).
 * Each router worker owns one `RtCacheCounters` (the kernel's per-CPU `struct rt_cache_stat`), bumps it
 * without atomics, and the file has one row per worker, as the kernel has one row per possible CPU.
 *
 * Slot 0 (`entries`) is special (§5.1, §7.4): it is not a per-CPU counter but the global count of
 * allocated IPv4 dsts (`dst_entries_get_slow(&ipv4_dst_ops)`, the exact sum of the per-CPU dst counter),
 * printed identically on every row. Here each worker's slot 0 holds that worker's share of the allocated
 * count (allocations minus frees done by that worker, modulo 2^32 like the kernel's per-CPU counter
 * parts, so a worker that frees more than it allocated holds a "negative" share); `formatRtCacheStat`
 * prints the sum of the shares on every row. `parseRtCacheStat` does the reverse: the printed global
 * count goes to row 0's share and the other rows get 0, so `formatRtCacheStat(parseRtCacheStat(t)) === t`
 * for any file the kernel (or we) printed.
 */

/** Counter names in the kernel's column order (§5.1 header, §5.2 table). */
export const RT_CACHE_FIELD_NAMES = [
  "entries",
  "in_hit",
  "in_slow_tot",
  "in_slow_mc",
  "in_no_route",
  "in_brd",
  "in_martian_dst",
  "in_martian_src",
  "out_hit",
  "out_slow_tot",
  "out_slow_mc",
  "gc_total",
  "gc_ignored",
  "gc_goal_miss",
  "gc_dst_overflow",
  "in_hlist_search",
  "out_hlist_search",
] as const;

export type RtCacheFieldName = (typeof RT_CACHE_FIELD_NAMES)[number];

/** Number of counters per row (17). */
export const RT_CACHE_NFIELDS = RT_CACHE_FIELD_NAMES.length;

/**
 * Index of each counter in an `RtCacheCounters` array. Meanings from §5.2 (3.4; same in 2.6.31).
 */
export const RT_CACHE_FIELDS = Object.freeze({
  /** Not a counter: this worker's share of all allocated IPv4 dsts (hashed, stale-genid, unhashed but
   * referenced, DST_NOCACHE). The file prints the sum of all shares on every row (§5.1, §7.4). */
  entries: 0,
  /** Input fast-path hit. */
  in_hit: 1,
  /** Input slow path after a successful fib_lookup: local, FIB broadcast, forwarded, or martian dst
   * found after the lookup. Not for no-route, early martians, early limited broadcast, multicast. */
  in_slow_tot: 2,
  /** Multicast input entry created (`ip_route_input_mc`). */
  in_slow_mc: 3,
  /** fib_lookup failed with forwarding on: a negative (unreachable) entry is created and cached. */
  in_no_route: 4,
  /** Broadcast input entry created (either path). */
  in_brd: 5,
  /** Martian destination detected (not cached). */
  in_martian_dst: 6,
  /** Martian source detected, including rp_filter and validation failures (not cached). */
  in_martian_src: 7,
  /** Output fast-path hit. */
  out_hit: 8,
  /** Output entry built in `__mkroute_output`, counted even if the intern then finds a duplicate. */
  out_slow_tot: 9,
  /** Output broadcast/multicast entry that is local and not on loopback (uses `ip_mc_output`). */
  out_slow_mc: 10,
  /** Every call of the GC (`rt_garbage_collect`). */
  gc_total: 11,
  /** GC call skipped by the `gc_min_interval` gate. */
  gc_ignored: 12,
  /** Each full GC sweep that did not reach its goal. */
  gc_goal_miss: 13,
  /** GC gave up at or above `max_size` (allocation fails: "dst cache overflow"). */
  gc_dst_overflow: 14,
  /** One per non-matching chain entry examined by an input fast-path lookup (misses included). */
  in_hlist_search: 15,
  /** The same for output lookups. */
  out_hlist_search: 16,
} as const satisfies Record<RtCacheFieldName, number>);

/**
 * One worker's counters: 17 unsigned 32-bit values in `RT_CACHE_FIELDS` order. They wrap at 2^32 as
 * the kernel's `unsigned int` per-CPU counters do (§5.1).
 */
export type RtCacheCounters = Uint32Array;

/** A zeroed counter set. */
export function newRtCacheCounters(): RtCacheCounters {
  return new Uint32Array(RT_CACHE_NFIELDS);
}

/**
 * The header line, exactly as the kernel prints it (§5.1): note the double spaces after `entries`,
 * before `out_hit` and before `gc_total`.
 */
export const RT_CACHE_STAT_HEADER =
  "entries  in_hit in_slow_tot in_slow_mc in_no_route in_brd in_martian_dst in_martian_src  out_hit out_slow_tot out_slow_mc  gc_total gc_ignored gc_goal_miss gc_dst_overflow in_hlist_search out_hlist_search\n";

function hex8(v: number): string {
  return (v >>> 0).toString(16).padStart(8, "0");
}

function checkCounters(c: RtCacheCounters, i: number): void {
  if (!(c instanceof Uint32Array) || c.length !== RT_CACHE_NFIELDS) {
    throw new RangeError(`rt_cache counters of worker ${i}: expected a Uint32Array of ${RT_CACHE_NFIELDS}`);
  }
}

/** The global allocated-entries count: sum of the workers' shares, modulo 2^32 (§5.1 field 1). */
export function rtCacheEntries(perWorker: readonly RtCacheCounters[]): number {
  let sum = 0;
  for (const c of perWorker) sum = (sum + c[RT_CACHE_FIELDS.entries]!) >>> 0;
  return sum;
}

/**
 * The exact text of `/proc/net/stat/rt_cache` (§5.1): the header, then one row per worker in order.
 * A row is 17 `%08x` fields; two spaces after field 1 and between fields 8 and 9, one space elsewhere,
 * a trailing space, then a newline (K34: `"%08x  %08x … %08x " " %08x … %08x \n"`). Field 1 is the
 * global entry count, the same on every row. With no workers only the header is printed.
 */
export function formatRtCacheStat(perWorker: readonly RtCacheCounters[]): string {
  perWorker.forEach(checkCounters);
  const entries = hex8(rtCacheEntries(perWorker));
  let out = RT_CACHE_STAT_HEADER;
  for (const c of perWorker) {
    let row = `${entries}  `;
    for (let f = 1; f < RT_CACHE_NFIELDS; f++) {
      row += hex8(c[f]!);
      row += f === 7 ? "  " : " ";
    }
    out += `${row}\n`;
  }
  return out;
}

const HEX8 = /^[0-9a-f]{8}$/;

/**
 * The rows of an rt_cache stat text as printed: slot 0 of each row is the printed (global) `entries`.
 * Accepts the exact 2.6/3.x layout and, more leniently, any whitespace between fields (the column-
 * aligned layout of kernels ≥ 4.x); the header must name the 17 fields in order. Throws on anything else.
 */
export function parseRtCacheRows(text: string): RtCacheCounters[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const header = (lines[0] ?? "").trim().split(/\s+/);
  if (header.length !== RT_CACHE_NFIELDS || header.some((n, i) => n !== RT_CACHE_FIELD_NAMES[i])) {
    throw new Error(`rt_cache stat: line 1: expected the ${RT_CACHE_NFIELDS} rt_cache field names`);
  }
  const rows: RtCacheCounters[] = [];
  for (let l = 1; l < lines.length; l++) {
    const words = lines[l]!.trim().split(/\s+/);
    if (words.length !== RT_CACHE_NFIELDS || words.some((w) => !HEX8.test(w))) {
      throw new Error(`rt_cache stat: line ${l + 1}: expected ${RT_CACHE_NFIELDS} fields of 8 lowercase hex digits`);
    }
    const c = newRtCacheCounters();
    for (let f = 0; f < RT_CACHE_NFIELDS; f++) c[f] = Number.parseInt(words[f]!, 16);
    rows.push(c);
  }
  return rows;
}

/**
 * Parses rt_cache stat text back into per-worker counters with the share convention of this module:
 * the global `entries` goes to worker 0's slot 0 and the others get 0, so that formatting the result
 * reproduces the text. Throws if the rows disagree on `entries` (not one kernel snapshot: on a live
 * kernel each row re-reads the count, so such a read raced with allocation; use `parseRtCacheRows`).
 */
export function parseRtCacheStat(text: string): RtCacheCounters[] {
  const rows = parseRtCacheRows(text);
  const e = RT_CACHE_FIELDS.entries;
  rows.forEach((r, i) => {
    if (r[e] !== rows[0]![e]) {
      throw new Error(`rt_cache stat: line ${i + 2}: entries ${hex8(r[e]!)} differs from line 2 (${hex8(rows[0]![e]!)})`);
    }
    if (i > 0) r[e] = 0;
  });
  return rows;
}
