// Tests of scripts/lib/synthetic-table.ts: determinism, exact size, validity, the length
// distribution and nesting of generated tables, and the next-hop assignment rule.
import { describe, it, expect } from "vitest";
import { assignNexthops, fmix32, generateTable, MAX_SIZE } from "../scripts/lib/synthetic-table.ts";
import { maskOf } from "../host/fib/ipv4.ts";

function sameTable(a: ReturnType<typeof generateTable>, b: ReturnType<typeof generateTable>): boolean {
  if (a.addrs.length !== b.addrs.length) return false;
  for (let i = 0; i < a.addrs.length; i++) if (a.addrs[i] !== b.addrs[i] || a.lens[i] !== b.lens[i]) return false;
  return true;
}

/** Share of prefixes covered by a strictly shorter prefix of the same table (plain Set check). */
function moreSpecificShare(addrs: Uint32Array, lens: Uint8Array): number {
  const byLen = Array.from({ length: 33 }, () => new Set<number>());
  for (let i = 0; i < addrs.length; i++) byLen[lens[i]].add(addrs[i]);
  let nested = 0;
  for (let i = 0; i < addrs.length; i++) {
    for (let l = 0; l < lens[i]; l++) {
      if (byLen[l].has((addrs[i] & maskOf(l)) >>> 0)) {
        nested++;
        break;
      }
    }
  }
  return nested / addrs.length;
}

const BOGONS: Array<[number, number]> = [
  [0x00000000, 8], [0x0a000000, 8], [0x64400000, 10], [0x7f000000, 8],
  [0xa9fe0000, 16], [0xac100000, 12], [0xc0a80000, 16], [0xe0000000, 3],
];

describe("generateTable", () => {
  const big = generateTable({ size: 200_000, seed: 42 });

  it("is deterministic by seed", () => {
    expect(sameTable(generateTable({ size: 5000, seed: 1 }), generateTable({ size: 5000, seed: 1 }))).toBe(true);
    expect(sameTable(generateTable({ size: 5000, seed: 1 }), generateTable({ size: 5000, seed: 2 }))).toBe(false);
    expect(sameTable(generateTable({ size: 200_000, seed: 42 }), big)).toBe(true);
  });

  it.each([0, 1, 2, 17, 1000, 12_345])("returns exactly %i prefixes", (size) => {
    const t = generateTable({ size, seed: 7 });
    expect(t.addrs.length).toBe(size);
    expect(t.lens.length).toBe(size);
  });

  it("is sorted, duplicate-free, host-bits-clear and outside bogon space", () => {
    const { addrs, lens } = big;
    let ok = true;
    for (let i = 0; i < addrs.length && ok; i++) {
      const a = addrs[i];
      const len = lens[i];
      if (len < 8 || len > 32 || ((a & ~maskOf(len)) >>> 0) !== 0) ok = false;
      if (i > 0) {
        const pa = addrs[i - 1];
        if (pa > a || (pa === a && lens[i - 1] >= len)) ok = false; // strictly increasing => no duplicates
      }
      for (const [b, bl] of BOGONS) if (((a ^ b) & maskOf(Math.min(len, bl))) === 0) ok = false;
      if (!ok) throw new Error(`bad prefix #${i}: ${a}/${len}`);
    }
    expect(ok).toBe(true);
    const keys = new Set<number>();
    for (let i = 0; i < addrs.length; i++) keys.add(addrs[i] * 64 + lens[i]);
    expect(keys.size).toBe(addrs.length);
  });

  it("follows the length distribution of the real table", () => {
    const count = (len: number) => big.lens.filter((l) => l === len).length;
    const share = (len: number) => (100 * count(len)) / big.lens.length;
    expect(share(24)).toBeGreaterThan(59.6 - 2);
    expect(share(24)).toBeLessThan(59.6 + 2);
    expect(share(22)).toBeCloseTo(12.04, 1);
    expect(share(16)).toBeCloseTo(1.5, 1);
    expect(count(32)).toBe(200);
    expect(count(8)).toBeGreaterThanOrEqual(3);
  });

  it("makes about half of the prefixes more-specifics of shorter ones", () => {
    const s = moreSpecificShare(big.addrs, big.lens);
    expect(s).toBeGreaterThan(0.4);
    expect(s).toBeLessThan(0.6);
  });

  it("rejects bad arguments", () => {
    expect(() => generateTable({ size: -1, seed: 1 })).toThrow(RangeError);
    expect(() => generateTable({ size: 1.5, seed: 1 })).toThrow(RangeError);
    expect(() => generateTable({ size: MAX_SIZE + 1, seed: 1 })).toThrow(RangeError);
    expect(() => generateTable({ size: 10, seed: Number.NaN })).toThrow(RangeError);
  });
});

describe("assignNexthops", () => {
  it("follows fmix32(addr ^ (len << 24)) % poolSize and stays in range", () => {
    const { addrs, lens } = generateTable({ size: 20_000, seed: 3 });
    for (const pool of [1, 7, 256, 65536]) {
      const nh = assignNexthops(addrs, lens, pool);
      expect(nh.length).toBe(addrs.length);
      expect(Math.max(...nh)).toBeLessThan(pool);
    }
    const nh = assignNexthops(addrs, lens, 300);
    for (let i = 0; i < 100; i++) expect(nh[i]).toBe(fmix32(addrs[i] ^ (lens[i] << 24)) % 300);
    // Uses the whole pool, roughly evenly.
    const used = new Set(nh);
    expect(used.size).toBe(300);
  });

  it("depends on the length, not only the address", () => {
    const nh = assignNexthops(Uint32Array.of(0x0a000000, 0x0a000000), Uint8Array.of(8, 16), 65536);
    expect(nh[0]).not.toBe(nh[1]);
  });

  it("matches murmur3 fmix32 reference values", () => {
    expect(fmix32(0)).toBe(0);
    expect(fmix32(1)).toBe(0x514e28b7);
  });

  it("rejects a bad pool size", () => {
    const a = Uint32Array.of(0);
    const l = Uint8Array.of(0);
    expect(() => assignNexthops(a, l, 0)).toThrow(RangeError);
    expect(() => assignNexthops(a, l, 65537)).toThrow(RangeError);
    expect(() => assignNexthops(a, l, 2.5)).toThrow(RangeError);
  });
});
