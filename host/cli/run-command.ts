/**
 * `wasmroute run --config FILE`: starts a router from a config file and runs until SIGINT/SIGTERM.
 *
 *   --config FILE          link/addr/neigh/route/rule/sysctl lines (host/router/config.ts)
 *   --name NAME            the router's name (default "default"): statistics in /run/wasmroute/NAME
 *   --proc-dir DIR         where to keep the /proc-like statistics (net/snmp, net/netstat,
 *                          net/stat/rt_cache, net/stat/arp_cache, net/arp), rewritten every second;
 *                          read it with `wasmroute lnstat --proc DIR` and `wasmroute nstat --proc DIR`
 *   --busy-poll            poll the ports in a loop instead of waiting for readiness (benchmarks)
 *   --poll-window USEC     after frames came, keep polling this long before sleeping in epoll
 *                          (default 50, as net.core.busy_poll's suggested value; 0 = sleep at once)
 *   --batch N              frames taken from a port per batch, one core call each (default 256, 1–4096)
 *   --rhash-entries N      route cache hash buckets, as the kernel's boot parameter (rounded up to a
 *                          power of two; gc_thresh = N and max_size = 16 × N unless the config sets them)
 *   --overflow forward|kernel  at max_size: keep forwarding uncached (default), or drop with
 *                          gc_dst_overflow and "dst cache overflow" as kernel 2.6/3.x did (§3.2)
 *   --pcap-in IF=FILE      replay a capture into link IF, as if received there (repeatable)
 *   --capture IF=FILE      record what link IF receives and sends, for tcpdump -r (repeatable)
 *   --duration SECONDS     stop by itself after this long (bounded runs, pcap pipelines)
 *   --log-format text|json alarms and state changes on stderr
 *   --control PATH|none    the control socket (#6, host/router/control.ts), mode 0600; default
 *                          /run/wasmroute/NAME.sock (when that default cannot be made, a warning and no
 *                          socket; an explicit PATH that fails stops the start)
 *   --gc-step-budget N     entries one GC step may free (default 2048, about 0.3 ms at 2 M entries;
 *                          0 = the kernel's single unbounded step)
 *   --overflow-backoff MS  overflow forward only: after a GC at max_size gave up (gc_dst_overflow), the
 *                          next MS ms of misses at max_size skip the GC and go uncached (a flood
 *                          back-off; default 0 = off, the kernel's GC at every such miss)
 *   --metrics [HOST:]PORT  serve Prometheus metrics on http://HOST:PORT/metrics (host/router/metrics.ts);
 *                          off by default, HOST 127.0.0.1 when only a port is given
 *   --user NAME[:GROUP]    once everything above is open, hand the control socket and the statistics
 *                          directory to that user and become it, keeping only the capabilities a reload
 *                          still needs (host/router/privilege.ts); root only. Any failure: one line, exit 2,
 *                          before forwarding starts
 *   --sync-from-kernel TABLE [netns NS]   mirror a kernel routing table (of a named namespace) into the
 *                          same table, live (host/router/kernel-sync.ts): BIRD or FRR there feed the router
 *
 * Prints "ready" on stdout once every port is open. SIGHUP re-reads the file (parsed and diffed in a worker
 * thread, so the ports keep forwarding meanwhile) and applies it as a diff
 * (links added or removed, routes, rules, neighbours, knobs; a changed link needs a restart); a bad file
 * changes nothing.
 * Exit status: 0 after a clean stop, 2 when the config or the devices fail (one line on stderr).
 */
import { readFileSync, mkdirSync, rmSync, readdirSync, lchownSync, chownSync, accessSync, constants } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { parseConfig } from "../router/config.ts";
import { ReloadWorker } from "../router/reload-prepare.ts";
import { Router } from "../router/router.ts";
import { Logger, type LogFormat } from "../router/logger.ts";
import { formatMac } from "../router/mac.ts";
import { ControlServer, defaultControlPath } from "../router/control.ts";
import { MetricsServer, parseListenAddress } from "../router/metrics.ts";
import { parseUserSpec, resolveUser, keptCapabilities, heldCapabilities, tunOpenable, droppedLinkGuard, dropPrivileges, type UserSpec, type TargetUser } from "../router/privilege.ts";
import { capabilityNames } from "../router/capabilities.ts";
import { KernelSync, netnsExists, noSuchNetns, parseSyncOption, type KernelSyncOptions } from "../router/kernel-sync.ts";
import { tableName } from "./words.ts";
import { removeProcDir } from "../router/proc-dir.ts";
import { OptionArgs } from "./option-args.ts";

export const RUN_USAGE =
  "usage: wasmroute run --config FILE [--name NAME] [--proc-dir DIR] [--busy-poll] [--poll-window USEC] [--batch N] [--rhash-entries N] [--overflow forward|kernel] [--overflow-backoff MS] [--gc-step-budget N] [--pcap-in IF=FILE]... [--capture IF=FILE]... [--duration S] [--log-format text|json] [--control PATH|none] [--metrics [HOST:]PORT] [--sync-from-kernel TABLE [netns NS]]... [--user NAME[:GROUP]]";

interface RunOptions {
  config?: string;
  name: string;
  procDir?: string;
  busyPoll: boolean;
  pollWindowUs?: number;
  batch?: number;
  rhashEntries?: number;
  overflow: "forward" | "kernel";
  pcapIn: Map<string, string>;
  capture: Map<string, string>;
  durationS?: number;
  logFormat: LogFormat;
  control?: string;
  metrics?: { host: string; port: number };
  gcStepBudget?: number;
  overflowBackoffMs?: number;
  user?: UserSpec;
  sync: KernelSyncOptions[];
}

function parseRunArgs(argv: string[]): RunOptions {
  const o: RunOptions = { name: "default", busyPoll: false, overflow: "forward", pcapIn: new Map(), capture: new Map(), logFormat: "text", sync: [] };
  const args = new OptionArgs(argv);
  for (const a of args) {
    const pair = (m: Map<string, string>) => {
      const v = args.value();
      const eq = v.indexOf("=");
      if (eq <= 0 || eq === v.length - 1) throw new Error(`${a} wants IF=FILE, got "${v}"`);
      m.set(v.slice(0, eq), v.slice(eq + 1));
    };
    if (a === "--config" || a === "-c") o.config = args.value();
    else if (a === "--name") {
      o.name = args.value();
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(o.name)) throw new Error(`invalid router name "${o.name}"`);
    } else if (a === "--proc-dir") o.procDir = args.value();
    else if (a === "--busy-poll") o.busyPoll = true;
    else if (a === "--poll-window") {
      const v = args.value();
      o.pollWindowUs = Number(v);
      if (!/^\d+$/.test(v) || o.pollWindowUs > 1_000_000) throw new Error(`--poll-window wants microseconds from 0 to 1000000, got "${v}"`);
    }
    else if (a === "--batch") {
      const v = args.value();
      o.batch = Number(v);
      if (!/^\d+$/.test(v) || o.batch < 1 || o.batch > 4096) throw new Error(`--batch wants a number of frames from 1 to 4096, got "${v}"`);
    }
    else if (a === "--rhash-entries") {
      const v = args.value();
      o.rhashEntries = Number(v);
      if (!/^\d+$/.test(v) || o.rhashEntries < 1 || o.rhashEntries > 2 ** 26) throw new Error(`--rhash-entries wants a number of buckets from 1 to 67108864, got "${v}"`);
    } else if (a === "--overflow") {
      const v = args.value();
      if (v !== "forward" && v !== "kernel") throw new Error(`--overflow must be "forward" or "kernel", got "${v}"`);
      o.overflow = v;
    }
    else if (a === "--pcap-in") pair(o.pcapIn);
    else if (a === "--capture") pair(o.capture);
    else if (a === "--duration") {
      const v = args.value();
      o.durationS = Number(v);
      if (!/^\d+(\.\d+)?$/.test(v) || !(o.durationS > 0)) throw new Error(`--duration wants a positive number of seconds, got "${v}"`);
    } else if (a === "--log-format") {
      const v = args.value();
      if (v !== "text" && v !== "json") throw new Error(`--log-format must be "text" or "json", got "${v}"`);
      o.logFormat = v;
    } else if (a === "--control") o.control = args.value();
    else if (a === "--metrics") o.metrics = parseListenAddress(args.value());
    else if (a === "--overflow-backoff") {
      const v = args.value();
      if (!/^\d+$/.test(v) || Number(v) > 3_600_000) throw new Error(`--overflow-backoff wants milliseconds from 0 (off) to 3600000, got "${v}"`);
      o.overflowBackoffMs = Number(v);
    } else if (a === "--gc-step-budget") {
      const v = args.value();
      if (!/^\d+$/.test(v) || Number(v) > 2 ** 31 - 1) throw new Error(`--gc-step-budget wants a number of entries (0 = unbounded, as the kernel), got "${v}"`);
      o.gcStepBudget = Number(v);
    } else if (a === "--user") o.user = parseUserSpec(args.value());
    else if (a === "--sync-from-kernel") {
      const table = args.value();
      const ns = args.peek() === "netns" ? args.take(2) : [];
      const sync = parseSyncOption(table, ns);
      if (o.sync.some((x) => x.table === sync.table)) throw new Error(`--sync-from-kernel: table ${table} is given twice: one source per table`);
      o.sync.push(sync);
    }
    else throw new Error(`unknown option "${a}"`);
  }
  if (!o.config) throw new Error("missing --config FILE");
  if (o.overflowBackoffMs && o.overflow === "kernel") throw new Error("--overflow-backoff applies to --overflow forward only (kernel mode drops at max_size, as 3.x did)");
  return o;
}

/** Runs the router; resolves with the exit status when it stops. */
export async function runRouterCommand(argv: string[]): Promise<number> {
  let o: RunOptions;
  try {
    o = parseRunArgs(argv);
  } catch (e) {
    process.stderr.write(`wasmroute run: ${(e as Error).message}\n${RUN_USAGE}\n`);
    return 2;
  }
  const log = new Logger(o.logFormat);
  const configPath = o.config!;
  const procDir = o.procDir ?? join("/run/wasmroute", o.name);
  let router: Router;
  let target: TargetUser | undefined;
  let kept = 0n;
  let syncs: KernelSyncOptions[] = [];
  try {
    if (o.user) {
      if (process.geteuid?.() !== 0) throw new Error(`wasmroute run: --user needs root (running as uid ${process.geteuid?.()})`);
      try {
        target = resolveUser(o.user);
      } catch (e) {
        throw new Error(`wasmroute run: ${(e as Error).message}`);
      }
      kept = keptCapabilities(heldCapabilities(), tunOpenable(target));
    }
    const config = parseConfig(readFileSync(configPath, "utf8"), configPath);
    for (const s of config.syncs) {
      if (s.netns !== undefined && !netnsExists(s.netns)) throw new Error(`${configPath}:${s.line}: ${noSuchNetns(s.netns)}`);
      if (o.sync.some((x) => x.table === s.table)) throw new Error(`${configPath}:${s.line}: table ${tableName(s.table)} is also given to --sync-from-kernel: one source per table`);
    }
    syncs = [...config.syncs.map((s) => ({ table: s.table, netns: s.netns })), ...o.sync];
    mkdirSync(join(procDir, "net", "stat"), { recursive: true });
    const linkGuard = target ? droppedLinkGuard(kept, target.name) : undefined;
    router = Router.open(config, { name: o.name, procDir, busyPoll: o.busyPoll, pollWindowUs: o.pollWindowUs, slots: o.batch, rhashEntries: o.rhashEntries, pcapIn: o.pcapIn, capture: o.capture, logger: log, overflow: o.overflow, gcStepBudget: o.gcStepBudget, overflowBackoffMs: o.overflowBackoffMs, linkGuard });
  } catch (e) {
    process.stderr.write(`${(e as Error).message.replace(/\s*\n\s*/g, " ")}\n`);
    return 2;
  }
  // #6: the control socket and the metrics endpoint live as long as the router.
  let control: ControlServer | undefined;
  let metrics: MetricsServer | undefined;
  const reloadWorker = new ReloadWorker();
  try {
    if (o.control !== "none") {
      const path = o.control ?? defaultControlPath(o.name);
      try {
        control = await ControlServer.start(router, path);
      } catch (e) {
        if (o.control !== undefined) throw e;
        log.log("warn", "control_unavailable", `no control socket: ${(e as Error).message} (--control PATH to choose another)`);
      }
    }
    if (o.metrics) metrics = await MetricsServer.start(router, o.metrics);
    for (const s of syncs) {
      const k = await KernelSync.start(router, s);
      process.stdout.write(`wasmroute ${o.name}: mirroring ${k.describe()}: ${k.mirror.count} routes${k.state === "synced" ? "" : ` (${k.state})`}\n`);
    }
    if (target) {
      // A thread made after the drop would inherit the main thread's kept capabilities, and might not be
      // able to read its modules: the reload worker is made and loaded now, and loses them with every thread.
      await reloadWorker.ready();
      await becomeUser(target, kept, { router, control, procDir, ownProcDir: !o.procDir, configPath, log });
    }
  } catch (e) {
    reloadWorker.close();
    await Promise.all([control?.close(), metrics?.close()]);
    router.stop();
    if (!o.procDir) removeStatsDir(procDir);
    process.stderr.write(`${(e as Error).message.replace(/\s*\n\s*/g, " ")}\n`);
    return 2;
  }
  router.run();
  for (const [name, p] of router.ports) {
    process.stdout.write(`wasmroute ${o.name}: ${name}: ${p.note}, MAC ${formatMac(p.mac)}\n`);
  }
  if (control) process.stdout.write(`wasmroute ${o.name}: control socket ${control.path}\n`);
  if (metrics) process.stdout.write(`wasmroute ${o.name}: metrics on ${metrics.url}\n`);
  process.stdout.write(`wasmroute ${o.name}: statistics in ${procDir}\nwasmroute ${o.name}: ready\n`);

  let reloads = Promise.resolve();
  return await new Promise<number>((resolve) => {
    let stopped = false;
    const stop = (why: string) => {
      if (stopped) return;
      stopped = true;
      log.log("info", "stop", `stopping (${why})`);
      const servers = Promise.all([control?.close(), metrics?.close()]); // no command reaches a stopped router
      router.writeStats();
      router.stop();
      reloadWorker.close();
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      process.off("SIGHUP", onHup);
      if (!o.procDir) removeStatsDir(procDir);
      void servers.then(() => resolve(0));
    };
    const onInt = () => stop("SIGINT");
    const onTerm = () => stop("SIGTERM");
    // A reload is parsed and diffed in a worker thread while the ports keep forwarding (reload-prepare.ts);
    // only applying the diff runs here. Reloads run one at a time, in the order their signals came.
    const onHup = () => {
      reloads = reloads.then(async () => {
        try {
          const text = readFileSync(configPath, "utf8");
          const prepared = await reloadWorker.prepare(text, configPath, router.activeConfig);
          if (stopped) return;
          const d = router.reload(prepared.next, prepared);
          log.log("info", "config_reload", `config reloaded from ${configPath}`, d);
        } catch (e) {
          log.log("error", "config_reload_failed", `config reload refused, nothing changed: ${(e as Error).message.replace(/\s*\n\s*/g, " ")}`);
        }
      });
    };
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    process.on("SIGHUP", onHup);
    if (o.durationS !== undefined) setTimeout(() => stop("duration"), o.durationS * 1000).unref();
  });
}

/**
 * --user: hands the control socket and the statistics directory to the user, drops to it keeping
 * `kept`, and checks that the router can still do its work as that user. Throws a one-line error; the
 * caller then exits 2 before forwarding starts (the process may be half dropped).
 */
async function becomeUser(u: TargetUser, kept: bigint, r: { router: Router; control?: ControlServer; procDir: string; ownProcDir: boolean; configPath: string; log: Logger }): Promise<void> {
  if (r.control) chownSync(r.control.path, u.uid, u.gid); // its mode stays 0600
  chownStats(r.procDir, r.ownProcDir, u.uid, u.gid);
  await stat(r.procDir); // starts libuv's thread pool now, so that none of its threads is born after the drop
  let threads: { threads: number; unreachable: number };
  try {
    threads = dropPrivileges(u, kept);
  } catch (e) {
    throw new Error(`wasmroute run: --user ${u.name}: ${(e as Error).message}`);
  }
  try {
    r.router.writeStats();
  } catch (e) {
    throw new Error(`wasmroute run: --user ${u.name}: the statistics directory ${r.procDir} is not writable by that user: ${(e as Error).message}`);
  }
  const keptNames = capabilityNames(kept).join(",") || "none";
  r.log.log("info", "privileges_dropped", `running as ${u.name}, keeping ${keptNames}`, {
    user: u.name,
    uid: u.uid,
    gid: u.gid,
    groups: u.groups.join(",") || "none",
    kept: keptNames,
    threads: threads.threads,
    // Threads that block every signal (Node's inspector start thread) keep their bounding set and
    // no_new_privs; they too run as the user with no capability.
    unrestricted: threads.unreachable,
  });
  try {
    accessSync(r.configPath, constants.R_OK);
  } catch {
    r.log.log("warn", "config_unreadable", `${u.name} cannot read ${r.configPath}: SIGHUP reloads will fail until it can`);
  }
}

/**
 * Hands the user what the router rewrites in its statistics directory: DIR/net and DIR/net/stat (where
 * it writes, temporary files included) and the files in them. DIR itself only when the router made it
 * (the default under /run/wasmroute), never a directory the user named with --proc-dir.
 */
function chownStats(dir: string, ownDir: boolean, uid: number, gid: number): void {
  if (ownDir) lchownSync(dir, uid, gid);
  for (const sub of [join(dir, "net"), join(dir, "net", "stat")]) {
    lchownSync(sub, uid, gid);
    for (const e of readdirSync(sub, { withFileTypes: true })) if (e.isFile()) lchownSync(join(sub, e.name), uid, gid);
  }
}

/**
 * Removes the default statistics directory at stop. After --user its parent (/run/wasmroute) is still
 * root's, so only its contents can go; the empty directory is reused by the next start.
 */
function removeStatsDir(dir: string): void {
  try {
    removeProcDir(dir);
  } catch {
    try {
      for (const e of readdirSync(dir)) rmSync(join(dir, e), { recursive: true, force: true });
    } catch {
      // not ours to remove
    }
  }
}
