// input.ts — input route resolution with the cache (ip_route_input_common / ip_route_input_slow, §6):
// the fast path, then on a miss the slow path's classification — martians, limited and subnet
// broadcast, local delivery, forwarding (with rp_filter source validation, §6.4), no route (a cached
// negative entry) — with the kernel's counters bumped where §5.2 says. Batched: n keys in, n answers out.
//
// Per-interface configuration, u8 per ifindex (< MAX_IF), written by the host:
//   bit 0 IPv4 enabled (in_device)   bit 1 forwarding   bits 2–3 rp_filter (max of all/<dev>)
//   bit 4 has addresses             bit 5 accept_local  bit 6 src_valid_mark
// Key, 20 bytes: dst, src, iif, mark, tos. Answer, 24 bytes: see decision.ts.
// Batched fast path scratch (static, u32[128] each, per chunk of keys; see fastPath below):
//   cur (bucket, then place in the chain)   steps (entries passed over)   pend, moved (chain-walk rounds)
import { LOOPBACK, RTN_UNICAST, RTN_LOCAL, RTN_BROADCAST, RTN_UNREACHABLE, EINVAL, EHOSTUNREACH, ENETUNREACH, EXDEV, isLoopback, isMulticast, isZeronet } from "./addr";
import { routeOne } from "../fib/rules";
import { results, nexthops, RESULT_BYTES, NEXTHOP_BYTES, resultType } from "../fib/nexthop";
import { lookupInput, hold, buckets, mask } from "./table";
import { jhash3, jhash3x4 } from "./hash";
import { answer, drop, decide, addFlags, setDecision, finish } from "./decision";
import { RTCF_BROADCAST, RTCF_DIRECTSRC, RTCF_DOREDIRECT, RTCF_LOCAL } from "./entry";
import {
  bump, addCounter, genid, secret, cachingDisabled, C_IN_HIT, C_IN_HLIST_SEARCH, C_IN_SLOW_TOT, C_IN_NO_ROUTE, C_IN_BRD, C_IN_MARTIAN_DST, C_IN_MARTIAN_SRC,
} from "./state";

export const MAX_IF: u32 = 4096;
const ifConf: usize = memory.data(<i32>MAX_IF);
export const IF_IPV4: u8 = 1;
export const IF_FORWARD: u8 = 2;
export const IF_HAS_ADDR: u8 = 16;
export const IF_ACCEPT_LOCAL: u8 = 32;
export const IF_SRC_VALID_MARK: u8 = 64;


export const KEY_BYTES: u32 = 20;
export const ANSWER_BYTES: u32 = 24;

export function setIfConf(ifindex: u32, flags: u32): i32 {
  if (ifindex >= MAX_IF) return -22;
  store<u8>(ifConf + ifindex, <u8>flags);
  return 0;
}
/** The interface exists with IPv4 (an output route may leave by it). */
export function isInterfaceUp(ifindex: u32): bool {
  return (conf(ifindex) & IF_IPV4) != 0;
}

/** The interface forwards (net.ipv4.conf.IF.forwarding). */
export function isForwarding(ifindex: u32): bool {
  return (conf(ifindex) & IF_FORWARD) != 0;
}

// @ts-ignore: decorator
@inline function conf(ifindex: u32): u32 {
  return ifindex < MAX_IF ? <u32>load<u8>(ifConf + ifindex) : 0;
}

const fibOut: usize = memory.data(16); // answer of the FIB policy lookups made here

/**
 * fib_validate_source (§6.4): < 0 an errno (martian source), 0 accepted, 1 accepted and directly
 * connected. Step 8's lookup forced out of the receiving device is approximated by "accepted".
 */
function validateSource(src: u32, dst: u32, iif: u32, oif: u32, tos: u32, mark: u32): i32 {
  const c = conf(iif);
  const rpf = (c >>> 2) & 3;
  const err = routeOne(src, dst, oif, (c & IF_SRC_VALID_MARK) != 0 ? mark : 0, tos, fibOut);
  if (err != 0) return rpf != 0 ? -EXDEV : 0;
  const res = load<u32>(fibOut);
  const type = resultType(res);
  if (!(type == RTN_UNICAST || (type == RTN_LOCAL && (c & IF_ACCEPT_LOCAL) != 0))) return -EINVAL;
  const r = results + <usize>res * RESULT_BYTES;
  const count = <u32>load<u16>(r, 2);
  const first = load<u32>(r, 4);
  for (let i: u32 = 0; i < count; i++) {
    const nh = nexthops + <usize>(first + i) * NEXTHOP_BYTES;
    if (load<u32>(nh, 4) == iif) return load<u32>(nh) == 0 ? 1 : 0;
  }
  if ((c & IF_HAS_ADDR) == 0) return rpf != 0 ? -EXDEV : 0;
  if (rpf == 1) return -EXDEV;
  return 0;
}


/** One input key: fast path, else slow path. takeRef: the answer holds a reference (release it later). */
export function inputOne(dst: u32, src: u32, iif: u32, mark: u32, tos0: u32, now: u32, takeRef: bool, out: usize): void {
  const tos = tos0 & 0x1c;
  const hit = lookupInput(dst, src, iif, tos, mark, now);
  if (hit != 0) {
    if (takeRef) hold(hit);
    const er = load<i32>(hit, 44);
    answer(out, load<u8>(hit, 21), true, er != 0 ? -er : 0, load<u32>(hit, 36), load<u32>(hit, 40), load<u32>(hit, 24) & 0xffff0000, takeRef ? hit : 0);
    return;
  }
  inputSlow(dst, src, iif, mark, tos, now, takeRef, out);
}

/** The slow path of one input key (the fast path missed). tos is already masked. */
function inputSlow(dst: u32, src: u32, iif: u32, mark: u32, tos: u32, now: u32, takeRef: bool, out: usize): void {
  if (isMulticast(dst)) return drop(out, EINVAL); // not a member, no multicast routing: dropped, uncounted (§6.1)
  const c = conf(iif);
  if ((c & IF_IPV4) == 0) return drop(out, EINVAL); // §6.3 step 1
  if (isMulticast(src) || src == 0xffffffff || isLoopback(src)) return martianSrc(out, EINVAL);
  decide();
  if (dst == 0xffffffff || (src == 0 && dst == 0)) return brdInput(out, dst, src, iif, tos, mark, now, takeRef);
  if (isZeronet(src)) return martianSrc(out, EINVAL);
  if (isZeronet(dst) || isLoopback(dst)) return martianDst(out);
  const err = routeOne(dst, src, iif, mark, tos, fibOut);
  if (err != 0) {
    if ((c & IF_FORWARD) == 0) return drop(out, EHOSTUNREACH);
    return noRoute(out, dst, src, iif, tos, mark, now, takeRef, err == -101 ? ENETUNREACH : -err);
  }
  bump(C_IN_SLOW_TOT);
  const res = load<u32>(fibOut);
  const type = resultType(res);
  if (type == RTN_BROADCAST) return brdInput(out, dst, src, iif, tos, mark, now, takeRef);
  if (type == RTN_LOCAL) {
    const v = validateSource(src, dst, iif, LOOPBACK, tos, mark);
    if (v < 0) return martianSrc(out, -v);
    if (v > 0) addFlags(RTCF_DIRECTSRC);
    return localInput(out, RTN_LOCAL, dst, src, iif, tos, mark, now, takeRef);
  }
  if ((c & IF_FORWARD) == 0) return drop(out, EHOSTUNREACH);
  if (type != RTN_UNICAST) return martianDst(out);
  // __mkroute_input (§6.5): the hop was chosen per flow by the FIB lookup.
  const nh = nexthops + <usize>load<u32>(fibOut, 8) * NEXTHOP_BYTES;
  const oif = load<u32>(nh, 4);
  const gw = load<u32>(nh);
  const v = validateSource(src, dst, iif, oif, tos, mark);
  if (v < 0) return martianSrc(out, -v);
  if (v > 0) addFlags(RTCF_DIRECTSRC);
  if (oif == iif && v > 0) addFlags(RTCF_DOREDIRECT); // shared media: back out of the input interface
  setDecision(RTN_UNICAST, gw != 0 ? gw : dst, oif, 0);
  finish(out, dst, src, iif, 0, tos, mark, now, takeRef);
}

function brdInput(out: usize, dst: u32, src: u32, iif: u32, tos: u32, mark: u32, now: u32, takeRef: bool): void {
  if (src != 0) {
    const v = validateSource(src, 0, iif, 0, tos, mark);
    if (v < 0) return martianSrc(out, -v);
    if (v > 0) addFlags(RTCF_DIRECTSRC);
  }
  addFlags(RTCF_BROADCAST);
  bump(C_IN_BRD);
  localInput(out, RTN_BROADCAST, dst, src, iif, tos, mark, now, takeRef);
}

function localInput(out: usize, type: u8, dst: u32, src: u32, iif: u32, tos: u32, mark: u32, now: u32, takeRef: bool): void {
  addFlags(RTCF_LOCAL);
  setDecision(type, dst, LOOPBACK, 0);
  finish(out, dst, src, iif, 0, tos, mark, now, takeRef);
}

function noRoute(out: usize, dst: u32, src: u32, iif: u32, tos: u32, mark: u32, now: u32, takeRef: bool, errno: i32): void {
  bump(C_IN_NO_ROUTE);
  setDecision(RTN_UNREACHABLE, dst, LOOPBACK, errno);
  finish(out, dst, src, iif, 0, tos, mark, now, takeRef);
}

function martianDst(out: usize): void {
  bump(C_IN_MARTIAN_DST);
  drop(out, EHOSTUNREACH);
}

function martianSrc(out: usize, errno: i32): void {
  bump(C_IN_MARTIAN_SRC);
  drop(out, errno);
}

/**
 * n keys → n answers. The fast path is inlined here for the common case (noref lookups, caching on).
 * A hit is memory-bound: for random flows the bucket, the head entry and, for about every second key,
 * a further chain entry are cache misses (§1.1: a chain holds ~1 entry per bucket at gc_thresh). So a
 * chunk of 128 keys goes through passes that are each short per key, so that the misses of all the
 * chunk's keys are in flight together instead of one key's after another's:
 *   1a. hash every key to its bucket (ALU only);
 *   1b. load every bucket (the chain heads), then touch each head entry in a loop of its own;
 *   1a. is SIMD: four keys per jhash3x4, one in each i32x4 lane.
 *   2.  walk every chain to its first entry with the key's dst, src, iif and mark (entry bytes 4..19 against
 *       key bytes 0..15, one 16-byte SIMD compare), or to its end, all keys one step per round: a round's
 *       loads do not depend on each other, and the keys that stepped go on. Each round after the first
 *       starts by touching the entries the keys stepped to.
 *   3.  from that entry compare the whole key (the same 16 bytes, then tos and genid: §6.1), answer hits,
 *       send misses to the slow path.
 * The loops that take the misses do little else: the touches only load, and the bucket loop stores each
 * head where it read the bucket's address. A loop that also compares and stores keeps fewer of its misses
 * in flight, because the CPU's out-of-order window and store queue fill with its other work first; split
 * this way, a random-order hit costs about a sixth less (BENCHMARKS.md, route cache, item 12).
 * Entries passed over in pass 2 (another flow) are counted as searched, so in_hlist_search is
 * what a walk from the head counts. Once a slow path has run, later keys of the chunk walk afresh from
 * their head (and the genid), so a batch behaves exactly like keys handled one by one (a new flow's second
 * packet in the same batch is a hit). in_hit and in_hlist_search are kept in locals and added once per batch.
 */
const CHUNK: u32 = 128;
const cur: usize = memory.data(<i32>CHUNK * 4); // per key: bucket (1a), then its place in the chain (1b, 2)
const steps: usize = memory.data(<i32>CHUNK * 4); // per key: entries pass 2 passed over
const pend: usize = memory.data(<i32>CHUNK * 4); // pass 2: the keys still walking
const moved: usize = memory.data(<i32>CHUNK * 4); // pass 2: did the key step in this round
const empty: usize = memory.data(64); // a zero line that 1b touches for an empty bucket
const touchSink: usize = memory.data(4);

/** 1b's touch: a word of each of the m keys' head entries (cur), or of `empty` for an empty chain. */
// @ts-ignore: decorator
@inline function touchHeads(m: u32): u32 {
  let t: u32 = 0;
  for (let i: u32 = 0; i < m; i++) {
    const h = load<u32>(cur + (<usize>i << 2));
    t ^= load<u32>(select<usize>(<usize>h, empty, h != 0));
  }
  return t;
}

/** A round's touch: a word of the entry each of the np walking keys (pend) has stepped to. */
// @ts-ignore: decorator
@inline function touchWalking(np: u32): u32 {
  let t: u32 = 0;
  for (let j: u32 = 0; j < np; j++) t ^= load<u32>(<usize>load<u32>(cur + (<usize>load<u32>(pend + (<usize>j << 2)) << 2)));
  return t;
}

export function inputBatch(keys: usize, out: usize, n: u32, now: u32, takeRef: bool): void {
  if (takeRef || cachingDisabled()) {
    for (let i: u32 = 0; i < n; i++) {
      const k = keys + <usize>i * KEY_BYTES;
      inputOne(load<u32>(k), load<u32>(k, 4), load<u32>(k, 8), load<u32>(k, 12), load<u32>(k, 16), now, takeRef, out + <usize>i * ANSWER_BYTES);
    }
    return;
  }
  fastPath(keys, out, n, now, STAGE_ALL);
}

// Stages of the fast path, for the benchmark's cost split (hitStages): each runs the passes up to it.
export const STAGE_HASH: u32 = 1; // 1a
export const STAGE_BUCKET: u32 = 2; // + 1b (buckets and a touch of each head entry)
export const STAGE_WALK: u32 = 3; // + 2
export const STAGE_COMPARE: u32 = 4; // + 3's whole-key compare, without its stores
export const STAGE_ALL: u32 = 5; // the fast path: + use/lastuse, answers, slow paths, counters
const stageSink: usize = memory.data(4); // where a partial run leaves its hit count

/**
 * Benchmark probe: the fast path's passes up to `stage` over n keys. Below STAGE_ALL nothing is
 * written but scratch (no answers, entries or counters), so the same keys can be run again and again.
 */
export function hitStages(keys: usize, out: usize, n: u32, now: u32, stage: u32): void {
  if (cachingDisabled()) return;
  fastPath(keys, out, n, now, min<u32>(stage, STAGE_ALL));
}

// @ts-ignore: decorator
@inline function fastPath(keys: usize, out: usize, n: u32, now: u32, stage: u32): void {
  const table = buckets;
  const m0 = mask;
  let hits: u32 = 0;
  let searched: u32 = 0;
  let touched: u32 = 0;
  for (let base: u32 = 0; base < n; base += CHUNK) {
    const m = min<u32>(CHUNK, n - base);
    const kc = keys + <usize>base * KEY_BYTES;
    const oc = out + <usize>base * ANSWER_BYTES;
    let g = genid;
    let seed = secret + g;
    // 1a: buckets, four keys at a time (one per SIMD lane), the rest one by one.
    const vm = i32x4.splat(m0);
    const vt = i32x4.splat(<u32>table);
    let i0: u32 = 0;
    for (; i0 + 4 <= m; i0 += 4) {
      const k = kc + <usize>i0 * KEY_BYTES;
      let d = v128.load32_zero(k);
      let s = v128.load32_zero(k, 4);
      let f = v128.load32_zero(k, 8);
      d = v128.load32_lane(k, d, 1, KEY_BYTES); s = v128.load32_lane(k, s, 1, KEY_BYTES + 4); f = v128.load32_lane(k, f, 1, KEY_BYTES + 8);
      d = v128.load32_lane(k, d, 2, KEY_BYTES * 2); s = v128.load32_lane(k, s, 2, KEY_BYTES * 2 + 4); f = v128.load32_lane(k, f, 2, KEY_BYTES * 2 + 8);
      d = v128.load32_lane(k, d, 3, KEY_BYTES * 3); s = v128.load32_lane(k, s, 3, KEY_BYTES * 3 + 4); f = v128.load32_lane(k, f, 3, KEY_BYTES * 3 + 8);
      v128.store(cur + (<usize>i0 << 2), i32x4.add(vt, i32x4.shl(v128.and(jhash3x4(d, s, f, seed), vm), 2)));
    }
    for (let i = i0; i < m; i++) {
      const k = kc + <usize>i * KEY_BYTES;
      store<u32>(cur + (<usize>i << 2), <u32>table + ((jhash3(load<u32>(k), load<u32>(k, 4), load<u32>(k, 8), seed) & m0) << 2));
    }
    if (stage < STAGE_BUCKET) continue;
    // 1b: chain heads, then a touch of each head entry; then the keys with a non-empty chain walk in pass 2.
    for (let i: u32 = 0; i < m; i++) {
      const c = cur + (<usize>i << 2);
      store<u32>(c, load<u32>(<usize>load<u32>(c)));
    }
    touched ^= touchHeads(m);
    memory.fill(steps, 0, <usize>m << 2);
    let np: u32 = 0;
    for (let i: u32 = 0; i < m; i++) {
      store<u32>(pend + (<usize>np << 2), i);
      np += <u32>(load<u32>(cur + (<usize>i << 2)) != 0);
    }
    if (stage < STAGE_WALK) continue;
    // 2: rounds. The stores' addresses do not depend on the loads, so a round's misses overlap.
    for (let round: u32 = 0; np != 0; round++) {
      if (round != 0) touched ^= touchWalking(np); // round 0's entries are the heads, touched in 1b
      for (let j: u32 = 0; j < np; j++) {
        const i = load<u32>(pend + (<usize>j << 2));
        const c = cur + (<usize>i << 2);
        const e = <usize>load<u32>(c);
        const next = load<u32>(e);
        // dst, src, iif and mark at once: entry bytes 4..19 against key bytes 0..15.
        const differ = v128.any_true(v128.xor(v128.load(e, 4), v128.load(kc + <usize>i * KEY_BYTES)));
        const go = <u32>differ & <u32>(next != 0);
        store<u32>(c, select<u32>(next, <u32>e, go != 0));
        const st = steps + (<usize>i << 2);
        store<u32>(st, load<u32>(st) + go);
        store<u32>(moved + (<usize>j << 2), go);
      }
      let w: u32 = 0;
      for (let j: u32 = 0; j < np; j++) {
        store<u32>(pend + (<usize>w << 2), load<u32>(pend + (<usize>j << 2)));
        w += load<u32>(moved + (<usize>j << 2));
      }
      np = w;
    }
    if (stage < STAGE_COMPARE) continue;
    // 3: whole-key compare, answers, slow paths.
    let changed = false;
    for (let i: u32 = 0; i < m; i++) {
      const k = kc + <usize>i * KEY_BYTES;
      const o = oc + <usize>i * ANSWER_BYTES;
      const tos = load<u32>(k, 16) & 0x1c; // dst, src, iif and mark are read where a head or a slow path needs them
      let e: usize;
      if (changed) {
        // A slow path in this chunk may have changed the table (inserts, evictions, GC, a rebuild's new
        // genid): walk from the head, as a key taken alone would.
        e = <usize>load<u32>(table + (<usize>(jhash3(load<u32>(k), load<u32>(k, 4), load<u32>(k, 8), seed) & m0) << 2));
      } else {
        e = <usize>load<u32>(cur + (<usize>i << 2));
        searched += load<u32>(steps + (<usize>i << 2));
      }
      const kv = v128.load(k); // dst, src, iif, mark
      while (e != 0) {
        if (!v128.any_true(v128.xor(v128.load(e, 4), kv)) && <u32>load<u8>(e, 20) == tos && load<u32>(e, 28) == g) break;
        searched++;
        e = <usize>load<u32>(e);
      }
      if (stage < STAGE_ALL) {
        hits += <u32>(e != 0);
        continue;
      }
      if (e != 0) {
        store<u32>(e, load<u32>(e, 52) + 1, 52);
        store<u32>(e, now, 56);
        hits++;
        const er = load<i32>(e, 44);
        store<u32>(o, <u32>load<u8>(e, 21) | 0x100); // type, cached
        store<i32>(o, er != 0 ? -er : 0, 4);
        store<u64>(o, load<u64>(e, 36), 8); // gateway, oif
        store<u32>(o, load<u32>(e, 24) & 0xffff0000, 16);
        store<u32>(o, 0, 20);
        continue;
      }
      inputSlow(load<u32>(k), load<u32>(k, 4), load<u32>(k, 8), load<u32>(k, 12), tos, now, false, o);
      changed = true;
      g = genid;
      seed = secret + g;
    }
  }
  store<u32>(touchSink, touched); // keeps the touches
  if (stage < STAGE_ALL) {
    store<u32>(stageSink, hits + searched);
    return;
  }
  addCounter(C_IN_HIT, hits);
  addCounter(C_IN_HLIST_SEARCH, searched);
}
