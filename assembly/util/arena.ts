// arena.ts — the core's only memory manager: blocks carved from linear memory above the static data.
//
// The core runs with the AssemblyScript "stub" runtime and never uses managed objects, so every
// structure (FIB plies, per-table arrays, result records, scratch) comes from here. Small blocks are
// recycled through exact-size free lists, one per 8-byte size class (the way DPDK recycles tbl8 groups);
// large blocks (> SMALL_LIMIT) go on one first-fit list. The caller states the size when freeing.
//
// Memory layout
// ┌──────────────────────────┬──────────────────────────────────────────────────────────────┐
// │ 0 .. 65535               │ reserved below memoryBase: host-visible header (index.ts)    │
// │ 65536 .. __heap_base     │ static data, incl. smallHeads[SMALL_LIMIT/8 + 1] (u32 each)  │
// │ __heap_base .. top       │ blocks, 8-byte aligned; a free block holds its list links:   │
// │                          │   small: +0 u32 next                                         │
// │                          │   large: +0 u32 next, +4 u32 size                            │
// │ top .. memory.size()     │ not yet handed out; grows with memory.grow                   │
// └──────────────────────────┴──────────────────────────────────────────────────────────────┘
// alloc() returns 0 when memory cannot grow: every caller reports that as ENOMEM, never traps.

// @ts-ignore: decorator
@inline export const SMALL_LIMIT: usize = 16384;
// @ts-ignore: decorator
@inline const ALIGN_MASK: usize = 7;

const smallHeads: usize = memory.data(<i32>((SMALL_LIMIT >> 3) + 1) * 4);
let largeHead: usize = 0;
let top: usize = (__heap_base + ALIGN_MASK) & ~ALIGN_MASK;
let liveBytes: usize = 0;

/** Rounds a request up to the 8-byte granule blocks are made of. */
// @ts-ignore: decorator
@inline export function blockSize(size: usize): usize {
  return (size + ALIGN_MASK) & ~ALIGN_MASK;
}

function grow(upTo: usize): bool {
  const have = (<usize>memory.size()) << 16;
  if (upTo <= have) return true;
  const need = <i32>((upTo - have + 0xffff) >> 16);
  const slack = <i32>(have >> 19); // + 1/8 of current size, so growth is amortised
  if (memory.grow(need + slack) >= 0) return true;
  return memory.grow(need) >= 0;
}

/** A block of at least `size` bytes (contents undefined), or 0 when memory is exhausted. */
export function alloc(size: usize): usize {
  const sz = blockSize(size == 0 ? 8 : size);
  let p: usize = 0;
  if (sz <= SMALL_LIMIT) {
    const head = smallHeads + ((sz >> 3) << 2);
    p = load<u32>(head);
    if (p != 0) store<u32>(head, load<u32>(p));
  } else {
    let prev: usize = 0;
    let cur = largeHead;
    while (cur != 0) {
      const csz = <usize>load<u32>(cur, 4);
      if (csz == sz) {
        if (prev == 0) largeHead = load<u32>(cur);
        else store<u32>(prev, load<u32>(cur));
        p = cur;
        break;
      }
      prev = cur;
      cur = load<u32>(cur);
    }
  }
  if (p == 0) {
    if (!grow(top + sz)) return 0;
    p = top;
    top += sz;
  }
  liveBytes += sz;
  return p;
}

/** A zero-filled block, or 0 when memory is exhausted. */
export function allocZeroed(size: usize): usize {
  const p = alloc(size);
  if (p != 0) memory.fill(p, 0, blockSize(size == 0 ? 8 : size));
  return p;
}

/** Returns a block obtained from alloc(size) with the same size. */
export function free(p: usize, size: usize): void {
  if (p == 0) return;
  const sz = blockSize(size == 0 ? 8 : size);
  if (sz <= SMALL_LIMIT) {
    const head = smallHeads + ((sz >> 3) << 2);
    store<u32>(p, load<u32>(head));
    store<u32>(head, <u32>p);
  } else {
    store<u32>(p, <u32>largeHead);
    store<u32>(p, <u32>sz, 4);
    largeHead = p;
  }
  liveBytes -= sz;
}

/**
 * The allocator's top: every address from __heap_base up to here has been handed out at some time, none
 * above it ever. The checked build (scripts/bounds-instrument.mjs) reads the global behind this, through
 * the mem_top export, as the upper bound of legal memory accesses.
 */
export function heapTop(): usize {
  return top;
}

/** Bytes in blocks currently handed out. */
export function bytesInUse(): usize {
  return liveBytes;
}

/** Bytes of linear memory the arena has claimed (handed out + free lists). */
export function bytesClaimed(): usize {
  return top - ((__heap_base + ALIGN_MASK) & ~ALIGN_MASK);
}
