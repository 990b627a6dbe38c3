// ply.ts — one 256-way node of the lookup structure, popcount-compressed (Poptrie's idea, 8-bit stride).
//
// A level-1 ply covers one /16 (indexed by address bits 15..8); a level-2 ply covers one /24 (bits 7..0)
// and exists only under a level-1 slot that holds routes longer than /24. Leaves are stored once per run
// of equal values: runBits marks the slots where a new run starts, so the leaf of slot v is
// leaves[popcount(runBits[0..v]) - 1]. Children are found the same way through childBits.
//
// Ply, 84 + 4·nRuns bytes (8-byte aligned block)
// ┌─────┬─────────┬────────────────────────────────────────────────────────────────────────┐
// │  +0 │ u32     │ default: result of the best route ≤ /16 covering this /16 (level 1)    │
// │  +4 │ u32     │ children: block of u32[nChildren] level-2 ply pointers, 0 if none      │
// │  +8 │ u8[4]   │ childRank[w] = popcount of childBits words before word w              │
// │ +12 │ u8[4]   │ runRank[w]   = popcount of runBits words before word w                │
// │ +16 │ u64[4]  │ childBits: slot has a level-2 ply                                      │
// │ +48 │ u64[4]  │ runBits: a leaf run starts at this slot (bit 0 always set)             │
// │ +80 │ u16     │ nRuns                                                                  │
// │ +82 │ u16     │ nChildren                                                              │
// │ +84 │ u32[]   │ leaves: result ids, or INHERIT = "the level-1 default"                 │
// └─────┴─────────┴────────────────────────────────────────────────────────────────────────┘
import { alloc, free, blockSize } from "../util/arena";

export const INHERIT: u32 = 0xffffffff;
export const PLY_HEADER: u32 = 84;

// @ts-ignore: decorator
@inline function lowMask(b: u32): u64 {
  return (<u64>2 << <u64>b) - 1; // bits 0..b; b = 63 wraps to all ones
}

/** Leaf value of slot v (0..255). */
// @ts-ignore: decorator
@inline export function plyLeaf(p: usize, v: u32): u32 {
  return load<u32>(plyLeafAt(p, v));
}

/** Address of the leaf of slot v (0..255): plyLeaf's load, not yet done. */
// @ts-ignore: decorator
@inline export function plyLeafAt(p: usize, v: u32): usize {
  const w = v >>> 6;
  const bits = load<u64>(p + 48 + (<usize>w << 3));
  const rank = <u32>load<u8>(p + 12 + w) + <u32>popcnt<u64>(bits & lowMask(v & 63)) - 1;
  return p + PLY_HEADER + (<usize>rank << 2);
}

/** Level-2 ply under slot v, or 0 when the slot has none. */
// @ts-ignore: decorator
@inline export function plyChild(p: usize, v: u32): usize {
  const w = v >>> 6;
  const bits = load<u64>(p + 16 + (<usize>w << 3));
  if (((bits >>> <u64>(v & 63)) & 1) == 0) return 0;
  const rank = <u32>load<u8>(p + 8 + w) + <u32>popcnt<u64>(bits & lowMask(v & 63)) - 1;
  return <usize>load<u32>(<usize>load<u32>(p + 4) + (<usize>rank << 2));
}

export function plyBytes(p: usize): usize {
  return PLY_HEADER + (<usize>load<u16>(p + 80) << 2);
}

/**
 * Builds a ply from 256 painted values (u32 at vals) and, for level 1, 256 child flags (u8 at kids,
 * 0 for level 2). A child slot's value is never read, so it does not start a run: child slots first
 * take the value before them, after which a run starts exactly where vals[s] ≠ vals[s−1] — found four
 * slots at a time with i32x4.ne + bitmask. Rewrites child slots of vals. Returns 0 on ENOMEM.
 */
export function plyBuild(vals: usize, kids: usize, def: u32): usize {
  let nKids: u32 = 0;
  let kb0: u64 = 0, kb1: u64 = 0, kb2: u64 = 0, kb3: u64 = 0;
  if (kids != 0) {
    const zero = i8x16.splat(0);
    for (let q: u32 = 0; q < 16; q++) {
      const m = <u64>(<u32>i8x16.bitmask(i8x16.ne(v128.load(kids + (<usize>q << 4)), zero)));
      const sh = <u64>((q & 3) << 4);
      if (q < 4) kb0 |= m << sh;
      else if (q < 8) kb1 |= m << sh;
      else if (q < 12) kb2 |= m << sh;
      else kb3 |= m << sh;
    }
    nKids = <u32>(popcnt<u64>(kb0) + popcnt<u64>(kb1) + popcnt<u64>(kb2) + popcnt<u64>(kb3));
    if (nKids != 0) {
      let last = load<u32>(vals);
      for (let s: usize = 1; s < 256; s++) {
        if (load<u8>(kids + s) != 0) store<u32>(vals + (s << 2), last);
        else last = load<u32>(vals + (s << 2));
      }
    }
  }
  // Run starts. Lane 0 of the first group compares with the word before vals (any readable memory);
  // bit 0 is forced on below.
  let rb0: u64 = 0, rb1: u64 = 0, rb2: u64 = 0, rb3: u64 = 0;
  for (let q: u32 = 0; q < 64; q++) {
    const at = vals + (<usize>q << 4);
    const m = <u64>(<u32>i32x4.bitmask(i32x4.ne(v128.load(at), v128.load(at - 4))));
    const sh = <u64>((q & 15) << 2);
    if (q < 16) rb0 |= m << sh;
    else if (q < 32) rb1 |= m << sh;
    else if (q < 48) rb2 |= m << sh;
    else rb3 |= m << sh;
  }
  rb0 |= 1;
  const r0 = <u32>popcnt<u64>(rb0), r1 = <u32>popcnt<u64>(rb1), r2 = <u32>popcnt<u64>(rb2);
  const nRuns = r0 + r1 + r2 + <u32>popcnt<u64>(rb3);
  const p = alloc(PLY_HEADER + (nRuns << 2));
  if (p == 0) return 0;
  store<u32>(p, def);
  store<u32>(p, 0, 4);
  const k0 = <u32>popcnt<u64>(kb0), k1 = <u32>popcnt<u64>(kb1), k2 = <u32>popcnt<u64>(kb2);
  store<u32>(p + 8, (k0 << 8) | ((k0 + k1) << 16) | ((k0 + k1 + k2) << 24));
  store<u32>(p + 12, (r0 << 8) | ((r0 + r1) << 16) | ((r0 + r1 + r2) << 24));
  store<u64>(p + 16, kb0);
  store<u64>(p + 24, kb1);
  store<u64>(p + 32, kb2);
  store<u64>(p + 40, kb3);
  store<u64>(p + 48, rb0);
  store<u64>(p + 56, rb1);
  store<u64>(p + 64, rb2);
  store<u64>(p + 72, rb3);
  store<u16>(p + 80, <u16>nRuns);
  store<u16>(p + 82, <u16>nKids);
  let leaf = p + PLY_HEADER;
  for (let w: usize = 0; w < 4; w++) {
    let b = load<u64>(p + 48 + (w << 3));
    while (b != 0) {
      const slot = (w << 6) | <usize>ctz<u64>(b);
      store<u32>(leaf, load<u32>(vals + (slot << 2)));
      leaf += 4;
      b &= b - 1;
    }
  }
  return p;
}

/** Frees a level-1 ply with its children; returns the bytes released. */
export function plyFreeTree(p: usize): usize {
  let bytes: usize = 0;
  const kids = <usize>load<u32>(p + 4);
  const nKids = <usize>load<u16>(p + 82);
  if (kids != 0) {
    for (let i: usize = 0; i < nKids; i++) {
      const c = <usize>load<u32>(kids + (i << 2));
      const cb = plyBytes(c);
      free(c, cb);
      bytes += blockSize(cb);
    }
    free(kids, nKids << 2);
    bytes += blockSize(nKids << 2);
  }
  const pb = plyBytes(p);
  free(p, pb);
  return bytes + blockSize(pb);
}
