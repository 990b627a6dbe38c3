/**
 * Fuzzes the data plane (issue #7): random and mutated Ethernet frames, in batches, through the real
 * pipeline — a Router from a config with pcap ports, `router.dp.receive(ifindex, frames, flags)` — on
 * every core build in turn by default (release, debug, and checked: every memory access and every
 * frame access bounds-checked, host/core/bounds.ts), which must all give the same digest; or on one.
 *
 *   npm run fuzz [-- --frames N --seed S --core all|release|debug|checked --batch B --rounds R --quiet]
 *
 * --rounds R runs the cores R times over, alternating (release, debug, checked, release, …), and ends
 * with each core's median rate: the way to compare their speed on a machine shared with other jobs.
 *
 * Frames: valid templates (forwarded UDP, echo to the router, ARP request/reply, big frames that
 * fragment or draw frag-needed, unresolved next hops that queue, TTL 1, no route, blackhole,
 * unreachable, broadcast, multicast, martians, fragments, options) and pure random bytes, mutated:
 * truncated, IHL < 5 or beyond the frame, total length beyond the frame, bad and fixed-up header
 * checksums, fragment bits, options, odd ethertypes, malformed ARP, byte flips, random CSUM_NOT_READY
 * flags. Timers run between batches, with a virtual clock.
 *
 * Checks: no trap; every frame a verdict in {0,1,2,3} ∪ [16, 40); the WrDrop deltas of a batch equal
 * its drop verdicts plus drops of frames held from earlier batches (QueueOverflow, NeighFailed), and
 * those never exceed the frames queued so far; InReceives grows by at most the frames given; every
 * sent frame is ≥ 14 bytes and, when IPv4, has a header inside the frame with a valid checksum; core
 * memory in use stays under a bound and does not grow over the second half of the run.
 * Exit status 0 when every check held, 1 otherwise (with reproducing frames in hex).
 */
import { pathToFileURL } from "node:url";
import { Router } from "../host/router/router.ts";
import { parseConfig } from "../host/router/config.ts";
import { snmpIndex, DROP_REASONS } from "../host/router/snmp.ts";
import { Logger } from "../host/router/logger.ts";
import { parseMac } from "../host/router/mac.ts";
import { checksum, put16, put32 } from "../host/sim/frames.ts";
import { BUILD_FLAVORS, type BuildFlavor } from "../host/core/load.ts";

export interface FuzzOptions {
  frames: number;
  seed: number;
  core: BuildFlavor;
  batch: number;
  /** Progress lines every this many frames (0 = none). */
  progressEvery?: number;
  log?: (line: string) => void;
}

export interface FuzzResult {
  frames: number;
  batches: number;
  seconds: number;
  framesPerSecond: number;
  /** Verdict code → frames. */
  verdicts: Map<number, number>;
  sent: number;
  queued: number;
  heldDropped: number;
  memStart: number;
  memHalf: number;
  memMax: number;
  memEnd: number;
  memoryBytes: number;
  /** FNV-1a over every verdict and every sent frame (port, length, first 64 bytes): equal across builds for one seed. */
  digest: string;
  failures: string[];
}

export const FUZZ_CONFIG = `
link add p1 type pcap address 02:77:00:00:01:01
link add p2 type pcap address 02:77:00:00:02:01 mtu 1400
addr add 10.201.1.1/24 dev p1
addr add 10.201.2.1/24 dev p2
neigh add 10.201.1.2 lladdr 02:00:00:00:01:02 dev p1
neigh add 10.201.1.3 lladdr 02:00:00:00:01:03 dev p1
neigh add 10.201.2.2 lladdr 02:00:00:00:02:02 dev p2
route add 172.16.0.0/12 via 10.201.2.2 dev p2
route add 10.99.0.0/16 via 10.201.1.3 dev p1
route add 192.168.50.0/24 via 10.201.2.50 dev p2
route add blackhole 198.51.100.0/24
route add unreachable 203.0.113.0/24
route add prohibit 192.0.2.128/25
`;

const R1 = parseMac("02:77:00:00:01:01");
const R2 = parseMac("02:77:00:00:02:01");
const H1 = parseMac("02:00:00:00:01:02");
const VALID_VERDICT = (v: number) => v <= 3 || (v >= 16 && v < 16 + DROP_REASONS.length);
export const VERDICT_NAMES: Record<number, string> = { 0: "forwarded", 1: "replied", 2: "queued", 3: "delivered" };
DROP_REASONS.forEach((r, i) => (VERDICT_NAMES[16 + i] = `drop:${r}`));

/** mulberry32: a small fast seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ip = (s: string) => s.split(".").reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);

/** Recomputes the IPv4 header checksum in place, if the header (per IHL) fits in the frame. */
function fixIpChecksum(f: Uint8Array, len: number): void {
  const hl = (f[14]! & 15) * 4;
  if (hl < 20 || 14 + hl > len) return;
  f[24] = f[25] = 0;
  put16(f, 24, checksum(f, 14, 14 + hl));
}

/** A sent frame's problem, or undefined. */
export function checkSent(f: Uint8Array): string | undefined {
  if (f.length < 14) return `sent frame of ${f.length} bytes (< 14)`;
  const et = (f[12]! << 8) | f[13]!;
  if (et === 0x0800) {
    if (f.length < 34) return `sent IPv4 frame of ${f.length} bytes (< 34)`;
    const hl = (f[14]! & 15) * 4;
    if (f[14]! >> 4 !== 4 || hl < 20) return `sent IPv4 frame with version/IHL byte 0x${f[14]!.toString(16)}`;
    if (14 + hl > f.length) return `sent IPv4 header of ${hl} bytes beyond a ${f.length}-byte frame`;
    if (checksum(f, 14, 14 + hl) !== 0) return `sent IPv4 frame with a bad header checksum`;
    const tot = (f[16]! << 8) | f[17]!;
    if (tot < hl || 14 + tot > f.length) return `sent IPv4 total length ${tot} outside a ${f.length}-byte frame`;
  } else if (et === 0x0806) {
    if (f.length < 42) return `sent ARP frame of ${f.length} bytes (< 42)`;
  }
  return undefined;
}

const hex = (f: Uint8Array) => Buffer.from(f.buffer, f.byteOffset, f.length).toString("hex");

/** Frame factory: templates and mutations into a scratch buffer. */
class Generator {
  private readonly r: () => number;
  readonly max: number;
  /** The receiving port's MAC (frames to the router carry it). */
  mac = R1;
  constructor(seed: number, max: number) {
    this.r = prng(seed);
    this.max = max;
  }
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  private pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }

  private srcAddr(): number {
    if (this.chance(0.7)) return ip("10.201.1.2");
    if (this.chance(0.5)) return (ip("10.201.1.0") | this.int(256)) >>> 0;
    if (this.chance(0.3)) return this.pick([0, ip("127.0.0.1"), ip("224.0.0.5"), 0xffffffff, ip("10.201.1.1"), ip("10.201.1.255"), ip("0.1.2.3"), ip("240.0.0.1")]);
    return (this.r() * 2 ** 32) >>> 0;
  }
  private dstAddr(): number {
    switch (this.int(16)) {
      case 0: case 1: case 2: case 3: case 4: return (ip("172.16.0.0") | this.int(1 << 20)) >>> 0; // forwarded, many cache entries
      case 5: return ip("10.201.1.1"); // the router
      case 6: return ip("10.201.2.1");
      case 7: return (ip("192.168.50.0") | this.int(256)) >>> 0; // unresolved gateway: queued
      case 8: return (ip("10.201.2.0") | (3 + this.int(250))) >>> 0; // on-link, mostly unresolved
      case 9: return (ip("10.99.0.0") | this.int(65536)) >>> 0; // back out of p1: redirect
      case 10: return this.pick([ip("198.51.100.9"), ip("203.0.113.9"), ip("192.0.2.200")]); // blackhole, unreachable, prohibit
      case 11: return this.pick([ip("10.201.1.255"), 0xffffffff, ip("224.0.0.1"), ip("239.1.2.3"), ip("10.201.2.255"), 0, ip("127.0.0.1")]);
      case 12: return (ip("192.0.2.0") | this.int(128)) >>> 0; // no route
      default: return (this.r() * 2 ** 32) >>> 0;
    }
  }

  /** Writes one frame into f (f.length ≥ max); returns its length and its rx flags. */
  frame(f: Uint8Array): { len: number; flags: number } {
    let len: number;
    const kind = this.int(100);
    if (kind < 8) {
      // pure random bytes
      len = this.chance(0.5) ? this.int(64) : this.int(this.max + 1);
      for (let i = 0; i < len; i++) f[i] = this.int(256);
    } else if (kind < 20) {
      len = this.arp(f);
    } else {
      len = this.ipv4(f);
    }
    len = this.mutate(f, len);
    let flags = 0;
    if (this.chance(0.15)) flags = 1; // CSUM_NOT_READY (CHECKSUM_PARTIAL from a local sender)
    else if (this.chance(0.01)) flags = this.int(256);
    return { len, flags };
  }

  private ether(f: Uint8Array, type: number): void {
    const d = this.int(20);
    if (d === 0) f.fill(0xff, 0, 6);
    else if (d === 1) f.set([0x01, 0x00, 0x5e, 0, 0, this.int(256)], 0);
    else if (d === 2) for (let i = 0; i < 6; i++) f[i] = this.int(256);
    else f.set(this.mac, 0);
    f.set(H1, 6);
    put16(f, 12, type);
  }

  private arp(f: Uint8Array): number {
    const reply = this.chance(0.4);
    if (reply) this.ether(f, 0x0806);
    else {
      f.fill(0xff, 0, 6);
      f.set(H1, 6);
      put16(f, 12, 0x0806);
    }
    put16(f, 14, 1);
    put16(f, 16, 0x0800);
    f[18] = 6;
    f[19] = 4;
    put16(f, 20, reply ? 2 : 1);
    const sha = this.chance(0.8) ? H1 : Uint8Array.from({ length: 6 }, () => this.int(256));
    f.set(sha, 22);
    put32(f, 28, this.chance(0.5) ? (ip("10.201.1.0") | this.int(256)) >>> 0 : this.chance(0.5) ? (ip("10.201.2.0") | this.int(256)) >>> 0 : this.srcAddr());
    if (reply) f.set(this.mac, 32);
    else f.fill(0, 32, 38);
    put32(f, 38, this.chance(0.6) ? this.pick([ip("10.201.1.1"), ip("10.201.2.1")]) : (ip("10.201.1.0") | this.int(256)) >>> 0);
    let len = 42;
    if (this.chance(0.3)) len = 60; // padded to the minimum frame
    f.fill(0, 42, len);
    // malformed ARP
    if (this.chance(0.3)) {
      switch (this.int(6)) {
        case 0: put16(f, 14, this.int(65536)); break;
        case 1: put16(f, 16, this.int(65536)); break;
        case 2: f[18] = this.int(256); break;
        case 3: f[19] = this.int(256); break;
        case 4: put16(f, 20, this.int(65536)); break;
        default: len = 14 + this.int(28); break;
      }
    }
    return len;
  }

  private ipv4(f: Uint8Array): number {
    this.ether(f, this.chance(0.95) ? 0x0800 : this.pick([0x86dd, 0x8100, 0x88a8, 0x0000, 0x05dc, 0xffff, 0x0801, 0x0806]));
    let hl = 20;
    if (this.chance(0.1)) hl = 4 * (6 + this.int(10)); // options (IHL 6..15)
    const proto = this.pick([17, 17, 17, 1, 1, 6, 2, 47, 50, this.int(256)]);
    let payload: number;
    const big = this.int(12);
    if (big === 0) payload = 1300 + this.int(this.max - 14 - hl - 1300 + 1); // beyond p2's MTU 1400
    else if (big === 1) payload = 0;
    else payload = 8 + this.int(200);
    payload = Math.max(0, Math.min(payload, this.max - 14 - hl));
    const tot = hl + payload;
    f[14] = 0x40 | (hl >> 2);
    f[15] = this.chance(0.9) ? 0 : this.int(256);
    put16(f, 16, tot);
    put16(f, 18, this.int(65536));
    let frag = this.chance(0.5) ? 0x4000 : 0; // DF
    if (this.chance(0.08)) frag = (this.chance(0.5) ? 0x2000 : 0) | (this.int(8192) & 0x1fff) | (this.chance(0.2) ? 0x8000 : 0); // fragments, evil bit
    put16(f, 20, frag);
    f[22] = this.chance(0.05) ? this.int(3) : 64;
    f[23] = proto;
    put32(f, 26, this.srcAddr());
    put32(f, 30, this.dstAddr());
    // options: a mix of valid (NOP, EOL, RR, TS, LSRR) and garbage
    for (let i = 34; i < 14 + hl; i++) f[i] = this.chance(0.5) ? this.pick([0, 1, 7, 68, 131, 137, 148]) : this.int(256);
    const p = 14 + hl;
    // L4: a UDP / ICMP header with a plausible checksum, else random
    for (let i = p; i < p + payload; i++) f[i] = i & 0xff;
    if (proto === 17 && payload >= 8) {
      put16(f, p, this.int(65536));
      put16(f, p + 2, this.chance(0.5) ? 33434 : this.int(65536));
      put16(f, p + 4, this.chance(0.9) ? payload : this.int(65536));
      put16(f, p + 6, 0);
    } else if (proto === 1 && payload >= 8) {
      f[p] = this.pick([8, 0, 3, 11, 5, 13, this.int(256)]);
      f[p + 1] = this.int(4);
      put16(f, p + 2, 0);
      if (this.chance(0.9)) put16(f, p + 2, checksum(f, p, p + payload));
    }
    f[24] = f[25] = 0;
    put16(f, 24, checksum(f, 14, 14 + hl));
    return 14 + tot;
  }

  private mutate(f: Uint8Array, len: number): number {
    const isIp = len >= 34 && f[12] === 0x08 && f[13] === 0x00;
    const n = this.chance(0.4) ? 0 : 1 + this.int(3);
    for (let k = 0; k < n; k++) {
      switch (this.int(10)) {
        case 0: // truncate
          len = this.int(len + 1);
          break;
        case 1: // IHL < 5 or beyond the frame
          if (len > 14) f[14] = (f[14]! & 0xf0) | this.int(16);
          break;
        case 2: // total length beyond the frame (or below the header)
          if (len > 17) put16(f, 16, this.chance(0.5) ? len - 14 + 1 + this.int(1500) : this.int(24));
          break;
        case 3: // version
          if (len > 14) f[14] = (this.int(16) << 4) | (f[14]! & 15);
          break;
        case 4: // flip a byte
          if (len > 0) f[this.int(len)] = this.int(256);
          break;
        case 5: // grow with trailing bytes (padding beyond total length)
          {
            const extra = Math.min(this.int(64), this.max - len);
            for (let i = 0; i < extra; i++) f[len + i] = this.int(256);
            len += extra;
          }
          break;
        case 6: // fragment bits
          if (len > 21) put16(f, 20, this.int(65536));
          break;
        case 7: // TTL
          if (len > 22) f[22] = this.int(3);
          break;
        case 8: // ethertype
          if (len > 13) put16(f, 12, this.pick([0x0800, 0x0806, 0x86dd, 0x8100, this.int(65536)]));
          break;
        default: // L4 header bytes
          if (len > 40) f[34 + this.int(Math.min(len - 34, 16))] = this.int(256);
      }
    }
    // Most header mutations should reach past the checksum check: fix it up, unless the bad checksum is the point.
    if (isIp && n > 0 && this.chance(0.7)) fixIpChecksum(f, len);
    else if (isIp && this.chance(0.03)) f[24] = f[24]! ^ (1 + this.int(255));
    return len;
  }
}

/** Runs the fuzzer; never throws for a finding (they go to failures). */
export function fuzz(opts: FuzzOptions): FuzzResult {
  const log = opts.log ?? (() => {});
  const prevCore = process.env.WASMROUTE_CORE;
  process.env.WASMROUTE_CORE = opts.core;
  // What the router draws at random (the route cache's secret and seed, from Math.random) comes from
  // the seed too, so a run is reproducible from --seed.
  const random = Math.random;
  Math.random = prng(opts.seed ^ 0x5bd1e995);
  let clock = 1_000_000;
  let router: Router;
  try {
    router = Router.start(parseConfig(FUZZ_CONFIG, "fuzz.conf"), { clock: () => clock, logger: new Logger("text", () => {}), buckets: 1024, slots: opts.batch });
  } catch (e) {
    Math.random = random;
    throw e;
  } finally {
    if (prevCore === undefined) delete process.env.WASMROUTE_CORE;
    else process.env.WASMROUTE_CORE = prevCore;
  }
  const failures: string[] = [];
  const fail = (m: string) => {
    if (failures.length < 20) failures.push(m);
  };
  const core = router.fib.core;
  const x = core.x as unknown as { dp_snmp(): number; mem_bytes_in_use(): number };
  const snmpPtr = x.dp_snmp() >>> 0;
  const W = snmpIndex("WrDrop", "Runt");
  const IN_RECEIVES = snmpIndex("Ip", "InReceives");
  const HELD = [snmpIndex("WrDrop", "QueueOverflow"), snmpIndex("WrDrop", "NeighFailed")];
  // What can wait in a hold queue: received frames (verdict 2), their fragments, the router's own frames.
  const OUT_REQUESTS = snmpIndex("Ip", "OutRequests");
  const FRAG_CREATES = snmpIndex("Ip", "FragCreates");
  const holdable0 = (() => {
    const c = new BigUint64Array(core.x.memory.buffer, x.dp_snmp() >>> 0, 618);
    return Number(c[OUT_REQUESTS]!) + Number(c[FRAG_CREATES]!);
  })();
  const counters = () => new BigUint64Array(core.x.memory.buffer, snmpPtr, 618);
  const drops = () => {
    const c = counters();
    let s = 0;
    for (let i = W; i < W + 32; i++) s += Number(c[i]!);
    return s;
  };
  const held = () => {
    const c = counters();
    return Number(c[HELD[0]!]!) + Number(c[HELD[1]!]!);
  };
  const p1 = router.ports.get("p1")!.ifindex;
  const p2 = router.ports.get("p2")!.ifindex;
  const max = router.dp.slotBytes + 64; // a few frames longer than a slot: receive() cuts them
  const gen = new Generator(opts.seed, max);
  const scratch = new Uint8Array(opts.batch * max);
  const verdicts = new Map<number, number>();
  let sent = 0, queued = 0, heldDropped = 0, done = 0, batches = 0;
  const memStart = x.mem_bytes_in_use() >>> 0;
  let memHalf = 0, memMax = memStart, memFirstHalfMax = memStart, memSecondHalfMax = 0;
  // Stray writes would show as a broken FIB structure, a cache whose counts disagree with its chains,
  // or route answers that changed: audit them at the middle and at the end of the run.
  const probes = ["172.16.5.5", "10.201.1.2", "10.99.1.1", "198.51.100.1", "203.0.113.1", "8.8.8.8", "10.201.2.1"].map(ip);
  const answers = () => probes.map((dst) => JSON.stringify(router.fib.get({ dst, src: 0, iif: "", mark: 0, tos: 0 }))).join("\n");
  const answers0 = answers();
  const integrity = (when: string) => {
    try {
      router.fib.check();
    } catch (e) {
      fail(`${when}: ${(e as Error).message}`);
    }
    let chained = 0;
    for (let b = 0; b < router.cache.buckets; b++) chained += router.cache.chainLength(b);
    if (chained !== router.cache.hashed) fail(`${when}: cache chains hold ${chained} entries, hashed count ${router.cache.hashed}`);
    if (router.cache.allocated < router.cache.hashed) fail(`${when}: cache allocated ${router.cache.allocated} < hashed ${router.cache.hashed}`);
    if (answers() !== answers0) fail(`${when}: FIB answers changed:\n${answers0}\n→\n${answers()}`);
  };
  let audited = false;
  const t0 = performance.now();
  let h = 0x811c9dc5;
  const mix = (b: number) => {
    h = Math.imul(h ^ (b & 0xff), 0x01000193);
  };
  const checkSentList = (list: { oif: number; frame: Uint8Array }[], what: string) => {
    sent += list.length;
    for (const s of list) {
      mix(s.oif);
      mix(s.frame.length);
      mix(s.frame.length >> 8);
      for (let i = 0; i < Math.min(64, s.frame.length); i++) mix(s.frame[i]!);
      const e = checkSent(s.frame);
      if (e) fail(`${what}: ${e} on if${s.oif}: ${hex(s.frame)}`);
      if (s.oif !== p1 && s.oif !== p2) fail(`${what}: frame sent to unknown ifindex ${s.oif}`);
    }
  };

  try {
    while (done < opts.frames && failures.length === 0) {
      const n = Math.min(opts.batch, opts.frames - done);
      const iif = gen.chance(0.85) ? p1 : p2;
      gen.mac = iif === p1 ? R1 : R2;
      const frames: Uint8Array[] = new Array(n);
      const flags: number[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const at = i * max;
        const g = gen.frame(scratch.subarray(at, at + max));
        frames[i] = scratch.subarray(at, at + g.len);
        flags[i] = g.flags;
      }
      clock += gen.int(4);
      const d0 = drops(), h0 = held(), r0 = Number(counters()[IN_RECEIVES]!);
      let r;
      try {
        r = router.dp.receive(iif, frames, flags);
      } catch (e) {
        fail(`batch ${batches} trapped: ${(e as Error).message}\n${reproduce(opts, frames, flags, iif === p1 ? "p1" : "p2")}`);
        break;
      }
      let dropVerdicts = 0;
      if (r.verdicts.length !== n) fail(`batch ${batches}: ${r.verdicts.length} verdicts for ${n} frames`);
      r.verdicts.forEach((v, i) => {
        mix(v);
        verdicts.set(v, (verdicts.get(v) ?? 0) + 1);
        if (!VALID_VERDICT(v)) fail(`batch ${batches}: verdict ${v} for frame ${hex(frames[i]!)}`);
        if (v >= 16) dropVerdicts++;
        if (v === 2) queued++;
      });
      const extra = drops() - d0 - dropVerdicts;
      const heldDelta = held() - h0;
      if (extra < 0 || extra > heldDelta) fail(`batch ${batches}: WrDrop grew by ${drops() - d0} for ${dropVerdicts} drop verdicts (held-frame drops ${heldDelta})`);
      heldDropped += extra;
      const rx = Number(counters()[IN_RECEIVES]!) - r0;
      if (rx < 0 || rx > n) fail(`batch ${batches}: InReceives grew by ${rx} for ${n} frames`);
      checkSentList(r.sent, `batch ${batches}`);
      // timers: neighbour retries, hold-queue expiry, cache GC scan
      if (batches % 8 === 7) {
        clock += 10 + gen.int(gen.chance(0.05) ? 5000 : 400);
        const dt0 = drops();
        const ts = router.dp.tickCollect();
        heldDropped += drops() - dt0;
        checkSentList(ts, `tick after batch ${batches}`);
      }
      const c = counters();
      const holdable = queued + Number(c[OUT_REQUESTS]!) + Number(c[FRAG_CREATES]!) - holdable0;
      if (heldDropped > holdable) fail(`batch ${batches}: ${heldDropped} held frames dropped but only ${holdable} could have been held (queued, fragments, own frames)`);
      done += n;
      batches++;
      const mem = x.mem_bytes_in_use() >>> 0;
      if (mem > memMax) memMax = mem;
      if (done <= opts.frames / 2) {
        memFirstHalfMax = Math.max(memFirstHalfMax, mem);
        memHalf = mem;
      } else memSecondHalfMax = Math.max(memSecondHalfMax, mem);
      if (!audited && done >= opts.frames / 2) {
        audited = true;
        integrity(`after ${done} frames`);
      }
      if (opts.progressEvery && Math.floor(done / opts.progressEvery) !== Math.floor((done - n) / opts.progressEvery)) {
        const s = (performance.now() - t0) / 1000;
        log(`${done} frames, ${(done / s).toFixed(0)} frames/s, core memory in use ${mem} B`);
      }
    }
    if (failures.length === 0) integrity("at the end");
  } finally {
    router.stop();
    Math.random = random;
  }
  const seconds = (performance.now() - t0) / 1000;
  const memEnd = x.mem_bytes_in_use() >>> 0;
  // Bounds: the cache (max_size 16 × 1024 entries × 64 B), the neighbour table and its queues, the
  // transmit arena: a few MiB at most; and a leak would keep growing through the second half.
  const MEM_BOUND = 16 << 20;
  if (memMax - memStart > MEM_BOUND) fail(`core memory in use grew by ${memMax - memStart} B (bound ${MEM_BOUND})`);
  if (opts.frames >= 100_000 && memSecondHalfMax > memFirstHalfMax + (1 << 20)) {
    fail(`core memory in use grew in the second half: max ${memFirstHalfMax} B then ${memSecondHalfMax} B`);
  }
  return {
    frames: done, batches, seconds, framesPerSecond: done / seconds, verdicts, sent, queued, heldDropped,
    memStart, memHalf, memMax, memEnd, memoryBytes: core.x.memory.buffer.byteLength, digest: (h >>> 0).toString(16).padStart(8, "0"), failures,
  };
}

/** For a trapping batch: which single frame traps on a fresh router (its hex), else the batch. */
function reproduce(opts: FuzzOptions, frames: Uint8Array[], flags: number[], port: string): string {
  const copies = frames.map((f) => f.slice());
  for (let i = 0; i < copies.length; i++) {
    const prev = process.env.WASMROUTE_CORE;
    process.env.WASMROUTE_CORE = opts.core;
    const r = Router.start(parseConfig(FUZZ_CONFIG, "fuzz.conf"), { clock: () => 1_000_000, logger: new Logger("text", () => {}), buckets: 1024, slots: opts.batch });
    if (prev === undefined) delete process.env.WASMROUTE_CORE;
    else process.env.WASMROUTE_CORE = prev;
    try {
      r.dp.receive(r.ports.get(port)!.ifindex, [copies[i]!], [flags[i]!]);
    } catch (e) {
      return `single frame ${i} on ${port}, flags ${flags[i]}, traps a fresh router (${(e as Error).message}): ${hex(copies[i]!)}`;
    } finally {
      r.stop();
    }
  }
  return `no single frame traps alone; the batch on ${port} (flags ${flags.join(",")}):\n${copies.map(hex).join("\n")}`;
}

export function formatSummary(o: FuzzOptions, r: FuzzResult): string {
  const lines = [
    `wasmroute fuzz: ${r.frames} frames in ${r.batches} batches of ≤ ${o.batch}, seed ${o.seed}, ${o.core} core: ` +
      `${r.seconds.toFixed(1)} s, ${Math.round(r.framesPerSecond)} frames/s`,
    `sent ${r.sent} frames; queued ${r.queued}, of which ${r.heldDropped} later dropped from hold queues`,
    `digest of verdicts and sent frames: ${r.digest}`,
    `core memory in use: ${r.memStart} B at start, ${r.memHalf} B at half, max ${r.memMax} B, ${r.memEnd} B at the end; linear memory ${r.memoryBytes} B`,
    "verdicts:",
    ...[...r.verdicts.entries()].sort((a, b) => a[0] - b[0]).map(([v, n]) => `  ${String(v).padStart(3)} ${(VERDICT_NAMES[v] ?? "?").padEnd(22)} ${String(n).padStart(10)}  ${((100 * n) / r.frames).toFixed(2)} %`),
    r.failures.length === 0 ? "result: no trap, every frame a valid verdict, counters add up, memory bounded" : `result: ${r.failures.length} failure(s):\n${r.failures.join("\n")}`,
  ];
  return lines.join("\n") + "\n";
}

const USAGE = "npm run fuzz [-- --frames N --seed S --core all|release|debug|checked --batch B --rounds R --quiet]";

function parseArgs(argv: string[]): { o: FuzzOptions; cores: readonly BuildFlavor[]; rounds: number } {
  const o: FuzzOptions = { frames: 10_000_000, seed: 1, core: "release", batch: 256, progressEvery: 1_000_000 };
  let cores: readonly BuildFlavor[] = BUILD_FLAVORS;
  let rounds = 1;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[++i];
    const num = (min: number, max: number) => {
      const n = Number(v);
      if (v === undefined || !Number.isInteger(n) || n < min || n > max) throw new Error(`${a} needs an integer from ${min} to ${max}, got ${v ?? "nothing"}`);
      return n;
    };
    switch (a) {
      case "--frames": o.frames = num(1, 1e10); break;
      case "--seed": o.seed = num(0, 2 ** 32 - 1); break;
      case "--batch": o.batch = num(1, 4096); break;
      case "--rounds": rounds = num(1, 100); break;
      case "--core":
        if (v === "all") cores = BUILD_FLAVORS;
        else if (BUILD_FLAVORS.includes(v as BuildFlavor)) cores = [v as BuildFlavor];
        else throw new Error(`--core must be all, ${BUILD_FLAVORS.join(", ")}; got ${v ?? "nothing"}`);
        break;
      case "--quiet": o.progressEvery = 0; i--; break;
      default: throw new Error(`unknown option ${a} (usage: ${USAGE})`);
    }
  }
  return { o, cores, rounds };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const { o, cores, rounds } = parseArgs(process.argv.slice(2));
    const digests = new Map<BuildFlavor, string>();
    const rates = new Map<BuildFlavor, number[]>(cores.map((c) => [c, []]));
    let failed = false;
    for (let round = 0; round < rounds; round++) {
      for (const core of cores) {
        const oc = { ...o, core };
        const r = fuzz({ ...oc, log: (l) => process.stderr.write(`${core}: ${l}\n`) });
        process.stdout.write(formatSummary(oc, r));
        digests.set(core, r.digest);
        rates.get(core)!.push(r.framesPerSecond);
        failed ||= r.failures.length > 0;
      }
    }
    if (cores.length > 1) {
      const same = new Set(digests.values()).size === 1;
      process.stdout.write(`digests: ${[...digests].map(([c, d]) => `${c} ${d}`).join(", ")}: ${same ? "equal" : "DIFFERENT (the builds disagree)"}\n`);
      failed ||= !same;
    }
    if (rounds > 1) {
      const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
      const base = median(rates.get(cores[0]!)!);
      process.stdout.write(`median rates over ${rounds} alternating rounds: ${cores.map((c) => `${c} ${Math.round(median(rates.get(c)!))} frames/s (${(median(rates.get(c)!) / base).toFixed(2)}× ${cores[0]})`).join(", ")}\n`);
    }
    process.exitCode = failed ? 1 : 0;
  } catch (e) {
    process.stderr.write(`wasmroute fuzz: ${(e as Error).message}\n`);
    process.exitCode = 2;
  }
}
