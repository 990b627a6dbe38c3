// index.ts — the core's exported ABI, and nothing else. Internals: fib/ (lookup structure, results,
// policy rules), cache/ (the Linux 2.6/3.x route cache, its GC and counters), dp/ (the data plane's
// wire layer), util/ (memory). Every export takes and returns i32/u32 only; batches go through
// linear memory: the host writes N keys, one call fills N answers.
//
// Host-visible header below memoryBase (bytes 0..65535 are never used by the compiler)
// ┌────────┬──────┬─────────────────────────────────────────────────────────────┐
// │  0..15 │      │ null guard: never read or written (the checked build traps)  │
// │     16 │ 16 B │ answer of the single-key fib_route() call (layout: rules.ts) │
// │ 32..   │      │ unused up to memoryBase (the checked build traps)            │
// └────────┴──────┴─────────────────────────────────────────────────────────────┘
import { alloc, free, bytesInUse, bytesClaimed, heapTop } from "./util/arena";
import { tableCreate, tableDestroy, tableBytesOf, tableExists, dirOf, lookupIn, shortSet, shortDelete, routePut, rebuild } from "./fib/table";
import { bucketBytesOf } from "./fib/bucket";
import { lookupBatch } from "./fib/lookup";
import { reserveResults, reserveNexthops, setResult, setNexthop, flowHash } from "./fib/nexthop";
import { rulesReserve, rulesCommit, routeOne, routeBatch } from "./fib/rules";
import { check } from "./fib/check";
import { cacheInit, cacheTick, cacheDump, cacheBytes, cacheNextWake } from "./cache/cache";
import { neighNextWake } from "./dp/neigh";
import { wakeTake } from "./util/wake";
import { releaseFor, noteTaken, holderOf, holderCensus } from "./cache/holders";
import { flush as cacheFlush, buckets as cacheBuckets, nBuckets } from "./cache/table";
import { garbageCount, garbageOldestAge } from "./cache/garbage";
import { inputBatch, hitStages, setIfConf } from "./cache/input";
import { outputBatch } from "./cache/output";
import { parseBatch, decrementTtl } from "./dp/ipv4";
import { buildError, buildEchoReply, errorForbidden } from "./dp/icmp";
import { errorAllowed, errorInit, redirectAllowed } from "./dp/limit";
import { allocated, hashed } from "./cache/entry";
import { expire as gcExpire, equilibrium as gcEquilibrium, garbageCollect } from "./cache/gc";
import { counters, events, setParam, genid, chainLengthMax, rebuildCount, cachingDisabled } from "./cache/state";
import { txInit, txReset, txFinish, txResult, txVnets } from "./dp/tx";
import { portSet, addrAdd, addrClear } from "./dp/ports";
import { snmp, SNMP_COUNT } from "./dp/snmp";
import { rxInit, dpInput, dpTick, portDrops, rxBatchCounts } from "./dp/forward";
import { dpSetParam } from "./dp/params";
import { peersClear } from "./dp/peer";

export * from "./abi/neigh";
export * from "./abi/fragment";
export * from "./abi/gso";

const ABI_VERSION: u32 = 2;
const ROUTE1_OUT: usize = 16;

export function abi_version(): u32 {
  return ABI_VERSION;
}

// ── memory ────────────────────────────────────────────────────────────────────
export function mem_alloc(size: u32): u32 { return <u32>alloc(size); }
export function mem_free(p: u32, size: u32): void { free(p, size); }
export function mem_bytes_in_use(): u32 { return <u32>bytesInUse(); }
export function mem_bytes_claimed(): u32 { return <u32>bytesClaimed(); }
/** The arena's top (the end of memory ever handed out); the checked build's bound for every access. */
export function mem_top(): u32 { return <u32>heapTop(); }

// ── tables (control plane) ────────────────────────────────────────────────────
export function fib_table_create(): i32 { return tableCreate(); }
export function fib_table_destroy(t: u32): void { tableDestroy(t); }
export function fib_table_bytes(t: u32): u32 { return tableBytesOf(t); }
export function fib_short_set(t: u32, addr: u32, len: u32, result: u32): i32 { return shortSet(t, addr, len, result); }
export function fib_short_delete(t: u32, addr: u32, len: u32, replResult: u32, replLen: u32): i32 {
  return shortDelete(t, addr, len, replResult, replLen);
}
export function fib_route_put(t: u32, addr: u32, len: u32, result: u32): i32 { return routePut(t, addr, len, result); }
export function fib_rebuild(t: u32, slot: u32): i32 { return rebuild(t, slot); }
export function fib_route_list_bytes(t: u32): u32 { return bucketBytesOf(t); }
export function fib_check(t: u32): i32 { return check(t); }

// ── results and next hops (control plane) ─────────────────────────────────────
export function fib_result_reserve(n: u32): i32 { return reserveResults(n); }
export function fib_result_set(id: u32, type: u32, nhFirst: u32, nhCount: u32, prefsrc: u32): i32 {
  return setResult(id, <u8>type, nhFirst, nhCount, prefsrc);
}
export function fib_nexthop_reserve(n: u32): i32 { return reserveNexthops(n); }
export function fib_nexthop_set(i: u32, gateway: u32, oif: u32, upperBound: u32, flags: u32): i32 {
  return setNexthop(i, gateway, oif, upperBound, flags);
}
export function fib_flow_hash(src: u32, dst: u32): u32 { return flowHash(src, dst); }

// ── policy rules (control plane) ──────────────────────────────────────────────
export function fib_rules_reserve(n: u32): u32 { return <u32>rulesReserve(n); }
export function fib_rules_commit(n: u32): i32 { return rulesCommit(n); }

// ── lookups (data plane) ──────────────────────────────────────────────────────
/** One destination in one table: result id, 0 = no route. For the control plane. */
export function fib_lookup(t: u32, dst: u32): u32 {
  return tableExists(t) ? lookupIn(dirOf(t), dst) : 0;
}

/** n destinations (u32 at keys) in table t; result ids (u32) at out. */
export function fib_lookup_batch(t: u32, keys: u32, out: u32, n: u32): void {
  if (!tableExists(t)) {
    memory.fill(out, 0, <usize>n << 2);
    return;
  }
  lookupBatch(dirOf(t), keys, out, n);
}

/** One policy lookup; the answer (16 B) is at header offset 16. Returns the errno (0 = ok). */
export function fib_route(dst: u32, src: u32, iif: u32, mark: u32, tos: u32): i32 {
  return routeOne(dst, src, iif, mark, tos, ROUTE1_OUT);
}

/** n policy keys (20 B each at keys) → n answers (16 B each at out). */
export function fib_route_batch(keys: u32, out: u32, n: u32): void { routeBatch(keys, out, n); }

// ── route cache (control) ─────────────────────────────────────────────────────

export function cache_init(buckets: u32, secret: u32, seed: u32, now: u32): i32 { return cacheInit(buckets, secret, seed, now); }
export function cache_set_param(id: u32, v: i32): i32 { return setParam(id, v); }
export function cache_set_if(ifindex: u32, flags: u32): i32 { return setIfConf(ifindex, flags); }
export function cache_tick(now: u32): void { cacheTick(now); }
export function cache_flush(value: i32, now: u32): void { cacheFlush(value, now); }
export function cache_gc(now: u32): i32 { return garbageCollect(now); }
/** Gives back a reference holder h took (0: the holder the entry has recorded). */
export function cache_release(entry: u32, holder: u32): void { releaseFor(entry, holder); }
/**
 * n keys (20 B: dst, src, iif, mark, tos) → n answers (24 B, layout in cache/input.ts). takeRef: 0 none,
 * else the holder id (1–15, cache/holders.ts) each answer's reference is counted for.
 */
export function cache_input_batch(keys: u32, out: u32, n: u32, now: u32, takeRef: u32): void {
  inputBatch(keys, out, n, now, takeRef != 0);
  noteTaken(out, n, 24, holderOf(takeRef));
}
/** Benchmark probe (bench/cache.ts): the input fast path's passes up to `stage` (1..5, cache/input.ts). */
export function cache_hit_stages(keys: u32, out: u32, n: u32, now: u32, stage: u32): void { hitStages(keys, out, n, now, stage); }
/** n output keys (20 B: dst, src, oif, mark, tos) → n answers (24 B): routes for traffic the router sends. */
export function cache_output_batch(keys: u32, out: u32, n: u32, now: u32, takeRef: u32): void {
  outputBatch(keys, out, n, now, takeRef != 0);
  noteTaken(out, n, 24, holderOf(takeRef));
}
/** Per holder 0–15: u32 refs outstanding, u32 entries on the garbage list, u32 their oldest age (ms). */
export function cache_holders(now: u32): u32 { return <u32>holderCensus(now); }
/** Up to max live entries (64 B each) from the cursor (u32 bucket, u32 chain position), which is moved on. */
export function cache_dump(out: u32, max: u32, cursor: u32): u32 { return cacheDump(out, max, cursor); }
/** Entries in bucket i's chain (stale ones included): for tests of the chain bounds. */
export function cache_chain_length(i: u32): u32 {
  if (i >= nBuckets) return 0;
  let n: u32 = 0;
  for (let e = <usize>load<u32>(cacheBuckets + (<usize>i << 2)); e != 0; e = <usize>load<u32>(e)) n++;
  return n;
}

// ── route cache (observation) ────────────────────────────────────────────────
/** u32[17] rt_cache counters (entries filled in here); u32[4] events (overflow, uncached, rebuild, disabled). */
export function cache_counters(): u32 { store<u32>(counters, allocated); return <u32>counters; }
export function cache_events(): u32 { return <u32>events; }
export function cache_allocated(): u32 { return allocated; }
export function cache_hashed(): u32 { return hashed; }
export function cache_garbage(): u32 { return garbageCount; }
export function cache_garbage_oldest_age(now: u32): u32 { return garbageOldestAge(now); }
export function cache_bytes(): u32 { return cacheBytes(); }
/** GC and defence state: 0 expire (ms), 1 equilibrium, 2 rt_chain_length_max, 3 rebuild count, 4 genid, 5 caching disabled. */
export function cache_state(which: u32): i32 {
  if (which == 0) return <i32>gcExpire;
  if (which == 1) return <i32>gcEquilibrium;
  if (which == 2) return <i32>chainLengthMax;
  if (which == 3) return rebuildCount;
  if (which == 4) return <i32>genid;
  if (which == 5) return cachingDisabled() ? 1 : 0;
  return -1;
}

// ── data plane: wire layer ────────────────────────────────────────────────────
/** n frames (frame i at buf + i·slot, length lens[i] as i32) → n 16-byte parse records (dp/ipv4.ts). */
export function dp_parse_batch(buf: u32, slot: u32, lens: u32, n: u32, out: u32): void { parseBatch(buf, slot, lens, n, out); }
/** TTL − 1 with the RFC 1624 incremental checksum update, on a frame parse_batch found valid. */
export function dp_decrement_ttl(frame: u32): void { decrementTtl(frame); }
/** ICMP error about frame f into out (length, or 0 when RFC 1812 forbids it). mac: 6 bytes at macPtr. */
export function dp_icmp_error(f: u32, len: u32, type: u32, code: u32, mtu: u32, macPtr: u32, src: u32, out: u32): u32 {
  return buildError(f, len, type, code, mtu, macPtr, src, out);
}
/** Why no ICMP error may answer frame f (0 = it may). */
export function dp_icmp_forbidden(f: u32, len: u32): u32 { return errorForbidden(f, len); }
/** Echo reply to the request in f, into out (length, or 0). */
export function dp_icmp_echo_reply(f: u32, len: u32, macPtr: u32, out: u32): u32 { return buildEchoReply(f, len, macPtr, out); }
/** ip_error's token bucket on 8 bytes of state (dp/limit.ts). */
export function dp_error_allowed(state: u32, now: u32, costMs: u32, burstMs: u32): u32 { return errorAllowed(state, now, costMs, burstMs) ? 1 : 0; }
export function dp_error_init(state: u32, now: u32, burstMs: u32): void { errorInit(state, now, burstMs); }
/** ip_rt_send_redirect's back-off on 8 bytes of state. */
export function dp_redirect_allowed(state: u32, now: u32, loadMs: u32, number: u32, silenceMs: u32): u32 {
  return redirectAllowed(state, now, loadMs, number, silenceMs) ? 1 : 0;
}

// ── data plane: ports, transmit list, counters ────────────────────────────────
/** Port ifindex: MAC (6 bytes at macPtr), MTU (0 = remove), flags (1 = up). */
export function dp_port_set(ifindex: u32, macPtr: u32, mtu: u32, flags: u32): i32 { return portSet(ifindex, macPtr, mtu, flags); }
export function dp_addr_add(ifindex: u32, addr: u32, plen: u32): i32 { return addrAdd(ifindex, addr, plen); }
export function dp_addr_clear(): void { addrClear(); }
/** Room for maxFrames listed frames per call and a transmit arena of bytes (once). */
export function dp_tx_init(maxFrames: u32, bytes: u32): i32 { return txInit(maxFrames, bytes); }
export function dp_tx_reset(): void { txReset(); }
/** Groups the transmit list by port; returns the number of groups (result at dp_tx_result()). */
export function dp_tx_finish(): u32 { return txFinish(); }
export function dp_tx_result(): u32 { return <u32>txResult; }
/** u8[12] per listed frame, grouped as the result's offsets: the vnet header an offload TAP sends it with (dp/tx.ts). */
export function dp_tx_vnet(): u32 { return <u32>txVnets(); }
/** u64[SNMP_COUNT] MIB counters (docs/dataplane.md). */
export function dp_snmp(): u32 { return <u32>snmp; }
export function dp_snmp_count(): u32 { return SNMP_COUNT; }

// ── data plane: the pipeline ──────────────────────────────────────────────────
/** Allocates the receive area (n slots of bytes each); returns its header (dp/forward.ts), 0 on failure. */
export function dp_rx_init(n: u32, bytes: u32): u32 { return <u32>rxInit(n, bytes); }
/** n frames received on port iif, in the receive area → n verdicts and the transmit list; returns its groups. */
export function dp_input(iif: u32, n: u32, now: u32): u32 { return dpInput(iif, n, now); }
/** Timers (neighbour retries, hold-queue expiry): fills the transmit list; returns its groups. */
export function dp_tick(now: u32): u32 { return dpTick(now); }
/**
 * ms until cache_tick or dp_tick has something to do (0: at once; 0xffffffff: nothing), by walking their
 * timers; forgets the wake core_wake_take would report (util/wake.ts). The host asks after a tick.
 */
export function core_next_wake(now: u32): u32 {
  wakeTake(now);
  return min(cacheNextWake(now), neighNextWake(now));
}
/** ms until the earliest timer armed since the last ask (by dp_input, a neighbour or cache change), or 0xffffffff. */
export function core_wake_take(now: u32): u32 { return wakeTake(now); }
/** Data-plane knobs (dp/params.ts): error_cost, error_burst, redirect_* (ms), icmp_ratelimit, icmp_ratemask. */
export function dp_set_param(id: u32, v: u32): i32 { return dpSetParam(id, v); }
/** u32 per ifindex: frames dropped on input. */
export function dp_port_drops(): u32 { return <u32>portDrops; }
/** The last dp_input's counts for the port's rx counters: +0 f64 bytes, +8 u32 multicast frames (dp/forward.ts). */
export function dp_rx_counts(): u32 { return <u32>rxBatchCounts; }
/** Forgets every per-source limiter state. */
export function dp_peers_clear(): void { peersClear(); }
