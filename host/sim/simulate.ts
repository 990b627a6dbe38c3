/**
 * The route cache simulator: drives the real WASM cache and GC (no second model) at virtual time with
 * synthetic traffic. New flows arrive at a rate set by the scenario; each flow lives `lifetime`
 * seconds and sends `pps` packets a second, all through the cache's batched input path. Scenarios:
 *   steady  constant rate;
 *   surge   5× the rate during the middle third (seed 001's "sudden surge");
 *   pause   no new flows during the middle third;
 *   leak    steady, but a share of flows keep a reference to their entry forever (seed 000).
 * Kernels: "3.4" runs the periodic scan every gc_interval (the spec's baseline, the default);
 * "2.6.39" has none, as in 2.6.38–3.1 where it had no effect (seed 001's first plots).
 */
import { Fib } from "../fib/fib.ts";
import { RouteCache } from "../cache/cache.ts";
import { fmix32 } from "../fib/nexthop-rule.ts";
import { LeakAlarm } from "../cache/leak-alarm.ts";

export type Scenario = "steady" | "surge" | "pause" | "leak";

export interface SimOptions {
  scenario: Scenario;
  rate: number; // new flows per second
  duration: number; // seconds of virtual time
  rhashEntries: number;
  kernel: "3.4" | "2.6.39";
  lifetime: number; // seconds a flow stays active
  pps: number; // packets per second per active flow (≤ 1000 / stepMs)
  leakShare: number; // share of flows whose entry stays referenced (scenario leak)
  seed: number;
  stepMs: number;
  overflow: "forward" | "kernel";
  /** Entries one GC step may free (0 = the kernel's unbounded step). */
  gcStepBudget: number;
  /** Overflow forward: after a gc_dst_overflow, ms without GC at max_size (0 = off, as the kernel). */
  overflowBackoffMs: number;
  /** Invalidate the cache every this many seconds (0 = never): the ≤ 2.6.34 secret_interval re-key, or route churn. */
  flushInterval: number;
  /** Seconds between leak-alarm samples. */
  alarmInterval: number;
  /** Applied after start-up: cache parameter name → value in the core's units (ms for times). */
  params?: Partial<Record<"gcThresh" | "maxSize" | "gcElasticity" | "gcMinIntervalMs" | "gcTimeoutMs" | "gcIntervalMs" | "rebuildCount", number>>;
  /** Distinct source hosts (0 = sources spread over unicast space): seed 000's "about 6,000 IPs". */
  hosts?: number;
  /** Steps each packet holds a reference to its entry (0 = none): packets in flight in queues. */
  inFlightSteps?: number;
  /** Called once per simulated second with that second's row. */
  onSample?: (row: SimRow) => void;
}

export const CSV_COLUMNS = [
  "t_s", "entries", "hashed", "allocated", "in_hit", "in_slow_tot", "in_hlist_search", "gc_total", "gc_ignored", "gc_goal_miss",
  "gc_dst_overflow", "uncached", "new_flows", "active_flows", "gc_expire_ms", "gc_equilibrium", "held_unhashed", "leak_alarm",
] as const;
export type SimRow = Record<(typeof CSV_COLUMNS)[number], number> & {
  /** References held by packets in flight at the end of the second (with inFlightSteps; not in the CSV). */
  in_flight?: number;
};

export interface SimResult {
  rows: SimRow[];
  /** Leak alarms raised: virtual time and what they said. */
  alarms: { t_s: number; message: string }[];
  cache: RouteCache;
  fib: Fib;
  wallSeconds: number;
}

export const SIM_DEFAULTS: SimOptions = {
  scenario: "steady", rate: 2000, duration: 3600, rhashEntries: 262144, kernel: "3.4", lifetime: 5, pps: 1, leakShare: 0.01,
  seed: 1, stepMs: 100, overflow: "forward", gcStepBudget: 2048, overflowBackoffMs: 0, flushInterval: 0, alarmInterval: 60,
};

/** A hash to an address in 1.0.0.0–223.255.255.255 other than 10/8 and 127/8 (no martians, no multicast). */
export function unicastAddress(h: number): number {
  let first = 1 + ((h >>> 24) % 221); // 1..221
  if (first >= 10) first++;
  if (first >= 127) first++;
  return ((first << 24) | (h & 0xffffff)) >>> 0;
}

function rateAt(o: SimOptions, t: number): number {
  const third = o.duration / 3;
  const middle = t >= third && t < 2 * third;
  if (o.scenario === "surge" && middle) return o.rate * 5;
  if (o.scenario === "pause" && middle) return 0;
  return o.rate;
}

export function simulate(opts: Partial<SimOptions>): SimResult {
  const o: SimOptions = { ...SIM_DEFAULTS, ...opts };
  if (!(o.stepMs > 0 && 1000 % o.stepMs === 0)) throw new Error(`step must divide 1000 ms, got ${o.stepMs}`);
  if (!(o.pps > 0 && o.pps <= 1000 / o.stepMs)) throw new Error(`pps must be in (0, ${1000 / o.stepMs}] for a ${o.stepMs} ms step`);
  const wall0 = performance.now();
  const fib = new Fib();
  fib.addRoute({ prefix: 0x0a000000, len: 24, type: "unicast", table: 254, metric: 0, nexthops: [{ gateway: 0, dev: "eth0", weight: 1, onlink: false }] });
  fib.addRoute({ prefix: 0, len: 0, type: "unicast", table: 254, metric: 0, nexthops: [{ gateway: 0xc00002fe, dev: "eth1", weight: 1, onlink: false }] });
  const cache = new RouteCache(fib, { buckets: o.rhashEntries, secret: fmix32(o.seed ^ 0x5eed), seed: o.seed, now: 0 });
  cache.setInterface("eth0", { forwarding: true, rpFilter: 0, hasAddresses: true });
  cache.set("overflowForward", o.overflow === "forward" ? 1 : 0);
  cache.set("gcStepBudget", o.gcStepBudget);
  cache.set("overflowBackoffMs", o.overflowBackoffMs);
  if (o.kernel === "2.6.39") cache.set("gcIntervalMs", 0);
  for (const [k, v] of Object.entries(o.params ?? {})) cache.set(k as keyof typeof o.params & string, v!);
  const x = fib.core.x;
  const iif = fib.ifaces.index("eth0");

  // Active flows: a FIFO of flow ids (fixed lifetime keeps it ordered); keys derive from the id.
  const lifeSteps = Math.max(1, Math.round((o.lifetime * 1000) / o.stepMs));
  const stepsPerPacket = Math.max(1, Math.round(1000 / o.stepMs / o.pps));
  let ring = new Float64Array(1 << 16); // flow id, start step
  let head = 0;
  let tail = 0;
  const leaked: number[] = [];
  let nextFlow = 0;
  let carry = 0;
  let keyCap = 1 << 16;
  let keys = fib.core.alloc(keyCap * 20);
  let outs = fib.core.alloc(keyCap * 24);
  const rows: SimRow[] = [];
  let prev = cache.counters();
  let prevUncached = 0;
  let uncachedTotal = 0;
  let newThisSecond = 0;
  const steps = Math.round((o.duration * 1000) / o.stepMs);
  const stepsPerSecond = 1000 / o.stepMs;
  const leakEvery = o.scenario === "leak" && o.leakShare > 0 ? Math.max(1, Math.round(1 / o.leakShare)) : 0;
  const alarm = new LeakAlarm();
  const alarms: { t_s: number; message: string }[] = [];
  let alarmOn = 0;
  const hosts = Math.max(0, Math.floor(o.hosts ?? 0));
  const inFlightSteps = Math.max(0, Math.floor(o.inFlightSteps ?? 0));
  // Named holders of references, so the leak alarm can say who keeps the entries.
  const hold = inFlightSteps > 0 ? cache.holder("packets in flight") : 0;
  const leakHolder = leakEvery > 0 ? cache.holder("sockets that never release their route (leak scenario)") : 0;
  const inFlight: Uint32Array[] = []; // per step: the entries its packets still reference
  let inFlightRefs = 0;

  for (let s = 0; s < steps; s++) {
    const now = s * o.stepMs;
    carry += (rateAt(o, now / 1000) * o.stepMs) / 1000;
    const fresh = Math.floor(carry);
    carry -= fresh;
    newThisSecond += fresh;
    // expire flows that ended
    while (head < tail && s - ring[((head << 1) + 1) & (ring.length - 1)]! >= lifeSteps) head++;
    const active = tail - head;
    // grow the ring and the key area when needed
    while (active + fresh > (ring.length >> 1) - 1) {
      const bigger = new Float64Array(ring.length * 2);
      for (let i = head; i < tail; i++) {
        bigger[(i << 1) & (bigger.length - 1)] = ring[(i << 1) & (ring.length - 1)]!;
        bigger[((i << 1) + 1) & (bigger.length - 1)] = ring[((i << 1) + 1) & (ring.length - 1)]!;
      }
      ring = bigger;
    }
    const need = active + fresh;
    if (need > keyCap) {
      x.mem_free(keys, keyCap * 20);
      x.mem_free(outs, keyCap * 24);
      keyCap = need * 2;
      keys = fib.core.alloc(keyCap * 20);
      outs = fib.core.alloc(keyCap * 24);
    }
    const m = fib.core.u32();
    let n = 0;
    const put = (id: number) => {
      const w = (keys >>> 2) + n * 5;
      m[w] = unicastAddress(fmix32(id)); // destinations and sources spread over unicast space
      const h = fmix32(id ^ 0x7f4a7c15);
      m[w + 1] = hosts > 0 ? (0x0a400000 + (h % hosts)) >>> 0 : unicastAddress(h); // hosts: 10.64.0.0 upward
      m[w + 2] = iif;
      m[w + 3] = 0;
      m[w + 4] = 0;
      n++;
    };
    // packets of active flows whose turn it is
    for (let i = head; i < tail; i++) {
      const start = ring[((i << 1) + 1) & (ring.length - 1)]!;
      if ((s - start) % stepsPerPacket === 0 && s !== start) put(ring[(i << 1) & (ring.length - 1)]!);
    }
    const firstNew = n;
    for (let f = 0; f < fresh; f++) {
      const id = nextFlow++;
      ring[(tail << 1) & (ring.length - 1)] = id;
      ring[((tail << 1) + 1) & (ring.length - 1)] = s;
      tail++;
      put(id);
    }
    // Packets in flight since inFlightSteps ago are done: their references go back.
    if (inFlight.length >= inFlightSteps && inFlightSteps > 0) {
      const done = inFlight.shift()!;
      for (let k = 0; k < done.length; k++) x.cache_release(done[k]!, hold);
      inFlightRefs -= done.length;
    }
    const leakedHere = new Set<number>();
    if (leakEvery === 0) x.cache_input_batch(keys, outs, n, now, hold);
    else {
      // First packets of every leakEvery-th flow take a reference that is never given back.
      x.cache_input_batch(keys, outs, firstNew, now, hold);
      for (let k = firstNew; k < n; k++) {
        const id = nextFlow - (n - k);
        const leak = id % leakEvery === 0;
        x.cache_input_batch(keys + k * 20, outs + k * 24, 1, now, leak ? leakHolder : hold);
        if (leak) {
          const e = fib.core.u32()[((outs + k * 24) >>> 2) + 5]!;
          if (e) leaked.push(e);
          leakedHere.add(k);
        }
      }
    }
    if (hold) {
      const m2 = fib.core.u32();
      const held: number[] = [];
      for (let k = 0; k < n; k++) {
        if (leakedHere.has(k)) continue;
        const e = m2[((outs + k * 24) >>> 2) + 5]!;
        if (e) held.push(e);
      }
      inFlight.push(Uint32Array.from(held));
      inFlightRefs += held.length;
    }
    x.cache_tick(now);
    const second = (s + 1) / stepsPerSecond;
    if (o.flushInterval > 0 && (s + 1) % (stepsPerSecond * o.flushInterval) === 0) cache.flush(-1, now);
    if ((s + 1) % stepsPerSecond === 0 && second % o.alarmInterval === 0) {
      const raised = alarm.sample(cache.allocated, cache.hashed, cache.garbageOldestAgeMs(now), cache.holders(now));
      if (raised) alarms.push({ t_s: second, message: raised.message });
      alarmOn = alarm.active ? 1 : 0;
    }
    if ((s + 1) % stepsPerSecond === 0) {
      const c = cache.counters();
      const ev = cache.takeEvents();
      uncachedTotal += ev.uncached;
      const st = cache.state();
      const d = (i: number) => (c[i]! - prev[i]!) >>> 0;
      const row: SimRow = {
        t_s: (s + 1) / stepsPerSecond, entries: c[0]!, hashed: cache.hashed, allocated: cache.allocated,
        in_hit: d(1), in_slow_tot: d(2), in_hlist_search: d(15), gc_total: d(11), gc_ignored: d(12), gc_goal_miss: d(13),
        gc_dst_overflow: d(14), uncached: uncachedTotal - prevUncached, new_flows: newThisSecond, active_flows: tail - head,
        gc_expire_ms: st.expireMs, gc_equilibrium: st.equilibrium, held_unhashed: cache.allocated - cache.hashed, leak_alarm: alarmOn,
      };
      if (hold) row.in_flight = inFlightRefs;
      prevUncached = uncachedTotal;
      newThisSecond = 0;
      prev = c;
      rows.push(row);
      o.onSample?.(row);
    }
  }
  return { rows, alarms, cache, fib, wallSeconds: (performance.now() - wall0) / 1000 };
}

export function toCsv(rows: SimRow[]): string {
  return [CSV_COLUMNS.join(","), ...rows.map((r) => CSV_COLUMNS.map((c) => r[c]).join(","))].join("\n") + "\n";
}
