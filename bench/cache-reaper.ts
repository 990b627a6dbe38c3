/**
 * The dst garbage reaper (§7.3) under a reference leak, as seed 000 had one: `leaked` entries held for
 * ever on the garbage list, and more leaked entries arriving every 100 ms (each arrival restarts the
 * reaper's back-off at 100 ms, as __dst_free does). The kernel's reaper walks the whole list at every
 * step; wasmroute's knows when nothing on it is free and then does not walk (assembly/cache/table.ts).
 * Each step of 50 is timed (wall clock): the longest is how long forwarding waits for the reaper. Then
 * the leak alarm's sample (holder census and oldest age), which also used to walk the list.
 */
import { Fib } from "../host/fib/fib.ts";
import { RouteCache } from "../host/cache/cache.ts";
import { RT_CACHE_FIELDS as F } from "../host/cache/stat.ts";

export interface ReaperUnderLeak {
  leaked: number;
  steps: number;
  maxStepMs: number;
  medianStepMs: number;
  /** The leak alarm's sample (the router takes one every 10 s): the holder census and the oldest age. */
  censusMs: number;
}

/**
 * A cache of 2^18 buckets on eth0 (10.0.0.0/24, default via 10.0.0.2) with the given max_size, and
 * hold(n, t): n new flows to fresh destinations at time t, each keeping its reference for ever; miss(t):
 * one more new flow, without a reference.
 */
function heldFlowsRig(maxSize: number) {
  const fib = new Fib();
  const eth0 = [{ gateway: 0, dev: "eth0", weight: 1, onlink: false }];
  fib.addRoute({ prefix: 0x0a000000, len: 24, type: "unicast", table: 254, metric: 0, nexthops: eth0 });
  fib.addRoute({ prefix: 0x0a000001, len: 32, type: "local", table: 255, metric: 0, nexthops: eth0 });
  fib.addRoute({ prefix: 0, len: 0, type: "unicast", table: 254, metric: 0, nexthops: [{ gateway: 0x0a000002, dev: "eth0", weight: 1, onlink: false }] });
  const cache = new RouteCache(fib, { buckets: 1 << 18, now: 0 });
  cache.setInterface("eth0", { forwarding: true, rpFilter: 0, hasAddresses: true });
  cache.set("maxSize", maxSize);
  let dst = 0x08000000;
  const hold = (n: number, t: number) => {
    for (let i = 0; i < n; i += 1000) {
      cache.input(Array.from({ length: Math.min(1000, n - i) }, () => ({ dst: dst++ >>> 0, src: 0x0a000005, iif: "eth0" })), t, true);
    }
  };
  const miss = (t: number) => cache.input([{ dst: dst++ >>> 0, src: 0x0a000005, iif: "eth0" }], t)[0]!;
  return { cache, hold, miss };
}

export function measureReaperUnderLeak(leaked: number): ReaperUnderLeak {
  const { cache, hold } = heldFlowsRig(1 << 24);
  const leak = (n: number, t: number) => {
    hold(n, t);
    cache.flush(0, t); // unhashed while held: onto the garbage list
  };
  let t = 1000;
  leak(leaked, t);
  const times: number[] = [];
  for (let k = 0; k < 50; k++) {
    t += 100;
    leak(10, t);
    const t0 = performance.now();
    cache.tick(t);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const c0 = performance.now();
  cache.holders(t);
  cache.garbageOldestAgeMs(t);
  const censusMs = performance.now() - c0;
  return { leaked: cache.garbage, steps: times.length, maxStepMs: times.at(-1)!, medianStepMs: times[times.length >> 1]!, censusMs };
}

/** Per overflow mode: wall-clock µs per miss, and what gc_total and gc_dst_overflow (§5.1) counted meanwhile. */
export interface HeldFullMisses {
  medianUs: number;
  maxUs: number;
  gcCalls: number;
  overflows: number;
}

export interface MissWhenHeldFull {
  held: number;
  /** Wall-clock µs per miss (median and longest), misses spread over 400 ms (one gc_min_interval), per overflow mode. */
  forward: HeldFullMisses;
  kernel: HeldFullMisses;
  misses: number;
}

/**
 * A cache held full (§3.2 step 8 at max_size): `held` entries referenced for ever fill max_size, as a leak
 * would, then new flows miss. The kernel mode sweeps the whole table at each miss and frees nothing;
 * forward mode sweeps once and then not again for gc_min_interval (assembly/cache/gc.ts, "barren").
 */
export function measureMissWhenHeldFull(held: number, misses: number): MissWhenHeldFull {
  const usPerMiss = (forward: boolean): HeldFullMisses => {
    const { cache, hold, miss } = heldFlowsRig(held);
    cache.set("overflowForward", forward ? 1 : 0);
    hold(held, 1000);
    if (cache.allocated !== held) throw new Error(`held-full bench: ${cache.allocated} allocated, wanted ${held}`);
    if (held <= 1 << 18) cache.set("gcThresh", held >> 1); // (a small run) so that every miss calls the GC
    const us: number[] = [];
    const c0 = cache.counters();
    for (let k = 0; k < misses; k++) {
      const t0 = performance.now();
      const a = miss(2000 + k * Math.floor(400 / misses));
      us.push((performance.now() - t0) * 1000);
      if (a.cached) throw new Error("held-full bench: a miss was cached");
    }
    const c1 = cache.counters();
    us.sort((a, b) => a - b);
    const d = (f: number) => c1[f]! - c0[f]!;
    return { medianUs: us[us.length >> 1]!, maxUs: us.at(-1)!, gcCalls: d(F.gc_total), overflows: d(F.gc_dst_overflow) };
  };
  return { held, misses, kernel: usPerMiss(false), forward: usPerMiss(true) };
}
