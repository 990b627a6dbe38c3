/**
 * The random-source flood scenario (issue #7), shared by test/flood.test.ts and scripts/flood.ts.
 *
 *   h1 (attacker) ── p1 ┐
 *   h3 (legit)    ── p3 ┼ wasmroute run (TAPs)  ── p2 ── h2 (10.201.2.2; 172.16.0.0/12 behind it)
 *
 * h1 sends 60-byte UDP frames to 172.16.0.1 at trafgen's full speed, each with a source address drawn at
 * random by trafgen (`drnd(4)`, checksum recomputed per frame by `csumip`), so nearly every frame is a
 * route-cache miss that allocates a new entry. h3 meanwhile sends a fixed-rate UDP flow of a known
 * count to 10.201.2.2:9, where a socket takes it. The router is started with a small --rhash-entries
 * so that max_size (16 × buckets) is reached within seconds, and with --overflow forward|kernel.
 *
 * What is measured, all through what a user has:
 * - legit delivered: Δ(Udp InDatagrams + InErrors + NoPorts) in h2's own /proc/net/snmp (only the
 *   legit flow sends UDP to h2's address; the flood's destination is not local to h2, which does not
 *   forward, so it never reaches h2's UDP layer) against what h3 sent: Δ(tx_packets + tx_dropped) of
 *   its interface (trafgen paced by a fixed gap and stopped by time; -n only bounds it);
 * - the legit flow's cache hit rate, two ways:
 *   - hits = Δ in_hit / legit packets sent, over the legit flow's whole run and over the flood alone
 *     (counters read when the flood starts and when it ends). Nothing else can hit: every flood
 *     frame carries a fresh random source (a repeat of a source whose entry is still alive, among the
 *     few thousand alive out of 2^32, is expected about accepted flood frames × max_size / 2^32 times:
 *     one or two in the CI test's 8 s, a dozen or two in 30 s), h2 answers
 *     nothing (the sink takes the datagrams, IPv6 is off, neighbours are static), and the pings come
 *     after the window. The callers check hits ≤ packets sent + 4 × the expected repeats + 4
 *     (repeatsAllowed): more means something else hit the cache;
 *   - a lower bound that needs no such argument: the legit entry's own `used` in
 *     `ip -s route show cache 10.201.2.2/32`, asked through the control socket every sampleMs. `used`
 *     counts fast-path hits (the miss that creates the entry leaves it at 0, assembly/cache/input.ts);
 *     when the entry is evicted and re-made, `used` starts again, so the last value seen of each
 *     lifetime is added up, losing the hits after an evicted entry's last sample. The lifetimes seen
 *     count the evictions (each costs the flow one miss), also a lower bound;
 * - allocated entries: the `entries` column of `cat /proc/net/stat/rt_cache` (allocated, §7.4) through
 *   the control socket every sampleMs, against max_size read back with `sysctl`;
 * - flood offered: Δ(tx_packets + tx_dropped) of h1's interface, accepted: Δ tx_packets (what entered
 *   the TAP queue the router reads), forwarded: Δ rx_packets at h2 minus the legit frames;
 * - the router's rt_cache counters (in_slow_tot, gc_*, gc_dst_overflow), WrDrop NoBufs, the uncached
 *   decisions and "dst cache overflow" lines from its log;
 * - afterwards: ping through the router (h3 → h2) and to it (h1 → 10.201.1.1): not wedged.
 *
 * Everything is bounded (trafgen by `timeout` and `-n`), named wr-fl-*, and removed in finally.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createNetns, deleteNetns, ip } from "../../test/lib/netns.ts";
import { sendControlCommand } from "../../host/cli/control-client.ts";
import { parseRtCacheStat, RT_CACHE_FIELDS } from "../../host/cache/stat.ts";
import { cleanup } from "../../bench/forward/topology.ts";
import { foreignCpu, foreignPercent } from "../../bench/forward/traffic.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type OverflowMode = "forward" | "kernel";

export interface FloodOptions {
  overflow: OverflowMode;
  /** `--overflow-backoff MS` for a forward-mode router (undefined: not given, the default 0). */
  overflowBackoffMs?: number;
  /** Route cache buckets (--rhash-entries): gc_thresh = this, max_size = 16 × this unless maxSize. */
  rhashEntries: number;
  /** net.ipv4.route.max_size, when not the default. */
  maxSize?: number;
  /** How long the flood runs (s). */
  floodSeconds: number;
  /** Most flood frames trafgen may send. */
  floodMax: number;
  /** Rate of the legit flow (packets/s). */
  legitPps: number;
  /** The legit flow starts this long before the flood and ends this long after it (s). */
  legitMarginS: number;
  /** How often allocated entries and the legit entry are sampled (ms). */
  sampleMs: number;
  log?: (line: string) => void;
}

export interface FloodResult {
  overflow: OverflowMode;
  overflowBackoffMs: number;
  buckets: number;
  gcThresh: number;
  maxSize: number;
  floodSeconds: number;
  /** CPU used by processes that are not this run's during the flood, % of one core (the machine is shared). */
  foreignCpuPct: number;
  flood: { offered: number; accepted: number; forwarded: number; offeredPps: number; acceptedPps: number; forwardedPps: number };
  legit: {
    sent: number; delivered: number; deliveredPct: number; pps: number;
    /** Over the legit flow's whole run (it starts before the flood and ends after it). */
    hits: number; hitRatePct: number;
    /** flood frames whose random source may repeat a live entry's (the slack of the hits ≤ sent check) */
    repeatsAllowed: number;
    /** Only while the flood ran: Δ in_hit / Δ frames h3 sent, between the flood's start and end. */
    duringFlood: { sent: number; hits: number; hitRatePct: number };
    hitsLowerBound: number; hitRateLowerBoundPct: number; lifetimes: number;
  };
  allocated: { max: number; samples: number; atMaxSize: number };
  counters: { in_hit: number; in_slow_tot: number; gc_total: number; gc_ignored: number; gc_goal_miss: number; gc_dst_overflow: number; in_martian_src: number };
  /** gc_dst_overflow since the router started, read after the pings (the alarm totals' span). */
  gcDstOverflowSinceStart: number;
  /** WrDrop NoBufs over the legit flow's run: frames dropped because no entry could be allocated. */
  dropsNoBufs: number;
  /** Decisions forwarded without caching (forward mode at max_size): the router's cache_full alarm events. */
  uncached: number;
  /** Frames dropped at max_size (kernel mode): the router's dst_cache_overflow alarm events. */
  overflowDrops: number;
  overflowLogLines: number;
  after: { pingThrough: string; pingRouter: string };
  routerAlive: boolean;
  routerLog: string;
}

const MAC = (host: number, side: "r" | "h") => `02:${side === "r" ? "77" : "66"}:00:00:0${host}:0${side === "r" ? 1 : 2}`;

/** A trafgen frame h(from) → router: 60-byte UDP to dst:9; src "rnd" draws the source per frame. */
function trafgenFrame(from: number, src: string | "rnd", dst: string, sport: number): string {
  const mac = (m: string) => m.split(":").map((h) => `0x${h}`).join(",");
  const addr = (a: string) => a.split(".").join(",");
  const ipHeader = `0x45,0,0,46,0,0,0,0,64,17,csumip(14,33),${src === "rnd" ? "drnd(4)" : addr(src)},${addr(dst)}`;
  // UDP sport → 9, length 26, checksum 0 (none, allowed for IPv4), 18 bytes of payload.
  return `{${mac(MAC(from, "r"))},${mac(MAC(from, "h"))},0x08,0x00,${ipHeader},${sport >> 8},${sport & 255},0,9,0,26,0,0,fill(0,18)}\n`;
}

function nsCat(ns: string, path: string): string {
  const r = spawnSync("ip", ["netns", "exec", ns, "cat", path], { encoding: "utf8", timeout: 10_000 });
  if (r.status !== 0) throw new Error(`cat ${path} in ${ns}: ${r.stderr}`);
  return r.stdout;
}

function ifCounter(ns: string, dev: string, name: string): number {
  return Number(nsCat(ns, `/sys/class/net/${dev}/statistics/${name}`).trim());
}

/** A field of a /proc/net/snmp or netstat-style text (line pairs "Proto: names" / "Proto: values"). */
export function snmpField(text: string, proto: string, field: string): number {
  const lines = text.split("\n");
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]!.startsWith(`${proto}:`)) continue;
    const k = lines[i]!.split(/\s+/).indexOf(field);
    if (k > 0) return Number(lines[i + 1]!.split(/\s+/)[k]);
  }
  throw new Error(`${proto}:${field} not found`);
}

/** UDP datagrams that reached h2's UDP layer (delivered, or dropped there for buffer/port). */
function udpArrived(ns: string): number {
  const t = nsCat(ns, "/proc/net/snmp");
  return snmpField(t, "Udp", "InDatagrams") + snmpField(t, "Udp", "InErrors") + snmpField(t, "Udp", "NoPorts");
}

/** The legit entry in `ip -s route show cache` output: its `used` and `age`, or undefined. */
export function legitEntry(text: string, src: string): { used: number; age: number } | undefined {
  const blocks = text.split(/\n(?=\S)/);
  for (const b of blocks) {
    if (!b.includes(`from ${src} `)) continue;
    const used = /\bused (\d+)/.exec(b);
    const age = /\bage (\d+)sec/.exec(b);
    if (used) return { used: Number(used[1]), age: age ? Number(age[1]) : 0 };
  }
  return undefined;
}

/** The router's alarm event totals, from its Prometheus metrics (the URL is on its stdout). */
async function alarmEvents(routerStdout: string): Promise<(alarm: string) => number> {
  const url = /metrics on (\S+)/.exec(routerStdout)?.[1];
  if (!url) throw new Error("the router printed no metrics URL");
  const text = await (await fetch(url)).text();
  return (alarm) => {
    const m = new RegExp(`^wasmroute_alarm_events_total\\{alarm="${alarm}"\\} (\\d+)`, "m").exec(text);
    if (!m) throw new Error(`no ${alarm} alarm in the metrics`);
    return Number(m[1]);
  };
}

function sinkScript(): string {
  // Binds 10.201.2.2:9 so the legit flow meets a socket (no port unreachables back), counts nothing itself.
  return "const s=require('dgram').createSocket('udp4');s.on('message',()=>{});s.bind(9,'10.201.2.2');setTimeout(()=>process.exit(0),Number(process.argv[1])*1000);";
}

export async function runFlood(o: FloodOptions): Promise<FloodResult> {
  const log = o.log ?? (() => {});
  const tag = `${process.pid % 1000}${Math.floor(Math.random() * 100)}`.padStart(5, "0").slice(-5);
  const ns = [1, 2, 3].map((i) => `wr-fl-h${i}-${tag}`);
  const dev = [1, 2, 3].map((i) => `wr-fl-t${i}-${tag}`);
  const dir = mkdtempSync(join(tmpdir(), "wr-fl-"));
  const ctl = join(dir, "ctl.sock");
  const children: ChildProcess[] = [];
  let sampling = false;
  let sampler: Promise<void> = Promise.resolve();
  let router: ChildProcess | undefined;
  let routerOut = "";
  let routerErr = "";
  const control = async (words: string[]): Promise<string> => {
    let out = "";
    let err = "";
    const st = await sendControlCommand(ctl, words, { stdout: (b) => (out += b.toString("latin1")), stderr: (b) => (err += b.toString("latin1")) });
    if (st !== 0) {
      const dead = router && (router.exitCode !== null || router.signalCode !== null) ? ` (router exited: ${router.exitCode ?? router.signalCode}; its log: ${routerErr.trim().slice(-1500)})` : "";
      throw new Error(`wasmroute ${words.join(" ")}: exit ${st}: ${err.trim()}${dead}`);
    }
    return out;
  };
  const rtCache = async () => parseRtCacheStat(await control(["cat", "/proc/net/stat/rt_cache"]))[0]!;
  const field = (row: ArrayLike<number>, f: keyof typeof RT_CACHE_FIELDS) => row[RT_CACHE_FIELDS[f]]!;
  try {
    for (const n of ns) {
      cleanup.ns(n); // removed on Ctrl-C too, where the caller installed the handlers (scripts/flood.ts)
      createNetns(n);
    }
    cleanup.dir(dir);
    const config = [
      ...[1, 2, 3].map((i) => `link add p${i} type tap kernel-name ${dev[i - 1]} netns ${ns[i - 1]} address ${MAC(i, "r")}`),
      ...[1, 2, 3].map((i) => `addr add 10.201.${i}.1/24 dev p${i}`),
      ...[1, 2, 3].map((i) => `neigh add 10.201.${i}.2 lladdr ${MAC(i, "h")} dev p${i} nud permanent`),
      "route add 172.16.0.0/12 via 10.201.2.2",
      ...(o.maxSize !== undefined ? [`sysctl net.ipv4.route.max_size=${o.maxSize}`] : []),
      "",
    ].join("\n");
    writeFileSync(join(dir, "router.conf"), config);
    const args = [join(root, "bin", "wasmroute.mjs"), "run", "--config", join(dir, "router.conf"), "--proc-dir", join(dir, "proc"), "--name", `wr-fl-${tag}`];
    args.push("--control", ctl, "--metrics", "127.0.0.1:0", "--rhash-entries", String(o.rhashEntries), "--overflow", o.overflow);
    if (o.overflowBackoffMs !== undefined) args.push("--overflow-backoff", String(o.overflowBackoffMs));
    // The router on CPU1, the flood generator on CPU0 (as bench/forward does): the same placement every run.
    router = spawn("taskset", ["-c", "1", process.execPath, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    cleanup.child(router);
    const r = router;
    r.stdout!.on("data", (d) => (routerOut += d));
    r.stderr!.on("data", (d) => (routerErr += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`router not ready in 20 s: ${routerErr}`)), 20_000);
      r.stdout!.on("data", () => routerOut.includes("ready") && (clearTimeout(timer), resolve()));
      r.on("exit", (c) => (clearTimeout(timer), reject(new Error(`router exited (${c}) before ready: ${routerErr.trim()}`))));
    });
    for (let i = 1; i <= 3; i++) {
      const n = ns[i - 1]!;
      const d = dev[i - 1]!;
      spawnSync("ip", ["netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"], { timeout: 5000 }); // no ND/RS noise
      ip("-n", n, "link", "set", "lo", "up");
      ip("-n", n, "link", "set", d, "address", MAC(i, "h"));
      ip("-n", n, "addr", "add", `10.201.${i}.2/24`, "dev", d);
      ip("-n", n, "link", "set", d, "up");
      ip("-n", n, "route", "add", "default", "via", `10.201.${i}.1`);
      ip("-n", n, "neigh", "replace", `10.201.${i}.1`, "lladdr", MAC(i, "r"), "dev", d, "nud", "permanent");
    }
    const sysctl = async (name: string) => Number((await control(["sysctl", "-n", name])).trim());
    const maxSize = await sysctl("net.ipv4.route.max_size");
    const gcThresh = await sysctl("net.ipv4.route.gc_thresh");
    const buckets = await sysctl("rhash_entries");
    log(`${o.overflow}: rhash_entries ${buckets}, gc_thresh ${gcThresh}, max_size ${maxSize}`);

    const floodConf = join(dir, "flood.trafgen");
    const legitConf = join(dir, "legit.trafgen");
    writeFileSync(floodConf, trafgenFrame(1, "rnd", "172.16.0.1", 12345));
    writeFileSync(legitConf, trafgenFrame(3, "10.201.3.2", "10.201.2.2", 5555));
    const legitSeconds = o.floodSeconds + 2 * o.legitMarginS;
    const bg = (n: string, cmd: string[]) => {
      const c = spawn("ip", ["netns", "exec", n, ...cmd], { stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      c.stderr!.on("data", (d) => (err = (err + d).slice(-2000)));
      children.push(c);
      cleanup.child(c);
      return { c, err: () => err };
    };
    const exited = (c: ChildProcess) => new Promise<number | null>((res) => (c.exitCode !== null || c.signalCode !== null ? res(c.exitCode) : c.once("exit", (code) => res(code))));
    bg(ns[1]!, [process.execPath, "-e", sinkScript(), String(legitSeconds + 30)]);
    await sleep(500);

    const before = {
      udp: udpArrived(ns[1]!),
      h2rx: ifCounter(ns[1]!, dev[1]!, "rx_packets"),
      h1tx: ifCounter(ns[0]!, dev[0]!, "tx_packets"),
      h1drop: ifCounter(ns[0]!, dev[0]!, "tx_dropped"),
      h3tx: ifCounter(ns[2]!, dev[2]!, "tx_packets") + ifCounter(ns[2]!, dev[2]!, "tx_dropped"),
      rt: await rtCache(),
      noBufs: snmpField(await control(["cat", "/proc/net/netstat"]), "WrDrop", "NoBufs"),
    };
    // Paced by a fixed gap (trafgen's -b sends its packets in bursts); stopped by time, so the count is
    // what h3's interface says it sent (-n only bounds it).
    const legitT0 = performance.now();
    const legit = bg(ns[2]!, ["timeout", "-s", "INT", "-k", "3", String(legitSeconds), "trafgen", "--no-sock-mem", "-Q", "-P", "1", "--dev", dev[2]!, "--conf", legitConf, "-t", `${Math.round(1e6 / o.legitPps)}us`, "-n", String(Math.ceil(2 * o.legitPps * legitSeconds))]);
    // Sampling: allocated entries and the legit entry, through the control socket, until the legit flow ends.
    let maxAlloc = 0;
    let samples = 0;
    let atMax = 0;
    let hitsDone = 0;
    let lastUsed = 0;
    let lifetimes = 0;
    sampling = true;
    const sampleLegit = async () => {
      const e = legitEntry(await control(["ip", "-s", "route", "show", "cache", "10.201.2.2/32"]), "10.201.3.2");
      if (!e) return;
      if (e.used < lastUsed || lifetimes === 0) {
        hitsDone += lifetimes === 0 ? 0 : lastUsed;
        lifetimes++;
      }
      lastUsed = e.used;
    };
    sampler = (async () => {
      while (sampling) {
        const row = await rtCache();
        const a = field(row, "entries");
        maxAlloc = Math.max(maxAlloc, a);
        if (a >= maxSize) atMax++;
        samples++;
        await sampleLegit();
        await sleep(o.sampleMs);
      }
    })();
    await sleep(o.legitMarginS * 1000);
    const h3Sent = () => ifCounter(ns[2]!, dev[2]!, "tx_packets") + ifCounter(ns[2]!, dev[2]!, "tx_dropped");
    const w0 = { hit: field(await rtCache(), "in_hit"), sent: h3Sent() };
    const floodT0 = performance.now();
    const foreign0 = foreignCpu();
    const flood = bg(ns[0]!, ["timeout", "-s", "INT", "-k", "3", String(o.floodSeconds), "taskset", "-c", "0", "trafgen", "--no-sock-mem", "-Q", "-P", "1", "--dev", dev[0]!, "--conf", floodConf, "-n", String(o.floodMax)]);
    await exited(flood.c);
    const floodS = (performance.now() - floodT0) / 1000;
    const foreign = foreignPercent(foreign0, foreignCpu(), floodS);
    const w1 = { hit: field(await rtCache(), "in_hit"), sent: h3Sent() };
    const floodEnd = { h1tx: ifCounter(ns[0]!, dev[0]!, "tx_packets"), h1drop: ifCounter(ns[0]!, dev[0]!, "tx_dropped") };
    log(`${o.overflow}: flood over after ${floodS.toFixed(1)} s; max allocated so far ${maxAlloc}`);
    const legitCode = await exited(legit.c);
    const legitS = (performance.now() - legitT0) / 1000;
    if (legitCode !== 124 && legitCode !== 0) throw new Error(`legit trafgen failed (${legitCode}): ${legit.err().trim()}`);
    await sleep(500); // the last legit frames through the router
    sampling = false;
    await sampler;
    const hitsLowerBound = hitsDone + lastUsed;
    const after = {
      udp: udpArrived(ns[1]!),
      h2rx: ifCounter(ns[1]!, dev[1]!, "rx_packets"),
      h3tx: h3Sent(),
      rt: await rtCache(),
      noBufs: snmpField(await control(["cat", "/proc/net/netstat"]), "WrDrop", "NoBufs"),
    };
    const sent = after.h3tx - before.h3tx;
    if (sent < 0.25 * o.legitPps * legitSeconds) throw new Error(`h3 sent only ${sent} legit frames in ${legitSeconds} s: ${legit.err().trim()}`);
    const delivered = after.udp - before.udp;
    const floodOffered = floodEnd.h1tx + floodEnd.h1drop - before.h1tx - before.h1drop;
    const floodAccepted = floodEnd.h1tx - before.h1tx;
    const floodForwarded = after.h2rx - before.h2rx - delivered;
    const d = (f: keyof typeof RT_CACHE_FIELDS) => field(after.rt, f) - field(before.rt, f);
    const hits = d("in_hit");
    // a flood frame hits when its random source repeats one whose entry is alive: at most max_size of 2^32
    const repeats = Math.ceil((4 * floodAccepted * Number(maxSize)) / 2 ** 32) + 4; // callers check hits ≤ sent + repeats
    const pingThrough = spawnSync("ip", ["netns", "exec", ns[2]!, "ping", "-c", "5", "-i", "0.2", "-W", "2", "10.201.2.2"], { encoding: "utf8", timeout: 15_000 }).stdout ?? "";
    const pingRouter = spawnSync("ip", ["netns", "exec", ns[0]!, "ping", "-c", "5", "-i", "0.2", "-W", "2", "10.201.1.1"], { encoding: "utf8", timeout: 15_000 }).stdout ?? "";
    await sleep(1100); // the router logs its events once a second
    const alarm = await alarmEvents(routerOut);
    const final = await rtCache();
    return {
      overflow: o.overflow,
      overflowBackoffMs: o.overflowBackoffMs ?? 0,
      buckets,
      gcThresh,
      maxSize,
      floodSeconds: floodS,
      foreignCpuPct: foreign,
      flood: {
        offered: floodOffered, accepted: floodAccepted, forwarded: floodForwarded,
        offeredPps: Math.round(floodOffered / floodS), acceptedPps: Math.round(floodAccepted / floodS), forwardedPps: Math.round(floodForwarded / floodS),
      },
      legit: { sent, delivered, deliveredPct: (100 * delivered) / sent, pps: Math.round(sent / legitS), hits, hitRatePct: (100 * hits) / sent, repeatsAllowed: repeats,
        duringFlood: { sent: w1.sent - w0.sent, hits: w1.hit - w0.hit, hitRatePct: (100 * (w1.hit - w0.hit)) / (w1.sent - w0.sent) },
        hitsLowerBound, hitRateLowerBoundPct: (100 * hitsLowerBound) / sent, lifetimes },
      allocated: { max: maxAlloc, samples, atMaxSize: atMax },
      counters: {
        in_hit: d("in_hit"), in_slow_tot: d("in_slow_tot"), gc_total: d("gc_total"), gc_ignored: d("gc_ignored"),
        gc_goal_miss: d("gc_goal_miss"), gc_dst_overflow: d("gc_dst_overflow"), in_martian_src: d("in_martian_src"),
      },
      gcDstOverflowSinceStart: field(final, "gc_dst_overflow"),
      dropsNoBufs: after.noBufs - before.noBufs,
      uncached: alarm("cache_full"),
      overflowDrops: alarm("dst_cache_overflow"),
      overflowLogLines: (routerErr.match(/dst cache overflow/g) ?? []).length,
      after: { pingThrough, pingRouter },
      routerAlive: r.exitCode === null && r.signalCode === null,
      routerLog: routerErr,
    };
  } finally {
    sampling = false;
    await sampler.catch(() => {}); // its error, if any, is the one already being thrown
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM"); // timeout passes it on
    if (router && router.exitCode === null && router.signalCode === null) {
      const rr = router;
      await new Promise<void>((res) => {
        const k = setTimeout(() => rr.kill("SIGKILL"), 5000);
        rr.once("exit", () => (clearTimeout(k), res()));
        rr.kill("SIGTERM");
      });
    }
    for (const n of ns) deleteNetns(n);
    rmSync(dir, { recursive: true, force: true });
  }
}
