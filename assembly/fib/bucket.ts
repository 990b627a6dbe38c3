// bucket.ts — each /16's best routes longer than /16, as the (addr, len, result) records a rebuild of that
// /16 reads (table.ts). The host's control plane says which prefix's best result changed (fib_bucket_put);
// the records stay here, so an update neither copies a /16's route list across the ABI nor chases the
// host's objects for it.
//
// Per table (index t < MAX_BUCKET_TABLES), in a static array: lists[t] → u32[65536], made on first use.
// ┌──────────────────────┬──────────┬─────────────────────────────────────────────────────────────┐
// │ lists[t] u32[65536]  │ 256 KiB  │ by address bits 31..16: that /16's record block, 0 = none   │
// │ bytes[t]  u32        │          │ bytes of the array and its blocks (arena block sizes)       │
// └──────────────────────┴──────────┴─────────────────────────────────────────────────────────────┘
// Record block, 8 + 12·cap bytes: +0 u32 n, +4 u32 cap, then n records of 12 bytes in no order:
// u32 addr (a /17../32 inside the /16, host bits clear), u32 len (17..32), u32 result (≠ 0). A prefix
// holds at most one record; removing one moves the last record into its place.
import { alloc, allocZeroed, free, blockSize } from "../util/arena";

/** Routing tables at most (table.ts's MAX_TABLES is this). */
export const MAX_BUCKET_TABLES: u32 = 1024;
export const BUCKET_REC: u32 = 12;
const LISTS_BYTES: usize = 65536 * 4;

const lists: usize = memory.data(<i32>MAX_BUCKET_TABLES * 4);
const bytes: usize = memory.data(<i32>MAX_BUCKET_TABLES * 4);

// @ts-ignore: decorator
@inline function blockBytes(cap: u32): usize {
  return 8 + <usize>cap * BUCKET_REC;
}

function addBytes(t: u32, delta: isize): void {
  const p = bytes + (<usize>t << 2);
  store<u32>(p, <u32>(<isize>load<u32>(p) + delta));
}

/** The record block of /16 number `slot` of table t, or 0 when it holds no route longer than /16. */
export function bucketOf(t: u32, slot: u32): usize {
  const l = <usize>load<u32>(lists + (<usize>t << 2));
  return l == 0 ? 0 : <usize>load<u32>(l + (<usize>slot << 2));
}

/** Records in a block (0 for none). */
// @ts-ignore: decorator
@inline export function bucketCount(b: usize): u32 {
  return b == 0 ? 0 : load<u32>(b);
}

/** Address of record i of a block. */
// @ts-ignore: decorator
@inline export function bucketRecord(b: usize, i: u32): usize {
  return b + 8 + <usize>i * BUCKET_REC;
}

/**
 * Sets the best result of route addr/len (len 17..32) in table t's lists: result 0 removes it. The caller
 * has checked t, len and that addr has no host bits. 0, or -12 on ENOMEM (nothing changed).
 */
export function bucketPut(t: u32, addr: u32, len: u32, result: u32): i32 {
  let l = <usize>load<u32>(lists + (<usize>t << 2));
  if (l == 0) {
    if (result == 0) return 0;
    l = allocZeroed(LISTS_BYTES);
    if (l == 0) return -12;
    store<u32>(lists + (<usize>t << 2), <u32>l);
    addBytes(t, <isize>LISTS_BYTES);
  }
  const at = l + (<usize>(addr >>> 16) << 2);
  let b = <usize>load<u32>(at);
  const n = bucketCount(b);
  for (let i: u32 = 0; i < n; i++) {
    const r = bucketRecord(b, i);
    if (load<u32>(r) != addr || load<u32>(r, 4) != len) continue;
    if (result != 0) {
      store<u32>(r, result, 8);
      return 0;
    }
    if (n == 1) {
      const cap = load<u32>(b, 4);
      free(b, blockBytes(cap));
      addBytes(t, -<isize>blockSize(blockBytes(cap)));
      store<u32>(at, 0);
      return 0;
    }
    if (i != n - 1) memory.copy(r, bucketRecord(b, n - 1), BUCKET_REC);
    store<u32>(b, n - 1);
    return 0;
  }
  if (result == 0) return 0;
  const cap: u32 = b == 0 ? 0 : load<u32>(b, 4);
  if (n == cap) {
    const grown: u32 = cap < 4 ? 4 : cap * 2;
    const nb = alloc(blockBytes(grown));
    if (nb == 0) return -12;
    if (b != 0) {
      memory.copy(nb + 8, b + 8, <usize>n * BUCKET_REC);
      free(b, blockBytes(cap));
      addBytes(t, -<isize>blockSize(blockBytes(cap)));
    }
    addBytes(t, <isize>blockSize(blockBytes(grown)));
    store<u32>(nb, n);
    store<u32>(nb, grown, 4);
    store<u32>(at, <u32>nb);
    b = nb;
  }
  const r = bucketRecord(b, n);
  store<u32>(r, addr);
  store<u32>(r, len, 4);
  store<u32>(r, result, 8);
  store<u32>(b, n + 1);
  return 0;
}

/** Frees every list of table t. */
export function bucketFreeTable(t: u32): void {
  const l = <usize>load<u32>(lists + (<usize>t << 2));
  if (l == 0) return;
  for (let s: usize = 0; s < 65536; s++) {
    const b = <usize>load<u32>(l + (s << 2));
    if (b != 0) free(b, blockBytes(load<u32>(b, 4)));
  }
  free(l, LISTS_BYTES);
  store<u32>(lists + (<usize>t << 2), 0);
  store<u32>(bytes + (<usize>t << 2), 0);
}

/** Bytes table t's lists hold (the array and its blocks). */
export function bucketBytesOf(t: u32): u32 {
  return t < MAX_BUCKET_TABLES ? load<u32>(bytes + (<usize>t << 2)) : 0;
}

/** Bytes the lists of table t should hold, recounted from the blocks (the audit of check.ts). */
export function bucketBytesCounted(t: u32): usize {
  const l = <usize>load<u32>(lists + (<usize>t << 2));
  if (l == 0) return 0;
  let sum: usize = LISTS_BYTES;
  for (let s: usize = 0; s < 65536; s++) {
    const b = <usize>load<u32>(l + (s << 2));
    if (b != 0) sum += blockSize(blockBytes(load<u32>(b, 4)));
  }
  return sum;
}
