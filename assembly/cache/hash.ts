// hash.ts — the bucket of a key: jhash_3words(daddr, saddr, idx, secret + genid) & mask (§1.3,
// 2.6.25–3.5 form). Bob Jenkins' lookup3 final mix, as Linux's jhash.h; keyed by a secret the host
// draws at start, and mixed with the generation so every invalidation rehashes.

// @ts-ignore: decorator
@inline function rol32(x: u32, k: u32): u32 {
  return (x << k) | (x >>> (32 - k));
}

// @ts-ignore: decorator
@inline export function jhash3(a0: u32, b0: u32, c0: u32, initval: u32): u32 {
  const iv = initval + 0xdeadbeef + (3 << 2);
  let a = a0 + iv;
  let b = b0 + iv;
  let c = c0 + iv;
  c ^= b; c -= rol32(b, 14);
  a ^= c; a -= rol32(c, 11);
  b ^= a; b -= rol32(a, 25);
  c ^= b; c -= rol32(b, 16);
  a ^= c; a -= rol32(c, 4);
  b ^= a; b -= rol32(a, 14);
  c ^= b; c -= rol32(b, 24);
  return c;
}
