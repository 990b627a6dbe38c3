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
import { clearArray } from "./clear-array.ts";
import { Core, ROUTE1_OUT, type BuildFlavor } from "../core/load.ts";
import { Interfaces } from "./interfaces.ts";
import { ResultStore } from "./results.ts";
import { assignNexthop } from "./nexthop-rule.ts";
import { FibError } from "./fib-error.ts";
import { maskOf } from "./ipv4.ts";
import { defaultRules, encodeRules, insertRule, removeRule, type RuleSelector } from "./rule-list.ts";
import { newRibTable, TableSync, type RibTable } from "./table-sync.ts";
import { dumpKeyPrefix, type Entry, type SetSnapshot } from "./route-sets.ts";
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
  serial: number; // stamps the sets this transaction touched (RouteSets.firstTouch)
  touchedTables: RibTable[]; // each touched set (table, id) and its routes before the transaction
  touchedIds: number[];
  touchedSnaps: SetSnapshot[];
  fresh: number[]; // sets created in this transaction (empty before it)
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
  private readonly idleTxn: Txn = { serial: 0, touchedTables: [], touchedIds: [], touchedSnaps: [], fresh: [], freshTables: [], acquired: [], released: [] };

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
    txn.serial = txn.serial === 0xffffffff ? 1 : txn.serial + 1;
    if (txn.serial === 1) for (const t of this.tables.values()) t.sets.clearTouched();
    this.txn = txn;
    try {
      const r = fn();
      this.txn = undefined;
      this.flush();
      for (let i = 0; i < txn.released.length; i++) this.results.release(txn.released[i]!);
      for (let i = 0; i < txn.touchedIds.length; i++) this.dropIfEmpty(txn.touchedTables[i]!, txn.touchedIds[i]!);
      for (let i = 0; i < txn.fresh.length; i++) this.dropIfEmpty(txn.freshTables[i]!, txn.fresh[i]!);
      return r;
    } catch (e) {
      this.txn = undefined;
      this.rollback(txn);
      throw e;
    } finally {
      clearArray(txn.touchedTables);
      clearArray(txn.touchedIds);
      clearArray(txn.touchedSnaps);
      clearArray(txn.fresh);
      clearArray(txn.freshTables);
      clearArray(txn.acquired);
      clearArray(txn.released);
      txn.rules = undefined;
    }
  }

  private rollback(txn: Txn): void {
    txn.touchedIds.forEach((id, i) => {
      txn.touchedTables[i]!.sets.restore(id, txn.touchedSnaps[i]!);
      this.publish(txn.touchedTables[i]!, id);
    });
    txn.fresh.forEach((id, i) => {
      txn.freshTables[i]!.sets.putPlain(id, 0, 0);
      this.publish(txn.freshTables[i]!, id);
    });
    txn.touchedIds.forEach((id, i) => this.dropIfEmpty(txn.touchedTables[i]!, id));
    txn.fresh.forEach((id, i) => this.dropIfEmpty(txn.freshTables[i]!, id));
    for (const id of txn.acquired) this.results.release(id);
    if (txn.rules) {
      this.ruleList = txn.rules;
      this.commitRules();
    }
    this.flush();
  }

  // Keeps set id's routes as they were before the transaction, once (a fresh set had none).
  private touch(table: RibTable, id: number): void {
    const t = this.txn!;
    if (table.sets.fresh[id] || !table.sets.firstTouch(id, t.serial)) return;
    t.touchedTables.push(table);
    t.touchedIds.push(id);
    t.touchedSnaps.push(table.sets.snapshot(id));
  }

  private dropIfEmpty(table: RibTable, id: number): void {
    const sets = table.sets;
    if (!sets.exists(id)) return;
    sets.fresh[id] = 0;
    if (sets.count(id) === 0 && sets.best[id] === 0) sets.remove(id);
  }

  /** The route set of addr/len (0 = none), created (and recorded as fresh in the transaction) if asked. */
  private setOf(table: RibTable, addr: number, len: number, create: boolean): number {
    let id = table.sets.find(addr, len);
    if (id === 0 && create) {
      id = table.sets.create(addr, len);
      this.txn!.fresh.push(id);
      this.txn!.freshTables.push(table);
    }
    return id;
  }

  // ── tables ──────────────────────────────────────────────────────────────────

  private table(id: number, create: boolean): RibTable | undefined {
    let t = this.tables.get(id);
    if (!t && create) {
      const core = this.core.x.fib_table_create();
      if (core === -1) throw new FibError(28, `wasmroute: too many routing tables (at most 1024)`);
      if (core < 0) throw new FibError(12, `wasmroute: core out of memory creating table ${id}`);
      t = newRibTable(id, core, (addr, len, metric, result) => this.plainRoute(id, addr, len, metric, result));
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

  // Adds the plain route addr/len → result (a reference the caller took) where no set exists yet: a loaded
  // table's path, which makes no Route object (route-sets.ts rebuilds it when asked).
  private addFirst(table: RibTable, addr: number, len: number, metric: number, result: number): void {
    const txn = this.txn!;
    txn.acquired.push(result);
    const id = table.sets.create(addr, len);
    txn.fresh.push(id);
    txn.freshTables.push(table);
    table.sets.putPlain(id, metric, result);
    this.publish(table, id);
  }

  // Inserts a normalised route whose result reference (taken by the caller) it now owns.
  private insert(table: RibTable, route: Route, mode: AddMode, result: number): void {
    this.txn!.acquired.push(result);
    const sets = table.sets;
    const id = this.setOf(table, route.prefix, route.len, true);
    this.touch(table, id);
    const n = sets.count(id);
    if (n === 0) {
      if (mode === "change") throw new FibError(2);
      // The common case, a prefix's first route: packed without objects where it can be.
      if (!sets.putPacked(id, route, result)) sets.put(id, [{ route, result }]);
      this.publish(table, id);
      return;
    }
    let same = -1;
    for (let i = 0; i < n; i++) if (sets.metricAt(id, i) === route.metric) { same = i; break; }
    if (mode === "add" && same >= 0) throw new FibError(17);
    if (mode === "change" && same < 0) throw new FibError(2);
    const entries = sets.entries(id);
    const entry: Entry = { route, result };
    if (mode === "append" && entries.some((e) => e.result === entry.result && e.route.metric === route.metric)) {
      throw new FibError(17);
    }
    if ((mode === "replace" || mode === "change") && same >= 0) {
      this.txn!.released.push(entries[same]!.result);
      entries[same] = entry;
    } else {
      let at = entries.length;
      while (at > 0 && entries[at - 1]!.route.metric > route.metric) at--;
      entries.splice(at, 0, entry);
    }
    sets.put(id, entries);
    this.publish(table, id);
  }

  /** A packed set's route without its proto and scope, rebuilt from its result (route-sets.ts). */
  private plainRoute(table: number, addr: number, len: number, metric: number, result: number): Route {
    const e = this.results.entry(result)!;
    return { prefix: addr, len, type: e.type, table, metric, nexthops: e.nexthops };
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
      const id = table && sel.len >= 0 && sel.len <= 32 ? this.setOf(table, sel.prefix >>> 0, sel.len, false) : 0;
      const entries = id ? table!.sets.entries(id) : [];
      const i = entries.findIndex((e) => routeMatches(e.route, sel));
      if (!table || i < 0) throw new FibError(3);
      this.touch(table, id);
      const [gone] = entries.splice(i, 1);
      this.txn!.released.push(gone!.result);
      table.sets.put(id, entries);
      this.publish(table, id);
      return gone!.route;
    });
  }

  /** Removes every route of a table; returns how many. */
  flushTable(id: number): number {
    return this.transaction(() => {
      const table = this.table(id, false);
      if (!table) return 0;
      let n = 0;
      for (const set of table.sets.ids()) {
        this.touch(table, set);
        for (const e of table.sets.entries(set)) this.txn!.released.push(e.result);
        n += table.sets.count(set);
        table.sets.putPlain(set, 0, 0);
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
        if (table.sets.find(addr, len) === 0) this.addFirst(table, addr, len, 0, hop.result);
        else this.insert(table, { prefix: addr, len, type: "unicast", table: table.id, metric: 0, nexthops: hop.nexthops }, "add", hop.result);
      }
      for (const h of hops) this.txn!.released.push(h.result); // the routes hold their own references
    });
  }

  /** The routes of one prefix of a table, best (lowest metric) first; empty when there are none. */
  routesAt(tableId: number, prefix: number, len: number): readonly Route[] {
    const t = this.tables.get(tableId === 0 ? TABLE_MAIN : tableId);
    const id = t && len >= 0 && len <= 32 ? t.sets.find(prefix, len) : 0;
    return id ? t!.sets.entries(id).map((e) => e.route) : [];
  }

  /** Every route of a table (or of all tables), in the kernel's dump order. */
  routes(which: number | "all"): Route[] {
    return [...this.routeDump(which)];
  }

  /**
   * The same routes one at a time, each prefix's made when reached, so a caller can stop between them (the
   * control socket streams a full table's `ip route show` this way). Like a kernel dump, it is not a snapshot:
   * a prefix removed before it is reached is skipped, and one added after the dump began is not in it.
   */
  *routeDump(which: number | "all"): Generator<Route> {
    const ids = which === "all" ? this.tableIds() : [which === 0 ? TABLE_MAIN : which];
    for (const tid of ids) {
      const t = this.tables.get(tid);
      if (!t) continue;
      for (const key of t.sets.dumpKeys()) {
        const { addr, len } = dumpKeyPrefix(key);
        const id = t.sets.find(addr, len);
        if (id !== 0) for (const e of t.sets.entries(id)) yield e.route;
      }
    }
  }

  // Tells the core that the best route of `set` may have changed (table-sync.ts); outside a transaction at once.
  private publish(table: RibTable, id: number): void {
    this.sync.publish(table, id);
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

  /** Bytes of the RIB's typed arrays of one table (or all): route-sets.ts, outside the JS heap. */
  ribArrayBytes(tableId?: number): number {
    let n = 0;
    for (const t of this.tables.values()) if (tableId === undefined || t.id === tableId) n += t.sets.bytes + t.isDirty.byteLength;
    return n;
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
