// nexthop.ts — what a FIB leaf means: result records (route type + a run of next hops) and the
// multipath choice by flow hash (Linux hash-threshold, fib_select_multipath).
//
// A leaf of the lookup structure is a result id. Ids are handed out by the host's control plane,
// which shares one result among every route with the same type and next hops. Id 0 = no route.
//
// Result record, 16 bytes, at results + id*16
// ┌────┬──────┬──────────────────────────────────────────────────────────┐
// │ +0 │ u8   │ type (Linux RTN_*: 1 unicast 2 local 3 broadcast 6 blackhole 7 unreachable 8 prohibit 9 throw) │
// │ +1 │ u8   │ flags (reserved)                                         │
// │ +2 │ u16  │ nhCount (0 for blackhole/unreachable/prohibit/throw)     │
// │ +4 │ u32  │ nhFirst: index of the first next hop record              │
// │ +8 │ u32  │ prefsrc (0 = none)                                       │
// │+12 │ u32  │ reserved                                                 │
// └────┴──────┴──────────────────────────────────────────────────────────┘
// Next hop record, 16 bytes, at nexthops + i*16
// ┌────┬──────┬──────────────────────────────────────────────────────────┐
// │ +0 │ u32  │ gateway (0 = directly connected)                         │
// │ +4 │ u32  │ output interface index                                   │
// │ +8 │ u32  │ upper bound: last 31-bit flow hash this hop takes        │
// │+12 │ u32  │ flags (bit 0: onlink)                                    │
// └────┴──────┴──────────────────────────────────────────────────────────┘
import { alloc, free } from "../util/arena";
import { fmix32 } from "../util/mix";

export const RESULT_BYTES: u32 = 16;
export const NEXTHOP_BYTES: u32 = 16;
export const TYPE_UNICAST: u8 = 1;
export const TYPE_BLACKHOLE: u8 = 6;
export const TYPE_UNREACHABLE: u8 = 7;
export const TYPE_PROHIBIT: u8 = 8;
export const TYPE_THROW: u8 = 9;

export let results: usize = 0;
let resultCap: u32 = 0;
export let nexthops: usize = 0;
let nexthopCap: u32 = 0;

function regrow(old: usize, oldCap: u32, cap: u32, recBytes: u32): usize {
  const p = alloc(<usize>cap * recBytes);
  if (p == 0) return 0;
  memory.fill(p, 0, <usize>cap * recBytes);
  if (old != 0) {
    memory.copy(p, old, <usize>oldCap * recBytes);
    free(old, <usize>oldCap * recBytes);
  }
  return p;
}

/** Makes room for result ids 0..n-1. 0 on success, -12 (ENOMEM) otherwise. */
export function reserveResults(n: u32): i32 {
  if (n <= resultCap) return 0;
  const cap = max(n, resultCap * 2);
  const p = regrow(results, resultCap, cap, RESULT_BYTES);
  if (p == 0) return -12;
  results = p;
  resultCap = cap;
  return 0;
}

/** Makes room for next hop records 0..n-1. 0 on success, -12 (ENOMEM) otherwise. */
export function reserveNexthops(n: u32): i32 {
  if (n <= nexthopCap) return 0;
  const cap = max(n, nexthopCap * 2);
  const p = regrow(nexthops, nexthopCap, cap, NEXTHOP_BYTES);
  if (p == 0) return -12;
  nexthops = p;
  nexthopCap = cap;
  return 0;
}

export function setResult(id: u32, type: u8, nhFirst: u32, nhCount: u32, prefsrc: u32): i32 {
  if (id >= resultCap || <u64>nhFirst + nhCount > <u64>nexthopCap) return -22;
  const r = results + <usize>id * RESULT_BYTES;
  store<u8>(r, type);
  store<u8>(r, 0, 1);
  store<u16>(r, <u16>nhCount, 2);
  store<u32>(r, nhFirst, 4);
  store<u32>(r, prefsrc, 8);
  store<u32>(r, 0, 12);
  return 0;
}

export function setNexthop(i: u32, gateway: u32, oif: u32, upperBound: u32, flags: u32): i32 {
  if (i >= nexthopCap) return -22;
  const p = nexthops + <usize>i * NEXTHOP_BYTES;
  store<u32>(p, gateway);
  store<u32>(p, oif, 4);
  store<u32>(p, upperBound, 8);
  store<u32>(p, flags, 12);
  return 0;
}

// @ts-ignore: decorator
@inline export function resultType(id: u32): u8 {
  return load<u8>(results + <usize>id * RESULT_BYTES);
}

/** The 31-bit L3 flow hash multipath selection uses (fixed, so every worker and test agrees). */
// @ts-ignore: decorator
@inline export function flowHash(src: u32, dst: u32): u32 {
  return fmix32(src ^ fmix32(dst ^ 0x9e3779b9)) >>> 1;
}

/**
 * Index of the next hop result `id` uses for this flow, or 0xffffffff when it has none.
 * Hash-threshold: the first hop whose upper bound is ≥ the flow hash (fib_select_multipath).
 */
export function selectNexthop(id: u32, src: u32, dst: u32): u32 {
  const r = results + <usize>id * RESULT_BYTES;
  const count = <u32>load<u16>(r, 2);
  if (count == 0) return 0xffffffff;
  const first = load<u32>(r, 4);
  if (count == 1) return first;
  const h = flowHash(src, dst);
  for (let i: u32 = 0; i < count - 1; i++) {
    if (h <= load<u32>(nexthops + <usize>(first + i) * NEXTHOP_BYTES, 8)) return first + i;
  }
  return first + count - 1;
}
