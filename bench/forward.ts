/**
 * `npm run bench -- forward [options]` (root): forwarding against the kernel (issue #5).
 *
 * Builds h1 → R → h2 three times in wr-bf-* namespaces — R = the Linux kernel (ip_forward=1, veths),
 * R = `wasmroute run` over TAPs, R = `wasmroute run` over AF_PACKET — loads the same routes into each
 * (the real 901,899-prefix table via 10.201.2.3, a next hop on h2's segment that h2 overhears, plus the
 * connected routes), and drives them with the
 * same trafgen frames: 60-byte UDP frames to 1, 1,000 and 100,000 destinations spread over the table.
 * Forwarded pps = Δ rx_packets at h2's interface over a fixed window. Each configuration runs `--runs`
 * times, the routers alternating; medians and the ratio wasmroute/kernel are reported. Then ping RTT
 * (idle and under a paced load) and iperf3 TCP (veth offloads off, and the kernel with offloads on).
 *
 *   --table FILE|none   routes: a CIDR list (default bench/data/bgp-ipv4-2024-01.txt.gz), or `none`:
 *                       the connected routes and one covering default route
 *   --flows LIST        destination counts (default 1,1000,100000)
 *   --modes LIST        wasmroute modes: tap (offload TAPs: GSO), tap-nogso (TAPs with `offload off`),
 *                       packet (AF_PACKET, offload on: GSO), packet-nogso (`offload off`) (default tap,packet)
 *   --runs N            runs per configuration (default 3)
 *   --window S          seconds counted per run (default 3, after 1 s of warm-up)
 *   --no-tcp, --no-ping skip those parts; --no-pps skips the trafgen pps runs (TCP and ping only)
 *   --profile           one extra run per wasmroute configuration under `perf stat` (syscalls, task-clock)
 *   --busy-poll         run wasmroute with --busy-poll
 *   --router-args ARGS  more `wasmroute run` options for the wasmroute routers (e.g. "--poll-window 0")
 *   --router-cpu N      pin every thread of the wasmroute routers to CPU N (taskset; default: unpinned,
 *                       the issue's default placement; trafgen is always on CPU0)
 *   --router-node-args OPTS   node options for the wasmroute processes (e.g. "--trace-gc")
 *   --router-log FILE   append the routers' stdout/stderr to FILE at the end (with --router-node-args --trace-gc)
 *   --foreign-limit P   a run is repeated (up to --retries, default 2) when processes outside the benchmark
 *                       used ≥ P % of a core during its window (default 10); each run first waits up to
 *                       --quiet-wait S (default 30) for the machine to be quiet
 *   --quick             1 run, 1 s windows, flows 1 and 1000, 2 s of TCP, no profile
 *
 * Everything runs inside its own namespaces, bounded in time, and is removed afterwards, also on
 * failure and on SIGINT/SIGTERM.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { existsSync } from "node:fs";
import { readCidrListFile } from "../host/fib/cidr-list.ts";
import { formatIPv4 } from "../host/fib/ipv4.ts";
import { Topology, cleanup, SINK_GATEWAY, type RouterKind } from "./forward/topology.ts";
import { writeTrafgenConfig, measurePps, waitQuiet, ping, pingUnderLoad, iperf, type PpsRun, type PingResult } from "./forward/traffic.ts";

const DEFAULT_TABLE = join(import.meta.dirname, "data", "bgp-ipv4-2024-01.txt.gz");

interface Options {
  table: string;
  flows: number[];
  modes: ("tap" | "tap-nogso" | "packet" | "packet-nogso")[];
  runs: number;
  window: number;
  warm: number;
  tcp: boolean;
  tcpSeconds: number;
  ping: boolean;
  pps: boolean;
  profile: boolean;
  busyPoll: boolean;
  routerArgs: string[];
  routerCpu: number | undefined;
  nodeOptions: string | undefined;
  routerLog: string | undefined;
  foreignLimit: number;
  retries: number;
  quietWaitS: number;
  quick: boolean;
}

function parseArgs(args: string[]): Options {
  const quick = args.includes("--quick");
  const o: Options = {
    table: DEFAULT_TABLE,
    flows: quick ? [1, 1000] : [1, 1000, 100000],
    modes: ["tap", "packet"],
    runs: quick ? 1 : 3,
    window: quick ? 1 : 3,
    warm: 1,
    tcp: true,
    tcpSeconds: quick ? 2 : 5,
    ping: true,
    pps: true,
    profile: false,
    busyPoll: false,
    routerArgs: [],
    routerCpu: undefined,
    nodeOptions: undefined,
    routerLog: undefined,
    foreignLimit: 10,
    retries: quick ? 0 : 2,
    quietWaitS: quick ? 2 : 30,
    quick,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = (): string => {
      const x = args[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    const num = (x: string, min: number): number => {
      const n = Number(x);
      if (!Number.isFinite(n) || n < min) throw new Error(`${a}: bad value "${x}"`);
      return n;
    };
    if (a === "--quick") continue;
    else if (a === "--table") o.table = v();
    else if (a === "--flows") o.flows = v().split(",").map((x) => Math.floor(num(x, 1)));
    else if (a === "--modes") {
      o.modes = v().split(",") as Options["modes"];
      for (const m of o.modes) if (m !== "tap" && m !== "tap-nogso" && m !== "packet" && m !== "packet-nogso") throw new Error(`--modes: "${m}" is not tap, tap-nogso, packet or packet-nogso`);
    } else if (a === "--runs") o.runs = Math.floor(num(v(), 1));
    else if (a === "--window") o.window = num(v(), 0.2);
    else if (a === "--no-tcp") o.tcp = false;
    else if (a === "--no-ping") o.ping = false;
    else if (a === "--no-pps") o.pps = false;
    else if (a === "--profile") o.profile = true;
    else if (a === "--busy-poll") o.busyPoll = true;
    else if (a === "--router-args") o.routerArgs = v().split(/\s+/).filter(Boolean);
    else if (a === "--router-node-args") o.nodeOptions = v();
    else if (a === "--router-cpu") {
      const n = Number(v());
      if (!Number.isInteger(n) || n < 0 || n >= cpus().length) throw new Error(`--router-cpu: a CPU number from 0 to ${cpus().length - 1}`);
      o.routerCpu = n;
    }
    else if (a === "--router-log") o.routerLog = v();
    else if (a === "--foreign-limit") o.foreignLimit = num(v(), 0);
    else if (a === "--retries") o.retries = Math.floor(num(v(), 0));
    else if (a === "--quiet-wait") o.quietWaitS = num(v(), 0);
    else throw new Error(`unknown option "${a}"`);
  }
  return o;
}

const median = (xs: number[]): number => {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** xorshift32, for reproducible destinations. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

/** n destinations spread over the table: prefix i·total/n (evenly by index), a random host inside it. */
function pickDestinations(addrs: Uint32Array, lens: Uint8Array, n: number): Uint32Array {
  const next = rng(0x5eed + n);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const k = Math.min(addrs.length - 1, Math.floor(((i + 0.5) * addrs.length) / n));
    const size = 2 ** (32 - lens[k]!);
    const host = size >= 4 ? 1 + (next() % (size - 2)) : next() % size;
    out[i] = (addrs[k]! + host) >>> 0;
  }
  return out;
}

interface Row {
  router: "tap" | "tap-nogso" | "packet" | "packet-nogso";
  flows: number;
  /** Median forwarded pps of wasmroute. */
  pps: number;
  /** Median forwarded pps of the kernel, in the same alternating runs. */
  kernelPps: number;
  /** pps / kernelPps. */
  ratio: number;
  runs: number[];
  kernelRuns: number[];
  /** CPU of processes outside the benchmark during each run's window, % of one core. */
  foreign: number[];
  kernelForeign: number[];
  offered: number;
  kernelOffered: number;
  /** Router process CPU, % of one core (median). */
  routerCpu: number;
  /** Frames per second the router missed on its port towards h1 (median; ring or tap queue full). */
  routerMissed: number;
  routerUsPerPkt: number;
  /** Busy % per CPU (median of each), wasmroute and kernel. */
  cpuBusy: number[];
  kernelCpuBusy: number[];
  profile?: Record<string, number> & { framesPerWakeup?: number; syscallsPerFrame?: number; pps?: number };
}

function machine(): Record<string, unknown> {
  const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8", cwd: import.meta.dirname }).stdout?.trim();
  const dirty = spawnSync("git", ["status", "--porcelain"], { encoding: "utf8", cwd: import.meta.dirname }).stdout?.trim() !== "";
  return {
    cpu: cpus()[0]?.model,
    cpus: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: execFileSync("uname", ["-r"], { encoding: "utf8" }).trim(),
    node: process.version,
    trafgen: spawnSync("trafgen", ["--version"], { encoding: "utf8" }).stdout?.split("\n")[0]?.trim(),
    commit: commit ? `${commit}${dirty ? "+changes" : ""}` : undefined,
    date: new Date().toISOString(),
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

function need(o: Options): void {
  if (process.getuid?.() !== 0) throw new Error("the forward benchmark needs root (network namespaces, TAPs, AF_PACKET)");
  for (const [cmd, args, pkg] of [
    ...(o.profile ? ([["perf", ["--version"], "linux-perf"]] as const) : []),
    ["ip", ["-V"], "iproute2"],
    ["trafgen", ["--version"], "netsniff-ng"],
    ["iperf3", ["-v"], "iperf3"],
    ["ethtool", ["--version"], "ethtool"],
    ["ping", ["-V"], "iputils-ping"],
  ] as const) {
    if (spawnSync(cmd, [...args], { stdio: "ignore" }).error) throw new Error(`the forward benchmark needs ${cmd} (apt-get install ${pkg})`);
  }
}

const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "—");
const fx = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : "—");

export async function runForwardBench(args: string[]): Promise<{ json: unknown; table: string }> {
  const o = parseArgs(args);
  need(o);
  cleanup.install();
  const log = (s: string) => process.stderr.write(`bench forward: ${s}\n`);
  const t0 = Date.now();
  const mach = machine();
  const tag = Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, "0");

  // Routes and destinations. Destinations always come from the real table (spread over announced
  // space); with --table none the routers hold only the connected routes and a default route.
  const dstTable = existsSync(o.table) ? o.table : DEFAULT_TABLE;
  const list = readCidrListFile(o.table === "none" ? DEFAULT_TABLE : dstTable);
  const routeLines: string[] = [];
  if (o.table === "none") routeLines.push(`default via ${SINK_GATEWAY}`);
  else for (let i = 0; i < list.addrs.length; i++) routeLines.push(`${formatIPv4(list.addrs[i]!)}/${list.lens[i]} via ${SINK_GATEWAY}`);
  log(`${routeLines.length.toLocaleString("en-US")} routes (${o.table === "none" ? "connected + default" : o.table}); flows ${o.flows.join(", ")}; ${o.runs} run(s) of ${o.window} s`);

  const topos: Topology[] = [];
  const byKind = new Map<RouterKind, Topology>();
  try {
    for (const k of ["kernel", ...o.modes] as RouterKind[]) {
      const t = new Topology(k, tag);
      topos.push(t);
      byKind.set(k, t);
    }
    const confs = new Map<number, string>();
    for (const n of o.flows) {
      const p = join(topos[0]!.dir, `udp60-${n}.trafgen`);
      writeTrafgenConfig(p, pickDestinations(list.addrs, list.lens, n));
      confs.set(n, p);
    }
    const tb = Date.now();
    // The three routers load their tables at once (kernel: ip -batch; wasmroute: its config file).
    await Promise.all(topos.map((t) => t.build({ lines: routeLines, load: o.table === "none" ? undefined : `load ${resolve(dstTable)} via ${SINK_GATEWAY} dev p2` }, { readyTimeoutMs: 300_000, busyPoll: o.busyPoll, nodeOptions: o.nodeOptions, routerArgs: o.routerArgs, routerCpu: o.routerCpu })));
    log(`topologies built and tables loaded in ${((Date.now() - tb) / 1000).toFixed(1)} s`);
    for (const t of topos) {
      const p = ping(t, 3, 0.2);
      if (p.loss === 100) throw new Error(`no ping through ${t.label}`);
    }
    const compileMs = 60_000;
    /** A pps run on a quiet machine: waits for quiet, and repeats a run that a neighbour disturbed. */
    const gatedPps = async (t: Topology, n: number, profile = false): Promise<PpsRun> => {
      let run: PpsRun | undefined;
      for (let attempt = 0; attempt <= o.retries; attempt++) {
        const q = await waitQuiet(o.foreignLimit, o.quietWaitS * 1000);
        if (q >= o.foreignLimit) log(`machine still busy (${q}% of a core used by other processes) after ${o.quietWaitS} s; measuring anyway`);
        run = await measurePps(t, confs.get(n)!, o.warm, o.window, profile, compileMs);
        if (run.foreign < o.foreignLimit) break;
        log(`${t.label}, ${n} flows: ${run.foreign}% of a core used by other processes during the window${attempt < o.retries ? "; again" : "; kept, flagged"}`);
      }
      return run!;
    };

    // ── pps ──
    const res = new Map<string, PpsRun[]>();
    const key = (k: RouterKind, n: number) => `${k}/${n}`;
    for (const n of o.pps ? o.flows : []) {
      for (let r = 0; r < o.runs; r++) {
        const order = r % 2 === 0 ? topos : [...topos].reverse();
        for (const t of order) {
          const run = await gatedPps(t, n);
          (res.get(key(t.kind, n)) ?? res.set(key(t.kind, n), []).get(key(t.kind, n))!).push(run);
          log(`${n} flows, run ${r + 1}: ${t.label} ${fmt(run.pps)} pps (offered ${fmt(run.offered)}${run.routerMissed !== undefined ? `, router missed ${fmt(run.routerMissed)}` : ""}${run.routerCpu !== undefined ? `, router ${run.routerCpu}% CPU` : ""}, CPUs ${run.cpuBusy.join("/")}% busy, foreign ${run.foreign}%)`);
        }
      }
    }
    const rows: Row[] = [];
    for (const m of o.modes) {
      for (const n of o.pps ? o.flows : []) {
        const w = res.get(key(m, n))!;
        const k = res.get(key("kernel", n))!;
        const pps = median(w.map((x) => x.pps));
        const kernelPps = median(k.map((x) => x.pps));
        const nc = w[0]!.cpuBusy.length;
        rows.push({
          router: m,
          flows: n,
          pps,
          kernelPps,
          ratio: Math.round((pps / kernelPps) * 1000) / 1000,
          runs: w.map((x) => x.pps),
          kernelRuns: k.map((x) => x.pps),
          foreign: w.map((x) => x.foreign),
          kernelForeign: k.map((x) => x.foreign),
          offered: median(w.map((x) => x.offered)),
          kernelOffered: median(k.map((x) => x.offered)),
          routerCpu: median(w.map((x) => x.routerCpu ?? NaN)),
          routerMissed: median(w.map((x) => x.routerMissed ?? NaN)),
          routerUsPerPkt: median(w.map((x) => x.routerUsPerPkt ?? NaN)),
          cpuBusy: Array.from({ length: nc }, (_, i) => median(w.map((x) => x.cpuBusy[i]!))),
          kernelCpuBusy: Array.from({ length: nc }, (_, i) => median(k.map((x) => x.cpuBusy[i]!))),
        });
      }
    }
    if (o.profile) {
      for (const row of rows) {
        const t = byKind.get(row.router)!;
        const run = await gatedPps(t, row.flows, true);
        const p = run.perf ?? {};
        const frames = run.pps * o.window;
        const wakeups = (p.epoll_wait ?? 0) + (p.epoll_pwait ?? 0);
        const sys = (p.read ?? 0) + (p.write ?? 0) + (p.recvmmsg ?? 0) + (p.sendmmsg ?? 0) + wakeups;
        row.profile = { ...p, pps: run.pps, framesPerWakeup: wakeups ? Math.round((frames / wakeups) * 10) / 10 : NaN, syscallsPerFrame: frames ? Math.round((sys / frames) * 100) / 100 : NaN };
        log(`profile ${t.label}, ${row.flows} flows: ${JSON.stringify(row.profile)}`);
      }
    }

    // ── ping ──
    type Loaded = PingResult & { forwardedPps: number; offeredPps: number };
    const pingRows: { router: RouterKind; idle: PingResult; load: Loaded; loadGapUs: number }[] = [];
    const loadGapUs = 1;
    if (o.ping) {
      const idle = new Map<RouterKind, PingResult[]>();
      const load = new Map<RouterKind, Loaded[]>();
      const conf = confs.get(o.flows.includes(1000) ? 1000 : o.flows[0]!)!;
      for (let r = 0; r < o.runs; r++) {
        for (const t of r % 2 === 0 ? topos : [...topos].reverse()) {
          (idle.get(t.kind) ?? idle.set(t.kind, []).get(t.kind)!).push(ping(t, o.quick ? 50 : 100, 0.01));
          (load.get(t.kind) ?? load.set(t.kind, []).get(t.kind)!).push(await pingUnderLoad(t, conf, loadGapUs, o.quick ? 50 : 100, 0.01, compileMs));
        }
      }
      const med = <T extends PingResult>(xs: T[]) => ({ avgUs: median(xs.map((x) => x.avgUs)), medianUs: median(xs.map((x) => x.medianUs)), p90Us: median(xs.map((x) => x.p90Us)), p99Us: median(xs.map((x) => x.p99Us)), minUs: median(xs.map((x) => x.minUs)), maxUs: median(xs.map((x) => x.maxUs)), loss: median(xs.map((x) => x.loss)) });
      for (const t of topos) {
        const l = load.get(t.kind)!;
        pingRows.push({ router: t.kind, idle: med(idle.get(t.kind)!), load: { ...med(l), forwardedPps: median(l.map((x) => x.forwardedPps)), offeredPps: median(l.map((x) => x.offeredPps)) }, loadGapUs });
      }
    }

    // ── TCP ──
    const tcpRows: { router: RouterKind | "kernel-offloads"; gbps: number; runs: number[] }[] = [];
    if (o.tcp) {
      const runs = new Map<string, number[]>();
      const push = (k: string, v: number) => (runs.get(k) ?? runs.set(k, []).get(k)!).push(v);
      const kt = byKind.get("kernel")!;
      for (let r = 0; r < o.runs; r++) {
        for (const t of r % 2 === 0 ? topos : [...topos].reverse()) push(t.kind, await iperf(t, o.tcpSeconds));
        kt.setOffloads(true);
        try {
          push("kernel-offloads", await iperf(kt, o.tcpSeconds));
        } finally {
          kt.setOffloads(false);
        }
      }
      for (const [k, v] of runs) tcpRows.push({ router: k as RouterKind, gbps: median(v), runs: v });
    }

    // ── report ──
    const kernelTcp = tcpRows.find((x) => x.router === "kernel")?.gbps ?? NaN;
    const kernelPing = pingRows.find((x) => x.router === "kernel");
    const json = {
      machine: mach,
      options: { namespaces: `wr-bf-${tag}-*`, foreignLimit: o.foreignLimit, retries: o.retries, quietWaitSeconds: o.quietWaitS, table: o.table === "none" ? "none" : o.table, routes: routeLines.length, flows: o.flows, runs: o.runs, windowSeconds: o.window, warmupSeconds: o.warm, frameBytes: 60, busyPoll: o.busyPoll, routerArgs: o.routerArgs, routerNodeOptions: o.nodeOptions, generator: `trafgen -P 1 pinned to CPU0; wasmroute routers ${o.routerCpu === undefined ? "unpinned" : `pinned to CPU${o.routerCpu}`}` },
      rows,
      ping: pingRows.map((p) => {
        const ratio = (a: number, b: number | undefined) => (b ? Math.round((a / b) * 100) / 100 : NaN);
        return {
          ...p,
          idleRatio: ratio(p.idle.avgUs, kernelPing?.idle.avgUs),
          loadRatio: ratio(p.load.avgUs, kernelPing?.load.avgUs),
          idleMedianRatio: ratio(p.idle.medianUs, kernelPing?.idle.medianUs),
          loadMedianRatio: ratio(p.load.medianUs, kernelPing?.load.medianUs),
        };
      }),
      tcp: tcpRows.map((x) => ({ ...x, ratio: Math.round((x.gbps / kernelTcp) * 100) / 100 })),
      seconds: Math.round((Date.now() - t0) / 1000),
    };
    const lines: string[] = [];
    lines.push(`Forwarding against the kernel — ${routeLines.length.toLocaleString("en-US")} routes, 60-byte frames, median of ${o.runs} run(s), ${o.window} s windows`);
    lines.push(`${mach.cpus} × ${mach.cpu}, kernel ${mach.kernel}, Node ${mach.node}, ${mach.date}`);
    lines.push("");
    lines.push("| router | flows | wasmroute pps | kernel pps | ratio | runs (wasmroute) | runs (kernel) | offered pps | router missed/s | router CPU | µs/pkt | max foreign % |");
    lines.push("|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|");
    for (const r of rows) lines.push(`| ${r.router} | ${fmt(r.flows)} | ${fmt(r.pps)} | ${fmt(r.kernelPps)} | ${fx(r.ratio)} | ${r.runs.map(fmt).join(" / ")} | ${r.kernelRuns.map(fmt).join(" / ")} | ${fmt(r.offered)} | ${fmt(r.routerMissed)} | ${fx(r.routerCpu, 0)} % | ${fx(r.routerUsPerPkt)} | ${fx(Math.max(...r.foreign, ...r.kernelForeign), 0)} |`);
    if (rows.some((r) => r.profile)) {
      lines.push("");
      lines.push("| router | flows | pps under perf | task-clock ms | ctx switches | epoll waits | frames/wakeup | syscalls/frame |");
      lines.push("|---|---:|---:|---:|---:|---:|---:|---:|");
      for (const r of rows) if (r.profile) lines.push(`| ${r.router} | ${fmt(r.flows)} | ${fmt(r.profile.pps ?? NaN)} | ${fmt(r.profile["task-clock"] ?? NaN)} | ${fmt(r.profile["context-switches"] ?? NaN)} | ${fmt((r.profile.epoll_wait ?? 0) + (r.profile.epoll_pwait ?? 0))} | ${fx(r.profile.framesPerWakeup ?? NaN, 1)} | ${fx(r.profile.syscallsPerFrame ?? NaN)} |`);
    }
    if (pingRows.length) {
      lines.push("");
      lines.push(`| router | ping idle avg / median / p90 / p99 (min/max) µs | ratio avg / median | ping under a smooth load (trafgen -t ${pingRows[0]!.loadGapUs}us): avg / median / p90 / p99 (max) µs, loss | ratio avg / median |`);
      lines.push("|---|---|---:|---|---:|");
      for (const p of json.ping) lines.push(`| ${p.router} | ${fmt(p.idle.avgUs)} / ${fmt(p.idle.medianUs)} / ${fmt(p.idle.p90Us)} / ${fmt(p.idle.p99Us)} (${fmt(p.idle.minUs)}/${fmt(p.idle.maxUs)}) | ${fx(p.idleRatio)} / ${fx(p.idleMedianRatio)} | ${fmt(p.load.avgUs)} / ${fmt(p.load.medianUs)} / ${fmt(p.load.p90Us)} / ${fmt(p.load.p99Us)} (${fmt(p.load.maxUs)}), ${p.load.loss} % (offered ${fmt(p.load.offeredPps)}, forwarded ${fmt(p.load.forwardedPps)} pps) | ${fx(p.loadRatio)} / ${fx(p.loadMedianRatio)} |`);
    }
    if (tcpRows.length) {
      lines.push("");
      lines.push(`| router | TCP Gbit/s (iperf3, ${o.tcpSeconds} s) | runs | ratio to kernel (offloads off) |`);
      lines.push("|---|---:|---|---:|");
      for (const x of json.tcp) lines.push(`| ${x.router === "kernel-offloads" ? "kernel, veth offloads on" : x.router === "kernel" ? "kernel, veth offloads off" : x.router} | ${fx(x.gbps)} | ${x.runs.map((v) => fx(v)).join(" / ")} | ${fx(x.ratio)} |`);
    }
    return { json, table: lines.join("\n") };
  } finally {
    await Promise.all(topos.map((t) => t.destroy(o.routerLog).catch(() => undefined)));
    cleanup.run();
  }
}
