/**
 * Timing helpers shared by the in-process benchmarks (cache, ab): rates in the process's CPU time, so that
 * time slices the shared machine gives other tenants do not count, and the key orders they time.
 */

/** Keys per batch call in the cache and A/B benches. */
export const BATCH = 1024;

export const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1]!;

/** A random permutation of 0..n-1 (Fisher–Yates). */
export function shuffle(n: number, r: () => number): Uint32Array {
  const p = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = r() % (i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** Mean ns per key of `calls` batch calls of BATCH keys, by the process's CPU time (other tenants' time slices excluded). */
export function cpuNsPerKey(calls: number, run: (c: number) => void): number {
  const t0 = process.cpuUsage();
  for (let c = 0; c < calls; c++) run(c);
  const d = process.cpuUsage(t0);
  return ((d.user + d.system) * 1e3) / (calls * BATCH);
}
