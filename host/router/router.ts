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
import { GcStepTimer } from "../cache/gc-step-timer.ts";
import { formatIPv4 } from "../fib/ipv4.ts";
import { DataPlane, type DataPlaneExports } from "./dataplane.ts";
import { openLink, frameSlotBytes, type OpenedPort } from "./devices.ts";
import { addressRoutes } from "./addresses.ts";
import { Logger } from "./logger.ts";
import { PcapWriter, readPcap } from "../io/pcap.ts";
import { syncText, type RouterConfig, type ConfigNeigh, type ConfigLink } from "./config.ts";
import { addConfigRoute } from "./config-model.ts";
import type { Route } from "../fib/types.ts";
import { diffConfig } from "./config-diff.ts";
import type { PreparedReload } from "./reload-prepare.ts";
import { IfSysctls } from "./if-sysctl.ts";
import { NeighTable } from "./neigh-table.ts";
import { readSnmp } from "./snmp.ts";
import { ProcDirWriter, type ProcSnapshot } from "./proc-dir.ts";
import { formatProcNetArp } from "./proc-arp.ts";
import { linkViews } from "./links.ts";
import type { LinkView } from "../cli/format-link.ts";
import { join } from "node:path";

export interface RouterOptions {
  name?: string;
  /** Directory laid out like /proc (net/snmp, net/netstat, net/stat/rt_cache, net/stat/arp_cache), rewritten every second. */
  procDir?: string;
  busyPoll?: boolean;
  /** µs to keep polling after frames came (DataPlaneOptions.pollWindowUs). */
  pollWindowUs?: number;
  /** Interface name → pcap file replayed into it. */
  pcapIn?: Map<string, string>;
  /** Interface name → pcap file recording what it receives and sends. */
  capture?: Map<string, string>;
  logger?: Logger;
  /** Hash buckets of the route cache (rhash_entries); default: sized from RAM as §1.1. */
  buckets?: number;
  /** The rhash_entries boot parameter (`--rhash-entries`): rounded up to a power of two, and gc_thresh /
   * max_size follow it unless the config sets them (§1.1). Ignored when `buckets` is given. */
  rhashEntries?: number;
  /** At max_size (§3.2 step 8): "forward" (default) keeps forwarding uncached; "kernel" drops with
   * ENOBUFS, gc_dst_overflow and "dst cache overflow", as 2.6/3.x did. */
  overflow?: "forward" | "kernel";
  /** Receive batch size. */
  slots?: number;
  /** Entries one GC step may free (0 = the kernel's unbounded step; default 2048, about 0.3 ms). */
  gcStepBudget?: number;
  /** Overflow forward mode: after a gc_dst_overflow, ms without GC at max_size (a flood back-off; 0 = off, as the kernel). */
  overflowBackoffMs?: number;
  /**
   * Asked before a reload opens a new link: a reason to refuse it, or undefined. `wasmroute run --user`
   * refuses what its dropped credentials cannot open (host/router/privilege.ts).
   */
  linkGuard?: (l: ConfigLink) => string | undefined;
  clock?: () => number;
}

/** Knob ids of dp_set_param (assembly/dp/params.ts). */
const DP = { errorCost: 0, errorBurst: 1, redirectLoad: 2, redirectNumber: 3, redirectSilence: 4 } as const;
/** Port flags of dp_port_set (assembly/dp/ports.ts). */
const PORT_UP = 1;
const PORT_SEND_REDIRECTS = 2;
const PORT_OFFLOAD = 4;
/** Ports the core keeps per-port state for (assembly/dp/ports.ts MAX_PORTS). */
const MAX_CORE_PORTS = 256;

/**
 * A source of routes the router holds besides its config (host/router/kernel-sync.ts): a SIGHUP
 * reload leaves its routes alone, except where the new config adds a route at one of their keys.
 */
/** Where a route sits in the FIB: table, prefix and (when known) metric. */
export type RouteSlot = Pick<Route, "table" | "prefix" | "len"> & { metric?: number };

export interface RouteSource {
  /**
   * Inside the reload's FIB transaction, before the config's routes change: give up the routes at
   * these keys (a slot without a metric: every metric of its prefix).
   */
  yieldTo(slots: readonly RouteSlot[]): void;
  /** After every reload, applied or refused. */
  afterReload(): void;
  /** Called once by Router.stop(). */
  stop(): void;
  /** For the metrics: what it mirrors, how many routes it holds in the FIB, whether it is in sync. */
  status(): { table: string; netns: string; routes: number; synced: boolean };
}

export class Router {
  readonly fib: Fib;
  readonly cache: RouteCache;
  /** Wall time of each GC step the core runs (the metrics histogram, host/cache/gc-step-timer.ts). */
  readonly gcSteps: GcStepTimer;
  readonly dp: DataPlane;
  readonly neigh: NeighTable;
  readonly routeSysctls: RouteSysctls;
  readonly ifSysctls: IfSysctls;
  readonly log: Logger;
  private config: RouterConfig;
  private readonly opts: RouterOptions;

  /** The configuration in effect: what a reload is diffed against. */
  get activeConfig(): RouterConfig {
    return this.config;
  }
  private readonly x: DataPlaneExports;
  private readonly leak = new LeakAlarm();
  private timers: NodeJS.Timeout[] = [];
  private lastLeakSample = 0;
  /** The statistics directory's writer (opts.procDir). */
  private readonly procWriter: ProcDirWriter | undefined;
  readonly ports = new Map<string, OpenedPort & { ifindex: number }>();
  /** Run-time route sources (`--sync-from-kernel`), stopped with the router. */
  readonly routeSources: RouteSource[] = [];

  private constructor(config: RouterConfig, opts: RouterOptions) {
    this.config = config;
    this.opts = opts;
    this.log = opts.logger ?? new Logger();
    this.fib = new Fib();
    this.routeSysctls = new RouteSysctls();
    this.ifSysctls = new IfSysctls(config.links.map((l) => l.name));
    const clock = opts.clock ?? (() => performance.now());
    if (opts.rhashEntries !== undefined) this.routeSysctls.set("rhash_entries", String(opts.rhashEntries));
    this.cache = new RouteCache(this.fib, { buckets: opts.buckets ?? this.routeSysctls.buckets, now: clock() >>> 0 });
    this.gcSteps = new GcStepTimer(this.fib.core);
    this.cache.set("overflowForward", opts.overflow === "kernel" ? 0 : 1);
    if (opts.gcStepBudget !== undefined) this.cache.set("gcStepBudget", opts.gcStepBudget);
    if (opts.overflowBackoffMs !== undefined) this.cache.set("overflowBackoffMs", opts.overflowBackoffMs);
    this.dp = new DataPlane(this.fib.core, {
      slots: opts.slots,
      busyPoll: opts.busyPoll,
      pollWindowUs: opts.pollWindowUs,
      clock,
      slotBytes: slotBytesFor(config),
      onPortError: (port, message) => this.log.log("error", "port_failed", `${port}: device failed, port stopped: ${message}`, { port }),
    });
    this.x = this.dp.x;
    this.neigh = new NeighTable(this.fib.core, (i) => this.fib.ifaces.name(i) ?? `if${i}`, clock);
    this.procWriter = opts.procDir
      ? new ProcDirWriter(opts.procDir, (e) => this.log.limited("warn", "stats_write_failed", `statistics directory ${opts.procDir}: ${e.message}`, {}))
      : undefined;
  }

  /** Builds and starts a router from a parsed configuration; throws (having released everything) on failure. */
  static start(config: RouterConfig, opts: RouterOptions = {}): Router {
    const r = Router.open(config, opts);
    r.run();
    return r;
  }

  /**
   * Builds a router and opens its ports without forwarding yet (run() starts it): `wasmroute run --user`
   * drops its privileges in between. Throws (having released everything) on failure.
   */
  static open(config: RouterConfig, opts: RouterOptions = {}): Router {
    const r = new Router(config, opts);
    try {
      r.applyControlPlane();
      r.openPorts();
    } catch (e) {
      r.stop();
      throw e;
    }
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
    this.neigh.setParams(this.ifSysctls.neighParams(), (dev) => this.fib.ifaces.find(dev));
  }

  /** Addresses (their kernel routes), routes and rules, in one FIB transaction. */
  private applyAddressesAndRoutes(): void {
    const c = this.config;
    this.fib.transaction(() => {
      for (const a of c.addrs) for (const r of addressRoutes(a)) this.fib.addRoute(r, "replace");
      for (const r of c.routes) addConfigRoute(this.fib, r);
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
    for (const l of this.config.links) {
      const ifindex = this.fib.ifaces.index(l.name);
      const eff = this.ifSysctls.effective(l.name);
      const hasAddresses = this.config.addrs.some((a) => a.dev === l.name);
      this.cache.setInterface(l.name, { forwarding: eff.forwarding, rpFilter: eff.rpFilter, hasAddresses, acceptLocal: eff.acceptLocal, srcValidMark: eff.srcValidMark });
      const port = this.ports.get(l.name);
      const rc = this.setCorePort(ifindex, port?.mac ?? l.mac, l.mtu, PORT_UP | (eff.sendRedirects ? PORT_SEND_REDIRECTS : 0) | (port?.device.offload ? PORT_OFFLOAD : 0));
      if (rc !== 0) throw new Error(`${l.name}: the data plane refused the port (ifindex ${ifindex}, mtu ${l.mtu})`);
    }
  }

  /** dp_port_set: the core's view of one port (its MAC, MTU, up and redirect flags). Returns its status. */
  private setCorePort(ifindex: number, mac: Uint8Array | undefined, mtu: number, flags: number): number {
    const core = this.fib.core;
    const p = core.alloc(8);
    if (mac) new Uint8Array(core.x.memory.buffer, p, 6).set(mac);
    const rc = this.x.dp_port_set(ifindex, p, mtu, flags);
    core.x.mem_free(p, 8);
    return rc;
  }

  // ── devices ─────────────────────────────────────────────────────────────────

  private openPorts(): void {
    for (const l of this.config.links) this.openPort(l, openLink(l));
    for (const name of [...(this.opts.capture?.keys() ?? []), ...(this.opts.pcapIn?.keys() ?? [])]) {
      if (!this.ports.has(name)) throw new Error(`no link named "${name}" for --capture/--pcap-in`);
    }
    this.applyInterfaces(); // now with the MACs the devices have
    for (const [name, file] of this.opts.pcapIn ?? []) this.dp.inject(this.ports.get(name)!.ifindex, readPcap(file).map((f) => f.data));
  }

  private openPort(l: ConfigLink, opened: OpenedPort): void {
    const ifindex = this.fib.ifaces.index(l.name);
    this.ports.set(l.name, { ...opened, ifindex });
    const cap = this.opts.capture?.get(l.name);
    this.dp.addPort(ifindex, l.name, opened.device, cap ? new PcapWriter(cap) : undefined);
  }

  /** Frames the core dropped, by the ifindex of the port they came in on (a copy of dp_port_drops). */
  portDrops(): Uint32Array {
    const p = this.x.dp_port_drops() >>> 2;
    return this.fib.core.u32().slice(p, p + MAX_CORE_PORTS);
  }

  /** The ports as `ip -s -s link show` describes links (host/router/links.ts says where each counter comes from). */
  links(): LinkView[] {
    const mtu = new Map(this.config.links.map((l) => [l.name, l.mtu]));
    return linkViews(this.dp.stats(), (name) => this.ports.get(name)?.mac, (name) => mtu.get(name) ?? 1500, this.portDrops());
  }

  /** Starts forwarding: the ports' loop, the timers, the first statistics. */
  run(): void {
    this.dp.start(); // and the core's timers, run when due (host/router/tick-schedule.ts)
    this.timers.push(setInterval(() => this.everySecond(), 1000));
    this.everySecond();
  }

  private everySecond(): void {
    const now = this.now();
    const ev = this.cache.takeEvents();
    // The GC reports every failure at max_size (gc_dst_overflow, §3.2 step 8); only the kernel mode turns
    // it into a drop. In forward mode the same failures are the uncached decisions, logged below.
    if (this.opts.overflow !== "kernel") ev.overflow = 0;
    if (ev.overflow > 0) this.log.limited("warn", "dst_cache_overflow", "dst cache overflow", { drops: ev.overflow });
    if (ev.uncached > 0) this.log.limited("warn", "cache_full", "route cache full: forwarding without caching", { uncached: ev.uncached, allocated: this.cache.allocated });
    if (ev.rebuild > 0) this.log.log("warn", "emergency_rebuild", "Route hash chain too long! (emergency rebuild)", { count: ev.rebuild });
    if (ev.disabled > 0) this.log.log("error", "caching_disabled", `${this.cache.state().rebuildCount} rebuilds is over limit, route caching disabled`);
    this.noteAlarms(ev, now); // control socket / metrics hook (#6)
    const nev = this.neigh.takeEvents();
    if (nev.tableOverflows > 0) this.log.limited("warn", "neighbour_table_overflow", "Neighbour table overflow", { drops: nev.tableOverflows });
    if (now - this.lastLeakSample >= 10_000 || this.lastLeakSample === 0) {
      this.lastLeakSample = now || 1;
      const alarm = this.leak.sample(this.cache.allocated, this.cache.hashed, this.cache.garbageOldestAgeMs(now), this.cache.holders(now));
      if (alarm) this.log.log("error", "leak_suspected", alarm.message, { held: alarm.held, oldestHeldMs: alarm.oldestHeldMs });
    }
    this.procWriter?.writeSoon(this.procSnapshot()); // the files' writes off the loop (ProcDirWriter)
  }

  /** Rewrites the statistics directory (atomically, file by file). */
  writeStats(): void {
    this.procWriter?.writeNow(this.procSnapshot());
  }

  private procSnapshot(): ProcSnapshot {
    return {
      snmp: readSnmp(this.fib.core),
      forwarding: this.ifSysctls.ipForward() ? 1 : 2,
      rtCache: [this.cache.counters()],
      arpCache: [this.neigh.arpStat()],
      arp: formatProcNetArp(this.neigh.list()),
    };
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
    this.dp.timersChanged(); // e.g. a new gc_interval
  }

  // ── reload ──────────────────────────────────────────────────────────────────

  /**
   * Applies a changed configuration (SIGHUP): route and rule changes as a diff in one FIB transaction,
   * the cache invalidated lazily as the kernel does on FIB changes (genid bump), neighbours and knobs
   * updated. Added links are opened first (all or none, each asked of opts.linkGuard), removed ones
   * closed once the rest applied; a changed link needs a restart: such a reload is refused as a whole.
   */
  reload(next: RouterConfig, prepared?: PreparedReload): { links: number; routes: number; rules: number; neighs: number; sysctls: number } {
    // A diff worked out elsewhere (reload-prepare.ts) counts only if it was taken against the config in effect.
    const d = prepared && prepared.against === this.config && prepared.next === next ? prepared.diff : diffConfig(this.config, next);
    if (d.linksChanged.length > 0) {
      const what = d.linksChanged.map((c) => `link ${c.next.name} changed (${c.changes.join(", ")})`).join(", ");
      throw new Error(`${what}: restart wasmroute to apply a changed link; nothing was reloaded`);
    }
    for (const l of d.linksAdded) {
      const why = this.opts.linkGuard?.(l) ?? (l.mtu + 14 > this.dp.slotBytes ? `mtu ${l.mtu} is larger than the receive slots sized at start` : undefined);
      if (why) throw new Error(`${next.fileName}:${l.line}: link ${l.name}: ${why}; nothing was reloaded`);
    }
    const syncs = (c: RouterConfig) => c.syncs.map(syncText).join("; ");
    if (syncs(this.config) !== syncs(next)) throw new Error(`sync lines changed ("${syncs(this.config)}" → "${syncs(next)}"): restart wasmroute to apply them; nothing was reloaded`);
    // Validate knobs on scratch copies first, so a bad one changes nothing.
    const routeProbe = new RouteSysctls();
    const ifProbe = new IfSysctls(next.links.map((l) => l.name));
    for (const s of next.sysctls) {
      if (s.name.startsWith("net.ipv4.route.") || s.name === "net.ipv4.rt_cache_rebuild_count") routeProbe.set(s.name, s.value);
      else ifProbe.set(s.name, s.value);
    }
    const opened = this.openAddedLinks(d.linksAdded, next.fileName);
    const prev = this.config;
    this.config = next;
    try {
      this.fib.transaction(() => {
        // Selectors without a metric can take any route of their prefix: the sources give those up too.
        const slots: RouteSlot[] = [...d.routesDel, ...d.routesAdd.map((r) => r.route), ...(d.addrsChanged ? next.addrs.flatMap((a) => addressRoutes(a)) : [])];
        for (const s of this.routeSources) s.yieldTo(slots);
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
      for (const o of opened) o.port.device.close();
      throw e;
    } finally {
      for (const s of this.routeSources) s.afterReload();
    }
    for (const l of d.linksRemoved) this.closeLink(l);
    for (const o of opened) {
      this.ifSysctls.addInterface(o.link.name);
      this.openPort(o.link, o.port);
    }
    this.x.dp_addr_clear();
    for (const a of next.addrs) this.x.dp_addr_add(this.fib.ifaces.index(a.dev), a.addr, a.len);
    for (const s of d.sysctls) this.setSysctl(s.name, s.value);
    this.applyInterfaces();
    this.applyNeighParams();
    for (const n of d.neighsDel) this.neigh.del(n);
    for (const n of d.neighsAdd) this.addNeigh(n);
    this.cache.flush(-1, this.now()); // rt_cache_flush(net, -1): lazy, by generation
    this.dp.timersChanged(); // a static neighbour's held frames go out now, a new gc_interval applies
    return { links: d.linksAdded.length + d.linksRemoved.length, routes: d.routesDel.length + d.routesAdd.length, rules: d.rulesDel.length + d.rulesAdd.length, neighs: d.neighsDel.length + d.neighsAdd.length, sysctls: d.sysctls.length };
  }

  /** Opens the devices of links a reload adds, all or none (a failure closes those already opened). */
  private openAddedLinks(links: readonly ConfigLink[], fileName: string): { link: ConfigLink; port: OpenedPort }[] {
    const opened: { link: ConfigLink; port: OpenedPort }[] = [];
    for (const l of links) {
      try {
        opened.push({ link: l, port: openLink(l) });
      } catch (e) {
        for (const o of opened) o.port.device.close();
        throw new Error(`${fileName}:${l.line}: link ${l.name}: ${(e as Error).message}; nothing was reloaded`);
      }
    }
    return opened;
  }

  /** A link a reload removed: its device closed (a tap disappears), its core port down, its knobs gone. */
  private closeLink(l: ConfigLink): void {
    const p = this.ports.get(l.name);
    if (p) this.dp.removePort(p.ifindex);
    this.ports.delete(l.name);
    this.setCorePort(this.fib.ifaces.index(l.name), p?.mac, l.mtu, 0);
    this.ifSysctls.removeInterface(l.name);
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
    for (const s of this.routeSources.splice(0)) s.stop();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.procWriter?.close();
    this.dp.stop();
    this.ports.clear();
  }
}

/** Receive slots big enough for the largest MTU configured (+ Ethernet header), at least 2048 bytes. */
function slotBytesFor(c: RouterConfig): number {
  return frameSlotBytes(Math.max(1500, ...c.links.map((l) => l.mtu)));
}
