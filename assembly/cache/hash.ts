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

// @ts-ignore: decorator
@inline function rol32x4(x: v128, k: i32): v128 {
  return v128.or(i32x4.shl(x, k), i32x4.shr_u(x, 32 - k));
}

/**
 * jhash3 of four keys at once, one per i32x4 lane: lane j of the result is jhash3(a[j], b[j], c[j], initval).
 * The same steps as jhash3, so each lane equals the scalar hash (test/cache.test.ts "hits over long
 * chains" puts the same keys through a batch and one at a time, which hashes them in scalar code).
 */
// @ts-ignore: decorator
@inline export function jhash3x4(a0: v128, b0: v128, c0: v128, initval: u32): v128 {
  const iv = i32x4.splat(initval + 0xdeadbeef + (3 << 2));
  let a = i32x4.add(a0, iv);
  let b = i32x4.add(b0, iv);
  let c = i32x4.add(c0, iv);
  c = v128.xor(c, b); c = i32x4.sub(c, rol32x4(b, 14));
  a = v128.xor(a, c); a = i32x4.sub(a, rol32x4(c, 11));
  b = v128.xor(b, a); b = i32x4.sub(b, rol32x4(a, 25));
  c = v128.xor(c, b); c = i32x4.sub(c, rol32x4(b, 16));
  a = v128.xor(a, c); a = i32x4.sub(a, rol32x4(c, 4));
  b = v128.xor(b, a); b = i32x4.sub(b, rol32x4(a, 14));
  c = v128.xor(c, b); c = i32x4.sub(c, rol32x4(b, 24));
  return c;
}
