/**
 * `wasmroute lab` (what `npm start` runs): the router between two hosts, end to end, in a minute.
 *
 * As root: two network namespaces wr-lab-h1 and wr-lab-h2, the router between them over TAPs it
 * creates (kernel sides moved into the hosts), the real BGP table (bench/data, 901,899 prefixes, all
 * via h2) plus the connected routes; then ping through the router and to it, a burst of UDP flows from
 * h1 to destinations spread over the table, and lnstat rows of the route cache live, once a second.
 * Everything is removed on exit, also on Ctrl-C or an error.
 *
 * Without root (or with --pcap): says what the real lab needs, and runs the same pipeline on generated
 * frames — an ARP request, pings, UDP flows over the table, a TTL-expired probe — replayed through
 * pcap ports, printing the counters and where the captures are (tcpdump -r reads them).
 *
 *   wasmroute lab [--duration SECONDS] [--table FILE|none] [--flows N] [--pcap] [--keep-captures]
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseConfig } from "../router/config.ts";
import { Router } from "../router/router.ts";
import { Logger } from "../router/logger.ts";
import { readCidrListFile } from "../fib/cidr-list.ts";
import { formatIPv4, parseAddress as parseIPv4 } from "../fib/ipv4.ts";
import { TABLE_MAIN } from "../fib/types.ts";
import { PcapWriter } from "../io/pcap.ts";
import { arpRequest, echoRequest, udpDatagram } from "../sim/frames.ts";
import { runLnstatCommand } from "./lnstat-command.ts";
import { parseMac } from "../router/mac.ts";
import { removeProcDir } from "../router/proc-dir.ts";
import { OptionArgs } from "./option-args.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DEFAULT_TABLE = join(root, "bench", "data", "bgp-ipv4-2024-01.txt.gz");
const H1 = "wr-lab-h1";
const H2 = "wr-lab-h2";

interface LabOptions {
  durationS: number;
  table: string | undefined;
  flows: number;
  pcap: boolean;
  keep: boolean;
}

function parseLabArgs(argv: string[]): LabOptions {
  const o: LabOptions = { durationS: 5, table: DEFAULT_TABLE, flows: 2000, pcap: false, keep: false };
  const args = new OptionArgs(argv);
  for (const a of args) {
    if (a === "--duration") o.durationS = args.count(1, 600);
    else if (a === "--table") {
      const v = args.value();
      o.table = v === "none" ? undefined : v;
    } else if (a === "--flows") o.flows = args.count(1, 1_000_000);
    else if (a === "--pcap") o.pcap = true;
    else if (a === "--keep-captures") o.keep = true;
    else throw new Error(`unknown option "${a}"`);
  }
  return o;
}

const out = (line: string) => process.stdout.write(`${line}\n`);

/** What the real lab needs; undefined when this process has it. */
function missingPrivileges(): string | undefined {
  if (process.getuid?.() !== 0) return "root (CAP_NET_ADMIN and CAP_SYS_ADMIN: network namespaces and TAP devices)";
  if (spawnSync("ip", ["-V"]).status !== 0) return "iproute2's ip command";
  if (!existsSync("/dev/net/tun")) return "/dev/net/tun (TUN/TAP)";
  return undefined;
}

/** Destinations spread evenly over the table: the first address after each chosen prefix's network. */
function destinations(table: string | undefined, n: number): number[] {
  if (!table) return Array.from({ length: n }, (_, i) => (0xc6120000 + i) >>> 0); // 198.18.0.0/15, benchmarking space
  const list = readCidrListFile(table);
  const step = Math.max(1, Math.floor(list.addrs.length / n));
  const d: number[] = [];
  for (let i = 0; i < list.addrs.length && d.length < n; i += step) d.push((list.addrs[i]! + (list.lens[i]! < 32 ? 1 : 0)) >>> 0);
  return d;
}

function labConfig(kind: "tap" | "pcap", table: string | undefined): string {
  const links =
    kind === "tap"
      ? [`link add p1 type tap kernel-name wr-lab-t1 netns ${H1} address 02:77:72:00:01:01`, `link add p2 type tap kernel-name wr-lab-t2 netns ${H2} address 02:77:72:00:02:01`]
      : ["link add p1 type pcap address 02:77:72:00:01:01", "link add p2 type pcap address 02:77:72:00:02:01", "neigh add 10.201.2.2 lladdr 02:00:00:00:02:02 dev p2 nud permanent"];
  // Without a table, the generated destinations (198.18.0.0/15) go to h2 by one route.
  const routes = table ? [] : ["route add 198.18.0.0/15 via 10.201.2.2 dev p2"];
  return [...links, "addr add 10.201.1.1/24 dev p1", "addr add 10.201.2.1/24 dev p2", ...routes, ""].join("\n");
}

function loadTable(router: Router, table: string): number {
  const list = readCidrListFile(table);
  router.fib.loadCidrList(list.addrs, list.lens, { table: TABLE_MAIN, nexthops: [{ gateway: parseIPv4("10.201.2.2"), dev: "p2", weight: 1, onlink: false }] });
  router.cache.flush(-1, router.dp.now());
  return list.addrs.length;
}

function sh(ns: string, args: string[], timeoutMs = 15_000): string {
  const r = spawnSync("ip", ["netns", "exec", ns, ...args], { encoding: "utf8", timeout: timeoutMs });
  return (r.stdout ?? "") + (r.stderr ?? "");
}

/**
 * UDP from inside h1 to every destination, `rounds` times, the rounds spread evenly over durationMs
 * (256 datagrams per millisecond at most within a round), then a margin for the last ones to arrive.
 */
function udpBurst(dsts: number[], rounds: number, durationMs: number): Promise<void> {
  const script =
    "const d=require('dgram').createSocket('udp4');const a=JSON.parse(process.argv[1]);const rounds=+process.argv[2];" +
    "const gap=+process.argv[3]/rounds;const b=Buffer.alloc(18);const t0=Date.now();let r=0,i=0;" +
    "const go=()=>{for(let k=0;k<256&&i<a.length;k++,i++)d.send(b,9,a[i]);" +
    "if(i<a.length)return setTimeout(go,1);i=0;if(++r<rounds)return setTimeout(go,Math.max(1,t0+r*gap-Date.now()));setTimeout(()=>d.close(),200)};go();";
  return new Promise((resolve) => {
    const args = ["netns", "exec", H1, process.execPath, "-e", script, JSON.stringify(dsts.map(formatIPv4)), String(rounds), String(durationMs)];
    const child = spawn("ip", args, { stdio: "ignore" });
    const t = setTimeout(() => child.kill("SIGKILL"), durationMs + 5000);
    child.on("exit", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

function cleanupNamespaces(): void {
  for (const ns of [H1, H2]) spawnSync("ip", ["netns", "del", ns]);
}

async function realLab(o: LabOptions): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "wasmroute-lab-"));
  const procDir = join(dir, "proc");
  mkdirSync(join(procDir, "net", "stat"), { recursive: true });
  let router: Router | undefined;
  const cleanup = () => {
    router?.stop();
    router = undefined;
    cleanupNamespaces();
    removeProcDir(dir); // the router's statistics writer may have a write in flight
  };
  const onSignal = () => {
    out("wasmroute lab: interrupted, cleaning up");
    cleanup();
    process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    out(`wasmroute lab: h1 (${H1}, 10.201.1.2) — wasmroute (10.201.1.1 | 10.201.2.1) — h2 (${H2}, 10.201.2.2), over TAPs`);
    cleanupNamespaces();
    for (const ns of [H1, H2]) spawnSync("ip", ["netns", "add", ns], { stdio: "inherit" });
    router = Router.start(parseConfig(labConfig("tap", o.table), "<lab>"), { name: "lab", procDir, logger: new Logger() });
    if (o.table) {
      const t0 = performance.now();
      const n = loadTable(router, o.table);
      out(`wasmroute lab: ${n.toLocaleString("en-US")} prefixes loaded via 10.201.2.2 in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    for (const [ns, ifn, a, gw] of [
      [H1, "wr-lab-t1", "10.201.1.2/24", "10.201.1.1"],
      [H2, "wr-lab-t2", "10.201.2.2/24", "10.201.2.1"],
    ] as const) {
      for (const args of [["link", "set", "lo", "up"], ["addr", "add", a, "dev", ifn], ["link", "set", ifn, "up"], ["route", "add", "default", "via", gw]]) {
        const r = spawnSync("ip", ["-n", ns, ...args], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`ip -n ${ns} ${args.join(" ")}: ${r.stderr.trim()}`);
      }
    }
    // Pings go through the event loop's readiness callbacks: run them asynchronously.
    const ping = (target: string) =>
      new Promise<string>((resolve) => {
        const c = spawn("ip", ["netns", "exec", H1, "ping", "-c", "3", "-i", "0.2", "-W", "2", target], { stdio: ["ignore", "pipe", "pipe"] });
        let s = "";
        c.stdout.on("data", (d) => (s += d));
        c.on("exit", () => resolve(s));
      });
    for (const target of ["10.201.2.2", "10.201.1.1"]) {
      const res = await ping(target);
      out(`h1$ ping -c 3 ${target}: ${(/\d+ packets transmitted.*/.exec(res) ?? ["no answer"])[0]}`);
    }
    const dsts = destinations(o.table, o.flows);
    out(`wasmroute lab: ${dsts.length} UDP flows from h1 over the table for ${o.durationS} s; route cache (lnstat -f rt_cache -i 1):`);
    router.writeStats();
    await Promise.all([
      udpBurst(dsts, Math.max(1, o.durationS * 2), o.durationS * 1000),
      runLnstatCommand(["--proc", procDir, "-f", "rt_cache", "-k", "entries,in_hit,in_slow_tot,in_no_route,gc_total,in_hlist_search", "-i", "1", "-c", String(o.durationS + 1)]),
    ]);
    summary(router);
    return 0;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    cleanup();
    out("wasmroute lab: namespaces and taps removed");
  }
}

function summary(router: Router): void {
  for (const p of router.dp.stats()) {
    const lost = [p.losses.missed ? `${p.losses.missed} missed (queue full)` : "", p.losses.cut ? `${p.losses.cut} cut` : "", p.stats.txErrors ? `${p.stats.txErrors} not sent` : ""].filter(Boolean);
    out(`  ${p.name}: rx ${p.stats.rxFrames} frames, tx ${p.stats.txFrames} frames${lost.map((w) => `, ${w}`).join("")}`);
  }
  out(`  route cache: ${router.cache.hashed} entries hashed, ${router.cache.allocated} allocated`);
}

async function pcapLab(o: LabOptions, why: string | undefined): Promise<number> {
  if (why) out(`wasmroute lab: the live lab needs ${why}; running the same pipeline on generated frames through pcap ports instead.`);
  const dir = mkdtempSync(join(tmpdir(), "wasmroute-lab-"));
  const procDir = join(dir, "proc");
  mkdirSync(join(procDir, "net", "stat"), { recursive: true });
  const h1 = { srcMac: parseMac("02:00:00:00:01:02"), dstMac: parseMac("02:77:72:00:01:01") };
  const src = parseIPv4("10.201.1.2");
  const frames: Uint8Array[] = [arpRequest(h1.srcMac, src, parseIPv4("10.201.1.1"))];
  for (let s = 1; s <= 3; s++) frames.push(echoRequest(h1, src, parseIPv4("10.201.1.1"), 0x77, s));
  for (let s = 1; s <= 3; s++) frames.push(echoRequest(h1, src, parseIPv4("10.201.2.2"), 0x78, s));
  frames.push(udpDatagram(h1, src, parseIPv4("10.201.2.2"), 40000, 33434, 18, { ttl: 1 })); // traceroute's first probe
  const dsts = destinations(o.table, o.flows);
  for (let r = 0; r < 2; r++) for (const d of dsts) frames.push(udpDatagram(h1, src, d, 40000 + r, 9));
  const input = join(dir, "h1-sends.pcap");
  const w = new PcapWriter(input);
  for (const f of frames) w.write(f, Date.now());
  w.close();
  const cap1 = join(dir, "p1.pcap");
  const cap2 = join(dir, "p2.pcap");
  const router = Router.start(parseConfig(labConfig("pcap", o.table), "<lab>"), {
    name: "lab",
    procDir,
    pcapIn: new Map([["p1", input]]),
    capture: new Map([
      ["p1", cap1],
      ["p2", cap2],
    ]),
  });
  try {
    if (o.table) out(`wasmroute lab: ${loadTable(router, o.table).toLocaleString("en-US")} prefixes loaded via 10.201.2.2`);
    const t0 = Date.now();
    while (router.dp.replayPending > 0 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    router.writeStats();
    out(`wasmroute lab: replayed ${frames.length} frames from h1 (ARP, pings, a TTL-1 probe, ${dsts.length} UDP flows twice); route cache:`);
    await runLnstatCommand(["--proc", procDir, "-f", "rt_cache", "-k", "entries,in_hit,in_slow_tot,in_no_route,gc_total,in_hlist_search", "-i", "1", "-c", "1"]);
    summary(router);
  } finally {
    router.stop();
  }
  if (o.keep) out(`wasmroute lab: captures kept: tcpdump -nr ${cap1}; tcpdump -nr ${cap2}`);
  else removeProcDir(dir); // the router's statistics writer may have a write in flight
  return 0;
}

export async function runLabCommand(argv: string[]): Promise<number> {
  let o: LabOptions;
  try {
    o = parseLabArgs(argv);
  } catch (e) {
    process.stderr.write(`wasmroute lab: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    const why = missingPrivileges();
    if (o.pcap || why) return await pcapLab(o, o.pcap ? undefined : why);
    return await realLab(o);
  } catch (e) {
    process.stderr.write(`wasmroute lab: ${(e as Error).message.replace(/\s*\n\s*/g, " ")}\n`);
    return 2;
  }
}

