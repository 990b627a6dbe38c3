/**
 * `wasmroute run --config FILE`: starts a router from a config file and runs until SIGINT/SIGTERM.
 *
 *   --config FILE          link/addr/neigh/route/rule/sysctl lines (host/router/config.ts)
 *   --name NAME            the router's name (default "default"): statistics in /run/wasmroute/NAME
 *   --proc-dir DIR         where to keep the /proc-like statistics (net/snmp, net/netstat,
 *                          net/stat/rt_cache, net/stat/arp_cache, net/arp), rewritten every second;
 *                          read it with `wasmroute lnstat --proc DIR` and `wasmroute nstat --proc DIR`
 *   --busy-poll            poll the ports in a loop instead of waiting for readiness (benchmarks)
 *   --pcap-in IF=FILE      replay a capture into link IF, as if received there (repeatable)
 *   --capture IF=FILE      record what link IF receives and sends, for tcpdump -r (repeatable)
 *   --duration SECONDS     stop by itself after this long (bounded runs, pcap pipelines)
 *   --log-format text|json alarms and state changes on stderr
 *   --control PATH|none    the control socket (#6, host/router/control.ts), mode 0600; default
 *                          /run/wasmroute/NAME.sock (when that default cannot be made, a warning and no
 *                          socket; an explicit PATH that fails stops the start)
 *   --metrics [HOST:]PORT  serve Prometheus metrics on http://HOST:PORT/metrics (host/router/metrics.ts);
 *                          off by default, HOST 127.0.0.1 when only a port is given
 *   --sync-from-kernel TABLE [netns NS]   mirror a kernel routing table (of a named namespace) into the
 *                          same table, live (host/router/kernel-sync.ts): BIRD or FRR there feed the router
 *
 * Prints "ready" on stdout once every port is open. SIGHUP re-reads the file and applies it as a diff
 * (routes, rules, neighbours, knobs; link changes need a restart); a bad file changes nothing.
 * Exit status: 0 after a clean stop, 2 when the config or the devices fail (one line on stderr).
 */
import { readFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../router/config.ts";
import { Router } from "../router/router.ts";
import { Logger, type LogFormat } from "../router/logger.ts";
import { formatMac } from "../router/devices.ts";
import { ControlServer, defaultControlPath } from "../router/control.ts";
import { MetricsServer, parseListenAddress } from "../router/metrics.ts";
import { KernelSync, netnsExists, noSuchNetns, parseSyncOption, type KernelSyncOptions } from "../router/kernel-sync.ts";
import { tableName } from "./words.ts";

export const RUN_USAGE =
  "usage: wasmroute run --config FILE [--name NAME] [--proc-dir DIR] [--busy-poll] [--pcap-in IF=FILE]... [--capture IF=FILE]... [--duration S] [--log-format text|json] [--control PATH|none] [--metrics [HOST:]PORT] [--sync-from-kernel TABLE [netns NS]]...";

interface RunOptions {
  config?: string;
  name: string;
  procDir?: string;
  busyPoll: boolean;
  pcapIn: Map<string, string>;
  capture: Map<string, string>;
  durationS?: number;
  logFormat: LogFormat;
  control?: string;
  metrics?: { host: string; port: number };
  sync: KernelSyncOptions[];
}

function parseRunArgs(argv: string[]): RunOptions {
  const o: RunOptions = { name: "default", busyPoll: false, pcapIn: new Map(), capture: new Map(), logFormat: "text", sync: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`option ${a} needs a value`);
      return v;
    };
    const pair = (m: Map<string, string>) => {
      const v = value();
      const eq = v.indexOf("=");
      if (eq <= 0 || eq === v.length - 1) throw new Error(`${a} wants IF=FILE, got "${v}"`);
      m.set(v.slice(0, eq), v.slice(eq + 1));
    };
    if (a === "--config" || a === "-c") o.config = value();
    else if (a === "--name") {
      o.name = value();
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(o.name)) throw new Error(`invalid router name "${o.name}"`);
    } else if (a === "--proc-dir") o.procDir = value();
    else if (a === "--busy-poll") o.busyPoll = true;
    else if (a === "--pcap-in") pair(o.pcapIn);
    else if (a === "--capture") pair(o.capture);
    else if (a === "--duration") {
      const v = value();
      o.durationS = Number(v);
      if (!/^\d+(\.\d+)?$/.test(v) || !(o.durationS > 0)) throw new Error(`--duration wants a positive number of seconds, got "${v}"`);
    } else if (a === "--log-format") {
      const v = value();
      if (v !== "text" && v !== "json") throw new Error(`--log-format must be "text" or "json", got "${v}"`);
      o.logFormat = v;
    } else if (a === "--control") o.control = value();
    else if (a === "--metrics") o.metrics = parseListenAddress(value());
    else if (a === "--sync-from-kernel") {
      const table = value();
      const ns = argv[i + 1] === "netns" ? argv.slice(i + 1, i + 3) : [];
      i += ns.length;
      const sync = parseSyncOption(table, ns);
      if (o.sync.some((x) => x.table === sync.table)) throw new Error(`--sync-from-kernel: table ${table} is given twice: one source per table`);
      o.sync.push(sync);
    }
    else throw new Error(`unknown option "${a}"`);
  }
  if (!o.config) throw new Error("missing --config FILE");
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
  let syncs: KernelSyncOptions[] = [];
  try {
    const config = parseConfig(readFileSync(configPath, "utf8"), configPath);
    for (const s of config.syncs) {
      if (s.netns !== undefined && !netnsExists(s.netns)) throw new Error(`${configPath}:${s.line}: ${noSuchNetns(s.netns)}`);
      if (o.sync.some((x) => x.table === s.table)) throw new Error(`${configPath}:${s.line}: table ${tableName(s.table)} is also given to --sync-from-kernel: one source per table`);
    }
    syncs = [...config.syncs.map((s) => ({ table: s.table, netns: s.netns })), ...o.sync];
    mkdirSync(join(procDir, "net", "stat"), { recursive: true });
    router = Router.start(config, { name: o.name, procDir, busyPoll: o.busyPoll, pcapIn: o.pcapIn, capture: o.capture, logger: log });
  } catch (e) {
    process.stderr.write(`${(e as Error).message.replace(/\s*\n\s*/g, " ")}\n`);
    return 2;
  }
  // #6: the control socket and the metrics endpoint live as long as the router.
  let control: ControlServer | undefined;
  let metrics: MetricsServer | undefined;
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
  } catch (e) {
    await control?.close();
    router.stop();
    if (!o.procDir) rmSync(procDir, { recursive: true, force: true });
    process.stderr.write(`${(e as Error).message.replace(/\s*\n\s*/g, " ")}\n`);
    return 2;
  }
  for (const [name, p] of router.ports) {
    process.stdout.write(`wasmroute ${o.name}: ${name}: ${p.note}, MAC ${formatMac(p.mac)}\n`);
  }
  if (control) process.stdout.write(`wasmroute ${o.name}: control socket ${control.path}\n`);
  if (metrics) process.stdout.write(`wasmroute ${o.name}: metrics on ${metrics.url}\n`);
  process.stdout.write(`wasmroute ${o.name}: statistics in ${procDir}\nwasmroute ${o.name}: ready\n`);

  return await new Promise<number>((resolve) => {
    let stopped = false;
    const stop = (why: string) => {
      if (stopped) return;
      stopped = true;
      log.log("info", "stop", `stopping (${why})`);
      const servers = Promise.all([control?.close(), metrics?.close()]); // no command reaches a stopped router
      router.writeStats();
      router.stop();
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      process.off("SIGHUP", onHup);
      if (!o.procDir) rmSync(procDir, { recursive: true, force: true });
      void servers.then(() => resolve(0));
    };
    const onInt = () => stop("SIGINT");
    const onTerm = () => stop("SIGTERM");
    const onHup = () => {
      try {
        const next = parseConfig(readFileSync(configPath, "utf8"), configPath);
        const d = router.reload(next);
        log.log("info", "config_reload", `config reloaded from ${configPath}`, d);
      } catch (e) {
        log.log("error", "config_reload_failed", `config reload refused, nothing changed: ${(e as Error).message.replace(/\s*\n\s*/g, " ")}`);
      }
    };
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    process.on("SIGHUP", onHup);
    if (o.durationS !== undefined) setTimeout(() => stop("duration"), o.durationS * 1000).unref();
  });
}
