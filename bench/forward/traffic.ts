/**
 * Traffic and measurements for the forwarding benchmark: trafgen frame files (60-byte UDP frames to a
 * list of destinations), the pps window at h2's interface counters, router and per-CPU CPU time,
 * ping RTT, iperf3 TCP, and a perf stat profile of the router process.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { MAC, killOwned, sh, spawnOwned, trySh, type Topology } from "./topology.ts";
import { sendControlCommand } from "../../host/cli/control-client.ts";
import { checksum, put16 } from "../../host/sim/frames.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const macBytes = (m: string) => m.split(":").map((h) => `0x${h}`);

/** Writes a trafgen config: one 60-byte frame h1 → dst (UDP 12345 → 9, TTL 64, valid IP checksum) per destination. */
export function writeTrafgenConfig(path: string, dsts: Uint32Array): void {
  const head = [...macBytes(MAC.r1), ...macBytes(MAC.h1), "0x08", "0x00"].join(",");
  const parts: string[] = [];
  for (const d of dsts) {
    const ip = Uint8Array.from([0x45, 0x00, 0x00, 46, 0x00, 0x00, 0x00, 0x00, 64, 17, 0, 0, 10, 201, 1, 2, d >>> 24, (d >>> 16) & 255, (d >>> 8) & 255, d & 255]);
    put16(ip, 10, checksum(ip, 0, 20));
    // UDP: ports 12345 → 9, length 26, checksum 0 (none, allowed for IPv4), 18 bytes of payload.
    parts.push(`{${head},${ip.join(",")},0x30,0x39,0,9,0,26,0,0,fill(0,18)}`);
  }
  writeFileSync(path, parts.join("\n") + "\n");
}

/** One interface counter read inside a namespace. */
function counter(ns: string, dev: string, name: string): number {
  return Number(sh("ip", ["netns", "exec", ns, "cat", `/sys/class/net/${dev}/statistics/${name}`]).trim());
}

/** utime + stime of a process (all threads), in seconds. */
function procCpuSeconds(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ
}

/** Per-CPU busy jiffies (everything but idle and iowait) and totals. */
function cpuTimes(): { busy: number; total: number }[] {
  const out: { busy: number; total: number }[] = [];
  for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2]!.split(/\s+/).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    out[Number(m[1])] = { busy: total - v[3]! - v[4]!, total };
  }
  return out;
}

/**
 * CPU seconds used so far by every user process that is not this benchmark or one of its descendants
 * (the routers, trafgen, ping, iperf3, perf): the machine is shared, and a neighbour's load must be seen.
 * Kernel threads are left out (ksoftirqd runs our own traffic).
 */
export function foreignCpu(): Map<number, number> {
  const info = new Map<number, { ppid: number; cpu: number; kthread: boolean }>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    let s: string;
    try {
      s = readFileSync(`/proc/${d}/stat`, "utf8");
    } catch {
      continue;
    }
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    info.set(Number(d), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / 100, kthread: (Number(f[6]) & 0x00200000) !== 0 });
  }
  const ours = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === process.pid) return true;
      p = info.get(p)?.ppid ?? 0;
    }
    return false;
  };
  const out = new Map<number, number>();
  for (const [pid, x] of info) if (!x.kthread && pid !== 2 && x.ppid !== 2 && !ours(pid)) out.set(pid, x.cpu);
  return out;
}

/** Foreign CPU between two foreignCpu() samples, in % of one core over `seconds`. */
export function foreignPercent(a: Map<number, number>, b: Map<number, number>, seconds: number): number {
  let d = 0;
  for (const [pid, cpu] of b) d += cpu - (a.get(pid) ?? 0);
  return Math.round((1000 * d) / seconds) / 10;
}

/** Waits (at most maxMs) until other processes use less than `limit` % of a core over 1 s; returns the last sample. */
export async function waitQuiet(limit: number, maxMs: number): Promise<number> {
  const t0 = Date.now();
  let pct = Infinity;
  while (Date.now() - t0 < maxMs) {
    const a = foreignCpu();
    await sleep(1000);
    pct = foreignPercent(a, foreignCpu(), 1);
    if (pct < limit) break;
  }
  return pct;
}

export interface PpsRun {
  /** CPU used by processes outside the benchmark during the window, % of one core. */
  foreign: number;
  /** Forwarded: Δ rx_packets at h2's interface per second. */
  pps: number;
  /** Offered: Δ (tx_packets + tx_dropped) at h1's interface per second. */
  offered: number;
  /** Router process CPU (wasmroute), % of one core. */
  routerCpu?: number;
  /** Frames per second the router's port towards h1 missed (wasmroute: `ip -s link`'s RX missed, a full ring or tap queue). */
  routerMissed?: number;
  /** Router process CPU per forwarded packet, µs. */
  routerUsPerPkt?: number;
  /** Busy % of each CPU over the window. */
  cpuBusy: number[];
  /** perf stat counters over the window, when profiling. */
  perf?: Record<string, number>;
}

/** Starts trafgen in h1 pinned to CPU0, bounded to `seconds`; `pace` adds trafgen's pacing options (e.g. -t 1us). */
export function startTrafgen(t: Topology, conf: string, seconds: number, pace: string[] = []): ChildProcess {
  const args = ["netns", "exec", t.h1, "timeout", "-s", "INT", "-k", "3", String(Math.ceil(seconds)), "taskset", "-c", "0", "trafgen", "--no-sock-mem", "-Q", "-P", "1", "--dev", t.if1, "--conf", conf, ...pace];
  const c = spawnOwned("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  c.stderr!.on("data", (d) => (err = (err + d).slice(-2000)));
  (c as ChildProcess & { errText: () => string }).errText = () => err;
  return c;
}

async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const k = setTimeout(() => killOwned(c, "SIGKILL"), 4000);
    c.once("exit", () => {
      clearTimeout(k);
      resolve();
    });
    killOwned(c, "SIGINT"); // trafgen itself, not only the `timeout` above it
  });
}

/** Waits until h1's interface starts transmitting (trafgen compiled its frames and runs). */
async function waitForTraffic(t: Topology, c: ChildProcess, timeoutMs: number): Promise<void> {
  const start = counter(t.h1, t.if1, "tx_packets") + counter(t.h1, t.if1, "tx_dropped");
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (c.exitCode !== null) throw new Error(`trafgen exited early (${c.exitCode}): ${(c as ChildProcess & { errText: () => string }).errText?.().trim()}`);
    if (counter(t.h1, t.if1, "tx_packets") + counter(t.h1, t.if1, "tx_dropped") > start + 1000) return;
    await sleep(50);
  }
  throw new Error(`trafgen sent nothing in ${timeoutMs / 1000} s`);
}

const PERF_EVENTS = [
  "task-clock",
  "context-switches",
  "syscalls:sys_enter_epoll_wait",
  "syscalls:sys_enter_epoll_pwait",
  "syscalls:sys_enter_read",
  "syscalls:sys_enter_write",
  "syscalls:sys_enter_recvmmsg",
  "syscalls:sys_enter_sendmmsg",
];

/** RX missed of a wasmroute router's port p1 (towards h1), from `ip -j -s -s link` on its control socket; undefined for the kernel or a probe. */
async function routerMissed(t: Topology): Promise<number | undefined> {
  if (!t.controlled) return undefined;
  let out = "";
  let err = "";
  // iproute2's JSON names missed_errors only at -s -s
  const status = await sendControlCommand(t.controlPath, ["ip", "-j", "-s", "-s", "link", "show", "dev", "p1"], { stdout: (b) => (out += b.toString("latin1")), stderr: (b) => (err += b.toString("latin1")) });
  if (status !== 0) throw new Error(`${t.label}: ip -j -s -s link: ${err.trim()}`);
  const [p1] = JSON.parse(out) as { stats64: { rx: { missed_errors: number } } }[];
  return p1!.stats64.rx.missed_errors;
}

/** One pps measurement: full-rate trafgen, `warm` s of warm-up, then Δ counters over `window` s. */
export async function measurePps(t: Topology, conf: string, warmS: number, windowS: number, profile: boolean, compileTimeoutMs: number): Promise<PpsRun> {
  const gen = startTrafgen(t, conf, compileTimeoutMs / 1000 + warmS + windowS + 2);
  try {
    await waitForTraffic(t, gen, compileTimeoutMs);
    await sleep(warmS * 1000);
    const read = () => ({
      at: performance.now(),
      rx: counter(t.h2, t.if2, "rx_packets"),
      tx: counter(t.h1, t.if1, "tx_packets") + counter(t.h1, t.if1, "tx_dropped"),
      cpu: t.pid ? procCpuSeconds(t.pid) : 0,
      cpus: cpuTimes(),
      foreign: foreignCpu(),
    });
    let perf: ChildProcess | undefined;
    let perfOut = "";
    if (profile && t.pid) {
      perf = spawnOwned("perf", ["stat", "-x", ",", "-e", PERF_EVENTS.join(","), "-p", String(t.pid), "--", "sleep", String(windowS)], { stdio: ["ignore", "ignore", "pipe"] });
      perf.stderr!.on("data", (d) => (perfOut += d));
    }
    const missed0 = await routerMissed(t);
    const a = read();
    await sleep(windowS * 1000);
    const b = read();
    const missed1 = await routerMissed(t);
    if (gen.exitCode !== null) throw new Error(`trafgen stopped during the window (${gen.exitCode}): ${(gen as ChildProcess & { errText: () => string }).errText?.().trim()}`);
    if (!t.alive()) throw new Error(`${t.label} died during the window: ${t.routerErr.trim()}`);
    const s = (b.at - a.at) / 1000;
    const pps = (b.rx - a.rx) / s;
    const run: PpsRun = {
      pps: Math.round(pps),
      offered: Math.round((b.tx - a.tx) / s),
      foreign: foreignPercent(a.foreign, b.foreign, s),
      cpuBusy: b.cpus.map((c, i) => Math.round((1000 * (c.busy - a.cpus[i]!.busy)) / Math.max(1, c.total - a.cpus[i]!.total)) / 10),
    };
    if (missed0 !== undefined && missed1 !== undefined) run.routerMissed = Math.round((missed1 - missed0) / s);
    if (t.pid) {
      run.routerCpu = Math.round((1000 * (b.cpu - a.cpu)) / s) / 10;
      run.routerUsPerPkt = pps > 0 ? Math.round(((b.cpu - a.cpu) / (b.rx - a.rx)) * 1e8) / 100 : undefined;
    }
    if (perf) {
      await new Promise<void>((resolve) => (perf!.exitCode !== null ? resolve() : perf!.once("exit", () => resolve())));
      const p: Record<string, number> = {};
      for (const line of perfOut.split("\n")) {
        const f = line.split(",");
        if (f.length < 3 || f[0] === "" || Number.isNaN(Number(f[0]))) continue;
        p[f[2]!.replace(/^syscalls:sys_enter_/, "")] = Number(f[0]);
      }
      run.perf = p;
    }
    return run;
  } finally {
    await stopChild(gen);
  }
}

export interface PingResult {
  avgUs: number;
  /** The median echo: the typical RTT, which a few long echoes do not move. */
  medianUs: number;
  /** The 90th and 99th percentile echoes: how long the slow ones take (with 100 echoes, p99 is the second longest). */
  p90Us: number;
  p99Us: number;
  minUs: number;
  maxUs: number;
  loss: number;
}

/** The q-quantile of sorted values (the value at rank ⌊q·(n−1)⌋), rounded; NaN for none. */
export function quantile(sorted: number[], q: number): number {
  return sorted.length ? Math.round(sorted[Math.floor(q * (sorted.length - 1))]!) : NaN;
}

/** ping from h1 to h2: `count` echoes `intervalS` apart. */
export function ping(t: Topology, count: number, intervalS: number): PingResult {
  const r = trySh("ip", ["netns", "exec", t.h1, "ping", "-c", String(count), "-i", String(intervalS), "-W", "1", "10.201.2.2"], (count * intervalS + 10) * 1000);
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\//.exec(r.out);
  const loss = /([\d.]+)% packet loss/.exec(r.out);
  if (!loss) throw new Error(`ping failed through ${t.label}: ${(r.out + r.err).trim()}`);
  const echoes = [...r.out.matchAll(/ time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000).sort((a, b) => a - b);
  return {
    minUs: rtt ? Math.round(Number(rtt[1]) * 1000) : NaN,
    avgUs: rtt ? Math.round(Number(rtt[2]) * 1000) : NaN,
    medianUs: echoes.length ? Math.round(echoes[echoes.length >> 1]!) : NaN,
    p90Us: quantile(echoes, 0.9),
    p99Us: quantile(echoes, 0.99),
    maxUs: rtt ? Math.round(Number(rtt[3]) * 1000) : NaN,
    loss: Number(loss[1]),
  };
}

/**
 * ping while trafgen sends the given frames one every `gapUs` µs (its slow path: one sendto and one
 * sleep per frame, a smooth load). Not `-b RATE`: through a TAP that pacing comes in bursts of about
 * 80 ms at 300 kpps and 100 ms of silence (BENCHMARKS.md, "Latency"), which tests the burst, not the RTT.
 */
export async function pingUnderLoad(t: Topology, conf: string, gapUs: number, count: number, intervalS: number, compileTimeoutMs: number): Promise<PingResult & { forwardedPps: number; offeredPps: number }> {
  const gen = startTrafgen(t, conf, compileTimeoutMs / 1000 + count * intervalS + 4, ["-t", `${gapUs}us`]);
  try {
    await waitForTraffic(t, gen, compileTimeoutMs);
    await sleep(500);
    const offered = () => counter(t.h1, t.if1, "tx_packets") + counter(t.h1, t.if1, "tx_dropped");
    const rx0 = counter(t.h2, t.if2, "rx_packets");
    const tx0 = offered();
    const t0 = performance.now();
    const p = ping(t, count, intervalS);
    const s = (performance.now() - t0) / 1000;
    return { ...p, forwardedPps: Math.round((counter(t.h2, t.if2, "rx_packets") - rx0) / s), offeredPps: Math.round((offered() - tx0) / s) };
  } finally {
    await stopChild(gen);
  }
}

let iperfPort = 5301;

/** iperf3 TCP h1 → h2 for `seconds` (after a 1 s omitted ramp); Gbit/s received. */
export async function iperf(t: Topology, seconds: number): Promise<number> {
  const port = String(iperfPort++);
  const server = spawnOwned("ip", ["netns", "exec", t.h2, "timeout", String(seconds + 15), "iperf3", "-s", "-1", "-B", "10.201.2.2", "-p", port], { stdio: "ignore" });
  try {
    await sleep(400);
    const r = trySh("ip", ["netns", "exec", t.h1, "timeout", String(seconds + 10), "iperf3", "-c", "10.201.2.2", "-p", port, "-t", String(seconds), "-O", "1", "-J"], (seconds + 12) * 1000);
    let j: { end?: { sum_received?: { bits_per_second: number } }; error?: string };
    try {
      j = JSON.parse(r.out);
    } catch {
      throw new Error(`iperf3 through ${t.label}: ${(r.out + r.err).trim().slice(0, 300)}`);
    }
    if (!j.end?.sum_received) throw new Error(`iperf3 through ${t.label}: ${j.error ?? "no result"}`);
    return Math.round(j.end.sum_received.bits_per_second / 1e7) / 100;
  } finally {
    killOwned(server, "SIGKILL");
  }
}
