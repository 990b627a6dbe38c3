// The simulator drives the real cache: seed 001's shapes on a scaled-down table (rhash_entries 4096,
// so 8 × buckets = 32768 is reached in under a minute), seed 000's leak raising the alarm, and the
// command line writing CSV, SVG and a /proc-style rt_cache file.
import { describe, it, expect } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simulate, CSV_COLUMNS } from "../host/sim/simulate.ts";
import { runSimulate } from "../host/cli/simulate-command.ts";
import { parseRtCacheStat } from "../host/cache/stat.ts";

const B = 4096;
const base = { rate: 2000, rhashEntries: B, kernel: "2.6.39" as const };

describe("wasmroute simulate", () => {
  it("steady: climbs through gc_thresh, then oscillates under 8 × buckets with the aggressive goal", () => {
    const r = simulate({ ...base, scenario: "steady", duration: 240 });
    const a = r.rows.map((x) => x.allocated);
    const crossThresh = a.findIndex((v) => v > B);
    const reach = a.findIndex((v) => v >= 8 * B);
    expect(crossThresh).toBeGreaterThan(0);
    // above gc_thresh the normal regime frees half of each interval's growth: the count keeps climbing
    expect(a[crossThresh + 5]! - a[crossThresh]!).toBeGreaterThan(0.3 * 2000 * 5);
    expect(reach).toBeGreaterThan(crossThresh);
    // from then on: never much above the line, and drops of about one aggressive goal (B entries)
    const after = a.slice(reach);
    expect(Math.max(...after)).toBeLessThan(8 * B + 2000);
    expect(Math.min(...after.slice(5))).toBeGreaterThan(8 * B - 2 * B);
    let drops = 0;
    for (let i = reach + 1; i < a.length; i++) if (a[i - 1]! - a[i]! > B / 2) drops++;
    expect(drops).toBeGreaterThanOrEqual(3);
    expect(r.rows.every((x) => x.gc_dst_overflow === 0)).toBe(true);
  });

  it("pause: with no new flows nothing calls the GC and the count holds; surge: above B new entries per gc_min_interval it overshoots the line", () => {
    const p = simulate({ ...base, scenario: "pause", duration: 180 }).rows;
    const pauseRows = p.filter((x) => x.t_s > 62 && x.t_s <= 120);
    expect(pauseRows.every((x) => x.new_flows === 0 && x.gc_total === 0)).toBe(true);
    expect(Math.max(...pauseRows.map((x) => x.allocated)) - Math.min(...pauseRows.map((x) => x.allocated))).toBe(0);
    const s = simulate({ ...base, scenario: "surge", duration: 180 }).rows;
    expect(Math.max(...s.slice(60, 120).map((x) => x.allocated))).toBeGreaterThan(8 * B + 2000);
  });

  it("leak: references that are never released pile up unhashed and raise the alarm, saying how many and how long", () => {
    const r = simulate({ ...base, scenario: "leak", duration: 300, leakShare: 0.01, flushInterval: 30, alarmInterval: 10 });
    expect(r.alarms.length).toBeGreaterThan(0);
    const first = r.alarms[0]!;
    expect(first.t_s).toBeLessThanOrEqual(120);
    expect(first.message).toMatch(/^route cache leak suspected: \d+ entries held unhashed \(allocated \d+, hashed \d+\), growing for \d+ intervals, oldest held \d+ s/);
    const last = r.rows[r.rows.length - 1]!;
    expect(last.held_unhashed).toBeGreaterThan(1000);
    expect(last.held_unhashed).toBe(r.cache.garbage);
    // the same traffic without the leak: nothing held, no alarm
    const ok = simulate({ ...base, scenario: "steady", duration: 300, flushInterval: 30, alarmInterval: 10 });
    expect(ok.alarms).toEqual([]);
    expect(ok.rows[ok.rows.length - 1]!.held_unhashed).toBe(0);
  });

  it("--overflow-backoff: a surge held at max_size gives up at most once per back-off, and the GC runs far less", () => {
    const run = (overflowBackoffMs: number) => simulate({ ...base, scenario: "surge", duration: 180, params: { maxSize: 8 * B }, overflowBackoffMs }).rows;
    const sum = (rows: ReturnType<typeof run>, k: "gc_total" | "gc_dst_overflow" | "uncached") => rows.reduce((a, x) => a + x[k], 0);
    const off = run(0), on = run(1000);
    expect(sum(off, "gc_dst_overflow")).toBeGreaterThan(1000); // every miss at max_size sweeps and gives up
    expect(sum(on, "gc_dst_overflow")).toBeLessThanOrEqual(180); // at most one per 1 s back-off in 180 s
    expect(sum(on, "gc_total")).toBeLessThan(sum(off, "gc_total") / 2);
    expect(sum(on, "uncached")).toBeGreaterThan(sum(off, "uncached")); // the price: more flows go uncached
    expect(Math.max(...on.map((x) => x.allocated))).toBeLessThanOrEqual(8 * B);
  });

  it("runs from the command line with sysctls, writing CSV, SVG and DIR/net/stat/rt_cache", () => {
    const dir = mkdtempSync(join(tmpdir(), "wasmroute-sim-"));
    try {
      const out: string[] = [];
      const err: string[] = [];
      const io = { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) };
      const rc = runSimulate(
        ["--scenario", "steady", "--rate", "1000", "--duration", "120", "--rhash-entries", "2048", "--sysctl", "net.ipv4.route.gc_elasticity=4",
          "--sysctl", "net.ipv4.route.gc_timeout=60", "--kernel", "3.4", "--csv", join(dir, "s.csv"), "--svg", join(dir, "s.svg"), "--proc", join(dir, "p"),
          "--show-cache", "2", "--quiet"],
        io,
      );
      expect(err.join("")).toBe("");
      expect(rc).toBe(0);
      expect(out.join("")).toMatch(/rhash_entries 2048, gc_thresh 2048, gc_elasticity 4 \(aggressive above 8192\), max_size 32768, kernel 3\.4/);
      // the end state as `ip -s route show cache` (two entries) and the slabinfo line of the allocated count
      expect(out.join("")).toMatch(/\n(\d+\.){3}\d+ from (\d+\.){3}\d+ via 192\.0\.2\.254 dev eth1 \n    cache  used \d+ age \d+sec iif eth0\n(.*\n){2}ip_dst_cache +\d+/);
      const csv = readFileSync(join(dir, "s.csv"), "utf8").trim().split("\n");
      expect(csv[0]).toBe(CSV_COLUMNS.join(","));
      expect(csv.length).toBe(121);
      expect(readFileSync(join(dir, "s.svg"), "utf8")).toMatch(/^<svg[\s\S]*gc_elasticity × rhash_entries 8k[\s\S]*<polyline/);
      const stat = parseRtCacheStat(readFileSync(join(dir, "p", "net", "stat", "rt_cache"), "utf8"));
      expect(stat.length).toBe(1);
      const lastRow = csv[csv.length - 1]!.split(",").map(Number);
      expect(stat[0]![0]).toBe(lastRow[CSV_COLUMNS.indexOf("entries")]);
      // lnstat reads what the simulator left, as iproute2's lnstat reads /proc (through the real entry point)
      const ln = execFileSync(process.execPath, ["--import", "tsx", "host/cli/main.ts", "lnstat", "--proc", join(dir, "p"), "-f", "rt_cache", "-c", "1", "-i", "1", "-s", "1", "-k", "entries,in_slow_tot"], { encoding: "utf8" });
      expect(ln).toBe(`rt_cache|rt_cache|\n entries|in_slow_|\n        |     tot|\n${String(stat[0]![0]).padStart(8)}|${String(stat[0]![2]).padStart(8)}|\n`);
      // bad input: one line, exit 2
      const e2: string[] = [];
      expect(runSimulate(["--sysctl", "net.ipv4.route.gc_elasticityy=3"], { stdout: () => {}, stderr: (t) => e2.push(t) })).toBe(2);
      expect(e2.join("")).toMatch(/^wasmroute simulate: .*gc_elasticityy.*\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
