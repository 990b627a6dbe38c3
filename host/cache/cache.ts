/**
 * The route cache as the host sees it: start-up, per-interface IPv4 settings, knobs, batched input
 * lookups through the cache, the clock tick, flush, and what it exposes for statistics and alarms.
 * The cache itself (buckets, entries, GC) lives in the core: assembly/cache/*. Every call takes the
 * time from the caller (ms), so simulations run at any speed.
 */
import type { Fib } from "../fib/fib.ts";
import type { CacheEntryView, CacheRouteType } from "./show-cache.ts";

const TYPE_NAMES: Record<number, CacheRouteType> = { 1: "unicast", 2: "local", 3: "broadcast", 5: "multicast", 7: "unreachable" };

export interface InterfaceConf {
  forwarding: boolean;
  rpFilter: 0 | 1 | 2; // effective: max(all, dev), as the kernel computes it (§6.4)
  hasAddresses: boolean;
  acceptLocal?: boolean;
  srcValidMark?: boolean;
}

/** Knob ids of cache_set_param (assembly/cache/state.ts). */
export const CacheParam = {
  gcThresh: 0,
  maxSize: 1,
  gcElasticity: 2,
  gcMinIntervalMs: 3,
  gcTimeoutMs: 4,
  gcIntervalMs: 5,
  rebuildCount: 6,
  overflowForward: 7,
  gcStepBudget: 8, // wasmroute: entries one GC step may free (0 = unbounded, as the kernel)
  overflowBackoffMs: 9, // wasmroute, overflow forward: after a gc_dst_overflow, no GC at max_size for this long (0 = off)
} as const;

export interface InputKey {
  dst: number;
  src: number;
  iif: string;
  mark?: number;
  tos?: number;
}

export interface OutputKey {
  dst: number;
  src?: number;
  oif?: string;
  mark?: number;
  tos?: number;
}

export interface InputAnswer {
  type: number; // RTN_*; 0 = dropped
  cached: boolean;
  error: number; // 0, or a negative errno (drop reason, or the error of a negative entry)
  gateway: number;
  oif: number;
  flags: number; // RTCF_* (§1.5)
  entry: number; // non-zero when a reference was taken: give it back with release()
}

export const KEY_BYTES = 20;
export const ANSWER_BYTES = 24;

/** What one holder of references keeps (the core's census, assembly/cache/holders.ts). */
export interface HolderCensus {
  holder: string;
  /** References taken and not given back. */
  refs: number;
  /** Unhashed entries on the garbage list whose latest reference it took, and the oldest one's age. */
  garbage: number;
  oldestMs: number;
}

/** Holder ids the core counts (1–15; 0 = no reference). */
const MAX_HOLDERS = 16;
/** Entries a piece of `entryDump` copies out of the core at a time. */
const DUMP_PIECE = 4096;

export class RouteCache {
  readonly fib: Fib;
  readonly buckets: number;
  private keysPtr = 0;
  private outPtr = 0;
  private cap = 0;
  /** Holder names by id; id 1, "host", is what takeRef = true means. */
  private readonly holderNames = ["(untracked)", "host"];

  constructor(fib: Fib, opts: { buckets: number; secret?: number; seed?: number; now?: number }) {
    this.fib = fib;
    this.buckets = opts.buckets;
    const secret = opts.secret ?? (Math.random() * 2 ** 32) >>> 0;
    const seed = opts.seed ?? (Math.random() * 2 ** 32) >>> 0;
    const rc = fib.core.x.cache_init(opts.buckets, secret, seed, (opts.now ?? 0) >>> 0);
    if (rc === -22) throw new Error(`rhash_entries must be a power of two between 1 and 2^26, got ${opts.buckets}`);
    if (rc !== 0) throw new Error(`wasmroute: route cache could not start (${rc})`);
  }

  set(param: keyof typeof CacheParam, value: number): void {
    if (this.fib.core.x.cache_set_param(CacheParam[param], value | 0) !== 0) throw new Error(`bad cache parameter ${param}`);
  }

  setInterface(name: string, c: InterfaceConf): void {
    const flags = 1 | (c.forwarding ? 2 : 0) | (c.rpFilter << 2) | (c.hasAddresses ? 16 : 0) | (c.acceptLocal ? 32 : 0) | (c.srcValidMark ? 64 : 0);
    if (this.fib.core.x.cache_set_if(this.fib.ifaces.index(name), flags) !== 0) throw new Error(`interface index too large: ${name}`);
  }

  private ensure(n: number): void {
    if (n <= this.cap) return;
    const x = this.fib.core.x;
    if (this.cap) {
      x.mem_free(this.keysPtr, this.cap * KEY_BYTES);
      x.mem_free(this.outPtr, this.cap * ANSWER_BYTES);
    }
    this.cap = Math.max(n, 256);
    this.keysPtr = this.fib.core.alloc(this.cap * KEY_BYTES);
    this.outPtr = this.fib.core.alloc(this.cap * ANSWER_BYTES);
  }

  /**
   * The id of a named holder of references (registered on first use, at most 15): references taken
   * with it are counted for it, and the leak alarm names it when its entries pile up unhashed.
   */
  holder(name: string): number {
    const i = this.holderNames.indexOf(name);
    if (i > 0) return i;
    if (this.holderNames.length >= MAX_HOLDERS) throw new Error(`wasmroute: at most ${MAX_HOLDERS - 1} reference holders, cannot add "${name}"`);
    this.holderNames.push(name);
    return this.holderNames.length - 1;
  }

  /**
   * Resolves input keys through the cache (one core call). takeRef: each answer holds a reference —
   * for holder "host" (true) or for a holder id from holder().
   */
  input(keys: InputKey[], now: number, takeRef: boolean | number = false): InputAnswer[] {
    return this.resolve(keys.map((k) => [k.dst, k.src, this.fib.ifaces.index(k.iif), k.mark ?? 0, k.tos ?? 0]), now, takeRef, false);
  }

  /** Output routes for traffic the router sends (src and oif may be unspecified: 0 / ""). */
  output(keys: OutputKey[], now: number, takeRef: boolean | number = false): InputAnswer[] {
    return this.resolve(keys.map((k) => [k.dst, k.src ?? 0, k.oif ? this.fib.ifaces.index(k.oif) : 0, k.mark ?? 0, k.tos ?? 0]), now, takeRef, true);
  }

  private resolve(keys: number[][], now: number, takeRef: boolean | number, output: boolean): InputAnswer[] {
    this.fib.flush();
    this.ensure(keys.length);
    let m = this.fib.core.u32();
    keys.forEach((k, i) => m.set(k, (this.keysPtr >>> 2) + i * 5));
    const x = this.fib.core.x;
    (output ? x.cache_output_batch : x.cache_input_batch)(this.keysPtr, this.outPtr, keys.length, now >>> 0, takeRef === true ? 1 : takeRef === false ? 0 : takeRef);
    m = this.fib.core.u32();
    const i32 = this.fib.core.i32();
    const out: InputAnswer[] = [];
    for (let i = 0; i < keys.length; i++) {
      const b = this.outPtr + i * ANSWER_BYTES;
      const w = b >>> 2;
      const head = m[w]!;
      out.push({ type: head & 0xff, cached: ((head >>> 8) & 0xff) === 1, error: i32[w + 1]!, gateway: m[w + 2]!, oif: m[w + 3]!, flags: m[w + 4]!, entry: m[w + 5]! });
    }
    return out;
  }

  /** One rt_garbage_collect call, as dst_alloc makes it: 0 = the allocation may go ahead, 1 = overflow. */
  gc(now: number): number {
    return this.fib.core.x.cache_gc(now >>> 0);
  }

  /** Gives a reference back (holder: who took it; 0 = the holder the entry has recorded). */
  release(entry: number, holder = 0): void {
    this.fib.core.x.cache_release(entry, holder);
  }

  /** Per named holder with references or garbage-listed entries: what it keeps (largest first). */
  holders(now: number): HolderCensus[] {
    const p = this.fib.core.x.cache_holders(now >>> 0) >>> 2;
    const m = this.fib.core.u32();
    const out: HolderCensus[] = [];
    for (let h = 0; h < MAX_HOLDERS; h++) {
      const refs = m[p + h * 3]!;
      const garbage = m[p + h * 3 + 1]!;
      if (refs === 0 && garbage === 0) continue;
      out.push({ holder: this.holderNames[h] ?? `holder ${h}`, refs, garbage, oldestMs: m[p + h * 3 + 2]! });
    }
    return out.sort((a, b) => b.garbage - a.garbage || b.refs - a.refs);
  }

  tick(now: number): void {
    this.fib.core.x.cache_tick(now >>> 0);
  }

  /** The flush sysctl: ≥ 0 frees now, < 0 only invalidates (what `ip route flush cache` writes). */
  flush(value: number, now: number): void {
    this.fib.core.x.cache_flush(value | 0, now >>> 0);
  }

  /** The 17 rt_cache counters (entries = allocated), a copy. */
  counters(): Uint32Array {
    const p = this.fib.core.x.cache_counters();
    return this.fib.core.u32().slice(p >>> 2, (p >>> 2) + 17);
  }

  /** Events since the last call (overflow, uncached, rebuild, disabled), then cleared. */
  takeEvents(): { overflow: number; uncached: number; rebuild: number; disabled: number } {
    const p = this.fib.core.x.cache_events() >>> 2;
    const m = this.fib.core.u32();
    const e = { overflow: m[p]!, uncached: m[p + 1]!, rebuild: m[p + 2]!, disabled: m[p + 3]! };
    m.fill(0, p, p + 4);
    return e;
  }

  get allocated(): number {
    return this.fib.core.x.cache_allocated();
  }
  get hashed(): number {
    return this.fib.core.x.cache_hashed();
  }
  /** Unhashed entries still referenced (the garbage list, §7.3). */
  get garbage(): number {
    return this.fib.core.x.cache_garbage();
  }
  garbageOldestAgeMs(now: number): number {
    return this.fib.core.x.cache_garbage_oldest_age(now >>> 0) >>> 0;
  }
  get bytes(): number {
    return this.fib.core.x.cache_bytes() >>> 0;
  }
  chainLength(bucket: number): number {
    return this.fib.core.x.cache_chain_length(bucket);
  }

  /** The live entries (hashed, current generation) as `ip route show cache` sees them (§1.6), at most max. */
  entries(now: number, max = Infinity): CacheEntryView[] {
    const out: CacheEntryView[] = [];
    if (!(max >= 1)) return out;
    for (const piece of this.entryDump(() => now, Math.min(max, DUMP_PIECE))) {
      for (const e of piece) {
        if (out.length >= max) return out;
        out.push(e);
      }
    }
    return out;
  }

  /**
   * The live entries a piece of at most `piece` at a time, in bucket and chain order, resuming where the
   * last piece stopped (the kernel's dump resume, core cacheDump): between two pieces the caller may give
   * the event loop a turn, and the cache may change meanwhile, as it may during a kernel netlink dump.
   * Each piece's ages and expiry times are taken at `clock()` when it is copied.
   */
  *entryDump(clock: () => number, piece = DUMP_PIECE): Generator<CacheEntryView[], void, undefined> {
    if (!Number.isInteger(piece) || piece < 1) throw new RangeError(`a cache dump's piece must be a whole number ≥ 1, got ${piece}`);
    const core = this.fib.core;
    let bucket = 0;
    let position = 0;
    while (bucket < this.buckets) {
      const bytes = piece * 64 + 8;
      const buf = core.alloc(bytes);
      let views: CacheEntryView[];
      try {
        const m = core.u32();
        const c = (buf >>> 2) + piece * 16;
        m[c] = bucket;
        m[c + 1] = position;
        const n = core.x.cache_dump(buf, piece, buf + piece * 64);
        views = this.viewsAt(buf, n, clock());
        bucket = m[c]!;
        position = m[c + 1]!;
      } finally {
        core.x.mem_free(buf, bytes);
      }
      if (views.length) yield views;
    }
  }

  private viewsAt(buf: number, n: number, now: number): CacheEntryView[] {
    const m = this.fib.core.u32();
    const out: CacheEntryView[] = [];
    for (let i = 0; i < n; i++) {
      const w = (buf >>> 2) + i * 16;
      const tosTypePmtu = m[w + 5]!;
      const iif = m[w + 3]!;
      out.push({
        type: TYPE_NAMES[(tosTypePmtu >>> 8) & 0xff] ?? "unicast",
        dst: m[w + 1]!, src: m[w + 2]!, tos: tosTypePmtu & 0xff, gateway: m[w + 9]!, dev: this.ifName(m[w + 10]!),
        mark: m[w + 4]! || undefined, flags: m[w + 6]!, iif: iif ? this.ifName(iif) : undefined, oif: iif ? undefined : (m[w + 8] ? this.ifName(m[w + 8]!) : undefined),
        refcnt: m[w + 12]!, use: m[w + 13]!, lastuseAgeMs: ((now >>> 0) - m[w + 14]!) >>> 0, error: m[w + 11]!,
        expiresMs: m[w + 15] ? Math.max(0, (m[w + 15]! - (now >>> 0)) | 0) : 0,
      });
    }
    return out;
  }

  private ifName(ix: number): string {
    return this.fib.ifaces.name(ix) ?? `if${ix}`;
  }

  state(): { expireMs: number; equilibrium: number; chainLengthMax: number; rebuildCount: number; genid: number; cachingDisabled: boolean } {
    const s = (i: number) => this.fib.core.x.cache_state(i);
    return { expireMs: s(0), equilibrium: s(1) >>> 0, chainLengthMax: s(2), rebuildCount: s(3), genid: s(4) >>> 0, cachingDisabled: s(5) === 1 };
  }
}
