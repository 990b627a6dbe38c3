// Reference holders (assembly/cache/holders.ts): references taken through the ABI are counted per
// named holder, entries remember the holder of their latest reference, and the census of the
// garbage list (unhashed but referenced, §7.3) says who keeps what there — what lets the leak alarm
// name the holder (issue #7).
import { describe, it, expect } from "vitest";
import { Fib } from "../host/fib/fib.ts";
import { RouteCache } from "../host/cache/cache.ts";
import { LeakAlarm } from "../host/cache/leak-alarm.ts";

const ip = (s: string) => s.split(".").reduce((a, o) => a * 256 + Number(o), 0) >>> 0;

function rig(flavor: "release" | "debug") {
  const fib = new Fib({ flavor });
  fib.addRoute({ prefix: ip("10.0.0.0"), len: 24, type: "unicast", table: 254, metric: 0, nexthops: [{ gateway: 0, dev: "eth0", weight: 1, onlink: false }] });
  fib.addRoute({ prefix: 0, len: 0, type: "unicast", table: 254, metric: 0, nexthops: [{ gateway: ip("10.0.0.254"), dev: "eth0", weight: 1, onlink: false }] });
  const cache = new RouteCache(fib, { buckets: 256, secret: 7, seed: 7, now: 0 });
  cache.setInterface("eth0", { forwarding: true, rpFilter: 0, hasAddresses: true });
  const keys = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ dst: ip("9.0.0.0") + from + i, src: ip("10.0.0.5"), iif: "eth0" }));
  return { cache, keys };
}

describe.each(["release", "debug"] as const)("reference holders (%s core)", (flavor) => {
  it("counts references per holder and names who keeps the garbage list's entries", () => {
    const { cache, keys } = rig(flavor);
    const sockets = cache.holder("sockets");
    const queue = cache.holder("hold queue");
    expect(cache.holder("sockets")).toBe(sockets); // registered once
    const a = cache.input(keys(0, 30), 1000, sockets);
    const b = cache.input(keys(100, 10), 1000, queue);
    cache.input(keys(200, 5), 1000); // noref: nobody holds these
    expect(a.every((x) => x.entry !== 0) && b.every((x) => x.entry !== 0)).toBe(true);
    expect(cache.holders(1000)).toEqual([
      { holder: "sockets", refs: 30, garbage: 0, oldestMs: 0 },
      { holder: "hold queue", refs: 10, garbage: 0, oldestMs: 0 },
    ]);
    cache.flush(0, 5000); // synchronous flush: referenced entries go to the garbage list (§7.3)
    expect(cache.garbage).toBe(40);
    let census = cache.holders(9000);
    expect(census).toEqual([
      { holder: "sockets", refs: 30, garbage: 30, oldestMs: 8000 },
      { holder: "hold queue", refs: 10, garbage: 10, oldestMs: 8000 },
    ]);
    for (const x of b) cache.release(x.entry, queue); // the queue lets go
    for (const x of a.slice(0, 10)) cache.release(x.entry); // 0: the holder the entry recorded
    cache.tick(20_000); // the reaper frees what nobody references any more
    census = cache.holders(20_000);
    expect(census).toEqual([{ holder: "sockets", refs: 20, garbage: 20, oldestMs: 19_000 }]);
    expect(cache.garbage).toBe(20);
    expect(cache.allocated - cache.hashed).toBe(20);
  });

  it("the leak alarm names the holder whose entries pile up", () => {
    const { cache, keys } = rig(flavor);
    const leaky = cache.holder("leaky app");
    const alarm = new LeakAlarm({ intervals: 3, floor: 10 });
    let raised;
    for (let i = 0; i < 5; i++) {
      const now = 10_000 * (i + 1);
      cache.input(keys(i * 50, 50), now, leaky); // references never given back
      cache.flush(-1, now); // each invalidation unhashes them lazily…
      cache.input(keys(1000 + i, 1), now); // …and the next lookup in the chain or GC drops them; force it:
      cache.flush(0, now);
      raised = alarm.sample(cache.allocated, cache.hashed, cache.garbageOldestAgeMs(now), cache.holders(now)) ?? raised;
    }
    expect(raised).toBeDefined();
    expect(raised!.message).toMatch(/; held by leaky app: 250 entries \(250 references, oldest 40 s\)$/);
    expect(raised!.holders[0]).toMatchObject({ holder: "leaky app", garbage: 250, refs: 250 });
  });

  it("a holder that comes and goes does not hide the one that never lets go", () => {
    const { cache, keys } = rig(flavor);
    const leaky = cache.holder("leaky app");
    const flight = cache.holder("packets in flight");
    const [x] = cache.input(keys(0, 1), 1000, leaky); // taken first, never given back
    for (let i = 0; i < 3; i++) {
      const [y] = cache.input(keys(0, 1), 1000 + i, flight); // packets come and go
      cache.release(y!.entry, flight);
    }
    const [z] = cache.input(keys(0, 1), 2000, flight); // one still in flight at the flush
    cache.flush(0, 3000);
    expect(cache.holders(3000)).toEqual([
      { holder: "leaky app", refs: 1, garbage: 1, oldestMs: 1000 },
      { holder: "packets in flight", refs: 1, garbage: 0, oldestMs: 0 },
    ]);
    cache.release(z!.entry, flight);
    cache.release(x!.entry, leaky); // the last reference: the entry goes at the next reaper run
    cache.tick(10_000);
    expect(cache.holders(10_000)).toEqual([]);
    expect(cache.allocated).toBe(0);
  });

  it("refuses a sixteenth holder", () => {
    const { cache } = rig(flavor);
    for (let i = 2; i < 16; i++) cache.holder(`h${i}`);
    expect(() => cache.holder("one too many")).toThrow(/at most 15 reference holders/);
  });
});
