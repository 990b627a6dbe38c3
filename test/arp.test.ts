// ARP on the wire (assembly/dp/arp.ts): the replies and requests the router sends, byte by byte and as
// tcpdump reads them; Linux's learning rules (arp_process with arp_ignore 0, arp_accept 0); header
// validation; and arbitrary bytes, which must never trap and never leave the table unusable.
import { describe, it, expect, afterAll } from "vitest";
import fc from "fast-check";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NeighRig, PORTS, ip4, ipFrame, hex } from "./lib/neigh-rig.ts";
import { NUD, V, D, arpFrame } from "./ref/neigh-model.ts";
import { PcapWriter } from "../host/io/pcap.ts";

const dir = mkdtempSync(join(tmpdir(), "wasmroute-arp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasTcpdump = spawnSync("tcpdump", ["--version"]).status === 0;

const BCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const ZERO = [0, 0, 0, 0, 0, 0];
const H = [0x02, 0x68, 0, 0, 1, 5];
const H2 = [0x02, 0x68, 0, 0, 1, 0x55];
const HOST = ip4("10.0.1.5");
const mac = (i: number) => PORTS.find((p) => p.ifindex === i)!.mac;
const drop = (r: number) => 16 + r;
const be = (a: number) => [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255];
const SRC = ip4("192.0.2.7");

/** The exact 42 bytes of an ARP frame, written out field by field (independently of arpFrame). */
function bytes(o: { ethDst: number[]; ethSrc: number[]; op: number; sha: number[]; sip: number; tha: number[]; tip: number }): string {
  return hex([...o.ethDst, ...o.ethSrc, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, o.op, ...o.sha, ...be(o.sip), ...o.tha, ...be(o.tip)]);
}

describe.each(["release", "debug", "checked"] as const)("ARP (%s core)", (flavor) => {
  it("answers a request for our address: the reply byte by byte, the sender learned STALE", () => {
    const rig = new NeighRig(flavor);
    const req = arpFrame(1, H, BCAST, HOST, ZERO, ip4("10.0.1.1"));
    const { v, sent } = rig.arp(req, 1, 1000);
    expect(v).toBe(V.REPLIED);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.oif).toBe(1);
    expect(hex(sent[0]!.bytes)).toBe(bytes({ ethDst: H, ethSrc: mac(1), op: 2, sha: mac(1), sip: ip4("10.0.1.1"), tha: H, tip: HOST }));
    expect(rig.entry(1, HOST, 1000)).toMatchObject({ state: NUD.STALE, mac: H, confirmed: 60000, updated: 0 });
    expect(rig.stats()[7]).toBe(1); // rcv_probes_mcast
    // Asked by unicast, for an address of another port (arp_ignore 0 answers for every local address).
    const uni = arpFrame(1, H, mac(1), HOST, ZERO, ip4("10.0.3.1"));
    const r2 = rig.arp(uni, 1, 1001);
    expect(r2.v).toBe(V.REPLIED);
    expect(hex(r2.sent[0]!.bytes)).toBe(bytes({ ethDst: H, ethSrc: mac(1), op: 2, sha: mac(1), sip: ip4("10.0.3.1"), tha: H, tip: HOST }));
    expect(rig.stats()[8]).toBe(1); // rcv_probes_ucast
    // A secondary address of port 2.
    const sec = rig.arp(arpFrame(1, H2, BCAST, ip4("10.0.20.9"), ZERO, ip4("10.0.20.1")), 2, 1002);
    expect(hex(sec.sent[0]!.bytes)).toBe(bytes({ ethDst: H2, ethSrc: mac(2), op: 2, sha: mac(2), sip: ip4("10.0.20.1"), tha: H2, tip: ip4("10.0.20.9") }));
  });

  it("answers duplicate address detection probes (sender 0.0.0.0) without learning anything", () => {
    const rig = new NeighRig(flavor);
    const { v, sent } = rig.arp(arpFrame(1, H, BCAST, 0, ZERO, ip4("10.0.1.1")), 1, 0);
    expect(v).toBe(V.REPLIED);
    expect(hex(sent[0]!.bytes)).toBe(bytes({ ethDst: H, ethSrc: mac(1), op: 2, sha: mac(1), sip: ip4("10.0.1.1"), tha: H, tip: 0 }));
    expect(rig.dump(0)).toEqual([]);
    expect(rig.arp(arpFrame(1, H, BCAST, 0, ZERO, ip4("10.0.1.77")), 1, 0).v).toBe(drop(D.ArpIgnored));
  });

  it("sends requests from the port's MAC with the right sender address, broadcast then unicast", () => {
    const rig = new NeighRig(flavor);
    const req = (oif: number, target: number, sender: number, dst = BCAST) =>
      bytes({ ethDst: dst, ethSrc: mac(oif), op: 1, sha: mac(oif), sip: sender, tha: ZERO, tip: target });
    const first = (oif: number, nh: number, src = SRC) => hex(rig.output(oif, nh, ipFrame(src, 1, 60), 0).sent[0]!.bytes);
    expect(first(1, ip4("10.0.1.9"))).toBe(req(1, ip4("10.0.1.9"), ip4("10.0.1.1")));
    expect(first(2, ip4("10.0.20.7"))).toBe(req(2, ip4("10.0.20.7"), ip4("10.0.20.1"))); // the address whose subnet holds it
    expect(first(2, ip4("172.16.0.1"))).toBe(req(2, ip4("172.16.0.1"), ip4("10.0.2.1"))); // else the primary
    // A packet of the router's own (its source is ours): that source is announced (arp_announce 0).
    expect(first(1, ip4("10.0.1.10"), ip4("10.0.3.1"))).toBe(req(1, ip4("10.0.1.10"), ip4("10.0.3.1")));
    // A known MAC is probed by unicast (PROBE), with the target hardware address left zero.
    rig.add(1, ip4("10.0.1.11"), H, NUD.STALE, 0);
    rig.output(1, ip4("10.0.1.11"), ipFrame(SRC, 1, 60), 0);
    const probes = rig.tick(5000).map((s) => hex(s.bytes)).filter((b) => !b.startsWith("ffffffffffff")); // others still retry
    expect(probes).toEqual([req(1, ip4("10.0.1.11"), ip4("10.0.1.1"), H)]);
  });

  it.skipIf(!hasTcpdump)("tcpdump reads the requests and replies it sends", () => {
    const rig = new NeighRig(flavor);
    const f = join(dir, `arp-${flavor}.pcap`);
    const w = new PcapWriter(f);
    for (const s of rig.output(1, ip4("10.0.1.9"), ipFrame(SRC, 1, 60), 0).sent) w.write(s.bytes, 1000);
    for (const s of rig.arp(arpFrame(1, H, BCAST, HOST, ZERO, ip4("10.0.1.1")), 1, 0).sent) w.write(s.bytes, 1001);
    w.close();
    const out = spawnSync("tcpdump", ["-r", f, "-nn", "-e"], { encoding: "utf8", timeout: 10_000 }).stdout;
    expect(out).toMatch(/02:77:72:00:01:01 > ff:ff:ff:ff:ff:ff, ethertype ARP \(0x0806\), length 42: Request who-has 10\.0\.1\.9 tell 10\.0\.1\.1, length 28/);
    expect(out).toMatch(/02:77:72:00:01:01 > 02:68:00:00:01:05, ethertype ARP \(0x0806\), length 42: Reply 10\.0\.1\.1 is-at 02:77:72:00:01:01, length 28/);
  });

  it("learns only into entries it has (arp_accept 0): replies, gratuitous ARP, requests for others", () => {
    const rig = new NeighRig(flavor);
    const reply = (sha: number[], sip: number, dst = mac(1)) => arpFrame(2, sha, dst, sip, mac(1), ip4("10.0.1.1"));
    // Unsolicited: nothing is created.
    expect(rig.arp(reply(H, HOST), 1, 0).v).toBe(drop(D.ArpIgnored));
    expect(rig.arp(arpFrame(1, H, BCAST, HOST, ZERO, HOST), 1, 0).v).toBe(drop(D.ArpIgnored)); // gratuitous
    expect(rig.arp(arpFrame(1, H, BCAST, HOST, ZERO, ip4("10.0.1.6")), 1, 0).v).toBe(drop(D.ArpIgnored)); // for someone else
    expect(rig.dump(0)).toEqual([]);
    expect(rig.stats().slice(4, 6)).toEqual([3, 0]); // lookups, hits
    // Solicited and sent to our MAC: REACHABLE, and the held frame goes out.
    rig.output(1, HOST, ipFrame(SRC, 1, 60), 0);
    const r = rig.arp(reply(H, HOST), 1, 100);
    expect(r.v).toBe(V.DELIVERED);
    expect(r.sent.map((s) => [...s.bytes.subarray(0, 6)])).toEqual([H]);
    expect(rig.entry(1, HOST, 100)).toMatchObject({ state: NUD.REACHABLE, mac: H });
    // Another MAC within locktime (1 s after the update): the first answer wins.
    rig.arp(reply(H2, HOST), 1, 600);
    expect(rig.entry(1, HOST, 600)).toMatchObject({ state: NUD.REACHABLE, mac: H, updated: 500 });
    // After locktime a broadcast reply moves it, but only to STALE.
    rig.arp(reply(H2, HOST, BCAST), 1, 1200);
    expect(rig.entry(1, HOST, 1200)).toMatchObject({ state: NUD.STALE, mac: H2, updated: 0 });
    // Gratuitous ARP overrides at once, even within locktime.
    rig.arp(arpFrame(1, H, BCAST, HOST, ZERO, HOST), 1, 1300);
    expect(rig.entry(1, HOST, 1300)).toMatchObject({ state: NUD.STALE, mac: H });
    // A request for someone else with the same MAC changes nothing.
    rig.arp(arpFrame(1, H, BCAST, HOST, ZERO, ip4("10.0.1.6")), 1, 5000);
    expect(rig.entry(1, HOST, 5000)).toMatchObject({ state: NUD.STALE, updated: 3700 });
    // A reply to our MAC confirms it: REACHABLE; a request for us from it then keeps it REACHABLE.
    rig.arp(reply(H, HOST), 1, 6000);
    rig.arp(arpFrame(1, H, BCAST, HOST, ZERO, ip4("10.0.1.1")), 1, 6100);
    expect(rig.entry(1, HOST, 6100)).toMatchObject({ state: NUD.REACHABLE, confirmed: 100 });
  });

  it("leaves static entries alone and releases a queue to STALE (then DELAY) on a broadcast reply", () => {
    const rig = new NeighRig(flavor);
    rig.add(1, HOST, H, NUD.PERMANENT, 0);
    rig.add(1, ip4("10.0.1.6"), H, NUD.NOARP, 0);
    for (const ip of [HOST, ip4("10.0.1.6")]) {
      expect(rig.arp(arpFrame(2, H2, mac(1), ip, mac(1), ip4("10.0.1.1")), 1, 5000).v).toBe(V.DELIVERED);
      expect(rig.arp(arpFrame(1, H2, BCAST, ip, ZERO, ip4("10.0.1.1")), 1, 5000).v).toBe(V.REPLIED);
    }
    expect(rig.entry(1, HOST, 5000)).toMatchObject({ state: NUD.PERMANENT, mac: H });
    expect(rig.entry(1, ip4("10.0.1.6"), 5000)).toMatchObject({ state: NUD.NOARP, mac: H });
    const ip = ip4("10.0.1.7");
    rig.output(1, ip, ipFrame(SRC, 1, 60, 1), 6000);
    rig.output(1, ip, ipFrame(SRC, 1, 60, 2), 6000);
    const r = rig.arp(arpFrame(2, H, BCAST, ip, ZERO, ip4("10.0.1.1")), 1, 6100);
    expect(r.sent.map((s) => s.bytes[19])).toEqual([1, 2]);
    expect(rig.entry(1, ip, 6100)).toMatchObject({ state: NUD.DELAY, mac: H });
  });

  it("refuses malformed frames and frames for other hosts", () => {
    const rig = new NeighRig(flavor);
    const good = () => arpFrame(1, H, BCAST, HOST, ZERO, ip4("10.0.1.1"));
    const cases: [string, (f: Uint8Array) => Uint8Array | void, number][] = [
      ["hardware type 2", (f) => void (f[15] = 2), D.ArpInvalid],
      ["protocol IPv6", (f) => void f.set([0x86, 0xdd], 16), D.ArpInvalid],
      ["hardware length 8", (f) => void (f[18] = 8), D.ArpInvalid],
      ["protocol length 6", (f) => void (f[19] = 6), D.ArpInvalid],
      ["operation 3", (f) => void (f[21] = 3), D.ArpInvalid],
      ["41 bytes", (f) => f.subarray(0, 41), D.ArpInvalid],
      ["target multicast", (f) => void f.set(be(ip4("224.0.0.1")), 38), D.ArpInvalid],
      ["target loopback", (f) => void f.set(be(ip4("127.0.0.1")), 38), D.ArpInvalid],
      ["sender multicast", (f) => void f.set(be(ip4("239.1.2.3")), 28), D.ArpInvalid],
      ["sender loopback", (f) => void f.set(be(ip4("127.0.0.5")), 28), D.ArpInvalid],
      ["sender broadcast", (f) => void f.set(BCAST.slice(0, 4), 28), D.ArpInvalid],
      ["to another host's MAC", (f) => void f.set([0x02, 0x99, 0, 0, 0, 1], 0), D.OtherHost],
    ];
    for (const [what, mutate, reason] of cases) {
      const f = good();
      const g = mutate(f) ?? f;
      expect(rig.arp(g, 1, 0).v, what).toBe(drop(reason));
    }
    expect(rig.arp(good(), 9, 0).v).toBe(drop(D.ArpInvalid)); // not a port
    expect(rig.arp(arpFrame(1, H, BCAST, HOST, ZERO, ip4("10.0.1.1")).fill(0xab, 42), 1, 0).v).toBe(V.REPLIED);
    const padded = new Uint8Array(60);
    padded.set(good());
    expect(rig.arp(padded, 1, 0).v).toBe(V.REPLIED); // Ethernet padding is fine
    expect(rig.arp(arpFrame(1, H, BCAST, HOST, ZERO, ip4("10.0.1.1")).subarray(0, 42), 1, 0).v).toBe(V.REPLIED);
    // IEEE 802 hardware type is accepted, as Linux does on Ethernet.
    const ieee = good();
    ieee[15] = 6;
    expect(rig.arp(ieee, 1, 0).v).toBe(V.REPLIED);
  });

  it("never traps on arbitrary bytes, and keeps working", () => {
    const rig = new NeighRig(flavor);
    const verdicts = new Set([V.REPLIED, V.DELIVERED, drop(D.ArpInvalid), drop(D.ArpIgnored), drop(D.OtherHost), drop(D.NeighTableFull)]);
    const header = fc.tuple(fc.integer({ min: 0, max: 4 }), fc.uint8Array({ minLength: 42, maxLength: 42 }));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 0, maxLength: 96 }),
          // Mostly-valid headers with random fields, to reach the deeper checks.
          header.map(([k, b]) => {
            const f = arpFrame(1 + (b[0]! & 1), H, b[1]! & 1 ? BCAST : mac(1), b[2]! & 1 ? HOST : ip4(`10.0.1.${b[3]}`), ZERO, ip4(`10.0.${b[4]! % 4}.${b[5]}`));
            for (let i = 0; i < k; i++) f[b[6 + i]! % 42] = b[20 + i]!;
            return f;
          }),
        ),
        fc.integer({ min: 0, max: 300 }),
        fc.nat(),
        (f, iif, now) => {
          const v = rig.arp(f, iif, now).v;
          expect(verdicts.has(v), `verdict ${v}`).toBe(true);
        },
      ),
      { numRuns: flavor === "release" ? 3000 : 800, seed: 4242 },
    );
    expect(rig.arp(arpFrame(1, H, BCAST, ip4("10.0.1.200"), ZERO, ip4("10.0.1.1")), 1, 1).v).toBe(V.REPLIED);
  });
});
