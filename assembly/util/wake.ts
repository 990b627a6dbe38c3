// wake.ts — when the host must next run the core's timers (cache_tick, dp_tick). The host sleeps until
// the earliest deadline rather than ticking on a fixed period: after a tick it asks for the exact next
// one (core_next_wake: each table's own walk), and after any other call it asks whether that call armed
// an earlier one (core_wake_take). Every place that arms a timer outside a tick calls wakeAt or wakeSoon:
// a neighbour's timer, a hold queue to release, frames failed to report, the dst reaper, a changed
// gc_interval.
//
// Memory: none of its own (three globals). Times are the host's u32 ms clock, which wraps.

/** "No timer is armed." */
export const NO_WAKE: u32 = 0xffffffff;

let pending = false;
let soon = false;
let earliest: u32 = 0;

/** A timer is armed for `when`. */
export function wakeAt(when: u32): void {
  if (!pending || <i32>(when - earliest) < 0) earliest = when;
  pending = true;
}

/** Something is due at once (the caller does not know the time). */
export function wakeSoon(): void {
  soon = true;
}

/** ms from now until `when` (0 when it has passed). */
export function delayUntil(when: u32, now: u32): u32 {
  const d = <i32>(when - now);
  return d > 0 ? <u32>d : 0;
}

/** ms until the earliest wake armed since the last take (0: at once; NO_WAKE: none), and forgets it. */
export function wakeTake(now: u32): u32 {
  const d = soon ? 0 : pending ? delayUntil(earliest, now) : NO_WAKE;
  pending = false;
  soon = false;
  return d;
}
