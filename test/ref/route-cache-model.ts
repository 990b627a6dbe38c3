// Reference model of the Linux 3.4 IPv4 route cache, written from ../shared/docs/kernel-route-cache.md
// (section numbers below are that document's), NOT from assembly/cache. Deliberately plain: chains are
// arrays (head first), entries are objects, every step of the spec is a line here, nothing is fast.
// Differential tests drive it and the WASM cache with the same operations and compare the results.
//
// Conventions and the few choices the spec leaves open:
// - Times are u32 milliseconds of the host clock: ages are (now − lastuse) mod 2^32, as jiffies are.
// - Bucket index: jhash_3words(dst, src, iif, secret + genid) & (B − 1) (§1.3, 2.6.25–3.5 form), with the
//   project's jhash (./jhash.ts), so the model and the core agree on which chain a key is in.
// - The genid steps by a random 1..256 on every invalidation (§2 flush, §4.2 step 4). The model cannot
//   predict the core's random draws, so whoever drives it supplies the new genid through `nextGenid`
//   (the differential tests read it back from the core: `cache.state().genid`). Default: genid + 1.
// - Frees are immediate (no RCU grace period): "entries" drops as soon as an unreferenced entry is
//   unlinked, which is what a single-threaded userspace cache does.
// - rt_garbage_collect's last_gc starts gc_min_interval before the start time, so the first call is not
//   gated (§3.1 leaves its initial value open).
// - The emergency rebuild gives the new entry the new genid (§4.2 step 4 allows that instead of 3.4's quirk).
// - The periodic scan (§4.1) first runs at `firstScanAt` (the spec draws it at random in
//   [gc_interval, 2·gc_interval); the driver tells the model when that is), then every gc_interval.
//   `tick(now)` is the host clock: the scan and the dst garbage reaper are timers that fire at the first
//   tick at or after their due time, run at that time, and re-arm from it.

import { jhash3 } from "./jhash.ts";

// RTCF_* (§1.5)
export const RTCF_NOTIFY = 0x00010000;
export const RTCF_REDIRECTED = 0x00040000;
export const RTCF_BROADCAST = 0x10000000;
export const RTCF_MULTICAST = 0x20000000;
export const RTCF_LOCAL = 0x80000000;

// dst garbage timer (§7.3 step 3)
export const DST_GC_MIN = 100;
export const DST_GC_INC = 500;
export const DST_GC_MAX = 120_000;

const ONE = 8; // chain lengths in the periodic scan have 3 fractional bits (§4.1)

export interface FlowKey {
  dst: number;
  src: number;
  iif: number; // ifindex; 0 = output route
  tos?: number; // already masked (input: tos & 0x1c)
  mark?: number;
}

export type EntryState = "hashed" | "garbage" | "nocache" | "freed";

export interface ModelEntry {
  dst: number;
  src: number;
  iif: number;
  tos: number;
  mark: number;
  genid: number;
  refcnt: number;
  use: number;
  lastuse: number;
  flags: number; // RTCF_* bits
  expires: number; // PMTU expiry (ms), 0 = none
  pmtu: number; // learned PMTU, 0 = none
  state: EntryState;
}

export interface Knobs {
  gcThresh: number;
  maxSize: number;
  gcElasticity: number;
  gcMinIntervalMs: number;
  gcTimeoutMs: number;
  gcIntervalMs: number;
  rebuildCountLimit: number; // net.ipv4.rt_cache_rebuild_count
  overflowForward: boolean; // wasmroute's default overflow mode (forward uncached); false = the kernel's
}

export interface ModelCounters {
  in_hit: number;
  in_slow_tot: number;
  in_hlist_search: number;
  gc_total: number;
  gc_ignored: number;
  gc_goal_miss: number;
  gc_dst_overflow: number;
}

export interface InputResult {
  hit: boolean;
  cached: boolean; // the entry used is hashed
  entry: ModelEntry | null; // null: GC gave up, no entry (the caller forwards uncached or drops)
}

const u32 = (x: number) => x >>> 0;
/** int_sqrt: the largest r with r² ≤ n. */
function isqrt(n: number): number {
  let r = Math.floor(Math.sqrt(n));
  while (r * r > n) r--;
  while ((r + 1) * (r + 1) <= n) r++;
  return r;
}
const ageOf = (e: ModelEntry, now: number) => u32(now - e.lastuse);
/** a is at or after b on the wrapping u32 clock. */
const notBefore = (a: number, b: number) => ((a - b) | 0) >= 0;

export class RouteCacheModel {
  readonly nBuckets: number;
  readonly secret: number;
  readonly knobs: Knobs;
  readonly chains: ModelEntry[][];
  readonly garbage: ModelEntry[] = []; // dst_garbage.list + dst_busy_list (§7.3)
  genid: number;
  allocated = 0; // "entries": every allocated dst (§7.4)
  chainLengthMax = 20; // rt_chain_length_max (§4.1 step 4)
  rebuildCount = 0; // current_rt_cache_rebuild_count (§4.2 step 4)
  readonly counters: ModelCounters = { in_hit: 0, in_slow_tot: 0, in_hlist_search: 0, gc_total: 0, gc_ignored: 0, gc_goal_miss: 0, gc_dst_overflow: 0 };
  /** rt_garbage_collect's static state (§3.1). */
  readonly gc: { expire: number; lastGc: number; rover: number; equilibrium: number };
  /** wasmroute (forward mode): the last sweep at max_size that gave nothing back, while it stands. */
  private barren: { at: number; genid: number } | null = null;
  /** Calls that skipped the sweep after a barren one (forward mode at max_size): coverage for the tests. */
  barrenSkips = 0;
  /** Unreferenced entries the last sweep kept (young): such a sweep is not barren. */
  private unreferencedKept = 0;
  /** rt_check_expire's static state (§4.1) and its schedule. */
  readonly scan: { rover: number; last: number; next: number };
  /** dst_gc_task's timer (§7.3): the stored delay and increment, and when it is due (running only). */
  readonly reaper = { running: false, delay: DST_GC_MIN, inc: DST_GC_INC, next: 0 };
  private readonly nextGenid: (old: number) => number;

  constructor(opts: { buckets: number; secret: number; now: number; genid?: number; firstScanAt?: number; nextGenid?: (old: number) => number; knobs?: Partial<Knobs> }) {
    const B = opts.buckets;
    if (!Number.isInteger(B) || B < 1 || (B & (B - 1)) !== 0) throw new RangeError(`buckets must be a power of two, got ${B}`);
    this.nBuckets = B;
    this.secret = u32(opts.secret);
    this.genid = u32(opts.genid ?? 0);
    this.nextGenid = opts.nextGenid ?? ((g) => u32(g + 1));
    // §1.1 derived limits and §2 defaults, in ms
    this.knobs = { gcThresh: B, maxSize: 16 * B, gcElasticity: 8, gcMinIntervalMs: 500, gcTimeoutMs: 300_000, gcIntervalMs: 60_000, rebuildCountLimit: 4, overflowForward: true, ...opts.knobs };
    this.chains = Array.from({ length: B }, () => []);
    this.gc = { expire: this.knobs.gcTimeoutMs, lastGc: u32(opts.now - this.knobs.gcMinIntervalMs), rover: 0, equilibrium: 0 };
    this.scan = { rover: 0, last: u32(opts.now), next: u32(opts.firstScanAt ?? opts.now + this.knobs.gcIntervalMs) };
  }

  // ── views ──
  get hashed(): number {
    return this.chains.reduce((n, c) => n + c.length, 0);
  }
  chainLength(b: number): number {
    return this.chains[b]!.length;
  }
  get cachingDisabled(): boolean {
    return this.rebuildCount > this.knobs.rebuildCountLimit; // §4.2 step 1, §4.3 (−1: at once)
  }
  bucketOf(dst: number, src: number, iif: number): number {
    return jhash3(u32(dst), u32(src), u32(iif), u32(this.secret + this.genid)) & (this.nBuckets - 1);
  }
  /** The genid moves on (rt_cache_invalidate): the driver says to what. */
  private invalidate(): void {
    this.genid = u32(this.nextGenid(this.genid));
  }

  // ── predicates (§3.3, §3.4) ──
  isStale(e: ModelEntry): boolean {
    return e.genid !== this.genid;
  }
  /** rt_valuable: REDIRECTED or NOTIFY, or PMTU state. */
  valuable(e: ModelEntry): boolean {
    return (e.flags & (RTCF_REDIRECTED | RTCF_NOTIFY)) !== 0 || e.expires !== 0 || e.pmtu !== 0;
  }
  /** rt_fast_clean: an input broadcast/multicast entry that is not the last in its chain. */
  private fastClean(e: ModelEntry, hasNext: boolean): boolean {
    return (e.flags & (RTCF_BROADCAST | RTCF_MULTICAST)) !== 0 && e.iif !== 0 && hasNext;
  }
  /** rt_may_expire (3.4). */
  private mayExpire(e: ModelEntry, hasNext: boolean, tmo1: number, tmo2: number, now: number): boolean {
    if (e.refcnt > 0) return false;
    const age = ageOf(e, now);
    if ((age <= tmo1 && !this.fastClean(e, hasNext)) || (age <= tmo2 && this.valuable(e))) return false;
    return true;
  }
  /** rt_score: lower = evicted first. */
  score(e: ModelEntry, now: number): number {
    let s = ~ageOf(e, now) & 0x3fffffff;
    if (this.valuable(e)) s |= 0x80000000;
    if (e.iif === 0 || (e.flags & (RTCF_BROADCAST | RTCF_MULTICAST | RTCF_LOCAL)) === 0) s |= 0x40000000;
    return u32(s);
  }
  private static sameKey(a: ModelEntry, b: ModelEntry): boolean {
    return a.dst === b.dst && a.src === b.src && a.iif === b.iif && a.mark === b.mark && a.tos === b.tos; // compare_keys (oif is 0 for input)
  }
  private static sameHashInputs(a: ModelEntry, b: ModelEntry): boolean {
    return a.dst === b.dst && a.src === b.src && a.iif === b.iif; // compare_hash_inputs
  }
  /** has_noalias: ONE unless an earlier entry of the chain has the same hash inputs. */
  private static noalias(chain: ModelEntry[], i: number): number {
    for (let j = 0; j < i; j++) if (RouteCacheModel.sameHashInputs(chain[j]!, chain[i]!)) return 0;
    return ONE;
  }

  // ── dst lifecycle (§7) ──
  private destroy(e: ModelEntry): void {
    e.state = "freed";
    this.allocated--;
  }
  /** Unlinked from its chain: rt_free → dst_free (§7.3 steps 1–2). */
  private rtFree(e: ModelEntry, now: number): void {
    if (e.refcnt === 0) return this.destroy(e);
    e.state = "garbage"; // __dst_free: obsolete = 2, onto dst_garbage.list
    this.garbage.push(e);
    // "If the gc work's increment was large, restart it soon (DST_GC_MIN)"; a stopped timer starts.
    if (!this.reaper.running || this.reaper.inc > DST_GC_INC) {
      this.reaper.running = true;
      this.reaper.delay = DST_GC_MIN;
      this.reaper.inc = DST_GC_INC;
      this.reaper.next = u32(now + DST_GC_MIN);
    }
  }
  /** dst_release (§7.1): an uncached entry goes with its last reference. */
  release(e: ModelEntry): void {
    if (e.refcnt === 0) throw new Error("release of an unreferenced entry");
    e.refcnt--;
    if (e.refcnt === 0 && e.state === "nocache") this.destroy(e);
  }
  /** dst_gc_task (§7.3 step 3), run now. */
  reap(now: number): void {
    let freed = 0;
    let delayed = 0;
    for (let i = 0; i < this.garbage.length; ) {
      const e = this.garbage[i]!;
      if (e.refcnt === 0) {
        this.garbage.splice(i, 1);
        this.destroy(e);
        freed++;
      } else {
        delayed++;
        i++;
      }
    }
    const r = this.reaper;
    if (this.garbage.length === 0) {
      r.running = false; // an empty busy list stops the timer
      return;
    }
    if (freed <= Math.floor(delayed / 10)) {
      r.delay = Math.min(r.delay + r.inc, DST_GC_MAX); // back off
      r.inc += DST_GC_INC;
    } else {
      r.delay = DST_GC_MIN;
      r.inc = DST_GC_INC;
    }
    const scheduled = r.delay > 4000 ? Math.round(r.delay / 1000) * 1000 : r.delay; // delays over 4 s: whole seconds
    r.next = u32(now + scheduled);
  }

  // ── input fast path (§6.1) ──
  /** The live entry for key, or null; counts in_hit / in_hlist_search; dst_use_noref (+ hold). */
  lookup(key: FlowKey, now: number, hold: boolean): ModelEntry | null {
    if (this.cachingDisabled) return null;
    const tos = key.tos ?? 0, mark = key.mark ?? 0;
    for (const e of this.chains[this.bucketOf(key.dst, key.src, key.iif)]!) {
      if (e.dst === u32(key.dst) && e.src === u32(key.src) && e.iif === key.iif && e.tos === tos && e.mark === mark && !this.isStale(e)) {
        e.use++;
        e.lastuse = u32(now);
        if (hold) e.refcnt++;
        this.counters.in_hit++;
        return e;
      }
      this.counters.in_hlist_search++;
    }
    return null;
  }

  /** Input of a plain forwarded flow: fast path, else the slow path (in_slow_tot) and insert. */
  input(key: FlowKey, now: number, hold: boolean): InputResult {
    const hit = this.lookup(key, now, hold);
    if (hit) return { hit: true, cached: true, entry: hit };
    this.counters.in_slow_tot++;
    const e = this.insert(key, now, hold);
    return { hit: false, cached: e?.state === "hashed", entry: e };
  }

  /**
   * dst_alloc (§7.2: GC first when entries > gc_thresh) + rt_intern_hash (§4.2). Returns the entry the
   * caller uses (holding a reference if `hold`; else the reference is dropped at once, the noref
   * receive path), or null when the GC gave up (§3.2 step 8).
   */
  insert(key: FlowKey, now: number, hold: boolean, flags = 0): ModelEntry | null {
    if (this.allocated > this.knobs.gcThresh && this.garbageCollect(now) !== 0) return null;
    this.allocated++;
    const e: ModelEntry = {
      dst: u32(key.dst), src: u32(key.src), iif: key.iif, tos: key.tos ?? 0, mark: key.mark ?? 0, genid: this.genid,
      refcnt: 1, use: 1, lastuse: u32(now), flags: u32(flags), expires: 0, pmtu: 0, state: "nocache",
    };
    const used = this.intern(e, now);
    if (!hold) this.release(used);
    return used;
  }

  /** rt_intern_hash (§4.2). e is new, refcnt 1, owned by the caller. */
  intern(e: ModelEntry, now: number): ModelEntry {
    for (;;) {
      // 1. caching disabled: DST_NOCACHE, not hashed
      if (this.cachingDisabled) {
        e.state = "nocache";
        return e;
      }
      e.genid = this.genid;
      const chain = this.chains[this.bucketOf(e.dst, e.src, e.iif)]!;
      // 2. walk the chain
      let cand: ModelEntry | null = null;
      let minScore = 0xffffffff;
      let chainLength = 0;
      for (let i = 0; i < chain.length; ) {
        const c = chain[i]!;
        if (this.isStale(c)) {
          chain.splice(i, 1);
          this.rtFree(c, now);
          continue;
        }
        if (RouteCacheModel.sameKey(c, e)) {
          chain.splice(i, 1); // put it first, dst_use it, drop the new one
          chain.unshift(c);
          c.refcnt++;
          c.use++;
          c.lastuse = u32(now);
          e.refcnt = 0;
          this.destroy(e);
          return c;
        }
        if (c.refcnt === 0) {
          const s = this.score(c, now);
          if (s <= minScore) {
            cand = c; // "≤": ties go to the later entry
            minScore = s;
          }
        }
        chainLength++;
        i++;
      }
      if (cand) {
        // 3. evict the candidate once the chain is longer than elasticity
        if (chainLength > this.knobs.gcElasticity) {
          chain.splice(chain.indexOf(cand), 1);
          this.rtFree(cand, now);
        }
      } else if (chainLength > this.chainLengthMax && this.slowChainLength(chain) > this.chainLengthMax) {
        // 4. every entry referenced and the chain too long: emergency rebuild, then start over
        this.rebuildCount++;
        this.invalidate();
        continue;
      }
      // 6. link at the head
      chain.unshift(e);
      e.state = "hashed";
      return e;
    }
  }

  /** slow_chain_length: the alias-free length. */
  private slowChainLength(chain: ModelEntry[]): number {
    let n = 0;
    for (let i = 0; i < chain.length; i++) n += RouteCacheModel.noalias(chain, i);
    return n / ONE;
  }

  /** Frees the stale and expirable entries of chain k with the position rule (§3.2 step 7.3–7.4). */
  private sweepBucket(k: number, now: number): number {
    const chain = this.chains[k]!;
    let tmo = this.gc.expire;
    let freed = 0;
    for (let i = 0; i < chain.length; ) {
      const c = chain[i]!;
      if (this.isStale(c) || this.mayExpire(c, i < chain.length - 1, tmo, this.gc.expire, now)) {
        chain.splice(i, 1);
        this.rtFree(c, now);
        freed++;
      } else {
        if (c.refcnt === 0) this.unreferencedKept++;
        tmo = Math.floor(tmo / 2);
        i++;
      }
    }
    return freed;
  }

  /** rt_garbage_collect (§3.2), called from the packet path: one sweep. 0 = success, 1 = overflow. */
  garbageCollect(now: number): number {
    const k = this.knobs, g = this.gc, B = this.nBuckets;
    this.counters.gc_total++; // 1
    if (u32(now - g.lastGc) < k.gcMinIntervalMs && this.allocated < k.maxSize) { // 2
      this.counters.gc_ignored++;
      return 0;
    }
    const E = this.allocated; // 3
    let goal = E - k.gcElasticity * B; // 4
    if (goal <= 0) {
      if (g.equilibrium < k.gcThresh) g.equilibrium = k.gcThresh;
      goal = E - g.equilibrium;
      if (goal > 0) {
        g.equilibrium += Math.min(Math.floor(goal / 2), B);
        goal = E - g.equilibrium;
      }
    } else {
      goal = Math.max(Math.floor(goal / 2), B);
      g.equilibrium = E - goal;
    }
    if (u32(now - g.lastGc) >= k.gcMinIntervalMs) g.lastGc = u32(now); // 5
    if (goal <= 0) { // 6
      g.equilibrium += goal;
      return this.workDone();
    }
    const before = this.allocated;
    // wasmroute, forward mode: after a sweep at max_size that returned nothing to the slab and met only
    // referenced entries (a sweep that kept young unreferenced ones is not barren), no sweep at
    // max_size until gc_min_interval has passed or the genid changed; the call goes on as if it had swept
    // and freed nothing (gc.ts, "barren").
    const br = this.barren;
    const skip = br !== null && k.overflowForward && this.allocated >= k.maxSize && u32(now - br.at) < k.gcMinIntervalMs && br.genid === this.genid;
    if (skip) this.barrenSkips++;
    else {
      this.barren = null;
      this.unreferencedKept = 0;
      let b = g.rover; // 7: one sweep of up to B buckets from rover + 1
      for (let i = 0; i < B; i++) {
        b = (b + 1) & (B - 1);
        goal -= this.sweepBucket(b, now);
        if (goal <= 0) break;
      }
      g.rover = b;
    }
    if (goal <= 0) return this.workDone();
    this.counters.gc_goal_miss++; // 7.7: halve expire (unless already 0, which leaves the loop)
    if (g.expire !== 0) g.expire = Math.floor(g.expire / 2);
    // 7.8 / 8: below max_size the allocation goes ahead anyway (7.9: the packet path sweeps only once)
    if (this.allocated < k.maxSize) return 0;
    if (!skip && this.allocated >= before && this.unreferencedKept === 0) this.barren = { at: u32(now), genid: this.genid };
    this.counters.gc_dst_overflow++; // "dst cache overflow"
    return 1;
  }

  private workDone(): number { // 9
    const k = this.knobs, g = this.gc;
    g.expire += k.gcMinIntervalMs;
    if (g.expire > k.gcTimeoutMs || this.allocated < k.gcThresh) g.expire = k.gcTimeoutMs;
    return 0;
  }

  /** rt_check_expire (§4.1) at time now. */
  checkExpire(now: number): void {
    const k = this.knobs, B = this.nBuckets;
    const delta = u32(now - this.scan.last);
    this.scan.last = u32(now);
    let goal = k.gcTimeoutMs > 1 ? Math.floor((delta * B) / k.gcTimeoutMs) : B;
    if (goal > B) goal = B;
    let samples = 0, sum = 0, sum2 = 0;
    let i = this.scan.rover;
    for (; goal > 0; goal--) {
      i = (i + 1) & (B - 1);
      samples++;
      let tmo = k.gcTimeoutMs;
      let length = 0;
      const chain = this.chains[i]!;
      for (let j = 0; j < chain.length; ) {
        const c = chain[j]!;
        let free: boolean;
        if (this.isStale(c)) free = true;
        else if (c.expires !== 0) free = !notBefore(c.expires, now); // passed: freed even if referenced
        else free = this.mayExpire(c, j < chain.length - 1, tmo, k.gcTimeoutMs, now);
        if (free) {
          chain.splice(j, 1);
          this.rtFree(c, now);
        } else {
          tmo = Math.floor(tmo / 2);
          length += RouteCacheModel.noalias(chain, j);
          j++;
        }
      }
      sum += length;
      sum2 += length * length;
    }
    if (samples > 0) {
      const avg = Math.floor(sum / samples);
      const sd = isqrt(Math.floor(sum2 / samples) - avg * avg);
      this.chainLengthMax = Math.max(k.gcElasticity, (avg + 4 * sd) >> 3);
    }
    this.scan.rover = i;
  }

  /** When tick next has something to do: the scheduled scan (gc_interval > 0) or the running reaper; undefined: neither. */
  nextWake(): number | undefined {
    const due = [...(this.knobs.gcIntervalMs > 0 ? [this.scan.next] : []), ...(this.reaper.running ? [this.reaper.next] : [])];
    return due.length > 0 ? Math.min(...due) : undefined;
  }

  /**
   * The host clock tick: the periodic scan if it is due, then the garbage reaper if it is due. Both are
   * timers that fire at the first tick at or after their due time and run at that time: a late scan runs
   * once, with delta = the time since the last run, and the next one is gc_interval later (§4.1).
   */
  tick(now: number): void {
    if (this.knobs.gcIntervalMs > 0 && notBefore(now, this.scan.next)) {
      this.checkExpire(now);
      this.scan.next = u32(now + this.knobs.gcIntervalMs);
    }
    if (this.reaper.running && notBefore(now, this.reaper.next)) this.reap(now);
  }

  /** Writing the flush sysctl (§2): always invalidate; ≥ 0 also unlinks and frees every entry now. */
  flush(value: number, now: number): void {
    this.invalidate();
    if (value < 0) return;
    for (const chain of this.chains) {
      for (const c of chain.splice(0)) this.rtFree(c, now);
    }
  }
}
