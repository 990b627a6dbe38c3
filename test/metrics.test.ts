// Prometheus metrics (#6): `wasmroute run --metrics 127.0.0.1:0` with pcap ports and a replayed
// capture; /metrics is scraped, parsed as the text format, and its values follow the traffic, a
// route change and a cache flush made through the control socket.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { PCAP_ROUTER_LINES, H1_TO_ROUTER, startRouter, stopRouter, type StartedRouter } from "./lib/pcap-router.ts";
import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PcapWriter } from "../host/io/pcap.ts";
import { echoRequest, udpDatagram } from "../host/sim/frames.ts";
import { parseListenAddress } from "../host/router/metrics.ts";

const dir = mkdtempSync(join(tmpdir(), "wr-metrics-"));
const sock = join(dir, "ctl.sock");
let router: ChildProcess;
let started: StartedRouter;
let url = "";

const ip = (s: string) => s.split(".").reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);

/** Scrapes and parses the text format: `name{labels}` → value, and the # TYPE of each family. */
async function scrape(): Promise<{ values: Map<string, number>; types: Map<string, string>; text: string }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const values = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) types.set(t[1]!, t[2]!);
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    expect(m, line).not.toBeNull();
    const v = Number(m![2]);
    // NaN is a valid sample (Prometheus parses it case-insensitively): prom-client's event-loop lag
    // mean reads "Nan" before its first sample. Every other value must be a number.
    expect(Number.isNaN(v) && !/^nan$/i.test(m![2]!), line).toBe(false);
    values.set(m![1]!, v);
  }
  return { values, types, text };
}

function ctl(...words: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", "host/cli/main.ts", "--control", sock, ...words], { encoding: "utf8", timeout: 30_000 });
}

beforeAll(async () => {
  const conf = join(dir, "r.conf");
  writeFileSync(
    conf,
    [
      ...PCAP_ROUTER_LINES,
      "route add blackhole 198.51.100.0/24",
      "sysctl net.ipv4.route.gc_thresh=16", // the 17th flow runs rt_garbage_collect: a GC step to time
      "",
    ].join("\n"),
  );
  const h = H1_TO_ROUTER;
  const input = join(dir, "in.pcap");
  const w = new PcapWriter(input);
  for (let i = 0; i < 30; i++) w.write(udpDatagram(h, ip("10.201.1.2"), ip("172.16.0.0") + i, 1000, 9, 20), Date.now());
  for (let i = 0; i < 5; i++) w.write(udpDatagram(h, ip("10.201.1.2"), ip("198.51.100.1") + i, 1000, 9, 20), Date.now());
  w.write(echoRequest(h, ip("10.201.1.2"), ip("10.201.1.1"), 1, 1), Date.now());
  w.close();
  started = await startRouter(["--config", conf, "--name", "metrics-test", "--proc-dir", join(dir, "proc"), "--control", sock, "--metrics", "127.0.0.1:0", "--pcap-in", `p1=${input}`, "--duration", "120"]);
  router = started.child;
  url = /metrics on (http:\/\/\S+)/.exec(started.out())?.[1] ?? "";
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
}, 30_000);

afterAll(async () => {
  await stopRouter(router);
  rmSync(dir, { recursive: true, force: true });
});

describe("--metrics", () => {
  it("parses HOST:PORT, defaulting to 127.0.0.1", () => {
    expect(parseListenAddress("9101")).toEqual({ host: "127.0.0.1", port: 9101 });
    expect(parseListenAddress("0.0.0.0:9101")).toEqual({ host: "0.0.0.0", port: 9101 });
    expect(parseListenAddress("[::1]:9101")).toEqual({ host: "::1", port: 9101 });
    expect(() => parseListenAddress("host:99999")).toThrow(/HOST:\]PORT/);
    expect(() => parseListenAddress("nope")).toThrow(/HOST:\]PORT/);
  });

  it("serves every family with its type, and values that follow the traffic", async () => {
    let s = await scrape();
    const end = Date.now() + 10_000;
    while ((s.values.get('wasmroute_interface_rx_frames_total{interface="p1"}') ?? 0) < 36 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      s = await scrape();
    }
    const v = (k: string) => s.values.get(k);
    expect(v('wasmroute_interface_rx_frames_total{interface="p1"}')).toBe(36);
    expect(v('wasmroute_interface_tx_frames_total{interface="p2"}')).toBe(30);
    expect(v('wasmroute_interface_tx_frames_total{interface="p1"}')).toBe(1); // the echo reply
    expect(v('wasmroute_interface_drops_total{interface="p1"}')).toBe(5);
    expect(v('wasmroute_interface_rx_missed_total{interface="p1"}')).toBe(0); // a pcap port loses nothing on the way in
    expect(v('wasmroute_interface_rx_length_errors_total{interface="p1"}')).toBe(0);
    expect(v('wasmroute_interface_rx_multicast_total{interface="p1"}')).toBe(0); // every frame was to the router's MAC
    // the 36 replayed frames went to the core as one batch: one count in the 32-63 class, none elsewhere
    const batches = ["1", "2-3", "4-7", "8-15", "16-31", "32-63", "64-127", "128-255", "256+"].map((f) => v(`wasmroute_interface_rx_batches_total{interface="p1",frames="${f}"}`));
    expect(batches).toEqual([0, 0, 0, 0, 0, 1, 0, 0, 0]);
    expect(v('wasmroute_drops_total{reason="Blackhole"}')).toBe(5);
    expect(v('wasmroute_snmp_total{block="Ip",counter="ForwDatagrams"}')).toBe(30);
    expect(v('wasmroute_snmp_total{block="Icmp",counter="OutEchoReps"}')).toBe(1);
    expect(v("wasmroute_rt_cache_in_slow_tot_total")).toBeGreaterThanOrEqual(30);
    expect(v('wasmroute_route_cache_entries{state="hashed"}')).toBeGreaterThanOrEqual(30);
    expect(v('wasmroute_route_cache_entries{state="allocated"}')).toBeGreaterThanOrEqual(v('wasmroute_route_cache_entries{state="hashed"}')!);
    expect(v('wasmroute_alarm{alarm="overflow"}')).toBe(0);
    expect(v('wasmroute_alarm{alarm="leak"}')).toBe(0);
    expect(v('wasmroute_alarm{alarm="caching_disabled"}')).toBe(0);
    expect(s.types.get("wasmroute_rt_cache_in_hit_total")).toBe("counter");
    expect(s.types.get("wasmroute_route_cache_entries")).toBe("gauge");
    expect(s.types.get("wasmroute_interface_rx_bytes_total")).toBe("counter");
    expect(s.types.get("wasmroute_drops_total")).toBe("counter");
    expect(s.types.get("wasmroute_alarm")).toBe("gauge");
    expect(s.types.get("process_cpu_seconds_total")).toBe("counter");
  });

  it("moves with a route change and a cache flush made through the control socket", async () => {
    const before = await scrape();
    expect(before.values.get('wasmroute_route_cache_entries{state="hashed"}')).toBeGreaterThan(0);
    expect(ctl("ip", "route", "add", "172.16.0.0/24", "via", "10.201.1.2").status).toBe(0);
    // `sysctl -w net.ipv4.route.flush=0` frees now (the kernel's synchronous flush).
    expect(ctl("sysctl", "-w", "net.ipv4.route.flush=0").status).toBe(0);
    const after = await scrape();
    expect(after.values.get('wasmroute_route_cache_entries{state="hashed"}')).toBe(0);
    expect(after.values.get('wasmroute_route_cache_entries{state="allocated"}')).toBe(0);
    expect(ctl("sysctl", "-w", "net.ipv4.route.max_size=4096").status).toBe(0);
    expect((await scrape()).values.get('wasmroute_route_cache_limit_entries{limit="max_size"}')).toBe(4096);
  });

  it("times GC steps in a histogram", async () => {
    const count = 'wasmroute_gc_step_seconds_count{kind="garbage_collect"}';
    let s = await scrape();
    const end = Date.now() + 10_000;
    while ((s.values.get(count) ?? 0) < 1 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      s = await scrape();
    }
    expect(s.types.get("wasmroute_gc_step_seconds")).toBe("histogram");
    const n = s.values.get(count)!;
    expect(n).toBeGreaterThanOrEqual(1); // then gc_min_interval gates the rest of the burst (gc_ignored)
    expect(s.values.get('wasmroute_gc_step_seconds_bucket{le="+Inf",kind="garbage_collect"}')).toBe(n);
    const sum = s.values.get('wasmroute_gc_step_seconds_sum{kind="garbage_collect"}')!;
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(n * 0.1); // one sweep of the buckets takes far less than 100 ms
  });

  it("answers 404 elsewhere", async () => {
    const res = await fetch(url.replace(/\/metrics$/, "/"));
    expect(res.status).toBe(404);
  });
});
