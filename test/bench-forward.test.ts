// The forwarding benchmark (`npm run bench -- forward`, issue #5) still runs end to end: one short
// configuration (TAP, one flow, connected + default route, one 1 s window, idle/loaded ping, no TCP),
// a JSON document of the promised shape, both routers forwarding, and no namespace left behind.
// Root only; CI is root. No speed is asserted: BENCHMARKS.md has the numbers.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canRunLive } from "./lib/netns.ts";

const run = canRunLive("bench forward (smoke)", ["trafgen", "ping", "ethtool"]) ? describe : describe.skip;

/** The namespaces of one bench run (wr-bf-TAG-*, TAG as its JSON reports it). */
const leftovers = (prefix: string) => (spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout ?? "").split("\n").filter((l) => l.startsWith(prefix));

run("bench forward (smoke)", () => {
  it("reports pps, kernelPps and ratio for a short TAP run, and cleans up", () => {
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", "--expose-gc", "bench/main.ts", "forward", "--json", "--quick", "--table", "none", "--modes", "tap", "--flows", "1", "--window", "1", "--no-tcp"],
      { encoding: "utf8", timeout: 55_000, killSignal: "SIGTERM" },
    );
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.rows).toHaveLength(1);
    const row = j.rows[0];
    expect(row.router).toBe("tap");
    expect(row.flows).toBe(1);
    expect(row.pps).toBeGreaterThan(0);
    expect(row.kernelPps).toBeGreaterThan(0);
    expect(row.ratio).toBeCloseTo(row.pps / row.kernelPps, 2);
    expect(j.options.routes).toBe(1);
    expect(j.machine.cpus).toBeGreaterThan(0);
    expect(j.ping.map((p: { router: string }) => p.router).sort()).toEqual(["kernel", "tap"]);
    for (const p of j.ping) {
      expect(p.idle.loss).toBeLessThan(100);
      // the slow echoes are reported beside the typical one (all three from the same echoes): median ≤ p90 ≤ p99
      for (const r of [p.idle, p.load]) expect([r.medianUs <= r.p90Us, r.p90Us <= r.p99Us]).toEqual([true, true]);
    }
    expect(j.options.namespaces).toMatch(/^wr-bf-[0-9a-z]{4}-\*$/);
    expect(leftovers(j.options.namespaces.slice(0, -1))).toEqual([]);
  }, 60_000);
});

describe("bench forward: tools checked before anything is built", () => {
  // A PATH with every tool the bench needs except perf, so that perf is the one named.
  const tools = Object.fromEntries(["ip", "trafgen", "iperf3", "ethtool", "ping"].map((t) => [t, spawnSync("sh", ["-c", `command -v ${t}`], { encoding: "utf8" }).stdout.trim()]));
  const ready = process.getuid?.() === 0 && Object.values(tools).every(Boolean);
  it.skipIf(!ready)("--profile without perf is refused at once, naming the package", () => {
    const dir = mkdtempSync(join(tmpdir(), "wr-path-"));
    try {
      for (const [t, at] of Object.entries(tools)) symlinkSync(at, join(dir, t));
      const r = spawnSync(process.execPath, ["--import", "tsx", "bench/main.ts", "forward", "--profile", "--quick"], { encoding: "utf8", timeout: 30_000, env: { ...process.env, PATH: dir } });
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe("bench forward: the forward benchmark needs perf (apt-get install linux-perf)");
      expect(r.stdout).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
