// Destination key sets for lookup benchmarks: uniform random 32-bit addresses (DPDK, DXR, BART), and
// addresses inside announced space (FreeBSD's run_lps_rnd_ann): a random prefix of the table, then a
// random address inside it. xorshift32, seeded, so every run sees the same keys.
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
}

export function uniformKeys(n: number, seed: number): Uint32Array {
  const r = xorshift32(seed);
  const k = new Uint32Array(n);
  for (let i = 0; i < n; i++) k[i] = r();
  return k;
}

export function announcedKeys(n: number, seed: number, addrs: Uint32Array, lens: Uint8Array): Uint32Array {
  const r = xorshift32(seed);
  const k = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const j = r() % addrs.length;
    const host = lens[j]! === 32 ? 0 : r() & ((2 ** (32 - lens[j]!) - 1) >>> 0);
    k[i] = (addrs[j]! | host) >>> 0;
  }
  return k;
}
