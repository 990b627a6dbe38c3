// jhash_3words as the core documents it (assembly/cache/hash.ts), written out plainly: lets a test
// play the attacker who knows the secret and the generation, and aim keys at one bucket.
const rol = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

export function jhash3(a0: number, b0: number, c0: number, initval: number): number {
  const iv = (initval + 0xdeadbeef + 12) >>> 0;
  let a = (a0 + iv) >>> 0, b = (b0 + iv) >>> 0, c = (c0 + iv) >>> 0;
  c = ((c ^ b) - rol(b, 14)) >>> 0;
  a = ((a ^ c) - rol(c, 11)) >>> 0;
  b = ((b ^ a) - rol(a, 25)) >>> 0;
  c = ((c ^ b) - rol(b, 16)) >>> 0;
  a = ((a ^ c) - rol(c, 4)) >>> 0;
  b = ((b ^ a) - rol(a, 14)) >>> 0;
  c = ((c ^ b) - rol(b, 24)) >>> 0;
  return c;
}
