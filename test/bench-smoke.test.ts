// The benchmark suites still run and report what their issues ask for (shape only: no timing is
// asserted here; speed targets live in the benchmarks, BENCHMARKS.md has the numbers).
import { describe, it, expect } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";

const bench = (suite: string, ...more: string[]) =>
  JSON.parse(execFileSync(process.execPath, ["--import", "tsx", "--expose-gc", "bench/main.ts", suite, "--json", "--quick", ...more], { encoding: "utf8", timeout: 120_000, stdio: ["ignore", "pipe", "ignore"] }));

describe("benchmarks (smoke)", () => {
  it("lookup: every figure the issue names", () => {
    const j = bench("lookup");
    for (const k of ["batchedLookupsPerSec", "perCallLookupsPerSec", "jsDir248LookupsPerSec", "tableBytes", "buildSeconds", "updatesColdPerSec", "updatesPerSec", "updatesAgainPerSec"]) {
      expect(j[k], k).toBeGreaterThan(0);
    }
    expect(j.table.prefixes).toBe(901899);
  }, 120_000);

  it("cache: hits, inserts, GC steps, bytes per entry, and the comparisons", () => {
    const j = bench("cache");
    for (const k of ["hitsPerSec", "hitsShuffledPerSec", "hitsResidentPerSec", "insertPerSec", "fibOnlyLookupsPerSec", "jsMapHitsPerSec"]) expect(j[k], k).toBeGreaterThan(0);
    // the hit's cost split by stage adds up to the whole fast path; the memory floor is measured beside it
    const split = j.hitCostSplitNsPerKey;
    expect(split.total).toBeGreaterThan(0);
    expect(split.hash + split.bucketAndHeadLoad + split.chainWalk + split.keyCompare + split.useAndAnswerStores).toBeCloseTo(split.total, 6);
    expect(j.memoryBound.oneRandomLoadNs).toBeGreaterThan(0);
    expect(j.memoryBound.bucketThenEntryNs).toBeGreaterThan(0);
    expect(j.bytesPerEntry).toBe(64);
    // the small cache: its flows alone in the table, every one of them cached, its hit split like the others
    expect(j.smallCache.hashed).toBe(j.smallCache.flows);
    expect(j.smallCache.hitsPerSec).toBeGreaterThan(0);
    expect(Object.values(j.smallCache.nsPerKey as Record<string, number>).every(Number.isFinite)).toBe(true);
    expect(j.gc.freed).toBeGreaterThan(0);
    expect(j.gcBudgeted.freed).toBeGreaterThan(0);
    // each budgeted step timed on the wall clock and in CPU time; the counts agree with the maxima
    expect(j.gcBudgeted.maxStepMs).toBeGreaterThan(0);
    expect(j.gcBudgeted.maxStepCpuMs).toBeGreaterThanOrEqual(0);
    expect(j.gcBudgeted.stepsOver1Ms > 0).toBe(j.gcBudgeted.maxStepMs > 1);
    expect(j.targets.maxGcStepMs.cpuMet).toBe(j.gcBudgeted.maxStepCpuMs <= 1);
    // a cache held full: every timed miss called the GC and overflowed, in both modes
    for (const mode of ["forward", "kernel"]) {
      const m = j.missWhenHeldFull[mode];
      expect(m.gcCalls, mode).toBe(j.missWhenHeldFull.misses);
      expect(m.overflows, mode).toBe(j.missWhenHeldFull.misses);
      expect(m.medianUs, mode).toBeGreaterThan(0);
    }
  }, 120_000);

  it("cache: a bad --held is refused at once, with one line", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "bench/main.ts", "cache", "--held", "12"], { encoding: "utf8", timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('bench cache: --held wants a number of entries from 1000 to 4000000, got "12"');
    expect(r.stdout).toBe("");
  });

  it("dataplane: frames per second through dp_input for each flow mix, every frame forwarded", () => {
    const j = bench("dataplane");
    expect(j.rows.map((r: { flows: number }) => r.flows)).toEqual([1, 1000]);
    for (const r of j.rows) {
      expect(r.mpps).toBeGreaterThan(0);
      expect(r.forwarded).toBe(r.frames);
    }
  }, 120_000);

  // A checkout has its history; a copy of the tree without .git cannot name a ref.
  const inGit = spawnSync("git", ["rev-parse", "--verify", "--quiet", "HEAD"], { stdio: "ignore" }).status === 0;
  it.skipIf(!inGit)("ab: the working tree's core against a git ref's, built on the spot, every probe on both (FIB updates too)", () => {
    const j = bench("ab", "--base", "HEAD", "--rounds", "2", "--stages", "--updates");
    expect(j.base).toMatch(/^HEAD \([0-9a-f]{7}\)$/);
    expect(j.cachedFlows).toBe(j.flows); // both builds cached every flow (the bench refuses to go on otherwise)
    expect(Object.keys(j.probes)).toEqual(["smallCache", "randomOrder", "insertionOrder", "resident", "lpmUniform", "lpmAnnounced", "randomStage1", "randomStage2", "randomStage3", "randomStage4", "updates"]);
    expect(j.updatesPerRound).toBe(2000); // --quick
    for (const [k, p] of Object.entries(j.probes as Record<string, { baseRounds: number[]; newRounds: number[]; ratio: number }>)) {
      expect(p.baseRounds.length, k).toBe(2);
      expect(p.newRounds.length, k).toBe(2);
      expect(p.ratio, k).toBeGreaterThan(0);
    }
    // --stages: each build's random-order hit split by pass, the passes adding up to the whole fast path
    for (const side of ["base", "new"] as const) {
      const sp = j.randomOrderSplitNsPerKey[side];
      expect(sp.total).toBe(j.probes.randomOrder[side === "base" ? "baseNs" : "newNs"]);
      expect(sp.hash + sp.bucketAndHeadLoad + sp.chainWalk + sp.keyCompare + sp.useAndAnswerStores).toBeCloseTo(sp.total, 6);
    }
  }, 120_000);

  it("ab: a base that is neither a commit nor a .wasm file is refused with one line", () => {
    for (const [base, msg] of [
      ["no-such-ref-wr", "bench ab: --base no-such-ref-wr: not a commit of this checkout, nor a .wasm file"],
      ["/nonexistent/core.wasm", "bench ab: --base /nonexistent/core.wasm: no such file"],
      ["--rounds", "bench ab: bad option --base --rounds (--base REF|FILE.wasm, --rounds 1–201, --quick, --stages, --updates)"], // a value left out
    ]) {
      const r = spawnSync(process.execPath, ["--import", "tsx", "bench/main.ts", "ab", "--base", base!], { encoding: "utf8", timeout: 30_000 });
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(msg);
    }
  });
});
