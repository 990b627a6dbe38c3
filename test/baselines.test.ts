// Differential tests of the benchmark baselines (JS DIR-24-8, npm peer adapters)
// against the naive reference LPM model, on seeded random and adversarial inputs.
import { describe, expect, it } from 'vitest';
import { JsDir248, MAX_VALUE } from '../bench/baselines/js-dir248.ts';
import { createNpmPeers } from '../bench/baselines/npm-peers.ts';
import { RefLpm, maskOf } from './ref/lpm-model.ts';
import { prng } from "./ref/prng.ts";


interface Table {
  addrs: Uint32Array;
  lens: Uint8Array;
  values: Uint32Array;
}

interface GenOpts {
  /** Allow /0 routes. */
  allowDefault: boolean;
  /** Fraction of routes drawn inside one /16 (dense tbl8 groups). */
  clustered: number;
}

/** Random table: all lengths, nested prefixes, a cluster, a few exact duplicates. */
function genTable(rand: () => number, n: number, opts: GenOpts): Table {
  const addrs = new Uint32Array(n);
  const lens = new Uint8Array(n);
  const values = new Uint32Array(n);
  const cluster = rand() & 0xffff0000;
  for (let i = 0; i < n; i++) {
    const r = (rand() % 1000) / 1000;
    let addr: number;
    let len: number;
    if (i > 0 && r < 0.05) {
      const j = rand() % i; // duplicate prefix, new value: later must win
      addr = addrs[j];
      len = lens[j];
    } else if (i > 0 && r < 0.45) {
      const j = rand() % i; // nested: a prefix inside an earlier one
      len = lens[j] + (rand() % (33 - lens[j]));
      addr = ((addrs[j] & maskOf(lens[j])) | (rand() & ~maskOf(lens[j]))) >>> 0;
    } else if (r < 0.45 + 0.55 * opts.clustered) {
      len = 16 + (rand() % 17);
      addr = (cluster | (rand() & 0xffff)) >>> 0;
    } else {
      len = rand() % 33;
      addr = rand();
    }
    if (len === 0 && !opts.allowDefault) len = 1 + (rand() % 32);
    // a quarter of routes keep host bits set: builders must ignore them
    addrs[i] = rand() % 4 === 0 ? addr : (addr & maskOf(len)) >>> 0;
    lens[i] = len;
    values[i] = rand() % 16 === 0 ? MAX_VALUE - (rand() % 3) : 1 + (rand() % 100_000);
  }
  return { addrs, lens, values };
}

function refOf(t: Table): RefLpm<number> {
  const ref = new RefLpm<number>();
  for (let i = 0; i < t.addrs.length; i++) ref.set(t.addrs[i], t.lens[i], t.values[i]);
  return ref;
}

/** Random keys plus each prefix's first and last address and their neighbours. */
function genKeys(rand: () => number, t: Table, nRandom: number, maxEdgeRoutes = Infinity): Uint32Array {
  const keys: number[] = [0, 0xffffffff];
  const m = Math.min(t.addrs.length, maxEdgeRoutes);
  for (let i = 0; i < m; i++) {
    const mask = maskOf(t.lens[i]);
    const first = (t.addrs[i] & mask) >>> 0;
    const last = (first | ~mask) >>> 0;
    keys.push(first, last, (first - 1) >>> 0, (last + 1) >>> 0);
  }
  for (let i = 0; i < nRandom; i++) keys.push(rand());
  return Uint32Array.from(keys);
}

function hex(a: number): string {
  return '0x' + a.toString(16).padStart(8, '0');
}

/** Compare a lookup function against the reference; report the first few mismatches. */
function diff(keys: Uint32Array, expected: (a: number) => number, got: (a: number) => number): string[] {
  const bad: string[] = [];
  for (let i = 0; i < keys.length && bad.length < 5; i++) {
    const e = expected(keys[i]);
    const g = got(keys[i]);
    if (e !== g) bad.push(`${hex(keys[i])}: expected ${e}, got ${g}`);
  }
  return bad;
}

describe('RefLpm (sanity)', () => {
  it('stores, replaces, deletes and matches the longest prefix', () => {
    const r = new RefLpm<string>();
    expect(r.lookup(0x0a000001)).toBeUndefined();
    r.set(0, 0, 'default');
    r.set(0x0a000000, 8, 'ten');
    r.set(0x0a0000ff, 24, 'ten-24'); // host bits ignored
    r.set(0x0a000001, 32, 'host');
    r.set(0x0a000001, 32, 'host2');
    expect(r.size).toBe(4);
    expect(r.get(0x0a000000, 24)).toBe('ten-24');
    expect(r.lookup(0x0a000001)).toEqual({ len: 32, value: 'host2' });
    expect(r.lookup(0x0a000002)).toEqual({ len: 24, value: 'ten-24' });
    expect(r.lookup(0x0a010000)).toEqual({ len: 8, value: 'ten' });
    expect(r.lookup(0xffffffff)).toEqual({ len: 0, value: 'default' });
    expect(r.delete(0x0a000001, 32)).toBe(true);
    expect(r.delete(0x0a000001, 32)).toBe(false);
    expect(r.lookup(0x0a000001)?.len).toBe(24);
    expect(r.size).toBe(3);
  });
});

describe('JsDir248 vs RefLpm', () => {
  const cases: Array<{ seed: number; n: number; opts: GenOpts }> = [
    { seed: 1, n: 0, opts: { allowDefault: true, clustered: 0 } },
    { seed: 2, n: 1, opts: { allowDefault: true, clustered: 0 } },
    { seed: 3, n: 20, opts: { allowDefault: true, clustered: 0.5 } },
    { seed: 4, n: 300, opts: { allowDefault: true, clustered: 0.3 } },
    { seed: 5, n: 2_000, opts: { allowDefault: false, clustered: 0.8 } },
    { seed: 6, n: 5_000, opts: { allowDefault: true, clustered: 0.2 } },
    { seed: 7, n: 20_000, opts: { allowDefault: false, clustered: 0.5 } },
  ];
  for (const { seed, n, opts } of cases) {
    it(`seed ${seed}: ${n} routes`, () => {
      const rand = prng(seed);
      const t = genTable(rand, n, opts);
      const ref = refOf(t);
      const dir = new JsDir248(t.addrs, t.lens, t.values);
      const keys = genKeys(rand, t, 20_000);
      const want = keys.map((a) => ref.lookup(a)?.value ?? 0);
      const out = new Uint32Array(keys.length);
      dir.lookupBatch(keys, out, keys.length);
      const bad: string[] = [];
      for (let i = 0; i < keys.length && bad.length < 5; i++) {
        const one = dir.lookup(keys[i]);
        if (one !== want[i] || out[i] !== want[i]) {
          bad.push(`${hex(keys[i])}: expected ${want[i]}, lookup ${one}, batch ${out[i]}`);
        }
      }
      expect(bad, `seed ${seed}`).toEqual([]);
      expect(dir.bytes).toBe((1 << 24) * 4 + dir.groups * 256 * 4);
    });
  }

  it('handles hand-picked edges: /0, /32 at both ends, nesting inside one tbl8 group', () => {
    const routes: Array<[number, number, number]> = [
      [0x00000000, 32, 7],
      [0xffffffff, 32, 8],
      [0x0a000000, 8, 1],
      [0x0a010200, 24, 2],
      [0x0a010280, 25, 3],
      [0x0a0102c0, 26, 4],
      [0x0a0102c1, 32, 5],
      [0x00000000, 0, 9],
      [0x0a010200, 24, 6], // duplicate: later wins
    ];
    const t: Table = {
      addrs: Uint32Array.from(routes.map((r) => r[0])),
      lens: Uint8Array.from(routes.map((r) => r[1])),
      values: Uint32Array.from(routes.map((r) => r[2])),
    };
    const dir = new JsDir248(t.addrs, t.lens, t.values);
    const checks: Array<[number, number]> = [
      [0x00000000, 7], [0x00000001, 9], [0xffffffff, 8], [0xfffffffe, 9],
      [0x0a000000, 1], [0x0a0101ff, 1], [0x0a010200, 6], [0x0a01027f, 6],
      [0x0a010280, 3], [0x0a0102bf, 3], [0x0a0102c0, 4], [0x0a0102c1, 5],
      [0x0a0102ff, 4], [0x0a010300, 1], [0x0b000000, 9],
    ];
    for (const [a, v] of checks) expect(dir.lookup(a), hex(a)).toBe(v);
    expect(dir.groups).toBe(3); // 0.0.0/24, 255.255.255/24, 10.1.2/24
  });

  it('rejects values outside 1..MAX_VALUE', () => {
    const one = (v: number) => () =>
      new JsDir248(Uint32Array.of(0x0a000000), Uint8Array.of(8), Uint32Array.of(v));
    expect(one(0)).toThrow(RangeError);
    expect(one(MAX_VALUE + 1)).toThrow(RangeError);
    expect(one(MAX_VALUE)).not.toThrow();
  });
});

describe('npm peer adapters vs RefLpm (200 prefixes, 2,000 addresses)', () => {
  const tables: Array<{ seed: number; opts: GenOpts }> = [
    { seed: 101, opts: { allowDefault: false, clustered: 0.3 } },
    { seed: 102, opts: { allowDefault: true, clustered: 0.6 } },
  ];
  for (const { seed, opts } of tables) {
    const rand = prng(seed);
    const t = genTable(rand, 200, opts);
    if (opts.allowDefault) {
      // make sure the default route is really exercised
      t.addrs[17] = 0x12345678;
      t.lens[17] = 0;
    }
    const ref = refOf(t);
    const keys = genKeys(rand, t, 2_000 - 4 * 200 - 2, 200);
    expect(keys.length).toBe(2_000);
    for (const peer of createNpmPeers()) {
      it(`${peer.name} (seed ${seed}${opts.allowDefault ? ', with /0' : ''})`, () => {
        peer.build(t.addrs, t.lens, t.values);
        const expected = peer.membershipOnly
          ? (a: number) => (ref.lookup(a) !== undefined ? 1 : 0)
          : (a: number) => ref.lookup(a)?.value ?? 0;
        expect(diff(keys, expected, (a) => peer.lookup(a)), `seed ${seed}`).toEqual([]);
      });
    }
  }
});
