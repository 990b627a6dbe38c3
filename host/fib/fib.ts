/**
 * The control plane of the FIB: routing tables (RIB: every route, all metrics), policy rules, and the
 * incremental updates pushed into the WebAssembly lookup structure. Semantics follow Linux's
 * fib_table_insert / fib_table_delete / fib_rules: lowest metric wins per prefix, `add` refuses an
 * existing metric, `append` adds after it, `replace` swaps it, `change` needs it to exist.
 *
 * What the core is told is table-sync.ts's job; the rules' checks and encoding are rule-list.ts's.
 * Every mutation runs in a transaction: a throw anywhere inside `transaction()` restores every route
 * set and rule it touched, so a bad line in a file leaves nothing half-applied.
 */
import { Core, ROUTE1_OUT, type BuildFlavor } from "../core/load.ts";
import { Interfaces } from "./interfaces.ts";
import { ResultStore } from "./results.ts";
import { assignNexthop } from "./nexthop-rule.ts";
import { FibError } from "./fib-error.ts";
import { maskOf } from "./ipv4.ts";
import { defaultRules, encodeRules, insertRule, removeRule, type RuleSelector } from "./rule-list.ts";
import { newRibTable, TableSync, type Entry, type RibTable, type RouteSet } from "./table-sync.ts";
import { TABLE_MAIN, type Nexthop, type Route, type RouteAnswer, type RouteQuery, type RouteTypeName, type Rule } from "./types.ts";

export { FibError } from "./fib-error.ts";
export { maskOf } from "./ipv4.ts";
export type { RuleSelector } from "./rule-list.ts";

export type AddMode = "add" | "append" | "replace" | "change";

export interface RouteSelector {
  prefix: number;
  len: number;
  table: number;
  type?: RouteTypeName;
  metric?: number;
  gateway?: number;
  dev?: string;
  proto?: string;
  scope?: string;
}

interface Txn {
  touched: Map<RouteSet, { table: RibTable; entries: Entry[] }>;
  fresh: RouteSet[]; // sets created in this transaction (empty before it)
  freshTables: RibTable[];
  acquired: number[]; // result references taken
  released: number[]; // result references to drop on commit
  rules?: Rule[];
}

const NONE = 0xffffffff;

export class Fib {
  readonly core: Core;
  readonly ifaces = new Interfaces();
  private results: ResultStore;
  private tables = new Map<number, RibTable>();
  private byCore = new Map<number, RibTable>();
  private readonly sync: TableSync;
  private ruleList: Rule[] = [];
  private txn: Txn | undefined;
  private readonly idleTxn: Txn = { touched: new Map(), fresh: [], freshTables: [], acquired: [], released: [] };

  /** `module`: another build of the core, compiled (bench/ab.ts); otherwise the build flavour `flavor` of wasm/. */
  constructor(opts: { flavor?: BuildFlavor; module?: WebAssembly.Module } = {}) {
    this.core = new Core(opts.module ?? opts.flavor);
    this.results = new ResultStore(this.core, this.ifaces);
    this.sync = new TableSync(this.core);
    this.ruleList = defaultRules();
    this.commitRules();
  }

  // ── transactions ────────────────────────────────────────────────────────────

  /** Runs fn all-or-nothing: any throw restores every route and rule it changed. */
  transaction<T>(fn: () => T): T {
    if (this.txn) return fn();
    const txn = this.idleTxn;
    this.txn = txn;
    try {
      const r = fn();
      this.txn = undefined;
      this.flush();
      for (let i = 0; i < txn.released.length; i++) this.results.release(txn.released[i]!);
      if (txn.touched.size > 0) for (const [set, { table }] of txn.touched) this.dropIfEmpty(table, set);
      for (let i = 0; i < txn.fresh.length; i++) this.dropIfEmpty(txn.freshTables[i]!, txn.fresh[i]!);
      return r;
    } catch (e) {
      this.txn = undefined;
      this.rollback(txn);
      throw e;
    } finally {
      if (txn.touched.size > 0) txn.touched.clear();
      txn.fresh.length = txn.freshTables.length = txn.acquired.length = txn.released.length = 0;
      txn.rules = undefined;
    }
  }

  private rollback(txn: Txn): void {
    for (const [set, { table, entries }] of txn.touched) {
      set.entries = entries;
      table.sets[set.len]!.set(set.addr | 0, set);
      this.publish(table, set);
    }
    txn.fresh.forEach((set, i) => {
      set.entries = [];
      this.publish(txn.freshTables[i]!, set);
    });
    for (const [set, { table }] of txn.touched) this.dropIfEmpty(table, set);
    txn.fresh.forEach((set, i) => this.dropIfEmpty(txn.freshTables[i]!, set));
    for (const id of txn.acquired) this.results.release(id);
    if (txn.rules) {
      this.ruleList = txn.rules;
      this.commitRules();
    }
    this.flush();
  }

  private touch(table: RibTable, set: RouteSet): void {
    const t = this.txn!;
    if (!set.fresh && !t.touched.has(set)) t.touched.set(set, { table, entries: set.entries.slice() });
  }

  private dropIfEmpty(table: RibTable, set: RouteSet): void {
    set.fresh = false;
    const m = table.sets[set.len]!;
    if (set.entries.length === 0 && set.best === 0 && m.get(set.addr | 0) === set) m.delete(set.addr | 0);
  }

  /** The route set of addr/len, created (and recorded as fresh in the transaction) if asked. */
  private setOf(table: RibTable, addr: number, len: number, create: boolean): RouteSet | undefined {
    const m = table.sets[len]!;
    let set = m.get(addr | 0);
    if (!set && create) {
      set = { addr, len, entries: [], best: 0, fresh: true };
      m.set(addr | 0, set);
      this.txn!.fresh.push(set);
      this.txn!.freshTables.push(table);
    }
    return set;
  }

  // ── tables ──────────────────────────────────────────────────────────────────

  private table(id: number, create: boolean): RibTable | undefined {
    let t = this.tables.get(id);
    if (!t && create) {
      const core = this.core.x.fib_table_create();
      if (core === -1) throw new FibError(28, `wasmroute: too many routing tables (at most 1024)`);
      if (core < 0) throw new FibError(12, `wasmroute: core out of memory creating table ${id}`);
      t = newRibTable(id, core);
      this.tables.set(id, t);
      this.byCore.set(core, t);
      this.commitRules(); // rules name tables by core index
    }
    return t;
  }

  /** Ids of the tables that exist, ascending. */
  tableIds(): number[] {
    return [...this.tables.keys()].sort((a, b) => a - b);
  }

  // ── routes ──────────────────────────────────────────────────────────────────

  addRoute(r: Route, mode: AddMode = "add"): void {
    this.transaction(() => this.addRouteIn(r, mode));
  }

  private addRouteIn(r: Route, mode: AddMode): void {
    const route = this.normalise(r);
    this.insert(this.table(route.table, true)!, route, mode, this.results.acquire(route.type, route.nexthops, route.src ?? 0));
  }

  // Inserts a normalised route whose result reference (taken by the caller) it now owns.
  private insert(table: RibTable, route: Route, mode: AddMode, result: number): void {
    this.txn!.acquired.push(result);
    const set = this.setOf(table, route.prefix, route.len, true)!;
    this.touch(table, set);
    let same = -1;
    for (let i = 0; i < set.entries.length; i++) if (set.entries[i]!.route.metric === route.metric) { same = i; break; }
    const entry: Entry = { route, result };
    if (mode === "add" && same >= 0) throw new FibError(17);
    if (mode === "change" && same < 0) throw new FibError(2);
    if (mode === "append" && set.entries.some((e) => e.result === entry.result && e.route.metric === route.metric)) {
      throw new FibError(17);
    }
    if ((mode === "replace" || mode === "change") && same >= 0) {
      this.txn!.released.push(set.entries[same]!.result);
      set.entries[same] = entry;
    } else {
      let at = set.entries.length;
      while (at > 0 && set.entries[at - 1]!.route.metric > route.metric) at--;
      // A new array of exact length: push on an empty array would reserve 17 slots, and almost every
      // prefix of a full table holds one route.
      const next = new Array<Entry>(set.entries.length + 1);
      for (let i = 0, j = 0; i < next.length; i++) next[i] = i === at ? entry : set.entries[j++]!;
      set.entries = next;
    }
    this.publish(table, set);
  }

  /** Checks a route and fills in what iproute2 and the kernel fill in. */
  private normalise(r: Route): Route {
    if (!Number.isInteger(r.len) || r.len < 0 || r.len > 32) throw new FibError(22, `invalid prefix length ${r.len}`);
    if (((r.prefix & ~maskOf(r.len)) >>> 0) !== 0) throw new FibError(22, "Error: Invalid prefix for given prefix length.");
    const table = r.table === 0 ? TABLE_MAIN : r.table;
    if (!Number.isInteger(table) || table < 1 || table > 0xffffffff) throw new FibError(22, `invalid table id ${r.table}`);
    if (!Number.isInteger(r.metric) || r.metric < 0 || r.metric > 0xffffffff) throw new FibError(22, `invalid metric ${r.metric}`);
    let nexthops: Nexthop[] = [];
    if (r.type === "unicast" || r.type === "local" || r.type === "broadcast") {
      if (r.nexthops.length === 0 && r.type === "unicast") throw new FibError(22, "Error: Nexthop device required for a unicast route (give via and/or dev).");
      nexthops = r.nexthops.map((nh) => this.resolveNexthop(nh, r.type));
      if (nexthops.length === 0) nexthops = [{ gateway: 0, dev: "lo", weight: 1, onlink: false }];
    }
    return { ...r, table, nexthops };
  }

  private resolveNexthop(nh: Nexthop, type: RouteTypeName): Nexthop {
    if (!Number.isInteger(nh.weight) || nh.weight < 1 || nh.weight > 256) throw new FibError(22, `invalid weight ${nh.weight} (1..256)`);
    if (nh.onlink && !nh.dev) throw new FibError(22, "Error: Nexthop device required for onlink.");
    if (nh.dev) {
      this.ifaces.index(nh.dev);
      return nh;
    }
    if (type !== "unicast" || nh.gateway === 0) return { ...nh, dev: "lo" };
    // `via GW` without `dev`: the gateway must be directly reachable (the kernel's fib_check_nh).
    this.flush();
    const main = this.tables.get(TABLE_MAIN);
    const res = main ? this.core.x.fib_lookup(main.core, nh.gateway) >>> 0 : 0;
    const e = res ? this.results.entry(res) : undefined;
    const hop = e && e.type === "unicast" && e.nexthops.length === 1 ? e.nexthops[0] : undefined;
    if (!hop || hop.gateway !== 0) throw new FibError(22, "Error: Nexthop has invalid gateway.");
    return { ...nh, dev: hop.dev };
  }

  delRoute(sel: RouteSelector): Route {
    return this.transaction(() => {
      const table = this.table(sel.table === 0 ? TABLE_MAIN : sel.table, false);
      const set = table && sel.len >= 0 && sel.len <= 32 ? this.setOf(table, sel.prefix >>> 0, sel.len, false) : undefined;
      const i = set ? set.entries.findIndex((e) => routeMatches(e.route, sel)) : -1;
      if (!table || !set || i < 0) throw new FibError(3);
      this.touch(table, set);
      const [gone] = set.entries.splice(i, 1);
      this.txn!.released.push(gone!.result);
      this.publish(table, set);
      return gone!.route;
    });
  }

  /** Removes every route of a table; returns how many. */
  flushTable(id: number): number {
    return this.transaction(() => {
      const table = this.table(id, false);
      if (!table) return 0;
      let n = 0;
      for (const set of table.sets.flatMap((m) => [...m.values()])) {
        if (set.entries.length === 0) continue;
        this.touch(table, set);
        for (const e of set.entries) this.txn!.released.push(e.result);
        n += set.entries.length;
        set.entries = [];
        this.publish(table, set);
      }
      return n;
    });
  }

  /** Loads a plain CIDR list as unicast routes; hop i of `nexthops` per assignNexthop (nexthop-rule.ts). */
  loadCidrList(addrs: Uint32Array, lens: Uint8Array, opts: { table: number; nexthops: Nexthop[] }): void {
    if (opts.nexthops.length === 0) throw new Error("loadCidrList: no next hops to assign");
    this.transaction(() => {
      // One normalised route shape and one result per hop; each route then only takes a reference.
      const hops = opts.nexthops.map((nh) => {
        const r = this.normalise({ prefix: 0, len: 0, type: "unicast", table: opts.table, metric: 0, nexthops: [nh] });
        return { nexthops: r.nexthops, result: this.results.acquire("unicast", r.nexthops, 0) };
      });
      this.txn!.acquired.push(...hops.map((h) => h.result));
      const table = this.table(opts.table === 0 ? TABLE_MAIN : opts.table, true)!;
      for (let i = 0; i < addrs.length; i++) {
        const addr = addrs[i]!;
        const len = lens[i]!;
        if (len > 32 || ((addr & ~maskOf(len)) >>> 0) !== 0) throw new FibError(22, "Error: Invalid prefix for given prefix length.");
        const hop = hops[assignNexthop(addr, len, hops.length)]!;
        this.results.ref(hop.result);
        this.insert(table, { prefix: addr, len, type: "unicast", table: table.id, metric: 0, nexthops: hop.nexthops }, "add", hop.result);
      }
      for (const h of hops) this.txn!.released.push(h.result); // the routes hold their own references
    });
  }

  /** The routes of one prefix of a table, best (lowest metric) first; empty when there are none. */
  routesAt(tableId: number, prefix: number, len: number): readonly Route[] {
    const t = this.tables.get(tableId === 0 ? TABLE_MAIN : tableId);
    const set = t && len >= 0 && len <= 32 ? t.sets[len]!.get(prefix | 0) : undefined;
    return set ? set.entries.map((e) => e.route) : [];
  }

  /** Every route of a table (or of all tables), in the kernel's dump order. */
  routes(which: number | "all"): Route[] {
    const ids = which === "all" ? this.tableIds() : [which === 0 ? TABLE_MAIN : which];
    const out: Route[] = [];
    for (const id of ids) {
      const t = this.tables.get(id);
      if (!t) continue;
      const sets = t.sets.flatMap((m) => [...m.values()]).filter((s) => s.entries.length > 0);
      sets.sort((a, b) => a.addr - b.addr || b.len - a.len);
      for (const s of sets) for (const e of s.entries) out.push(e.route);
    }
    return out;
  }

  // Tells the core that the best route of `set` may have changed (table-sync.ts); outside a transaction at once.
  private publish(table: RibTable, set: RouteSet): void {
    this.sync.publish(table, set);
    if (!this.txn) this.sync.flush();
  }

  /** Rebuilds every /16 changed since the last flush (table-sync.ts). */
  flush(): void {
    this.sync.flush();
  }

  // ── rules ───────────────────────────────────────────────────────────────────

  rules(): Rule[] {
    return this.ruleList.slice();
  }

  addRule(r: Omit<Rule, "priority"> & { priority?: number }): Rule {
    return this.transaction(() => {
      this.snapshotRules();
      const rule = insertRule(this.ruleList, r);
      if (rule.iif) this.ifaces.index(rule.iif);
      this.commitRules();
      return rule;
    });
  }

  delRule(sel: RuleSelector): Rule {
    return this.transaction(() => {
      this.snapshotRules();
      const gone = removeRule(this.ruleList, sel);
      this.commitRules();
      return gone;
    });
  }

  private snapshotRules(): void {
    if (this.txn && !this.txn.rules) this.txn.rules = this.ruleList.slice();
  }

  private commitRules(): void {
    encodeRules(this.core, this.ruleList, (id) => this.tables.get(id)?.core, (name) => this.ifaces.index(name));
  }

  // ── queries ─────────────────────────────────────────────────────────────────

  /** `ip route get`: the policy lookup of one key, as the data plane would do it. */
  get(q: RouteQuery): RouteAnswer {
    this.flush();
    let iif = 0;
    if (q.iif) {
      const i = this.ifaces.find(q.iif);
      if (i === undefined) throw new FibError(19, `Cannot find device "${q.iif}"`);
      iif = i;
    }
    // The route key keeps only the TOS bits routing looks at (IPTOS_RT_MASK = 0x1c), as ip_route_input does.
    const error = this.core.x.fib_route(q.dst >>> 0, q.src >>> 0, iif, q.mark >>> 0, q.tos & 0x1c);
    const a = this.core.u32();
    const result = a[ROUTE1_OUT >>> 2]!;
    const tableIdx = a[(ROUTE1_OUT >>> 2) + 1]!;
    const nh = a[(ROUTE1_OUT >>> 2) + 2]!;
    const e = result ? this.results.entry(result) : undefined;
    return {
      error,
      type: e ? e.type : "none",
      table: tableIdx === NONE ? 0 : (this.byCore.get(tableIdx)?.id ?? 0),
      nexthop: e && nh !== NONE ? e.nexthops[nh - e.nhFirst] : undefined,
    };
  }

  /** Result id of dst in one table (0 = none): the single-key control-plane lookup. */
  lookup(tableId: number, dst: number): number {
    this.flush();
    const t = this.tables.get(tableId);
    return t ? this.core.x.fib_lookup(t.core, dst >>> 0) >>> 0 : 0;
  }

  /** Core table index of a table id (for batched lookups through the raw ABI), or -1. */
  coreIndex(tableId: number): number {
    this.flush();
    return this.tables.get(tableId)?.core ?? -1;
  }

  /** Decision behind a result id (type, next hops). */
  result(id: number): { type: RouteTypeName; nexthops: Nexthop[] } | undefined {
    const e = this.results.entry(id);
    return e && { type: e.type, nexthops: e.nexthops };
  }

  /** Bytes of the lookup structure of one table (or all), as the core counts them. */
  lookupBytes(tableId?: number): number {
    return this.sumOverTables(tableId, (core) => this.core.x.fib_table_bytes(core));
  }

  /** Bytes of the core's lists of routes longer than /16 (what /16 rebuilds read) of one table (or all). */
  routeListBytes(tableId?: number): number {
    return this.sumOverTables(tableId, (core) => this.core.x.fib_route_list_bytes(core));
  }

  private sumOverTables(tableId: number | undefined, bytesOf: (core: number) => number): number {
    let n = 0;
    for (const t of this.tables.values()) if (tableId === undefined || t.id === tableId) n += bytesOf(t.core) >>> 0;
    return n;
  }

  /** Audits every table's lookup structure in the core; throws naming the first broken invariant. */
  check(): void {
    this.flush();
    for (const t of this.tables.values()) {
      const rc = this.core.x.fib_check(t.core);
      if (rc !== 0) throw new Error(`wasmroute: FIB invariant ${rc} broken in table ${t.id}`);
    }
  }
}

/** Whether route r is one that selector s names (the fields s leaves out match anything). */
export function routeMatches(r: Route, s: RouteSelector): boolean {
  if (s.type !== undefined && r.type !== s.type) return false;
  if (s.metric !== undefined && r.metric !== s.metric) return false;
  if (s.proto !== undefined && r.proto !== s.proto) return false;
  if (s.scope !== undefined && r.scope !== s.scope) return false;
  const nh = r.nexthops[0];
  if (s.gateway !== undefined && (!nh || nh.gateway !== s.gateway >>> 0)) return false;
  if (s.dev !== undefined && (!nh || nh.dev !== s.dev)) return false;
  return true;
}
