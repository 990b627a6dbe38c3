/**
 * What one thread per TAP queue would buy on this machine (issue #5's multi-queue lift), measured with
 * bench/probes/tap-mq.c in the forwarding bench's TAP topology: h1 → tap-mq → h2, trafgen pinned to CPU0
 * as in `npm run bench -- forward`, forwarded pps counted at h2's interface. Rows: the kernel router (one
 * default route), tap-mq with 1 queue, and with 2 queues and a thread on each (unpinned; `2p`: the first
 * thread on CPU1, the second on CPU0 beside trafgen), alternating, order reversed every other run; medians. The probe does no lookup, so it is the TAP system calls'
 * ceiling, not a router.
 *
 *   node --import tsx bench/probes/tap-mq.ts [--runs N] [--flows 1,1000,100000] [--queues 1,2,2p] [--json]   (root)
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAC, SINK_GATEWAY, Topology, cleanup, createNs, sh, spawnOwned } from "../forward/topology.ts";
import { measurePps, waitQuiet, writeTrafgenConfig, type PpsRun } from "../forward/traffic.ts";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
};
const runs = Number(opt("--runs", "3"));
const flowMixes = opt("--flows", "1,1000,100000").split(",").map(Number);
const queueSpecs = opt("--queues", "1,2,2p").split(",");
const queueCounts = queueSpecs.map((q) => Number(q.replace(/p$/, "")));
const json = args.includes("--json");
if (!Number.isInteger(runs) || runs < 1 || flowMixes.some((n) => !Number.isInteger(n) || n < 1) || queueCounts.some((q) => !Number.isInteger(q) || q < 1 || q > 8)) {
  process.stderr.write("tap-mq: --runs N ≥ 1, --flows N,…, --queues 1..8[p],…\n");
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  process.stderr.write("tap-mq: needs root (namespaces, taps, trafgen)\n");
  process.exit(2);
}
cleanup.install();

const dir = mkdtempSync(join(tmpdir(), "wr-bf-mq-"));
cleanup.dir(dir);
const bin = join(dir, "tap-mq");
sh("cc", ["-O2", "-Wall", "-pthread", "-o", bin, join(import.meta.dirname, "tap-mq.c")]);

/** h1 → tap-mq (q queues) → h2; the probe stands in the Topology's router slot, so its CPU is measured. */
async function buildProbe(q: number, pin: boolean): Promise<Topology> {
  const t = new Topology("tap", `mq${q}${pin ? "p" : ""}`);
  createNs(t.h1);
  createNs(t.h2);
  const probe: ChildProcess = spawnOwned(bin, [t.if1, t.if2, String(q), MAC.sink, MAC.r2, ...(pin ? ["pin"] : [])], { stdio: ["pipe", "pipe", "pipe"] });
  t.router = probe;
  probe.stdout!.on("data", (d) => (t.routerOut += d));
  probe.stderr!.on("data", (d) => (t.routerErr += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tap-mq: not ready: ${t.routerErr}`)), 10_000);
    probe.stdout!.on("data", () => /ready/.test(t.routerOut) && (clearTimeout(timer), resolve()));
    probe.once("exit", (c) => (clearTimeout(timer), reject(new Error(`tap-mq exited (${c}): ${t.routerErr}`))));
  });
  // Attach first, then move (testbed.md): the queues are open, the devices go to the hosts.
  sh("ip", ["link", "set", t.if1, "netns", t.h1, "address", MAC.h1]);
  sh("ip", ["link", "set", t.if2, "netns", t.h2, "address", MAC.h2]);
  t.configureHosts();
  probe.stdin!.write("go\n");
  return t;
}

/** Stops the probe (stdin closed) and returns what each thread forwarded. */
async function stopProbe(t: Topology): Promise<number[]> {
  const p = t.router!;
  const done = new Promise<void>((resolve) => (p.exitCode !== null ? resolve() : p.once("exit", () => resolve())));
  p.stdin!.end();
  await done;
  const m = /\{.*\}/.exec(t.routerOut);
  return m ? (JSON.parse(m[0]) as { forwarded: number[] }).forwarded : [];
}

type Row = { flows: number; router: string; runs: PpsRun[]; perThread: number[][] };
const rows: Row[] = [];
const routers = ["kernel", ...queueSpecs.map((q) => `tap-mq ×${q.replace(/p$/, ", pinned")}`)];
for (const flows of flowMixes) {
  const conf = join(dir, `flows-${flows}.cfg`);
  // Destinations 11.0.0.0 upwards, 97 apart: distinct flows, so the taps spread them over their queues.
  writeTrafgenConfig(conf, Uint32Array.from({ length: flows }, (_, i) => (0x0b000000 + i * 97) >>> 0));
  const byRouter = new Map(routers.map((r) => [r, { flows, router: r, runs: [] as PpsRun[], perThread: [] as number[][] }]));
  for (let run = 0; run < runs; run++) {
    const order = run % 2 === 0 ? routers : [...routers].reverse();
    for (const r of order) {
      await waitQuiet(10, 10_000);
      let t: Topology;
      if (r === "kernel") {
        t = new Topology("kernel", "mqk");
        await t.build({ lines: [`0.0.0.0/0 via ${SINK_GATEWAY}`] }, { readyTimeoutMs: 30_000 });
      } else t = await buildProbe(Number.parseInt(r.slice(r.indexOf("×") + 1)), r.endsWith("pinned"));
      try {
        const m = await measurePps(t, conf, 1, 3, false, 20_000);
        byRouter.get(r)!.runs.push(m);
        if (r !== "kernel") byRouter.get(r)!.perThread.push(await stopProbe(t));
        process.stderr.write(`flows ${flows}, ${r}: ${m.pps} pps (offered ${m.offered}, CPUs ${m.cpuBusy.join("/")} %${m.routerCpu !== undefined ? `, probe ${m.routerCpu} %` : ""})\n`);
      } finally {
        await t.destroy();
      }
    }
  }
  rows.push(...byRouter.values());
}
cleanup.run();

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const out = rows.map((r) => {
  const kernel = median(rows.find((k) => k.flows === r.flows && k.router === "kernel")!.runs.map((m) => m.pps));
  const pps = median(r.runs.map((m) => m.pps));
  return { flows: r.flows, router: r.router, pps, ratio: Math.round((pps / kernel) * 100) / 100, runs: r.runs.map((m) => m.pps), cpu: median(r.runs.map((m) => m.routerCpu ?? 0)), cpuBusy: r.runs.map((m) => m.cpuBusy), perThread: r.perThread };
});
if (json) process.stdout.write(JSON.stringify(out, null, 1) + "\n");
const table = ["| flows | router | pps | ÷ kernel | runs | probe CPU % | per-thread share |", "|---:|---|---:|---:|---|---:|---|"];
for (const r of out) {
  const share = r.perThread.map((t) => t.map((n) => Math.round((100 * n) / Math.max(1, t.reduce((a, b) => a + b, 0)))).join("/")).join(", ");
  table.push(`| ${r.flows.toLocaleString("en")} | ${r.router} | ${r.pps.toLocaleString("en")} | ${r.ratio} | ${r.runs.join(" / ")} | ${r.router === "kernel" ? "" : r.cpu} | ${share} |`);
}
(json ? process.stderr : process.stdout).write(table.join("\n") + "\n");
