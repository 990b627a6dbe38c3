// The data-plane pipeline (assembly/dp/forward.ts) through a router built from a config with pcap
// ports: each RFC 1812 behaviour checked on the frames the core sends, and a property test over random
// and mutated frames — no trap, a verdict for every frame, and the drop counters adding up to the drops.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import fc from "fast-check";
import { Router } from "../host/router/router.ts";
import { parseConfig } from "../host/router/config.ts";
import { readSnmp, snmpIndex } from "../host/router/snmp.ts";
import { arpRequest, echoRequest, udpDatagram, ipv4Frame, tcpSegment } from "../host/sim/frames.ts";
import { parseMac } from "../host/router/mac.ts";
import { Logger } from "../host/router/logger.ts";

const ip = (s: string) => s.split(".").reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);
const R1 = parseMac("02:77:00:00:01:01");
const R2 = parseMac("02:77:00:00:02:01");
const H1 = parseMac("02:00:00:00:01:02");
const H2 = parseMac("02:00:00:00:02:02");
const toRouter = { srcMac: H1, dstMac: R1 };

const CONFIG = `
link add p1 type pcap address 02:77:00:00:01:01
link add p2 type pcap address 02:77:00:00:02:01 mtu 1400
addr add 10.201.1.1/24 dev p1
addr add 10.201.2.1/24 dev p2
neigh add 10.201.1.2 lladdr 02:00:00:00:01:02 dev p1
neigh add 10.201.1.3 lladdr 02:00:00:00:01:03 dev p1
neigh add 10.201.2.2 lladdr 02:00:00:00:02:02 dev p2
route add 172.16.0.0/16 via 10.201.2.2 dev p2
route add 10.99.0.0/16 via 10.201.1.3 dev p1
route add blackhole 198.51.100.0/24
route add unreachable 203.0.113.0/24
`;

let router: Router;
const logged: string[] = [];
let clock = 1_000_000;
const P1 = () => router.ports.get("p1")!.ifindex;
const P2 = () => router.ports.get("p2")!.ifindex;
const mib = (block: Parameters<typeof snmpIndex>[0], field: string) => Number(readSnmp(router.fib.core)[snmpIndex(block, field)]);

function ipHeaderOk(f: Uint8Array): boolean {
  let s = 0;
  const hl = (f[14]! & 15) * 4;
  for (let i = 14; i < 14 + hl; i += 2) s += (f[i]! << 8) | f[i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff;
}
const be16 = (f: Uint8Array, o: number) => (f[o]! << 8) | f[o + 1]!;
const addr = (f: Uint8Array, o: number) => `${f[o]}.${f[o + 1]}.${f[o + 2]}.${f[o + 3]}`;

beforeAll(() => {
  router = Router.start(parseConfig(CONFIG, "forward.conf"), { clock: () => clock, logger: new Logger("text", (l) => logged.push(l)) });
});
afterAll(() => router.stop());

describe("the data-plane pipeline", () => {
  it("forwards with TTL − 1, a valid header checksum and rewritten MACs", () => {
    const f = udpDatagram(toRouter, ip("10.201.1.2"), ip("172.16.5.5"), 1000, 2000, 100);
    const r = router.dp.receive(P1(), [f]);
    expect(r.verdicts).toEqual([0]);
    expect(r.sent).toHaveLength(1);
    const o = r.sent[0]!;
    expect(o.oif).toBe(P2());
    expect([...o.frame.subarray(0, 6)]).toEqual([...H2]);
    expect([...o.frame.subarray(6, 12)]).toEqual([...R2]);
    expect(o.frame[22]).toBe(63);
    expect(ipHeaderOk(o.frame)).toBe(true);
    expect(o.frame.subarray(34)).toEqual(f.subarray(34));
  });

  it("answers ARP for its address and echo requests to it", () => {
    const r = router.dp.receive(P1(), [arpRequest(H1, ip("10.201.1.2"), ip("10.201.1.1")), echoRequest(toRouter, ip("10.201.1.2"), ip("10.201.1.1"), 7, 1)]);
    expect(r.verdicts).toEqual([1, 1]);
    const [arp, echo] = r.sent;
    expect(be16(arp!.frame, 20)).toBe(2); // ARP reply
    expect([...arp!.frame.subarray(22, 28)]).toEqual([...R1]);
    expect(echo!.frame[34]).toBe(0); // echo reply
    expect(addr(echo!.frame, 26)).toBe("10.201.1.1");
    expect(addr(echo!.frame, 30)).toBe("10.201.1.2");
  });

  it("sends time exceeded for TTL 1 (from its address on the way back) and counts InHdrErrors", () => {
    const before = mib("Ip", "InHdrErrors");
    const r = router.dp.receive(P1(), [udpDatagram(toRouter, ip("10.201.1.2"), ip("172.16.5.5"), 1, 33434, 10, { ttl: 1 })]);
    expect(r.verdicts).toEqual([16 + 10]);
    expect(r.sent).toHaveLength(1);
    const e = r.sent[0]!.frame;
    expect(e[34]).toBe(11);
    expect(addr(e, 26)).toBe("10.201.1.1");
    expect(mib("Ip", "InHdrErrors") - before).toBe(1);
  });

  it("sends net unreachable for no route (InNoRoutes), host unreachable for an unreachable route, nothing for a blackhole", () => {
    clock += 10_000; // a full ICMP error bucket
    const nr = mib("IpExt", "InNoRoutes");
    const r = router.dp.receive(P1(), [
      udpDatagram(toRouter, ip("10.201.1.2"), ip("192.0.2.1"), 1, 2, 10),
      udpDatagram(toRouter, ip("10.201.1.2"), ip("203.0.113.1"), 1, 2, 10),
      udpDatagram(toRouter, ip("10.201.1.2"), ip("198.51.100.1"), 1, 2, 10),
    ]);
    expect(r.verdicts).toEqual([16 + 7, 16 + 7, 16 + 8]);
    expect(r.sent.map((s) => [s.frame[34], s.frame[35]])).toEqual([
      [3, 0],
      [3, 1],
    ]);
    expect(mib("IpExt", "InNoRoutes") - nr).toBe(1);
  });

  it("refuses DF + too big with frag needed carrying the MTU, and fragments without DF", () => {
    const big = (df: boolean) => ipv4Frame(toRouter, ip("10.201.1.2"), ip("172.16.1.1"), 17, new Uint8Array(1480).fill(7), { df });
    clock += 10_000;
    const r = router.dp.receive(P1(), [big(true), big(false)]);
    expect(r.verdicts).toEqual([16 + 11, 0]);
    const icmp = r.sent.filter((s) => s.oif === P1());
    expect(icmp).toHaveLength(1);
    expect([icmp[0]!.frame[34], icmp[0]!.frame[35], be16(icmp[0]!.frame, 40)]).toEqual([3, 4, 1400]);
    const frags = r.sent.filter((s) => s.oif === P2());
    expect(frags).toHaveLength(2);
    expect(frags.every((s) => s.frame.length <= 1414 && ipHeaderOk(s.frame))).toBe(true);
    expect(be16(frags[0]!.frame, 20)).toBe(0x2000); // MF, offset 0
    expect(be16(frags[1]!.frame, 20)).toBe(1376 / 8);
  });

  it("forwards back out of the input port with an ICMP redirect to the better gateway", () => {
    clock += 30_000;
    const r = router.dp.receive(P1(), [udpDatagram(toRouter, ip("10.201.1.2"), ip("10.99.1.1"), 1, 2, 10)]);
    expect(r.verdicts).toEqual([0]);
    const redirect = r.sent.find((s) => s.frame[23] === 1)!;
    expect([redirect.frame[34], redirect.frame[35]]).toEqual([5, 1]);
    expect(addr(redirect.frame, 38)).toBe("10.201.1.3");
    expect(r.sent.find((s) => s.frame[23] === 17)!.oif).toBe(P1());
  });

  it("finishes a checksum left to offload (CHECKSUM_PARTIAL) before the frame leaves", () => {
    const good = udpDatagram(toRouter, ip("10.201.1.2"), ip("172.16.9.9"), 5, 6, 33);
    const partial = good.slice();
    // What the sender's stack leaves: the folded pseudo-header sum, not inverted.
    const src = ip("10.201.1.2"), dst = ip("172.16.9.9"), len = 8 + 33;
    let s = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 17 + len;
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    partial[40] = s >>> 8;
    partial[41] = s & 0xff;
    const r = router.dp.receive(P1(), [partial], [1]);
    expect(r.verdicts).toEqual([0]);
    expect(be16(r.sent[0]!.frame, 40)).toBe(be16(good, 40));
  });

  it("answers TCP to a closed port of its own with a reset (RFC 793 §3.4), never a reset with a reset", () => {
    const me = ip("10.201.1.1"), h1 = ip("10.201.1.2");
    const r = router.dp.receive(P1(), [
      tcpSegment(toRouter, h1, me, 40000, 22, 1000, 0, 0x02), // SYN
      tcpSegment(toRouter, h1, me, 40001, 80, 5000, 777, 0x10, 10), // ACK with data
      tcpSegment(toRouter, h1, me, 40002, 80, 9, 9, 0x04), // RST
    ]);
    expect(r.verdicts).toEqual([1, 1, 16 + 20]);
    const [syn, ack] = r.sent.map((s) => s.frame);
    const u32 = (f: Uint8Array, o: number) => ((f[o]! << 24) | (f[o + 1]! << 16) | (f[o + 2]! << 8) | f[o + 3]!) >>> 0;
    expect([be16(syn!, 34), be16(syn!, 36), syn![47], u32(syn!, 38), u32(syn!, 42)]).toEqual([22, 40000, 0x14, 0, 1001]);
    expect([ack![47], u32(ack!, 38)]).toEqual([0x04, 777]);
    for (const f of [syn!, ack!]) {
      expect(ipHeaderOk(f)).toBe(true);
      let s = (ip("10.201.1.1") >>> 16) + (ip("10.201.1.1") & 0xffff) + (h1 >>> 16) + (h1 & 0xffff) + 6 + 20;
      for (let i = 34; i < 54; i += 2) s += be16(f, i);
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      expect(s).toBe(0xffff);
    }
  });

  it("does not forward frames sent to another MAC (and does not count them as received)", () => {
    const before = mib("Ip", "InReceives");
    const r = router.dp.receive(P1(), [udpDatagram({ srcMac: H1, dstMac: parseMac("02:99:99:99:99:99") }, ip("10.201.1.2"), ip("172.16.1.1"), 1, 2, 4)]);
    expect(r.verdicts).toEqual([16 + 2]);
    expect(r.sent).toHaveLength(0);
    expect(mib("Ip", "InReceives")).toBe(before);
  });

  it("gives every frame of random and mutated batches a verdict, never traps, and its drop and rx counters add up", () => {
    const valid = [
      udpDatagram(toRouter, ip("10.201.1.2"), ip("172.16.3.3"), 1, 2, 40),
      echoRequest(toRouter, ip("10.201.1.2"), ip("10.201.1.1"), 1, 1),
      arpRequest(H1, ip("10.201.1.2"), ip("10.201.1.1")),
      ipv4Frame(toRouter, ip("10.201.1.2"), ip("172.16.1.1"), 17, new Uint8Array(1480), { df: false }),
    ];
    const frame = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 200 }),
      fc.tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(1600), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(1600)).map(([f, muts, cut]) => {
        const g = f.slice(0, Math.max(0, f.length - (cut % 64 === 0 ? cut % f.length : 0)));
        for (const [at, v] of muts) if (g.length) g[at % g.length] = v;
        return g;
      }),
      // to a group MAC or the broadcast MAC, whole or cut inside the address
      fc.tuple(fc.constantFrom([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [1, 0, 0x5e, 0, 0, 0xfb], [0xff, 0xff, 0xff, 0xff, 0xff, 0xfe], [3, 0, 0, 0, 0, 1]), fc.uint8Array({ maxLength: 80 }), fc.nat(90))
        .map(([mac, rest, keep]) => Uint8Array.from([...mac, ...rest]).slice(0, keep)),
    );
    // the port's rx counters, as the kernel's: every byte handed over, and frames to a group MAC but not broadcast
    const multicastModel = (frames: Uint8Array[]) => frames.filter((f) => f.length >= 6 && f[0]! & 1 && !f.subarray(0, 6).every((b) => b === 0xff)).length;
    const rx = () => router.dp.stats().find((p) => p.ifindex === P1())!.stats;
    const drops = () => readSnmp(router.fib.core).slice(snmpIndex("WrDrop", "Runt"), snmpIndex("WrDrop", "Runt") + 32).reduce((a, b) => a + Number(b), 0);
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 64 }), fc.array(fc.boolean(), { maxLength: 64 }), (frames, csum) => {
        clock += 7;
        const d0 = drops();
        const rx0 = rx();
        const r = router.dp.receive(P1(), frames, csum.map((b) => (b ? 1 : 0)));
        expect(r.verdicts).toHaveLength(frames.length);
        const rx1 = rx();
        expect([rx1.rxFrames - rx0.rxFrames, rx1.rxBytes - rx0.rxBytes, rx1.rxMulticast - rx0.rxMulticast])
          .toEqual([frames.length, frames.reduce((a, f) => a + f.length, 0), multicastModel(frames)]);
        for (const v of r.verdicts) expect(v <= 3 || (v >= 16 && v < 16 + 24)).toBe(true);
        expect(drops() - d0).toBe(r.verdicts.filter((v) => v >= 16).length);
        for (const s of r.sent) expect(s.frame.length).toBeGreaterThanOrEqual(14);
      }),
      { numRuns: 300 },
    );
  });

  it("stops only the port whose device fails, says so once, and goes on forwarding", async () => {
    let reads = 0;
    const broken = {
      recv(): number {
        reads++;
        throw new Error("read: File descriptor in bad state");
      },
      sendList: () => 0,
      onReadable(cb: () => void) {
        setImmediate(cb);
        setImmediate(cb);
      },
      stopWatching() {},
      close() {},
    };
    router.fib.ifaces.index("p9");
    router.dp.addPort(router.fib.ifaces.index("p9"), "p9", broken);
    await new Promise((r) => setTimeout(r, 20));
    expect(reads).toBe(1);
    expect(logged.filter((l) => /p9: device failed, port stopped: read: File descriptor in bad state/.test(l))).toHaveLength(1);
    const r = router.dp.receive(P1(), [udpDatagram(toRouter, ip("10.201.1.2"), ip("172.16.5.6"), 1, 2, 10)]);
    expect(r.verdicts).toEqual([0]);
  });
});
