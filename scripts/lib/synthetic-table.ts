/**
 * Deterministic generator of realistic synthetic IPv4 routing tables of any size, and the
 * deterministic rule that assigns next hops to a plain prefix list (synthetic or real).
 *
 * Model (fitted to a real BGP full view, bench/data/bgp-ipv4-2024-01.txt.gz):
 * - Prefix lengths follow LENGTH_SHARE. Counts per length are apportioned exactly from `size`
 *   (largest remainder), so the shares are exact rather than sampled; small tables therefore hold
 *   only the common lengths (a table of 100 has no /8).
 * - Lengths are placed shortest first. Each prefix that has a shorter prefix to go into becomes,
 *   with probability NEST_SHARE, a more-specific of a uniformly chosen earlier (shorter) prefix;
 *   otherwise it goes to a random spot not covered by any shorter prefix. So about half of all
 *   prefixes are more-specifics, as in the real table (50.7 %). That holds up to about 1.4M
 *   prefixes; in larger tables the shorter prefixes cover nearly all announced space, and over
 *   90 % of the prefixes end up nested.
 * - No prefix overlaps non-announced space (BOGONS); no duplicates; host bits are clear.
 * - Very large tables (beyond ~3.4M prefixes) would need more /16s (and later other lengths) than
 *   the announced space holds: a length is filled to at most FILL_LIMIT of its room and the rest
 *   spills over to the next longer length. Sizes up to MAX_SIZE are accepted.
 * - Output is sorted by address, then length.
 * Randomness is splitmix32 seeded with `seed`: the same (size, seed) always gives the same table.
 */

import { fmix32, assignNexthop } from "../../host/fib/nexthop-rule.ts";
export { fmix32 };
import { maskOf } from "../../host/fib/ipv4.ts";

/** Share of all prefixes (percent) per prefix length, from the January 2024 full view. */
const LENGTH_SHARE: ReadonlyArray<readonly [len: number, percent: number]> = [
  [8, 0.0018], [9, 0.0014], [10, 0.0042], [11, 0.0114], [12, 0.033], [13, 0.064],
  [14, 0.133], [15, 0.233], [16, 1.5], [17, 0.91], [18, 1.53], [19, 2.76], [20, 4.72],
  [21, 5.63], [22, 12.04], [23, 10.7], [24, 59.62],
  // /25–/31: 0.01 % in all, spread evenly.
  [25, 0.01 / 7], [26, 0.01 / 7], [27, 0.01 / 7], [28, 0.01 / 7], [29, 0.01 / 7],
  [30, 0.01 / 7], [31, 0.01 / 7],
  [32, 0.1],
];

/** Probability that a prefix is placed inside an earlier, shorter prefix. */
const NEST_SHARE = 0.5;

/** Space never announced: "this network", private, CGN, loopback, link-local, class D/E. */
const BOGONS: ReadonlyArray<readonly [addr: number, len: number]> = [
  [0x00000000, 8], // 0.0.0.0/8
  [0x0a000000, 8], // 10.0.0.0/8
  [0x64400000, 10], // 100.64.0.0/10
  [0x7f000000, 8], // 127.0.0.0/8
  [0xa9fe0000, 16], // 169.254.0.0/16
  [0xac100000, 12], // 172.16.0.0/12
  [0xc0a80000, 16], // 192.168.0.0/16
  [0xe0000000, 3], // 224.0.0.0/3 (multicast and reserved, up to 255.255.255.255)
];

/** Largest share of a length's room (non-bogon /len blocks) that is filled before spilling over. */
const FILL_LIMIT = 0.9;

/** Largest table generated (16 Mi prefixes): far beyond any real table, and JS Set limits. */
export const MAX_SIZE = 1 << 24;

const NEST_TRIES = 64; // parents tried before a prefix is placed top-level instead
const FREE_TRIES = 256; // random spots tried for one not covered by a shorter prefix
const ANY_TRIES = 100_000; // then: random spots tried for any free one, before giving up

export interface PrefixTable {
  addrs: Uint32Array; // network addresses, unsigned, host bits clear
  lens: Uint8Array; // prefix lengths
}

/** splitmix32: a 32-bit Weyl sequence through murmur3's finaliser. */
function splitmix32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    return fmix32(state);
  };
}

/** Exact per-length counts summing to `size` (largest-remainder apportionment of LENGTH_SHARE). */
function lengthCounts(size: number): number[] {
  const total = LENGTH_SHARE.reduce((sum, [, p]) => sum + p, 0);
  const counts = new Array<number>(33).fill(0);
  const rest: Array<[len: number, remainder: number]> = [];
  let given = 0;
  for (const [len, p] of LENGTH_SHARE) {
    const exact = (size * p) / total;
    counts[len] = Math.floor(exact);
    given += counts[len];
    rest.push([len, exact - counts[len]]);
  }
  rest.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  for (let i = 0; given < size; i++, given++) counts[rest[i % rest.length][0]]++;
  return counts;
}

function overlapsBogonSlow(addr: number, len: number): boolean {
  for (const [b, bl] of BOGONS) {
    if (((addr ^ b) & maskOf(Math.min(len, bl))) === 0) return true;
  }
  return false;
}

/** Per first octet: 0 = no bogon inside, 1 = all bogon, 2 = partly bogon (needs the full check). */
const BOGON_OCTET = Uint8Array.from({ length: 256 }, (_, octet) => {
  const base = octet << 24;
  if (!overlapsBogonSlow(base, 8)) return 0;
  const whole = BOGONS.some(([b, bl]) => bl <= 8 && ((base ^ b) & maskOf(bl)) === 0);
  return whole ? 1 : 2;
});

/** Whether the prefix addr/len (len >= 8) overlaps any bogon. */
function overlapsBogon(addr: number, len: number): boolean {
  const kind = BOGON_OCTET[addr >>> 24];
  return kind === 1 || (kind === 2 && overlapsBogonSlow(addr, len));
}

/** Number of /len blocks (len >= 8) that overlap no bogon. */
function room(len: number): number {
  let bad = 0;
  const seen = new Set<number>();
  for (const [b, bl] of BOGONS) {
    if (bl <= len) bad += 2 ** (len - bl);
    else seen.add((b & maskOf(len)) >>> 0);
  }
  return 2 ** len - bad - seen.size;
}

/** Caps each length at FILL_LIMIT of its room, moving the excess to the next longer length. */
function spillOver(counts: number[]): void {
  for (let len = 8; len <= 32; len++) {
    const limit = Math.floor(room(len) * FILL_LIMIT);
    if (counts[len] > limit) {
      if (len === 32) throw new RangeError("table too large for the announced IPv4 space");
      counts[len + 1] += counts[len] - limit;
      counts[len] = limit;
    }
  }
}

/**
 * Generates a table of exactly `size` distinct prefixes (see the file header for the model).
 * @throws RangeError for a bad size/seed, or when `size` is too large for the announced space
 */
export function generateTable(opts: { size: number; seed: number }): PrefixTable {
  const { size, seed } = opts;
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_SIZE) {
    throw new RangeError(`size must be an integer 0..${MAX_SIZE}, got ${size}`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const rand = splitmix32(seed);
  const counts = lengthCounts(size);
  spillOver(counts);
  const addrs = new Uint32Array(size);
  const lens = new Uint8Array(size);
  // taken: per length, which prefixes exist (bitmap for len <= 24, Set beyond).
  const takenBits: Array<Uint32Array | undefined> = [];
  const takenSet: Array<Set<number> | undefined> = [];
  // covered24: /24 blocks covered by a committed (strictly shorter) prefix of length <= 24.
  const covered24 = new Uint32Array(1 << 19);
  let n = 0;

  const isTaken = (a: number, len: number): boolean => {
    if (len <= 24) {
      const i = a >>> (32 - len);
      return (takenBits[len]![i >>> 5] & (1 << (i & 31))) !== 0;
    }
    return takenSet[len]!.has(a);
  };
  const isCovered = (a: number, len: number): boolean => {
    const b = a >>> 8;
    if ((covered24[b >>> 5] & (1 << (b & 31))) !== 0) return true;
    for (let l = 25; l < len; l++) if (takenSet[l]!.has((a & maskOf(l)) >>> 0)) return true;
    return false;
  };
  const place = (a: number, len: number): void => {
    if (len <= 24) {
      const i = a >>> (32 - len);
      takenBits[len]![i >>> 5] |= 1 << (i & 31);
    } else {
      takenSet[len]!.add(a);
    }
    addrs[n] = a;
    lens[n] = len;
    n++;
  };

  for (let len = 1; len <= 32; len++) {
    if (len <= 24) takenBits[len] = new Uint32Array(Math.max(1, (2 ** len) >>> 5));
    else takenSet[len] = new Set();
    const parents = n; // indices [0, parents) hold the strictly shorter prefixes
    const mask = maskOf(len);
    // Cleared once a search for an uncovered spot fails: the shorter prefixes cover (nearly) all.
    let freeTries = FREE_TRIES;
    for (let k = 0; k < counts[len]; k++) {
      let done = false;
      if (parents > 0 && rand() / 2 ** 32 < NEST_SHARE) {
        for (let t = 0; t < NEST_TRIES && !done; t++) {
          const p = rand() % parents;
          const bits = len - lens[p]; // 1..24: the child's bits below the parent's length
          const a = (addrs[p] | ((rand() >>> (32 - bits)) << (32 - len))) >>> 0;
          if (!isTaken(a, len)) {
            place(a, len);
            done = true;
          }
        }
      }
      for (let t = 0; t < freeTries + ANY_TRIES && !done; t++) {
        const a = (rand() & mask) >>> 0;
        if (overlapsBogon(a, len) || isTaken(a, len)) continue;
        if (t < freeTries && isCovered(a, len)) continue;
        if (t >= freeTries) freeTries = 0;
        place(a, len);
        done = true;
      }
      if (!done) {
        throw new RangeError(`size ${size} is too large: no room left for another /${len} in announced IPv4 space`);
      }
    }
    if (len <= 24) {
      // Commit this length's coverage, so that longer prefixes see it as "shorter".
      for (let i = parents; i < n; i++) fillBits(covered24, addrs[i] >>> 8, 2 ** (24 - len));
    }
  }

  return sortPrefixes(addrs, lens);
}

/** Sets bits [from, from + count) of a bitmap. */
function fillBits(bits: Uint32Array, from: number, count: number): void {
  let i = from;
  const end = from + count;
  while (i < end && (i & 31) !== 0) {
    bits[i >>> 5] |= 1 << (i & 31);
    i++;
  }
  while (i + 32 <= end) {
    bits[i >>> 5] = -1;
    i += 32;
  }
  while (i < end) {
    bits[i >>> 5] |= 1 << (i & 31);
    i++;
  }
}

/** Sorts by address, then length (via one float key: addr * 64 + len). */
function sortPrefixes(addrs: Uint32Array, lens: Uint8Array): PrefixTable {
  const keys = new Float64Array(addrs.length);
  for (let i = 0; i < keys.length; i++) keys[i] = addrs[i] * 64 + lens[i];
  keys.sort();
  const outAddrs = new Uint32Array(keys.length);
  const outLens = new Uint8Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    outAddrs[i] = Math.floor(keys[i] / 64);
    outLens[i] = keys[i] % 64;
  }
  return { addrs: outAddrs, lens: outLens };
}

/**
 * Next hops for a plain prefix list, deterministically:
 *
 *   nexthop index = fmix32(addr ^ (len << 24)) % poolSize      (murmur3 fmix32, unsigned)
 *
 * The rule depends only on the prefix, not on its position or the rest of the list, so a loader
 * and a reference model given the same list agree, and benchmarks can state it in their output.
 * @param poolSize number of next hops, 1..65536
 */
export function assignNexthops(addrs: Uint32Array, lens: Uint8Array, poolSize: number): Uint16Array {
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 65536) {
    throw new RangeError(`poolSize must be an integer 1..65536, got ${poolSize}`);
  }
  const out = new Uint16Array(addrs.length);
  for (let i = 0; i < addrs.length; i++) out[i] = assignNexthop(addrs[i], lens[i], poolSize);
  return out;
}
