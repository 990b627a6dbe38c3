// The WASM route cache against the plain reference model written from the spec
// (test/ref/route-cache-model.ts, kernel-route-cache.md §3, §4.1–4.2, §7): the same operation stream —
// inputs (new flows, repeats, aliases, held references), releases, ticks, flushes — goes to both, and
// after every step the two must agree on hashed, allocated, the garbage list, every chain's length, the
// GC state (expire, equilibrium), rt_chain_length_max, the rebuild count, the genid and the counters
// gc_total, gc_ignored, gc_goal_miss, gc_dst_overflow, in_hit, in_slow_tot, in_hlist_search.
// Streams (a)–(d) run in the default overflow mode (forward uncached, with its barren-sweep back-off);
// (e) runs (a)'s and (c)'s streams in the kernel's (drop with ENOBUFS, a sweep at every call).
//
// How the two are kept in step:
// - Keys are plain forwarded flows (unicast sources and destinations outside 0/8, 10/8, 127/8, 224/3 and
//   the router's own 192.0.2/24, arriving on eth0), so every entry is an ordinary unicast entry with
//   flags 0 and the model needs no routing.
// - Genid steps are random (§2, §4.4) and drawn by the core from its own seeded xorshift32: after a flush
//   or an emergency rebuild the model takes the new genid from the core (`cache.state().genid`).
// - The first periodic scan is at a random point in [gc_interval, 2·gc_interval) (§4.1), also drawn by
//   the core. It depends only on the seed, so it is found by probing a twin cache with the same seed
//   (firstScanAt), and the model is told.
// - Known divergences of the core from the spec are kept out of the streams, not encoded here (see the
//   report that came with this file):
//   · The core runs a periodic scan that is overdue when tick(now) comes "at" its scheduled time, so
//     entries used between that time and the tick look ~2^32 ms old and are freed (§3.3, §4.1); the
//     model runs it at the tick's time, as a late timer does. The streams tick exactly at every
//     scheduled scan time, where the two agree.
//   · The dst garbage timer does not restart at 100 ms when new garbage arrives while it is backed off
//     (§7.3 step 2.3), and rounds its stored delay down to whole seconds above 4 s (§7.3 step 3). The
//     timer only backs off when a run finds referenced entries on the garbage list, so in streams (a)
//     and (b) every reference to an entry on the garbage list is given back before each tick; in
//     stream (c) every reference is held to the end, so no reaper run can free anything until then.
import { describe, it, expect } from "vitest";
import { Fib } from "../host/fib/fib.ts";
import { RouteCache, type InputKey } from "../host/cache/cache.ts";
import type { CacheEntryView } from "../host/cache/show-cache.ts";
import { RouteCacheModel, DST_GC_MAX, type ModelEntry } from "./ref/route-cache-model.ts";
import { prng } from "./ref/prng.ts";
import { NO_WAKE } from "../host/router/tick-schedule.ts";
import { HostTick } from "./lib/host-tick.ts";

const ip = (s: string) => s.split(".").reduce((a, o) => a * 256 + Number(o), 0) >>> 0;
// Counter indexes in /proc/net/stat/rt_cache order (§5.1).
const C = { in_hit: 1, in_slow_tot: 2, gc_total: 11, gc_ignored: 12, gc_goal_miss: 13, gc_dst_overflow: 14, in_hlist_search: 15 } as const;
const SECRET = 0x2545f491;

/** eth0 10.0.0.1/24, eth1 192.0.2.1/24, default via 192.0.2.254 dev eth1; forwarding on, rp_filter 0. */
function router(buckets: number, seed: number): RouteCache {
  const fib = new Fib();
  const on = (dev: string) => [{ gateway: 0, dev, weight: 1, onlink: false }];
  fib.addRoute({ prefix: ip("10.0.0.0"), len: 24, type: "unicast", table: 254, metric: 0, nexthops: on("eth0") });
  fib.addRoute({ prefix: ip("192.0.2.0"), len: 24, type: "unicast", table: 254, metric: 0, nexthops: on("eth1") });
  fib.addRoute({ prefix: ip("10.0.0.1"), len: 32, type: "local", table: 255, metric: 0, nexthops: on("eth0") });
  fib.addRoute({ prefix: ip("192.0.2.1"), len: 32, type: "local", table: 255, metric: 0, nexthops: on("eth1") });
  fib.addRoute({ prefix: ip("10.0.0.255"), len: 32, type: "broadcast", table: 255, metric: 0, nexthops: on("eth0") });
  fib.addRoute({ prefix: 0, len: 0, type: "unicast", table: 254, metric: 0, nexthops: [{ gateway: ip("192.0.2.254"), dev: "eth1", weight: 1, onlink: false }] });
  const cache = new RouteCache(fib, { buckets, secret: SECRET, seed, now: 0 });
  for (const dev of ["eth0", "eth1"]) cache.setInterface(dev, { forwarding: true, rpFilter: 0, hasAddresses: true });
  return cache;
}

/** When the core's first periodic scan runs: a twin with the same seed, ticked every ms until it has scanned. */
function firstScanAt(buckets: number, seed: number): number {
  const twin = router(buckets, seed);
  for (let t = 60_000; t < 120_000; t++) {
    twin.tick(t);
    if (twin.state().chainLengthMax !== 20) return t; // the first scan recomputes it (B ≥ 5: it sees ≥ 1 bucket)
  }
  throw new Error("no periodic scan in [gc_interval, 2·gc_interval)");
}

/** A random unicast address outside 0/8, 10/8, 127/8, 224/3 and 192.0.2/24. */
function unicast(rnd: () => number): number {
  for (;;) {
    const a = rnd() >>> 0;
    const o = a >>> 24;
    if (o === 0 || o === 10 || o === 127 || o >= 224 || a >>> 8 === 0xc00002) continue;
    return a;
  }
}

/** A flow as the stream makes it; the core takes the interface by name, the model by index. */
interface Flow {
  dst: number;
  src: number;
  tos: number; // a multiple of 4 below 0x20: kept as is by the input path's tos & 0x1c
  mark: number;
}

interface Held {
  wasm: number;
  model: ModelEntry;
}

/** The core and the model, driven together and compared. */
class Pair {
  readonly cache: RouteCache;
  readonly model: RouteCacheModel;
  readonly B: number;
  readonly eth0: number;
  held: Held[] = [];
  steps = 0;
  label: string;
  /** coverage: what the stream went through */
  seen = { dumped: 0, staleDumped: 0, maxAllocated: 0, aggressive: 0, normal: 0, hits: 0, uncached: 0, garbageMax: 0, scans: 0, scanMaxOverElasticity: 0 };

  /** The kernel's overflow mode (drop with ENOBUFS) instead of the default forward mode. */
  readonly overflowKernel: boolean;
  /** The host's tick (test/lib/host-tick.ts); the first runs at start. */
  private readonly host = new HostTick(0);
  private lastNow = 0;

  constructor(B: number, seed: number, label: string, overflowKernel = false) {
    this.overflowKernel = overflowKernel;
    this.B = B;
    this.label = label;
    this.cache = router(B, seed);
    if (overflowKernel) this.cache.set("overflowForward", 0);
    this.eth0 = this.cache.fib.ifaces.index("eth0");
    this.model = new RouteCacheModel({
      buckets: B, secret: SECRET, now: 0, genid: this.cache.state().genid, firstScanAt: firstScanAt(B, seed),
      nextGenid: () => this.cache.state().genid, // read back from the core after its step (see the header)
      knobs: { overflowForward: !overflowKernel },
    });
    this.compare("start");
  }

  set(param: "gcElasticity" | "gcMinIntervalMs" | "gcTimeoutMs" | "gcIntervalMs", v: number): void {
    this.cache.set(param, v);
    this.model.knobs[param] = v;
    this.compare(`set ${param} ${v}`);
  }

  input(f: Flow, now: number, hold: boolean): void {
    const m = this.model, k = this.model.knobs;
    // coverage only: which GC regime an ungated call would be in (§3.2 step 4)
    if (m.allocated > k.gcThresh && ((now - m.gc.lastGc) >>> 0 >= k.gcMinIntervalMs || m.allocated >= k.maxSize)) {
      if (m.allocated > k.gcElasticity * this.B) this.seen.aggressive++;
      else this.seen.normal++;
    }
    const key: InputKey = { dst: f.dst, src: f.src, iif: "eth0", tos: f.tos, mark: f.mark };
    const [a] = this.cache.input([key], now, hold);
    const r = m.input({ dst: f.dst, src: f.src, iif: this.eth0, tos: f.tos, mark: f.mark }, now, hold);
    this.steps++;
    const what = `input ${JSON.stringify(f)} at ${now}${hold ? " (held)" : ""}`;
    // a plain forwarded unicast entry; uncached only when the GC gave up: forwarded in forward mode, dropped
    // with ENOBUFS in kernel mode (§3.2 step 8)
    if (this.overflowKernel && r.entry === null) expect(a, `${this.label}: ${what}`).toMatchObject({ type: 0, error: -105, cached: false, entry: 0 });
    else expect(a, `${this.label}: ${what}`).toMatchObject({ type: 1, error: 0, gateway: ip("192.0.2.254"), flags: 0, cached: r.cached });
    expect(a!.entry !== 0, `${this.label}: ${what}: reference taken`).toBe(hold && r.entry !== null);
    if (hold && r.entry) this.held.push({ wasm: a!.entry, model: r.entry });
    if (r.hit) this.seen.hits++;
    if (!r.entry) this.seen.uncached++;
    this.seen.maxAllocated = Math.max(this.seen.maxAllocated, m.allocated);
    this.seen.garbageMax = Math.max(this.seen.garbageMax, m.garbage.length);
    this.compare(what);
    this.noteWake(now, false, what);
  }

  release(i: number): void {
    const [h] = this.held.splice(i, 1);
    this.cache.release(h!.wasm);
    this.model.release(h!.model);
    this.compare("release");
    this.noteWake(this.lastNow, false, "release");
  }

  /** Gives back every reference to an entry on the garbage list (see the header: reaper divergences). */
  releaseGarbageHeld(): void {
    for (let i = this.held.length - 1; i >= 0; i--) if (this.held[i]!.model.state === "garbage") this.release(i);
  }

  tick(now: number): void {
    this.cache.tick(now);
    this.model.tick(now);
    this.compare(`tick ${now}`);
    this.noteWake(now, true, `tick ${now}`);
  }

  flush(v: number, now: number): void {
    this.cache.flush(v, now);
    this.model.flush(v, now);
    this.compare(`flush ${v} at ${now}`);
    this.noteWake(now, false, `flush ${v} at ${now}`);
  }

  private snapshotWasm() {
    const c = this.cache.counters();
    const s = this.cache.state();
    const counters: Record<string, number> = {};
    for (const [k, i] of Object.entries(C)) counters[k] = c[i]!;
    return {
      hashed: this.cache.hashed, allocated: this.cache.allocated, garbage: this.cache.garbage,
      expire: s.expireMs, equilibrium: s.equilibrium, chainLengthMax: s.chainLengthMax, rebuildCount: s.rebuildCount,
      genid: s.genid, cachingDisabled: s.cachingDisabled, counters,
      chains: Array.from({ length: this.B }, (_, b) => this.cache.chainLength(b)),
    };
  }

  private snapshotModel() {
    const m = this.model;
    const counters: Record<string, number> = {};
    for (const k of Object.keys(C) as (keyof typeof C)[]) counters[k] = m.counters[k];
    return {
      hashed: m.hashed, allocated: m.allocated, garbage: m.garbage.length,
      expire: m.gc.expire, equilibrium: m.gc.equilibrium, chainLengthMax: m.chainLengthMax, rebuildCount: m.rebuildCount,
      genid: m.genid, cachingDisabled: m.cachingDisabled, counters,
      chains: Array.from({ length: this.B }, (_, b) => m.chainLength(b)),
    };
  }

  /** Keeps the host's tick after a step at `now`, and checks it never comes after the model's next timer. */
  private noteWake(now: number, tick: boolean, what: string): void {
    const x = this.cache.fib.core.x;
    this.lastNow = now;
    const due = this.model.nextWake();
    if (tick) {
      const d = x.core_next_wake(now) >>> 0;
      expect(d, `${this.label}: ${what}: next wake`).toBe(due === undefined ? NO_WAKE : Math.max(0, due - now));
      this.host.set(now, d);
    } else this.host.sooner(now, x.core_wake_take(now));
    this.host.check(now, due, `${this.label}: ${what}`);
  }

  /**
   * `ip route show cache`'s dump (§1.6: hashed entries of the current genid, bucket by bucket, each chain
   * from its head) against the model's chains, whole and in pieces of 1, 3 and 7 entries resumed where the
   * last stopped (the kernel's rt_dump s_h / s_idx). Nothing changes between the pieces here.
   */
  compareDump(now: number): void {
    const m = this.model;
    const want = m.chains.flatMap((chain) =>
      chain.filter((e) => !m.isStale(e)).map((e) => ({ dst: e.dst, src: e.src, tos: e.tos, mark: e.mark || undefined, refcnt: e.refcnt, use: e.use, age: (now - e.lastuse) >>> 0 })),
    );
    const view = (e: CacheEntryView) => ({ dst: e.dst, src: e.src, tos: e.tos, mark: e.mark, refcnt: e.refcnt, use: e.use, age: e.lastuseAgeMs });
    expect(this.cache.entries(now).map(view), `${this.label}, after step ${this.steps}: dump`).toEqual(want);
    for (const piece of [1, 3, 7]) {
      const pieces = [...this.cache.entryDump(() => now, piece)];
      expect(pieces.every((p) => p.length === piece) || pieces.slice(0, -1).every((p) => p.length === piece), `pieces of ${piece}`).toBe(true);
      expect(pieces.flat().map(view), `${this.label}, after step ${this.steps}: dump in pieces of ${piece}`).toEqual(want);
    }
    this.seen.dumped = Math.max(this.seen.dumped, want.length);
    this.seen.staleDumped += this.model.hashed - want.length;
  }

  compare(what: string): void {
    const got = this.snapshotWasm();
    const want = this.snapshotModel();
    if (JSON.stringify(got) !== JSON.stringify(want)) expect(got, `${this.label}, after step ${this.steps}: ${what}`).toEqual(want);
  }
}

interface StreamOpts {
  buckets: number;
  seed: number;
  steps: number;
  elasticity?: number;
  minIntervalMs?: number;
  gcTimeoutMs?: number;
  gcIntervalMs?: number;
  /** stream (a): now and then a burst of held flows (a "leak") that pushes the count to max_size */
  leaks?: boolean;
  /** stream (c): every input holds its reference until the end */
  holdAll?: boolean;
  /** the kernel's overflow mode instead of forward */
  overflowKernel?: boolean;
  /** compare `ip route show cache`'s dump with the model's chains every this many steps */
  dumpEvery?: number;
}

function runStream(o: StreamOpts): Pair {
  const rnd = prng(o.seed);
  const r = () => rnd() / 2 ** 32;
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)]!;
  const p = new Pair(o.buckets, o.seed, `B=${o.buckets} seed=${o.seed}${o.overflowKernel ? " kernel" : ""}`, o.overflowKernel);
  if (o.elasticity !== undefined) p.set("gcElasticity", o.elasticity);
  if (o.minIntervalMs !== undefined) p.set("gcMinIntervalMs", o.minIntervalMs);
  if (o.gcTimeoutMs !== undefined) p.set("gcTimeoutMs", o.gcTimeoutMs);
  // (the first scan stays where the core drew it at start; later ones follow the new interval)
  if (o.gcIntervalMs !== undefined) p.set("gcIntervalMs", o.gcIntervalMs);
  const B = o.buckets;
  const pool: Flow[] = []; // recent flows, for repeats and aliases
  const remember = (f: Flow) => {
    pool.push(f);
    if (pool.length > 4 * B) pool.splice(Math.floor(r() * pool.length), 1);
  };
  let now = 0;
  let nextScan = p.model.scan.next;
  // Ticks: the scheduled scans exactly on time, and occasional ones at random points.
  const tick = (t: number) => {
    if (!o.holdAll) p.releaseGarbageHeld();
    p.tick(t);
  };
  const send = (f: Flow, hold: boolean) => p.input(f, now, hold || !!o.holdAll);
  for (let step = 0; step < o.steps; step++) {
    const u = r();
    now += u < 0.25 ? 0 : u < 0.5 ? Math.floor(r() * 50) : Math.floor(r() * 800); // irregular, 0–800 ms
    while (nextScan <= now) {
      tick(nextScan);
      p.seen.scans++;
      p.seen.scanMaxOverElasticity = Math.max(p.seen.scanMaxOverElasticity, p.model.chainLengthMax - p.model.knobs.gcElasticity);
      nextScan += p.model.knobs.gcIntervalMs;
    }
    const a = r();
    if (a < 0.45) {
      // new flows: usually a few, sometimes a burst of several chains' worth, or (a) a leak of 6–16 per bucket
      const leak = o.leaks && r() < 0.01;
      const n = leak ? (6 + Math.floor(r() * 11)) * B : r() < 0.05 ? Math.floor(r() * 3 * B) : 1 + Math.floor(r() * 4);
      const holdBurst = leak || r() < 0.15;
      for (let i = 0; i < n; i++) {
        const f = { dst: unicast(rnd), src: unicast(rnd), tos: 0, mark: 0 };
        send(f, holdBurst || r() < 0.08);
        remember(f);
      }
    } else if (a < 0.68 && pool.length) {
      for (let i = 1 + Math.floor(r() * 4); i > 0; i--) send(pick(pool), r() < 0.05); // repeats: hits, or misses once evicted
    } else if (a < 0.8 && pool.length) {
      // aliases: same hash inputs, other tos or mark values (§1.3)
      const f = pick(pool);
      for (let i = 1 + Math.floor(r() * 3); i > 0; i--) {
        const g = r() < 0.7 ? { ...f, tos: 4 * (1 + Math.floor(r() * 7)) } : { ...f, mark: 1 + Math.floor(r() * 3) };
        send(g, r() < 0.1);
        remember(g);
      }
    } else if (a < 0.92) {
      if (!o.holdAll) {
        const n = r() < 0.2 ? Math.ceil(p.held.length / 3) : Math.floor(r() * 6);
        for (let i = n; i > 0 && p.held.length; i--) p.release(Math.floor(r() * p.held.length));
      }
    } else if (a < 0.975) {
      tick(now);
    } else if (a < 0.99 || o.holdAll) {
      p.flush(-1, now);
    } else {
      p.flush(1, now);
    }
    if (o.dumpEvery && step % o.dumpEvery === 0) p.compareDump(now);
  }
  // The end: every reference given back; within 120 s (DST_GC_MAX) the reaper frees the garbage list.
  while (p.held.length) p.release(p.held.length - 1);
  const end = now + DST_GC_MAX;
  while (nextScan <= end) {
    p.cache.tick(nextScan); // (no comparison between these ticks: the two reapers may run at different
    p.model.tick(nextScan); //  times here, stream (c) having let the core's timer back off; see the header)
    nextScan += p.model.knobs.gcIntervalMs;
  }
  p.tick(end);
  expect(p.model.garbage.length).toBe(0);
  return p;
}

describe("route cache vs the reference model (GC state machine, periodic scan, insertion, dst lifecycle)", () => {
  it.each([
    [16, 101],
    [32, 102],
    [64, 103],
  ])("(a) defaults (gc_thresh = B, max_size = 16B), with leaks: B=%i, seed %i", (buckets, seed) => {
    const p = runStream({ buckets, seed, steps: 2500, leaks: true });
    const c = p.model.counters;
    // the stream went where it was meant to: both GC regimes, gating, misses, max_size, hits, scans
    expect(p.seen.normal).toBeGreaterThan(0);
    expect(p.seen.aggressive).toBeGreaterThan(0);
    expect(c.gc_ignored).toBeGreaterThan(0);
    expect(c.gc_goal_miss).toBeGreaterThan(0);
    expect(c.gc_dst_overflow).toBeGreaterThan(0);
    expect(c.in_hit).toBeGreaterThan(0);
    expect(p.seen.scans).toBeGreaterThan(3);
    expect(p.model.barrenSkips).toBeGreaterThan(0); // forward mode skipped sweeps after a barren one at max_size
  });

  it.each([
    { buckets: 16, seed: 201, leaks: false },
    { buckets: 16, seed: 205, leaks: true },
    { buckets: 32, seed: 202, leaks: false },
    { buckets: 64, seed: 203, leaks: false },
    { buckets: 64, seed: 204, leaks: true },
  ])("(b) as (a) with gc_elasticity 2, gc_min_interval_ms 0: B=$buckets, seed $seed, leaks $leaks", ({ buckets, seed, leaks }) => {
    const p = runStream({ buckets, seed, steps: 2500, leaks, elasticity: 2, minIntervalMs: 0 });
    expect(p.seen.aggressive).toBeGreaterThan(0);
    expect(p.model.counters.gc_ignored).toBe(0);
    expect(p.model.rebuildCount).toBeGreaterThan(0);
    // with leaks: max_size; without, caching stays on longer and the avg + 4σ limit rises above elasticity
    if (leaks) expect(p.model.counters.gc_dst_overflow).toBeGreaterThan(0);
    else expect(p.seen.scanMaxOverElasticity).toBeGreaterThan(0);
  });

  it.each([
    [16, 301],
    [32, 302],
  ])("(c) overflow, every reference held: B=%i, seed %i", (buckets, seed) => {
    const p = runStream({ buckets, seed, steps: 1500, holdAll: true });
    expect(p.model.counters.gc_dst_overflow).toBeGreaterThan(0);
    expect(p.seen.garbageMax).toBeGreaterThan(0);
    expect(p.model.barrenSkips).toBeGreaterThan(0);
  });

  it.each([
    { buckets: 16, seed: 501, holdAll: false },
    { buckets: 64, seed: 502, holdAll: false },
    { buckets: 16, seed: 503, holdAll: true },
  ])("(e) as (a) and (c) in the kernel's overflow mode (drop, sweep at every call): B=$buckets, seed $seed, hold all $holdAll", ({ buckets, seed, holdAll }) => {
    const p = runStream({ buckets, seed, steps: holdAll ? 1500 : 2500, leaks: !holdAll, holdAll, overflowKernel: true });
    expect(p.model.counters.gc_dst_overflow).toBeGreaterThan(0);
    expect(p.seen.uncached).toBeGreaterThan(0); // inputs dropped for overflow
    expect(p.model.barrenSkips).toBe(0);
  });

  it("(f) the cache's dump (ip route show cache), whole and resumed in pieces, lists what the model's chains hold", () => {
    const p = runStream({ buckets: 16, seed: 601, steps: 1500, leaks: true, dumpEvery: 25 });
    expect(p.seen.dumped).toBeGreaterThan(100); // dumps of long chains
    expect(p.seen.staleDumped).toBeGreaterThan(0); // with stale entries hashed (a lazy flush) skipped
  });

  it.each([
    [16, 401],
    [64, 402],
  ])("(d) gc_timeout 30 s, gc_interval 5 s: frequent periodic scans, B=%i, seed %i", (buckets, seed) => {
    const p = runStream({ buckets, seed, steps: 2500, gcTimeoutMs: 30_000, gcIntervalMs: 5_000, leaks: true });
    expect(p.seen.scans).toBeGreaterThan(50);
  });
});
