// GSO super-frames through the data-plane pipeline (assembly/dp/forward.ts), without root: a router from
// a config whose pcap ports stand where offload TAPs would (`offload on`: the core hands them super-frames
// whole with a vnet header) or where a device that cannot take GSO would (`offload off`, like AF_PACKET).
// A TCPv4 super-frame arriving with its vnet header (gso_size, NEEDS_CSUM) is forwarded as one datagram
// (TTL − 1, header checksum, partial TCP checksum untouched, one ForwDatagrams) whole to an offload egress,
// cut by gso_size for another, refused with frag-needed when its segments would not fit a DF path
// (skb_gso_validate_network_len), segmented and fragmented when DF is clear; kinds of GSO the core does
// not handle are dropped as GsoBad. A property test sends mutated super-frames with random vnet headers:
// no trap, a verdict for each, the drop counters adding up, nothing over the MTU unless it leaves whole.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import fc from "fast-check";
import { Router } from "../host/router/router.ts";
import { parseConfig, formatConfig } from "../host/router/config.ts";
import { readSnmp, snmpIndex } from "../host/router/snmp.ts";
import { ipv4Frame } from "../host/sim/frames.ts";
import { parseMac } from "../host/router/mac.ts";
import { Logger } from "../host/router/logger.ts";
import { checksum } from "./ref/ipv4-ref.ts";
import { pseudoHeaderSum } from "./ref/fragment-ref.ts";
import { segmentRef, tcpChecksumState } from "./ref/gso-ref.ts";

const ip = (s: string) => s.split(".").reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);
const H1 = parseMac("02:00:00:00:01:02");
const R1 = parseMac("02:77:00:00:01:01");
const toRouter = { srcMac: H1, dstMac: R1 };
const be16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;

const CONFIG = `
link add p1 type pcap address 02:77:00:00:01:01 offload on
link add p2 type pcap address 02:77:00:00:02:01 offload on
link add p3 type pcap address 02:77:00:00:03:01
link add p4 type pcap address 02:77:00:00:04:01 offload on mtu 1400
link add p5 type pcap address 02:77:00:00:05:01 offload on
addr add 10.202.1.1/24 dev p1
addr add 10.202.2.1/24 dev p2
addr add 10.202.3.1/24 dev p3
addr add 10.202.4.1/24 dev p4
addr add 10.202.5.1/24 dev p5
neigh add 10.202.1.2 lladdr 02:00:00:00:01:02 dev p1
neigh add 10.202.2.2 lladdr 02:00:00:00:02:02 dev p2
neigh add 10.202.3.2 lladdr 02:00:00:00:03:02 dev p3
neigh add 10.202.4.2 lladdr 02:00:00:00:04:02 dev p4
route add 172.16.0.0/16 via 10.202.2.2 dev p2
route add 172.17.0.0/16 via 10.202.3.2 dev p3
route add 172.18.0.0/16 via 10.202.4.2 dev p4
route add 172.19.0.0/16 via 10.202.5.9 dev p5
`;

let router: Router;
let clock = 1_000_000;
const port = (name: string) => router.ports.get(name)!.ifindex;
const mib = (block: Parameters<typeof snmpIndex>[0], field: string) => Number(readSnmp(router.fib.core)[snmpIndex(block, field)]);

/** A TCPv4 super-frame from h1 with payload bytes of data, its TCP checksum partial as TSO leaves it. */
function superFrame(dst: string, payload: number, opts: { df?: boolean; flags?: number } = {}): Uint8Array {
  const tcp = new Uint8Array(32 + payload); // 12 bytes of options (timestamps), as Linux sends
  tcp[0] = 0x9c;
  tcp[1] = 0x40;
  tcp[2] = 0x14;
  tcp[3] = 0x51;
  tcp.set([0x12, 0x34, 0x56, 0x78], 4);
  tcp[12] = 0x80;
  tcp[13] = opts.flags ?? 0x18; // PSH ACK
  tcp.set([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2], 20);
  for (let i = 32; i < tcp.length; i++) tcp[i] = (i * 13) & 255;
  const f = ipv4Frame(toRouter, ip("10.202.1.2"), ip(dst), 6, tcp, { df: opts.df ?? true });
  const c = pseudoHeaderSum(f);
  f[34 + 16] = c >> 8;
  f[34 + 17] = c & 255;
  return f;
}

/** The vnet header an offload TAP hands a TCPv4 super-frame over with. */
function vnet(gsoSize: number, gsoType = 1): Uint8Array {
  const v = new Uint8Array(12);
  const d = new DataView(v.buffer);
  v[0] = 1; // NEEDS_CSUM
  v[1] = gsoType;
  d.setUint16(2, 14 + 20 + 32, true);
  d.setUint16(4, gsoSize, true);
  d.setUint16(6, 34, true);
  d.setUint16(8, 16, true);
  return v;
}

beforeAll(() => {
  router = Router.start(parseConfig(CONFIG, "gso.conf"), { clock: () => clock, logger: new Logger("text", () => {}) });
});
afterAll(() => router.stop());

describe("GSO super-frames in the pipeline", () => {
  it("parses `offload` and defaults it per kind (on for tap and packet links, off for pcap links)", () => {
    const c = parseConfig("link add a type tap\nlink add b type tap offload off\nlink add c type pcap\nlink add d type pcap offload on\nlink add e type packet dev eth9\nlink add f type packet dev eth8 offload off\n", "o.conf");
    expect(c.links.map((l) => l.offload)).toEqual([true, false, false, true, true, false]);
    expect(formatConfig(c).slice(0, 6)).toEqual(["link add a type tap", "link add b type tap offload off", "link add c type pcap", "link add d type pcap offload on", "link add e type packet dev eth9", "link add f type packet dev eth8 offload off"]);
    expect(() => parseConfig("link add a type tap offload maybe\n", "o.conf")).toThrow(/o\.conf:1: .*"offload" takes on or off/);
  });

  it("forwards a super-frame whole to an offload egress: TTL − 1, header checksum, partial TCP checksum, vnet header", () => {
    const f = superFrame("172.16.0.9", 20_000);
    const fwd0 = mib("Ip", "ForwDatagrams");
    const oct0 = mib("IpExt", "OutOctets");
    const r = router.dp.receive(port("p1"), [f], [1], [vnet(1448)]);
    expect(r.verdicts).toEqual([0]);
    expect(r.sent).toHaveLength(1);
    const o = r.sent[0]!;
    expect(o.oif).toBe(port("p2"));
    expect(o.frame.length).toBe(f.length);
    expect(o.frame[22]).toBe(63);
    expect(checksum(o.frame.subarray(14, 34))).toBe(0xffff);
    expect(be16(o.frame, 50)).toBe(be16(f, 50)); // the partial TCP checksum as it came
    expect(tcpChecksumState(o.frame)).toBe("partial");
    expect(Buffer.compare(o.frame.subarray(34), f.subarray(34))).toBe(0);
    const d = new DataView(o.vnet.buffer, o.vnet.byteOffset);
    expect([o.vnet[0], o.vnet[1], d.getUint16(2, true), d.getUint16(4, true), d.getUint16(6, true), d.getUint16(8, true)]).toEqual([1, 1, 66, 1448, 34, 16]);
    expect(mib("Ip", "ForwDatagrams") - fwd0).toBe(1); // one per super-frame, as ip_forward counts one per skb
    expect(mib("IpExt", "OutOctets") - oct0).toBe(f.length - 14);
  });

  it("packs a batch on an offload port: 200 small frames and a super-frame in one call", () => {
    const small = Array.from({ length: 200 }, (_, i) => ipv4Frame(toRouter, ip("10.202.1.2"), ip("172.17.0.9"), 17, new Uint8Array(8 + (i % 50)), { df: true }));
    const r = router.dp.receive(port("p1"), [...small, superFrame("172.16.0.9", 30_000)], [...small.map(() => 0), 1], [...small.map(() => undefined), vnet(1448)]);
    expect(r.verdicts).toEqual(new Array(201).fill(0));
    expect(r.sent.filter((s) => s.oif === port("p3")).map((s) => s.frame.length)).toEqual(small.map((f) => f.length));
    expect(r.sent.filter((s) => s.oif === port("p2")).map((s) => s.frame.length)).toEqual([14 + 20 + 32 + 30_000]);
  });

  it("segments a super-frame whose vnet header does not mark its checksum partial, with full checksums", () => {
    const v = vnet(1448);
    v[0] = 0;
    const r = router.dp.receive(port("p1"), [superFrame("172.16.0.9", 5000)], [0], [v]);
    expect(r.sent).toHaveLength(Math.ceil(5000 / 1448));
    expect(r.sent.every((s) => s.oif === port("p2") && s.frame.length <= 1514 && tcpChecksumState(s.frame) === "complete")).toBe(true);
  });

  it("keeps the ECN bit of gso_type", () => {
    const r = router.dp.receive(port("p1"), [superFrame("172.16.0.9", 5000, { flags: 0x98 })], [1], [vnet(1448, 0x81)]);
    expect(r.sent[0]!.vnet[1]).toBe(0x81);
  });

  it("cuts a super-frame into checksummed segments for an egress without offload", () => {
    const f = superFrame("172.17.0.9", 20_000, { flags: 0x19 }); // FIN PSH ACK
    const fwd0 = mib("Ip", "ForwDatagrams");
    const r = router.dp.receive(port("p1"), [f], [1], [vnet(1448)]);
    expect(r.verdicts).toEqual([0]);
    expect(r.sent).toHaveLength(Math.ceil(20_000 / 1448));
    expect(r.sent.every((s) => s.oif === port("p3") && s.vnet.every((b) => b === 0))).toBe(true);
    expect(r.sent.every((s) => s.frame.length <= 1514 && tcpChecksumState(s.frame) === "complete")).toBe(true);
    // What the router forwards (TTL − 1, new MACs), cut as the reference cuts it.
    const forwarded = f.slice();
    forwarded.set(r.sent[0]!.frame.subarray(0, 12), 0);
    forwarded[22] = 63;
    forwarded[24] = r.sent[0]!.frame[24]!;
    forwarded[25] = r.sent[0]!.frame[25]!; // id 0's checksum: the reference recomputes each anyway
    const ref = segmentRef(forwarded, 1448) as Uint8Array[];
    expect(r.sent.map((s) => Buffer.from(s.frame))).toEqual(ref.map((s) => Buffer.from(s)));
    expect(mib("Ip", "ForwDatagrams") - fwd0).toBe(1);
  });

  it("sends frag-needed for a DF super-frame whose segments exceed the egress MTU", () => {
    const fails0 = mib("Ip", "FragFails");
    const r = router.dp.receive(port("p1"), [superFrame("172.18.0.9", 20_000)], [1], [vnet(1448)]);
    expect(r.verdicts).toEqual([16 + 11]);
    expect(r.sent).toHaveLength(1);
    const icmp = r.sent[0]!.frame;
    expect(r.sent[0]!.oif).toBe(port("p1"));
    expect([icmp[34], icmp[35], be16(icmp, 40)]).toEqual([3, 4, 1400]);
    expect(mib("Ip", "FragFails") - fails0).toBe(1);
  });

  it("forwards it whole to the same egress when its segments fit (gso_size + headers ≤ MTU)", () => {
    const r = router.dp.receive(port("p1"), [superFrame("172.18.0.9", 20_000)], [1], [vnet(1348)]);
    expect(r.verdicts).toEqual([0]);
    expect(r.sent).toHaveLength(1);
    expect(r.sent[0]!.frame.length).toBe(14 + 20 + 32 + 20_000);
  });

  it("segments and then fragments a super-frame without DF whose segments exceed the MTU", () => {
    const r = router.dp.receive(port("p1"), [superFrame("172.18.0.9", 10_000, { df: false })], [1], [vnet(1448)]);
    expect(r.verdicts).toEqual([0]);
    // six full segments (20 + 32 + 1448 > 1400) in two fragments each, the last (1312 bytes of data) fits
    expect(r.sent).toHaveLength(6 * 2 + 1);
    expect(r.sent.every((s) => s.frame.length <= 1414 && checksum(s.frame.subarray(14, 34)) === 0xffff)).toBe(true);
  });

  it("segments for an offload egress whose next hop is not resolved yet (a held frame has no vnet header)", () => {
    const r = router.dp.receive(port("p1"), [superFrame("172.19.0.9", 5000)], [1], [vnet(1448)]);
    expect(r.verdicts).toEqual([2]); // queued, as wire-sized segments
    clock += 10;
    const released = router.dp.receive(port("p5"), [arpReply("10.202.5.9", "02:00:00:00:05:09", "10.202.5.1")]).sent;
    const sent = [...released, ...router.dp.tickCollect()].filter((s) => s.oif === port("p5"));
    const held = sent.filter((s) => be16(s.frame, 12) === 0x0800);
    expect(held).toHaveLength(Math.ceil(5000 / 1448));
    expect(held.every((s) => s.frame.length <= 1514 && tcpChecksumState(s.frame) === "complete")).toBe(true);
  });

  it("drops kinds of GSO it does not handle (UDP, TCPv6) and a TCP gso_type on a UDP datagram", () => {
    const drops0 = mib("WrDrop", "GsoBad");
    const udp = ipv4Frame(toRouter, ip("10.202.1.2"), ip("172.16.0.9"), 17, new Uint8Array(3000), { df: true });
    const r = router.dp.receive(port("p1"), [superFrame("172.16.0.9", 3000), superFrame("172.16.0.9", 3000), udp], [1, 1, 1], [vnet(1448, 3), vnet(1448, 4), vnet(1448)]);
    expect(r.verdicts).toEqual([16 + 24, 16 + 24, 16 + 24]);
    expect(r.sent).toEqual([]);
    expect(mib("WrDrop", "GsoBad") - drops0).toBe(3);
  });
});

describe("hostile super-frames and vnet headers", () => {
  it("never trap: every frame gets a verdict, drops add up, segments stay wire-sized where they must", () => {
    const valid = [superFrame("172.16.0.9", 9000), superFrame("172.17.0.9", 20_000, { flags: 0x99 }), superFrame("172.18.0.9", 3000, { df: false }), superFrame("172.19.0.9", 4000)];
    const frame = fc.tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(30_000), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(30_000)).map(([f, muts, cut]) => {
      const g = f.slice(0, Math.max(0, f.length - (cut % 4 === 0 ? cut % f.length : 0)));
      for (const [at, v] of muts) if (g.length) g[at % g.length] = v;
      return g;
    });
    const header = fc.record({ flags: fc.integer({ min: 0, max: 255 }), type: fc.constantFrom(0, 1, 3, 4, 0x81, 0x85, 255), size: fc.oneof(fc.integer({ min: 0, max: 65_535 }), fc.integer({ min: 0, max: 64 })) }).map(({ flags, type, size }) => {
      const v = vnet(size, type);
      v[0] = flags;
      return v;
    });
    const drops = () => readSnmp(router.fib.core).slice(snmpIndex("WrDrop", "Runt"), snmpIndex("WrDrop", "Runt") + 32).reduce((a, b) => a + Number(b), 0);
    fc.assert(
      fc.property(fc.array(fc.tuple(frame, header), { minLength: 1, maxLength: 6 }), (batch) => {
        clock += 7;
        const d0 = drops();
        const r = router.dp.receive(port("p1"), batch.map(([f]) => f), batch.map(([, v]) => v[0]! & 1), batch.map(([, v]) => v));
        expect(r.verdicts).toHaveLength(batch.length);
        for (const v of r.verdicts) expect(v <= 3 || (v >= 16 && v < 16 + 25)).toBe(true);
        expect(drops() - d0).toBe(r.verdicts.filter((v) => v >= 16).length);
        for (const s of r.sent) {
          const whole = s.vnet[1] !== 0;
          if (!whole && s.oif !== port("p1")) expect(s.frame.length).toBeLessThanOrEqual(14 + (s.oif === port("p4") ? 1400 : 1500));
        }
      }),
      { numRuns: 200 },
    );
  }, 60_000);
});

/** An ARP reply from ipS (macS) to the router's address ipT. */
function arpReply(ipS: string, macS: string, ipT: string): Uint8Array {
  const f = new Uint8Array(42);
  const m = parseMac(macS);
  f.set(parseMac("02:77:00:00:05:01"), 0);
  f.set(m, 6);
  f.set([0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 2], 12);
  f.set(m, 22);
  f.set(ip(ipS).toString(16).padStart(8, "0").match(/../g)!.map((h) => parseInt(h, 16)), 28);
  f.set(parseMac("02:77:00:00:05:01"), 32);
  f.set(ip(ipT).toString(16).padStart(8, "0").match(/../g)!.map((h) => parseInt(h, 16)), 38);
  return f;
}
