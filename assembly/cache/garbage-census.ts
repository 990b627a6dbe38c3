// garbage-census.ts — per holder, how many parked entries it still holds (unhashed but referenced, §7.3)
// and the last use of the oldest, kept as entries join and leave the held list (garbage.ts), so that the
// leak alarm's census and the oldest age cost O(holders) instead of a walk of the list. A leak is exactly
// when the list is long: a walk of a million held entries took about 230 ms, and the router samples the
// census every 10 s. While an entry is held its holder tag and last use cannot change (no lookup finds
// it, and its tag changes only when its last reference goes), so joining is exact; an entry leaving that
// may have been its holder's oldest marks the census stale, and the next census rebuilds it by a walk.
//
// Memory
// ┌────────┬─────────┬─────────────────────────────────────────────────────────────────┐
// │ counts │ u32[16] │ held parked entries per holder tag (entry +24 bits 8–11)        │
// │ oldest │ u32[16] │ per holder: last use (ms) of its oldest held parked entry        │
// └────────┴─────────┴─────────────────────────────────────────────────────────────────┘
import { HOLDER_MASK, HOLDER_SHIFT, MAX_HOLDERS } from "./entry";

const counts: usize = memory.data(<i32>MAX_HOLDERS * 4);
const oldest: usize = memory.data(<i32>MAX_HOLDERS * 4);
let stale = false;

// @ts-ignore: decorator
@inline function holderTag(e: usize): u32 {
  return (load<u32>(e, 24) & HOLDER_MASK) >>> HOLDER_SHIFT;
}

/** An entry joins the held list (or is counted again by a rebuilding walk). */
export function censusAdd(e: usize): void {
  const h = <usize>holderTag(e) << 2;
  const n = load<u32>(counts + h);
  const used = load<u32>(e, 56);
  if (n == 0 || <i32>(used - load<u32>(oldest + h)) < 0) store<u32>(oldest + h, used); // older (ms clocks within 2^31)
  store<u32>(counts + h, n + 1);
}

/** An entry leaves the held list (its last reference went): stale only if it may have been its holder's oldest. */
export function censusRemove(e: usize): void {
  const h = <usize>holderTag(e) << 2;
  const n = load<u32>(counts + h) - 1;
  store<u32>(counts + h, n);
  if (n != 0 && load<u32>(e, 56) == load<u32>(oldest + h)) stale = true;
}

/** Starts a rebuild: a walk then calls censusAdd for every entry still held. */
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

/** ms since the last use of holder h's oldest held garbage-listed entry (0 when it has none). */
export function censusOldestAge(h: u32, now: u32): u32 {
  return censusCount(h) == 0 ? 0 : now - load<u32>(oldest + (<usize>h << 2));
}
