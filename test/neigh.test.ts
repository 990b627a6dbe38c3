// The neighbour table (assembly/dp/neigh.ts) against a plain model of Linux's state machine
// (test/ref/neigh-model.ts): random streams of frames to resolve, ARP replies and requests, static
// adds and deletes, flushes, knob changes and clock ticks, compared after every step (verdicts, frames
// sent, every entry, counters). Then targeted cases: retry timing, hold-queue overflow, a full table,
// permanent entries, STALE → DELAY → PROBE → REACHABLE, ICMP errors for failed neighbours, and the
// host's `ip neigh show` lines next to iproute2's own.
import { describe, it, expect, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { prng } from "./ref/prng.ts";
import { NeighModel, NUD, D, V, PARAM_IDS, arpFrame, type NeighParams, type Sent } from "./ref/neigh-model.ts";
import { NeighRig, PORTS, ip4, ipFrame, hex, type DumpRecord } from "./lib/neigh-rig.ts";
import { NeighTable, formatNeigh, type NeighEntry } from "../host/router/neigh-table.ts";
import { Fib } from "../host/fib/fib.ts";
import { RouteCache } from "../host/cache/cache.ts";
import { canRunLive, createNetns, deleteNetns, ipIn } from "./lib/netns.ts";
import type { BuildFlavor } from "../host/core/load.ts";
import { NO_WAKE } from "../host/router/tick-schedule.ts";
import { HostTick } from "./lib/host-tick.ts";

const VALID = 0xde;
const BCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const hostMac = (ip: number, variant = 0) => [0x02, 0x68, (ip >>> 8) & 255, ip & 255, variant, 0x10];
const portOf = (i: number) => PORTS.find((p) => p.ifindex === i)!;
const drop = (r: number) => 16 + r;

// ── the differential test ─────────────────────────────────────────────────────

interface Config {
  name: string;
  params: Partial<NeighParams>;
  /** Hosts per subnet. */
  hosts: number;
}

const CONFIGS: Config[] = [
  { name: "Linux defaults", params: {}, hosts: 5 },
  {
    name: "a small table (GC, forced GC, overflow)",
    params: { gcThresh1: 3, gcThresh2: 6, gcThresh3: 10, gcStale: 20000, baseReachable: 10000, retrans: 400, delayProbe: 2000, queueBytes: 700 },
    hosts: 8,
  },
  { name: "one broadcast, one unicast probe", params: { mcastSolicit: 1, ucastSolicit: 1, queueBytes: 2000, locktime: 0 }, hosts: 4 },
  { name: "mcast_solicit 0 (unresolved fails at once)", params: { mcastSolicit: 0, ucastSolicit: 2, baseReachable: 4000 }, hosts: 4 },
];

function compare(rig: NeighRig, model: NeighModel, T: number, what: string): void {
  const now = T >>> 0;
  const core = new Map(rig.dump(now).map((r) => [`${r.ifindex}/${r.ip}`, r]));
  const want = new Map<string, DumpRecord>();
  for (const e of model.entries.values()) {
    want.set(`${e.ifindex}/${e.ip >>> 0}`, {
      ifindex: e.ifindex, ip: e.ip >>> 0, mac: e.mac, state: e.state, used: T - e.used, confirmed: T - e.confirmed,
      updated: T - e.updated, probes: Math.min(e.probes, 0xffff), held: e.queue.length,
    });
  }
  expect([...core.keys()].sort(), `${what}: entries`).toEqual([...want.keys()].sort());
  for (const [k, w] of want) {
    const c = { ...core.get(k)! };
    if (!(w.state & VALID)) c.mac = w.mac;
    expect(c, `${what}: entry ${k}`).toEqual(w);
  }
  expect(rig.stats(), `${what}: arp_cache`).toEqual(model.statArray());
  expect(rig.events(), `${what}: overflow events`).toBe(model.tableOverflows);
  for (const r of Object.values(D)) expect(rig.drops(r), `${what}: WrDrop ${r}`).toBe(model.drops.get(r) ?? 0);
  expect(rig.x.dp_neigh_reachable_time(0xffffffff), `${what}: reachable_time`).toBe(model.reachable);
  const due = model.nextWake(T);
  expect(rig.x.dp_neigh_next_wake(now) >>> 0, `${what}: next wake`).toBe(due === undefined ? NO_WAKE : due - T);
}

const sentKeys = (s: Sent[]) => s.map((f) => `${f.oif}:${hex(f.bytes)}`).sort();

function differential(flavor: BuildFlavor, cfg: Config, seed: number, steps: number): void {
  const rnd = prng(seed);
  const r = (n: number) => rnd() % n;
  const chance = (p: number) => rnd() / 2 ** 32 < p;
  const rig = new NeighRig(flavor);
  const model = new NeighModel((base, ifindex) => {
    const v = rig.x.dp_neigh_reachable_time(ifindex ?? 0xffffffff);
    expect(v).toBeGreaterThanOrEqual(base >>> 1);
    expect(v).toBeLessThan(base === 0 ? 1 : base + (base >>> 1));
    return v;
  });
  for (const p of PORTS) model.ports.set(p.ifindex, p);
  for (const [k, v] of Object.entries(cfg.params)) {
    const id = PARAM_IDS.indexOf(k as keyof NeighParams);
    expect(rig.x.dp_neigh_set_param(id, v)).toBe(0);
    expect(model.setParam(id, v)).toBe(0);
  }
  const pool = (ifindex: number) => {
    const base = ifindex === 2 && chance(0.3) ? ip4("10.0.20.0") : ip4(`10.0.${ifindex}.0`);
    return (base + 2 + r(cfg.hosts)) >>> 0;
  };
  const localAddrs = PORTS.flatMap((p) => p.addrs.map((a) => a.addr));
  let T = 2 ** 32 - 50_000; // the u32 clock wraps during the run
  const host = new HostTick();
  const run = (what: string, core: () => { v: number; sent: Sent[] }, ref: () => number, isTick = false) => {
    const c = core();
    const m = ref();
    expect(c.v, `${what}: verdict`).toBe(m);
    expect(sentKeys(c.sent), `${what}: frames sent`).toEqual(sentKeys(model.takeSent()));
    compare(rig, model, T, what);
    // the rig ticks the neighbour table alone: its own next wake stands for core_next_wake
    const armed = rig.x.core_wake_take(T >>> 0);
    if (isTick) host.set(T, rig.x.dp_neigh_next_wake(T >>> 0));
    else host.sooner(T, armed);
    host.check(T, model.nextWake(T), what);
  };
  run("first tick", () => ({ v: 0, sent: rig.tick(T) }), () => (model.tick(T), 0), true);
  for (let step = 0; step < steps; step++) {
    const k = r(1000);
    const tag = `seed ${seed} step ${step}`;
    if (k < 350) {
      const oif = 1 + r(3);
      let nh = chance(0.9) ? pool(oif) : pool(1 + r(3));
      if (chance(0.02)) nh = 0xffffffff;
      else if (chance(0.02)) nh = ip4("224.0.0.5") + r(5000);
      const src = chance(0.2) ? localAddrs[r(localAddrs.length)]! : ip4("192.0.2.0") + r(250);
      const len = chance(0.15) ? 600 + r(900) : 34 + r(260);
      const f = ipFrame(src, nh, len, r(256));
      run(`${tag} output ${oif} → ${nh.toString(16)}`, () => rig.output(oif, nh, f, T), () => model.output(oif, nh, f, T));
    } else if (k < 650) {
      const iif = 1 + r(3);
      const port = portOf(iif);
      const sip = chance(0.85) ? pool(iif) : chance(0.5) ? pool(1 + r(3)) : [0, ip4("10.0.1.1"), ip4("0.1.2.3")][r(3)]!;
      const sha = hostMac(sip, chance(0.8) ? 0 : 1 + r(2));
      const ethDst = [port.mac, BCAST, BCAST, [0x01, 0x00, 0x5e, 0, 0, 1], [0x02, 0x99, 0, 0, 0, 9]][chance(0.6) ? 0 : r(5)]!;
      let f: Uint8Array;
      if (k < 500) {
        const garp = chance(0.1);
        f = arpFrame(2, sha, ethDst, sip, garp ? (chance(0.5) ? sha : [0, 0, 0, 0, 0, 0]) : port.mac, garp ? sip : port.addrs[0]!.addr);
      } else {
        const tip = chance(0.55) ? localAddrs[r(localAddrs.length)]! : chance(0.1) ? sip : pool(iif);
        f = arpFrame(1, sha, chance(0.8) ? BCAST : ethDst, sip, [0, 0, 0, 0, 0, 0], tip);
      }
      if (chance(0.02)) f[14 + r(8)] ^= 1 << r(8);
      if (chance(0.01)) f = f.subarray(0, r(42));
      run(`${tag} arp on ${iif}`, () => rig.arp(f, iif, T), () => model.arpInput(f, iif, T));
    } else if (k < 900) {
      const d = r(100);
      T += d < 40 ? 1 + r(200) : d < 70 ? 200 + r(1300) : d < 90 ? 1500 + r(6500) : d < 98 ? 8000 + r(32000) : 60000 + r(340000);
      if (chance(0.06)) continue; // time passes without a tick
      run(`${tag} tick`, () => ({ v: 0, sent: rig.tick(T) }), () => (model.tick(T), 0), true);
    } else if (k < 960) {
      const ifindex = chance(0.95) ? 1 + r(3) : 9;
      const ip = pool(ifindex === 9 ? 1 : ifindex);
      const mac = chance(0.85) ? hostMac(ip, r(3)) : null;
      const state = [NUD.PERMANENT, NUD.NOARP, NUD.REACHABLE, NUD.STALE, NUD.DELAY][chance(0.97) ? r(4) : 4]!;
      run(`${tag} add`, () => ({ v: rig.add(ifindex, ip, mac, state, T), sent: [] }), () => model.add(ifindex, ip, mac, state, T));
    } else if (k < 990) {
      const ifindex = 1 + r(3);
      const ip = pool(ifindex);
      run(`${tag} del`, () => ({ v: rig.x.dp_neigh_del(ifindex, ip), sent: [] }), () => model.del(ifindex, ip));
    } else if (k < 994) {
      const ifindex = r(4);
      run(`${tag} flush`, () => ({ v: rig.x.dp_neigh_flush(ifindex), sent: [] }), () => model.flush(ifindex));
    } else {
      const choices: [number, number][] = [
        [3, 3000 + r(30000)], [4, 100 + r(1500)], [5, 500 + r(5000)], [6, r(4)], [7, r(4)], [8, 300 + r(5000)],
        [9, 5000 + r(60000)], [11, r(3000)], [12, 1], [4, 0x40000000],
      ];
      const [id, v] = choices[r(choices.length)]!;
      if (chance(0.5)) {
        // A port's own value (net.ipv4.neigh.IFNAME.*); now and then a table knob or a non-port, refused.
        const ifindex = chance(0.97) ? 1 + r(3) : 300;
        run(`${tag} set port ${ifindex} param ${id} = ${v}`, () => ({ v: rig.x.dp_neigh_set_dev_param(ifindex, id, v), sent: [] }), () => model.setDevParam(ifindex, id, v));
      } else {
        run(`${tag} set param ${id} = ${v}`, () => ({ v: rig.x.dp_neigh_set_param(id, v), sent: [] }), () => model.setParam(id, v));
      }
    }
  }
}

describe.each(["release", "debug", "checked"] as const)("the neighbour table against the model (%s core)", (flavor) => {
  for (const cfg of CONFIGS) {
    const seeds = flavor === "release" ? [1, 2, 3] : [4];
    for (const seed of seeds) {
      it(`${cfg.name}, seed ${seed}`, () => differential(flavor, cfg, seed, flavor === "release" ? 2500 : 700));
    }
  }
});

// ── targeted cases ────────────────────────────────────────────────────────────

const NH = ip4("10.0.1.9");
const SRC = ip4("192.0.2.7");

/** The broadcast request for target from port 1 (sender 10.0.1.1). */
function request(target: number, ethDst = BCAST, sender = ip4("10.0.1.1")): string {
  return hex(arpFrame(1, portOf(1).mac, ethDst, sender, [0, 0, 0, 0, 0, 0], target));
}

function resolved(rig: NeighRig, t: number, ip = NH, mac = hostMac(NH)): Sent[] {
  return rig.arp(arpFrame(2, mac, portOf(1).mac, ip, portOf(1).mac, ip4("10.0.1.1")), 1, t).sent;
}

describe("the neighbour table", () => {
  it("retries an unresolved neighbour every retrans_time: 3 broadcast requests 1 s apart, then FAILED", () => {
    const rig = new NeighRig();
    const t0 = 5000;
    const { v, sent } = rig.output(1, NH, ipFrame(SRC, ip4("198.51.100.1"), 100), t0);
    expect(v).toBe(V.QUEUED);
    expect(sent.map((s) => [s.oif, hex(s.bytes)])).toEqual([[1, request(NH)]]);
    expect(rig.entry(1, NH, t0)).toMatchObject({ state: NUD.INCOMPLETE, probes: 4, held: 1 });
    expect(rig.tick(t0 + 999)).toEqual([]);
    expect(rig.tick(t0 + 1000).map((s) => hex(s.bytes))).toEqual([request(NH)]);
    expect(rig.tick(t0 + 1500)).toEqual([]);
    expect(rig.tick(t0 + 2000).map((s) => hex(s.bytes))).toEqual([request(NH)]);
    expect(rig.tick(t0 + 2999)).toEqual([]);
    const failed = rig.drops(D.NeighFailed);
    expect(rig.tick(t0 + 3000)).toEqual([]);
    expect(rig.entry(1, NH, t0 + 3000)).toMatchObject({ state: NUD.FAILED, probes: 6, held: 0, updated: 0 });
    expect(rig.drops(D.NeighFailed)).toBe(failed + 1);
    expect(rig.stats()[6]).toBe(1); // res_failed
    // Used again, a FAILED neighbour is resolved again from the start.
    const again = rig.output(1, NH, ipFrame(SRC, ip4("198.51.100.1"), 100), t0 + 4000);
    expect(again.v).toBe(V.QUEUED);
    expect(again.sent.map((s) => hex(s.bytes))).toEqual([request(NH)]);
  });

  it("resolves: the reply makes the entry REACHABLE and sends what it held, in order, with both MACs", () => {
    const rig = new NeighRig();
    const frames = [0, 1, 2].map((i) => ipFrame(SRC, ip4("198.51.100.1"), 60 + i, i));
    for (const f of frames) expect(rig.output(1, NH, f, 100).v).toBe(V.QUEUED);
    const sent = resolved(rig, 400);
    expect(sent.map((s) => s.oif)).toEqual([1, 1, 1]);
    expect(sent.map((s) => hex(s.bytes))).toEqual(frames.map((f) => hex([...hostMac(NH), ...portOf(1).mac, ...f.subarray(12)])));
    expect(rig.entry(1, NH, 400)).toMatchObject({ state: NUD.REACHABLE, mac: hostMac(NH), held: 0, confirmed: 0, updated: 0 });
    // Later frames are rewritten in place and listed (V_FORWARDED).
    const f = ipFrame(SRC, ip4("198.51.100.1"), 80, 9);
    const out = rig.output(1, NH, f, 500);
    expect(out.v).toBe(V.FORWARDED);
    expect(hex(out.sent[0]!.bytes)).toBe(hex([...hostMac(NH), ...portOf(1).mac, ...f.subarray(12)]));
  });

  it("drops the oldest held frame when the hold queue passes unres_qlen_bytes", () => {
    const rig = new NeighRig();
    expect(rig.x.dp_neigh_set_param(8, 300)).toBe(0);
    const frames = [0, 1, 2, 3, 4].map((i) => ipFrame(SRC, ip4("198.51.100.1"), 100, i));
    for (const f of frames) expect(rig.output(1, NH, f, 100).v).toBe(V.QUEUED);
    expect(rig.entry(1, NH, 100)).toMatchObject({ held: 3 });
    expect(rig.stats()[11]).toBe(2); // unresolved_discards
    expect(rig.drops(D.QueueOverflow)).toBe(2);
    const sent = resolved(rig, 200);
    expect(sent.map((s) => s.bytes[19])).toEqual([2, 3, 4]); // the IP id carries the tag: the newest three
  });

  it("survives a full table: a forced GC first, then 'neighbour table overflow', and forwarding goes on", () => {
    const rig = new NeighRig();
    for (const [id, v] of [[0, 1], [1, 2], [2, 4]]) rig.x.dp_neigh_set_param(id!, v!);
    // A resolved neighbour and a permanent one (permanent entries do not count against the thresholds).
    rig.output(1, ip4("10.0.1.2"), ipFrame(SRC, 1, 60), 0);
    resolved(rig, 10, ip4("10.0.1.2"), hostMac(ip4("10.0.1.2")));
    expect(rig.add(2, ip4("10.0.2.2"), hostMac(ip4("10.0.2.2")), NUD.PERMANENT, 10)).toBe(0);
    for (const h of [3, 4, 5]) expect(rig.output(1, ip4(`10.0.1.${h}`), ipFrame(SRC, 1, 60), 20).v).toBe(V.QUEUED);
    // Four entries under timers (INCOMPLETE, REACHABLE): the forced GC can free none of them.
    const full = rig.output(1, ip4("10.0.1.6"), ipFrame(SRC, 1, 60), 30);
    expect(full.v).toBe(drop(D.NeighTableFull));
    expect(full.sent).toEqual([]);
    const s = rig.stats();
    expect([s[0], s[10], s[12]]).toEqual([5, 1, 1]); // entries, forced_gc_runs, table_fulls
    expect(rig.events()).toBe(1);
    expect(rig.drops(D.NeighTableFull)).toBe(1);
    expect(rig.output(1, ip4("10.0.1.2"), ipFrame(SRC, 1, 60), 40).v).toBe(V.FORWARDED);
    expect(rig.output(2, ip4("10.0.2.2"), ipFrame(SRC, 1, 60), 40).v).toBe(V.FORWARDED);
    // An ARP request for us from a new host cannot be learned, so it is not answered (as arp_process).
    const req = arpFrame(1, hostMac(ip4("10.0.1.7")), BCAST, ip4("10.0.1.7"), [0, 0, 0, 0, 0, 0], ip4("10.0.1.1"));
    expect(rig.arp(req, 1, 50).v).toBe(drop(D.NeighTableFull));
    // Once the unresolved ones have FAILED, the forced GC frees them and new neighbours fit again.
    for (const t of [1020, 2020, 3020]) rig.tick(t);
    expect(rig.entry(1, ip4("10.0.1.3"), 3200)!.state).toBe(NUD.FAILED);
    expect(rig.output(1, ip4("10.0.1.6"), ipFrame(SRC, 1, 60), 3200).v).toBe(V.QUEUED);
    expect(rig.entry(1, ip4("10.0.1.3"), 3200)).toBeUndefined();
  });

  it("never expires, collects or flushes a permanent entry", () => {
    const rig = new NeighRig();
    for (const [id, v] of [[0, 0], [1, 0], [2, 1]]) rig.x.dp_neigh_set_param(id!, v!); // GC always on, tiny table
    const ip = ip4("10.0.3.7");
    expect(rig.add(3, ip, hostMac(ip), NUD.PERMANENT, 0)).toBe(0);
    for (let t = 10_000; t <= 7_200_000; t += 10_000) {
      rig.tick(t);
      if (t % 600_000 === 0) expect(rig.output(3, ip4(`10.0.3.${100 + (t / 600_000)}`), ipFrame(SRC, 1, 60), t).v).toBe(V.QUEUED);
    }
    expect(rig.x.dp_neigh_flush(0)).toBeGreaterThan(0);
    const e = rig.entry(3, ip, 7_200_000)!;
    expect(e).toMatchObject({ state: NUD.PERMANENT, mac: hostMac(ip) });
    const f = ipFrame(SRC, 1, 60);
    const out = rig.output(3, ip, f, 7_200_001);
    expect(out.v).toBe(V.FORWARDED);
    expect([...out.sent[0]!.bytes.subarray(0, 6)]).toEqual(hostMac(ip));
    // ARP cannot change it either.
    rig.arp(arpFrame(2, hostMac(ip, 2), portOf(3).mac, ip, portOf(3).mac, ip4("10.0.3.1")), 3, 7_300_000);
    expect(rig.entry(3, ip, 7_300_000)!.mac).toEqual(hostMac(ip));
    expect(rig.stats()[9]).toBeGreaterThanOrEqual(358); // periodic_gc_runs: due every base_reachable_time / 2, run by the 10 s ticks
  });

  it("goes STALE → DELAY → PROBE (unicast requests) → REACHABLE on a reply, and REACHABLE → STALE unused", () => {
    const rig = new NeighRig();
    const ip = ip4("10.0.1.20");
    const mac = hostMac(ip);
    expect(rig.add(1, ip, mac, NUD.STALE, 0)).toBe(0);
    const f = ipFrame(SRC, 1, 60);
    const out = rig.output(1, ip, f, 1000);
    expect(out.v).toBe(V.FORWARDED); // a STALE entry's MAC is used at once
    expect([...out.sent[0]!.bytes.subarray(0, 6)]).toEqual(mac);
    expect(rig.entry(1, ip, 1000)).toMatchObject({ state: NUD.DELAY, used: 0 });
    expect(rig.tick(5999)).toEqual([]);
    const probe = rig.tick(6000);
    expect(probe.map((s) => hex(s.bytes))).toEqual([request(ip, mac)]); // unicast to the known MAC
    expect(rig.entry(1, ip, 6000)).toMatchObject({ state: NUD.PROBE, probes: 1 });
    expect(rig.tick(7000).map((s) => hex(s.bytes))).toEqual([request(ip, mac)]);
    resolved(rig, 7100, ip, mac);
    const rt = rig.x.dp_neigh_reachable_time(0xffffffff);
    expect(rt).toBeGreaterThanOrEqual(15000);
    expect(rt).toBeLessThan(45000);
    expect(rig.entry(1, ip, 7100)).toMatchObject({ state: NUD.REACHABLE, confirmed: 0 });
    // Traffic through the cached header does not refresh `used`, so after reachable_time it goes STALE
    // (the timer fires at confirmed + reachable_time, but never sooner than 10 ms after it last ran).
    rig.output(1, ip, ipFrame(SRC, 1, 60), 7100 + rt - 10);
    rig.tick(7100 + rt);
    expect(rig.entry(1, ip, 7100 + rt)!.state).toBe(NUD.REACHABLE);
    rig.tick(7100 + rt + 9);
    expect(rig.entry(1, ip, 7100 + rt + 9)!.state).toBe(NUD.REACHABLE);
    rig.tick(7100 + rt + 10);
    expect(rig.entry(1, ip, 7100 + rt + 10)).toMatchObject({ state: NUD.STALE, used: rt + 10 });
  });

  it("a PROBE that gets no answer fails after ucast_solicit unicast requests", () => {
    const rig = new NeighRig();
    const ip = ip4("10.0.1.21");
    rig.add(1, ip, hostMac(ip), NUD.STALE, 0);
    rig.output(1, ip, ipFrame(SRC, 1, 60), 0);
    const sent: string[][] = [];
    for (let t = 1000; t <= 9000; t += 1000) sent.push(rig.tick(t).map((s) => hex(s.bytes)));
    expect(sent.flat()).toEqual([request(ip, hostMac(ip)), request(ip, hostMac(ip)), request(ip, hostMac(ip))]);
    expect(rig.entry(1, ip, 9000)).toMatchObject({ state: NUD.FAILED, probes: 3 });
  });

  it("grows its buckets past gc_thresh3 when the knobs allow, stays bounded, and gives all memory back", () => {
    const rig = new NeighRig();
    const x = rig.x;
    rig.tick(0);
    const base = x.mem_bytes_in_use();
    for (const id of [0, 1, 2]) x.dp_neigh_set_param(id, 1_000_000);
    const f = rig.put(ipFrame(SRC, 1, 60), 0);
    const verdicts = new Map<number, number>();
    for (let i = 0; i < 65540; i++) {
      x.dp_tx_reset();
      const v = x.dp_neigh_output(1 + (i % 3), (ip4("10.128.0.0") + i) >>> 0, f, 60, 10);
      verdicts.set(v, (verdicts.get(v) ?? 0) + 1);
    }
    expect(verdicts).toEqual(new Map([[V.QUEUED, 65536], [drop(D.NeighTableFull), 4]]));
    const s = rig.stats();
    expect([s[0], s[1], s[3], s[12]]).toEqual([65536, 65536, 6, 4]); // entries allocs hash_grows(1024 → 65536) table_fulls
    expect(rig.events()).toBe(4);
    expect(x.dp_neigh_flush(0)).toBe(65536);
    expect(rig.drops(D.NeighFailed)).toBe(65536);
    expect(x.mem_bytes_in_use() - base).toBe((65536 - 1024) * 4); // only the grown buckets stay
  });

  it("re-draws reachable_time when base_reachable_time changes and every 300 s", () => {
    const rig = new NeighRig();
    rig.tick(0);
    const seen = new Set<number>();
    for (const base of [1000, 2000, 40000]) {
      expect(rig.x.dp_neigh_set_param(3, base)).toBe(0);
      const v = rig.x.dp_neigh_reachable_time(0xffffffff);
      expect(v).toBeGreaterThanOrEqual(base / 2);
      expect(v).toBeLessThan(base * 1.5);
    }
    expect(rig.x.dp_neigh_set_param(3, 2000)).toBe(0);
    for (let t = 1000; t < 4_000_000; t += 1000) {
      rig.tick(t);
      seen.add(rig.x.dp_neigh_reachable_time(0xffffffff));
    }
    expect(seen.size).toBeGreaterThan(5);
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...seen)).toBeLessThan(3000);
    expect(rig.x.dp_neigh_set_param(13, 1)).toBe(-22);
  });

  it("sends ICMP host unreachable back to the source of each frame a failed neighbour held", () => {
    const fib = new Fib();
    const [p1, p2] = [fib.ifaces.index("p1"), fib.ifaces.index("p2")];
    const cache = new RouteCache(fib, { buckets: 1024, now: 0 });
    const ports = [
      { ifindex: p1, mac: [2, 0x77, 0x72, 0, 1, 1], addrs: [{ addr: ip4("10.0.1.1"), plen: 24 }] },
      { ifindex: p2, mac: [2, 0x77, 0x72, 0, 2, 1], addrs: [{ addr: ip4("10.0.2.1"), plen: 24 }] },
    ];
    const rig = new NeighRig(fib.core, ports);
    for (const [dev, prefix] of [["p1", "10.0.1.0"], ["p2", "10.0.2.0"]] as const) {
      cache.setInterface(dev, { forwarding: true, rpFilter: 0, hasAddresses: true });
      fib.addRoute({ prefix: ip4(prefix), len: 24, type: "unicast", table: 254, metric: 0, nexthops: [{ gateway: 0, dev, weight: 1, onlink: false }] }, "replace");
    }
    const sender = ip4("10.0.2.50");
    expect(rig.add(p2, sender, hostMac(sender), NUD.PERMANENT, 0)).toBe(0);
    const f = ipFrame(sender, ip4("10.0.1.9"), 120, 5);
    expect(rig.output(p1, NH, f, 0).v).toBe(V.QUEUED);
    for (const t of [1000, 2000]) rig.tick(t);
    const sent = rig.tick(3000);
    expect(sent).toHaveLength(1);
    const e = sent[0]!;
    expect(e.oif).toBe(p2);
    expect([...e.bytes.subarray(0, 12)]).toEqual([...hostMac(sender), ...ports[1]!.mac]);
    expect(e.bytes[23]).toBe(1); // ICMP
    expect([...e.bytes.subarray(26, 34)]).toEqual([10, 0, 2, 1, 10, 0, 2, 50]);
    expect([e.bytes[34], e.bytes[35]]).toEqual([3, 1]); // host unreachable
    expect([...e.bytes.subarray(42, 62)]).toEqual([...f.subarray(14, 34)]); // the original header, quoted
    // `ip neigh del` of an unresolved entry fails it too: its frames get their errors at the next tick.
    expect(rig.output(p1, ip4("10.0.1.10"), ipFrame(sender, 1, 90, 6), 10_000).v).toBe(V.QUEUED);
    expect(rig.x.dp_neigh_del(p1, ip4("10.0.1.10"))).toBe(0);
    const later = rig.tick(12_000);
    expect(later.map((s) => [s.oif, s.bytes[34], s.bytes[35]])).toEqual([[p2, 3, 1]]);
  });
});

// ── the host side: ip neigh show ─────────────────────────────────────────────

describe("NeighTable (host)", () => {
  const entry = (o: Partial<NeighEntry>): NeighEntry => ({
    ifindex: 1, dev: "tap0", addr: ip4("10.0.1.2"), lladdr: Uint8Array.from([2, 0, 0, 0, 1, 2]), state: NUD.REACHABLE,
    usedMs: 0, confirmedMs: 0, updatedMs: 0, probes: 0, held: 0, ref: 1, ...o,
  });

  it("formats lines as iproute2 6.1 prints them", () => {
    expect(formatNeigh(entry({}), { showDev: true, stats: false })).toBe("10.0.1.2 dev tap0 lladdr 02:00:00:00:01:02 REACHABLE ");
    expect(formatNeigh(entry({ addr: ip4("10.0.2.9"), dev: "tap1", lladdr: null, state: NUD.INCOMPLETE }), { showDev: true, stats: false })).toBe("10.0.2.9 dev tap1 INCOMPLETE ");
    expect(formatNeigh(entry({ lladdr: null, state: NUD.FAILED, ref: 0 }), { showDev: true, stats: false })).toBe("10.0.1.2 dev tap0 FAILED ");
    expect(formatNeigh(entry({ state: NUD.PERMANENT, ref: 0 }), { showDev: false, stats: false })).toBe("10.0.1.2 lladdr 02:00:00:00:01:02 PERMANENT ");
    expect(formatNeigh(entry({ usedMs: 13_999, confirmedMs: 13_000, updatedMs: 999 }), { showDev: true, stats: true }))
      .toBe("10.0.1.2 dev tap0 lladdr 02:00:00:00:01:02  ref 1 used 13/13/0probes 0 REACHABLE ");
    expect(formatNeigh(entry({ lladdr: null, state: NUD.FAILED, ref: 0, usedMs: 13_000, confirmedMs: 73_000, updatedMs: 10_000, probes: 6 }), { showDev: true, stats: true }))
      .toBe("10.0.1.2 dev tap0  used 13/73/10probes 6 FAILED ");
  });

  it("adds, lists, shows, deletes and flushes through the core", () => {
    const rig = new NeighRig();
    let now = 1000;
    const names = ["", "tap0", "tap1", "tap2"];
    const t = new NeighTable(rig.core, (i) => names[i] ?? `if${i}`, () => now);
    t.add({ dev: "tap0", addr: ip4("10.0.1.2"), lladdr: "02:00:00:00:01:02", nud: "reachable" });
    t.add({ dev: "tap1", addr: ip4("10.0.2.3"), lladdr: [2, 0, 0, 0, 2, 3], nud: "noarp" });
    t.add({ dev: "tap2", addr: ip4("10.0.3.4"), lladdr: "02:00:00:00:03:04" });
    rig.output(2, ip4("10.0.2.9"), ipFrame(SRC, 1, 60), 1000);
    now = 2500;
    const sorted = (l: string[]) => [...l].sort();
    expect(sorted(t.show())).toEqual(sorted([
      "10.0.1.2 dev tap0 lladdr 02:00:00:00:01:02 REACHABLE ",
      "10.0.2.9 dev tap1 INCOMPLETE ",
      "10.0.3.4 dev tap2 lladdr 02:00:00:00:03:04 PERMANENT ",
    ]));
    expect(sorted(t.show({ all: true, dev: "tap1", stats: true }))).toEqual(sorted([
      "10.0.2.3 lladdr 02:00:00:00:02:03  used 1/1/1probes 0 NOARP ",
      "10.0.2.9  ref 1 used 1/61/1probes 4 INCOMPLETE ",
    ]));
    expect(() => t.add({ dev: "tap9", addr: 1, lladdr: "02:00:00:00:00:01" })).toThrow(/Cannot find device/);
    expect(() => t.add({ dev: "tap0", addr: ip4("10.0.1.99") })).toThrow(/Invalid argument/);
    expect(t.del({ dev: "tap0", addr: ip4("10.0.1.2") })).toBe(true);
    expect(t.del({ dev: "tap0", addr: ip4("10.0.1.2") })).toBe(false);
    expect(t.flush()).toBe(2); // the NOARP and INCOMPLETE entries; the permanent one stays
    expect(t.list().map((e) => e.dev)).toEqual(["tap2"]);
    expect(t.arpStat()[0]).toBe(1);
    t.setParam("gcThresh3", 1);
    t.setParam("gcThresh2", 0);
    rig.output(1, ip4("10.0.1.77"), ipFrame(SRC, 1, 60), 2600);
    rig.output(1, ip4("10.0.1.78"), ipFrame(SRC, 1, 60), 2600);
    expect(t.takeEvents()).toEqual({ tableOverflows: 1 });
    expect(t.takeEvents()).toEqual({ tableOverflows: 0 });
  });
});

// ── against the kernel's own `ip neigh show` ─────────────────────────────────

const NS = "wr-neigh-test";
const netns = canRunLive("ip neigh show next to iproute2", ["ping"]);
afterAll(() => {
  if (netns) deleteNetns(NS);
});

describe.skipIf(!netns)("ip neigh show, next to iproute2 6.1 on a kernel table", () => {
  it("prints the same lines for permanent, noarp, reachable, stale and incomplete entries", () => {
    const version = spawnSync("ip", ["-V"], { encoding: "utf8" }).stdout;
    createNetns(NS);
    const run = (...a: string[]) => {
      const r = ipIn(NS, a);
      if (r.status !== 0) throw new Error(`ip ${a.join(" ")}: ${r.err}`);
      return r.out;
    };
    run("link", "add", "tap1", "type", "veth", "peer", "name", "peer1");
    run("link", "set", "tap1", "up");
    run("link", "set", "peer1", "up");
    run("addr", "add", "10.0.1.1/24", "dev", "tap1");
    const rig = new NeighRig();
    const t = new NeighTable(rig.core, (i) => (i === 1 ? "tap1" : `if${i}`), () => 0);
    const statics: [string, string, "permanent" | "noarp" | "reachable" | "stale"][] = [
      ["10.0.1.2", "02:00:00:00:01:02", "permanent"], ["10.0.1.3", "02:00:00:00:01:03", "noarp"],
      ["10.0.1.4", "02:00:00:00:01:04", "reachable"], ["10.0.1.5", "02:00:00:00:01:05", "stale"],
    ];
    for (const [a, mac, nud] of statics) {
      run("neigh", "replace", a, "lladdr", mac, "dev", "tap1", "nud", nud);
      t.add({ dev: "tap1", addr: ip4(a), lladdr: mac, nud });
    }
    // An unresolved neighbour: the kernel's starts with the first broadcast request, as ours.
    spawnSync("ip", ["netns", "exec", NS, "ping", "-c1", "-W1", "-w1", "10.0.1.9"], { timeout: 100, stdio: "ignore" });
    rig.output(1, ip4("10.0.1.9"), ipFrame(SRC, 1, 60), 0);
    const kernel = (args: string[]) => run(...args).split("\n").filter((l) => l.startsWith("10.0.1.")).sort();
    for (const [args, opts] of [
      [["neigh", "show", "dev", "tap1"], { dev: "tap1" }],
      [["neigh", "show"], {}],
      [["neigh", "show", "nud", "all"], { all: true }],
      [["-s", "neigh", "show"], { stats: true }],
      [["-s", "neigh", "show", "nud", "all", "dev", "tap1"], { stats: true, all: true, dev: "tap1" }],
    ] as const) {
      const theirs = kernel([...args]);
      // Should ping not have started the kernel's resolution in time, compare the static entries only.
      const pinged = theirs.some((l) => l.startsWith("10.0.1.9 "));
      const ours = t.show(opts).filter((l) => pinged || !l.startsWith("10.0.1.9 ")).sort();
      expect(ours, `${version} ${args.join(" ")}`).toEqual(theirs);
    }
  });
});
