// The probes of bench/probes (BENCHMARKS.md: "Multi-queue TAP with a thread per queue", the TAP write
// measurements, "Arrays bound once", "An idle echo's floor") still build and run: a short run of each, output of the promised shape, and no namespace
// left behind. Root only; CI is root. No speed is asserted.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { canRunLive } from "./lib/netns.ts";

const run = canRunLive("bench probes (smoke)", ["trafgen", "cc", "ethtool"]) ? describe : describe.skip;
/** Namespaces whose names start with prefix: each probe's own (tap-write's, tap-read's and bound-call's carry their PID; tap-mq's are wr-bf-mq*). */
const leftovers = (prefix: string) => (spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout ?? "").split("\n").filter((l) => l.startsWith(prefix));

run("bench probes (smoke)", () => {
  it("tap-write: µs per frame through io_uring and write(2) for each batch size", () => {
    const r = spawnSync("bash", ["bench/probes/tap-write.sh", "2000", "1", "4"], { encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { batches: { batch: number; ioUringUsPerFrame: number; writeUsPerFrame: number }[] };
    expect(j.batches.map((b) => b.batch)).toEqual([1, 4]);
    for (const b of j.batches) expect([b.ioUringUsPerFrame, b.writeUsPerFrame].every((x) => x > 0)).toBe(true);
    expect(leftovers(`wr-tw-${r.pid}`)).toEqual([]);
  }, 70_000);

  it("tap-read: µs per frame to drain a tap through the addon's multishot read and through read(2), for each batch size", () => {
    const r = spawnSync("bash", ["bench/probes/tap-read.sh", "2000", "1", "16"], { encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { batches: { batch: number; multishotUsPerFrame: number; readUsPerFrame: number }[] };
    expect(j.batches.map((b) => b.batch)).toEqual([1, 16]);
    for (const b of j.batches) expect([b.multishotUsPerFrame, b.readUsPerFrame].every((x) => x > 0)).toBe(true);
    expect(leftovers(`wr-tr-${r.pid}`)).toEqual([]);
  }, 70_000);

  it("tap-mq: the kernel row and one- and two-queue forwarders, each thread's count, against the kernel", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "bench/probes/tap-mq.ts", "--runs", "1", "--flows", "1", "--queues", "1,2", "--json"], { encoding: "utf8", timeout: 110_000, killSignal: "SIGTERM" });
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { router: string; pps: number; ratio: number; perThread: number[][] }[];
    expect(rows.map((x) => x.router)).toEqual(["kernel", "tap-mq ×1", "tap-mq ×2"]);
    for (const x of rows) expect(x.pps, x.router).toBeGreaterThan(0);
    expect(rows[1]!.perThread[0]).toHaveLength(1);
    expect(rows[2]!.perThread[0]).toHaveLength(2);
    expect(leftovers("wr-bf-mq")).toEqual([]);
  }, 120_000);

  it("wake-pair: a wake-up's round trip on one CPU, across CPUs, and across CPUs kept from halting, per gap", () => {
    const r = spawnSync("bash", ["bench/probes/wake-pair.sh", "10", "1", "100", "1000"], { encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { echoes: number; rounds: number; gaps: ({ gapUs: number } & Record<string, { p10: number; median: number; p90: number }>)[] };
    expect([j.echoes, j.rounds]).toEqual([10, 1]);
    expect(j.gaps.map((g) => g.gapUs)).toEqual([100, 1000]);
    for (const g of j.gaps)
      for (const placement of ["same", "other", "spinning"]) {
        const q = g[placement]!;
        expect(q.p10, placement).toBeGreaterThan(0);
        expect(q.p10 <= q.median && q.median <= q.p90, `${placement}: ${JSON.stringify(q)}`).toBe(true);
      }
    const bad = spawnSync("bash", ["bench/probes/wake-pair.sh", "5", "1", "100"], { encoding: "utf8", timeout: 60_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split("\n")).toEqual(["wake-pair: ECHOES must be at least 10, ROUNDS at least 1, and ECHOES × ROUNDS at most 100000"]);
    expect(spawnSync("pgrep", ["-x", "wake-pair"]).status, "no spinner or partner left running").toBe(1);
  }, 70_000);

  it("bound-call: an empty ring read's cost per call through recvPacked and through a bound area, and the call floor", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "bench/probes/bound-call.ts", "--calls", "20000", "--rounds", "1"], { encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, number>;
    expect(Object.keys(j).sort()).toEqual(["calls", "packetRingNsPerCall", "recvAreaNsPerCall", "recvPackedNsPerCall", "rounds"]);
    for (const k of ["packetRingNsPerCall", "recvAreaNsPerCall", "recvPackedNsPerCall"]) expect(j[k], k).toBeGreaterThan(0);
    expect(leftovers(`wr-bf-bc-${r.pid}`)).toEqual([]);
  }, 70_000);
});
