// garbage-census.ts — per holder, how many entries the garbage list keeps (unhashed but referenced,
// §7.3) and the last use of the oldest, kept up to date as entries are parked, so that the leak
// alarm's census and the oldest age cost O(holders) instead of a walk of the list. A leak is exactly
// when the list is long: a walk of a million held entries took about 230 ms, and the router samples
// the census every 10 s. While an entry is parked its holder tag and last use cannot change (it is
// found by no lookup, and its tag changes only when its last reference goes), so adding is exact;
// an entry leaving the list (reaped, or its last reference gone) marks the census stale, and the next
// walk of the list (the reaper's, or the census's own) rebuilds it.
//
// Memory
// ┌────────┬─────────┬─────────────────────────────────────────────────────────────────┐
// │ counts │ u32[16] │ garbage-listed entries per holder tag (entry +24 bits 8–11)     │
// │ oldest │ u32[16] │ per holder: last use (ms) of its oldest garbage-listed entry    │
// └────────┴─────────┴─────────────────────────────────────────────────────────────────┘
import { HOLDER_MASK, HOLDER_SHIFT, MAX_HOLDERS } from "./entry";

const counts: usize = memory.data(<i32>MAX_HOLDERS * 4);
const oldest: usize = memory.data(<i32>MAX_HOLDERS * 4);
let stale = false;

// @ts-ignore: decorator
@inline function holderTag(e: usize): u32 {
  return (load<u32>(e, 24) & HOLDER_MASK) >>> HOLDER_SHIFT;
}

/** An entry joins the garbage list (or is counted again by a rebuilding walk) at time now. */
export function censusAdd(e: usize, now: u32): void {
  const h = <usize>holderTag(e) << 2;
  const n = load<u32>(counts + h);
  const used = load<u32>(e, 56);
  if (n == 0 || now - used > now - load<u32>(oldest + h)) store<u32>(oldest + h, used);
  store<u32>(counts + h, n + 1);
}

/** An entry leaves the garbage list or loses its holder: the census must be rebuilt by a walk. */
export function censusStale(): void {
  stale = true;
}

/** Starts a rebuild: a walk then calls censusAdd for every entry still on the list. */
export function censusReset(): void {
  memory.fill(counts, 0, MAX_HOLDERS * 4);
  stale = false;
}

export function censusValid(): bool {
  return !stale;
}

export function censusCount(h: u32): u32 {
  return load<u32>(counts + (<usize>h << 2));
}

/** ms since the last use of holder h's oldest garbage-listed entry (0 when it has none). */
export function censusOldestAge(h: u32, now: u32): u32 {
  return censusCount(h) == 0 ? 0 : now - load<u32>(oldest + (<usize>h << 2));
}
