/**
 * The route cache benchmark (issue #3), in one process on the real table:
 * - batched cache hits (keys whose entries are cached), 1,024 keys per call: the flows in insertion order,
 *   in a random order, and 4,096 of them (cache-resident); a random-order hit's cost split by stage of the
 *   fast path, next to the machine's memory floor; and a small cache (4,096 flows alone in the table,
 *   measured before the rest go in: the fast path's own cost, every line it touches in the CPU caches);
 * - miss + insert: fresh flows through the slow path (policy FIB lookup, classification, intern);
 * - GC: a cache filled past the aggressive line (8 × buckets), then GC steps timed one by one:
 *   the longest step and the cost per entry scanned;
 * - bytes per entry (slab) and per bucket;
 * and, for comparison in the same run, the FIB-only batched lookup of the same destinations (when does the
 * cache pay?) and a JS Map keyed by the flow as a plain-JS cache.
 * Throughputs are CPU time of this process (time slices given to other tenants of a shared machine do not
 * count), medians of 7 rounds in which all of them alternate; GC steps are wall-clock, one by one.
 */
import { do_not_optimize } from "mitata";
import { readFileSync } from "node:fs";
import { fmix32 } from "../host/fib/nexthop-rule.ts";
import { unicastAddress as unicast } from "../host/sim/simulate.ts";
import { xorshift32 } from "./keys.ts";
import { BATCH, cpuNsPerKey, median, shuffle } from "./timing.ts";
import { BENCH_BUCKETS, benchCache, permutedKeys, readBenchTable, stagesOf, stagesText } from "./cache-setup.ts";
import { measureReaperUnderLeak, measureMissWhenHeldFull } from "./cache-reaper.ts";

/** Flows of the small cache (measured alone in the table, before the rest are inserted). */
const SMALL_FLOWS = 4096;


/**
 * One call's wall-clock and process CPU time, ms. A GC step is one synchronous call, so the two differ only by
 * time the CPU did not run it: other tasks, or on a VM the host running something else on this vCPU (steal,
 * which the guest's task clock leaves out with CONFIG_PARAVIRT_TIME_ACCOUNTING). CPU time has the process's
 * other threads in it too; during a WASM call they are idle.
 */
function timeCall(f: () => void): { wallMs: number; cpuMs: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wallMs, cpuMs: (c.user + c.system) / 1000 };
}

/** Time the host has stolen from this machine's vCPUs so far, ms (/proc/stat's steal column), or NaN where unknown. */
function stealMs(): number {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/);
    return f[0] === "cpu" && f[8] !== undefined ? Number(f[8]) * 10 : NaN; // USER_HZ 100
  } catch {
    return NaN;
  }
}

/**
 * Median ns per key of each probe over 7 rounds, the probes alternated round by round, so that a noisy
 * neighbour on a shared machine weighs on all of them alike. Each probe times itself in CPU time.
 */
function alternate<K extends string>(probes: Record<K, () => number>, rounds = 7): Record<K, number> {
  const runs = new Map<K, number[]>();
  for (let r = 0; r < rounds; r++) for (const k of Object.keys(probes) as K[]) runs.set(k, [...(runs.get(k) ?? []), probes[k]()]);
  return Object.fromEntries([...runs].map(([k, v]) => [k, median(v)])) as Record<K, number>;
}

/**
 * The floor a random-order hit cannot beat on this machine (plain JS typed arrays, keys precomputed and
 * read in order like the cache's): one random 4-byte load per key from 16 MiB (the slab's size), and a
 * random word of a 1 MiB array (the bucket array's size) followed by the 64-byte line it points to in
 * 16 MiB — a bucket, then its entry: the two dependent misses every random-order hit takes.
 */
function memoryFloor(calls: number, sweep: number): { oneLoad: () => number; bucketThenLine: () => number } {
  const r = xorshift32(11);
  const slab = new Int32Array(1 << 22);
  const bucketArray = new Int32Array(1 << 18);
  for (let i = 0; i < bucketArray.length; i++) bucketArray[i] = (r() & ((1 << 18) - 1)) << 4; // a line of the slab
  const idx = new Int32Array(calls * BATCH);
  for (let i = 0; i < idx.length; i++) idx[i] = r() & ((1 << 22) - 1);
  let sink = 0;
  return {
    oneLoad: () => cpuNsPerKey(sweep, (c) => {
      const b = (c % calls) * BATCH;
      for (let i = 0; i < BATCH; i++) sink ^= slab[idx[b + i]!]!;
      do_not_optimize(sink);
    }),
    bucketThenLine: () => cpuNsPerKey(sweep, (c) => {
      const b = (c % calls) * BATCH;
      for (let i = 0; i < BATCH; i++) sink ^= slab[bucketArray[idx[b + i]! >>> 4]!]!;
      do_not_optimize(sink);
    }),
  };
}

/** `--held N`: referenced entries (= max_size) for the held-full miss (default 500,000; 50,000 with --quick). */
function heldOption(args: string[]): number {
  const i = args.indexOf("--held");
  if (i < 0) return args.includes("--quick") ? 50_000 : 500_000;
  const v = args[i + 1] ?? "";
  if (!/^\d+$/.test(v) || Number(v) < 1000 || Number(v) > 4_000_000) throw new Error(`--held wants a number of entries from 1000 to 4000000, got "${v}"`);
  return Number(v);
}

const fmtRate = (r: number) => (r >= 1e6 ? `${(r / 1e6).toFixed(1)} M/s` : `${(r / 1e3).toFixed(1)} k/s`);

export async function runCacheBench(args: string[]): Promise<{ json: unknown; table: string }> {
  const held = heldOption(args); // checked before the long part of the run
  const buckets = BENCH_BUCKETS;
  const flows = args.includes("--quick") ? 1 << 16 : 1 << 18;
  const list = readBenchTable();
  const { fib, cache, keyArea, dsts } = benchCache(list, flows);
  const x = fib.core.x;
  const iif = fib.ifaces.index("eth0");
  const out = fib.core.alloc(BATCH * 24);
  const fibOut = fib.core.alloc(BATCH * 4);
  // Miss + insert: every flow once, timed as a whole (in two parts, around the small cache below).
  const insertCpuUs = (from: number, to: number) => {
    const c0 = process.cpuUsage();
    for (let i = from; i < to; i += BATCH) x.cache_input_batch(keyArea + i * 20, out, Math.min(BATCH, to - i), 1000, 0);
    const c = process.cpuUsage(c0);
    return c.user + c.system;
  };
  // A small cache: the first SMALL_FLOWS flows alone in the table, so chains are about one entry long and
  // every entry and bucket they touch stays in the CPU caches. What the fast path's own code costs, without
  // the memory misses of a large table (the rows below, measured once all flows are in).
  let insertUs = insertCpuUs(0, SMALL_FLOWS);
  const calls0 = SMALL_FLOWS / BATCH;
  const smallSweep = (2 * flows) / BATCH; // as many calls as the rows below time (two sweeps of all flows)
  const smallStage = (s: number) => () => cpuNsPerKey(smallSweep, (c) => x.cache_hit_stages(keyArea + (c % calls0) * BATCH * 20, out, BATCH, 2000, s));
  const smallNs = alternate({
    small: () => cpuNsPerKey(smallSweep, (c) => x.cache_input_batch(keyArea + (c % calls0) * BATCH * 20, out, BATCH, 2000, 0)),
    ...Object.fromEntries([1, 2, 3, 4, 5].map((s) => [`small${s}`, smallStage(s)])),
  });
  const smallHashed = cache.hashed;
  insertUs += insertCpuUs(SMALL_FLOWS, flows);
  const insertPerSec = flows / (insertUs / 1e6);
  const hashed = cache.hashed;

  // Keys in a random order (a shuffled copy): entry addresses have nothing to do with key order, as in a
  // data plane where packets of many flows interleave. Insertion order, by contrast, walks the slab almost
  // sequentially (entries come from it in insertion order), which the hardware prefetcher rewards.
  const calls = flows / BATCH;
  const shuffled = permutedKeys({ fib, cache, keyArea, dsts }, shuffle(flows, xorshift32(5)));
  const m = fib.core.u32();
  // A JS Map cache over the same flows (key: dst * 2^32 + src as a number; value: gateway).
  const jsKeys = new Float64Array(flows);
  const map = new Map<number, number>();
  for (let i = 0; i < flows; i++) {
    const w = (keyArea >>> 2) + i * 5;
    jsKeys[i] = m[w]! * 4294967296 + m[w + 1]!;
    map.set(jsKeys[i]!, m[w]! ^ 0x5a5a5a5a);
  }
  const t = fib.coreIndex(254);
  const sweep = 2 * calls; // calls per measurement: two sweeps over all flows
  const at = (area: number, c: number, bytes = 20) => area + (c % calls) * BATCH * bytes;
  const stage = (keys: number, s: number) => () => cpuNsPerKey(sweep, (c) => x.cache_hit_stages(at(keys, c), out, BATCH, 2000, s));
  const ns = alternate({
    hits: () => cpuNsPerKey(sweep, (c) => x.cache_input_batch(at(keyArea, c), out, BATCH, 2000, 0)),
    shuffled: () => cpuNsPerKey(sweep, (c) => x.cache_input_batch(at(shuffled, c), out, BATCH, 2000, 0)),
    // The first 4,096 flows only: a working set whose own entries stay in the CPU caches.
    resident: () => cpuNsPerKey(sweep, (c) => x.cache_input_batch(keyArea + (c % 4) * BATCH * 20, out, BATCH, 2000, 0)),
    // Where a random-order hit's time goes: the fast path's passes up to each stage (cache_hit_stages).
    stage1: stage(shuffled, 1),
    stage2: stage(shuffled, 2),
    stage3: stage(shuffled, 3),
    stage4: stage(shuffled, 4),
    stage5: stage(shuffled, 5),
    // The same split for the cache-resident working set (where the 100 M/s goal is within reach).
    ...Object.fromEntries([1, 2, 3, 4, 5].map((s) => [`resident${s}`, () => cpuNsPerKey(sweep, (c) => x.cache_hit_stages(keyArea + (c % 4) * BATCH * 20, out, BATCH, 2000, s))])),
    ...memoryFloor(calls, sweep),
    // FIB only: the same destinations through the batched LPM (no policy, no classification).
    fib: () => cpuNsPerKey(sweep, (c) => x.fib_lookup_batch(t, at(dsts, c, 4), fibOut, BATCH)),
    // The full policy route (what a miss costs before classification): fib_route_batch.
    policy: () => cpuNsPerKey(sweep, (c) => x.fib_route_batch(at(keyArea, c), out, BATCH)),
    map: () => cpuNsPerKey(sweep, (c) => {
      const base = (c % calls) * BATCH;
      let s = 0;
      for (let i = 0; i < BATCH; i++) s += map.get(jsKeys[base + i]!) ?? 0;
      do_not_optimize(s);
    }),
  });
  const perSec = (nsPerKey: number) => 1e9 / nsPerKey;
  const hitsPerSec = perSec(ns.hits);
  const hitsShuffledPerSec = perSec(ns.shuffled);
  const hitsResidentPerSec = perSec(ns.resident);
  const hitsSmallPerSec = perSec(smallNs.small);
  const fibPerSec = perSec(ns.fib);
  const policyPerSec = perSec(ns.policy);
  const mapPerSec = perSec(ns.map);
  const split = {
    nsPerKey: stagesOf(ns, "stage"),
    residentNsPerKey: stagesOf(ns, "resident"),
    smallNsPerKey: stagesOf(smallNs, "small"),
    memoryBound: { oneRandomLoadNs: ns.oneLoad, bucketThenEntryNs: ns.bucketThenLine },
  };

  // GC at 2 M entries: fill to just over 8 × buckets with fresh flows, then let the GC work.
  const target = 8 * buckets + buckets / 4;
  let id = 0;
  const fill = fib.core.alloc(BATCH * 20);
  /** Fresh flows until the cache holds `target` entries; `when(id)` is each batch's time. */
  const fillTo = (when: (id: number) => number) => {
    while (cache.allocated < target) {
      const mm = fib.core.u32();
      for (let k = 0; k < BATCH; k++) {
        const w = (fill >>> 2) + k * 5;
        mm[w] = unicast(fmix32(id));
        mm[w + 1] = unicast(fmix32(id++ ^ 0x7f4a7c15));
        mm[w + 2] = iif;
        mm[w + 3] = mm[w + 4] = 0;
      }
      x.cache_input_batch(fill, out, BATCH, when(id), 0);
    }
  };
  fillTo((n) => 3000 + Math.floor(n / 2000) * 1000); // ~2000 new flows per second of age
  cache.set("gcThresh", buckets);
  cache.set("maxSize", 16 * buckets);
  cache.set("gcStepBudget", 0); // first the kernel's single unbounded step
  const entriesBefore = cache.allocated;
  let now = 3000 + Math.floor(id / 2000) * 1000 + 310_000; // old enough for the sweep to find victims
  let maxStepMs = 0;
  let totalMs = 0;
  let freedTotal = 0;
  const steps: number[] = [];
  for (let i = 0; i < 12; i++) {
    const before = cache.allocated;
    now += 600; // past gc_min_interval: every call does work
    const t0 = performance.now();
    x.cache_gc(now);
    const ms = performance.now() - t0;
    steps.push(ms);
    maxStepMs = Math.max(maxStepMs, ms);
    totalMs += ms;
    freedTotal += before - cache.allocated;
  }
  const nsPerFreed = freedTotal ? (totalMs * 1e6) / freedTotal : 0;
  // The same with wasmroute's default gc step budget: fill back past the line, then time steps again.
  const budget = 2048; // the core's default (--gc-step-budget)
  cache.set("gcThresh", 1 << 30);
  fillTo(() => now);
  cache.set("gcThresh", buckets);
  cache.set("gcStepBudget", budget);
  now += 310_000;
  let budgetMaxMs = 0;
  let budgetMaxCpuMs = 0;
  let budgetOverMs = 0;
  let budgetFreed = 0;
  const steal0 = stealMs();
  for (let i = 0; i < 200; i++) {
    const before = cache.allocated;
    now += 5; // mostly inside gc_min_interval: only the debt makes these calls work
    const t = timeCall(() => x.cache_gc(now));
    budgetMaxMs = Math.max(budgetMaxMs, t.wallMs);
    budgetMaxCpuMs = Math.max(budgetMaxCpuMs, t.cpuMs);
    budgetOverMs += t.wallMs > 1 ? 1 : 0;
    budgetFreed += before - cache.allocated;
  }
  const budgetStealMs = stealMs() - steal0;
  const bytesPerEntry = 64;
  const slabAndBuckets = cache.bytes;
  const reaper = measureReaperUnderLeak(args.includes("--quick") ? 100_000 : 1_000_000);
  const heldFull = measureMissWhenHeldFull(held, 20);

  const json = {
    suite: "cache",
    buckets,
    flows,
    hashedAfterInsert: hashed,
    hitsPerSec,
    hitsShuffledPerSec,
    hitsResidentPerSec,
    smallCache: { flows: SMALL_FLOWS, hashed: smallHashed, hitsPerSec: hitsSmallPerSec, nsPerKey: split.smallNsPerKey },
    hitCostSplitNsPerKey: split.nsPerKey,
    memoryBound: { ...split.memoryBound, oneRandomLoadPerSec: 1e9 / split.memoryBound.oneRandomLoadNs, bucketThenEntryPerSec: 1e9 / split.memoryBound.bucketThenEntryNs },
    insertPerSec,
    fibOnlyLookupsPerSec: fibPerSec,
    policyRoutesPerSec: policyPerSec,
    jsMapHitsPerSec: mapPerSec,
    gc: { entriesBefore, steps: steps.length, freed: freedTotal, maxStepMs, nsPerFreedEntry: nsPerFreed },
    gcBudgeted: { budget, steps: 200, freed: budgetFreed, maxStepMs: budgetMaxMs, maxStepCpuMs: budgetMaxCpuMs, stepsOver1Ms: budgetOverMs, stealMs: budgetStealMs },
    reaperUnderLeak: reaper,
    missWhenHeldFull: heldFull,
    bytesPerEntry,
    cacheBytes: slabAndBuckets,
    targets: {
      hitsPerSec: { goal: 100e6, met: hitsPerSec >= 100e6 },
      bytesPerEntry: { goal: 64, met: bytesPerEntry <= 64 },
      maxGcStepMs: { goal: 1, met: budgetMaxMs <= 1, cpuMet: budgetMaxCpuMs <= 1, kernelStepMet: maxStepMs <= 1 },
    },
  };
  const rows: [string, string, string][] = [
    [`cache hits, batched (1024/call), ${flows} flows, insertion order`, fmtRate(hitsPerSec), "goal ≥ 100 M/s"],
    [`cache hits, batched (1024/call), ${flows} flows, random order`, fmtRate(hitsShuffledPerSec), "goal ≥ 100 M/s"],
    [
      "hit cost, random order, ns/key (CPU time, stages)",
      `${split.nsPerKey.total.toFixed(1)} ns`,
      stagesText(split.nsPerKey),
    ],
    [
      "memory floor: 1 random load/key in 16 MiB; bucket→line",
      `${fmtRate(1e9 / split.memoryBound.oneRandomLoadNs)}`,
      `${split.memoryBound.oneRandomLoadNs.toFixed(1)} ns/key; bucket (1 MiB) → line (16 MiB): ${split.memoryBound.bucketThenEntryNs.toFixed(1)} ns/key = ${fmtRate(1e9 / split.memoryBound.bucketThenEntryNs)}`,
    ],
    ["cache hits, batched, 4096 flows (cache-resident)", fmtRate(hitsResidentPerSec), ""],
    ["hit cost, cache-resident, ns/key (CPU time, stages)", `${split.residentNsPerKey.total.toFixed(1)} ns`, stagesText(split.residentNsPerKey)],
    [`cache hits, batched, a small cache (${SMALL_FLOWS} flows alone in the table)`, fmtRate(hitsSmallPerSec), `${smallHashed} entries hashed; goal ≥ 100 M/s`],
    ["hit cost, small cache, ns/key (CPU time, stages)", `${split.smallNsPerKey.total.toFixed(1)} ns`, stagesText(split.smallNsPerKey)],
    ["miss + insert (slow path: policy FIB + classify + intern)", fmtRate(insertPerSec), ""],
    ["FIB only, batched LPM of the same destinations", fmtRate(fibPerSec), `cache hit ÷ FIB = ${(hitsPerSec / fibPerSec).toFixed(2)}`],
    ["policy route (rules + LPM + multipath), batched", fmtRate(policyPerSec), `cache hit ÷ policy = ${(hitsPerSec / policyPerSec).toFixed(2)}`],
    ["JS Map cache, same flows", fmtRate(mapPerSec), `WASM cache ×${(hitsPerSec / mapPerSec).toFixed(1)}`],
    [`GC at ${entriesBefore} entries, kernel's unbounded step (--gc-step-budget 0): longest`, `${maxStepMs.toFixed(2)} ms`, "the kernel's behaviour"],
    ["GC cost per entry freed", `${nsPerFreed.toFixed(0)} ns`, `${freedTotal} freed in ${steps.length} steps`],
    [
      `GC, default --gc-step-budget ${budget}: longest step, wall clock (CPU time)`,
      `${budgetMaxMs.toFixed(2)} ms (${budgetMaxCpuMs.toFixed(2)})`,
      `${budgetFreed} freed in 200 calls, ${budgetOverMs} over 1 ms wall${budgetStealMs > 0 ? `, ${budgetStealMs} ms stolen by the host meanwhile` : ""}; goal ≤ 1 ms`,
    ],
    [`dst reaper, ${reaper.leaked.toLocaleString("en-US")} leaked entries held, more arriving: longest step`, `${reaper.maxStepMs.toFixed(3)} ms`, `median ${reaper.medianStepMs.toFixed(3)} ms over ${reaper.steps} steps (a walk of the whole list took about 200 ms per million entries: BENCHMARKS.md)`],
    ["leak alarm sample (holder census + oldest age) with those entries", `${reaper.censusMs.toFixed(3)} ms`, "two walks of the list before (about 460 ms per million entries)"],
    [
      `miss with the cache held full (${heldFull.held.toLocaleString("en-US")} referenced = max_size), forward mode`,
      `${heldFull.forward.medianUs.toFixed(1)} µs`,
      `median of ${heldFull.misses} misses in 400 ms, longest ${heldFull.forward.maxUs.toFixed(0)} µs (its one sweep); kernel mode: median ${heldFull.kernel.medianUs.toFixed(0)} µs, a whole-table sweep at every miss`,
    ],
    ["bytes per entry (slab)", `${bytesPerEntry} B`, `kernel ~256 B; buckets add 4 B each, line alignment 56 B per 1,024 entries`],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  return { json, table: [`cache benchmark — rhash_entries ${buckets}, real table loaded`, ...rows.map(([a, b, cc]) => `${a.padEnd(w0)}  ${b.padStart(w1)}  ${cc}`)].join("\n") };
}
