/**
 * The route cache's hash size at boot (spec §1.1, §9.1): ip_rt_init's alloc_large_system_hash, with
 * `rhash_entries=` or without it. host/cache/sysctl.ts (RouteSysctls) sizes the table with these; the
 * spec's worked examples are checked in test/sysctl.test.ts.
 */

/** Page size used by the sizing rules (§9.1 assumes 4 KiB pages). */
export const PAGE_BYTES = 4096;
const PAGE_SHIFT = 12;
/** The cap ip_rt_init passes to alloc_large_system_hash when rhash_entries is not given (§1.1). */
export const DEFAULT_HASH_LIMIT = 512 * 1024;

export interface SizingOptions {
  /**
   * Low-memory bytes (`nr_kernel_pages` × page). Default: all of totalRamBytes, as on a 64-bit host.
   * A 32-bit host with 1 GiB has about 896 MiB of it (§1.1 worked example).
   */
  lowMemBytes?: number;
  /** sizeof(struct rt_hash_bucket): 8 on 64-bit hosts (default), 4 on 32-bit ones (§1.1). */
  bucketBytes?: number;
}

function checkBytes(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`${what} must be a positive integer, got ${n}`);
}

/** `scale` of ip_rt_init: 15 if total RAM ≥ 128 Ki pages (512 MiB), else 17 (§1.1). */
export function hashScale(totalRamBytes: number): 15 | 17 {
  checkBytes("totalRamBytes", totalRamBytes);
  return Math.floor(totalRamBytes / PAGE_BYTES) >= 128 * 1024 ? 15 : 17;
}

function roundUpPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function floorPow2(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

/**
 * alloc_large_system_hash() as §1.1 describes it (MM), minus the allocation-failure halving of step 4:
 * the number of buckets the route cache gets.
 */
function allocLargeSystemHash(numentries: number, limit: number, totalRamBytes: number, opts: SizingOptions): number {
  checkBytes("totalRamBytes", totalRamBytes);
  const lowMem = opts.lowMemBytes ?? totalRamBytes;
  checkBytes("lowMemBytes", lowMem);
  const bucketBytes = opts.bucketBytes ?? 8;
  checkBytes("bucketBytes", bucketBytes);
  const scale = hashScale(totalRamBytes);
  let n = numentries;
  if (n === 0) {
    // Step 1: low-memory pages rounded up to a whole MiB, one bucket per 2^scale bytes, at least a page.
    const pagesPerMiB = 1 << (20 - PAGE_SHIFT);
    const pages = Math.ceil(Math.floor(lowMem / PAGE_BYTES) / pagesPerMiB) * pagesPerMiB;
    n = Math.floor(pages / 2 ** (scale - PAGE_SHIFT));
    if (n * bucketBytes < PAGE_BYTES) n = PAGE_BYTES / bucketBytes;
  }
  // Step 2: a power of two.
  n = roundUpPow2(n);
  // Step 3: clamp to the limit, or without one to (total memory / 16) / bucket size; never above 2^31.
  let max = limit !== 0 ? limit : Math.floor((Math.floor(totalRamBytes / PAGE_BYTES) * PAGE_BYTES) / 16 / bucketBytes);
  max = Math.min(max, 0x80000000);
  if (n > max) n = max;
  // The table is bucketsize << ilog2(n): a clamp to a non-power-of-two max rounds down.
  return floorPow2(Math.max(n, 1));
}

/** Buckets of a kernel booted without `rhash_entries=` on a host with this much RAM (§1.1, §9.1). */
export function defaultBuckets(totalRamBytes: number, opts: SizingOptions = {}): number {
  return allocLargeSystemHash(0, DEFAULT_HASH_LIMIT, totalRamBytes, opts);
}

/**
 * Buckets for `rhash_entries=N` (0 = compute, as the kernel's default). A given N is rounded up to a
 * power of two and is not subject to the 512 Ki cap, only to (RAM / 16) / bucket size (§1.1 step 3).
 */
export function hashBuckets(rhashEntries: number, totalRamBytes: number, opts: SizingOptions = {}): number {
  if (!Number.isSafeInteger(rhashEntries) || rhashEntries < 0) {
    throw new RangeError(`rhashEntries must be a non-negative integer, got ${rhashEntries}`);
  }
  return rhashEntries === 0
    ? defaultBuckets(totalRamBytes, opts)
    : allocLargeSystemHash(rhashEntries, 0, totalRamBytes, opts);
}
