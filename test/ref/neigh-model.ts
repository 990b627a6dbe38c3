// A plain model of the neighbour table and ARP (Linux neighbour.c + arp.c as assembly/dp/neigh.ts and
// arp.ts implement them): entries in a Map, the gc list as an array, hold queues as arrays of frames,
// time as plain numbers (no wrapping). It predicts, for each call, the verdict, the frames sent, the
// table and the counters, so tests can compare the core with it after every step.

export const NUD = {
  INCOMPLETE: 0x01,
  REACHABLE: 0x02,
  STALE: 0x04,
  DELAY: 0x08,
  PROBE: 0x10,
  FAILED: 0x20,
  NOARP: 0x40,
  PERMANENT: 0x80,
} as const;
const IN_TIMER = NUD.INCOMPLETE | NUD.REACHABLE | NUD.DELAY | NUD.PROBE;
const VALID = NUD.PERMANENT | NUD.NOARP | NUD.REACHABLE | NUD.PROBE | NUD.STALE | NUD.DELAY;
const CONNECTED = NUD.PERMANENT | NUD.NOARP | NUD.REACHABLE;

/** Verdicts and drop reasons (docs/dataplane.md). */
export const V = { FORWARDED: 0, REPLIED: 1, QUEUED: 2, DELIVERED: 3 } as const;
export const D = {
  OtherHost: 2,
  NeighFailed: 13,
  NeighTableFull: 14,
  TxFull: 15,
  NoBufs: 16,
  ArpInvalid: 17,
  ArpIgnored: 18,
  QueueOverflow: 22,
} as const;
const drop = (r: number) => 16 + r;

export interface NeighParams {
  gcThresh1: number;
  gcThresh2: number;
  gcThresh3: number;
  baseReachable: number;
  retrans: number;
  delayProbe: number;
  mcastSolicit: number;
  ucastSolicit: number;
  queueBytes: number;
  gcStale: number;
  gcInterval: number;
  locktime: number;
}
export const PARAM_IDS: (keyof NeighParams)[] = [
  "gcThresh1", "gcThresh2", "gcThresh3", "baseReachable", "retrans", "delayProbe",
  "mcastSolicit", "ucastSolicit", "queueBytes", "gcStale", "gcInterval", "locktime",
];
export function defaultParams(): NeighParams {
  return {
    gcThresh1: 128, gcThresh2: 512, gcThresh3: 1024, baseReachable: 30000, retrans: 1000, delayProbe: 5000,
    mcastSolicit: 3, ucastSolicit: 3, queueBytes: 65536, gcStale: 60000, gcInterval: 30000, locktime: 1000,
  };
}

export interface Port {
  ifindex: number;
  mac: number[];
  addrs: { addr: number; plen: number }[];
}

export interface Entry {
  ifindex: number;
  ip: number;
  mac: number[];
  state: number;
  hh: boolean;
  used: number;
  confirmed: number;
  updated: number;
  timer: number;
  probes: number;
  queue: Uint8Array[];
  release: boolean;
}

export interface Sent {
  oif: number;
  bytes: Uint8Array;
}

/** /proc/net/stat/arp_cache, in column order. */
export const STAT_NAMES = [
  "entries", "allocs", "destroys", "hash_grows", "lookups", "hits", "res_failed", "rcv_probes_mcast",
  "rcv_probes_ucast", "periodic_gc_runs", "forced_gc_runs", "unresolved_discards", "table_fulls",
] as const;
type StatName = (typeof STAT_NAMES)[number];

const BROADCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const key = (ifindex: number, ip: number) => `${ifindex}/${ip >>> 0}`;
const sameMac = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === 6 && b.length === 6 && [0, 1, 2, 3, 4, 5].every((i) => a[i] === b[i]);
const isMulticast = (ip: number) => ip >>> 28 === 0xe;
const isLoopback = (ip: number) => ip >>> 24 === 127;
const be32 = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** The per-device knobs (the kernel's neigh_parms), and the reachable_time drawn from each row's base. */
export const DEV_FIELDS = ["baseReachable", "retrans", "delayProbe", "mcastSolicit", "ucastSolicit", "queueBytes", "gcStale"] as const;
export type DevParams = Record<(typeof DEV_FIELDS)[number], number> & { reachable: number };
const pick = (p: NeighParams) => Object.fromEntries(DEV_FIELDS.map((f) => [f, p[f]])) as Record<(typeof DEV_FIELDS)[number], number>;

export class NeighModel {
  /** Draws reachable_time in [base/2, 3·base/2): the tests hand the model the core's own draw. */
  private readonly draw: (base: number, ifindex: number | undefined) => number;
  constructor(draw: (base: number, ifindex: number | undefined) => number) {
    this.draw = draw;
  }

  p: NeighParams = defaultParams();
  /** Ports' own parameter rows (net.ipv4.neigh.IFNAME.*), created by their first write from the default. */
  dev = new Map<number, DevParams>();
  ports = new Map<number, Port>();
  entries = new Map<string, Entry>();
  gcList: Entry[] = [];
  stats: Record<StatName, number> = Object.fromEntries(STAT_NAMES.map((n) => [n, 0])) as Record<StatName, number>;
  drops = new Map<number, number>();
  tableOverflows = 0;
  /** ICMP host unreachables owed (frames of failed neighbours), sent at the next tick. */
  failed: Uint8Array[] = [];
  icmpErrorsAsked: Uint8Array[] = [];
  sent: Sent[] = [];
  ready = false;
  buckets = 0;
  reachable = 0;
  lastFlush = 0;
  lastRand = 0;
  periodicDue = 0;

  private dropped(r: number): number {
    this.drops.set(r, (this.drops.get(r) ?? 0) + 1);
    return drop(r);
  }

  // ── ports and addresses (ports.ts) ──
  isLocal(ip: number): boolean {
    for (const p of this.ports.values()) if (p.addrs.some((a) => a.addr === ip)) return true;
    return false;
  }

  addrFor(ifindex: number, ip: number): number {
    const p = this.ports.get(ifindex);
    for (const a of p?.addrs ?? []) {
      const mask = a.plen === 0 ? 0 : (0xffffffff << (32 - a.plen)) >>> 0;
      if (((a.addr ^ ip) & mask) >>> 0 === 0) return a.addr;
    }
    if (p && p.addrs.length > 0) return p.addrs[0]!.addr;
    for (const q of this.ports.values()) if (q.addrs.length > 0) return q.addrs[0]!.addr;
    return 0;
  }

  // ── table ──
  private init(now: number): void {
    if (this.ready) return;
    let s = 3;
    while (s < 16 && 1 << s < this.p.gcThresh3) s++;
    this.buckets = 1 << s;
    this.redraw();
    this.lastFlush = now;
    this.lastRand = now + Math.min(this.reachable * 20, 0x40000000);
    this.periodicDue = now + this.reachable;
    this.ready = true;
  }

  /** reachable_time drawn again (init, every 300 s, base changed): the value is the caller's draw. */
  private redraw(): void {
    this.reachable = this.draw(this.p.baseReachable, undefined);
    for (const [ifindex, d] of this.dev) d.reachable = this.draw(d.baseReachable, ifindex);
  }

  /** The parameters an entry on port ifindex reads: the port's own row once written, else the default. */
  pp(ifindex: number): DevParams {
    return this.dev.get(ifindex) ?? { ...pick(this.p), reachable: this.reachable };
  }

  private find(ifindex: number, ip: number): Entry | undefined {
    return this.entries.get(key(ifindex, ip));
  }

  private lookup(ifindex: number, ip: number): Entry | undefined {
    this.stats.lookups++;
    const e = this.find(ifindex, ip);
    if (e) this.stats.hits++;
    return e;
  }

  private destroy(e: Entry): void {
    this.entries.delete(key(e.ifindex, e.ip));
    const i = this.gcList.indexOf(e);
    if (i >= 0) this.gcList.splice(i, 1);
    for (let k = 0; k < e.queue.length; k++) this.dropped(D.NeighFailed);
    e.queue = [];
    e.release = false;
    this.stats.destroys++;
  }

  private forcedGc(now: number): number {
    const maxClean = this.gcList.length - this.p.gcThresh2;
    this.stats.forced_gc_runs++;
    let shrunk = 0;
    for (const e of [...this.gcList]) {
      if (e.state & IN_TIMER) continue;
      if (e.state === NUD.FAILED || e.state === NUD.NOARP || isMulticast(e.ip) || now - e.updated > 5000) {
        this.destroy(e);
        shrunk++;
      }
      if (shrunk >= maxClean) break;
    }
    this.lastFlush = now;
    return shrunk;
  }

  private createFailure: number = D.NeighTableFull;

  private create(ifindex: number, ip: number, now: number, exempt: boolean): Entry | undefined {
    if (!exempt) {
      const n = this.gcList.length;
      if (n >= this.p.gcThresh3 || (n >= this.p.gcThresh2 && now > this.lastFlush + 5000)) {
        if (this.forcedGc(now) === 0 && n >= this.p.gcThresh3) return this.tableFull();
      }
    }
    if (this.entries.size >= 65536) return this.tableFull();
    this.stats.allocs++;
    const e: Entry = {
      ifindex, ip, mac: [0, 0, 0, 0, 0, 0], state: 0, hh: false, used: now, confirmed: now - 2 * this.pp(ifindex).baseReachable,
      updated: now, timer: 0, probes: 0, queue: [], release: false,
    };
    this.entries.set(key(ifindex, ip), e);
    if (this.entries.size > this.buckets && this.buckets < 65536) {
      this.stats.hash_grows++;
      this.buckets *= 2;
    }
    if (!exempt) this.gcList.push(e);
    return e;
  }

  private tableFull(): undefined {
    this.stats.table_fulls++;
    this.tableOverflows++;
    this.createFailure = D.NeighTableFull;
    return undefined;
  }

  // ── hold queue, probes ──
  private queueBytes(e: Entry): number {
    return e.queue.reduce((s, f) => s + f.length, 0);
  }

  private enqueue(e: Entry, frame: Uint8Array): void {
    while (this.queueBytes(e) + frame.length > this.pp(e.ifindex).queueBytes && e.queue.length > 0) {
      e.queue.shift();
      this.stats.unresolved_discards++;
      this.dropped(D.QueueOverflow);
    }
    e.queue.push(frame.slice());
  }

  private invalidate(e: Entry, now: number): void {
    this.stats.res_failed++;
    e.updated = now;
    for (const f of e.queue) {
      this.dropped(D.NeighFailed);
      this.failed.push(f);
    }
    e.queue = [];
    e.release = false;
  }

  /** The ARP request arp_solicit sends for e. */
  private solicit(e: Entry): void {
    let saddr = 0;
    const tail = e.queue[e.queue.length - 1];
    if (tail && tail.length >= 34 && this.isLocal(be32(tail, 26))) saddr = be32(tail, 26);
    if (saddr === 0) saddr = this.addrFor(e.ifindex, e.ip);
    const unicast = e.probes < this.pp(e.ifindex).ucastSolicit;
    this.send(e.ifindex, arpFrame(1, this.ports.get(e.ifindex)!.mac, unicast ? e.mac : BROADCAST, saddr, [0, 0, 0, 0, 0, 0], e.ip));
  }

  private probe(e: Entry): void {
    this.solicit(e);
    e.probes++;
  }

  private send(oif: number, bytes: Uint8Array): void {
    this.sent.push({ oif, bytes });
  }

  private addTimer(e: Entry, when: number): void {
    if (e.used < e.confirmed) e.used = e.confirmed;
    e.timer = when;
  }

  /** neigh_event_send: "send", "queued", or a drop verdict. */
  private eventSend(e: Entry, frame: Uint8Array | null, now: number): "send" | number {
    e.used = now;
    if (e.state & (CONNECTED | NUD.DELAY | NUD.PROBE)) return "send";
    let immediate = false;
    if (!(e.state & (NUD.STALE | NUD.INCOMPLETE))) {
      if (this.pp(e.ifindex).mcastSolicit === 0) {
        e.state = NUD.FAILED;
        e.updated = now;
        return this.dropped(D.NeighFailed);
      }
      e.probes = this.pp(e.ifindex).ucastSolicit;
      e.state = NUD.INCOMPLETE;
      e.updated = now;
      this.addTimer(e, now + Math.max(this.pp(e.ifindex).retrans, 10));
      immediate = true;
    } else if (e.state & NUD.STALE) {
      e.state = NUD.DELAY;
      e.updated = now;
      this.addTimer(e, now + this.pp(e.ifindex).delayProbe);
    }
    let rc: "send" | number = "send";
    if (e.state === NUD.INCOMPLETE) {
      rc = V.QUEUED;
      if (frame) this.enqueue(e, frame);
    }
    if (immediate) this.probe(e);
    return rc;
  }

  private withMacs(frame: Uint8Array, dst: number[], oif: number): Uint8Array {
    const f = frame.slice();
    f.set(dst, 0);
    f.set(this.ports.get(oif)!.mac, 6);
    return f;
  }

  private release(e: Entry, now: number): void {
    e.release = false;
    const q = e.queue;
    e.queue = [];
    for (const f of q) {
      if (e.state & VALID && this.eventSend(e, null, now) === "send") {
        e.hh = true;
        this.send(e.ifindex, this.withMacs(f, e.mac, e.ifindex));
      } else {
        this.dropped(D.NeighFailed);
      }
    }
  }

  // ── the data-plane calls ──
  output(oif: number, nexthop: number, frame: Uint8Array, now: number): number {
    const port = this.ports.get(oif);
    if (!port || frame.length < 14 || nexthop === 0) return this.dropped(D.NeighFailed);
    if (nexthop >>> 0 === 0xffffffff) {
      this.send(oif, this.withMacs(frame, BROADCAST, oif));
      return V.FORWARDED;
    }
    if (isMulticast(nexthop)) {
      const mac = [0x01, 0x00, 0x5e, (nexthop >>> 16) & 0x7f, (nexthop >>> 8) & 0xff, nexthop & 0xff];
      this.send(oif, this.withMacs(frame, mac, oif));
      return V.FORWARDED;
    }
    this.init(now);
    let e = this.find(oif, nexthop);
    if (!e) e = this.create(oif, nexthop, now, false);
    if (!e) return this.dropped(this.createFailure);
    if (e.release) this.release(e, now);
    if (e.state & CONNECTED && e.hh) {
      this.send(oif, this.withMacs(frame, e.mac, oif));
      return V.FORWARDED;
    }
    const rc = this.eventSend(e, frame, now);
    if (rc !== "send") return rc;
    e.hh = true;
    this.send(oif, this.withMacs(frame, e.mac, oif));
    return V.FORWARDED;
  }

  /** __neigh_update; returns 0, -1 or -22. */
  private update(e: Entry, mac: number[] | null, newState: number, override: boolean, admin: boolean, now: number, releaseNow: boolean): number {
    const old = e.state;
    let state = newState;
    if (!admin && old & (NUD.NOARP | NUD.PERMANENT)) return -1;
    if (!(state & VALID)) {
      e.state = state;
      if (old & (NUD.INCOMPLETE | NUD.PROBE) && state & NUD.FAILED) this.invalidate(e, now);
      this.gcUpdate(e, old);
      return 0;
    }
    let macChanged = false;
    if (mac) macChanged = !(old & VALID) || !sameMac(mac, e.mac);
    else if (!(old & VALID)) return -22;
    if (state & CONNECTED) e.confirmed = now;
    if (old & VALID) {
      if (macChanged && !override) return 0;
      if (!macChanged && state === NUD.STALE && !admin) state = old;
    }
    if (state !== old || macChanged) e.updated = now;
    if (state !== old) {
      if (state & NUD.PROBE) e.probes = 0;
      if (state & IN_TIMER) this.addTimer(e, now + (state & NUD.REACHABLE ? this.pp(e.ifindex).reachable : 0));
      e.state = state;
    }
    if (macChanged) {
      e.mac = [...mac!];
      if (!(state & CONNECTED)) e.confirmed = now - 2 * this.pp(e.ifindex).baseReachable;
    }
    if (state === old) return 0;
    if (!(old & VALID) && e.queue.length > 0) {
      if (releaseNow) this.release(e, now);
      else e.release = true;
    }
    this.gcUpdate(e, old);
    return 0;
  }

  private gcUpdate(e: Entry, old: number): void {
    if (!((old ^ e.state) & NUD.PERMANENT)) return;
    const i = this.gcList.indexOf(e);
    if (e.state & NUD.PERMANENT) {
      if (i >= 0) this.gcList.splice(i, 1);
    } else if (i < 0) this.gcList.push(e);
  }

  arpInput(f: Uint8Array, iif: number, now: number): number {
    const port = this.ports.get(iif);
    if (!port || !arpValid(f)) return this.dropped(D.ArpInvalid);
    const dst = [...f.subarray(0, 6)];
    const host = sameMac(dst, port.mac);
    if (!host && !sameMac(dst, BROADCAST) && !(dst[0]! & 1)) return this.dropped(D.OtherHost);
    this.init(now);
    const op = (f[20]! << 8) | f[21]!;
    const sha = [...f.subarray(22, 28)];
    const sip = be32(f, 28);
    const tha = [...f.subarray(32, 38)];
    const tip = be32(f, 38);
    if (sip === 0) {
      if (op === 1 && this.isLocal(tip)) {
        this.send(iif, arpFrame(2, port.mac, sha, tip, sha, 0));
        return V.REPLIED;
      }
      return this.dropped(D.ArpIgnored);
    }
    if (op === 1 && this.isLocal(tip) && !this.isLocal(sip) && sip >>> 24 !== 0) {
      if (host) this.stats.rcv_probes_ucast++;
      else this.stats.rcv_probes_mcast++;
      let e = this.lookup(iif, sip);
      if (!e) e = this.create(iif, sip, now, false);
      if (!e) return this.dropped(this.createFailure);
      this.update(e, sha, NUD.STALE, true, false, now, true);
      this.send(iif, arpFrame(2, port.mac, sha, tip, sha, sip));
      return V.REPLIED;
    }
    const e = this.lookup(iif, sip);
    if (!e) return this.dropped(D.ArpIgnored);
    const garp = sip === tip && (op === 1 || sameMac(tha, sha)) && !this.isLocal(sip);
    const override = garp || now > e.updated + this.p.locktime;
    const state = op === 2 && host ? NUD.REACHABLE : NUD.STALE;
    this.update(e, sha, state, override, false, now, true);
    return V.DELIVERED;
  }

  // ── timers ──
  private maxProbes(e: Entry): number {
    const d = this.pp(e.ifindex);
    return d.ucastSolicit + (e.state & NUD.PROBE ? 0 : d.mcastSolicit);
  }

  private timer(e: Entry, now: number): void {
    const d = this.pp(e.ifindex);
    let next = now + 1000;
    if (e.state & NUD.REACHABLE) {
      if (now <= e.confirmed + d.reachable) next = e.confirmed + d.reachable;
      else if (now <= e.used + d.delayProbe) {
        e.state = NUD.DELAY;
        e.updated = now;
        next = now + d.delayProbe;
      } else {
        e.state = NUD.STALE;
        e.updated = now;
      }
    } else if (e.state & NUD.DELAY) {
      if (now <= e.confirmed + d.delayProbe) {
        e.state = NUD.REACHABLE;
        e.updated = now;
        next = e.confirmed + d.reachable;
      } else {
        e.state = NUD.PROBE;
        e.updated = now;
        e.probes = 0;
        next = now + Math.max(d.retrans, 10);
      }
    } else {
      next = now + Math.max(d.retrans, 10);
    }
    if (e.state & (NUD.INCOMPLETE | NUD.PROBE) && e.probes >= this.maxProbes(e)) {
      e.state = NUD.FAILED;
      this.invalidate(e, now);
      return;
    }
    if (e.state & IN_TIMER) e.timer = Math.max(next, now + 10);
    if (e.state & (NUD.INCOMPLETE | NUD.PROBE)) this.probe(e);
  }

  private periodic(now: number): void {
    this.stats.periodic_gc_runs++;
    if (now > this.lastRand + 300000) {
      this.lastRand = now;
      this.redraw();
    }
    if (this.entries.size >= this.p.gcThresh1) {
      for (const e of [...this.entries.values()]) {
        if (e.state & (NUD.PERMANENT | IN_TIMER)) continue;
        if (e.used < e.confirmed && e.confirmed <= now) e.used = e.confirmed;
        if (e.state === NUD.FAILED || now - e.used >= this.pp(e.ifindex).gcStale) this.destroy(e);
      }
    }
    this.periodicDue = now + (this.p.baseReachable >> 1);
  }

  tick(now: number): void {
    this.init(now);
    for (const e of [...this.entries.values()]) {
      if (e.release) this.release(e, now);
      if (e.state & IN_TIMER && e.timer <= now) this.timer(e, now);
    }
    if (this.periodicDue <= now) this.periodic(now);
    // icmpError for each failed frame; the tests give the core no route back, so nothing is sent.
    this.icmpErrorsAsked.push(...this.failed);
    this.failed = [];
  }

  /**
   * When tick next has something to do, at or after now: a queue to release or ICMP errors owed (now),
   * the earliest entry timer, the periodic work; undefined before the table exists.
   */
  nextWake(now: number): number | undefined {
    if (!this.ready) return undefined;
    let due = this.periodicDue;
    for (const e of this.entries.values()) {
      if (e.release) due = Math.min(due, now);
      if (e.state & IN_TIMER) due = Math.min(due, e.timer);
    }
    if (this.failed.length > 0) due = Math.min(due, now);
    return Math.max(due, now);
  }

  // ── the control-plane calls ──
  setParam(id: number, v: number): number {
    const name = PARAM_IDS[id];
    if (name === undefined) return -22;
    const isTime = ["baseReachable", "retrans", "delayProbe", "gcStale", "gcInterval", "locktime"].includes(name);
    if (isTime && v >= 0x40000000) return -22;
    const changed = this.p[name] !== v;
    this.p[name] = v;
    if (name === "baseReachable" && this.ready && changed) this.reachable = this.draw(v, undefined);
    return 0;
  }

  /** A port's own knob (net.ipv4.neigh.IFNAME.*): per-device ids only, ports below 256. */
  setDevParam(ifindex: number, id: number, v: number): number {
    const name = PARAM_IDS[id];
    if (name === undefined || !(DEV_FIELDS as readonly string[]).includes(name) || ifindex >= 256) return -22;
    if (["baseReachable", "retrans", "delayProbe", "gcStale"].includes(name) && v >= 0x40000000) return -22;
    let d = this.dev.get(ifindex);
    if (!d) this.dev.set(ifindex, (d = this.pp(ifindex)));
    const f = name as (typeof DEV_FIELDS)[number];
    const changed = d[f] !== v;
    d[f] = v;
    if (f === "baseReachable" && this.ready && changed) d.reachable = this.draw(v, ifindex);
    return 0;
  }

  add(ifindex: number, ip: number, mac: number[] | null, state: number, now: number): number {
    if (!this.ports.has(ifindex)) return -19;
    if (![NUD.PERMANENT, NUD.NOARP, NUD.REACHABLE, NUD.STALE].includes(state as 0x80)) return -22;
    this.init(now);
    let e = this.lookup(ifindex, ip);
    if (!e) {
      if (!mac) return -22;
      e = this.create(ifindex, ip, now, (state & NUD.PERMANENT) !== 0);
      if (!e) return -105;
    }
    return this.update(e, mac, state, true, true, now, false);
  }

  del(ifindex: number, ip: number): number {
    if (!this.ready) return -2;
    const e = this.lookup(ifindex, ip);
    if (!e) return -2;
    this.update(e, null, NUD.FAILED, true, true, e.updated, false);
    this.destroy(e);
    return 0;
  }

  flush(ifindex: number): number {
    if (!this.ready) return 0;
    let n = 0;
    for (const e of [...this.entries.values()]) {
      if ((ifindex === 0 || e.ifindex === ifindex) && !(e.state & NUD.PERMANENT)) {
        this.destroy(e);
        n++;
      }
    }
    return n;
  }

  statArray(): number[] {
    return STAT_NAMES.map((n) => (n === "entries" ? this.entries.size : this.stats[n]));
  }

  takeSent(): Sent[] {
    const s = this.sent;
    this.sent = [];
    return s;
  }
}

/** True when an ARP frame passes arp_rcv's and arp_process's header checks (as arp.ts's `invalid`). */
export function arpValid(f: Uint8Array): boolean {
  if (f.length < 42) return false;
  const hrd = (f[14]! << 8) | f[15]!;
  if ((hrd !== 1 && hrd !== 6) || f[16] !== 0x08 || f[17] !== 0x00 || f[18] !== 6 || f[19] !== 4) return false;
  const op = (f[20]! << 8) | f[21]!;
  if (op !== 1 && op !== 2) return false;
  const sip = be32(f, 28);
  const tip = be32(f, 38);
  if (isMulticast(tip) || isLoopback(tip)) return false;
  return !(isMulticast(sip) || isLoopback(sip) || sip === 0xffffffff);
}

/** An ARP frame over Ethernet, 42 bytes: op, sender MAC (also the Ethernet source), Ethernet destination. */
export function arpFrame(op: number, sha: ArrayLike<number>, ethDst: ArrayLike<number>, sip: number, tha: ArrayLike<number>, tip: number): Uint8Array {
  const f = new Uint8Array(42);
  f.set(Array.from(ethDst), 0);
  f.set(Array.from(sha), 6);
  f.set([0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0, op], 12);
  f.set(Array.from(sha), 22);
  f.set([sip >>> 24, (sip >>> 16) & 255, (sip >>> 8) & 255, sip & 255], 28);
  f.set(Array.from(tha), 32);
  f.set([tip >>> 24, (tip >>> 16) & 255, (tip >>> 8) & 255, tip & 255], 38);
  return f;
}
