/**
 * One routing table's route sets, packed: every prefix that has routes is a set id, and its fields live in
 * typed arrays, not in objects. A full table is 900,000 prefixes; as objects (a set, its array, an entry
 * and a route each) they took 265 bytes and 1.6 µs of allocation a prefix, so the RIB's heap and build
 * time were those objects (BENCHMARKS "A packed RIB").
 *
 * A set's routes, in metric order, are either
 *   • packed: one route without a preferred source (what a loaded table, most `ip route add`s and a daemon's
 *     routes synced from the kernel are), kept as its metric, result id, and proto and scope as word ids;
 *     its Route object is made when asked for, from the result (type, next hops), so it reads back equal
 *     to what was added; or
 *   • listed: an Entry array (any number of routes, any fields), never changed in place once stored, so
 *     a transaction's snapshot of a set is its fields and that array's reference.
 *
 * Per set id (1 ≤ id < top; free ids are reused), in arrays grown by doubling:
 *   addr    Uint32Array  the prefix's network address
 *   len     Uint8Array   its length 0..32; FREE (255) = id not in use
 *   best    Uint32Array  result id published to the core (table-sync.ts), 0 = none
 *   fresh   Uint8Array   1 = created by the open transaction (no snapshot needed)
 *   touched Uint32Array  serial of the last transaction that took a snapshot of the set (Fib.touch)
 *   result  Uint32Array  the packed route's result id; 0 = no packed route
 *   metric  Uint32Array  the packed route's metric
 *   proto   Uint16Array  the packed route's proto, as a word id (0 = none; words[] holds the text)
 *   scope   Uint16Array  the packed route's scope, the same way
 *   listed  Map<id, Entry[]>          the set's routes when not packed (then result is 0). A Map, not an
 *                                     array by id: one entry at id 900,000 would turn an array sparse.
 */
import { PrefixMap } from "./prefix-map.ts";
import type { Route } from "./types.ts";

export interface Entry {
  route: Route;
  result: number;
}

/** A set's routes as stored: what a transaction restores on rollback. */
export interface SetSnapshot {
  result: number;
  metric: number;
  proto: number;
  scope: number;
  listed: Entry[] | undefined;
}

const FREE = 255;
const MAX_WORDS = 0xffff;

/** The prefix of a dump key (RouteSets.dumpKeys). */
export function dumpKeyPrefix(key: number): { addr: number; len: number } {
  return { addr: Math.floor(key / 64), len: 63 - (key % 64) };
}

export class RouteSets {
  private readonly index: PrefixMap[] = Array.from({ length: 33 }, () => new PrefixMap());
  addr = new Uint32Array(64);
  len = new Uint8Array(64).fill(FREE);
  best = new Uint32Array(64);
  fresh = new Uint8Array(64);
  private touched = new Uint32Array(64);
  private result = new Uint32Array(64);
  private metric = new Uint32Array(64);
  private proto = new Uint16Array(64);
  private scope = new Uint16Array(64);
  private readonly words: string[] = [""]; // proto and scope texts by id; 0 = none
  private readonly wordIds = new Map<string, number>();
  private readonly listed = new Map<number, Entry[]>();
  private freeIds: number[] = [];
  private top = 1;
  private readonly routeOf: (addr: number, len: number, metric: number, result: number) => Route;

  /** routeOf: the plain route of a packed set (its type and next hops come from the result). */
  constructor(routeOf: (addr: number, len: number, metric: number, result: number) => Route) {
    this.routeOf = routeOf;
  }

  /** The set of addr/len, 0 when there is none. */
  find(addr: number, len: number): number {
    return this.index[len]!.get(addr);
  }

  /** A new empty set for addr/len (which has none), marked fresh. */
  create(addr: number, len: number): number {
    let id = this.freeIds.pop();
    if (id === undefined) {
      id = this.top++;
      if (id >= this.len.length) this.grow();
    }
    this.addr[id] = addr >>> 0;
    this.len[id] = len;
    this.best[id] = 0;
    this.fresh[id] = 1;
    this.result[id] = 0;
    this.metric[id] = 0;
    this.index[len]!.set(addr, id);
    return id;
  }

  /** Forgets set id (it must hold no routes). */
  remove(id: number): void {
    this.index[this.len[id]!]!.delete(this.addr[id]!);
    this.len[id] = FREE;
    if (this.listed.size > 0) this.listed.delete(id);
    this.freeIds.push(id);
  }

  /** Whether id names a set in use. */
  exists(id: number): boolean {
    return id > 0 && id < this.top && this.len[id] !== FREE;
  }

  /** How many routes set id holds. */
  count(id: number): number {
    return this.result[id] !== 0 ? 1 : (this.listedOf(id)?.length ?? 0);
  }

  // A set's entry array, when it is listed (only when its packed result is 0).
  private listedOf(id: number): Entry[] | undefined {
    return this.listed.size === 0 ? undefined : this.listed.get(id);
  }

  /** Result id of the set's best (first) route, 0 when it has none. */
  bestResult(id: number): number {
    const r = this.result[id]!;
    return r !== 0 ? r : (this.listedOf(id)?.[0]?.result ?? 0);
  }

  /** Metric of the set's route i (i < count). */
  metricAt(id: number, i: number): number {
    return this.result[id] !== 0 ? this.metric[id]! : this.listedOf(id)![i]!.route.metric;
  }

  /** The set's routes, best first, as a new array (the caller may change it and store it back with put). */
  entries(id: number): Entry[] {
    const result = this.result[id]!;
    if (result === 0) return this.listedOf(id)?.slice() ?? [];
    const route = this.routeOf(this.addr[id]!, this.len[id]!, this.metric[id]!, result);
    if (this.proto[id] !== 0) route.proto = this.words[this.proto[id]!];
    if (this.scope[id] !== 0) route.scope = this.words[this.scope[id]!];
    return [{ route, result }];
  }

  /** The word id of a proto or scope text (0 for none), or -1 when the table of words is full. */
  wordOf(text: string | undefined): number {
    if (text === undefined) return 0;
    let w = this.wordIds.get(text);
    if (w === undefined) {
      if (this.words.length > MAX_WORDS) return -1;
      w = this.words.length;
      this.words.push(text);
      this.wordIds.set(text, w);
    }
    return w;
  }

  /** Stores route → result as the set's only route, packed, if it can be: false when it cannot (keep it listed). */
  putPacked(id: number, route: Route, result: number): boolean {
    if (route.src !== undefined) return false;
    const proto = this.wordOf(route.proto);
    const scope = this.wordOf(route.scope);
    if (proto < 0 || scope < 0) return false;
    this.putPlain(id, route.metric, result, proto, scope);
    return true;
  }

  /** Stores the set's routes (best first); the array is kept, and must not be changed afterwards. */
  put(id: number, entries: Entry[]): void {
    if (entries.length === 0) this.putPlain(id, 0, 0);
    else if (entries.length === 1 && this.putPacked(id, entries[0]!.route, entries[0]!.result)) return;
    else {
      this.listed.set(id, entries);
      this.result[id] = 0;
    }
  }

  /** Makes the set hold one packed route of this metric, result and words (result 0: no route). */
  putPlain(id: number, metric: number, result: number, proto = 0, scope = 0): void {
    if (this.listed.size > 0) this.listed.delete(id);
    this.result[id] = result;
    this.metric[id] = metric;
    this.proto[id] = proto;
    this.scope[id] = scope;
  }

  /** Whether transaction `serial` touches set id for the first time (and marks it touched). */
  firstTouch(id: number, serial: number): boolean {
    if (this.touched[id] === serial) return false;
    this.touched[id] = serial;
    return true;
  }

  /** Forgets every touch mark (when transaction serials wrap around). */
  clearTouched(): void {
    this.touched.fill(0);
  }

  snapshot(id: number): SetSnapshot {
    return { result: this.result[id]!, metric: this.metric[id]!, proto: this.proto[id]!, scope: this.scope[id]!, listed: this.result[id] === 0 ? this.listedOf(id) : undefined };
  }

  restore(id: number, s: SetSnapshot): void {
    this.putPlain(id, s.metric, s.result, s.proto, s.scope);
    if (s.listed) this.listed.set(id, s.listed);
  }

  /**
   * Every set that holds routes as a dump key, sorted into the kernel's dump order (address up, then length
   * down): addr · 64 + (63 − len), which a Float64Array holds exactly and sorts natively (dumpKeyPrefix).
   */
  dumpKeys(): Float64Array {
    let n = 0;
    for (let id = 1; id < this.top; id++) if (this.len[id] !== FREE && this.count(id) > 0) n++;
    const keys = new Float64Array(n);
    let k = 0;
    for (let id = 1; id < this.top; id++) if (this.len[id] !== FREE && this.count(id) > 0) keys[k++] = this.addr[id]! * 64 + (63 - this.len[id]!);
    return keys.sort();
  }

  /** Ids of every set that holds routes, in no particular order. */
  ids(): number[] {
    const out: number[] = [];
    for (let id = 1; id < this.top; id++) if (this.len[id] !== FREE && this.count(id) > 0) out.push(id);
    return out;
  }

  /** Bytes of the typed arrays and the index (outside the JS heap: ArrayBuffer memory). */
  get bytes(): number {
    let n = 0;
    for (const a of [this.addr, this.len, this.best, this.fresh, this.touched, this.result, this.metric, this.proto, this.scope]) n += a.byteLength;
    for (const m of this.index) n += m.bytes;
    return n;
  }

  /** Sets in use (with or without routes). */
  get size(): number {
    return this.top - 1 - this.freeIds.length;
  }

  private grow(): void {
    const n = this.len.length * 2;
    const widen = <T extends Uint32Array | Uint16Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.addr = widen(this.addr, (k) => new Uint32Array(k));
    this.best = widen(this.best, (k) => new Uint32Array(k));
    this.result = widen(this.result, (k) => new Uint32Array(k));
    this.metric = widen(this.metric, (k) => new Uint32Array(k));
    this.touched = widen(this.touched, (k) => new Uint32Array(k));
    this.proto = widen(this.proto, (k) => new Uint16Array(k));
    this.scope = widen(this.scope, (k) => new Uint16Array(k));
    this.fresh = widen(this.fresh, (k) => new Uint8Array(k));
    this.len = widen(this.len, (k) => new Uint8Array(k).fill(FREE));
  }
}
