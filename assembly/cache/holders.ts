// holders.ts — who holds route cache references, so a leak can be named (issue #7; seed 000's leak was
// invisible because nothing said who kept the dsts). References taken through the ABI (takeRef =
// a holder id 1–15 the host names) are counted per holder, and the entry remembers in its flags the
// holder whose reference came first since it was last unreferenced (a later holder that comes and
// goes does not hide a holder that never lets go). The census says, per holder, how many entries it keeps on
// the garbage list (unhashed but referenced, §7.3) and since when, from counts kept as entries are parked
// (garbage-census.ts). Never on the noref hot path.
//
// Memory
// ┌────────────┬─────────────┬──────────────────────────────────────────────────────────────────┐
// │ refs       │ u32[16]     │ references outstanding per holder (taken minus given back)       │
// │ census     │ 16 × 12 B   │ per holder: +0 u32 refs, +4 u32 garbage entries, +8 u32 oldest   │
// │            │             │ age of those entries (ms since last use)                         │
// │ entry +24  │ bits 8–11   │ first holder since refcnt was last 0 (0 = none)                  │
// └────────────┴─────────────┴──────────────────────────────────────────────────────────────────┘
import { release } from "./table";
import { censusRefresh } from "./garbage";
import { HOLDER_MASK, HOLDER_SHIFT, MAX_HOLDERS, F_GARBAGE } from "./entry";
import { censusCount, censusOldestAge } from "./garbage-census";

export { MAX_HOLDERS };
const refs: usize = memory.data(<i32>MAX_HOLDERS * 4);
const census: usize = memory.data(<i32>MAX_HOLDERS * 12);

/** Holder ids above 15 are folded into 15. */
export function holderOf(takeRef: u32): u32 {
  return min<u32>(takeRef, MAX_HOLDERS - 1);
}

/** After a batch that took references for holder h: count each answer's reference and tag its entry. */
export function noteTaken(out: usize, n: u32, answerBytes: u32, h: u32): void {
  if (h == 0) return;
  const slot = refs + (<usize>h << 2);
  for (let i: u32 = 0; i < n; i++) {
    const e = <usize>load<u32>(out + <usize>i * answerBytes, 20);
    if (e == 0) continue;
    store<u32>(slot, load<u32>(slot) + 1);
    const f = load<u32>(e, 24);
    if ((f & HOLDER_MASK) == 0) store<u32>(e, f | (h << HOLDER_SHIFT), 24);
  }
}

/** dst_release on behalf of holder h (0: the entry's recorded holder). The last reference clears the tag. */
export function releaseFor(e: usize, h0: u32): void {
  if (e == 0) return;
  const f = load<u32>(e, 24);
  const h = h0 != 0 ? holderOf(h0) : (f & HOLDER_MASK) >>> HOLDER_SHIFT;
  const slot = refs + (<usize>h << 2);
  const r = load<u32>(slot);
  if (h != 0 && r > 0) store<u32>(slot, r - 1);
  const last = load<u32>(e, 48) == 1;
  if (!last) return release(e);
  // A parked entry leaves the census under its holder's tag, then loses the tag (it stays allocated until
  // reaped); any other entry loses the tag first, since release may free it (DST_NOCACHE).
  if ((f & F_GARBAGE) != 0) {
    release(e);
    store<u32>(e, load<u32>(e, 24) & ~HOLDER_MASK, 24);
  } else {
    store<u32>(e, f & ~HOLDER_MASK, 24);
    release(e);
  }
}

/**
 * Fills and returns the census: per holder, refs outstanding, garbage entries and their oldest age.
 * O(holders) while the garbage census is current, which it is through a leak (nothing leaves the list).
 */
export function holderCensus(now: u32): usize {
  censusRefresh();
  for (let h: u32 = 0; h < MAX_HOLDERS; h++) {
    const c = census + <usize>h * 12;
    store<u32>(c, load<u32>(refs + (<usize>h << 2)));
    store<u32>(c, censusCount(h), 4);
    store<u32>(c, censusOldestAge(h, now), 8);
  }
  return census;
}
