// Differential tests of the WASM FIB (through the host control plane) against the reference model:
// random tables with /0, /32, nested prefixes and several metrics per prefix, adds, deletes back to
// empty, replace, rollback; random and adversarial addresses; both core builds.
import { describe, it, expect } from "vitest";
import { Fib, FibError, maskOf } from "../host/fib/fib.ts";
import type { Route, RouteTypeName } from "../host/fib/types.ts";
import { RefLpm } from "./ref/lpm-model.ts";
import { prng } from "./ref/prng.ts";

const TYPES: RouteTypeName[] = ["unicast", "unicast", "unicast", "blackhole", "unreachable", "prohibit", "local"];

/** Reference RIB: per prefix the routes in metric order (first added wins a tie), LPM over the best. */
class RefRib {
  lpm = new RefLpm<Route[]>();
  add(r: Route): boolean {
    const list = this.lpm.get(r.prefix, r.len) ?? [];
    if (list.some((x) => x.metric === r.metric)) return false;
    let at = list.findIndex((x) => x.metric > r.metric);
    if (at < 0) at = list.length;
    list.splice(at, 0, r);
    this.lpm.set(r.prefix, r.len, list);
    return true;
  }
  del(prefix: number, len: number, metric?: number): boolean {
    const list = this.lpm.get(prefix, len);
    const i = list ? list.findIndex((x) => metric === undefined || x.metric === metric) : -1;
    if (!list || i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) this.lpm.delete(prefix, len);
    return true;
  }
  best(addr: number): Route | undefined {
    return this.lpm.lookup(addr)?.value[0];
  }
}

function randomRoute(rand: () => number, lenBias: number[]): Route {
  const len = lenBias[rand() % lenBias.length]!;
  const prefix = (rand() & maskOf(len)) >>> 0;
  const type = TYPES[rand() % TYPES.length]!;
  const gw = 0xc0000200 + (rand() % 200);
  const nexthops = type === "unicast" ? [{ gateway: gw, dev: `eth${rand() % 4}`, weight: 1, onlink: false }] : [];
  return { prefix, len, type, table: 254, metric: rand() % 3, nexthops };
}

/** Same decision? (type and first hop; local routes get dev lo from the control plane.) */
function decisionOf(fib: Fib, addr: number): string {
  const id = fib.lookup(254, addr);
  if (id === 0) return "none";
  const r = fib.result(id)!;
  return r.type === "unicast" ? `unicast ${r.nexthops[0]!.gateway} ${r.nexthops[0]!.dev}` : r.type;
}
function refDecision(ref: RefRib, addr: number): string {
  const b = ref.best(addr);
  if (!b) return "none";
  return b.type === "unicast" ? `unicast ${b.nexthops[0]!.gateway} ${b.nexthops[0]!.dev}` : b.type;
}

function probes(rand: () => number, routes: Route[], nRandom: number): number[] {
  const out: number[] = [0, 0xffffffff, 0x7fffffff, 0x80000000];
  for (const r of routes) {
    const first = r.prefix;
    const last = (r.prefix | ~maskOf(r.len)) >>> 0;
    out.push(first, last, (first - 1) >>> 0, (last + 1) >>> 0);
  }
  for (let i = 0; i < nRandom; i++) out.push(rand());
  return out;
}

function compare(fib: Fib, ref: RefRib, addrs: number[]): void {
  for (const a of addrs) {
    const got = decisionOf(fib, a);
    const want = refDecision(ref, a);
    if (got !== want) throw new Error(`lookup ${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}: got ${got}, want ${want}`);
  }
}

// Lengths weighted like a real table but with every length present; narrow address space so prefixes nest.
const ALL_LENS = Array.from({ length: 33 }, (_, i) => i);
const NESTED_LENS = [0, 8, 12, 16, 16, 17, 20, 22, 24, 24, 24, 24, 25, 28, 30, 31, 32, 32];

describe.each(["release", "debug", "checked"] as const)("FIB (%s core)", (flavor) => {
  it.each([1, 2, 3])("matches the reference model on random tables, adds, deletes to empty (seed %i)", (seed) => {
    const rand = prng(seed);
    const fib = new Fib({ flavor });
    const ref = new RefRib();
    const routes: Route[] = [];
    // Cluster most prefixes in 10.0.0.0/12 and 10.1.2.0/24 so they nest and share /16s.
    for (let i = 0; i < 1500; i++) {
      const r = randomRoute(rand, i % 3 === 0 ? ALL_LENS : NESTED_LENS);
      if (i % 2 === 0 && r.len >= 12) r.prefix = ((0x0a000000 | (r.prefix & 0x000fffff)) & maskOf(r.len)) >>> 0;
      if (i % 5 === 0 && r.len >= 24) r.prefix = ((0x0a010200 | (r.prefix & 0xff)) & maskOf(r.len)) >>> 0;
      const ok = ref.add(r);
      if (ok) {
        fib.addRoute(r);
        routes.push(r);
      } else expect(() => fib.addRoute(r)).toThrow(FibError);
    }
    fib.check();
    compare(fib, ref, probes(rand, routes, 3000));
    // Replace: new decisions for a third of the prefixes at the same metric.
    for (const r of routes.filter((_, i) => i % 3 === 0)) {
      const nr: Route = { ...r, type: "unicast", nexthops: [{ gateway: 0x0a0a0a0a, dev: "eth9", weight: 1, onlink: false }] };
      fib.addRoute(nr, "replace");
      ref.del(r.prefix, r.len, r.metric);
      ref.add(nr);
    }
    fib.check();
    compare(fib, ref, probes(rand, routes, 2000));
    // Delete everything in random order, comparing along the way.
    const order = routes.map((r, i) => ({ r, k: rand() + i * 0 })).sort((a, b) => a.k - b.k);
    order.forEach(({ r }, i) => {
      fib.delRoute({ prefix: r.prefix, len: r.len, table: 254, metric: r.metric });
      expect(ref.del(r.prefix, r.len, r.metric)).toBe(true);
      if (i % 250 === 0) {
        fib.check();
        compare(fib, ref, probes(rand, routes.slice(0, 200), 500));
      }
    });
    fib.check();
    compare(fib, ref, probes(rand, routes, 1000));
    expect(fib.lookupBytes(254)).toBe(2 * 65536 * 4); // back to the bare level-0 arrays
    expect(fib.routes(254)).toEqual([]);
  });

  it("dumps every route of a table in kernel order", () => {
    const fib = new Fib({ flavor });
    const nh = [{ gateway: 0xc0000201, dev: "eth1", weight: 1, onlink: false }];
    const add = (p: number, len: number, metric = 0) => fib.addRoute({ prefix: p, len, type: "unicast", table: 254, metric, nexthops: nh });
    add(0x0a000000, 8, 10);
    add(0x0a000000, 8, 5);
    add(0x0a000000, 16);
    add(0, 0);
    add(0, 1);
    add(0x09ff0000, 16);
    expect(fib.routes(254).map((r) => `${r.prefix >>> 24}/${r.len}:${r.metric}`)).toEqual([
      "0/1:0", "0/0:0", "9/16:0", "10/16:0", "10/8:5", "10/8:10",
    ]);
  });

  it("rolls back a transaction that fails half-way", () => {
    const rand = prng(7);
    const fib = new Fib({ flavor });
    const ref = new RefRib();
    const routes: Route[] = [];
    for (let i = 0; i < 400; i++) {
      const r = randomRoute(rand, NESTED_LENS);
      if (ref.add(r)) {
        fib.addRoute(r);
        routes.push(r);
      }
    }
    const before = fib.routes(254);
    const bytes = fib.lookupBytes(254);
    expect(() =>
      fib.transaction(() => {
        for (const r of routes.slice(0, 100)) fib.delRoute({ prefix: r.prefix, len: r.len, table: 254, metric: r.metric });
        for (let i = 0; i < 200; i++) {
          const r = randomRoute(rand, NESTED_LENS);
          r.metric = 100 + i;
          fib.addRoute(r);
        }
        fib.addRule({ src: 0, srcLen: 0, dst: 0, dstLen: 0, iif: "", tos: 0, fwmark: 0, fwmask: 0, action: "blackhole", table: 0 });
        fib.addRoute(routes[150]!); // exists: File exists
      }),
    ).toThrow("File exists");
    expect(fib.routes(254)).toEqual(before);
    expect(fib.rules().length).toBe(3);
    expect(fib.lookupBytes(254)).toBe(bytes);
    fib.check();
    compare(fib, ref, probes(rand, routes, 2000));
  });

  it("answers a batch the same as single lookups", () => {
    const rand = prng(11);
    const fib = new Fib({ flavor });
    for (let i = 0; i < 2000; i++) {
      try {
        fib.addRoute(randomRoute(rand, ALL_LENS));
      } catch {}
    }
    const n = 4096;
    const t = fib.coreIndex(254);
    const keys = fib.core.alloc(n * 4);
    const out = fib.core.alloc(n * 4);
    const m = fib.core.u32();
    for (let i = 0; i < n; i++) m[(keys >>> 2) + i] = rand();
    fib.core.x.fib_lookup_batch(t, keys, out, n);
    const m2 = fib.core.u32();
    for (let i = 0; i < n; i++) expect(m2[(out >>> 2) + i]).toBe(fib.lookup(254, m2[(keys >>> 2) + i]!));
  });

  it("answers a policy batch (fib_route_batch) the same as single policy lookups", () => {
    const rand = prng(13);
    const fib = new Fib({ flavor });
    for (let i = 0; i < 800; i++) {
      const r = randomRoute(rand, NESTED_LENS);
      r.table = [254, 100, 200][i % 3]!;
      try {
        fib.addRoute(r);
      } catch {}
    }
    const rule = { src: 0, srcLen: 0, dst: 0, dstLen: 0, iif: "", tos: 0, fwmark: 0, fwmask: 0, table: 0 };
    fib.addRule({ ...rule, fwmark: 1, fwmask: 1, action: "lookup", table: 100 });
    fib.addRule({ ...rule, src: 0x0a000000, srcLen: 8, action: "lookup", table: 200 });
    fib.addRule({ ...rule, tos: 0x10, action: "prohibit" });
    fib.addRule({ ...rule, iif: "eth1", action: "blackhole" });
    const n = 3000;
    const keys = fib.core.alloc(n * 20);
    const out = fib.core.alloc(n * 16);
    const m = fib.core.u32();
    const eth1 = fib.ifaces.index("eth1");
    for (let i = 0; i < n; i++) {
      const w = (keys >>> 2) + i * 5;
      m[w] = i % 2 ? rand() : ((0x0a000000 | (rand() & 0x000fffff)) >>> 0);
      m[w + 1] = rand() % 3 === 0 ? (0x0a000000 | (rand() & 0xffffff)) >>> 0 : rand();
      m[w + 2] = rand() % 5 === 0 ? eth1 : 0;
      m[w + 3] = rand() & 3;
      m[w + 4] = rand() % 4 === 0 ? 0x10 : 0;
    }
    fib.core.x.fib_route_batch(keys, out, n);
    const batch = fib.core.u32().slice(out >>> 2, (out >>> 2) + n * 4);
    const seen = new Set<number>();
    for (let i = 0; i < n; i++) {
      const k = fib.core.u32().slice((keys >>> 2) + i * 5, (keys >>> 2) + i * 5 + 5);
      const err = fib.core.x.fib_route(k[0]!, k[1]!, k[2]!, k[3]!, k[4]!);
      const single = fib.core.u32().slice(4, 8);
      expect([...batch.slice(i * 4, i * 4 + 4)]).toEqual([...single]);
      expect(batch[i * 4 + 3]! | 0).toBe(err);
      seen.add(err);
    }
    expect(seen.size).toBeGreaterThanOrEqual(4); // ok, no route, blackhole, prohibit at least
  });

  it("refuses bad routes with clear errors and changes nothing", () => {
    const fib = new Fib({ flavor });
    const nh = [{ gateway: 0xc0000201, dev: "eth1", weight: 1, onlink: false }];
    expect(() => fib.addRoute({ prefix: 0x0a000001, len: 8, type: "unicast", table: 254, metric: 0, nexthops: nh })).toThrow(
      "Invalid prefix for given prefix length",
    );
    expect(() => fib.addRoute({ prefix: 0x0a000000, len: 8, type: "unicast", table: 254, metric: 0, nexthops: [{ ...nh[0]!, weight: 0 }] })).toThrow("weight");
    expect(() => fib.addRoute({ prefix: 0x0a000000, len: 8, type: "unicast", table: 254, metric: 0, nexthops: [{ gateway: 0x01020304, dev: "", weight: 1, onlink: false }] })).toThrow(
      "Nexthop has invalid gateway",
    );
    expect(() => fib.delRoute({ prefix: 0x0a000000, len: 8, table: 254 })).toThrow("No such process");
    expect(fib.routes("all")).toEqual([]);
  });
});
