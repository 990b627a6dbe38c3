/**
 * Result interning: every distinct (route type, next hops, preferred source) becomes one result id
 * that FIB leaves point at, shared by all routes with that decision and reference-counted. Writes the
 * result and next-hop records into the core (layouts in assembly/fib/nexthop.ts), including the
 * multipath upper bounds of Linux's fib_rebalance (hash-threshold).
 */
import type { Core } from "../core/load.ts";
import type { Interfaces } from "./interfaces.ts";
import { RouteType, type Nexthop, type RouteTypeName } from "./types.ts";

export interface ResultEntry {
  id: number;
  key: string;
  type: RouteTypeName;
  nexthops: Nexthop[];
  src: number;
  refs: number;
  nhFirst: number;
}

/** Upper bounds of hash-threshold multipath: DIV_ROUND_CLOSEST((Σw) << 31, total) − 1 (fib_rebalance). */
export function multipathUpperBounds(weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  let w = 0;
  return weights.map((wi) => {
    w += wi;
    return Math.floor((w * 2147483648 + Math.floor(total / 2)) / total) - 1;
  });
}

export class ResultStore {
  private byKey = new Map<string, ResultEntry>();
  private byId: (ResultEntry | undefined)[] = [undefined];
  private freeIds: number[] = [];
  private nhTop = 0;
  private nhFree = new Map<number, number[]>();
  private resultCap = 0;
  private nhCap = 0;
  private core: Core;
  private ifaces: Interfaces;

  constructor(core: Core, ifaces: Interfaces) {
    this.core = core;
    this.ifaces = ifaces;
  }

  static keyOf(type: RouteTypeName, nexthops: Nexthop[], src: number): string {
    let k = `${type}|${src}`;
    for (const nh of nexthops) k += `|${nh.gateway},${nh.dev},${nh.weight},${nh.onlink ? 1 : 0}`;
    return k;
  }

  entry(id: number): ResultEntry | undefined {
    return this.byId[id];
  }

  /** The id for this decision, taking one reference. */
  acquire(type: RouteTypeName, nexthops: Nexthop[], src: number): number {
    const key = ResultStore.keyOf(type, nexthops, src);
    const found = this.byKey.get(key);
    if (found) {
      found.refs++;
      return found.id;
    }
    const id = this.freeIds.pop() ?? this.byId.length;
    if (id > 0xffffff) throw new Error("wasmroute: more than 16,777,215 distinct route results");
    const nhFirst = this.allocNexthops(nexthops.length);
    const e: ResultEntry = { id, key, type, nexthops, src, refs: 1, nhFirst };
    this.byId[id] = e;
    this.byKey.set(key, e);
    this.writeResult(e);
    return id;
  }

  /** Takes one more reference on an existing id. */
  ref(id: number): void {
    this.byId[id]!.refs++;
  }

  release(id: number): void {
    const e = this.byId[id];
    if (!e) return;
    if (--e.refs > 0) return;
    this.byKey.delete(e.key);
    this.byId[id] = undefined;
    this.freeIds.push(id);
    if (e.nexthops.length > 0) {
      let list = this.nhFree.get(e.nexthops.length);
      if (!list) this.nhFree.set(e.nexthops.length, (list = []));
      list.push(e.nhFirst);
    }
  }

  private allocNexthops(n: number): number {
    if (n === 0) return 0;
    const reuse = this.nhFree.get(n)?.pop();
    if (reuse !== undefined) return reuse;
    const first = this.nhTop;
    this.nhTop += n;
    return first;
  }

  private writeResult(e: ResultEntry): void {
    const x = this.core.x;
    if (e.id >= this.resultCap) {
      this.resultCap = Math.max(1024, (e.id + 1) * 2);
      if (x.fib_result_reserve(this.resultCap) !== 0) throw new Error("wasmroute: core out of memory (results)");
    }
    if (this.nhTop > this.nhCap) {
      this.nhCap = Math.max(1024, this.nhTop * 2);
      if (x.fib_nexthop_reserve(this.nhCap) !== 0) throw new Error("wasmroute: core out of memory (next hops)");
    }
    const bounds = multipathUpperBounds(e.nexthops.map((n) => n.weight));
    e.nexthops.forEach((nh, i) => {
      x.fib_nexthop_set(e.nhFirst + i, nh.gateway, nh.dev ? this.ifaces.index(nh.dev) : 0, bounds[i]!, nh.onlink ? 1 : 0);
    });
    x.fib_result_set(e.id, RouteType[e.type], e.nhFirst, e.nexthops.length, e.src);
  }
}
