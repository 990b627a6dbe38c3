/**
 * The config's routes and rules replayed on a model of the FIB, in the order Router.start applies them
 * (every address's kernel routes with "replace", then the routes in file order, then the rules). The
 * parser (config.ts) runs it to refuse at its line what the FIB would refuse at start (File exists, a
 * gateway without a connected route); a reload's diff (config-diff.ts) compares two configs' models.
 */
import type { AddMode, Fib } from "../fib/fib.ts";
import { formatIPv4, maskOf } from "../fib/ipv4.ts";
import { assignNexthop } from "../fib/nexthop-rule.ts";
import { ResultStore } from "../fib/results.ts";
import { PrefixMap } from "../fib/prefix-map.ts";
import { TABLE_DEFAULT, TABLE_LOCAL, TABLE_MAIN, type Nexthop, type Route, type Rule } from "../fib/types.ts";
import { formatDst } from "../cli/format.ts";
import { addressRoutes } from "./addresses.ts";
import type { ConfigAddr, ConfigRoute, ConfigRule, RouterConfig } from "./config.ts";

/** One route of the model, as the FIB would store it. */
export interface ModelRoute {
  /** Normalised as the FIB does (devices resolved, `lo` for local routes without one). */
  route: Route;
  /** The config route it came from; undefined for an address's kernel route. */
  source: ConfigRoute | undefined;
  /** The address it came from (kernel routes). */
  addr: ConfigAddr | undefined;
  line: number;
}

/** One (table, prefix, len) of the model: its routes in the FIB's order (metric, then insertion). */
export interface ModelGroup {
  /** "TABLE|PREFIX|LEN" (the diff's map key). */
  readonly key: string;
  table: number;
  prefix: number;
  len: number;
  entries: ModelRoute[];
}

/** A model group whose key string is made when first asked for (a full table's check never asks). */
class Group implements ModelGroup {
  table: number;
  prefix: number;
  len: number;
  entries: ModelRoute[] = [];
  private keyText: string | undefined;
  constructor(table: number, prefix: number, len: number) {
    this.table = table;
    this.prefix = prefix;
    this.len = len;
  }
  get key(): string {
    return (this.keyText ??= groupKey(this.table, this.prefix, this.len));
  }
}

function groupKey(table: number, prefix: number, len: number): string {
  return `${table}|${prefix}|${len}`;
}

/** A `route load` line with its next hops resolved. */
export interface LoadLine {
  source: ConfigRoute;
  hops: readonly Nexthop[];
}

/** Runs f as line `line` (the parser wraps its errors with FILE:LINE; elsewhere it just runs f). */
export type At = <T>(line: number, f: () => T) => T;

const ERR_NH_DEV = "Error: Nexthop device required for a unicast route (give via and/or dev).";

function resultKey(r: Route): string {
  return ResultStore.keyOf(r.type, r.nexthops, r.src ?? 0);
}

function describe(e: ModelRoute): string {
  if (e.addr) return `the kernel route of address ${formatIPv4(e.addr.addr)}/${e.addr.len} dev ${e.addr.dev} (line ${e.addr.line})`;
  return `the route on line ${e.line}`;
}

/** One successful `route` line of the config, as replayed on the model. */
export interface ModelOp {
  /** The (table, prefix, len) group it acts on (ModelGroup.key). */
  key: string;
  mode: AddMode;
  /** Normalised. */
  route: Route;
  source: ConfigRoute;
}

export class RouteModel {
  /** Every group made, in order (with expandLoads off, a listed prefix only once something asks for it: groupAt). */
  readonly groups: Group[] = [];
  /** Groups by table, prefix length and prefix (numbers: no key string per route). */
  private readonly byTable = new Map<number, Map<number, Group>[]>();
  /** The ops of the lines other than `route load` (a listed prefix's op is made when asked: loadOp). */
  readonly ops: ModelOp[] = [];
  /** Whether add() records ops (the reload diff needs them; the parse's check does not). */
  private readonly recordOps: boolean;
  /**
   * Whether a `route load` line's prefixes become groups at once (routeModel, for tests). Otherwise they
   * stay in `listed`, without objects, and a prefix becomes a group only when something asks for it:
   * another line that touches it (a clash, `replace`, `append`, a gateway resolved through it) or the diff.
   */
  private readonly expandLoads: boolean;
  /** The load line that lists each prefix, by table and length: 1 + loadLines index (a prefix is listed once). */
  private readonly listed = new Map<number, PrefixMap[]>();
  private readonly loadLines: LoadLine[] = [];
  constructor(recordOps: boolean, expandLoads: boolean) {
    this.recordOps = recordOps;
    this.expandLoads = expandLoads;
  }

  /** A `route load` line, its hops resolved: each prefix as `route add` (File exists on a clash). */
  addLoad(r: ConfigRoute, hops: readonly Nexthop[]): void {
    const src = { source: r, line: r.line };
    if (this.expandLoads) {
      for (const route of expandLoad(r, hops)) this.add(route, "add", src, true);
      return;
    }
    const table = r.route.table;
    const id = this.loadLines.push({ source: r, hops });
    let lens = this.listed.get(table);
    if (!lens) this.listed.set(table, (lens = []));
    const { addrs, lens: plens } = r.load!;
    for (let i = 0; i < addrs.length; i++) {
      const prefix = addrs[i]!;
      const len = plens[i]!;
      const index = (lens[len] ??= new PrefixMap());
      const earlier = index.get(prefix);
      if (earlier === 0) {
        index.set(prefix, id);
        if (!this.byTable.get(table)?.[len]?.has(prefix | 0)) continue; // kept without objects
      }
      this.add(loadRoute(r, hops, prefix, len), "add", src, true); // a clash, or another line's prefix: as before
    }
  }

  /** The load line that lists table/len/prefix, if one does. */
  listedBy(table: number, len: number, prefix: number): LoadLine | undefined {
    const index = this.listed.get(table)?.[len];
    const id = index ? index.get(prefix) : 0;
    return id === 0 ? undefined : this.loadLines[id - 1];
  }

  /** Every listed prefix that is not a group (yet), as (table, len, prefix, its load line). */
  forEachListedOnly(f: (table: number, len: number, prefix: number, line: LoadLine) => void): void {
    for (const [table, lens] of this.listed) {
      lens.forEach((index, len) => {
        const groups = this.byTable.get(table)?.[len];
        index.forEach((prefix, id) => {
          if (!groups?.has(prefix | 0)) f(table, len, prefix, this.loadLines[id - 1]!);
        });
      });
    }
  }

  /** The op a load line's prefix stands for (`route add` of its route), for the diff's replay. */
  static loadOp(line: LoadLine, table: number, len: number, prefix: number): ModelOp {
    return { key: groupKey(table, prefix, len), mode: "add", route: loadRoute(line.source, line.hops, prefix, len), source: line.source };
  }

  /** The group of table/len/prefix, made from a `route load` line's prefix if only that line holds it. */
  groupAt(table: number, len: number, prefix: number): Group | undefined {
    const g = this.byTable.get(table)?.[len]?.get(prefix | 0);
    if (g || this.expandLoads) return g;
    const line = this.listedBy(table, len, prefix);
    if (!line) return undefined;
    const made = this.newGroup(table, len, prefix);
    made.entries = [{ route: loadRoute(line.source, line.hops, prefix, len), source: line.source, addr: undefined, line: line.source.line }];
    return made;
  }

  private newGroup(table: number, len: number, prefix: number): Group {
    let lens = this.byTable.get(table);
    if (!lens) this.byTable.set(table, (lens = []));
    const byPrefix = (lens[len] ??= new Map());
    const g = new Group(table, prefix, len);
    byPrefix.set(prefix | 0, g); // an int32 key stays a small integer
    this.groups.push(g);
    return g;
  }

  /** normalised: the route's next hops are already as normalise() leaves them (a `route load` line's). */
  add(route: Route, mode: AddMode, src: { source?: ConfigRoute; addr?: ConfigAddr; line: number }, normalised = false): void {
    const r = normalised ? route : this.normalise(route);
    const g = this.groupAt(r.table, r.len, r.prefix) ?? this.newGroup(r.table, r.len, r.prefix);
    const entry: ModelRoute = { route: r, source: src.source, addr: src.addr, line: src.line };
    const same = g.entries.findIndex((e) => e.route.metric === r.metric);
    if (mode === "add" && same >= 0) {
      throw new Error(`RTNETLINK answers: File exists (${describe(g.entries[same]!)} has the same prefix, table and metric; use "route replace" or "route append")`);
    }
    if (mode === "change" && same < 0) throw new Error("RTNETLINK answers: No such file or directory");
    if (mode === "append") {
      const k = resultKey(r);
      const dup = g.entries.find((e) => e.route.metric === r.metric && resultKey(e.route) === k);
      if (dup) throw new Error(`RTNETLINK answers: File exists (${describe(dup)} is the same route)`);
    }
    if (src.source && !src.source.load && this.recordOps) this.ops.push({ key: g.key, mode, route: r, source: src.source });
    if ((mode === "replace" || mode === "change") && same >= 0) {
      g.entries[same] = entry;
      return;
    }
    if (g.entries.length === 0) {
      g.entries = [entry]; // exact length: a push or splice on an empty array reserves 17 slots
      return;
    }
    let at = g.entries.length;
    while (at > 0 && g.entries[at - 1]!.route.metric > r.metric) at--;
    g.entries.splice(at, 0, entry);
  }

  /** Fib.normalise: next hops resolved, `lo` for a local/broadcast route without one. */
  normalise(r: Route): Route {
    let nexthops: Nexthop[] = [];
    if (r.type === "unicast" || r.type === "local" || r.type === "broadcast") {
      if (r.nexthops.length === 0 && r.type === "unicast") throw new Error(ERR_NH_DEV);
      nexthops = r.nexthops.map((nh) => this.resolve(nh, r.type === "unicast"));
      if (nexthops.length === 0) nexthops = [{ gateway: 0, dev: "lo", weight: 1, onlink: false }];
    }
    return { ...r, table: r.table === 0 ? TABLE_MAIN : r.table, nexthops };
  }

  private resolve(nh: Nexthop, unicast: boolean): Nexthop {
    if (nh.onlink && !nh.dev) throw new Error("Error: Nexthop device required for onlink.");
    if (nh.dev) return nh;
    if (!unicast || nh.gateway === 0) return { ...nh, dev: "lo" };
    // `via GW` without `dev`: table main must reach GW by a directly connected unicast route.
    const g = this.lookupMain(nh.gateway);
    const best = g?.entries[0]?.route;
    const hop = best && best.type === "unicast" && best.nexthops.length === 1 ? best.nexthops[0] : undefined;
    if (!hop || hop.gateway !== 0) {
      const why = !best ? "no route in table main reaches it" : `table main reaches it by ${formatDst(best.prefix, best.len)}, which is not a directly connected route`;
      throw new Error(`Error: Nexthop has invalid gateway. (${formatIPv4(nh.gateway)}: ${why}; add "dev NAME" or an address on its subnet)`);
    }
    return { ...nh, dev: hop.dev };
  }

  private lookupMain(addr: number): ModelGroup | undefined {
    for (let len = 32; len >= 0; len--) {
      const g = this.groupAt(TABLE_MAIN, len, (addr & maskOf(len)) >>> 0);
      if (g && g.entries.length > 0) return g;
    }
    return undefined;
  }
}

const noWrap: At = (_line, f) => f();

/**
 * The routes the FIB holds after Router.start applies `c` (every address's kernel routes with
 * "replace", then the routes in file order), grouped by (table, prefix, len) in first-insertion order.
 */
export function routeModel(c: RouterConfig): ModelGroup[] {
  return buildRouteModel(c, noWrap, { recordOps: false, expandLoads: true }).groups;
}

/** What the reload diff replays a config on: its route model (listed prefixes kept without objects), and more. */
export interface RouteReplay {
  /** The groups after the address phase alone (what the config's routes start from). */
  base: ModelGroup[];
  /** The final state: groups made so far, and the rest on demand (groupAt, forEachListedOnly). */
  model: RouteModel;
  /** Every route line but `route load` with its normalised route, in file order (RouteModel.loadOp for those). */
  ops: ModelOp[];
}

export function routeReplay(c: RouterConfig): RouteReplay {
  const base = buildRouteModel({ ...c, routes: [] }, noWrap, { recordOps: false, expandLoads: false }).groups;
  const m = buildRouteModel(c, noWrap, { recordOps: true, expandLoads: false });
  return { base, model: m.model, ops: m.ops };
}


/** The config's routes replayed on a model (RouteModel's options); the parse's check uses it for its errors. */
export function buildRouteModel(
  c: RouterConfig, at: At, opts: { recordOps: boolean; expandLoads: boolean },
): { groups: ModelGroup[]; ops: ModelOp[]; model: RouteModel } {
  const m = new RouteModel(opts.recordOps, opts.expandLoads);
  for (const a of c.addrs) {
    at(a.line, () => {
      for (const r of addressRoutes(a)) m.add(r, "replace", { addr: a, line: a.line });
    });
  }
  for (const r of c.routes) {
    at(r.line, () => {
      if (!r.load) return m.add(r.route, r.mode, { source: r, line: r.line });
      // The hops are resolved once for the whole list, as Fib.loadCidrList does; every prefix's route
      // has the line itself as its source.
      m.addLoad(r, m.normalise(r.route).nexthops);
    });
  }
  return { groups: m.groups, ops: m.ops, model: m };
}

/** Adds one config route line to the FIB as Router.start does (a `route load` line: its whole list). */
export function addConfigRoute(fib: Fib, r: ConfigRoute): void {
  if (r.load) fib.loadCidrList(r.load.addrs, r.load.lens, { table: r.route.table, nexthops: r.route.nexthops });
  else fib.addRoute(r.route, r.mode);
}

/**
 * The routes of a `route load` line, one `route add` each, as Fib.loadCidrList adds them: prefix
 * addr/len takes hop assignNexthop(addr, len, hops) of the line's hops (host/fib/nexthop-rule.ts).
 */
function* expandLoad(r: ConfigRoute, hops: readonly Nexthop[]): Generator<Route> {
  const { addrs, lens } = r.load!;
  for (let i = 0; i < addrs.length; i++) yield loadRoute(r, hops, addrs[i]!, lens[i]!);
}

/** Prefix addr/len of `route load` line r, as `route add` with its hop. */
function loadRoute(r: ConfigRoute, hops: readonly Nexthop[], prefix: number, len: number): Route {
  return { ...r.route, prefix, len, nexthops: [hops[assignNexthop(prefix, len, hops.length)]!] };
}

/** One rule of the model with the priority the FIB gives it. */
export interface ModelRule {
  rule: Rule;
  /** Undefined for the three default rules. */
  source: ConfigRule | undefined;
}

function sameRule(a: Rule, b: Rule): boolean {
  return (
    a.priority === b.priority && a.src === b.src && a.srcLen === b.srcLen && a.dst === b.dst && a.dstLen === b.dstLen &&
    a.iif === b.iif && a.tos === b.tos && a.fwmark === b.fwmark && a.fwmask === b.fwmask && a.action === b.action &&
    (a.action !== "lookup" || a.table === b.table)
  );
}

/** The rule list after Router.start applies `c` (the defaults 0/32766/32767 included), in priority order. */
export function ruleModel(c: RouterConfig): ModelRule[] {
  return buildRuleModel(c, noWrap);
}

export function buildRuleModel(c: RouterConfig, at: At): ModelRule[] {
  const base = (priority: number, table: number): ModelRule => ({
    rule: { priority, src: 0, srcLen: 0, dst: 0, dstLen: 0, iif: "", tos: 0, fwmark: 0, fwmask: 0, action: "lookup", table },
    source: undefined,
  });
  const list: ModelRule[] = [base(0, TABLE_LOCAL), base(32766, TABLE_MAIN), base(32767, TABLE_DEFAULT)];
  for (const cr of c.rules) {
    at(cr.line, () => {
      const r = cr.rule;
      // Fib.addRule: without a priority, one below the second rule's (the kernel's default).
      const priority = r.priority ?? (list.length >= 2 && list[1]!.rule.priority > 0 ? list[1]!.rule.priority - 1 : 0);
      const rule: Rule = { ...r, priority };
      const dup = list.find((x) => sameRule(x.rule, rule));
      if (dup) throw new Error(`RTNETLINK answers: File exists (${dup.source ? `the same rule is on line ${dup.source.line}` : "it is a default rule"})`);
      let i = list.findIndex((x) => x.rule.priority > priority);
      if (i < 0) i = list.length;
      list.splice(i, 0, { rule, source: cr });
    });
  }
  return list;
}
