// The router's alarms and state changes as an operator sees them (issue #6's log audit, #3's overflow
// modes): `wasmroute run --log-format json` with pcap ports, a cache far too small for the replayed
// flows and a tiny neighbour table. Every stderr line is one JSON object with time, level, event and
// msg. In `--overflow kernel` mode the cache overflows as 3.x did (drops, gc_dst_overflow, "dst cache
// overflow"); in the default mode the same traffic is all forwarded, uncached, and the "cache full"
// alarm says so. A SIGHUP reload is logged too.
import { describe, it, expect, afterAll } from "vitest";
import { PCAP_ROUTER_LINES, H1_TO_ROUTER } from "./lib/pcap-router.ts";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, readFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PcapWriter, readPcap } from "../host/io/pcap.ts";
import { udpDatagram } from "../host/sim/frames.ts";
import { parseRtCacheStat, RT_CACHE_FIELDS } from "../host/cache/stat.ts";

const dir = mkdtempSync(join(tmpdir(), "wr-alarms-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ip = (s: string) => s.split(".").reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);
const FLOWS = 120;
const UNRESOLVED = 8;

interface LogLine {
  time: string;
  level: string;
  event: string;
  msg: string;
  [k: string]: unknown;
}

/** The config and the capture: FLOWS flows behind h2, and UNRESOLVED on-link hosts nobody answers for. */
function setup(name: string): { conf: string; input: string } {
  const conf = join(dir, `${name}.conf`);
  writeFileSync(
    conf,
    [
      ...PCAP_ROUTER_LINES,
      "sysctl net.ipv4.route.gc_thresh=8",
      "sysctl net.ipv4.route.max_size=32",
      "sysctl net.ipv4.neigh.default.gc_thresh3=4", // 2 static + 2 more
      "",
    ].join("\n"),
  );
  const input = join(dir, `${name}.pcap`);
  const w = new PcapWriter(input);
  for (let i = 0; i < UNRESOLVED; i++) w.write(udpDatagram(H1_TO_ROUTER, ip("10.201.1.2"), ip("10.201.2.100") + i, 1000, 9, 20), Date.now());
  for (let i = 0; i < FLOWS; i++) w.write(udpDatagram(H1_TO_ROUTER, ip("10.201.1.2"), ip("172.16.1.0") + i, 1000, 9, 20), Date.now());
  w.close();
  return { conf, input };
}

function parseLog(stderr: string): LogLine[] {
  return stderr
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const o = JSON.parse(l) as LogLine; // every line is JSON
      expect(typeof o.time === "string" && !Number.isNaN(Date.parse(o.time)), l).toBe(true);
      expect(["info", "warn", "error"]).toContain(o.level);
      expect(o.event, l).toMatch(/^[a-z_]+$/);
      expect(typeof o.msg, l).toBe("string");
      return o;
    });
}

function rtCache(proc: string) {
  const row = parseRtCacheStat(readFileSync(join(proc, "net", "stat", "rt_cache"), "utf8"))[0]!;
  return { entries: row[RT_CACHE_FIELDS.entries]!, gc_dst_overflow: row[RT_CACHE_FIELDS.gc_dst_overflow]! };
}

describe("alarms in JSON logs", () => {
  it("--overflow kernel: the cache overflows as 3.x did — drops, gc_dst_overflow, \"dst cache overflow\"", () => {
    const { conf, input } = setup("kernel");
    const proc = join(dir, "proc-kernel");
    const out2 = join(dir, "kernel-p2.pcap");
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", "host/cli/main.ts", "run", "--config", conf, "--control", "none", "--proc-dir", proc, "--pcap-in", `p1=${input}`, "--capture", `p2=${out2}`, "--duration", "1.5", "--log-format", "json", "--overflow", "kernel"],
      { encoding: "utf8", timeout: 30_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const log = parseLog(r.stderr);
    const overflow = log.find((l) => l.event === "dst_cache_overflow");
    expect(overflow, r.stderr).toBeDefined();
    expect(overflow!.level).toBe("warn");
    expect(overflow!.msg).toBe("dst cache overflow");
    expect(overflow!.drops as number).toBeGreaterThan(0);
    const neigh = log.find((l) => l.event === "neighbour_table_overflow");
    expect(neigh, r.stderr).toBeDefined();
    expect(log.some((l) => l.event === "cache_full")).toBe(false);
    const st = rtCache(proc);
    expect(st.gc_dst_overflow).toBeGreaterThan(0);
    expect(st.entries).toBeLessThanOrEqual(32); // never past max_size
    // What overflowed was dropped: fewer than FLOWS datagrams left for h2.
    const forwarded = readPcap(out2).filter((f) => f.data[30] === 172).length;
    expect(forwarded).toBeLessThan(FLOWS);
    expect(forwarded + (overflow!.drops as number)).toBe(FLOWS);
  });

  it("default (--overflow forward): the same traffic is all forwarded, uncached, and \"cache full\" is raised; SIGHUP is logged", async () => {
    const { conf, input } = setup("forward");
    const proc = join(dir, "proc-forward");
    const out2 = join(dir, "forward-p2.pcap");
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "host/cli/main.ts", "run", "--config", conf, "--control", "none", "--proc-dir", proc, "--pcap-in", `p1=${input}`, "--capture", `p2=${out2}`, "--duration", "20", "--log-format", "json"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((res) => child.once("exit", (c) => res(c)));
    try {
      const until = async (f: () => boolean, ms: number) => {
        const end = Date.now() + ms;
        while (!f() && Date.now() < end && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
        return f();
      };
      expect(await until(() => out.includes("ready"), 20_000), err).toBe(true);
      expect(await until(() => err.includes('"cache_full"'), 5_000), err).toBe(true);
      appendFileSync(conf, "route add 192.0.2.0/24 via 10.201.2.2\n");
      child.kill("SIGHUP");
      expect(await until(() => err.includes('"config_reload"'), 10_000), err).toBe(true);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    const log = parseLog(err);
    const full = log.find((l) => l.event === "cache_full")!;
    expect(full.level).toBe("warn");
    expect(full.uncached as number).toBeGreaterThan(0);
    expect(log.some((l) => l.event === "dst_cache_overflow")).toBe(false);
    expect(log.find((l) => l.event === "config_reload")!.level).toBe("info");
    expect(log.some((l) => l.event === "stop")).toBe(true);
    expect(rtCache(proc).gc_dst_overflow).toBeGreaterThan(0); // the GC still gave up at max_size…
    expect(readPcap(out2).filter((f) => f.data[30] === 172).length).toBe(FLOWS); // …and every datagram went on
  }, 40_000);

  it("--overflow-backoff: after the first gc_dst_overflow the misses skip the GC; the same traffic is all forwarded", () => {
    const overflows: number[] = [];
    for (const backoff of [[], ["--overflow-backoff", "60000"]]) {
      const { conf, input } = setup(`backoff${backoff.length}`);
      const proc = join(dir, `proc-backoff${backoff.length}`);
      const out2 = join(dir, `backoff${backoff.length}-p2.pcap`);
      const r = spawnSync(
        process.execPath,
        ["--import", "tsx", "host/cli/main.ts", "run", "--config", conf, "--control", "none", "--proc-dir", proc, "--pcap-in", `p1=${input}`, "--capture", `p2=${out2}`, "--duration", "1.5", "--log-format", "json", ...backoff],
        { encoding: "utf8", timeout: 30_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(readPcap(out2).filter((f) => f.data[30] === 172).length).toBe(FLOWS); // every datagram went on
      overflows.push(rtCache(proc).gc_dst_overflow);
    }
    expect(overflows[0]).toBeGreaterThan(1); // without it, the GC runs and gives up at miss after miss
    expect(overflows[1]).toBe(1); // with it, once: the replay lasts far less than the 60 s back-off
  });

  it("refuses a bad --overflow, --gc-step-budget, --overflow-backoff or --poll-window with one line", () => {
    for (const args of [["--overflow", "drop"], ["--gc-step-budget", "-1"], ["--overflow-backoff", "-5"], ["--overflow-backoff", "100", "--overflow", "kernel"], ["--poll-window", "50us"], ["--poll-window", "2000000"]]) {
      const r = spawnSync(process.execPath, ["--import", "tsx", "host/cli/main.ts", "run", "--config", "/nonexistent", ...args], { encoding: "utf8", timeout: 30_000 });
      expect(r.status).toBe(2);
      expect(r.stderr.split("\n")[0]).toMatch(new RegExp(args[0]!));
    }
  });
});
