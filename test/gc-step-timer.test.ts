// The GC step probe (assembly/cache/gc-probe.ts) and its host timer (host/cache/gc-step-timer.ts):
// every real GC step is reported once, with the entries it freed or the buckets it scanned, while
// gated (ignored) GC calls report nothing; the bounded mode's steps are each reported.
import { describe, it, expect } from "vitest";
import { Fib } from "../host/fib/fib.ts";
import { RouteCache } from "../host/cache/cache.ts";
import { GcStepTimer, type GcStep } from "../host/cache/gc-step-timer.ts";

const ip = (s: string) => s.split(".").reduce((a, o) => a * 256 + Number(o), 0) >>> 0;

function filledCache(flavor: "release" | "debug") {
  const fib = new Fib({ flavor });
  fib.addRoute({ prefix: ip("10.0.0.0"), len: 24, type: "unicast", table: 254, metric: 0, nexthops: [{ gateway: 0, dev: "eth0", weight: 1, onlink: false }] });
  fib.addRoute({ prefix: 0, len: 0, type: "unicast", table: 254, metric: 0, nexthops: [{ gateway: ip("10.0.0.254"), dev: "eth0", weight: 1, onlink: false }] });
  const cache = new RouteCache(fib, { buckets: 64, secret: 0x1234567, seed: 42, now: 0 });
  cache.setInterface("eth0", { forwarding: true, rpFilter: 0, hasAddresses: true });
  const timer = new GcStepTimer(fib.core);
  const steps: GcStep[] = [];
  timer.onStep((s) => steps.push(s));
  cache.set("gcThresh", 1 << 20); // fill first, without GC
  for (let i = 0; i < 700; i += 50) cache.input(Array.from({ length: 50 }, (_, j) => ({ dst: ip(`9.${(i + j) >> 8}.${(i + j) & 255}.1`), src: ip("10.0.0.5"), iif: "eth0" })), 0);
  cache.set("gcThresh", 64);
  return { cache, timer, steps, fib };
}

describe.each(["release", "debug"] as const)("GC step timer (%s core)", (flavor) => {
  it("reports each rt_garbage_collect sweep once, with what it freed; gated calls report nothing", () => {
    const { cache, timer, steps } = filledCache(flavor);
    expect(steps).toEqual([]); // filling ran no GC
    const before = cache.allocated;
    cache.gc(400_000);
    expect(steps.length).toBe(1);
    expect(steps[0]!.kind).toBe("garbage_collect");
    expect(steps[0]!.work).toBe(before - cache.allocated);
    expect(steps[0]!.work).toBeGreaterThan(0);
    expect(steps[0]!.seconds).toBeGreaterThanOrEqual(0);
    cache.gc(400_001); // within gc_min_interval: gc_ignored, no sweep
    expect(steps.length).toBe(1);
    expect(timer.summary.garbage_collect.steps).toBe(1);
    expect(timer.summary.garbage_collect.maxSeconds).toBe(steps[0]!.seconds);
  });

  it("reports every bounded step of gcStepBudget, and the periodic scan", () => {
    const { cache, steps, timer } = filledCache(flavor);
    cache.set("gcStepBudget", 16);
    for (let t = 0; t < 40; t++) cache.gc(400_000 + t);
    const collect = steps.filter((s) => s.kind === "garbage_collect");
    expect(collect.length).toBeGreaterThanOrEqual(4);
    expect(collect.every((s) => s.work <= 16 + 20)).toBe(true); // a chain may overshoot the budget
    cache.set("gcIntervalMs", 1000); // rt_check_expire every second
    cache.tick(401_000);
    cache.tick(403_500);
    const scans = steps.filter((s) => s.kind === "check_expire");
    expect(scans.length).toBeGreaterThanOrEqual(1);
    expect(scans.every((s) => s.work <= 64)).toBe(true); // elapsed × buckets / gc_timeout buckets scanned (§4.1), at most all 64
    expect(timer.summary.check_expire.steps).toBe(scans.length);
  });

  it("refuses a second timer on the same core", () => {
    const { fib } = filledCache(flavor);
    expect(() => new GcStepTimer(fib.core)).toThrow(/already timed/);
  });
});
