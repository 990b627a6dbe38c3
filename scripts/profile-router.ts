/**
 * Where a router's time goes (issue #5), on the forwarding bench's topology (bench/forward/topology.ts:
 * h1 → R → h2 in wr- namespaces, connected routes and 172.16.0.0/12 via the sink, no full table):
 *
 *   node --import tsx scripts/profile-router.ts pps  [--kind tap|packet] [--seconds S] [--symbols N]
 *   node --import tsx scripts/profile-router.ts ping [--count N]
 *   node --import tsx scripts/profile-router.ts intervals [--count N] [--poll-window USEC]
 *   node --import tsx scripts/profile-router.ts warm [--count N]
 *   node --import tsx scripts/profile-router.ts loaded [--kind tap|packet] [--count N]
 *   node --import tsx scripts/profile-router.ts idle-cpu [--count N] [--poll-window USEC]
 *   node --import tsx scripts/profile-router.ts sender [--kind tap|packet|kernel] [--seconds S] [--symbols N]
 *
 * pps:  trafgen at full rate, one flow, from h1 (CPU0); the wasmroute router pinned to CPU1 and started
 *       with --perf-basic-prof; after 8 s of warm-up, `perf record -g -p ROUTER` for S s (default 4).
 *       Prints the forwarded rate during the profile and the shares by DSO and the top symbols.
 * ping: the kernel router and wasmroute AF_PACKET, N echoes (default 200) 10 ms apart from h1 to h2 per
 *       router, alternating, three rounds: p10 / median / p90 per run; then `perf trace -e sendmmsg` on
 *       the wasmroute router during 100 more echoes: the duration of its sendmmsg calls.
 * intervals: echoes through the kernel and wasmroute AF_PACKET (and, with --poll-window, a second
 *       AF_PACKET router with that window) at intervals of 10, 2, 0.5 and 0.1 ms, N each (default 300),
 *       three rounds: how much of an echo's time is the machine waking from idle.
 * warm: echoes 0.1 ms apart (N, default 1000) through the kernel (ping on CPU0) and through wasmroute
 *       AF_PACKET with a 200 ms poll window (it never sleeps), placed three ways: router and ping on
 *       CPU0, router on CPU1 and ping on CPU0, both unpinned; three rounds: the warm floor.
 * loaded: wasmroute AF_PACKET, or TAP with --kind tap (connected routes, unpinned) under trafgen -t 1us (one
 *       flow) from h1 (CPU0), the load of the bench's loaded ping; N echoes (default 300) 10 ms apart under
 *       `perf record -a` of transmits, receives, wake-ups and context switches. Prints the router's part of each echo
 *       (request and reply, p50 / p99) and, for the echoes where it took over 300 µs, which tasks held the
 *       router's CPU meanwhile, and whether the router slept and how its wake-up went (scripts/lib/echo-trace.ts).
 * idle-cpu: wasmroute AF_PACKET and TAP (with --poll-window, started with that window), three rounds of:
 *       `perf stat -p ROUTER` over 3 s with no traffic, then over N echoes (default 300) 10 ms apart. Prints
 *       the router's CPU time and context switches with no traffic, and per echo beyond that baseline.
 * sender: what a router makes the sender's CPU do. The kernel forwards, a ring is filled and a TAP queues inside
 *       trafgen's own sendto, on CPU0. trafgen at full rate, one flow, from h1 (CPU0), the wasmroute router pinned
 *       to CPU1; after 5 s, `perf record -g -C 0` for S s (default 4), then `perf stat` of page allocations and
 *       frees per CPU for 2 s. Prints the offered and forwarded rates, the pages per forwarded frame, and CPU0's
 *       top symbols counting what they call (a TAP's transmit copies each frame out of trafgen's TX ring into a
 *       new page: skb_copy_ubufs).
 * Root, perf and trafgen (netsniff-ng) needed. Everything it builds is removed, also on failure.
 */
import { spawnSync } from "node:child_process";
import { Topology, cleanup, trySh } from "../bench/forward/topology.ts";
import { writeTrafgenConfig, startTrafgen, quantile } from "../bench/forward/traffic.ts";
import { parsePerfScript, echoesOf, heldBy, wakeOf, packetEchoSteps, tapEchoSteps } from "./lib/echo-trace.ts";

const SINK_ROUTE = { lines: ["172.16.0.0/12 via 10.201.2.3"] };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parseArgs(argv: string[]) {
  const o = { what: argv[0] ?? "", kind: "packet" as "tap" | "packet" | "kernel", seconds: 4, count: argv[0] === "intervals" || argv[0] === "loaded" || argv[0] === "idle-cpu" ? 300 : argv[0] === "warm" ? 1000 : 200, pollWindow: undefined as string | undefined, symbols: 25 };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[++i] ?? "";
    if (a === "--kind" && (v === "tap" || v === "packet" || (v === "kernel" && argv[0] === "sender"))) o.kind = v;
    else if (a === "--seconds" && /^\d+$/.test(v) && +v >= 1 && +v <= 60) o.seconds = +v;
    else if (a === "--count" && /^\d+$/.test(v) && +v >= 10 && +v <= 5000) o.count = +v;
    else if (a === "--poll-window" && /^\d+$/.test(v) && +v <= 1_000_000) o.pollWindow = v;
    else if (a === "--symbols" && /^\d+$/.test(v) && +v >= 1 && +v <= 1000) o.symbols = +v;
    else throw new Error(`bad option ${a} ${v} (--kind tap|packet, or kernel for sender, --seconds 1–60, --count 10–5000, --poll-window 0–1000000, --symbols 1–1000)`);
  }
  if (!["pps", "ping", "intervals", "warm", "loaded", "idle-cpu", "sender"].includes(o.what)) throw new Error("usage: profile-router.ts pps|ping|intervals|warm|loaded|idle-cpu|sender [options]");
  return o;
}

/** Echo round trips in µs: `count` pings from h1 to h2 through t, `intervalS` apart (ping on `cpu` if given). */
function echoes(t: Topology, count: number, intervalS: string, cpu?: number): number[] {
  const pin = cpu === undefined ? [] : ["taskset", "-c", String(cpu)];
  const r = trySh("ip", ["netns", "exec", t.h1, ...pin, "ping", "-c", String(count), "-i", intervalS, "-W", "1", "10.201.2.2"], (count * Number(intervalS) + 20) * 1000);
  return [...r.out.matchAll(/ time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

/** p10 / median / p90 of a list, rounded. */
function quantiles(xs: number[]): string {
  const s = sorted(xs);
  return `p10 ${quantile(s, 0.1)}  median ${quantile(s, 0.5)}  p90 ${quantile(s, 0.9)}  (n ${s.length})`;
}

/** trafgen from h1 (CPU0) with one flow, to the sink's /12, for `seconds` (with `pace`, e.g. -t 1us). */
function oneFlow(t: Topology, seconds: number, pace: string[] = []) {
  const conf = `${t.dir}/flow.trafgen`;
  writeTrafgenConfig(conf, new Uint32Array([0xac100001]));
  return startTrafgen(t, conf, seconds, pace);
}

/** `perf record -g` at 4,999 Hz of `target` (-p PID or -C CPU) for `seconds` into `data`; throws when it fails. */
function perfRecord(target: string[], data: string, seconds: number): void {
  const rec = spawnSync("perf", ["record", "-q", "-F", "4999", "-g", ...target, "-o", data, "--", "sleep", String(seconds)], { encoding: "utf8", timeout: (seconds + 30) * 1000 });
  if (rec.status !== 0) throw new Error(`perf record failed: ${rec.stderr.trim()}`);
}

const rxPackets = (t: Topology) => Number(spawnSync("ip", ["netns", "exec", t.h2, "cat", `/sys/class/net/${t.if2}/statistics/rx_packets`], { encoding: "utf8" }).stdout);

async function profilePps(kind: "tap" | "packet", seconds: number, symbols: number): Promise<void> {
  const t = new Topology(kind, "pr");
  try {
    await t.build(SINK_ROUTE, { readyTimeoutMs: 60_000, routerCpu: 1, nodeOptions: "--perf-basic-prof" });
    const gen = oneFlow(t, seconds + 15);
    await sleep(8000);
    const data = `${t.dir}/perf.data`;
    const rx0 = rxPackets(t);
    let pps = 0;
    try {
      perfRecord(["-p", String(t.pid)], data, seconds);
      pps = (rxPackets(t) - rx0) / seconds;
    } finally {
      gen.kill("SIGINT");
    }
    console.log(`${t.label}: ${Math.round(pps).toLocaleString("en-US")} frames/s forwarded during the profile`);
    for (const sort of ["dso", "sym"]) {
      const rep = spawnSync("perf", ["report", "-i", data, "--no-children", "--sort", sort, "--stdio"], { encoding: "utf8", maxBuffer: 1 << 26 });
      console.log(rep.stdout.split("\n").filter((l) => /^\s+\d+\.\d+%/.test(l)).slice(0, sort === "dso" ? 8 : symbols).join("\n"));
    }
  } finally {
    await t.destroy();
  }
}

const offered = (t: Topology) =>
  ["tx_packets", "tx_dropped"].reduce((n, c) => n + Number(spawnSync("ip", ["netns", "exec", t.h1, "cat", `/sys/class/net/${t.if1}/statistics/${c}`], { encoding: "utf8" }).stdout), 0);

async function profileSender(kind: "tap" | "packet" | "kernel", seconds: number, symbols: number): Promise<void> {
  const t = new Topology(kind, "ps");
  try {
    await t.build(SINK_ROUTE, { readyTimeoutMs: 60_000, routerCpu: kind === "kernel" ? undefined : 1 });
    const gen = oneFlow(t, seconds + 15);
    await sleep(5000);
    const data = `${t.dir}/perf.data`;
    const tx0 = offered(t);
    const rx0 = rxPackets(t);
    let tx = 0, rx1 = 0, statFrames = 0;
    let pages: { stderr: string };
    try {
      perfRecord(["-C", "0"], data, seconds);
      tx = (offered(t) - tx0) / seconds;
      rx1 = rxPackets(t);
      pages = spawnSync("perf", ["stat", "-x,", "-a", "--per-core", "-e", "kmem:mm_page_alloc,kmem:mm_page_free", "--", "sleep", "2"], { encoding: "utf8", timeout: 30_000 });
      statFrames = rxPackets(t) - rx1;
    } finally {
      gen.kill("SIGINT");
    }
    console.log(`${t.label}: trafgen offered ${Math.round(tx).toLocaleString("en-US")} frames/s, ${Math.round((rx1 - rx0) / seconds).toLocaleString("en-US")} forwarded`);
    // perf stat -x, --per-core: "S0-D0-C0,1,COUNT,,kmem:mm_page_alloc,…"
    for (const line of pages.stderr.split("\n")) {
      const f = line.split(",");
      if (f.length > 4 && /kmem:/.test(f[4]!)) console.log(`  ${f[0]} ${f[4]!.replace("kmem:", "")}: ${(Number(f[2]) / Math.max(1, statFrames)).toFixed(2)} per frame forwarded`);
    }
    const rep = spawnSync("perf", ["report", "-i", data, "--children", "--sort", "sym", "--stdio", "-g", "none"], { encoding: "utf8", maxBuffer: 1 << 26 });
    console.log("CPU0, % of samples: with what it calls, own");
    console.log(rep.stdout.split("\n").filter((l) => /^\s+\d+\.\d+%\s+\d+\.\d+%/.test(l)).slice(0, symbols).join("\n"));
  } finally {
    await t.destroy();
  }
}

async function profilePing(count: number): Promise<void> {
  const topos = [new Topology("kernel", "pr"), new Topology("packet", "pr")];
  try {
    await Promise.all(topos.map((t) => t.build(SINK_ROUTE, { readyTimeoutMs: 60_000 })));
    for (let round = 1; round <= 3; round++) {
      for (const t of topos) {
        console.log(`round ${round}, ${t.label.padEnd(19)} echo µs: ${quantiles(echoes(t, count, "0.01"))}`);
      }
    }
    const w = topos[1]!;
    const out = `${w.dir}/trace.txt`;
    const pinger = spawnSync("sh", ["-c", `ip netns exec ${w.h1} ping -c 100 -i 0.01 -W 1 10.201.2.2 >/dev/null & perf trace -p ${w.pid} -e sendmmsg -o ${out} -- sleep 1.5; wait`], { encoding: "utf8", timeout: 30_000 });
    if (pinger.status !== 0) throw new Error(`perf trace failed: ${pinger.stderr.trim()}`);
    const us = [...spawnSync("cat", [out], { encoding: "utf8" }).stdout.matchAll(/\(\s*([\d.]+) ms\): \S+ sendmmsg/g)].map((m) => Number(m[1]) * 1000);
    console.log(`${w.label}: one-frame sendmmsg µs: ${quantiles(us)}`);
  } finally {
    for (const t of topos) await t.destroy();
  }
}

/**
 * The same echoes at shorter and shorter intervals. An echo 10 ms after the last one finds the CPUs idle
 * and their caches cold; one 0.1 ms after finds them warm.
 */
async function pingIntervals(count: number, pollWindow: string | undefined): Promise<void> {
  const routers: [string, Topology, string[]][] = [
    ["kernel", new Topology("kernel", "pi"), []],
    ["AF_PACKET", new Topology("packet", "pi"), []],
  ];
  if (pollWindow !== undefined) routers.push([`AF_PACKET, --poll-window ${pollWindow}`, new Topology("packet", "pw"), ["--poll-window", pollWindow]]);
  try {
    await Promise.all(routers.map(([, t, args]) => t.build(SINK_ROUTE, { readyTimeoutMs: 60_000, routerArgs: args })));
    for (let round = 1; round <= 3; round++) {
      for (const iv of ["0.01", "0.002", "0.0005", "0.0001"]) {
        for (const [label, t] of routers) console.log(`round ${round}, every ${(Number(iv) * 1000).toString().padEnd(4)} ms, ${label.padEnd(30)} echo µs: ${quantiles(echoes(t, count, iv))}`);
      }
    }
  } finally {
    for (const [, t] of routers) await t.destroy();
  }
}

/** Warm echoes (0.1 ms apart, the router polling throughout) with the router and ping placed three ways. */
async function pingWarm(count: number): Promise<void> {
  const k = new Topology("kernel", "pk");
  const w = new Topology("packet", "pk");
  try {
    await k.build(SINK_ROUTE, { readyTimeoutMs: 60_000 });
    await w.build(SINK_ROUTE, { readyTimeoutMs: 60_000, routerArgs: ["--poll-window", "200000"] });
    const placements: [string, Topology, string | undefined, number | undefined][] = [
      ["kernel, ping on CPU0", k, undefined, 0],
      ["router and ping on CPU0", w, "0", 0],
      ["router CPU1, ping CPU0", w, "1", 0],
      ["both unpinned", w, "0,1", undefined],
    ];
    for (let round = 1; round <= 3; round++) {
      for (const [label, t, routerCpus, pingCpu] of placements) {
        if (routerCpus !== undefined) trySh("taskset", ["-a", "-p", "-c", routerCpus, String(t.pid)]);
        console.log(`round ${round}, ${label.padEnd(24)} warm echo µs: ${quantiles(echoes(t, count, "0.0001", pingCpu))}`);
      }
    }
  } finally {
    await k.destroy();
    await w.destroy();
  }
}

/** Loaded echoes through AF_PACKET or TAP, traced: the router's part of each, and who held its CPU in the slow ones. */
async function loadedEchoes(kind: "tap" | "packet", count: number): Promise<void> {
  const t = new Topology(kind, "pl");
  try {
    await t.build(SINK_ROUTE, { readyTimeoutMs: 60_000 });
    const routerTids = () => spawnSync("ls", [`/proc/${t.pid}/task`], { encoding: "utf8" }).stdout.split(/\s+/).filter(Boolean).map(Number);
    const tids = new Set(routerTids());
    const gen = oneFlow(t, count * 0.01 + 15, ["-t", "1us"]);
    await sleep(1500);
    const data = `${t.dir}/loaded.data`;
    const rec = spawnSync("perf", ["record", "-a", "-o", data, "-e", "net:net_dev_start_xmit", "-e", "net:netif_receive_skb", "-e", "sched:sched_switch", "-e", "sched:sched_waking", "-e", "sched:sched_wakeup", "--", "ip", "netns", "exec", t.h1, "ping", "-c", String(count), "-i", "0.01", "-W", "1", "10.201.2.2"], { encoding: "utf8", timeout: (count * 0.01 + 30) * 1000 });
    for (const tid of routerTids()) tids.add(tid);
    gen.kill("SIGINT");
    if (rec.status !== 0) throw new Error(`perf record failed: ${rec.stderr.trim()}`);
    const script = spawnSync("perf", ["script", "-i", data, "-F", "comm,tid,cpu,time,event,trace"], { encoding: "utf8", maxBuffer: 1 << 30 });
    // The accounting below follows every context switch: a trace that lost events would blame the wrong tasks.
    const lost = `${rec.stderr}\n${script.stderr}`.split("\n").filter((l) => /\blost\b/i.test(l));
    if (lost.length) console.log(`warning: perf lost events, so the shares below are not reliable: ${lost.join(" ").trim()}`);
    const { frames, wakes, switches } = parsePerfScript(script.stdout);
    const echoes = echoesOf(frames, t.isTap ? tapEchoSteps({ h1: t.if1, h2: t.if2 }) : packetEchoSteps({ h1: t.if1, toH2: t.r2!, h2: t.if2, toH1: t.r1! }));
    const line = (name: string, xs: number[]) => {
      const s = sorted(xs);
      console.log(`${name.padEnd(18)} p50 ${quantile(s, 0.5)} µs, p99 ${quantile(s, 0.99)} µs, max ${quantile(s, 1)} µs`);
    };
    console.log(`${t.label}, loaded by trafgen -t 1us: ${echoes.length} of ${count} echoes traced`);
    line("echo", echoes.map((e) => e.totalUs));
    line("router, request", echoes.map((e) => e.requestUs));
    line("router, reply", echoes.map((e) => e.replyUs));
    const label = (comm: string, pid: number) =>
      pid === t.pid ? "router, main thread" : tids.has(pid) ? "router, other threads" : pid === 0 ? "idle CPU" : comm.replace(/[-:/].*$/, "");
    const held = new Map<string, number>();
    const slowParts: string[] = [];
    let slow = 0;
    for (const e of echoes) {
      const windows: [string, number, number, number][] = [];
      if (e.requestUs > 300) windows.push(["request", e.requestCpu, e.t0, e.t0 + e.requestUs / 1e6]);
      if (e.replyUs > 300) windows.push(["reply", e.replyCpu, e.t2, e.t2 + e.replyUs / 1e6]);
      if (windows.length > 0) slow++;
      for (const [part, cpu, from, to] of windows) {
        for (const [who, us] of heldBy(switches, cpu, from, to, label)) held.set(who, (held.get(who) ?? 0) + us);
        const w = wakeOf(wakes, switches, t.pid!, from, to);
        const us = (x: number) => `${Math.round(x)} µs`;
        slowParts.push(
          `  ${part.padEnd(7)} ${us((to - from) * 1e6).padStart(9)} on CPU${cpu}: ` +
            (w ? `woken after ${us(w.wokenUs)} (from CPU${w.wakerCpu} onto CPU${w.targetCpu}), its CPU took the wake-up ${us(w.onCpuUs)} later, ran ${us(w.ranUs)} after that` : "the router's main thread was not asleep (running, or waiting for its CPU)"),
        );
      }
    }
    const total = [...held.values()].reduce((a, b) => a + b, 0);
    console.log(`${slow} echoes with a router part over 300 µs; the router's CPU meanwhile (${Math.round(total)} µs in all):`);
    for (const [who, us] of [...held].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`  ${who.padEnd(24)} ${Math.round(us)} µs (${((100 * us) / total).toFixed(0)} %)`);
    if (slowParts.length) console.log(`the router's main thread in each slow part:\n${slowParts.join("\n")}`);
  } finally {
    await t.destroy();
  }
}

/** The router's CPU time (ms) and context switches while `cmd` runs (perf stat -p), and cmd's output. */
function routerStat(t: Topology, cmd: string): { ms: number; switches: number; out: string } {
  const r = spawnSync("sh", ["-c", `perf stat -x, -e task-clock,context-switches -p ${t.pid} -- ${cmd}`], { encoding: "utf8", timeout: 120_000 });
  const v = (ev: string) => Number(r.stderr.split("\n").find((l) => l.split(",")[2] === ev)?.split(",")[0]);
  const ms = v("task-clock");
  if (!Number.isFinite(ms)) throw new Error(`perf stat failed: ${r.stderr.trim().split("\n").pop()}`);
  return { ms, switches: v("context-switches"), out: r.stdout };
}

async function idleCpu(count: number, pollWindow: string | undefined): Promise<void> {
  const routerArgs = pollWindow === undefined ? [] : ["--poll-window", pollWindow];
  const topos = [new Topology("packet", "ic"), new Topology("tap", "ic")];
  try {
    await Promise.all(topos.map((t) => t.build(SINK_ROUTE, { readyTimeoutMs: 60_000, routerArgs })));
    await sleep(3000); // past the start-up's compiles and collections, which would count as the baseline
    for (let round = 1; round <= 3; round++) {
      for (const t of topos) {
        const quiet = routerStat(t, "sleep 3");
        const t0 = performance.now();
        const p = routerStat(t, `ip netns exec ${t.h1} ping -c ${count} -i 0.01 -W 1 10.201.2.2`);
        const s = (performance.now() - t0) / 1000;
        const echoes = [...p.out.matchAll(/ time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
        // the no-traffic baseline, scaled to the echoes' duration, is taken off
        const cpuUs = ((p.ms - (quiet.ms * s) / 3) * 1000) / count;
        const sw = (p.switches - (quiet.switches * s) / 3) / count;
        console.log(
          `round ${round}, ${t.label.padEnd(19)} no traffic: ${(quiet.ms / 3).toFixed(1)} ms CPU/s, ${Math.round(quiet.switches / 3)} switches/s;` +
            ` per echo: ${Math.round(cpuUs)} µs CPU, ${sw.toFixed(2)} switches; echo median ${quantile([...echoes].sort((a, b) => a - b), 0.5)} µs`,
        );
      }
    }
  } finally {
    for (const t of topos) await t.destroy();
  }
}

const o = parseArgs(process.argv.slice(2));
cleanup.install();
try {
  if (o.what === "sender") await profileSender(o.kind, o.seconds, o.symbols);
  else if (o.kind === "kernel") throw new Error("--kind kernel is for sender only");
  else if (o.what === "pps") await profilePps(o.kind, o.seconds, o.symbols);
  else if (o.what === "ping") await profilePing(o.count);
  else if (o.what === "warm") await pingWarm(o.count);
  else if (o.what === "loaded") await loadedEchoes(o.kind, o.count);
  else if (o.what === "idle-cpu") await idleCpu(o.count, o.pollWindow);
  else await pingIntervals(o.count, o.pollWindow);
} finally {
  cleanup.run();
}
