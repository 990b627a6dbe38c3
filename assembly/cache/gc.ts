// gc.ts — the cache's two cleaners: rt_garbage_collect (§3.2), run by dst_alloc when the allocated
// count exceeds gc_thresh, and rt_check_expire (§4.1), the periodic scan that also computes
// rt_chain_length_max (avg + 4σ of chain lengths) for the collision defence. Packet-path callers get
// exactly one GC sweep (softirq context). State is global, as in the kernel. One addition: with
// gc_step_budget set, a GC step frees at most that many entries and the rest of its goal is paid by
// the following calls (bounded latency, same total work).
import { buckets, nBuckets, mask, isStale, mayExpire, rtFree, noAliasBefore } from "./table";
import { allocated, entryAlloc } from "./entry";
import {
  bump, C_GC_TOTAL, C_GC_IGNORED, C_GC_GOAL_MISS, C_GC_DST_OVERFLOW, event, E_OVERFLOW, gcThresh, maxSize, gcElasticity,
  gcMinIntervalMs, gcTimeoutMs, gcStepBudget, setChainLengthMax, overflowForward, overflowBackoffMs, genid,
} from "./state";
import { gcBegin, gcEnd, GC_COLLECT, GC_EXPIRE } from "./gc-probe";

// rt_garbage_collect's static state (§3.1).
export let expire: u32 = 300000;
let lastGc: u32 = 0;
let rover: u32 = 0;
export let equilibrium: u32 = 0;
// rt_check_expire's.
let scanRover: u32 = 0;
let scanLast: u32 = 0;

export function gcInit(now: u32): void {
  expire = gcTimeoutMs;
  lastGc = now - gcMinIntervalMs; // the first call is not gated
  scanLast = now;
}

/** Frees the stale and expirable entries of bucket b, age limit halving per kept entry (§3.3). */
function sweepBucket(b: usize, tmoStart: u32, now: u32): i64 {
  let freed: i64 = 0;
  let tmo = tmoStart;
  let prev: usize = 0;
  let c = <usize>load<u32>(b);
  while (c != 0) {
    const next = <usize>load<u32>(c);
    if (isStale(c) || mayExpire(c, tmo, expire, now)) {
      if (prev == 0) store<u32>(b, <u32>next);
      else store<u32>(prev, <u32>next);
      rtFree(c, now);
      freed++;
    } else {
      if (load<u32>(c, 48) == 0) unreferencedKept++;
      tmo >>= 1;
      prev = c;
    }
    c = next;
  }
  return freed;
}

// Entries the last sweep kept although nobody held them (young for their chain position): "barren" below.
let unreferencedKept: u32 = 0;

// wasmroute's bounded mode (gc_step_budget > 0): a step frees at most the budget and carries the rest
// of its goal as a debt that the following calls pay first, gate or no gate. 0 = the kernel's single
// unbounded sweep.
let debt: i64 = 0;

/** One sweep of up to every bucket from rover + 1, stopping once `goal` entries are freed; returns what is left. */
function sweep(goal: i64, now: u32): i64 {
  gcBegin(GC_COLLECT);
  const want = goal;
  unreferencedKept = 0;
  let k = rover;
  for (let i: u32 = 0; i < nBuckets && goal > 0; i++) {
    k = (k + 1) & mask;
    goal -= sweepBucket(buckets + (<usize>k << 2), expire, now);
  }
  rover = k;
  gcEnd(GC_COLLECT, <u32>(want - goal));
  return goal;
}

// wasmroute, overflow forward mode only: a barren pass is a sweep at max_size that gave nothing back to
// the slab and met only referenced entries, so that no later sweep can free anything either until a
// reference is released. The kernel sweeps again at the next miss, and the next: with a leak holding the
// cache full, each miss then walks the whole table (about 70 ms at 1,000,000 held entries), so new flows
// stop. Here, after a barren pass and until gc_min_interval has passed or the cache is flushed (a new
// genid), a call at max_size does all rt_garbage_collect does (goal, equilibrium, expire halved,
// gc_goal_miss, gc_dst_overflow) but the sweep, and takes the sweep's result to be the last one's: nothing
// freed. At most one barren sweep per gc_min_interval. Kernel overflow mode sweeps every time, as the
// kernel did. A sweep that kept unreferenced entries because they were young for their chain position
// (§3.3) is not barren: expire halves at each missed goal (§3.2 step 7.7), so a sweep a few misses later
// frees them. A random-source flood at max_size is that case; backing off there kept 92.6 % of the
// accepted flood out of the cache (RELIABILITY.md §6). (What this can miss: an entry released since the
// barren pass waits up to gc_min_interval for the next sweep; its miss meanwhile is forwarded uncached.)
let barren = false;
let barrenAt: u32 = 0;
let barrenGenid: u32 = 0;

/** After a barren pass, within gc_min_interval, at max_size, same genid: the sweep would free nothing again. */
function stillBarren(now: u32): bool {
  return barren && overflowForward && allocated >= maxSize && now - barrenAt < gcMinIntervalMs && genid == barrenGenid;
}

/** sweep(), or what a barren sweep returns (nothing freed, rover back where it started) without walking. */
function sweepUnlessBarren(goal: i64, now: u32): i64 {
  if (stillBarren(now)) return goal;
  barren = false;
  return sweep(goal, now);
}

// wasmroute, overflow forward mode with overflow_backoff_ms > 0 (`wasmroute run --overflow-backoff MS`;
// 0, the default, is the kernel's behaviour): a deliberate flood back-off. After a call at max_size that
// gave up (gc_dst_overflow), the calls at max_size within the next MS ms, in the same genid, give up at
// once: no sweep, and none of rt_garbage_collect's counters or state moves (gc_total included). Their
// misses are forwarded uncached, as any miss at max_size in forward mode. Under a random-source flood at
// max_size every miss otherwise pays a sweep (RELIABILITY.md §6: 227 kpps forwarded with a 1 s back-off
// against 56–77 without); the cost is that new flows, legitimate ones too, go uncached while the flood
// keeps the cache full, and that the counters leave the kernel's. rt_check_expire goes on meanwhile.
let overflowed = false;
let overflowedAt: u32 = 0;
let overflowedGenid: u32 = 0;

/** Within the back-off after a gc_dst_overflow, at max_size, same genid: give up without a sweep. */
function backingOff(now: u32): bool {
  return overflowed && overflowBackoffMs > 0 && overflowForward && allocated >= maxSize && now - overflowedAt < overflowBackoffMs && genid == overflowedGenid;
}

/** A sweep missed its goal (§3.2 steps 7.7–8): halve expire; give up only at max_size. */
function goalMissed(now: u32, before: u32): i32 {
  bump(C_GC_GOAL_MISS);
  expire >>= 1; // (0 stays 0)
  if (allocated < maxSize) return 0; // below max_size the allocation goes ahead despite the miss
  if (allocated >= before && unreferencedKept == 0 && !barren) {
    barren = true;
    barrenAt = now;
    barrenGenid = genid;
  }
  overflowed = true;
  overflowedAt = now;
  overflowedGenid = genid;
  event(E_OVERFLOW); // "dst cache overflow"
  bump(C_GC_DST_OVERFLOW);
  return 1;
}

/** rt_garbage_collect (§3.2). 0 = the allocation may go ahead, 1 = it fails (ENOBUFS). */
export function garbageCollect(now: u32): i32 {
  if (backingOff(now)) return 1;
  bump(C_GC_TOTAL);
  const before = allocated;
  if (gcStepBudget > 0 && debt > 0) {
    const want = min<i64>(debt, <i64>gcStepBudget);
    const left = sweepUnlessBarren(want, now);
    debt = left > 0 ? 0 : debt - want;
    if (left > 0) return goalMissed(now, before);
    return debt > 0 ? 0 : workDone();
  }
  if (now - lastGc < gcMinIntervalMs && allocated < maxSize) {
    bump(C_GC_IGNORED);
    return 0;
  }
  const e = <i64>allocated;
  const b = <i64>nBuckets;
  let goal: i64 = e - <i64>gcElasticity * b;
  if (goal <= 0) {
    if (<i64>equilibrium < <i64>gcThresh) equilibrium = gcThresh;
    goal = e - <i64>equilibrium;
    if (goal > 0) {
      equilibrium += <u32>min<i64>(goal / 2, b);
      goal = e - <i64>equilibrium;
    }
  } else {
    goal = max<i64>(goal / 2, b);
    equilibrium = <u32>(e - goal);
  }
  if (now - lastGc >= gcMinIntervalMs) lastGc = now;
  if (goal <= 0) {
    equilibrium = <u32>(<i64>equilibrium + goal);
    return workDone();
  }
  if (gcStepBudget > 0 && goal > <i64>gcStepBudget) {
    debt = goal - <i64>gcStepBudget;
    goal = <i64>gcStepBudget;
  }
  // One sweep (softirq: the packet path gets exactly one).
  if (sweepUnlessBarren(goal, now) > 0) {
    debt = 0;
    return goalMissed(now, before);
  }
  return debt > 0 ? 0 : workDone();
}

function workDone(): i32 {
  expire += gcMinIntervalMs;
  if (expire > gcTimeoutMs || allocated < gcThresh) expire = gcTimeoutMs;
  return 0;
}

/** dst_alloc (§7.2): GC first when over gc_thresh; a zeroed entry, or 0 when GC gave up or no memory. */
export function allocEntry(now: u32): usize {
  if (allocated > gcThresh && garbageCollect(now) != 0) return 0;
  return entryAlloc();
}

function isqrt(n: u64): u64 {
  if (n < 2) return n;
  let x = <u64>Math.sqrt(<f64>n);
  while (x * x > n) x--;
  while ((x + 1) * (x + 1) <= n) x++;
  return x;
}

/** rt_check_expire (§4.1): scan elapsed × B / gc_timeout buckets; recompute rt_chain_length_max. */
export function checkExpire(now: u32): void {
  gcBegin(GC_EXPIRE);
  const delta = <u64>(now - scanLast);
  scanLast = now;
  let goal: u64 = gcTimeoutMs > 1 ? (delta * <u64>nBuckets) / <u64>gcTimeoutMs : <u64>nBuckets;
  if (goal > <u64>nBuckets) goal = <u64>nBuckets;
  let samples: u64 = 0;
  let sum: u64 = 0;
  let sum2: u64 = 0;
  let i = scanRover;
  for (let n: u64 = 0; n < goal; n++) {
    i = (i + 1) & mask;
    samples++;
    let tmo = gcTimeoutMs;
    let length: u64 = 0;
    const b = buckets + (<usize>i << 2);
    let prev: usize = 0;
    let c = <usize>load<u32>(b);
    while (c != 0) {
      const next = <usize>load<u32>(c);
      let drop = isStale(c);
      if (!drop) {
        const exp = load<u32>(c, 60);
        if (exp != 0) drop = <i32>(now - exp) > 0; // a passed PMTU expiry frees even a referenced entry
        else drop = mayExpire(c, tmo, gcTimeoutMs, now);
      }
      if (drop) {
        if (prev == 0) store<u32>(b, <u32>next);
        else store<u32>(prev, <u32>next);
        rtFree(c, now);
      } else {
        tmo >>= 1;
        if (noAliasBefore(<usize>load<u32>(b), c)) length += 8; // ONE = 8: 3 fractional bits
        prev = c;
      }
      c = next;
    }
    sum += length;
    sum2 += length * length;
  }
  if (samples > 0) {
    const avg = sum / samples;
    const sd = isqrt(sum2 / samples - avg * avg);
    setChainLengthMax(max<u32>(gcElasticity, <u32>((avg + 4 * sd) >> 3)));
  }
  scanRover = i;
  gcEnd(GC_EXPIRE, <u32>samples);
}
