// state.ts — the route cache's knobs (sysctls, in the core's units), its global GC state and its
// counters. Times are milliseconds of the host-supplied clock (u32, wrapping); the core never reads a
// clock. Spec: ../shared/docs/kernel-route-cache.md (section numbers below are its).
//
// Counters: u32[17] in /proc/net/stat/rt_cache order (§5.1, §5.2), for one worker; entries (index 0)
// is filled from the allocated count when read.
import { wakeSoon } from "../util/wake";

export const C_ENTRIES: u32 = 0;
export const C_IN_HIT: u32 = 1;
export const C_IN_SLOW_TOT: u32 = 2;
export const C_IN_SLOW_MC: u32 = 3;
export const C_IN_NO_ROUTE: u32 = 4;
export const C_IN_BRD: u32 = 5;
export const C_IN_MARTIAN_DST: u32 = 6;
export const C_IN_MARTIAN_SRC: u32 = 7;
export const C_OUT_HIT: u32 = 8;
export const C_OUT_SLOW_TOT: u32 = 9;
export const C_OUT_SLOW_MC: u32 = 10;
export const C_GC_TOTAL: u32 = 11;
export const C_GC_IGNORED: u32 = 12;
export const C_GC_GOAL_MISS: u32 = 13;
export const C_GC_DST_OVERFLOW: u32 = 14;
export const C_IN_HLIST_SEARCH: u32 = 15;
export const C_OUT_HLIST_SEARCH: u32 = 16;
export const counters: usize = memory.data(17 * 4);

// @ts-ignore: decorator
@inline export function bump(c: u32): void {
  const p = counters + (<usize>c << 2);
  store<u32>(p, load<u32>(p) + 1);
}

// @ts-ignore: decorator
@inline export function addCounter(c: u32, n: u32): void {
  const p = counters + (<usize>c << 2);
  store<u32>(p, load<u32>(p) + n);
}

// Events the host turns into (rate-limited) log lines and alarms; the host reads and clears them.
export const E_OVERFLOW: u32 = 0; // "dst cache overflow" (§3.2 step 8), kernel overflow mode
export const E_UNCACHED: u32 = 1; // forward-mode decisions made without a cache entry
export const E_REBUILD: u32 = 2; // "Route hash chain too long!" (§4.2 step 4)
export const E_DISABLED: u32 = 3; // "N rebuilds is over limit, route caching disabled"
export const events: usize = memory.data(4 * 4);

// @ts-ignore: decorator
@inline export function event(e: u32): void {
  const p = events + (<usize>e << 2);
  store<u32>(p, load<u32>(p) + 1);
}

// ── knobs (§2), set by the host's sysctl layer ──
export let gcThresh: u32 = 0; // = buckets
export let maxSize: u32 = 0; // = 16 × buckets
export let gcElasticity: u32 = 8;
export let gcMinIntervalMs: u32 = 500;
export let gcTimeoutMs: u32 = 300000;
export let gcIntervalMs: u32 = 60000;
export let rebuildCountLimit: i32 = 4; // net.ipv4.rt_cache_rebuild_count
export let overflowForward: bool = true; // wasmroute: keep forwarding uncached when the cache is full
export let gcStepBudget: u32 = 2048; // wasmroute: entries one GC step may free (0 = unbounded, as the kernel); 2048 ≈ 0.3 ms
export let overflowBackoffMs: u32 = 0; // wasmroute, overflow forward mode: after a gc_dst_overflow, no GC at max_size for this long (0 = off, as the kernel)

export const P_GC_THRESH: u32 = 0;
export const P_MAX_SIZE: u32 = 1;
export const P_GC_ELASTICITY: u32 = 2;
export const P_GC_MIN_INTERVAL_MS: u32 = 3;
export const P_GC_TIMEOUT_MS: u32 = 4;
export const P_GC_INTERVAL_MS: u32 = 5;
export const P_REBUILD_COUNT: u32 = 6;
export const P_OVERFLOW_FORWARD: u32 = 7;
export const P_GC_STEP_BUDGET: u32 = 8;
export const P_OVERFLOW_BACKOFF_MS: u32 = 9;

export function setParam(id: u32, v: i32): i32 {
  if (id == P_GC_THRESH) gcThresh = <u32>v;
  else if (id == P_MAX_SIZE) maxSize = <u32>v;
  else if (id == P_GC_ELASTICITY) gcElasticity = <u32>v;
  else if (id == P_GC_MIN_INTERVAL_MS) gcMinIntervalMs = <u32>v;
  else if (id == P_GC_TIMEOUT_MS) gcTimeoutMs = <u32>v;
  else if (id == P_GC_INTERVAL_MS) {
    gcIntervalMs = <u32>v;
    wakeSoon(); // the next cache tick (re)schedules the scan
  }
  else if (id == P_REBUILD_COUNT) rebuildCountLimit = v;
  else if (id == P_OVERFLOW_FORWARD) overflowForward = v != 0;
  else if (id == P_GC_STEP_BUDGET) gcStepBudget = <u32>max<i32>(v, 0);
  else if (id == P_OVERFLOW_BACKOFF_MS) overflowBackoffMs = <u32>max<i32>(v, 0);
  else return -22;
  return 0;
}

// ── cache-wide state ──
export let genid: u32 = 0; // the netns generation (§1.3); bumped by 1..256 on invalidation (§4.4)
export let secret: u32 = 0; // hash key, random at start (the host supplies it; tests fix it)
export let rebuildCount: i32 = 0; // current_rt_cache_rebuild_count (§4.2 step 4)
export let chainLengthMax: u32 = 20; // rt_chain_length_max (§4.1 step 4)

export function setSecret(s: u32): void {
  secret = s;
}
export function setChainLengthMax(v: u32): void {
  chainLengthMax = v;
}
export function noteRebuild(): void {
  rebuildCount++;
}

/** Caching is off once rebuilds exceed the sysctl; −1 turns it off at once (§4.2 step 1, §4.3). */
// @ts-ignore: decorator
@inline export function cachingDisabled(): bool {
  return rebuildCount > rebuildCountLimit;
}

// xorshift32, seeded by the host: the random genid steps (§4.4) and the first periodic scan time (§4.1).
let rng: u32 = 0x9e3779b9;
export function seedRandom(s: u32): void {
  rng = s != 0 ? s : 0x9e3779b9;
}
export function random(): u32 {
  let x = rng;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  rng = x;
  return x;
}

/** Invalidates every entry lazily: genid += random 1..256 (rt_cache_invalidate, §2 flush, §4.4). */
export function bumpGenid(): void {
  genid += 1 + (random() & 255);
}
