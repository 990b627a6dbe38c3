// cache.ts — the route cache's lifecycle around table/gc/input: start-up (buckets, secret, derived
// knobs), the host-driven clock tick that runs the periodic scan every gc_interval (first run at a
// random point in [gc_interval, 2·gc_interval), §4.1) and the dst garbage reaper (§7.3), and a dump of
// the live entries for `ip route show cache` (hashed, current genid only, §1.6).
import { tableInit, buckets, nBuckets, isStale } from "./table";
import { reapGarbage, reaperNextWake } from "./garbage";
import { delayUntil, NO_WAKE } from "../util/wake";
import { gcInit, checkExpire } from "./gc";
import { ENTRY_BYTES, slabBytes } from "./entry";
import { setSecret, seedRandom, random, setParam, gcIntervalMs, P_GC_THRESH, P_MAX_SIZE } from "./state";

let nextScan: u32 = 0;
let scanning: bool = false;

/** Starts the cache with n buckets (power of two), hash secret and random seed; gc_thresh = n, max_size = 16n. */
export function cacheInit(n: u32, hashSecret: u32, seed: u32, now: u32): i32 {
  const rc = tableInit(n);
  if (rc != 0) return rc;
  setSecret(hashSecret);
  seedRandom(seed);
  setParam(P_GC_THRESH, <i32>n);
  setParam(P_MAX_SIZE, <i32>(n * 16));
  gcInit(now);
  scheduleScan(now);
  return 0;
}

function scheduleScan(now: u32): void {
  scanning = gcIntervalMs > 0;
  if (scanning) nextScan = now + gcIntervalMs + random() % gcIntervalMs;
}

/** Runs what is due at `now`: the periodic scan (gc_interval 0 = none) and the garbage reaper. */
export function cacheTick(now: u32): void {
  if (!scanning && gcIntervalMs > 0) scheduleScan(now);
  if (scanning && gcIntervalMs == 0) scanning = false;
  if (scanning && <i32>(now - nextScan) >= 0) {
    // A late run is one run, over the time that actually passed (delta in checkExpire); the next is
    // gc_interval after it, as the kernel re-queues its delayed work.
    checkExpire(now);
    nextScan = now + gcIntervalMs;
  }
  reapGarbage(now);
}

/** ms until cacheTick has something to do: the scan (or its scheduling) and the reaper (util/wake.ts). */
export function cacheNextWake(now: u32): u32 {
  let d = reaperNextWake(now);
  if (scanning != (gcIntervalMs > 0)) return 0; // a changed gc_interval: the next tick (re)schedules
  if (scanning) d = min(d, delayUntil(nextScan, now));
  return d;
}

/**
 * Copies up to max live entries (hashed, current genid) to out, 64 bytes each, starting at the chain
 * position the cursor names (u32 bucket, u32 position in that bucket's chain), and leaves the cursor where
 * it stopped; returns how many. The dump is over when the cursor's bucket reaches the bucket count.
 * This is the kernel's `rt_dump` resume (a netlink dump's s_h / s_idx): positions count every entry of the
 * chain, stale ones too, which are skipped (§1.6). As in the kernel, an entry that moves between two calls
 * (a move-to-front, an insert at the head) may be shown twice or not at all.
 */
export function cacheDump(out: usize, max: u32, cursor: usize): u32 {
  let n: u32 = 0;
  let skip = load<u32>(cursor, 4);
  for (let i = load<u32>(cursor); i < nBuckets; i++, skip = 0) {
    let pos: u32 = 0;
    for (let e = <usize>load<u32>(buckets + (<usize>i << 2)); e != 0; e = <usize>load<u32>(e), pos++) {
      if (pos < skip || isStale(e)) continue;
      if (n == max) {
        store<u32>(cursor, i);
        store<u32>(cursor, pos, 4);
        return n;
      }
      memory.copy(out + <usize>n * ENTRY_BYTES, e, ENTRY_BYTES);
      n++;
    }
  }
  store<u32>(cursor, nBuckets);
  store<u32>(cursor, 0, 4);
  return n;
}

/** Bytes the cache holds: bucket array plus entry slabs. */
export function cacheBytes(): u32 {
  return <u32>((<usize>nBuckets << 2) + slabBytes);
}
