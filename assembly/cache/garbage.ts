// garbage.ts — the dst lifecycle after unhashing (§7.3): an entry still referenced when it leaves its
// chain is parked on the garbage list; dst_gc_task reaps the parked entries whose references are all
// gone, on the kernel's back-off timer (100 ms, growing by 500 ms steps to 120 s while little is freed).
//
// The kernel's reaper walks the whole list each time it fires, and each newly parked entry restarts it
// at 100 ms, so under a leak (entries held for ever, more arriving) its cost grows with the leak: about
// 200 ms per million held entries per step, with forwarding stopped meanwhile. Here the parked entries
// are on two lists: `held` (referenced) and `freeable` (the last reference went, dst_release). Both are
// what the kernel's list holds (garbageCount counts both), and the reaper frees exactly the freeable
// ones, so its decisions (freed, delayed, the next delay) are the kernel's; its cost is O(freed).
// The held list also feeds the leak alarm's census (garbage-census.ts) as entries join and leave it.
//
// Memory: list heads u32[2] (held, freeable), static. A parked entry links through +0 (next) and +52
// (previous; its `use` count, which nothing reads once it is unhashed: see entry.ts).
import { gcBegin, gcEnd, GC_REAP } from "./gc-probe";
import { wakeAt, delayUntil, NO_WAKE } from "../util/wake";
import { censusAdd, censusRemove, censusReset, censusValid, censusOldestAge } from "./garbage-census";
import { F_HASHED, F_GARBAGE, entryFree, addHashed, MAX_HOLDERS } from "./entry";

const heads: usize = memory.data(8);
const HELD: usize = 0;
const FREEABLE: usize = 4;
/** Entries on the garbage list (held + freeable): what the kernel's dst garbage list holds. */
export let garbageCount: u32 = 0;
let freeableCount: u32 = 0;
let gcTaskNext: u32 = 0;
let gcTaskDelay: u32 = 0; // 0 = timer stopped
let gcTaskInc: u32 = 500;
const DST_GC_MIN: u32 = 100;
const DST_GC_INC: u32 = 500;
const DST_GC_MAX: u32 = 120000;

function push(list: usize, e: usize): void {
  const h = load<u32>(heads + list);
  store<u32>(e, h);
  store<u32>(e, 0, 52);
  if (h != 0) store<u32>(<usize>h, <u32>e, 52);
  store<u32>(heads + list, <u32>e);
}

function unlink(list: usize, e: usize): void {
  const next = load<u32>(e);
  const prev = load<u32>(e, 52);
  if (prev != 0) store<u32>(<usize>prev, next);
  else store<u32>(heads + list, next);
  if (next != 0) store<u32>(<usize>next, prev, 52);
}

/** rt_free after unlinking from a chain: destroy now if unreferenced, else park (§7.3 step 2). */
export function rtFree(e: usize, now: u32): void {
  const f = load<u32>(e, 24);
  store<u32>(e, f & ~F_HASHED, 24);
  addHashed(-1);
  if (load<u32>(e, 48) == 0) {
    entryFree(e);
    return;
  }
  store<u32>(e, (f & ~F_HASHED) | F_GARBAGE, 24);
  push(HELD, e);
  garbageCount++;
  censusAdd(e);
  // __dst_free: a stopped timer starts, and one that has backed off far restarts soon (DST_GC_MIN).
  if (gcTaskDelay == 0 || gcTaskInc > DST_GC_INC) {
    gcTaskDelay = DST_GC_MIN;
    gcTaskInc = DST_GC_INC;
    gcTaskNext = now + DST_GC_MIN;
    wakeAt(gcTaskNext);
  }
}

/** dst_release of a parked entry's last reference: it leaves the census and waits to be reaped. */
export function garbageReleased(e: usize): void {
  censusRemove(e);
  unlink(HELD, e);
  push(FREEABLE, e);
  freeableCount++;
}

/** A freeable parked entry referenced again (nothing does this today; kept exact all the same). */
export function garbageHeldAgain(e: usize): void {
  unlink(FREEABLE, e);
  freeableCount--;
  push(HELD, e);
  censusAdd(e);
}

/** round_jiffies_relative for a delay in ms: to a whole second, down only within its first quarter. */
function roundSecond(ms: u32): u32 {
  const rem = ms % 1000;
  return rem < 250 ? ms - rem : ms - rem + 1000;
}

/** dst_gc_task, when due: destroy unreferenced garbage, back off while little is freed (§7.3 step 3). */
export function reapGarbage(now: u32): void {
  if (gcTaskDelay == 0 || <i32>(now - gcTaskNext) < 0) return;
  gcBegin(GC_REAP);
  const freed = freeableCount;
  for (let e = <usize>load<u32>(heads + FREEABLE); e != 0; ) {
    const next = <usize>load<u32>(e);
    entryFree(e);
    e = next;
  }
  store<u32>(heads + FREEABLE, 0);
  freeableCount = 0;
  garbageCount -= freed;
  const delayed = garbageCount; // every entry still held: what the kernel's walk keeps
  gcEnd(GC_REAP, freed);
  if (garbageCount == 0) {
    gcTaskDelay = 0;
    return;
  }
  if (freed <= delayed / 10) {
    gcTaskDelay = min(gcTaskDelay + gcTaskInc, DST_GC_MAX);
    gcTaskInc += DST_GC_INC;
  } else {
    gcTaskDelay = DST_GC_MIN;
    gcTaskInc = DST_GC_INC;
  }
  // Delays over 4 s fire on whole seconds; the delay itself keeps its value (only the timer is rounded).
  gcTaskNext = now + (gcTaskDelay > 4000 ? roundSecond(gcTaskDelay) : gcTaskDelay);
}

/** ms until the reaper is due (NO_WAKE: stopped, nothing parked; util/wake.ts). */
export function reaperNextWake(now: u32): u32 {
  return gcTaskDelay == 0 ? NO_WAKE : delayUntil(gcTaskNext, now);
}

/** Rebuilds the census by a walk of the held list, when it went stale (garbage-census.ts). */
export function censusRefresh(): void {
  if (censusValid()) return;
  censusReset();
  for (let e = <usize>load<u32>(heads + HELD); e != 0; e = <usize>load<u32>(e)) censusAdd(e);
}

/**
 * Oldest last use among the parked entries still held (0 when none): how long a leak has held. From the
 * census (O(holders)); a walk only when the census went stale.
 */
export function garbageOldestAge(now: u32): u32 {
  censusRefresh();
  let oldest: u32 = 0;
  for (let h: u32 = 0; h < MAX_HOLDERS; h++) oldest = max(oldest, censusOldestAge(h, now));
  return oldest;
}
