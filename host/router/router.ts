/**
 * A running router: the control plane (FIB, rules, route-cache sysctls, interface and neighbour
 * knobs, static neighbours, the router's own addresses) built from a configuration, the data plane
 * (host/router/dataplane.ts) moving frames between its ports, the timers, the statistics directory,
 * and the alarms in the log. `start` applies everything or nothing (a failure closes what was opened);
 * `reload` applies a changed configuration as a diff (SIGHUP); `stop` releases every device.
 */
import { Fib } from "../fib/fib.ts";
import { RouteCache } from "../cache/cache.ts";
import { RouteSysctls } from "../cache/sysctl.ts";
import { bindSysctls } from "../cache/apply-params.ts";
import { LeakAlarm } from "../cache/leak-alarm.ts";
import { formatIPv4 } from "../fib/ipv4.ts";
import { DataPlane, type DataPlaneExports } from "./dataplane.ts";
import { openLink, type OpenedPort } from "./devices.ts";
import { addressRoutes } from "./addresses.ts";
import { Logger } from "./logger.ts";
import { PcapWriter, readPcap } from "../io/pcap.ts";
import type { RouterConfig, ConfigNeigh } from "./config.ts";
import { diffConfig } from "./config-diff.ts";
import { IfSysctls } from "./if-sysctl.ts";
import { NeighTable } from "./neigh-table.ts";
import { readSnmp } from "./snmp.ts";
import { writeProcDir } from "./proc-dir.ts";
import { formatProcNetArp } from "./proc-arp.ts";
import { writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";

export interface RouterOptions {
  name?: string;
  /** Directory laid out like /proc (net/snmp, net/netstat, net/stat/rt_cache, net/stat/arp_cache), rewritten every second. */
  procDir?: string;
  busyPoll?: boolean;
  /** Interface name → pcap file replayed into it. */
  pcapIn?: Map<string, string>;
  /** Interface name → pcap file recording what it receives and sends. */
  capture?: Map<string, string>;
  logger?: Logger;
  /** Hash buckets of the route cache (rhash_entries); default: sized from RAM as §1.1. */
  buckets?: number;
  /** Receive batch size. */
  slots?: number;
  clock?: () => number;
}

/** Knob ids of dp_set_param (assembly/dp/params.ts). */
const DP = { errorCost: 0, errorBurst: 1, redirectLoad: 2, redirectNumber: 3, redirectSilence: 4 } as const;
/** Port flags of dp_port_set (assembly/dp/ports.ts). */
const PORT_UP = 1;
const PORT_SEND_REDIRECTS = 2;
const PORT_OFFLOAD = 4;
const TICK_MS = 20;

export class Router {
  readonly fib: Fib;
  readonly cache: RouteCache;
  readonly dp: DataPlane;
  readonly neigh: NeighTable;
  readonly routeSysctls: RouteSysctls;
  readonly ifSysctls: IfSysctls;
  readonly log: Logger;
  private config: RouterConfig;
  private readonly opts: RouterOptions;
  private readonly x: DataPlaneExports;
  private readonly leak = new LeakAlarm();
  private timers: NodeJS.Timeout[] = [];
  private lastLeakSample = 0;
  readonly ports = new Map<string, OpenedPort & { ifindex: number }>();

  private constructor(config: RouterConfig, opts: RouterOptions) {
    this.config = config;
    this.opts = opts;
    this.log = opts.logger ?? new Logger();
    this.fib = new Fib();
    this.routeSysctls = new RouteSysctls();
    this.ifSysctls = new IfSysctls(config.links.map((l) => l.name));
    const clock = opts.clock ?? (() => performance.now());
    this.cache = new RouteCache(this.fib, { buckets: opts.buckets ?? this.routeSysctls.buckets, now: clock() >>> 0 });
    this.dp = new DataPlane(this.fib.core, {
      slots: opts.slots,
      busyPoll: opts.busyPoll,
      clock,
      slotBytes: slotBytesFor(config),
      onPortError: (port, message) => this.log.log("error", "port_failed", `${port}: device failed, port stopped: ${message}`, { port }),
    });
    this.x = this.dp.x;
    this.neigh = new NeighTable(this.fib.core, (i) => this.fib.ifaces.name(i) ?? `if${i}`, clock);
  }

  /** Builds and starts a router from a parsed configuration; throws (having released everything) on failure. */
  static start(config: RouterConfig, opts: RouterOptions = {}): Router {
    const r = new Router(config, opts);
    try {
      r.applyControlPlane();
      r.openPorts();
    } catch (e) {
      r.stop();
      throw e;
    }
    r.run();
    return r;
  }

  private now(): number {
    return this.dp.now();
  }

  // ── control plane ───────────────────────────────────────────────────────────

  private applyControlPlane(): void {
    const c = this.config;
    for (const s of c.sysctls) this.setSysctl(s.name, s.value);
    bindSysctls(this.cache, this.routeSysctls, () => this.now());
    this.applyDpParams();
    this.routeSysctls.onChange(() => this.applyDpParams());
    for (const l of c.links) this.fib.ifaces.index(l.name);
    this.applyAddressesAndRoutes();
    this.applyInterfaces();
    this.applyNeighParams();
    for (const n of c.neighs) this.addNeigh(n);
  }

  private addNeigh(n: ConfigNeigh): void {
    this.neigh.add({ dev: n.dev, addr: n.addr, lladdr: n.lladdr, nud: n.nud });
  }

  /** A `sysctl` line: route-cache knobs go to RouteSysctls, interface and neighbour knobs to IfSysctls. */
  setSysctl(name: string, value: string): void {
    if (name.startsWith("net.ipv4.route.") || name === "net.ipv4.rt_cache_rebuild_count") this.routeSysctls.set(name, value);
    else this.ifSysctls.set(name, value);
  }

  private applyDpParams(): void {
    const p = this.routeSysctls.params();
    this.x.dp_set_param(DP.errorCost, p.errorCostMs);
    this.x.dp_set_param(DP.errorBurst, p.errorBurstMs);
    this.x.dp_set_param(DP.redirectLoad, p.redirectLoadMs);
    this.x.dp_set_param(DP.redirectNumber, p.redirectNumber);
    this.x.dp_set_param(DP.redirectSilence, p.redirectSilenceMs);
  }

  private applyNeighParams(): void {
    this.neigh.setParams(this.ifSysctls.neighParams());
  }

  /** Addresses (their kernel routes), routes and rules, in one FIB transaction. */
  private applyAddressesAndRoutes(): void {
    const c = this.config;
    this.fib.transaction(() => {
      for (const a of c.addrs) for (const r of addressRoutes(a)) this.fib.addRoute(r, "replace");
      for (const r of c.routes) this.fib.addRoute(r.route, r.mode);
      for (const r of c.rules) this.fib.addRule(r.rule);
    });
    this.x.dp_addr_clear();
    for (const a of c.addrs) {
      const rc = this.x.dp_addr_add(this.fib.ifaces.index(a.dev), a.addr, a.len);
      if (rc !== 0 && rc !== -17) throw new Error(`${a.dev}: cannot add address ${formatIPv4(a.addr)}/${a.len} (${rc})`);
    }
  }

  /** Per-port data-plane settings and the cache's per-interface flags, from the interface knobs. */
  private applyInterfaces(): void {
    const core = this.fib.core;
    for (const l of this.config.links) {
      const ifindex = this.fib.ifaces.index(l.name);
      const eff = this.ifSysctls.effective(l.name);
      const hasAddresses = this.config.addrs.some((a) => a.dev === l.name);
      this.cache.setInterface(l.name, { forwarding: eff.forwarding, rpFilter: eff.rpFilter, hasAddresses, acceptLocal: eff.acceptLocal, srcValidMark: eff.srcValidMark });
      const port = this.ports.get(l.name);
      const mac = port?.mac ?? l.mac;
      const p = core.alloc(8);
      if (mac) new Uint8Array(core.x.memory.buffer, p, 6).set(mac);
      const rc = this.x.dp_port_set(ifindex, p, l.mtu, PORT_UP | (eff.sendRedirects ? PORT_SEND_REDIRECTS : 0) | (port?.device.offload ? PORT_OFFLOAD : 0));
      core.x.mem_free(p, 8);
      if (rc !== 0) throw new Error(`${l.name}: the data plane refused the port (ifindex ${ifindex}, mtu ${l.mtu})`);
    }
  }

  // ── devices ─────────────────────────────────────────────────────────────────

  private openPorts(): void {
    for (const l of this.config.links) {
      const opened = openLink({ name: l.name, kind: l.kind, kernelName: l.kernelName, netns: l.netns, dev: l.dev, mac: l.mac, offload: l.offload });
      const ifindex = this.fib.ifaces.index(l.name);
      this.ports.set(l.name, { ...opened, ifindex });
      const cap = this.opts.capture?.get(l.name);
      this.dp.addPort(ifindex, l.name, opened.device, cap ? new PcapWriter(cap) : undefined);
    }
    for (const name of [...(this.opts.capture?.keys() ?? []), ...(this.opts.pcapIn?.keys() ?? [])]) {
      if (!this.ports.has(name)) throw new Error(`no link named "${name}" for --capture/--pcap-in`);
    }
    this.applyInterfaces(); // now with the MACs the devices have
    for (const [name, file] of this.opts.pcapIn ?? []) this.dp.inject(this.ports.get(name)!.ifindex, readPcap(file).map((f) => f.data));
  }

  private run(): void {
    this.dp.start();
    this.timers.push(setInterval(() => this.tick(), TICK_MS));
    this.timers.push(setInterval(() => this.everySecond(), 1000));
    this.everySecond();
  }

  private tick(): void {
    this.dp.tick();
  }

  private everySecond(): void {
    const now = this.now();
    const ev = this.cache.takeEvents();
    if (ev.overflow > 0) this.log.limited("warn", "dst_cache_overflow", "dst cache overflow", { drops: ev.overflow });
    if (ev.uncached > 0) this.log.limited("warn", "cache_full", "route cache full: forwarding without caching", { uncached: ev.uncached, allocated: this.cache.allocated });
    if (ev.rebuild > 0) this.log.log("warn", "emergency_rebuild", "Route hash chain too long! (emergency rebuild)", { count: ev.rebuild });
    if (ev.disabled > 0) this.log.log("error", "caching_disabled", `${this.cache.state().rebuildCount} rebuilds is over limit, route caching disabled`);
    this.noteAlarms(ev, now); // control socket / metrics hook (#6)
    const nev = this.neigh.takeEvents();
    if (nev.tableOverflows > 0) this.log.limited("warn", "neighbour_table_overflow", "Neighbour table overflow", { drops: nev.tableOverflows });
    if (now - this.lastLeakSample >= 10_000 || this.lastLeakSample === 0) {
      this.lastLeakSample = now || 1;
      const alarm = this.leak.sample(this.cache.allocated, this.cache.hashed, this.cache.garbageOldestAgeMs(now));
      if (alarm) this.log.log("error", "leak_suspected", alarm.message, { held: alarm.held, oldestHeldMs: alarm.oldestHeldMs });
    }
    if (this.opts.procDir) this.writeStats();
  }

  /** Rewrites the statistics directory (atomically, file by file). */
  writeStats(): void {
    if (!this.opts.procDir) return;
    writeProcDir(this.opts.procDir, {
      snmp: readSnmp(this.fib.core),
      forwarding: this.ifSysctls.ipForward() ? 1 : 2,
      rtCache: [this.cache.counters()],
      arpCache: [this.neigh.arpStat()],
    });
    const arp = join(this.opts.procDir, "net", "arp");
    writeFileSync(`${arp}.tmp`, formatProcNetArp(this.neigh.list()));
    renameSync(`${arp}.tmp`, arp);
  }

  // ── control socket and metrics hooks (#6: host/router/control.ts, host/router/metrics.ts) ──

  /** Alarm events counted since start, and when each last fired (router clock, ms; 0 = never). */
  readonly alarms = { overflow: 0, uncached: 0, rebuild: 0, disabled: 0, overflowAt: 0, uncachedAt: 0, rebuildAt: 0 };

  private noteAlarms(ev: { overflow: number; uncached: number; rebuild: number; disabled: number }, now: number): void {
    const a = this.alarms;
    a.overflow += ev.overflow;
    a.uncached += ev.uncached;
    a.rebuild += ev.rebuild;
    a.disabled += ev.disabled;
    if (ev.overflow > 0) a.overflowAt = now || 1;
    if (ev.uncached > 0) a.uncachedAt = now || 1;
    if (ev.rebuild > 0) a.rebuildAt = now || 1;
  }

  /** The leak alarm while it is raised. */
  get leakAlarm(): { held: number; oldestHeldMs: number; message: string } | undefined {
    return this.leak.active;
  }

  /** The statistics directory, when one is kept. */
  get procDir(): string | undefined {
    return this.opts.procDir;
  }

  /** The router's clock (u32 ms), the one the cache and the neighbour table run on. */
  clockMs(): number {
    return this.now();
  }

  /**
   * Runs a FIB change (`ip route …`, `ip rule …`) as one transaction: a throw undoes all of it. When it
   * changed something, the route cache is invalidated lazily (rt_cache_flush(net, -1)), as the kernel
   * does after every FIB change.
   */
  changeFib<T extends { mutated: boolean }>(fn: () => T): T {
    const r = this.fib.transaction(fn);
    if (r.mutated) this.cache.flush(-1, this.now());
    return r;
  }

  /**
   * Writes knobs all or nothing (route-cache ones and interface/neighbour ones, each group in order),
   * then applies them: the data plane's ports, the cache's per-interface flags and the neighbour
   * parameters; an interface knob also invalidates the cache lazily, as devinet's sysctl handler does.
   */
  writeSysctls(settings: readonly { name: string; value: string }[]): void {
    const isRoute = (n: string) => n.startsWith("net.ipv4.route.") || n === "net.ipv4.rt_cache_rebuild_count" || n.startsWith("net/ipv4/route/");
    const route = settings.filter((s) => isRoute(s.name));
    const ifs = settings.filter((s) => !isRoute(s.name));
    if (ifs.length > 0) this.ifSysctls.clone().setMany(ifs); // validates; throws before anything changed
    if (route.length > 0) this.routeSysctls.setMany(route);
    if (ifs.length > 0) {
      this.ifSysctls.setMany(ifs);
      this.applyInterfaces();
      this.applyNeighParams();
      this.cache.flush(-1, this.now());
    }
  }

  // ── reload ──────────────────────────────────────────────────────────────────

  /**
   * Applies a changed configuration (SIGHUP): route and rule changes as a diff in one FIB transaction,
   * the cache invalidated lazily as the kernel does on FIB changes (genid bump), neighbours and knobs
   * updated. Link changes need a restart: such a reload is refused as a whole.
   */
  reload(next: RouterConfig): { routes: number; rules: number; neighs: number; sysctls: number } {
    const d = diffConfig(this.config, next);
    if (d.links.length > 0) throw new Error(`links changed (${d.links.join(", ")}): restart wasmroute to apply link changes; nothing was reloaded`);
    // Validate knobs on scratch copies first, so a bad one changes nothing.
    const routeProbe = new RouteSysctls();
    const ifProbe = new IfSysctls(next.links.map((l) => l.name));
    for (const s of next.sysctls) {
      if (s.name.startsWith("net.ipv4.route.") || s.name === "net.ipv4.rt_cache_rebuild_count") routeProbe.set(s.name, s.value);
      else ifProbe.set(s.name, s.value);
    }
    const prev = this.config;
    this.config = next;
    try {
      this.fib.transaction(() => {
        for (const r of d.routesDel) this.fib.delRoute(r);
        if (d.addrsChanged) {
          for (const a of prev.addrs) for (const r of addressRoutes(a)) this.tryDelete(r);
          for (const a of next.addrs) for (const r of addressRoutes(a)) this.fib.addRoute(r, "replace");
        }
        for (const r of d.routesAdd) this.fib.addRoute(r.route, r.mode);
        for (const r of d.rulesDel) this.fib.delRule(r);
        for (const r of d.rulesAdd) this.fib.addRule(r.rule);
      });
    } catch (e) {
      this.config = prev;
      throw e;
    }
    this.x.dp_addr_clear();
    for (const a of next.addrs) this.x.dp_addr_add(this.fib.ifaces.index(a.dev), a.addr, a.len);
    for (const s of d.sysctls) this.setSysctl(s.name, s.value);
    this.applyInterfaces();
    this.applyNeighParams();
    for (const n of d.neighsDel) this.neigh.del(n);
    for (const n of d.neighsAdd) this.addNeigh(n);
    this.cache.flush(-1, this.now()); // rt_cache_flush(net, -1): lazy, by generation
    return { routes: d.routesDel.length + d.routesAdd.length, rules: d.rulesDel.length + d.rulesAdd.length, neighs: d.neighsDel.length + d.neighsAdd.length, sysctls: d.sysctls.length };
  }

  private tryDelete(r: Parameters<Fib["addRoute"]>[0]): void {
    try {
      this.fib.delRoute({ prefix: r.prefix, len: r.len, table: r.table, type: r.type, dev: r.nexthops[0]?.dev });
    } catch {
      // already gone (a duplicate address route)
    }
  }

  // ── stop ────────────────────────────────────────────────────────────────────

  /** Stops the loop and timers and releases every device (taps disappear with their last fd). */
  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.dp.stop();
    this.ports.clear();
  }
}

/** Receive slots big enough for the largest MTU configured (+ Ethernet header), at least 2048 bytes. */
function slotBytesFor(c: RouterConfig): number {
  const mtu = Math.max(1500, ...c.links.map((l) => l.mtu));
  return Math.max(2048, (mtu + 14 + 63) & ~63);
}
