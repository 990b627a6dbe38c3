// table.ts — one routing table's lookup structure (16-8-8 multibit trie with popcount-compressed plies)
// and its incremental updates. The rules themselves (which routes exist, metrics, best per prefix) live
// in the host's control plane, as DPDK keeps rules apart from tbl24/tbl8; the host tells this file
// what changed:
//   • a route of length ≤ 16 is painted into the level-0 arrays with a depth check (rte_lpm's
//     add_depth_small / delete_depth_small, with the covering rule as the replacement on delete);
//   • a route of length 17..32 sets its best result in its /16's list (bucket.ts), and the /16 is rebuilt
//     (its level-1 ply and the level-2 plies under it) from that list, then one level-0 word is swapped.
// No update ever rebuilds the whole structure.
//
// Per table (index t < MAX_TABLES), in static arrays: dir[t], short[t], bytes[t].
// ┌────────────────────┬────────────┬──────────────────────────────────────────────────────────┐
// │ dir   u32[65536]   │ 256 KiB    │ by address bits 31..16: a result id, or PTR | level-1 ply │
// │ short u32[65536]   │ 256 KiB    │ best route ≤ /16 covering the /16: (len+1) << 24 | result │
// │                    │            │ (0 = none); the depth check of short updates reads it     │
// └────────────────────┴────────────┴──────────────────────────────────────────────────────────┘
// The routes longer than /16 that rebuilds read are kept per /16 in bucket.ts.
// Lookup: d = dir[a>>>16]; a result unless PTR; else level-1 ply by bits 15..8 → leaf, or level-2 ply
// by bits 7..0 → leaf; a leaf of INHERIT means the ply's default (the best ≤ /16 route).
import { alloc, allocZeroed, free, blockSize } from "../util/arena";
import { INHERIT, plyBuild, plyChild, plyLeaf, plyFreeTree, plyBytes } from "./ply";
import { bucketOf, bucketCount, bucketRecord, bucketPut, bucketFreeTable, MAX_BUCKET_TABLES } from "./bucket";

// One limit for a table and its /16 lists (bucket.ts holds it: it cannot import this file, which imports it).
export const MAX_TABLES: u32 = MAX_BUCKET_TABLES;
export const PTR: u32 = 0x80000000;
const DIR_BYTES: usize = 65536 * 4;
const RESULT_MASK: u32 = 0x00ffffff;

const tableDir: usize = memory.data(<i32>MAX_TABLES * 4);
const tableShort: usize = memory.data(<i32>MAX_TABLES * 4);
const tableBytes: usize = memory.data(<i32>MAX_TABLES * 4);

// Rebuild scratch: painted values and depths of one level-1 (or level-2) ply, child flags, counting-sort offsets.
const vals1: usize = memory.data(256 * 4);
const dep1: usize = memory.data(256);
const kids1: usize = memory.data(256);
const vals2: usize = memory.data(256 * 4);
const dep2: usize = memory.data(256);
const kidStart: usize = memory.data(257 * 4);
const sortCursor: usize = memory.data(256 * 4); // per-slot fill cursor of the counting sort

// A rebuild's order of the /16's longer routes by /24 slot: n u32 record indexes.
let order: usize = 0;
let orderCap: u32 = 0;

// @ts-ignore: decorator
@inline export function dirOf(t: u32): usize {
  return <usize>load<u32>(tableDir + (<usize>t << 2));
}
// @ts-ignore: decorator
@inline export function shortOf(t: u32): usize {
  return <usize>load<u32>(tableShort + (<usize>t << 2));
}
function addBytes(t: u32, delta: isize): void {
  const p = tableBytes + (<usize>t << 2);
  store<u32>(p, <u32>(<isize>load<u32>(p) + delta));
}

export function tableExists(t: u32): bool {
  return t < MAX_TABLES && dirOf(t) != 0;
}

/** A new empty table's index, or -1 when MAX_TABLES are in use, -12 on ENOMEM. */
export function tableCreate(): i32 {
  for (let t: u32 = 0; t < MAX_TABLES; t++) {
    if (dirOf(t) != 0) continue;
    const d = allocZeroed(DIR_BYTES);
    if (d == 0) return -12;
    const s = allocZeroed(DIR_BYTES);
    if (s == 0) {
      free(d, DIR_BYTES);
      return -12;
    }
    store<u32>(tableDir + (<usize>t << 2), <u32>d);
    store<u32>(tableShort + (<usize>t << 2), <u32>s);
    store<u32>(tableBytes + (<usize>t << 2), <u32>(2 * DIR_BYTES));
    return <i32>t;
  }
  return -1;
}

export function tableDestroy(t: u32): void {
  if (!tableExists(t)) return;
  const d = dirOf(t);
  for (let i: usize = 0; i < 65536; i++) {
    const e = load<u32>(d + (i << 2));
    if ((e & PTR) != 0) plyFreeTree(<usize>(e & ~PTR));
  }
  free(d, DIR_BYTES);
  free(shortOf(t), DIR_BYTES);
  bucketFreeTable(t);
  store<u32>(tableDir + (<usize>t << 2), 0);
  store<u32>(tableShort + (<usize>t << 2), 0);
  store<u32>(tableBytes + (<usize>t << 2), 0);
}

export function tableBytesOf(t: u32): u32 {
  return t < MAX_TABLES ? load<u32>(tableBytes + (<usize>t << 2)) : 0;
}

/** Longest-prefix match in table t: a result id, 0 = no route. */
// @ts-ignore: decorator
@inline export function lookupIn(dir: usize, a: u32): u32 {
  const d = load<u32>(dir + (<usize>(a >>> 16) << 2));
  if ((d & PTR) == 0) return d;
  const p = <usize>(d & ~PTR);
  const v = (a >>> 8) & 255;
  const c = plyChild(p, v);
  const r = c != 0 ? plyLeaf(c, a & 255) : plyLeaf(p, v);
  return r != INHERIT ? r : load<u32>(p);
}

// Level-0 word for slot i after its best short route changed to `result`.
function publishShort(dir: usize, i: usize, result: u32): void {
  const e = load<u32>(dir + (i << 2));
  if ((e & PTR) != 0) store<u32>(<usize>(e & ~PTR), result); // ply default
  else store<u32>(dir + (i << 2), result);
}

/** Adds or replaces the route addr/len (len ≤ 16) with `result` (rte_lpm add_depth_small). */
export function shortSet(t: u32, addr: u32, len: u32, result: u32): i32 {
  if (!tableExists(t) || len > 16 || result > RESULT_MASK) return -22;
  const dir = dirOf(t);
  const sh = shortOf(t);
  const first = <usize>(addr >>> 16);
  const span = <usize>1 << <usize>(16 - len);
  const tag = ((len + 1) << 24) | result;
  for (let i = first; i < first + span; i++) {
    if (load<u32>(sh + (i << 2)) >>> 24 <= len + 1) {
      store<u32>(sh + (i << 2), tag);
      publishShort(dir, i, result);
    }
  }
  return 0;
}

/**
 * Deletes the route addr/len (len ≤ 16): slots it owned go to the covering route replLen/replResult
 * (replLen 255 = none), as rte_lpm delete_depth_small does with the rule that covers the deleted one.
 */
export function shortDelete(t: u32, addr: u32, len: u32, replResult: u32, replLen: u32): i32 {
  if (!tableExists(t) || len > 16 || (replLen != 255 && replLen >= len) || replResult > RESULT_MASK) return -22;
  const dir = dirOf(t);
  const sh = shortOf(t);
  const first = <usize>(addr >>> 16);
  const span = <usize>1 << <usize>(16 - len);
  const tag = replLen == 255 ? 0 : ((replLen + 1) << 24) | replResult;
  const result = replLen == 255 ? 0 : replResult;
  for (let i = first; i < first + span; i++) {
    if (load<u32>(sh + (i << 2)) >>> 24 == len + 1) {
      store<u32>(sh + (i << 2), tag);
      publishShort(dir, i, result);
    }
  }
  return 0;
}

/** Room for n record indexes in `order`; false on ENOMEM. */
function orderFor(n: u32): bool {
  if (n <= orderCap) return true;
  const cap = max(n, orderCap * 2);
  const p = alloc(<usize>cap << 2);
  if (p == 0) return false;
  if (order != 0) free(order, <usize>orderCap << 2);
  order = p;
  orderCap = cap;
  return true;
}

/**
 * Sets the best result of route addr/len (len 17..32) of table t, 0 = no route; the /16 it falls in waits
 * for rebuild(). 0, -22 on bad input, -12 on ENOMEM (nothing changed).
 */
export function routePut(t: u32, addr: u32, len: u32, result: u32): i32 {
  if (!tableExists(t) || len < 17 || len > 32 || result > RESULT_MASK) return -22;
  if ((addr & ((<u32>1 << (32 - len)) - 1)) != 0) return -22;
  return bucketPut(t, addr, len, result);
}

function paint(vals: usize, deps: usize, lo: u32, span: u32, len: u32, result: u32): void {
  for (let s = lo; s < lo + span; s++) {
    if (<u32>load<u8>(deps + s) <= len) {
      store<u8>(deps + s, <u8>len);
      store<u32>(vals + (<usize>s << 2), result);
    }
  }
}

/**
 * Rebuilds /16 number `slot` of table t from its list (bucket.ts): every route of length 17..32 inside
 * it, each prefix once. Builds the new plies first, then swaps the level-0 word, then frees the old
 * ones, so a reader never sees a half-built /16. 0, -22 on bad input, -12 on ENOMEM (nothing changed).
 */
export function rebuild(t: u32, slot: u32): i32 {
  if (!tableExists(t) || slot > 0xffff) return -22;
  const b = bucketOf(t, slot);
  const n = bucketCount(b);
  if (!orderFor(n)) return -12;
  const dir = dirOf(t);
  const wordAt = dir + (<usize>slot << 2);
  const old = load<u32>(wordAt);
  const def = load<u32>(shortOf(t) + (<usize>slot << 2)) & RESULT_MASK;
  let fresh: u32 = def;
  let freshBytes: isize = 0;
  if (n > 0) {
    memory.fill(vals1, 0xff, 256 * 4); // INHERIT everywhere
    memory.fill(kidStart, 0, 257 * 4);
    memory.fill(dep1, 0, 256);
    memory.fill(kids1, 0, 256);
    // Paint /17../24; count the longer routes per /24 slot, and the slots that have any (nKids).
    let nLong: u32 = 0;
    let nKids: u32 = 0;
    for (let i: u32 = 0; i < n; i++) {
      const r = bucketRecord(b, i);
      const a = load<u32>(r);
      const len = load<u32>(r, 4);
      const res = load<u32>(r, 8);
      if (a >>> 16 != slot || len < 17 || len > 32 || res > RESULT_MASK) return -22;
      const s = (a >>> 8) & 255;
      if (len <= 24) paint(vals1, dep1, s, 1 << (24 - len), len, res);
      else {
        if (load<u8>(kids1 + s) == 0) {
          store<u8>(kids1 + s, 1);
          nKids++;
        }
        nLong++;
        const c = kidStart + (<usize>(s + 1) << 2);
        store<u32>(c, load<u32>(c) + 1);
      }
    }
    // Routes longer than /24 (a /16 of only /17../24 routes, the common case, skips this): counting sort by
    // /24 slot, kidStart[s]..kidStart[s+1] in order[].
    if (nLong > 0) {
      for (let s: usize = 1; s <= 256; s++) {
        store<u32>(kidStart + (s << 2), load<u32>(kidStart + (s << 2)) + load<u32>(kidStart + ((s - 1) << 2)));
      }
      // Fill each slot's range of order[] from its start.
      memory.copy(sortCursor, kidStart, 256 * 4);
      for (let i: u32 = 0; i < n; i++) {
        const r = bucketRecord(b, i);
        if (load<u32>(r, 4) <= 24) continue;
        const cur = sortCursor + (<usize>((load<u32>(r) >>> 8) & 255) << 2);
        const o = load<u32>(cur);
        store<u32>(order + (<usize>o << 2), i);
        store<u32>(cur, o + 1);
      }
    }
    // Level-2 plies, in slot order.
    let kidArr: usize = 0;
    if (nKids > 0) {
      kidArr = alloc(<usize>nKids << 2);
      if (kidArr == 0) return -12;
      freshBytes += <isize>blockSize(<usize>nKids << 2);
    }
    let k: u32 = 0;
    for (let s: u32 = 0; k < nKids; s++) {
      if (load<u8>(kids1 + s) == 0) continue;
      const inherit = v128.splat<u32>(load<u32>(vals1 + (<usize>s << 2)));
      for (let j: usize = 0; j < 256 * 4; j += 16) v128.store(vals2 + j, inherit);
      memory.fill(dep2, 24, 256);
      const from = load<u32>(kidStart + (<usize>s << 2));
      const to = load<u32>(kidStart + (<usize>(s + 1) << 2));
      for (let o = from; o < to; o++) {
        const r = bucketRecord(b, load<u32>(order + (<usize>o << 2)));
        const a = load<u32>(r);
        const len = load<u32>(r, 4);
        paint(vals2, dep2, a & 255, 1 << (32 - len), len, load<u32>(r, 8));
      }
      const c = plyBuild(vals2, 0, 0);
      if (c == 0) {
        for (let j: u32 = 0; j < k; j++) {
          const cj = <usize>load<u32>(kidArr + (<usize>j << 2));
          free(cj, plyBytes(cj));
        }
        free(kidArr, <usize>nKids << 2);
        return -12;
      }
      freshBytes += <isize>blockSize(plyBytes(c));
      store<u32>(kidArr + (<usize>k << 2), <u32>c);
      k++;
    }
    const p = plyBuild(vals1, nKids > 0 ? kids1 : 0, def); // no child flags to scan when there are none
    if (p == 0) {
      for (let j: u32 = 0; j < k; j++) {
        const cj = <usize>load<u32>(kidArr + (<usize>j << 2));
        free(cj, plyBytes(cj));
      }
      if (kidArr != 0) free(kidArr, <usize>nKids << 2);
      return -12;
    }
    store<u32>(p + 4, <u32>kidArr);
    freshBytes += <isize>blockSize(plyBytes(p));
    fresh = <u32>p | PTR;
  }
  store<u32>(wordAt, fresh);
  addBytes(t, freshBytes);
  if ((old & PTR) != 0) addBytes(t, -<isize>plyFreeTree(<usize>(old & ~PTR)));
  return 0;
}

