// The router as users run it: `wasmroute run --config FILE` between two hosts in wr- namespaces,
// driven with real tools (ping, traceroute, iperf3, tcpdump). Over TAPs (the router creates them and
// moves their kernel sides into the hosts' namespaces), and over veths with AF_PACKET. Root only; CI is
// root. Every command is bounded in time; the labs are removed afterwards, also on failure.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { canRunLive } from "./lib/netns.ts";
import { Lab } from "./lib/lab.ts";
import { parseRtCacheStat, RT_CACHE_FIELDS } from "../host/cache/stat.ts";

const run = canRunLive("wasmroute run", ["ping", "tcpdump", "traceroute", "iperf3", "ethtool"]) ? describe : describe.skip;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sum of one rt_cache column over the rows of the router's statistics file. */
function rtCache(lab: Lab, field: keyof typeof RT_CACHE_FIELDS): number {
  return parseRtCacheStat(lab.stat("net/stat/rt_cache")).reduce((s, row) => s + row[RT_CACHE_FIELDS[field]]!, 0);
}

/** A field of the router's /proc/net/netstat-style file (e.g. "WrDrop", "Blackhole"). */
function netstat(lab: Lab, proto: string, field: string): number {
  const lines = lab.stat("net/netstat").split("\n");
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]!.startsWith(`${proto}:`)) continue;
    const names = lines[i]!.split(/\s+/).slice(1);
    const values = lines[i + 1]!.split(/\s+/).slice(1);
    const k = names.indexOf(field);
    if (k >= 0) return Number(values[k]);
  }
  throw new Error(`${proto}:${field} not in net/netstat`);
}

/** Waits until the statistics directory has been rewritten after now (it is rewritten every second). */
async function freshStats(): Promise<void> {
  await sleep(1200);
}

run("wasmroute run over TAP: h1 — router — h2", () => {
  const lab = new Lab({
    kind: "tap",
    mtu2: 1400,
    extra: ["route add blackhole 198.51.100.0/24", "route add prohibit 203.0.113.0/24", "sysctl net.ipv4.conf.p1.rp_filter=1"],
  });
  beforeAll(async () => {
    await lab.start();
  }, 60_000);
  afterAll(async () => {
    await lab.stop();
  });

  it("forwards ping from h1 to h2 and answers ping to its own addresses", () => {
    const r = lab.exec(lab.h1, ["ping", "-c", "3", "-i", "0.2", "-W", "2", "10.201.2.2"]);
    expect(r.out).toMatch(/3 packets transmitted, 3 received/);
    expect(lab.exec(lab.h1, ["ping", "-c", "2", "-i", "0.2", "-W", "2", "10.201.1.1"]).out).toMatch(/2 received/);
    expect(lab.exec(lab.h1, ["ping", "-c", "2", "-i", "0.2", "-W", "2", "10.201.2.1"]).out).toMatch(/2 received/);
  });

  it("resolves next hops by ARP (no static neighbours anywhere)", async () => {
    await freshStats();
    const n = lab.exec(lab.h2, ["ip", "neigh", "show", "10.201.2.1"]).out;
    expect(n).toMatch(/lladdr 02:77:00:00:02:01/);
    const arp = lab.stat("net/arp");
    expect(arp).toMatch(/10\.201\.2\.2\s+0x1\s+0x2\s+[0-9a-f:]{17}\s+\*\s+p2/);
  });

  it("refuses a TCP connection to itself at once (a reset, as a host with no listener)", () => {
    const r = lab.exec(lab.h1, ["timeout", "3", "bash", "-c", "exec 3<>/dev/tcp/10.201.1.1/22"]);
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/Connection refused/);
  });

  it("shows itself as a hop to traceroute -n", () => {
    const r = lab.exec(lab.h1, ["traceroute", "-n", "-q", "1", "-w", "2", "-m", "4", "10.201.2.2"], 20_000);
    expect(r.out).toMatch(/^\s*1\s+10\.201\.1\.1\s/m);
    expect(r.out).toMatch(/^\s*2\s+10\.201\.2\.2\s/m);
  });

  it("answers a destination with no route with ICMP net unreachable", () => {
    const r = lab.exec(lab.h1, ["ping", "-c", "1", "-W", "2", "192.0.2.77"]);
    expect(r.out).toMatch(/From 10\.201\.1\.1 icmp_seq=1 Destination Net Unreachable/);
  });

  it("drops silently into a blackhole route, and says 'prohibited' for a prohibit route", async () => {
    const before = netstat(lab, "WrDrop", "Blackhole");
    const r = lab.exec(lab.h1, ["ping", "-c", "2", "-i", "0.2", "-W", "1", "198.51.100.7"]);
    expect(r.out).toMatch(/2 packets transmitted, 0 received/);
    expect(r.out).not.toMatch(/Unreachable|From 10\./);
    const p = lab.exec(lab.h1, ["ping", "-c", "1", "-W", "2", "203.0.113.9"]);
    expect(p.out).toMatch(/From 10\.201\.1\.1 icmp_seq=1 Packet filtered/);
    await freshStats();
    expect(netstat(lab, "WrDrop", "Blackhole") - before).toBe(2);
  });

  it("fragments a datagram without DF for a 1400-byte egress (tcpdump on h2 sees the fragments)", async () => {
    const dump = lab.background(lab.h2, ["timeout", "8", "tcpdump", "-nn", "-v", "-l", "-c", "2", "-i", lab.if2, "src 10.201.1.2"]);
    let out = "";
    dump.stdout!.on("data", (d) => (out += d));
    await sleep(1000);
    const r = lab.exec(lab.h1, ["ping", "-M", "dont", "-c", "1", "-W", "3", "-s", "1472", "10.201.2.2"]);
    expect(r.out).toMatch(/1 received/);
    await new Promise((res) => dump.once("exit", res));
    expect(out).toMatch(/flags \[\+\]/); // the first fragment (MF)
    expect(out).toMatch(/offset 1376/); // the second, after 1376 bytes of payload
  });

  it("answers DF + too big with 'frag needed' carrying the next-hop MTU", () => {
    const r = lab.exec(lab.h1, ["ping", "-M", "do", "-c", "1", "-W", "2", "-s", "1472", "10.201.2.2"]);
    expect(r.out + r.err).toMatch(/Frag needed and DF set \(mtu = 1400\)|mtu ?= ?1400/);
  });

  it("moves TCP data with iperf3 for a few seconds", async () => {
    const server = lab.background(lab.h2, ["timeout", "15", "iperf3", "-s", "-1", "-p", "5201"]);
    await sleep(800);
    const r = lab.exec(lab.h1, ["iperf3", "-c", "10.201.2.2", "-p", "5201", "-t", "2", "-J"], 20_000);
    server.kill();
    const j = JSON.parse(r.out) as { end: { sum_received: { bytes: number; bits_per_second: number } } };
    expect(j.end.sum_received.bytes).toBeGreaterThan(1_000_000);
  }, 30_000);

  it("decrements TTL and leaves valid checksums (tcpdump -vv on h2)", async () => {
    const dump = lab.background(lab.h2, ["timeout", "8", "tcpdump", "-nn", "-vv", "-l", "-c", "2", "-i", lab.if2, "icmp[icmptype] == icmp-echo"]);
    let out = "";
    dump.stdout!.on("data", (d) => (out += d));
    await sleep(1000);
    lab.exec(lab.h1, ["ping", "-c", "2", "-i", "0.2", "-t", "37", "-W", "2", "10.201.2.2"]);
    await new Promise((res) => dump.once("exit", res));
    expect(out).toMatch(/ttl 36/);
    expect(out).not.toMatch(/bad cksum|incorrect/);
  });

  it("counts repeated flows as in_hit and new ones as in_slow_tot", async () => {
    await freshStats();
    const hit0 = rtCache(lab, "in_hit");
    const slow0 = rtCache(lab, "in_slow_tot");
    lab.exec(lab.h1, ["ping", "-c", "20", "-i", "0.01", "-W", "2", "10.201.2.2"]);
    for (const d of ["10.201.2.50", "10.201.2.51", "10.201.2.52"]) lab.exec(lab.h1, ["ping", "-c", "1", "-W", "1", d]);
    await freshStats();
    expect(rtCache(lab, "in_hit") - hit0).toBeGreaterThanOrEqual(30); // requests and replies
    expect(rtCache(lab, "in_slow_tot") - slow0).toBeGreaterThanOrEqual(3);
  });

  it("drops a spoofed source with rp_filter 1 and counts in_martian_src", async () => {
    await freshStats();
    const m0 = rtCache(lab, "in_martian_src");
    lab.exec(lab.h1, ["ip", "addr", "add", "10.201.2.99/32", "dev", lab.if1]);
    const r = lab.exec(lab.h1, ["ping", "-I", "10.201.2.99", "-c", "2", "-i", "0.2", "-W", "1", "10.201.2.2"]);
    expect(r.out).toMatch(/0 received/);
    await freshStats();
    expect(rtCache(lab, "in_martian_src") - m0).toBe(2);
  });

  it("reloads its config on SIGHUP: a new route changes forwarding, and back", async () => {
    expect(lab.exec(lab.h1, ["ping", "-c", "1", "-W", "2", "10.201.2.2"]).out).toMatch(/1 received/);
    await lab.reload(["route add blackhole 10.201.2.0/25", "sysctl net.ipv4.conf.p1.rp_filter=1"]);
    const r = lab.exec(lab.h1, ["ping", "-c", "1", "-W", "1", "10.201.2.2"]);
    expect(r.out).toMatch(/0 received/);
    await lab.reload(lab.opts.extra!);
    expect(lab.exec(lab.h1, ["ping", "-c", "1", "-W", "2", "10.201.2.2"]).out).toMatch(/1 received/);
  }, 40_000);

  it("stops cleanly on SIGTERM and releases its taps", async () => {
    const code = await lab.stop();
    expect(code).toBe(0);
  });
});

run("wasmroute run --busy-poll over AF_PACKET: h1 — veth — router — veth — h2", () => {
  // Port 1 answers to a MAC of its own (the recommended setup: the kernel drops its frames at once as
  // PACKET_OTHERHOST); port 2 uses its interface's MAC (the kernel routes each frame to an error).
  const lab = new Lab({ kind: "packet", busyPoll: true, link1: "address 02:77:00:00:01:01" });
  beforeAll(async () => {
    await lab.start();
  }, 60_000);
  afterAll(async () => {
    await lab.stop();
  });

  it("forwards ping and TCP (checksums left to offload are finished by the router)", async () => {
    expect(lab.exec(lab.h1, ["ping", "-c", "3", "-i", "0.2", "-W", "2", "10.201.2.2"]).out).toMatch(/3 received/);
    const server = lab.background(lab.h2, ["timeout", "15", "iperf3", "-s", "-1", "-p", "5202"]);
    await sleep(800);
    const r = lab.exec(lab.h1, ["iperf3", "-c", "10.201.2.2", "-p", "5202", "-t", "2", "-J"], 20_000);
    server.kill();
    const j = JSON.parse(r.out) as { end: { sum_received: { bytes: number } } };
    expect(j.end.sum_received.bytes).toBeGreaterThan(1_000_000);
    // What the router namespace's kernel made of the frames wasmroute took: port 1's were "other host".
    const otherhost = (i: 1 | 2) => (JSON.parse(lab.exec(lab.r, ["ip", "-j", "-s", "-s", "link", "show", lab.name(i, "b")]).out) as { stats64: { rx: { otherhost?: number } } }[])[0]!.stats64.rx.otherhost ?? 0;
    expect(otherhost(1)).toBeGreaterThan(100); // the pings and the iperf3 segments from h1
    expect(otherhost(2)).toBe(0);
  }, 30_000);
});
