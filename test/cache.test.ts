// The route cache (assembly/cache) through its host API: every outcome of the input path with the
// counters the kernel bumps (kernel-route-cache.md §6.6, §5.2), flush modes (§2), chain bounds (§4.2,
// §9.3 #12), the emergency rebuild and caching-disabled path (§4.2–4.3), GC gating and expire (§3.2,
// §9.3), both overflow modes, and the dst lifecycle of a reference leak (§7).
import { describe, it, expect } from "vitest";
import { Fib } from "../host/fib/fib.ts";
import { RouteCache, type InputKey } from "../host/cache/cache.ts";
import { RouteSysctls } from "../host/cache/sysctl.ts";
import { bindSysctls } from "../host/cache/apply-params.ts";
import { jhash3 } from "./ref/jhash.ts";
import { GcStepTimer } from "../host/cache/gc-step-timer.ts";

const ip = (s: string) => s.split(".").reduce((a, o) => a * 256 + Number(o), 0) >>> 0;
// Counter indexes in /proc/net/stat/rt_cache order (§5.1).
const C = { entries: 0, in_hit: 1, in_slow_tot: 2, in_slow_mc: 3, in_no_route: 4, in_brd: 5, in_martian_dst: 6, in_martian_src: 7,
  out_hit: 8, out_slow_tot: 9, out_slow_mc: 10, out_hlist_search: 16, gc_total: 11, gc_ignored: 12, gc_goal_miss: 13, gc_dst_overflow: 14, in_hlist_search: 15 };
const RTCF_LOCAL = 0x80000000, RTCF_BROADCAST = 0x10000000, RTCF_DIRECTSRC = 0x04000000;

/** A router with eth0 10.0.0.1/24, eth1 192.0.2.1/24, a default route, and a few special routes. */
function router(opts: { buckets?: number; defaultRoute?: boolean; flavor?: "release" | "debug" | "checked" } = {}) {
  const fib = new Fib({ flavor: opts.flavor });
  const on = (dev: string) => [{ gateway: 0, dev, weight: 1, onlink: false }];
  const via = (gw: string, dev: string) => [{ gateway: ip(gw), dev, weight: 1, onlink: false }];
  const add = (p: string, len: number, type: "unicast" | "local" | "broadcast" | "blackhole" | "prohibit" | "unreachable", table: number, nexthops: ReturnType<typeof on>) =>
    fib.addRoute({ prefix: ip(p), len, type, table, metric: 0, nexthops });
  add("10.0.0.0", 24, "unicast", 254, on("eth0"));
  add("192.0.2.0", 24, "unicast", 254, on("eth1"));
  add("10.0.0.1", 32, "local", 255, on("eth0"));
  add("192.0.2.1", 32, "local", 255, on("eth1"));
  add("10.0.0.255", 32, "broadcast", 255, on("eth0"));
  add("198.51.100.0", 24, "unicast", 254, via("10.0.0.2", "eth0"));
  add("203.0.113.0", 26, "blackhole", 254, []);
  add("203.0.113.64", 26, "prohibit", 254, []);
  add("203.0.113.128", 26, "unreachable", 254, []);
  if (opts.defaultRoute !== false) add("0.0.0.0", 0, "unicast", 254, via("192.0.2.254", "eth1"));
  const cache = new RouteCache(fib, { buckets: opts.buckets ?? 1024, secret: 0x1234567, seed: 42, now: 0 });
  for (const dev of ["eth0", "eth1"]) cache.setInterface(dev, { forwarding: true, rpFilter: 0, hasAddresses: true });
  return { fib, cache };
}

function delta(cache: RouteCache, f: () => void): Record<string, number> {
  const a = cache.counters();
  f();
  const b = cache.counters();
  const d: Record<string, number> = {};
  for (const [k, i] of Object.entries(C)) if (k !== "entries" && b[i]! !== a[i]!) d[k] = b[i]! - a[i]!;
  return d;
}

const key = (dst: string, src: string, iif = "eth0"): InputKey => ({ dst: ip(dst), src: ip(src), iif });

describe.each(["release", "debug", "checked"] as const)("route cache input path (%s core)", (flavor) => {
  it("forwards through the slow path once, then hits", () => {
    const { cache } = router({ flavor });
    let a;
    expect(delta(cache, () => ([a] = cache.input([key("8.8.8.8", "10.0.0.5")], 1000)))).toEqual({ in_slow_tot: 1 });
    // the source is on-link on the input interface: DIRECTSRC (§6.5 step 2)
    expect(a).toMatchObject({ type: 1, cached: true, error: 0, gateway: ip("192.0.2.254"), flags: RTCF_DIRECTSRC >>> 0 });
    expect(delta(cache, () => ([a] = cache.input([key("8.8.8.8", "10.0.0.5")], 2000)))).toEqual({ in_hit: 1 });
    expect(a).toMatchObject({ type: 1, cached: true, gateway: ip("192.0.2.254") });
    expect(cache.hashed).toBe(1);
    expect(cache.allocated).toBe(1);
  });

  it("a batch behaves like keys one by one: a new flow's later packets in the same batch are hits", () => {
    const { cache } = router({ flavor });
    const flows = Array.from({ length: 40 }, (_, i) => key(`8.8.${i}.8`, "10.0.0.5"));
    const batch = [...flows, ...flows, ...flows].sort((a, b) => a.dst - b.dst); // each flow three times, adjacent
    expect(delta(cache, () => cache.input(batch, 10))).toMatchObject({ in_slow_tot: 40, in_hit: 80 });
    expect(cache.hashed).toBe(40);
  });

  it("hits over long chains (aliases, stale entries, new flows mid-batch) answer and count like keys one by one", () => {
    // 8 buckets: chains of ~25 entries, with aliases that differ only in src, tos or mark (§1.3), so the
    // batched walk (pass 2 stops at the first entry with the same dst, src, iif and mark; pass 3 checks tos
    // and genid) must count like a walk from the head. One key at a time hashes in scalar code, the batch
    // four keys per SIMD hash (jhash3x4): a lane that differed would send its key to another chain.
    const a = router({ flavor, buckets: 8 });
    const b = router({ flavor, buckets: 8 });
    for (const c of [a.cache, b.cache]) c.set("gcElasticity", 1 << 20); // keep every entry: long chains
    const dsts = Array.from({ length: 50 }, (_, i) => `8.8.${i % 13}.${i}`);
    const flows: InputKey[] = [];
    for (const [i, d] of dsts.entries()) {
      flows.push(key(d, "10.0.0.5"), { ...key(d, "10.0.0.5"), tos: 0x10 }, { ...key(d, "10.0.0.5"), mark: 7 + i });
      if (i % 3 === 0) flows.push(key(d, `10.0.0.${6 + (i % 50)}`));
    }
    for (const c of [a.cache, b.cache]) c.input(flows.slice(0, 120), 100); // some flows cached, the rest new
    // a stale generation: flush(-1) bumps the genid and the old entries stay in the chains (§2) until an
    // insert into their chain unlinks them
    for (const c of [a.cache, b.cache]) {
      c.flush(-1, 140);
      c.input(flows.slice(120, 140), 150);
    }
    const order = flows.map((_, i) => (i * 37) % flows.length); // every flow, in an order unrelated to insertion
    const batch = [...order, ...order.slice(0, 60)].map((i) => flows[i]!);
    let batched: unknown[] = [];
    const dBatch = delta(a.cache, () => (batched = a.cache.input(batch, 200)));
    const single: unknown[] = [];
    const dSingle = delta(b.cache, () => batch.forEach((k) => single.push(...b.cache.input([k], 200))));
    expect(batched).toEqual(single);
    expect(dBatch).toEqual(dSingle);
    expect(dBatch.in_hlist_search).toBeGreaterThan(batch.length); // the chains were long
    expect(dBatch.in_slow_tot).toBeGreaterThan(0); // and slow paths ran mid-batch
    expect(a.cache.entries(300)).toEqual(b.cache.entries(300)); // same chains, order, use and lastuse
  });

  it("the benchmark's stage probe writes nothing below the last stage, and the last stage is the fast path", () => {
    const { fib, cache } = router({ flavor, buckets: 16 });
    cache.set("gcElasticity", 1 << 20); // chains of ~6: every flow stays cached
    const flows = Array.from({ length: 100 }, (_, i) => key(`8.8.${i}.1`, "10.0.0.5"));
    cache.input(flows, 100);
    const x = fib.core.x;
    const keys = fib.core.alloc(flows.length * 20);
    const out = fib.core.alloc(flows.length * 24);
    const m = fib.core.u32();
    flows.forEach((k, i) => m.set([k.dst, k.src, fib.ifaces.index("eth0"), 0, 0], (keys >>> 2) + i * 5));
    const outBefore = [...fib.core.u32().subarray(out >>> 2, (out >>> 2) + flows.length * 6)];
    const entriesBefore = cache.entries(200);
    for (const stage of [1, 2, 3, 4]) expect(delta(cache, () => x.cache_hit_stages(keys, out, flows.length, 200, stage))).toEqual({});
    expect([...fib.core.u32().subarray(out >>> 2, (out >>> 2) + flows.length * 6)]).toEqual(outBefore);
    expect(cache.entries(200)).toEqual(entriesBefore);
    const d = delta(cache, () => x.cache_hit_stages(keys, out, flows.length, 200, 5));
    expect(d.in_hit).toBe(100);
    expect(cache.input(flows, 200).map((r) => r.gateway)).toEqual(flows.map(() => ip("192.0.2.254")));
  });

  it("counts every outcome of §6.6 where the kernel does", () => {
    const { cache } = router({ flavor });
    const one = (k: InputKey) => {
      let a;
      const d = delta(cache, () => ([a] = cache.input([k], 1000)));
      return { d, a: a! };
    };
    // local delivery: in_slow_tot, cached LOCAL, directly connected source
    let r = one(key("10.0.0.1", "10.0.0.5"));
    expect(r.d).toEqual({ in_slow_tot: 1 });
    expect(r.a).toMatchObject({ type: 2, cached: true, oif: 1, flags: (RTCF_LOCAL | RTCF_DIRECTSRC) >>> 0 });
    // subnet broadcast: in_slow_tot + in_brd
    r = one(key("10.0.0.255", "10.0.0.5"));
    expect(r.d).toEqual({ in_slow_tot: 1, in_brd: 1 });
    expect(r.a).toMatchObject({ type: 3, cached: true, flags: (RTCF_LOCAL | RTCF_BROADCAST | RTCF_DIRECTSRC) >>> 0 });
    // limited broadcast: in_brd only
    r = one(key("255.255.255.255", "10.0.0.5"));
    expect(r.d).toEqual({ in_brd: 1 });
    expect(r.a.type).toBe(3);
    // routes that stop with their own errno become cached negative entries (in_no_route)
    for (const [dst, errno] of [["203.0.113.5", 22], ["203.0.113.70", 13], ["203.0.113.130", 113]] as const) {
      r = one(key(dst, "10.0.0.5"));
      expect(r.d).toEqual({ in_no_route: 1 });
      expect(r.a).toMatchObject({ type: 7, cached: true, error: -errno, oif: 1 });
    }
    // martian destinations and sources: counted, never cached
    const before = cache.allocated;
    expect(one(key("127.0.0.1", "10.0.0.5")).d).toEqual({ in_martian_dst: 1 });
    expect(one(key("0.1.2.3", "10.0.0.5")).d).toEqual({ in_martian_dst: 1 });
    for (const src of ["127.0.0.1", "224.0.0.5", "255.255.255.255", "0.0.0.7"]) {
      r = one(key("8.8.8.8", src));
      expect(r.d).toEqual({ in_martian_src: 1 });
      expect(r.a).toMatchObject({ type: 0, cached: false, error: -22 });
    }
    expect(cache.allocated).toBe(before);
    // multicast not for us: dropped, not cached, not counted
    expect(one(key("239.1.2.3", "10.0.0.5")).d).toEqual({});
  });

  it("caches one unreachable entry with error 101 for no route (§9.5 #17)", () => {
    const { cache } = router({ flavor, defaultRoute: false });
    let a;
    expect(delta(cache, () => ([a] = cache.input([key("8.8.8.8", "10.0.0.5")], 10)))).toEqual({ in_no_route: 1 });
    expect(a).toMatchObject({ type: 7, cached: true, error: -101 });
    expect(delta(cache, () => ([a] = cache.input([key("8.8.8.8", "10.0.0.5")], 20)))).toEqual({ in_hit: 1 });
    expect(a).toMatchObject({ type: 7, error: -101 });
    expect(cache.hashed).toBe(1);
  });

  it("with forwarding off: no route and non-local destinations are refused uncached", () => {
    const { cache } = router({ flavor, defaultRoute: false });
    cache.setInterface("eth0", { forwarding: false, rpFilter: 0, hasAddresses: true });
    let a;
    expect(delta(cache, () => ([a] = cache.input([key("8.8.8.8", "10.0.0.5")], 10)))).toEqual({});
    expect(a).toMatchObject({ type: 0, error: -113 });
    expect(delta(cache, () => ([a] = cache.input([key("198.51.100.9", "10.0.0.5")], 10)))).toEqual({ in_slow_tot: 1 });
    expect(a).toMatchObject({ type: 0, error: -113 });
    expect(cache.allocated).toBe(0);
    // local delivery still works
    expect(cache.input([key("10.0.0.1", "10.0.0.5")], 10)[0]).toMatchObject({ type: 2, cached: true });
  });

  it("applies rp_filter 0/1/2 to a spoofed source (§6.4)", () => {
    const { cache } = router({ flavor });
    // 198.51.100.7 is routed via eth0; arriving on eth1 it fails strict mode only.
    const spoof = key("8.8.8.8", "198.51.100.7", "eth1");
    for (const [rpf, want] of [[1, -18], [2, 0], [0, 0]] as const) {
      cache.setInterface("eth1", { forwarding: true, rpFilter: rpf, hasAddresses: true });
      cache.flush(0, 100);
      let a;
      const d = delta(cache, () => ([a] = cache.input([spoof], 100)));
      if (want) {
        expect(d).toEqual({ in_slow_tot: 1, in_martian_src: 1 });
        expect(a).toMatchObject({ type: 0, cached: false, error: want });
      } else {
        expect(d).toEqual({ in_slow_tot: 1 });
        expect(a).toMatchObject({ type: 1, cached: true });
      }
    }
    // A source with no route at all fails loose mode too.
    const { cache: c2 } = router({ flavor, defaultRoute: false });
    c2.setInterface("eth1", { forwarding: true, rpFilter: 2, hasAddresses: true });
    expect(c2.input([key("198.51.100.9", "8.8.8.8", "eth1")], 1)[0]).toMatchObject({ type: 0, error: -18 });
  });
});

describe.each(["release", "debug", "checked"] as const)("route cache output path (%s core)", (flavor) => {
  it("routes the router's own traffic: slow path once, then out_hit; refuses foreign sources (§6.7)", () => {
    const { cache } = router({ flavor });
    const ifIndex = (n: string) => cache.fib.ifaces.index(n);
    let a;
    expect(delta(cache, () => ([a] = cache.output([{ dst: ip("8.8.8.8") }], 10)))).toEqual({ out_slow_tot: 1 });
    expect(a).toMatchObject({ type: 1, cached: true, error: 0, gateway: ip("192.0.2.254"), oif: ifIndex("eth1") });
    expect(delta(cache, () => ([a] = cache.output([{ dst: ip("8.8.8.8") }], 20)))).toEqual({ out_hit: 1 });
    // an output lookup and an input lookup of the same addresses are different entries
    expect(delta(cache, () => cache.input([{ dst: ip("8.8.8.8"), src: 0x01020304, iif: "eth0" }], 30)).in_slow_tot).toBe(1);
    // a source that is not ours: EINVAL, nothing counted or cached
    const n = cache.allocated;
    expect(delta(cache, () => ([a] = cache.output([{ dst: ip("8.8.8.8"), src: ip("1.2.3.4") }], 40)))).toEqual({});
    expect(a).toMatchObject({ type: 0, error: -22 });
    expect(cache.allocated).toBe(n);
    // our own source is fine; to our own address it is local, through lo
    expect(cache.output([{ dst: ip("8.8.8.8"), src: ip("10.0.0.1") }], 50)[0]).toMatchObject({ type: 1, cached: true });
    expect(cache.output([{ dst: ip("10.0.0.1") }], 60)[0]).toMatchObject({ type: 2, oif: 1, flags: RTCF_LOCAL >>> 0 });
    // limited broadcast out of eth0: broadcast, counted in out_slow_mc (not on loopback)
    const d = delta(cache, () => ([a] = cache.output([{ dst: 0xffffffff, oif: "eth0" }], 70)));
    expect(d).toEqual({ out_slow_tot: 1, out_slow_mc: 1 });
    expect(a).toMatchObject({ type: 3, oif: ifIndex("eth0") });
  });

  it("no route: ENETUNREACH and never cached; with an oif, on-link there", () => {
    const { cache } = router({ flavor, defaultRoute: false });
    let a;
    expect(delta(cache, () => ([a] = cache.output([{ dst: ip("8.8.8.8") }], 10)))).toEqual({});
    expect(a).toMatchObject({ type: 0, cached: false, error: -101 });
    expect(cache.allocated).toBe(0);
    expect(cache.output([{ dst: ip("8.8.8.8"), oif: "eth0" }], 20)[0]).toMatchObject({ type: 1, cached: true, gateway: ip("8.8.8.8") });
  });
});

describe("route cache maintenance", () => {
  it("lists every live entry of a large cache (no cap), a piece at a time", () => {
    const { cache } = router({ buckets: 65536 });
    const flows = Array.from({ length: 70_000 }, (_, i) => ({ dst: 0x08000000 + i, src: ip("10.0.0.5"), iif: "eth0" }));
    for (let i = 0; i < flows.length; i += 1024) cache.input(flows.slice(i, i + 1024), 1000);
    expect(cache.hashed).toBe(70_000);
    const all = cache.entries(1000);
    expect(all.length).toBe(70_000); // the dump once stopped at 65,536
    expect(new Set(all.map((e) => e.dst)).size).toBe(70_000);
    expect(cache.entries(1000, 5).map((e) => e.dst)).toEqual(all.slice(0, 5).map((e) => e.dst));
    const pieces = [...cache.entryDump(() => 1000, 30_000)];
    expect(pieces.map((p) => p.length)).toEqual([30_000, 30_000, 10_000]);
    expect(pieces.flat()).toEqual(all);
  });

  it("follows sysctl writes at run time: knobs reach the core, flush flushes (bindSysctls)", () => {
    const { cache } = router({ buckets: 16 });
    const sysctls = new RouteSysctls({ totalRamBytes: 2 ** 30 });
    sysctls.set("rhash_entries", "16");
    let now = 1000;
    const unbind = bindSysctls(cache, sysctls, () => now);
    expect(() => sysctls.set("rhash_entries", "32")).toThrow(); // fixed once the cache exists
    cache.input(Array.from({ length: 20 }, (_, i) => key(`8.8.${i}.8`, "10.0.0.5")), now);
    expect(cache.hashed).toBe(20);
    // ip route flush cache writes -1: lazy, the genid moves and entries stay allocated
    const g = cache.state().genid;
    sysctls.set("net.ipv4.route.flush", "-1");
    expect(cache.state().genid).not.toBe(g);
    expect(cache.allocated).toBe(20);
    // echo 1 > flush: synchronous
    now = 2000;
    sysctls.set("net.ipv4.route.flush", "1");
    expect(cache.hashed).toBe(0);
    // max_size written through the sysctl: the cache now overflows at 20 held entries
    sysctls.set("net.ipv4.route.max_size", "20");
    sysctls.set("net.ipv4.route.gc_thresh", "4");
    const held = cache.input(Array.from({ length: 20 }, (_, i) => key(`9.9.${i}.9`, "10.0.0.5")), 3000, true);
    expect(cache.allocated).toBe(20);
    const d = delta(cache, () => cache.input([key("8.8.8.8", "10.0.0.5")], 4000));
    expect(d.gc_dst_overflow).toBe(1);
    unbind();
    sysctls.set("net.ipv4.route.flush", "1"); // no longer bound: nothing happens to the cache
    expect(cache.hashed).toBe(20);
    for (const h of held) cache.release(h.entry);
  });


  it("flush: < 0 only invalidates (entries stay allocated, no longer listed), ≥ 0 frees now (§2)", () => {
    const { cache } = router();
    const keys = Array.from({ length: 200 }, (_, i) => key(`8.8.${i}.1`, "10.0.0.5"));
    cache.input(keys, 1000);
    expect(cache.hashed).toBe(200);
    const g = cache.state().genid;
    cache.flush(-1, 1100);
    expect(cache.state().genid - g).toBeGreaterThanOrEqual(1);
    expect(cache.state().genid - g).toBeLessThanOrEqual(256);
    expect(cache.hashed).toBe(200); // stale entries still sit in their chains
    // all miss; the stale entries still in the chains count as examined (§5.2 in_hlist_search)
    const d = delta(cache, () => cache.input(keys.slice(0, 10), 1200));
    expect(d.in_slow_tot).toBe(10);
    expect(d.in_hit ?? 0).toBe(0);
    cache.flush(1, 1300);
    expect(cache.hashed).toBe(0);
    expect(cache.allocated).toBe(0);
  });

  it("keeps chains at elasticity + 1 when unreferenced entries exist (§9.3 #12)", () => {
    const { cache } = router({ buckets: 16 });
    cache.set("gcThresh", 1_000_000);
    cache.set("maxSize", 10_000_000);
    for (let t = 0; t < 40; t++) {
      cache.input(Array.from({ length: 50 }, (_, i) => key(`9.${t}.${i}.1`, "10.0.0.5")), 1000 + t * 10);
      for (let b = 0; b < 16; b++) expect(cache.chainLength(b)).toBeLessThanOrEqual(9);
    }
    expect(cache.hashed).toBe(16 * 9);
  });

  it("rebuilds on a chain of referenced collisions, and disables caching after 4 rebuilds (§4.2, §9.4 #14)", () => {
    const { cache } = router({ buckets: 1024 });
    const secret = 0x1234567;
    const hit = key("8.8.8.8", "10.0.0.5");
    cache.input([hit], 1);
    const iif = cache.fib.ifaces.index("eth0");
    let n = 0;
    for (let round = 1; round <= 5; round++) {
      // The attacker knows secret and generation: 22 sources landing in bucket 0, all kept referenced.
      const g = cache.state().genid;
      const srcs: number[] = [];
      for (let s = 1; srcs.length < 22; s++) {
        const src = (0x0a000000 + s + n * 100000) >>> 0;
        if ((jhash3(ip("8.8.4.4"), src, iif, (secret + g) >>> 0) & 1023) === 0) srcs.push(src);
      }
      n++;
      cache.input(srcs.map((src) => ({ dst: ip("8.8.4.4"), src, iif: "eth0" })), 10 * round, true);
      expect(cache.state().rebuildCount).toBe(round);
      expect(cache.state().genid).not.toBe(g);
      expect(cache.takeEvents()).toMatchObject({ rebuild: 1, disabled: round === 5 ? 1 : 0 });
    }
    expect(cache.state().cachingDisabled).toBe(true);
    const d = delta(cache, () => cache.input([hit, hit, hit], 100));
    expect(d.in_hit ?? 0).toBe(0); // in_hit stops increasing
    expect(d.in_slow_tot).toBe(3);
  });

  it("GC: every call counts, calls within gc_min_interval are ignored, expire halves on a miss (§3.2, §9.3)", () => {
    const { cache } = router({ buckets: 16 }); // gc_thresh 16, max_size 256
    expect(cache.state().expireMs).toBe(300000);
    const d = delta(cache, () => {
      for (let i = 0; i < 40; i++) cache.input([key(`9.9.${i}.1`, "10.0.0.5")], 1000); // all at one instant
    });
    // allocations 18..40 each call the GC (entries > gc_thresh); only the first is not gated
    expect(d.gc_total).toBe(40 - 17);
    expect(d.gc_ignored).toBe(40 - 17 - 1);
    // fresh entries cannot be aged out: the one sweep misses its goal and halves expire
    expect(d.gc_goal_miss).toBe(1);
    expect(cache.state().expireMs).toBe(150000);
    // much later: normal regime (E = 40 ≤ 8·16), equilibrium 16 → 28 (+ half the excess), goal 12:
    // the old entries go, bucket by bucket, until the goal is met; expire recovers by gc_min_interval
    const before = cache.allocated;
    cache.input([key("9.9.200.1", "10.0.0.5")], 1000 + 400_000);
    expect(cache.state().equilibrium).toBe(28);
    expect(before + 1 - cache.allocated).toBeGreaterThanOrEqual(12);
    expect(cache.state().expireMs).toBe(150500);
  });

  it("gc_step_budget bounds one step and pays the rest of the goal in the following calls", () => {
    let goal = 0;
    const freedPerStep = (budget: number) => {
      const { cache } = router({ buckets: 64 }); // gc_thresh 64, aggressive above 512
      cache.set("gcThresh", 1 << 20); // fill first, without GC
      for (let i = 0; i < 700; i += 50) cache.input(Array.from({ length: 50 }, (_, j) => key(`9.${(i + j) >> 8}.${(i + j) & 255}.1`, "10.0.0.5")), 0);
      cache.set("gcThresh", 64);
      cache.set("gcStepBudget", budget);
      const e = cache.allocated; // ≤ 64 × 9: inserts keep chains at elasticity + 1
      goal = Math.max(Math.floor((e - 8 * 64) / 2), 64); // the aggressive goal (§3.2 step 4.3)
      const steps: number[] = [];
      for (let t = 0; t < 40; t++) {
        const before = cache.allocated;
        cache.gc(400_000 + t); // one GC call a millisecond: all within one gc_min_interval
        steps.push(before - cache.allocated);
      }
      return steps;
    };
    const kernel = freedPerStep(0);
    expect(goal).toBeGreaterThanOrEqual(64);
    expect(kernel[0]).toBeGreaterThanOrEqual(goal); // the whole goal in one step (whole chains: a little more)
    expect(kernel.slice(1).every((n) => n === 0)).toBe(true); // then the gate holds
    const bounded = freedPerStep(16);
    expect(Math.max(...bounded)).toBeLessThanOrEqual(16 + 20); // a chain may overshoot the budget
    expect(bounded.filter((n) => n > 0).length).toBeGreaterThanOrEqual(4); // the debt is paid by later calls
    const total = (a: number[]) => a.reduce((x, y) => x + y, 0);
    expect(total(bounded)).toBeGreaterThanOrEqual(goal); // the same goal, in the end
  });

  it("overflow: kernel mode drops with ENOBUFS and counts gc_dst_overflow; forward mode keeps forwarding uncached", () => {
    for (const forward of [false, true]) {
      const { cache } = router({ buckets: 16 }); // max_size 256
      cache.set("overflowForward", forward ? 1 : 0);
      const held = cache.input(Array.from({ length: 256 }, (_, i) => key(`9.${i >> 8}.${i & 255}.1`, "10.0.0.5")), 10, true);
      expect(held.every((a) => a.entry !== 0)).toBe(true);
      expect(cache.allocated).toBe(256);
      let a;
      const d = delta(cache, () => ([a] = cache.input([key("8.8.8.8", "10.0.0.5")], 5000)));
      expect(d.gc_dst_overflow).toBe(1);
      if (forward) {
        expect(a).toMatchObject({ type: 1, cached: false, error: 0, gateway: ip("192.0.2.254") });
        expect(cache.takeEvents()).toMatchObject({ uncached: 1, overflow: 1 });
      } else {
        expect(a).toMatchObject({ type: 0, cached: false, error: -105 });
        expect(cache.takeEvents()).toMatchObject({ uncached: 0, overflow: 1 });
      }
      for (const h of held) cache.release(h.entry);
      expect(cache.input([key("8.8.8.8", "10.0.0.5")], 400_000)[0]).toMatchObject({ cached: true });
    }
  });

  it("a cache held full: forward mode sweeps at most once per gc_min_interval after a barren sweep, the kernel mode at every miss", () => {
    for (const forward of [false, true]) {
      const { cache, fib } = router({ buckets: 16 }); // max_size 256
      cache.set("overflowForward", forward ? 1 : 0);
      const sweeps = new GcStepTimer(fib.core);
      let n = 0;
      sweeps.onStep((s) => void (s.kind === "garbage_collect" && n++));
      const held = cache.input(Array.from({ length: 256 }, (_, i) => key(`9.${i >> 8}.${i & 255}.1`, "10.0.0.5")), 10, true);
      expect(cache.allocated).toBe(256);
      n = 0;
      const miss = (t: number, i: number) => cache.input([key(`8.8.${i}.8`, "10.0.0.5")], t)[0]!;
      // 20 misses inside one gc_min_interval (500 ms): the same counters in both modes
      const d = delta(cache, () => {
        for (let i = 0; i < 20; i++) expect(miss(5000 + i * 10, i).cached).toBe(false);
      });
      expect(d).toMatchObject({ gc_total: 20, gc_goal_miss: 20, gc_dst_overflow: 20 });
      expect(n).toBe(forward ? 1 : 20); // forward: only the first sweep; the kernel sweeps each time
      n = 0;
      miss(5500, 99); // gc_min_interval after the barren sweep: sweep again
      expect(n).toBe(1);
      cache.flush(-1, 5510); // a new genid: the next miss sweeps (and frees the stale entries it can)
      miss(5520, 98);
      expect(n).toBe(2);
      for (const h of held) cache.release(h.entry); // released, then freed by the dst reaper (§7.3)
      for (let t = 5600; t <= 8000; t += 100) cache.tick(t);
      expect(cache.allocated).toBeLessThan(256);
      expect(miss(8100, 97).cached).toBe(true); // caching resumes
    }
  });

  it("a random-source flood at max_size (nothing held): a sweep that kept young entries is not barren, and forward mode caches as the kernel does", () => {
    // 300 new sources a ms for 2 s into 16 buckets, max_size 64 (with the default 16 × buckets, chains kept
    // at gc_elasticity + 1 by rt_intern_hash, §4.2, never reach it). The sweeps that free nothing keep young
    // unreferenced entries; expire halves at each missed goal and a later sweep frees them (§3.2 step 7.7).
    // Backing off there for gc_min_interval, as after a sweep that met only held entries, left forward mode
    // caching 188 of the 600,000 frames where the kernel's algorithm caches 95,331.
    const outcome = (forward: boolean) => {
      const { cache, fib } = router({ buckets: 16 });
      cache.set("overflowForward", forward ? 1 : 0);
      cache.set("maxSize", 64);
      const sweeps = new GcStepTimer(fib.core);
      let n = 0;
      sweeps.onStep((s) => void (s.kind === "garbage_collect" && n++));
      let x = 0x9e3779b9;
      let cached = 0;
      const d = delta(cache, () => {
        for (let t = 1000; t < 3000; t++) {
          const keys = Array.from({ length: 300 }, () => {
            x = (Math.imul(x, 1103515245) + 12345) >>> 0;
            return key("8.8.8.8", `11.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`);
          });
          for (const a of cache.input(keys, t)) if (a.cached) cached++;
        }
      });
      return { cached, sweeps: n, d };
    };
    const fwd = outcome(true), kernel = outcome(false);
    expect(fwd.d.gc_dst_overflow).toBeGreaterThan(1000); // max_size was reached and the GC gave up often
    expect(fwd.d).toEqual(kernel.d); // the same counters: forward mode never backed off
    expect(fwd.sweeps).toBe(kernel.sweeps);
    expect(fwd.cached).toBe(kernel.cached);
    expect(fwd.cached).toBeGreaterThan(0.1 * 600_000); // about 16 % here; 188 frames (0.03 %) with the back-off
  });

  it("--overflow-backoff: after a gc_dst_overflow, misses at max_size skip the GC for the back-off, forwarded uncached; then the GC runs again", () => {
    const { cache, fib } = router({ buckets: 16 });
    cache.set("maxSize", 64);
    cache.set("overflowBackoffMs", 100);
    const sweeps = new GcStepTimer(fib.core);
    let n = 0;
    sweeps.onStep((s) => void (s.kind === "garbage_collect" && n++));
    let x = 0x9e3779b9;
    const fresh = (count: number) =>
      Array.from({ length: count }, () => {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        return key("8.8.8.8", `11.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`);
      });
    // fill to max_size with young entries, until a GC at max_size gives up
    let t = 1000;
    while (cache.counters()[C.gc_dst_overflow] === 0 && t < 1100) cache.input(fresh(300), t++);
    expect(cache.counters()[C.gc_dst_overflow]).toBeGreaterThan(0);
    expect(cache.allocated).toBe(64);
    cache.takeEvents();
    // inside the back-off: no GC at all (no sweep, no counter), every miss forwarded uncached
    n = 0;
    let answers: ReturnType<typeof cache.input> = [];
    const d = delta(cache, () => (answers = cache.input(fresh(500), t + 50)));
    expect(n).toBe(0);
    expect(d.gc_total ?? 0).toBe(0);
    expect(d.gc_dst_overflow ?? 0).toBe(0);
    expect(d.in_slow_tot).toBe(500);
    expect(answers.every((a) => !a.cached && a.type === 1 && a.gateway === ip("192.0.2.254"))).toBe(true);
    expect(cache.takeEvents()).toMatchObject({ uncached: 500, overflow: 0 });
    // past the back-off the GC runs again at the next miss; it gives up again, a new back-off from there
    const after = delta(cache, () => cache.input(fresh(1), t + 150));
    expect(after).toMatchObject({ gc_total: 1, gc_dst_overflow: 1 });
    expect(n).toBeGreaterThan(0);
    expect(delta(cache, () => cache.input(fresh(5), t + 151)).gc_total ?? 0).toBe(0);
    // a new genid ends the back-off
    cache.flush(-1, t + 152);
    expect(delta(cache, () => cache.input(fresh(1), t + 153)).gc_total).toBe(1);
    const u = t + 154;
    // 0 (the default) is the kernel's behaviour: a GC at every miss at max_size
    cache.set("overflowBackoffMs", 0);
    for (let i = 0; i < 300 && cache.allocated < 64; i++) cache.input(fresh(50), u + 2);
    expect(cache.allocated).toBe(64);
    expect(delta(cache, () => cache.input(fresh(10), u + 2)).gc_total).toBe(10);
  });

  it("a reference leak: flushed entries stay allocated on the garbage list until released (§7)", () => {
    const { cache } = router();
    const held = cache.input(Array.from({ length: 50 }, (_, i) => key(`8.8.${i}.8`, "10.0.0.5")), 1000, true);
    cache.input(Array.from({ length: 50 }, (_, i) => key(`8.9.${i}.8`, "10.0.0.5")), 1000);
    cache.flush(0, 2000);
    expect(cache.hashed).toBe(0);
    expect(cache.allocated).toBe(50); // the held ones: unhashed but referenced
    expect(cache.garbage).toBe(50);
    expect(cache.garbageOldestAgeMs(62_000)).toBe(61_000);
    for (let t = 2000; t < 200_000; t += 100) cache.tick(t); // the reaper backs off but frees nothing
    expect(cache.allocated).toBe(50);
    for (const h of held.slice(0, 30)) cache.release(h.entry);
    for (let t = 200_000; t < 400_000; t += 100) cache.tick(t);
    expect(cache.allocated).toBe(20);
    expect(cache.garbage).toBe(20);
  });

  it("the reaper frees exactly the released garbage, and the leak census stays exact, whatever the order of holds, flushes and releases (§7.3)", () => {
    // The reaper skips its walk when no garbage-listed entry is free, and the census is kept as entries
    // are parked (a leak's held entries cost nothing per reap or per sample); this checks that neither
    // count misses a released, reaped or newly parked entry.
    for (let seed = 1; seed <= 6; seed++) {
      const { cache } = router();
      let x = seed * 2654435761;
      const rnd = (n: number) => ((x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) % n);
      const held: number[] = [];
      // The reference for the leak census: each held entry's last use (its insertion) and whether a
      // flush has parked it on the garbage list.
      const info = new Map<number, { used: number; parked: boolean }>();
      const checkCensus = () => {
        const parked = held.map((h) => info.get(h)!).filter((i) => i.parked);
        const host = cache.holders(t).find((c) => c.holder === "host");
        expect(host?.garbage ?? 0, `seed ${seed}: census count`).toBe(parked.length);
        if (parked.length > 0) expect(host!.oldestMs, `seed ${seed}: census oldest`).toBe(t - Math.min(...parked.map((i) => i.used)));
      };
      let t = 1000;
      let next = 0;
      for (let step = 0; step < 300; step++) {
        const k = rnd(11);
        if (k < 4) {
          const answers = cache.input(Array.from({ length: 1 + rnd(20) }, () => key(`8.${(next >> 8) & 255}.${next++ & 255}.8`, "10.0.0.5")), t, true);
          for (const a of answers) {
            if (!a.entry) continue;
            held.push(a.entry);
            info.set(a.entry, { used: t, parked: false });
          }
        } else if (k < 5) {
          cache.flush(0, t);
          for (const h of held) info.get(h)!.parked = true;
        } else if (k < 7 && held.length > 0) cache.release(held.splice(rnd(held.length), 1)[0]!);
        else if (k < 10) for (let i = 0; i < 1 + rnd(30); i++) cache.tick((t += 100));
        else checkCensus();
      }
      checkCensus();
      cache.flush(0, t);
      for (let i = 0; i < 3000; i++) cache.tick((t += 100)); // 300 s: every back-off has fired
      expect(cache.allocated, `seed ${seed}`).toBe(held.length);
      expect(cache.garbage, `seed ${seed}`).toBe(held.length);
      for (const h of held) cache.release(h);
      for (let i = 0; i < 3000; i++) cache.tick((t += 100));
      expect([cache.allocated, cache.garbage], `seed ${seed}`).toEqual([0, 0]);
    }
  });

  it("a late periodic scan runs once at the real time: it keeps what was just used, ages the rest (§4.1)", () => {
    const { cache } = router({ buckets: 4 });
    cache.input([key("8.8.4.4", "10.0.0.5")], 0); // idle from t = 0
    cache.input([key("8.8.8.8", "10.0.0.5")], 499_990); // used 10 ms before the (very late) tick
    cache.tick(500_000);
    expect(cache.input([key("8.8.8.8", "10.0.0.5")], 500_001)[0]!.cached).toBe(true);
    expect(cache.hashed).toBe(1); // the idle one went (500 s > gc_timeout)
  });

  it("the garbage timer restarts at 100 ms when an entry arrives after it backed off (§7.3)", () => {
    const { cache } = router({ buckets: 16 });
    const [a] = cache.input([key("8.8.1.1", "10.0.0.5")], 0, true);
    cache.flush(0, 0); // A unhashed, still held: garbage; timer at 100 ms
    cache.tick(100); // frees nothing: backs off (next try 600 ms later)
    const [b] = cache.input([key("8.8.2.2", "10.0.0.5")], 150, true);
    cache.release(a!.entry);
    cache.flush(0, 150); // B joins the garbage list: the backed-off timer restarts at 100 ms
    cache.tick(249);
    expect(cache.allocated).toBe(2);
    cache.tick(250);
    expect(cache.allocated).toBe(1); // A freed at 250, not at 700
    cache.release(b!.entry);
  });

  it("the garbage timer backs off by growing steps, firing on whole seconds above 4 s (§7.3, §9.7 #20)", () => {
    const { cache } = router({ buckets: 16 });
    const held = cache.input(Array.from({ length: 100 }, (_, i) => key(`8.8.${i}.1`, "10.0.0.5")), 0, true);
    cache.flush(0, 0);
    let released = 0;
    cache.release(held[released++]!.entry);
    const runs: number[] = [];
    let last = cache.allocated;
    for (let t = 10; t <= 200_000 && runs.length < 11; t += 10) {
      cache.tick(t);
      if (cache.allocated < last) {
        runs.push(t);
        last = cache.allocated;
        cache.release(held[released++]!.entry); // one freeable entry per run: never more than a tenth
      }
    }
    const gaps = runs.map((t, i) => t - (i ? runs[i - 1]! : 0));
    // delay 100, then +500, +1000, +1500 … (100, 600, 1600, 3100, 5100, 7600, 10600, 14100, 18100, 22600,
    // 27600); over 4 s the timer fires on the rounded second, the delay itself keeps growing
    expect(gaps).toEqual([100, 600, 1600, 3100, 5000, 8000, 11000, 14000, 18000, 23000, 28000]);
    for (const h of held.slice(released)) cache.release(h.entry);
  });

  it("periodic scan every gc_interval ages idle entries and recomputes rt_chain_length_max (§4.1)", () => {
    const { cache } = router({ buckets: 64 });
    cache.input(Array.from({ length: 300 }, (_, i) => key(`8.${i >> 8}.${i & 255}.8`, "10.0.0.5")), 0);
    const n0 = cache.hashed;
    for (let t = 0; t <= 30 * 60_000; t += 1000) cache.tick(t); // half an hour idle
    expect(cache.hashed).toBeLessThan(n0);
    expect(cache.state().chainLengthMax).toBeGreaterThanOrEqual(8); // max(elasticity, avg + 4σ)
  });
});
