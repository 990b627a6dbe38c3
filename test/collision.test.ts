// Issue #7, collision attack on the route cache (kernel-route-cache.md §1.3, §4.2, §4.3, §9.3 #12, §9.4 #14).
// The bucket is jhash_3words(dst, src, iif, secret + genid) & mask (test/ref/jhash.ts).
//  - An attacker who knows jhash but not the secret aims keys at one bucket for a secret of their own:
//    against the real secret they spread like random keys, and no chain grows past gc_elasticity + 1,
//    whether the entries are idle (what packets leave behind) or all held referenced.
//  - With the secret known (injected by the test), the same keys hit one bucket: idle entries keep the
//    chain at elasticity + 1 (rt_score eviction); referenced ones trigger the emergency rebuild, and
//    after rt_cache_rebuild_count (4) rebuilds caching is disabled — visible in the counters, the events
//    and the router's log — while the data plane keeps forwarding, uncached.
import { describe, it, expect, vi, afterEach } from "vitest";
import { Fib } from "../host/fib/fib.ts";
import { RouteCache } from "../host/cache/cache.ts";
import { Router } from "../host/router/router.ts";
import { parseConfig } from "../host/router/config.ts";
import { Logger } from "../host/router/logger.ts";
import { parseMac } from "../host/router/mac.ts";
import { udpDatagram } from "../host/sim/frames.ts";
import { jhash3 } from "./ref/jhash.ts";

const ip = (s: string) => s.split(".").reduce((a, o) => a * 256 + Number(o), 0) >>> 0;
const C = { in_hit: 1, in_slow_tot: 2 } as const;
const B = 1024;
const ELASTICITY = 8;
const REAL_SECRET = 0x5eed1e55;
const GUESSED_SECRET = 0x0badc0de; // what the attacker assumes (e.g. a secret they recovered from another box)
const DST = ip("172.16.5.5");

/** n sources (1.0.0.0/8 upward, all plain unicast) whose key (DST, src, iif) lands in `bucket` under secret + genid. */
function craft(n: number, iif: number, secret: number, genid: number, bucket = 0, from = 0): number[] {
  const out: number[] = [];
  for (let s = from + 1; out.length < n; s++) {
    const src = (0x01000000 + s) >>> 0;
    if ((jhash3(DST, src, iif, (secret + genid) >>> 0) & (B - 1)) === bucket) out.push(src);
  }
  return out;
}

function maxChain(cache: RouteCache): { max: number; at: number } {
  let max = 0, at = -1;
  for (let b = 0; b < cache.buckets; b++) {
    const l = cache.chainLength(b);
    if (l > max) [max, at] = [l, b];
  }
  return { max, at };
}

/** A cache with eth0 (the attacker's side, default route) and eth1 (172.16/12). */
function cacheWith(secret: number, flavor: "release" | "debug" = "release") {
  const fib = new Fib({ flavor });
  fib.addRoute({ prefix: ip("172.16.0.0"), len: 12, type: "unicast", table: 254, metric: 0, nexthops: [{ gateway: ip("192.0.2.2"), dev: "eth1", weight: 1, onlink: true }] });
  fib.addRoute({ prefix: 0, len: 0, type: "unicast", table: 254, metric: 0, nexthops: [{ gateway: ip("198.18.0.1"), dev: "eth0", weight: 1, onlink: true }] });
  const cache = new RouteCache(fib, { buckets: B, secret, seed: 9, now: 0 });
  for (const dev of ["eth0", "eth1"]) cache.setInterface(dev, { forwarding: true, rpFilter: 0, hasAddresses: true });
  cache.set("gcThresh", 1 << 20); // no GC: the chains show the inserts alone
  cache.set("maxSize", 1 << 22);
  return { fib, cache, iif: fib.ifaces.index("eth0") };
}

describe.each(["release", "debug"] as const)("collision attack, secret unknown (%s core)", (flavor) => {
  it("keys aimed at one bucket with a guessed secret spread out: idle entries, max chain ≤ elasticity + 1", () => {
    const { cache, iif } = cacheWith(REAL_SECRET, flavor);
    const g = cache.state().genid; // even the generation is given to the attacker
    const srcs = craft(20_000, iif, GUESSED_SECRET, g);
    for (let i = 0; i < srcs.length; i += 500) cache.input(srcs.slice(i, i + 500).map((src) => ({ dst: DST, src, iif: "eth0" })), 1000 + i);
    const { max } = maxChain(cache);
    expect(max).toBeLessThanOrEqual(ELASTICITY + 1);
    expect(cache.chainLength(0)).toBeLessThanOrEqual(ELASTICITY + 1);
    expect(cache.state().rebuildCount).toBe(0);
    // The keys are spread over the table, not piled up: nearly every bucket holds some.
    let used = 0;
    for (let b = 0; b < B; b++) if (cache.chainLength(b) > 0) used++;
    expect(used).toBeGreaterThan(B * 0.99);
  });

  it("even with every entry held referenced, no chain passes elasticity + 1 and nothing rebuilds", () => {
    const { cache, iif } = cacheWith(REAL_SECRET, flavor);
    const srcs = craft(1000, iif, GUESSED_SECRET, cache.state().genid);
    const answers = cache.input(srcs.map((src) => ({ dst: DST, src, iif: "eth0" })), 1000, true);
    expect(answers.every((a) => a.entry !== 0 && a.cached)).toBe(true);
    expect(maxChain(cache).max).toBeLessThanOrEqual(ELASTICITY + 1);
    expect(cache.state().rebuildCount).toBe(0);
    expect(cache.takeEvents()).toMatchObject({ rebuild: 0, disabled: 0 });
  });

  it("control: the same keys against a cache keyed with the guessed secret do pile into bucket 0", () => {
    const { cache, iif } = cacheWith(GUESSED_SECRET, flavor);
    const g = cache.state().genid;
    const srcs = craft(200, iif, GUESSED_SECRET, g);
    cache.input(srcs.map((src) => ({ dst: DST, src, iif: "eth0" })), 1000);
    expect(cache.chainLength(0)).toBe(ELASTICITY + 1); // idle entries: rt_score eviction holds it at 9 (§4.2 step 3)
    expect(maxChain(cache)).toEqual({ max: ELASTICITY + 1, at: 0 });
    expect(cache.hashed).toBe(ELASTICITY + 1);
  });
});

// ── the same through a running router, secret injected ─────────────────────────

const CONFIG = `
link add p1 type pcap address 02:77:00:00:01:01
link add p2 type pcap address 02:77:00:00:02:01
addr add 10.201.1.1/24 dev p1
addr add 10.201.2.1/24 dev p2
neigh add 10.201.1.3 lladdr 02:00:00:00:01:03 dev p1
neigh add 10.201.2.2 lladdr 02:00:00:00:02:02 dev p2
route add 172.16.0.0/12 via 10.201.2.2 dev p2
route add 0.0.0.0/0 via 10.201.1.3 dev p1
`;
const R1 = parseMac("02:77:00:00:01:01");
const INET = parseMac("02:00:00:00:01:03");

/** Starts the router with the cache secret (and seed) drawn from Math.random fixed: the test knows the secret. */
function routerWithSecret(secret: number, lines: string[], clock: { t: number }) {
  const spy = vi.spyOn(Math, "random").mockReturnValue(secret / 2 ** 32);
  try {
    return Router.start(parseConfig(CONFIG, "collision.conf"), { clock: () => clock.t, buckets: B, logger: new Logger("text", (l) => lines.push(l)) });
  } finally {
    spy.mockRestore();
  }
}

describe("collision attack on a running router (secret injected)", () => {
  let router: Router | undefined;
  afterEach(() => {
    router?.stop();
    router = undefined;
  });

  it("crafted frames through the data plane: unknown secret spreads them; known secret caps the chain at elasticity + 1", () => {
    const clock = { t: 1_000_000 };
    const lines: string[] = [];
    router = routerWithSecret(REAL_SECRET, lines, clock);
    const p1 = router.ports.get("p1")!.ifindex;
    expect(router.fib.ifaces.index("p1")).toBe(p1);
    const send = (srcs: number[]) => {
      for (let i = 0; i < srcs.length; i += 256) {
        clock.t += 1;
        const r = router!.dp.receive(p1, srcs.slice(i, i + 256).map((src) => udpDatagram({ srcMac: INET, dstMac: R1 }, src, DST, 1024, 53, 20)));
        expect(r.verdicts.every((v) => v === 0)).toBe(true);
      }
    };
    const g = router.cache.state().genid;
    send(craft(5000, p1, GUESSED_SECRET, g));
    expect(maxChain(router.cache).max).toBeLessThanOrEqual(ELASTICITY + 1);
    send(craft(2000, p1, REAL_SECRET, g, 77));
    expect(router.cache.chainLength(77)).toBe(ELASTICITY + 1);
    expect(maxChain(router.cache).max).toBe(ELASTICITY + 1);
    expect(router.cache.state().rebuildCount).toBe(0); // packets hold no reference past the call
  });

  it("referenced collisions: 5 emergency rebuilds, then caching disabled; logged; forwarding continues uncached", async () => {
    const clock = { t: 1_000_000 };
    const lines: string[] = [];
    router = routerWithSecret(REAL_SECRET, lines, clock);
    const cache = router.cache;
    const p1 = router.ports.get("p1")!.ifindex;
    const p2 = router.ports.get("p2")!.ifindex;
    const legit = () => udpDatagram({ srcMac: INET, dstMac: R1 }, ip("198.18.7.7"), ip("172.16.9.9"), 5000, 6000, 64);

    // Before: a legitimate flow hits the cache.
    let c0 = cache.counters();
    let r = router.dp.receive(p1, [legit(), legit(), legit()]);
    expect(r.verdicts).toEqual([0, 0, 0]);
    let c1 = cache.counters();
    expect(c1[C.in_hit]! - c0[C.in_hit]!).toBe(2);

    // The attack: per generation, 22 referenced entries in one bucket (> rt_chain_length_max 20).
    let from = 0;
    for (let round = 1; round <= 5; round++) {
      const g = cache.state().genid;
      const srcs = craft(22, p1, REAL_SECRET, g, 0, from);
      from = srcs[srcs.length - 1]! - 0x01000000;
      clock.t += 10;
      cache.input(srcs.map((src) => ({ dst: DST, src, iif: "p1" })), clock.t, true);
      expect(cache.state().rebuildCount).toBe(round);
      expect(cache.state().genid).not.toBe(g); // re-keyed by a genid bump (§4.2 step 4)
      expect(cache.state().cachingDisabled).toBe(round > 4);
    }
    // The router's once-a-second check turns the events into log lines.
    await new Promise((res) => setTimeout(res, 1100));
    expect(lines.some((l) => /Route hash chain too long! \(emergency rebuild\) \(count=5\)/.test(l))).toBe(true);
    expect(lines.some((l) => /5 rebuilds is over limit, route caching disabled/.test(l))).toBe(true);

    // After: the data plane still forwards, every packet through the slow path, nothing new hashed.
    const hashed = cache.hashed;
    c0 = cache.counters();
    r = router.dp.receive(p1, Array.from({ length: 50 }, legit));
    expect(r.verdicts).toEqual(Array(50).fill(0));
    expect(r.sent.filter((s) => s.oif === p2)).toHaveLength(50);
    expect(r.sent.every((s) => s.frame[22] === 63)).toBe(true);
    c1 = cache.counters();
    expect(c1[C.in_hit]! - c0[C.in_hit]!).toBe(0); // in_hit stops increasing (§9.4 #14)
    expect(c1[C.in_slow_tot]! - c0[C.in_slow_tot]!).toBe(50);
    expect(cache.hashed).toBeLessThanOrEqual(hashed);
    // Uncached (DST_NOCACHE) entries are freed when the packet is done: nothing piles up.
    const allocated = cache.allocated;
    router.dp.receive(p1, Array.from({ length: 200 }, legit));
    expect(cache.allocated).toBe(allocated);
  });
});
