// TCP offloads end to end (issue #5): `wasmroute run` between two hosts in wr-gs- namespaces, iperf3 TCP
// h1 → h2. With offload TAPs on both sides (the default) h1's TSO super-frames cross the router whole:
// tcpdump on h2 records frames longer than the MTU, every IPv4 header checksum valid and every TCP
// checksum either complete or the partial pseudo-header sum an offloaded frame carries. AF_PACKET ports
// (`offload on` by default: PACKET_VNET_HDR) do the same. With an egress that cannot take GSO (AF_PACKET
// or a TAP with `offload off`) the core cuts the super-frames itself:
// h2 sees only MTU-sized frames and tcpdump -vv finds no bad checksum. Root only; every command bounded
// in time; the labs are removed afterwards, also on failure.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { join } from "node:path";
import { canRunLive } from "./lib/netns.ts";
import { Lab, type LabOptions } from "./lib/lab.ts";
import { readPcap } from "../host/io/pcap.ts";
import { tcpChecksumState } from "./ref/gso-ref.ts";

const run = canRunLive("GSO super-frames", ["iperf3", "ping", "tcpdump", "ethtool"]) ? describe : describe.skip;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Iperf {
  end: { sum_received: { bytes: number; bits_per_second: number } };
}

/** iperf3 -c h2 for 2 s while tcpdump on h2 watches what arrives (TCP to port); both bounded. */
async function iperfWithCapture(lab: Lab, port: number, tcpdumpArgs: string[]): Promise<{ iperf: Iperf; text: string }> {
  const server = lab.background(lab.h2, ["timeout", "15", "iperf3", "-s", "-1", "-p", String(port)]);
  const dump = lab.background(lab.h2, ["timeout", "10", "tcpdump", "-nn", "-i", lab.if2, "-c", "3000", ...tcpdumpArgs, `tcp dst port ${port}`]);
  let text = "";
  dump.stdout!.on("data", (d) => (text += d));
  await sleep(1000);
  const r = lab.exec(lab.h1, ["iperf3", "-c", "10.201.2.2", "-p", String(port), "-t", "2", "-J"], 20_000);
  server.kill();
  await new Promise((res) => (dump.exitCode !== null ? res(null) : dump.once("exit", res)));
  return { iperf: JSON.parse(r.out) as Iperf, text };
}

/** A wr-gs- lab started before the suite's tests (neighbours resolved) and removed after them. */
function useLab(opts: Omit<LabOptions, "prefix">): Lab {
  const lab = new Lab({ ...opts, prefix: "wr-gs-" });
  beforeAll(async () => {
    await lab.start();
    lab.exec(lab.h1, ["ping", "-c", "1", "-W", "2", "10.201.2.2"]);
  }, 30_000);
  afterAll(async () => {
    await lab.stop();
  });
  return lab;
}

for (const whole of [
  { name: "offload TAPs (TAP → TAP)", opts: { kind: "tap" } as const, port: 5301, note: /offload/, minBps: 100e6 },
  { name: "AF_PACKET ports as configured by default (`offload on`: PACKET_VNET_HDR)", opts: { kind: "packet" } as const, port: 5303, note: /AF_PACKET on \S+ \(offload: GSO, checksum\)/, minBps: 0 },
]) {
  run(`GSO super-frames through ${whole.name}`, () => {
    const lab = useLab(whole.opts);

    it("iperf3 completes; h2 receives super-frames whole, every checksum valid or partial", async () => {
      const pcap = join(lab.dir, "h2.pcap");
      const { iperf } = await iperfWithCapture(lab, whole.port, ["-w", pcap]);
      expect(iperf.end.sum_received.bytes).toBeGreaterThan(20_000_000);
      expect(iperf.end.sum_received.bits_per_second).toBeGreaterThan(whole.minBps);
      const frames = readPcap(pcap).map((f) => f.data);
      expect(frames.length).toBeGreaterThan(10);
      expect(frames.map(tcpChecksumState).filter((s) => s === "bad")).toEqual([]);
      expect(frames.filter((f) => f.length > 1514).length).toBeGreaterThan(0); // super-frames crossed whole
      expect(frames.every((f) => f[22] === 63)).toBe(true); // TTL − 1 on the outer header
      expect(lab.stdout + lab.stderr).toMatch(whole.note);
    }, 40_000);
  });
}

for (const mixed of [
  { name: "TAP offload → AF_PACKET offload off", opts: { kind: "tap", kind2: "packet", link2: "offload off" } as const },
  { name: "TAP offload → TAP offload off", opts: { kind: "tap", link2: "offload off" } as const },
  { name: "AF_PACKET offload → AF_PACKET offload off", opts: { kind: "packet", link2: "offload off" } as const },
]) {
  run(`software GSO: ${mixed.name}`, () => {
    const lab = useLab(mixed.opts);

    it("iperf3 completes; h2 sees MTU-sized segments and tcpdump -vv finds no bad checksum", async () => {
      const { iperf, text } = await iperfWithCapture(lab, 5302, ["-vv", "-l"]);
      expect(iperf.end.sum_received.bytes).toBeGreaterThan(5_000_000);
      const lines = text.split("\n").filter((l) => /> 10\.201\.2\.2\.5302/.test(l));
      expect(lines.length).toBeGreaterThan(100);
      expect(text).not.toMatch(/incorrect|bad cksum/);
      expect(text).toMatch(/cksum 0x[0-9a-f]+ \(correct\)/);
      const lengths = [...text.matchAll(/proto TCP \(6\), length (\d+)\)/g)].map((m) => Number(m[1]));
      expect(lengths.length).toBeGreaterThan(100);
      expect(Math.max(...lengths)).toBeLessThanOrEqual(1500);
    }, 40_000);
  });
}
