/**
 * The control plane of the FIB: routing tables (RIB: every route, all metrics), policy rules, and the
 * incremental updates pushed into the WebAssembly lookup structure. Semantics follow Linux's
 * fib_table_insert / fib_table_delete / fib_rules: lowest metric wins per prefix, `add` refuses an
 * existing metric, `append` adds after it, `replace` swaps it, `change` needs it to exist.
 *
 * What the core is told (see assembly/fib/table.ts):
 *   routes ≤ /16  → fib_short_set / fib_short_delete (with the covering route as replacement);
 *   routes > /16  → the /16 they fall in is marked dirty and rebuilt once from its best routes, when the
 *                   transaction commits or before the next lookup.
 * Every mutation runs in a transaction: a throw anywhere inside `transaction()` restores every route
 * set and rule it touched, so a bad line in a file leaves nothing half-applied.
 */
import { Core, ROUTE1_OUT, type BuildFlavor } from "../core/load.ts";
import { Interfaces } from "./interfaces.ts";
import { ResultStore } from "./results.ts";
import { assignNexthop } from "./nexthop-rule.ts";
import {
  TABLE_DEFAULT,
  TABLE_LOCAL,
  TABLE_MAIN,
  type Nexthop,
  type Route,
  type RouteAnswer,
  type RouteQuery,
  type RouteTypeName,
  type Rule,
  type RuleAction,
} from "./types.ts";

const ERRNO_TEXT: Record<number, string> = {
  2: "No such file or directory",
  3: "No such process",
  13: "Permission denied",
  17: "File exists",
  19: "No such device",
  22: "Invalid argument",
  101: "Network is unreachable",
  113: "No route to host",
};

/** A refused change or query, with the Linux errno and the message iproute2 would print. */
export class FibError extends Error {
  errno: number;
  constructor(errno: number, message?: string) {
    super(message ?? `RTNETLINK answers: ${ERRNO_TEXT[errno] ?? `errno ${errno}`}`);
    this.errno = errno;
  }
}

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

export interface RuleSelector {
  priority?: number;
  src?: number;
  srcLen?: number;
  dst?: number;
  dstLen?: number;
  iif?: string;
  tos?: number;
  fwmark?: number;
  fwmask?: number;
  action?: RuleAction;
  table?: number;
}

export function maskOf(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

interface Entry {
  route: Route;
  result: number;
}

interface RouteSet {
  addr: number;
  len: number;
  entries: Entry[]; // metric order; entries[0] is what the FIB uses
  best: number; // result id published to the core (0 = none)
  pos: number; // index in its /16 bucket (routes > /16), -1 when not there
  fresh: boolean; // created by the open transaction (no snapshot needed)
}

/** The best routes > /16 of one /16, as the (addr, len, result) triples fib_rebuild reads. */
class Bucket {
  n = 0;
  rec = new Uint32Array(24);
  sets: RouteSet[] = [];
}

interface RibTable {
  id: number;
  core: number;
  sets: Map<number, RouteSet>[]; // by prefix length; keyed by addr | 0 (an int32 stays a small integer)
  buckets: Map<number, Bucket>;
  dirty: number[]; // /16 slots to rebuild, each once (isDirty marks them)
  isDirty: Uint8Array;
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
  private ruleList: Rule[] = [];
  private txn: Txn | undefined;
  private readonly idleTxn: Txn = { touched: new Map(), fresh: [], freshTables: [], acquired: [], released: [] };
  private dirtyTables: RibTable[] = [];

  constructor(opts: { flavor?: BuildFlavor } = {}) {
    this.core = new Core(opts.flavor);
    this.results = new ResultStore(this.core, this.ifaces);
    const rule = (priority: number, table: number): Rule => ({
      priority, src: 0, srcLen: 0, dst: 0, dstLen: 0, iif: "", tos: 0, fwmark: 0, fwmask: 0, action: "lookup", table,
    });
    this.ruleList = [rule(0, TABLE_LOCAL), rule(32766, TABLE_MAIN), rule(32767, TABLE_DEFAULT)];
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
    if (set.entries.length === 0 && set.pos < 0 && m.get(set.addr | 0) === set) m.delete(set.addr | 0);
  }

  /** The route set of addr/len, created (and recorded as fresh in the transaction) if asked. */
  private setOf(table: RibTable, addr: number, len: number, create: boolean): RouteSet | undefined {
    const m = table.sets[len]!;
    let set = m.get(addr | 0);
    if (!set && create) {
      set = { addr, len, entries: [], best: 0, pos: -1, fresh: true };
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
      t = { id, core, sets: Array.from({ length: 33 }, () => new Map()), buckets: new Map(), dirty: [], isDirty: new Uint8Array(65536) };
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

  // Tells the core that the best route of `set` may have changed.
  private publish(table: RibTable, set: RouteSet): void {
    const best = set.entries.length > 0 ? set.entries[0]!.result : 0;
    if (set.len <= 16) {
      if (best === set.best) return;
      set.best = best;
      const x = this.core.x;
      const rc = best
        ? x.fib_short_set(table.core, set.addr, set.len, best)
        : (() => {
            for (let l = set.len - 1; l >= 0; l--) {
              const cover = table.sets[l]!.get(set.addr & maskOf(l));
              if (cover && cover.best) return x.fib_short_delete(table.core, set.addr, set.len, cover.best, l);
            }
            return x.fib_short_delete(table.core, set.addr, set.len, 0, 255);
          })();
      if (rc !== 0) throw new FibError(-rc, `wasmroute: core refused short route update (${rc})`);
      return;
    }
    const slot = set.addr >>> 16;
    let b = table.buckets.get(slot);
    if (best) {
      if (!b) table.buckets.set(slot, (b = new Bucket()));
      if (set.pos < 0) {
        if ((b.n + 1) * 3 > b.rec.length) {
          const g = new Uint32Array(b.rec.length * 2);
          g.set(b.rec);
          b.rec = g;
        }
        set.pos = b.n++;
        b.sets[set.pos] = set;
        b.rec[set.pos * 3] = set.addr;
        b.rec[set.pos * 3 + 1] = set.len;
      } else if (set.best === best) return;
      b.rec[set.pos * 3 + 2] = best;
    } else {
      if (set.pos < 0) return;
      const last = --b!.n;
      const moved = b!.sets.pop()!;
      const r = b!.rec;
      if (moved !== set) {
        b!.sets[set.pos] = moved;
        r[set.pos * 3] = r[last * 3]!;
        r[set.pos * 3 + 1] = r[last * 3 + 1]!;
        r[set.pos * 3 + 2] = r[last * 3 + 2]!;
        moved.pos = set.pos;
      }
      set.pos = -1;
      if (b!.n === 0) table.buckets.delete(slot);
    }
    set.best = best;
    if (table.isDirty[slot] === 0) {
      table.isDirty[slot] = 1;
      if (table.dirty.length === 0) this.dirtyTables.push(table);
      table.dirty.push(slot);
    }
    if (!this.txn) this.flush();
  }

  /** Rebuilds every /16 changed since the last flush. */
  flush(): void {
    if (this.dirtyTables.length === 0) return;
    const x = this.core.x;
    for (let ti = 0; ti < this.dirtyTables.length; ti++) {
      const t = this.dirtyTables[ti]!;
      for (let si = 0; si < t.dirty.length; si++) {
        const slot = t.dirty[si]!;
        t.isDirty[slot] = 0;
        const b = t.buckets.get(slot);
        const n = b ? b.n : 0;
        if (n > 0) {
          const p = x.fib_scratch(n) >>> 0;
          if (p === 0) throw new FibError(12, "wasmroute: core out of memory (rebuild scratch)");
          this.core.u32().set(n * 3 === b!.rec.length ? b!.rec : b!.rec.subarray(0, n * 3), p >>> 2);
        }
        const rc = x.fib_rebuild(t.core, slot, n);
        if (rc !== 0) throw new FibError(-rc, `wasmroute: core refused rebuild of ${slot >>> 8}.${slot & 255}.0.0/16 (${rc})`);
      }
      t.dirty.length = 0;
    }
    this.dirtyTables.length = 0;
  }

  // ── rules ───────────────────────────────────────────────────────────────────

  rules(): Rule[] {
    return this.ruleList.slice();
  }

  addRule(r: Omit<Rule, "priority"> & { priority?: number }): Rule {
    return this.transaction(() => {
      this.snapshotRules();
      const priority = r.priority ?? (this.ruleList.length >= 2 && this.ruleList[1]!.priority > 0 ? this.ruleList[1]!.priority - 1 : 0);
      const rule: Rule = { ...r, priority };
      for (const [a, l] of [[rule.src, rule.srcLen], [rule.dst, rule.dstLen]] as const) {
        if (l < 0 || l > 32 || ((a & ~maskOf(l)) >>> 0) !== 0) throw new FibError(22, "Error: Invalid prefix for given prefix length.");
      }
      if (rule.action === "lookup" && !(rule.table >= 1 && rule.table <= 0xffffffff)) throw new FibError(22, "Error: Rule lookup needs a table.");
      if (this.ruleList.some((x) => sameRule(x, rule))) throw new FibError(17);
      let at = this.ruleList.findIndex((x) => x.priority > rule.priority);
      if (at < 0) at = this.ruleList.length;
      this.ruleList.splice(at, 0, rule);
      if (rule.iif) this.ifaces.index(rule.iif);
      this.commitRules();
      return rule;
    });
  }

  delRule(sel: RuleSelector): Rule {
    return this.transaction(() => {
      this.snapshotRules();
      const i = this.ruleList.findIndex((r) => ruleMatches(r, sel));
      if (i < 0) throw new FibError(2);
      const [gone] = this.ruleList.splice(i, 1);
      this.commitRules();
      return gone!;
    });
  }

  private snapshotRules(): void {
    if (this.txn && !this.txn.rules) this.txn.rules = this.ruleList.slice();
  }

  private commitRules(): void {
    const x = this.core.x;
    const n = this.ruleList.length;
    const p = x.fib_rules_reserve(n) >>> 0;
    if (p === 0) throw new FibError(12, "wasmroute: core out of memory (rules)");
    const m = this.core.u32();
    this.ruleList.forEach((r, i) => {
      const w = (p >>> 2) + i * 10;
      const action = { lookup: 1, blackhole: 2, unreachable: 3, prohibit: 4 }[r.action];
      const tableIdx = r.action === "lookup" ? (this.tables.get(r.table)?.core ?? 0xffff) : 0xffff;
      m[w] = r.priority;
      m[w + 1] = r.src;
      m[w + 2] = maskOf(r.srcLen);
      m[w + 3] = r.dst;
      m[w + 4] = maskOf(r.dstLen);
      m[w + 5] = r.iif ? this.ifaces.index(r.iif) : 0;
      m[w + 6] = r.tos;
      m[w + 7] = r.fwmark;
      m[w + 8] = r.fwmask;
      m[w + 9] = (action | (tableIdx << 16)) >>> 0;
    });
    x.fib_rules_commit(n);
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
    let n = 0;
    for (const t of this.tables.values()) if (tableId === undefined || t.id === tableId) n += this.core.x.fib_table_bytes(t.core) >>> 0;
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

function sameRule(a: Rule, b: Rule): boolean {
  return (
    a.priority === b.priority && a.src === b.src && a.srcLen === b.srcLen && a.dst === b.dst && a.dstLen === b.dstLen &&
    a.iif === b.iif && a.tos === b.tos && a.fwmark === b.fwmark && a.fwmask === b.fwmask && a.action === b.action &&
    (a.action !== "lookup" || a.table === b.table)
  );
}

function ruleMatches(r: Rule, s: RuleSelector): boolean {
  return (
    (s.priority === undefined || r.priority === s.priority) &&
    (s.src === undefined || (r.src === s.src && r.srcLen === (s.srcLen ?? 32))) &&
    (s.dst === undefined || (r.dst === s.dst && r.dstLen === (s.dstLen ?? 32))) &&
    (s.iif === undefined || r.iif === s.iif) &&
    (s.tos === undefined || r.tos === s.tos) &&
    (s.fwmark === undefined || (r.fwmark === s.fwmark && (s.fwmask === undefined || r.fwmask === s.fwmask))) &&
    (s.action === undefined || r.action === s.action) &&
    (s.table === undefined || (r.action === "lookup" && r.table === s.table))
  );
}
