// The packed RIB's two structures against plain models: PrefixMap (open addressing, backward-shift
// delete) against a JavaScript Map, and RouteSets (packed or listed sets, snapshots, id reuse) against
// a Map of route arrays.
import { describe, it, expect } from "vitest";
import { PrefixMap } from "../host/fib/prefix-map.ts";
import { RouteSets, type Entry } from "../host/fib/route-sets.ts";
import type { Route } from "../host/fib/types.ts";
import { prng } from "./ref/prng.ts";

describe("PrefixMap", () => {
  it.each([1, 2, 3])("agrees with a Map through random sets and deletes, with long probe runs (seed %i)", (seed) => {
    const rand = prng(seed);
    const map = new PrefixMap();
    const model = new Map<number, number>();
    // Few distinct keys in a narrow space, so the table grows and shrinks its runs often; keys that differ
    // only in their high bits, and 0 and −1, too.
    const keyOf = () => {
      const r = rand() % 8;
      if (r === 0) return 0;
      if (r === 1) return 0xffffffff;
      if (r === 2) return ((rand() % 64) << 26) >>> 0;
      return (rand() % 3000) << 8;
    };
    for (let step = 0; step < 40000; step++) {
      const key = keyOf();
      if (rand() % 3 === 0) {
        expect(map.delete(key)).toBe(model.delete(key | 0));
      } else {
        const id = 1 + (rand() % 1000);
        map.set(key, id);
        model.set(key | 0, id);
      }
      if (step % 1000 === 0 || step > 39900) {
        const wrong: string[] = [];
        for (const [k, v] of model) if (map.get(k) !== v) wrong.push(`${k >>> 0}: got ${map.get(k)}, want ${v}`);
        for (let i = 0; i < 50; i++) {
          const k = keyOf();
          if (map.get(k) !== (model.get(k | 0) ?? 0)) wrong.push(`${k >>> 0}: got ${map.get(k)}, want none`);
        }
        expect(wrong).toEqual([]);
        expect(map.size).toBe(model.size);
      }
    }
  });

  it("finds every key after deletes in the middle of a run that wraps around the table's end", () => {
    // Keys whose home slot (Fibonacci hash, 16 slots) is 0 or 15. The three of home 0 go in first (slots
    // 0–2), then five of home 15 fill slot 15 and run on at 3–6: deleting from slot 15 must leave 0–2 alone.
    const home = (k: number) => Math.imul(k, 0x9e3779b1) >>> 28;
    const at15: number[] = [];
    const at0: number[] = [];
    for (let k = 1; at15.length < 5 || at0.length < 3; k++) {
      const key = k << 8;
      if (home(key) === 15 && at15.length < 5) at15.push(key);
      if (home(key) === 0 && at0.length < 3) at0.push(key);
    }
    const keys = [...at0, ...at15];
    const map = new PrefixMap();
    keys.forEach((k, i) => map.set(k, i + 1));
    const gone = [at15[0]!, at0[0]!, at15[3]!];
    for (const k of gone) {
      expect(map.delete(k)).toBe(true);
      expect(map.get(k)).toBe(0);
      keys.forEach((key, i) => expect(map.get(key)).toBe(gone.slice(0, gone.indexOf(k) + 1).includes(key) ? 0 : i + 1));
    }
    expect(map.size).toBe(5);
    expect(map.delete(at15[0]!)).toBe(false);
  });
});

describe("RouteSets", () => {
  const nh = (i: number) => [{ gateway: 0x0a000000 + i, dev: `eth${i % 3}`, weight: 1, onlink: false }];
  // Result id r stands for "unicast via 10.0.0.r": the plain route rebuilt from it must equal what was put.
  const routeOf = (addr: number, len: number, metric: number, result: number): Route => ({
    prefix: addr, len, type: "unicast", table: 254, metric, nexthops: nh(result),
  });
  const plain = (addr: number, len: number, metric: number, result: number): Entry => ({ route: routeOf(addr, len, metric, result), result });

  it("holds what a model holds through random puts, removes, snapshots and restores, packed or listed", () => {
    const rand = prng(5);
    const sets = new RouteSets(routeOf);
    const model = new Map<string, Entry[]>(); // "addr/len" → routes
    const snaps: { key: string; id: number; snap: ReturnType<RouteSets["snapshot"]>; want: Entry[] }[] = [];
    for (let step = 0; step < 20000; step++) {
      const len = [8, 16, 24, 24, 32][rand() % 5]!;
      const addr = ((rand() % 200) << (32 - len)) >>> 0;
      const key = `${addr}/${len}`;
      let id = sets.find(addr, len);
      expect(id !== 0).toBe(model.has(key));
      if (id === 0) {
        id = sets.create(addr, len);
        model.set(key, []);
      }
      const op = rand() % 10;
      if (op < 4) {
        const one = [plain(addr, len, rand() % 4, 1 + (rand() % 9))];
        sets.put(id, one);
        model.set(key, one);
      } else if (op < 6) {
        // Several routes or one with a preferred source (listed), or one with a proto and scope (packed).
        const r = rand() % 3;
        const list = r === 0
          ? [plain(addr, len, 0, 2), plain(addr, len, 5, 3)]
          : r === 1
            ? [{ route: { ...routeOf(addr, len, 1, 4), src: 0x0a000001 }, result: 4 }]
            : [{ route: { ...routeOf(addr, len, 1, 4), proto: ["static", "bird", "zebra"][rand() % 3]!, scope: "link" }, result: 4 }];
        sets.put(id, list);
        model.set(key, list);
      } else if (op < 7) {
        snaps.push({ key, id, snap: sets.snapshot(id), want: model.get(key)! });
      } else if (op < 8 && snaps.length > 0) {
        const s = snaps.pop()!;
        if (sets.exists(s.id) && sets.find(Number(s.key.split("/")[0]), Number(s.key.split("/")[1])) === s.id) {
          sets.restore(s.id, s.snap);
          model.set(s.key, s.want);
        }
      } else {
        sets.putPlain(id, 0, 0);
        sets.remove(id);
        model.delete(key);
        for (let i = snaps.length - 1; i >= 0; i--) if (snaps[i]!.id === id) snaps.splice(i, 1);
      }
      if (step % 2000 === 0 || step > 19990) {
        const withRoutes = [...model].filter(([, e]) => e.length > 0);
        expect(sets.ids().length).toBe(withRoutes.length);
        expect(sets.size).toBe(model.size);
        for (const [k, want] of model) {
          const [a, l] = k.split("/").map(Number) as [number, number];
          const got = sets.find(a, l);
          expect(sets.addr[got]).toBe(a);
          expect(sets.len[got]).toBe(l);
          expect(sets.entries(got)).toEqual(want);
          expect(sets.count(got)).toBe(want.length);
          expect(sets.bestResult(got)).toBe(want[0]?.result ?? 0);
          want.forEach((e, i) => expect(sets.metricAt(got, i)).toBe(e.route.metric));
        }
      }
    }
  });

  it("packs a lone route without a preferred source and lists any other, and reuses a removed set's id", () => {
    const sets = new RouteSets(routeOf);
    const a = sets.create(0x0a000000, 8);
    sets.put(a, [plain(0x0a000000, 8, 7, 5)]);
    expect(sets.entries(a)).toEqual([plain(0x0a000000, 8, 7, 5)]);
    expect(sets.snapshot(a).listed).toBeUndefined(); // packed: no objects kept
    const withProto = { route: { ...routeOf(0x0a000000, 8, 7, 5), proto: "bird", scope: "link" }, result: 5 };
    sets.put(a, [withProto]);
    expect(sets.snapshot(a).listed).toBeUndefined();
    expect(sets.entries(a)).toEqual([withProto]);
    const withSrc = { route: { ...routeOf(0x0a000000, 8, 7, 5), src: 0x0a000001 }, result: 5 };
    sets.put(a, [withSrc]);
    expect(sets.snapshot(a).listed).toEqual([withSrc]);
    expect(sets.entries(a)).toEqual([withSrc]);
    sets.putPlain(a, 0, 0);
    expect(sets.count(a)).toBe(0);
    sets.remove(a);
    expect(sets.exists(a)).toBe(false);
    expect(sets.find(0x0a000000, 8)).toBe(0);
    expect(sets.create(0x0b000000, 8)).toBe(a);
  });

  it("grows past its first arrays with every set intact", () => {
    const sets = new RouteSets(routeOf);
    for (let i = 0; i < 5000; i++) sets.put(sets.create(i << 8, 24), [plain(i << 8, 24, i % 7, 1 + (i % 9))]);
    for (let i = 0; i < 5000; i++) {
      const id = sets.find(i << 8, 24);
      expect(sets.entries(id)).toEqual([plain(i << 8, 24, i % 7, 1 + (i % 9))]);
      expect(sets.fresh[id]).toBe(1);
    }
  });
});
