// mix.ts — fmix32, MurmurHash3's 32-bit finalizer: every input bit reaches every output bit. The
// multipath flow hash (fib/nexthop.ts) and the neighbour table's bucket hash (dp/neigh.ts) use it.
// No memory of its own.

/** MurmurHash3's fmix32. */
// @ts-ignore: decorator
@inline export function fmix32(h: u32): u32 {
  h ^= h >>> 16;
  h *= 0x85ebca6b;
  h ^= h >>> 13;
  h *= 0xc2b2ae35;
  h ^= h >>> 16;
  return h;
}
