/**
 * The stated rule for giving next hops to a plain CIDR list (a BGP table dump has none):
 * prefix addr/len gets hop number fmix32(addr ^ (len << 24)) mod poolSize — murmur3's fmix32, so the
 * choice is deterministic, spread evenly, and unrelated to table order. The benchmark prints this rule.
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export const NEXTHOP_RULE = "hop = fmix32(addr ^ (len << 24)) mod pool (murmur3 fmix32)";

export function assignNexthop(addr: number, len: number, poolSize: number): number {
  return fmix32((addr ^ (len << 24)) >>> 0) % poolSize;
}
