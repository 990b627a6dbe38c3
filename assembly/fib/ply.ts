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
  const w = v >>> 6;
  const bits = load<u64>(p + 48 + (<usize>w << 3));
  const rank = <u32>load<u8>(p + 12 + w) + <u32>popcnt<u64>(bits & lowMask(v & 63)) - 1;
  return load<u32>(p + PLY_HEADER + (<usize>rank << 2));
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
 * 0 for level 2). A child slot's value is never read, so it does not start a run. Returns 0 on ENOMEM.
 */
export function plyBuild(vals: usize, kids: usize, def: u32): usize {
  let nRuns: u32 = 0;
  let nKids: u32 = 0;
  let last: u32 = 0;
  for (let s: u32 = 0; s < 256; s++) {
    const isKid = kids != 0 && load<u8>(kids + s) != 0;
    const v = load<u32>(vals + (<usize>s << 2));
    if (isKid) nKids++;
    if (s == 0 || (!isKid && v != last)) {
      nRuns++;
      last = v;
    }
  }
  const p = alloc(PLY_HEADER + (nRuns << 2));
  if (p == 0) return 0;
  store<u32>(p, def);
  store<u32>(p, 0, 4);
  store<u16>(p, <u16>nRuns, 80);
  store<u16>(p, <u16>nKids, 82);
  let run: u32 = 0;
  for (let w: u32 = 0; w < 4; w++) {
    let kb: u64 = 0;
    let rb: u64 = 0;
    for (let b: u32 = 0; b < 64; b++) {
      const s = (w << 6) | b;
      const isKid = kids != 0 && load<u8>(kids + s) != 0;
      const v = load<u32>(vals + (<usize>s << 2));
      if (isKid) kb |= <u64>1 << <u64>b;
      if (s == 0 || (!isKid && v != last)) {
        rb |= <u64>1 << <u64>b;
        store<u32>(p + PLY_HEADER + (<usize>run << 2), v);
        run++;
        last = v;
      }
    }
    store<u64>(p + 16 + (<usize>w << 3), kb);
    store<u64>(p + 48 + (<usize>w << 3), rb);
  }
  let kr: u32 = 0;
  let rr: u32 = 0;
  for (let w: u32 = 0; w < 4; w++) {
    store<u8>(p + 8 + w, <u8>kr);
    store<u8>(p + 12 + w, <u8>rr);
    kr += <u32>popcnt<u64>(load<u64>(p + 16 + (<usize>w << 3)));
    rr += <u32>popcnt<u64>(load<u64>(p + 48 + (<usize>w << 3)));
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
