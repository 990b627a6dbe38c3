// ICMP for the data plane (assembly/dp/icmp.ts, limit.ts): the error and echo-reply frames are
// checked field by field and decoded by tcpdump; RFC 1812's "never answer" cases are refused; the
// error limiter and the redirect back-off follow kernel-route-cache.md §2 (§9.6 #18, #19).
import { describe, it, expect, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Core } from "../host/core/load.ts";
import { PcapWriter } from "../host/io/pcap.ts";
import { checksum, fixChecksum } from "./ref/ipv4-ref.ts";

const dir = mkdtempSync(join(tmpdir(), "wasmroute-icmp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasTcpdump = spawnSync("tcpdump", ["--version"]).status === 0;

const ROUTER_MAC = [0x02, 0x72, 0, 0, 0, 1];
const HOST_MAC = [0x02, 0x68, 0, 0, 0, 2];
const ip4 = (s: string) => s.split(".").map(Number);

/** An Ethernet + IPv4 frame: proto, TTL, addresses, payload; optional frag field. */
function frame(o: { proto: number; ttl?: number; src?: string; dst?: string; payload: number[]; frag?: number; dstMac?: number[] }): Uint8Array {
  const total = 20 + o.payload.length;
  const f = new Uint8Array(14 + total);
  f.set([...(o.dstMac ?? ROUTER_MAC), ...HOST_MAC, 0x08, 0x00], 0);
  f.set([0x45, 0, total >> 8, total & 255, 0xab, 0xcd, (o.frag ?? 0) >> 8, (o.frag ?? 0) & 255, o.ttl ?? 1, o.proto, 0, 0,
    ...ip4(o.src ?? "10.0.1.2"), ...ip4(o.dst ?? "198.51.100.9")], 14);
  f.set(o.payload, 34);
  fixChecksum(f);
  return f;
}
const udp = (n: number) => [0x30, 0x39, 0x82, 0x9a, (8 + n) >> 8, (8 + n) & 255, 0, 0, ...Array.from({ length: n }, (_, i) => i & 255)];
function echoRequest(n: number): number[] {
  const b = [8, 0, 0, 0, 0x12, 0x34, 0, 7, ...Array.from({ length: n }, (_, i) => (i * 7) & 255)];
  const c = ~checksum(new Uint8Array(b)) & 0xffff;
  b[2] = c >> 8;
  b[3] = c & 255;
  return b;
}

describe.each(["release", "debug", "checked"] as const)("ICMP (%s core)", (flavor) => {
  const core = new Core(flavor);
  const x = core.x;
  const inAt = core.alloc(2048), outAt = core.alloc(2048), mac = core.alloc(8), state = core.alloc(8);
  new Uint8Array(x.memory.buffer).set(ROUTER_MAC, mac);
  const routerIp = 0x0a000101; // 10.0.1.1

  function error(f: Uint8Array, type: number, code: number, mtu = 0): Uint8Array {
    new Uint8Array(x.memory.buffer).set(f, inAt);
    const n = x.dp_icmp_error(inAt, f.length, type, code, mtu, mac, routerIp, outAt);
    return new Uint8Array(x.memory.buffer).slice(outAt, outAt + n);
  }

  it("builds time exceeded, unreachable and frag-needed errors that quote the original (RFC 792, RFC 1812)", () => {
    const orig = frame({ proto: 17, payload: udp(700) });
    for (const [type, code, mtu] of [[11, 0, 0], [3, 0, 0], [3, 1, 0], [3, 13, 0], [3, 4, 1400]] as const) {
      const e = error(orig, type, code, mtu);
      expect([...e.subarray(0, 12)]).toEqual([...HOST_MAC, ...ROUTER_MAC]); // back to the sender
      expect(e[14]).toBe(0x45);
      expect(e[15]).toBe(0xc0); // internetwork control, as Linux sends its errors
      expect(e[22]).toBe(64);
      expect(e[23]).toBe(1);
      expect([...e.subarray(26, 30)]).toEqual(ip4("10.0.1.1"));
      expect([...e.subarray(30, 34)]).toEqual(ip4("10.0.1.2"));
      expect(checksum(e.subarray(14, 34))).toBe(0xffff);
      expect([e[34], e[35]]).toEqual([type, code]);
      expect((e[40]! << 8) | e[41]!).toBe(mtu);
      const quoted = e.subarray(42);
      expect(quoted.length).toBe(548); // 576 − 20 − 8: as much as fits
      expect([...quoted]).toEqual([...orig.subarray(14, 14 + 548)]);
      expect(checksum(e.subarray(34))).toBe(0xffff);
      expect((e[16]! << 8) | e[17]!).toBe(e.length - 14);
    }
    const small = frame({ proto: 17, payload: udp(4) });
    expect(error(small, 11, 0).length).toBe(14 + 20 + 8 + 32); // the whole small datagram
  });

  it("never answers an ICMP error, a non-first fragment, a broadcast or multicast, or an invalid source (RFC 1812 §4.3.2.7)", () => {
    const refused = (f: Uint8Array) => error(f, 3, 1).length === 0;
    expect(refused(frame({ proto: 1, payload: [3, 1, 0, 0, 0, 0, 0, 0] }))).toBe(true); // about an error
    expect(refused(frame({ proto: 1, payload: [11, 0, 0, 0, 0, 0, 0, 0] }))).toBe(true);
    expect(refused(frame({ proto: 1, payload: echoRequest(8) }))).toBe(false); // a query may draw one
    expect(refused(frame({ proto: 17, payload: udp(8), frag: 0x2000 | 185 }))).toBe(true); // offset ≠ 0
    expect(refused(frame({ proto: 17, payload: udp(8), frag: 0x2000 }))).toBe(false); // first fragment
    expect(refused(frame({ proto: 17, payload: udp(8), dst: "255.255.255.255" }))).toBe(true);
    expect(refused(frame({ proto: 17, payload: udp(8), dst: "239.1.1.1" }))).toBe(true);
    expect(refused(frame({ proto: 17, payload: udp(8), dstMac: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff] }))).toBe(true);
    expect(refused(frame({ proto: 17, payload: udp(8), dstMac: [0x01, 0, 0x5e, 0, 0, 1] }))).toBe(true);
    for (const src of ["0.0.0.0", "127.0.0.1", "224.0.0.1", "255.255.255.255"]) expect(refused(frame({ proto: 17, payload: udp(8), src }))).toBe(true);
    expect(x.dp_icmp_error(inAt, 20, 11, 0, 0, mac, routerIp, outAt)).toBe(0); // too short to quote
  });

  it("answers an echo request with a correct echo reply", () => {
    const req = frame({ proto: 1, ttl: 63, dst: "10.0.1.1", payload: echoRequest(56) });
    new Uint8Array(x.memory.buffer).set(req, inAt);
    const n = x.dp_icmp_echo_reply(inAt, req.length, mac, outAt);
    const r = new Uint8Array(x.memory.buffer).slice(outAt, outAt + n);
    expect(n).toBe(req.length);
    expect([...r.subarray(26, 30)]).toEqual(ip4("10.0.1.1"));
    expect([...r.subarray(30, 34)]).toEqual(ip4("10.0.1.2"));
    expect(r[34]).toBe(0);
    expect([...r.subarray(38)]).toEqual([...req.subarray(38)]); // id, sequence and data echoed
    expect(checksum(r.subarray(14, 34))).toBe(0xffff);
    expect(checksum(r.subarray(34))).toBe(0xffff);
    new Uint8Array(x.memory.buffer).set(frame({ proto: 17, payload: udp(8) }), inAt);
    expect(x.dp_icmp_echo_reply(inAt, 42, mac, outAt)).toBe(0); // not an echo request
  });

  it("limits ICMP errors to a burst of 5, then 1 per second (§2 ip_error, §9.6 #18)", () => {
    x.dp_error_init(state, 0, 5000);
    const sent: number[] = [];
    for (let t = 0; t <= 10_000; t += 10) if (x.dp_error_allowed(state, t, 1000, 5000)) sent.push(t);
    expect(sent.slice(0, 5)).toEqual([0, 10, 20, 30, 40]);
    const gaps = sent.slice(5).map((t, i) => t - sent[4 + i]!);
    expect(gaps.every((g) => g >= 950 && g <= 1010)).toBe(true);
    expect(sent.length).toBeGreaterThanOrEqual(14);
    expect(sent.length).toBeLessThanOrEqual(15);
  });

  it("spaces redirects 20 ms << k apart, stops after 9, and starts over after 20.48 s of silence (§2, §9.6 #19)", () => {
    new Uint32Array(x.memory.buffer, state, 2).fill(0);
    const sent: number[] = [];
    for (let t = 1; t <= 30_000; t++) if (x.dp_redirect_allowed(state, t, 20, 9, 20480)) sent.push(t);
    expect(sent).toHaveLength(9);
    expect(sent.slice(1).map((t, i) => t - sent[i]!)).toEqual([41, 81, 161, 321, 641, 1281, 2561, 5121]);
    // still wanting to redirect the whole time kept it quiet; 21 s of silence lets it start again
    expect(x.dp_redirect_allowed(state, 30_000 + 21_000, 20, 9, 20480)).toBe(1);
  });

  it.skipIf(!hasTcpdump)("tcpdump decodes what it builds, checksums included", () => {
    const f = join(dir, `icmp-${flavor}.pcap`);
    const w = new PcapWriter(f);
    const orig = frame({ proto: 17, payload: udp(100) });
    w.write(error(orig, 11, 0), 1000);
    w.write(error(orig, 3, 4, 1400), 1001);
    w.write(error(orig, 3, 0), 1002);
    const req = frame({ proto: 1, ttl: 63, dst: "10.0.1.1", payload: echoRequest(56) });
    new Uint8Array(x.memory.buffer).set(req, inAt);
    const n = x.dp_icmp_echo_reply(inAt, req.length, mac, outAt);
    w.write(new Uint8Array(x.memory.buffer).slice(outAt, outAt + n), 1003);
    w.close();
    const out = spawnSync("tcpdump", ["-r", f, "-nn", "-v"], { encoding: "utf8", timeout: 10_000 }).stdout;
    expect(out).toMatch(/10\.0\.1\.1 > 10\.0\.1\.2: ICMP time exceeded in-transit/);
    expect(out).toMatch(/ICMP 198\.51\.100\.9 unreachable - need to frag \(mtu 1400\)/);
    expect(out).toMatch(/ICMP net 198\.51\.100\.9 unreachable/);
    expect(out).toMatch(/10\.0\.1\.1 > 10\.0\.1\.2: ICMP echo reply, id 4660, seq 7/);
    expect(out).not.toMatch(/bad cksum|wrong icmp cksum/);
  });
});
