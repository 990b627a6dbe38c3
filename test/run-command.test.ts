// `wasmroute run` as a user runs it, without privileges: a config with pcap ports, a capture replayed
// into one port (--pcap-in), what the ports send recorded (--capture), the statistics directory read
// back with `wasmroute nstat`, JSON logs; and bad input refused with one line naming file and line.
import { describe, it, expect, afterAll } from "vitest";
import { PCAP_ROUTER_LINES, H1_TO_ROUTER } from "./lib/pcap-router.ts";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PcapWriter, readPcap } from "../host/io/pcap.ts";
import { echoRequest, udpDatagram } from "../host/sim/frames.ts";

const dir = mkdtempSync(join(tmpdir(), "wr-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function wasmroute(args: string[], timeout = 30_000) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "host/cli/main.ts", ...args], { encoding: "utf8", timeout });
  return { status: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const ip = (s: string) => s.split(".").reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);

describe("wasmroute run", () => {
  it("refuses a bad config with FILE:LINE and starts nothing", () => {
    const bad = join(dir, "bad.conf");
    writeFileSync(bad, "link add p1 type pcap\naddr add 10.0.0.1/24 dev p9\n");
    const r = wasmroute(["run", "--config", bad]);
    expect(r.status).toBe(2);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(new RegExp(`^${bad}:2: .*p9`));
    expect(r.out).toBe("");
  });

  it("refuses a missing --config with its usage", () => {
    const r = wasmroute(["run"]);
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/missing --config FILE/);
  });

  it("forwards a replayed capture between pcap ports, records it, and keeps statistics nstat reads", () => {
    const conf = join(dir, "pcap.conf");
    writeFileSync(
      conf,
      [
        ...PCAP_ROUTER_LINES,
        "",
      ].join("\n"),
    );
    const h = H1_TO_ROUTER;
    const input = join(dir, "in.pcap");
    const w = new PcapWriter(input);
    for (let i = 0; i < 50; i++) w.write(udpDatagram(h, ip("10.201.1.2"), ip("172.16.0.0") + i, 1000, 9, 20), Date.now());
    w.write(echoRequest(h, ip("10.201.1.2"), ip("10.201.1.1"), 1, 1), Date.now());
    w.close();
    const out1 = join(dir, "p1.pcap");
    const out2 = join(dir, "p2.pcap");
    const proc = join(dir, "proc");
    const r = wasmroute(["run", "--config", conf, "--pcap-in", `p1=${input}`, "--capture", `p1=${out1}`, "--capture", `p2=${out2}`, "--proc-dir", proc, "--duration", "1.5", "--log-format", "json"]);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/ready/);
    const stop = r.err.trim().split("\n").map((l) => JSON.parse(l) as { event: string });
    expect(stop.map((e) => e.event)).toContain("stop");
    const sent2 = readPcap(out2);
    expect(sent2).toHaveLength(50);
    expect(sent2.every((f) => f.data[22] === 63)).toBe(true);
    const seen1 = readPcap(out1);
    expect(seen1).toHaveLength(52); // 51 received, 1 echo reply sent
    expect(seen1[51]!.data[34]).toBe(0);
    const n = wasmroute(["nstat", "--proc", proc, "-a", "-s", "IpForwDatagrams", "IcmpOutEchoReps"]);
    expect(n.status).toBe(0);
    expect(n.out).toMatch(/^IpForwDatagrams\s+50\s/m);
    expect(n.out).toMatch(/^IcmpOutEchoReps\s+1\s/m);
  });

  it("replays a large capture whole (200,000 frames)", () => {
    const conf = join(dir, "large.conf");
    writeFileSync(conf, `${PCAP_ROUTER_LINES.join("\n")}\n`);
    const input = join(dir, "large.pcap");
    const w = new PcapWriter(input);
    const frame = udpDatagram(H1_TO_ROUTER, ip("10.201.1.2"), ip("172.16.0.1"), 1000, 9, 20);
    for (let i = 0; i < 200_000; i++) w.write(frame, 0);
    w.close();
    const proc = join(dir, "proc-large");
    // (the frames once went to the port as push(...frames), which overflows the stack past ~130,000)
    const r = wasmroute(["run", "--config", conf, "--control", "none", "--pcap-in", `p1=${input}`, "--proc-dir", proc, "--duration", "4"]);
    expect(r.status, r.err).toBe(0);
    const n = wasmroute(["nstat", "--proc", proc, "-a", "-s", "IpForwDatagrams"]);
    expect(n.out).toMatch(/^IpForwDatagrams\s+200000\s/m);
  });
});

describe("wasmroute run: route load in the config", () => {
  it("forwards by a CIDR list named relative to the config file, and only by it", () => {
    const sub = mkdtempSync(join(dir, "load-"));
    writeFileSync(join(sub, "table.txt"), "# three prefixes\n198.51.100.0/24\n203.0.113.0/25\n192.0.2.128/25\n");
    const conf = join(sub, "load.conf");
    writeFileSync(conf, [...PCAP_ROUTER_LINES, "route load table.txt via 10.201.2.2 dev p2", ""].join("\n"));
    const h = H1_TO_ROUTER;
    const input = join(sub, "in.pcap");
    const w = new PcapWriter(input);
    const dsts = ["198.51.100.7", "203.0.113.1", "203.0.113.200", "192.0.2.200", "192.0.2.1"]; // 3 routed, 2 not
    for (const d of dsts) w.write(udpDatagram(h, ip("10.201.1.2"), ip(d), 1000, 9, 20), Date.now());
    w.close();
    const out2 = join(sub, "p2.pcap");
    // Started from another directory: FILE is found beside the config, not in the working directory.
    const r = wasmroute(["run", "--config", conf, "--pcap-in", `p1=${input}`, "--capture", `p2=${out2}`, "--duration", "1.5", "--log-format", "json"]);
    expect(r.status, r.err).toBe(0);
    const sent = readPcap(out2).map((f) => [...f.data.subarray(30, 34)].join("."));
    expect(sent).toEqual(["198.51.100.7", "203.0.113.1", "192.0.2.200"]);
  });
});

describe("wasmroute run --rhash-entries / --overflow / --batch", () => {
  /** 600 frames from 600 sources through a cache of 16 buckets whose max_size is 64; returns forwarded and NoBufs drops. */
  function overflowRun(mode: string): { forwarded: number; noBufs: number; err: string } {
    const conf = join(dir, `overflow-${mode}.conf`);
    writeFileSync(conf, [...PCAP_ROUTER_LINES, "sysctl net.ipv4.route.max_size=64", ""].join("\n"));
    const input = join(dir, `overflow-${mode}.pcap`);
    const w = new PcapWriter(input);
    for (let i = 0; i < 600; i++) w.write(udpDatagram(H1_TO_ROUTER, ip("1.0.0.1") + i * 7919, ip("172.16.0.1"), 1000, 9, 20), Date.now());
    w.close();
    const out2 = join(dir, `overflow-${mode}-p2.pcap`);
    const proc = join(dir, `proc-${mode}`);
    const r = wasmroute(["run", "--config", conf, "--rhash-entries", "16", "--overflow", mode, "--pcap-in", `p1=${input}`, "--capture", `p2=${out2}`, "--proc-dir", proc, "--duration", "1.5"]);
    expect(r.status).toBe(0);
    const n = wasmroute(["nstat", "--proc", proc, "-a", "-s", "WrDropNoBufs"]);
    return { forwarded: readPcap(out2).length, noBufs: Number(/^WrDropNoBufs\s+(\d+)/m.exec(n.out)?.[1] ?? 0), err: r.err };
  }

  it("refuses bad values with one line and starts nothing", () => {
    for (const [args, msg] of [
      [["--overflow", "drop"], /--overflow must be "forward" or "kernel", got "drop"/],
      [["--rhash-entries", "0"], /--rhash-entries wants a number of buckets from 1 to 67108864, got "0"/],
      [["--rhash-entries", "12x"], /got "12x"/],
      [["--batch", "0"], /--batch wants a number of frames from 1 to 4096, got "0"/],
      [["--batch", "4097"], /--batch wants a number of frames from 1 to 4096, got "4097"/],
    ] as const) {
      const r = wasmroute(["run", "--config", join(dir, "none.conf"), ...args]);
      expect(r.status).toBe(2);
      expect(r.err.trim().split("\n")[0]).toMatch(msg);
      expect(r.out).toBe("");
    }
  });

  it("at max_size, forward mode forwards uncached and kernel mode drops with ENOBUFS and \"dst cache overflow\"", () => {
    const fwd = overflowRun("forward");
    expect(fwd.forwarded).toBe(600);
    expect(fwd.noBufs).toBe(0);
    expect(fwd.err).toMatch(/route cache full: forwarding without caching/);
    expect(fwd.err).not.toMatch(/dst cache overflow/);
    const kern = overflowRun("kernel");
    expect(kern.noBufs).toBeGreaterThan(0);
    expect(kern.forwarded + kern.noBufs).toBe(600);
    expect(kern.err).toMatch(/dst cache overflow \(drops=\d+\)/);
  });

  it("with --batch 3 takes a replayed burst three frames at a time and forwards all of it, in order", () => {
    const conf = join(dir, "batch.conf");
    writeFileSync(conf, [...PCAP_ROUTER_LINES, ""].join("\n"));
    const input = join(dir, "batch.pcap");
    const w = new PcapWriter(input);
    for (let i = 0; i < 50; i++) w.write(udpDatagram(H1_TO_ROUTER, ip("10.201.1.2"), ip("172.16.0.0") + i, 1000, 9, 20), Date.now());
    w.close();
    const out2 = join(dir, "batch-p2.pcap");
    const r = wasmroute(["run", "--config", conf, "--batch", "3", "--pcap-in", `p1=${input}`, "--capture", `p2=${out2}`, "--duration", "1.5"]);
    expect(r.status, r.err).toBe(0);
    const last = readPcap(out2).map((f) => f.data[33]!);
    expect(last).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
