// table.ts — the route cache hash table (rt_hash_table, §1.1–1.3): buckets of chains, the input fast
// path (§6.1), insertion rt_intern_hash (§4.2, with rt_score §3.4), flush (§2), and references (§7.1);
// what happens to an entry after it leaves its chain is garbage.ts (§7.3).
//
// Memory: buckets u32[nBuckets] (chain heads, entry pointers), allocated once at init.
import { allocZeroed } from "../util/arena";
import { jhash3 } from "./hash";
import { rtFree, garbageReleased, garbageHeldAgain } from "./garbage";
import {
  F_HASHED, F_GARBAGE, F_NOCACHE, RTCF_BROADCAST, RTCF_MULTICAST, RTCF_LOCAL, RTCF_NOTIFY, RTCF_REDIRECTED,
  entryFree, addHashed,
} from "./entry";
import {
  genid, secret, bump, event, C_IN_HIT, C_IN_HLIST_SEARCH, C_OUT_HIT, C_OUT_HLIST_SEARCH, E_REBUILD, E_DISABLED, gcElasticity, chainLengthMax,
  cachingDisabled, noteRebuild, bumpGenid,
} from "./state";

export let buckets: usize = 0;
export let nBuckets: u32 = 0;
export let mask: u32 = 0;

/** Allocates n buckets (a power of two). 0, -22 bad size, -12 ENOMEM, -17 already initialised. */
export function tableInit(n: u32): i32 {
  if (buckets != 0) return -17;
  if (n == 0 || (n & (n - 1)) != 0 || n > (1 << 26)) return -22;
  const b = allocZeroed(<usize>n << 2);
  if (b == 0) return -12;
  buckets = b;
  nBuckets = n;
  mask = n - 1;
  return 0;
}

// @ts-ignore: decorator
@inline export function bucketOf(dst: u32, src: u32, iif: u32): usize {
  return buckets + (<usize>(jhash3(dst, src, iif, secret + genid) & mask) << 2);
}

// ── entry predicates (§3.3, §3.4) ──
// @ts-ignore: decorator
@inline export function isStale(e: usize): bool {
  return load<u32>(e, 28) != genid;
}

export function valuable(e: usize): bool {
  return (load<u32>(e, 24) & (RTCF_REDIRECTED | RTCF_NOTIFY)) != 0 || load<u32>(e, 60) != 0;
}

function fastClean(e: usize): bool {
  return (load<u32>(e, 24) & (RTCF_BROADCAST | RTCF_MULTICAST)) != 0 && load<u32>(e, 12) != 0 && load<u32>(e) != 0;
}

/** rt_may_expire (3.4): referenced entries never; else by age against tmo1, or tmo2 when valuable. */
export function mayExpire(e: usize, tmo1: u32, tmo2: u32, now: u32): bool {
  if (load<u32>(e, 48) > 0) return false;
  const age = now - load<u32>(e, 56);
  if ((age <= tmo1 && !fastClean(e)) || (age <= tmo2 && valuable(e))) return false;
  return true;
}

/** rt_score: lower = better eviction candidate (§3.4). */
function score(e: usize, now: u32): u32 {
  let s = ~(now - load<u32>(e, 56)) & 0x3fffffff;
  if (valuable(e)) s |= 0x80000000;
  const f = load<u32>(e, 24);
  if (load<u32>(e, 12) == 0 || (f & (RTCF_BROADCAST | RTCF_MULTICAST | RTCF_LOCAL)) == 0) s |= 0x40000000;
  return s;
}

/** compare_keys (§1.3): dst, src, mark, tos, route_iif and oif all equal. */
function sameKey(a: usize, b: usize): bool {
  return load<u32>(a, 4) == load<u32>(b, 4) && load<u32>(a, 8) == load<u32>(b, 8) && load<u32>(a, 12) == load<u32>(b, 12) &&
    load<u32>(a, 16) == load<u32>(b, 16) && load<u8>(a, 20) == load<u8>(b, 20) && load<u32>(a, 32) == load<u32>(b, 32);
}

/** The index hashed with the addresses: iif for input routes, the key oif for output routes (§1.3). */
// @ts-ignore: decorator
@inline function hashIdx(e: usize): u32 {
  const iif = load<u32>(e, 12);
  return iif != 0 ? iif : load<u32>(e, 32);
}

/** Same hash inputs (dst, src, iif): aliases differ only in tos or mark (§1.3). */
// @ts-ignore: decorator
@inline export function sameHashInputs(a: usize, b: usize): bool {
  return load<u32>(a, 4) == load<u32>(b, 4) && load<u32>(a, 8) == load<u32>(b, 8) && load<u32>(a, 12) == load<u32>(b, 12);
}

/** True when no entry before e in the chain starting at head has e's hash inputs (has_noalias). */
export function noAliasBefore(head: usize, e: usize): bool {
  for (let c = head; c != e; c = <usize>load<u32>(c)) if (sameHashInputs(c, e)) return false;
  return true;
}

// ── references (§7.1) ──
export { rtFree };

export function hold(e: usize): void {
  const r = load<u32>(e, 48);
  store<u32>(e, r + 1, 48);
  if (r == 0 && (load<u32>(e, 24) & F_GARBAGE) != 0) garbageHeldAgain(e);
}

/** dst_release: an uncached (DST_NOCACHE) entry goes as soon as its last reference does (§7.1). */
export function release(e: usize): void {
  const r = load<u32>(e, 48);
  if (r == 0) return;
  store<u32>(e, r - 1, 48);
  if (r != 1) return;
  const f = load<u32>(e, 24);
  if ((f & F_NOCACHE) != 0) entryFree(e);
  else if ((f & F_GARBAGE) != 0) garbageReleased(e);
}

// ── lookup and insert ──

/** Input fast path (ip_route_input_common, §6.1): the live entry for the key, or 0. */
export function lookupInput(dst: u32, src: u32, iif: u32, tos: u32, mark: u32, now: u32): usize {
  if (cachingDisabled()) return 0;
  const g = genid;
  for (let e = <usize>load<u32>(bucketOf(dst, src, iif)); e != 0; e = <usize>load<u32>(e)) {
    if (load<u32>(e, 4) == dst && load<u32>(e, 8) == src && load<u32>(e, 12) == iif && <u32>load<u8>(e, 20) == tos &&
        load<u32>(e, 16) == mark && load<u32>(e, 28) == g) {
      store<u32>(e, load<u32>(e, 52) + 1, 52);
      store<u32>(e, now, 56);
      bump(C_IN_HIT);
      return e;
    }
    bump(C_IN_HLIST_SEARCH);
  }
  return 0;
}

/** Output fast path (__ip_route_output_key, §6.7): dst_use on a hit (takes a reference), or 0. */
export function lookupOutput(dst: u32, src: u32, oif: u32, tos: u32, mark: u32, now: u32): usize {
  if (cachingDisabled()) return 0;
  const g = genid;
  for (let e = <usize>load<u32>(bucketOf(dst, src, oif)); e != 0; e = <usize>load<u32>(e)) {
    if (load<u32>(e, 4) == dst && load<u32>(e, 8) == src && load<u32>(e, 12) == 0 && load<u32>(e, 32) == oif &&
        <u32>load<u8>(e, 20) == tos && load<u32>(e, 16) == mark && load<u32>(e, 28) == g) {
      store<u32>(e, load<u32>(e, 48) + 1, 48);
      store<u32>(e, load<u32>(e, 52) + 1, 52);
      store<u32>(e, now, 56);
      bump(C_OUT_HIT);
      return e;
    }
    bump(C_OUT_HLIST_SEARCH);
  }
  return 0;
}

function aliasFreeLength(head: usize): u32 {
  let n: u32 = 0;
  for (let c = head; c != 0; c = <usize>load<u32>(c)) if (noAliasBefore(head, c)) n++;
  return n;
}

/**
 * rt_intern_hash (§4.2): hashes new entry e (refcnt 1, owned by the caller) and returns the entry the
 * caller should use — e, or an existing entry with the same key (e is then freed).
 */
export function intern(e: usize, now: u32): usize {
  for (;;) {
    if (cachingDisabled()) {
      store<u32>(e, load<u32>(e, 24) | F_NOCACHE, 24);
      return e;
    }
    store<u32>(e, genid, 28); // (3.4 kept the old genid after a rebuild; §4.2 allows refreshing it)
    const bucket = bucketOf(load<u32>(e, 4), load<u32>(e, 8), hashIdx(e));
    let prev: usize = 0;
    let cand: usize = 0;
    let candPrev: usize = 0;
    let minScore: u32 = 0xffffffff;
    let length: u32 = 0;
    let c = <usize>load<u32>(bucket);
    while (c != 0) {
      const next = <usize>load<u32>(c);
      if (isStale(c)) {
        if (prev == 0) store<u32>(bucket, <u32>next);
        else store<u32>(prev, <u32>next);
        rtFree(c, now);
        c = next;
        continue;
      }
      if (sameKey(c, e)) {
        if (prev != 0) {
          store<u32>(prev, <u32>next);
          store<u32>(c, load<u32>(bucket));
          store<u32>(bucket, <u32>c);
        }
        store<u32>(c, load<u32>(c, 48) + 1, 48); // dst_use
        store<u32>(c, load<u32>(c, 52) + 1, 52);
        store<u32>(c, now, 56);
        entryFree(e);
        return c;
      }
      if (load<u32>(c, 48) == 0) {
        const s = score(c, now);
        if (s <= minScore) {
          cand = c;
          candPrev = prev;
          minScore = s;
        }
      }
      length++;
      prev = c;
      c = next;
    }
    if (cand != 0) {
      if (length > gcElasticity) {
        if (candPrev == 0) store<u32>(bucket, load<u32>(cand));
        else store<u32>(candPrev, load<u32>(cand));
        rtFree(cand, now);
      }
    } else if (length > chainLengthMax && aliasFreeLength(<usize>load<u32>(bucket)) > chainLengthMax) {
      noteRebuild(); // emergency rebuild: re-key by bumping the genid, then retry (§4.2 step 4)
      event(E_REBUILD);
      if (cachingDisabled()) event(E_DISABLED);
      bumpGenid();
      continue;
    }
    store<u32>(e, load<u32>(bucket));
    store<u32>(bucket, <u32>e);
    store<u32>(e, load<u32>(e, 24) | F_HASHED, 24);
    addHashed(1);
    return e;
  }
}

/** Writing the flush sysctl (§2): always invalidate; a value ≥ 0 also unhashes everything now. */
export function flush(value: i32, now: u32): void {
  bumpGenid();
  if (value < 0) return;
  for (let i: u32 = 0; i < nBuckets; i++) {
    const b = buckets + (<usize>i << 2);
    let c = <usize>load<u32>(b);
    store<u32>(b, 0);
    while (c != 0) {
      const next = <usize>load<u32>(c);
      rtFree(c, now);
      c = next;
    }
  }
}

