// neigh.ts — the neighbour table (Linux net/core/neighbour.c with the ARP table's settings): one entry
// per (ifindex, IPv4 next hop) with its NUD state machine, the hold queue of frames waiting for a MAC,
// retries and reachability timers driven by the caller's clock, static entries, periodic and forced
// garbage collection, and a table that survives being full. ARP wire formats live in arp.ts.
//
// States are the kernel's NUD_* bits. A timer runs in INCOMPLETE, REACHABLE, DELAY and PROBE (the
// kernel's NUD_IN_TIMER; its timer holds the only reference an entry can have here, so "unreferenced"
// means "no timer"). Frames to a CONNECTED entry whose header is cached (F_HH, the kernel's hh_cache)
// take the fast path, which does not touch `used`; everything else goes through neigh_event_send.
//
// Entry, 64 bytes (arena blocks)
// ┌─────┬────────┬──────────────────────────────────────────────────────────────────────┐
// │  +0 │ u32    │ next in the hash chain                                               │
// │  +4 │ u32    │ ifindex                                                              │
// │  +8 │ u32    │ IPv4 address (host order)                                            │
// │ +12 │ u8[6]  │ MAC (meaningful while the state is NUD_VALID)                        │
// │ +18 │ u8     │ state (NUD_* bits)                                                   │
// │ +19 │ u8     │ flags: F_HH header cached, F_GC on the gc list, F_RELEASE queue due  │
// │ +20 │ u32    │ used (ms)                                                            │
// │ +24 │ u32    │ confirmed (ms)                                                       │
// │ +28 │ u32    │ updated (ms)                                                         │
// │ +32 │ u32    │ timer deadline (ms; meaningful in NUD_IN_TIMER states)               │
// │ +36 │ u32    │ probes, the kernel's counter (resolving starts at ucast_solicit)     │
// │ +40 │ u32    │ gc list: previous entry (oldest first)                               │
// │ +44 │ u32    │ gc list: next entry                                                  │
// │ +48 │ u32    │ hold queue head (held frame)                                         │
// │ +52 │ u32    │ hold queue tail                                                      │
// │ +56 │ u32    │ hold queue bytes (frame lengths)                                     │
// │ +60 │ u32    │ hold queue frames                                                    │
// └─────┴────────┴──────────────────────────────────────────────────────────────────────┘
// Held frame, 8 + len bytes (arena, neigh-queue.ts): +0 u32 next, +4 u32 len, +8 the Ethernet frame.
// Buckets: u32[nBuckets] chain heads; nBuckets a power of two ≥ gc_thresh3, doubled (hash_grows) when
// the entries outnumber the buckets, never above 2^MAX_SHIFT. The table never holds more than
// MAX_ENTRIES entries, whatever the thresholds say.
// The control plane's side (knobs, static entries, flush, dump, counters) is neigh-admin.ts, and the
// hold queue and the failed list are neigh-queue.ts.
import { allocZeroed, free } from "../util/arena";
import { fmix32 } from "../util/mix";
import { wakeAt, delayUntil, NO_WAKE } from "../util/wake";
import { random } from "../cache/state";
import { parm, defaultParm, drawAll, F_BASE_REACHABLE, F_RETRANS, F_DELAY_PROBE, F_MCAST_SOLICIT, F_UCAST_SOLICIT, F_GC_STALE, F_REACHABLE } from "./neigh-parms";
import { isMulticast } from "../cache/addr";
import { portMac } from "./ports";
import { txRef, txAlloc } from "./tx";
import { frameWrite } from "./window";
import { dropped, V_FORWARDED, V_QUEUED, D_NEIGH_FAILED, D_NEIGH_TABLE_FULL, D_TX_FULL, D_NO_BUFS } from "./snmp";
import { arpSolicit } from "./arp";
import { enqueue, unlinkHead, dropHeld, failHeld, reportFailed, failedPending } from "./neigh-queue";
import { gcThresh1, gcThresh2, gcThresh3 } from "./neigh-admin";

// ── NUD states (include/uapi/linux/neighbour.h) ──
export const NUD_INCOMPLETE: u8 = 0x01;
export const NUD_REACHABLE: u8 = 0x02;
export const NUD_STALE: u8 = 0x04;
export const NUD_DELAY: u8 = 0x08;
export const NUD_PROBE: u8 = 0x10;
export const NUD_FAILED: u8 = 0x20;
export const NUD_NOARP: u8 = 0x40;
export const NUD_PERMANENT: u8 = 0x80;
const NUD_IN_TIMER: u8 = 0x1b; // INCOMPLETE | REACHABLE | DELAY | PROBE
const NUD_VALID: u8 = 0xde; // PERMANENT | NOARP | REACHABLE | PROBE | STALE | DELAY
const NUD_CONNECTED: u8 = 0xc2; // PERMANENT | NOARP | REACHABLE

// neigh_update flags
export const UPD_OVERRIDE: u32 = 1;
export const UPD_ADMIN: u32 = 2;

const F_HH: u8 = 1;
const F_GC: u8 = 2;
const F_RELEASE: u8 = 4;

const ENTRY_BYTES: u32 = 64;
const MAX_ENTRIES: u32 = 65536;
const MAX_SHIFT: u32 = 16; // at most 65536 buckets
const MIN_TIMER_MS: u32 = 10; // HZ/100
export const MAX_AGE: u32 = 0x40000000; // timestamps older than this (≈12 days) are held there: u32 ms wraps
const FORCED_GC_GAP_MS: u32 = 5000;
const RAND_INTERVAL_MS: u32 = 300000;

// ── counters: /proc/net/stat/arp_cache columns ──
export const S_ENTRIES: u32 = 0;
const S_ALLOCS: u32 = 1;
const S_DESTROYS: u32 = 2;
const S_HASH_GROWS: u32 = 3;
const S_LOOKUPS: u32 = 4;
const S_HITS: u32 = 5;
const S_RES_FAILED: u32 = 6;
export const S_RCV_PROBES_MCAST: u32 = 7;
export const S_RCV_PROBES_UCAST: u32 = 8;
const S_PERIODIC_GC: u32 = 9;
const S_FORCED_GC: u32 = 10;
export const S_UNRES_DISCARDS: u32 = 11;
const S_TABLE_FULLS: u32 = 12;
export const arpStats: usize = memory.data(13 * 4);
/** Events the host reads and clears: [0] table overflows ("neighbour table overflow"). */
export const neighEvents: usize = memory.data(4 * 4);

// @ts-ignore: decorator
@inline export function stat(i: u32): void {
  const p = arpStats + (<usize>i << 2);
  store<u32>(p, load<u32>(p) + 1);
}

// ── table state ──
export let ready = false;
export let buckets: usize = 0;
export let nBuckets: u32 = 0;
let shift: u32 = 0;
let hashRnd: u32 = 0;
export let nEntries: u32 = 0;
let gcEntries: u32 = 0; // entries on the gc list (not permanent): what the thresholds count
let gcHead: usize = 0;
let gcTail: usize = 0;
let lastFlush: u32 = 0;
let lastRand: u32 = 0;
let periodicDue: u32 = 0;
export let createError: u8 = 0;

// ── time (u32 ms, wrapping) ──
// @ts-ignore: decorator
@inline function after(a: u32, b: u32): bool {
  return <i32>(a - b) > 0;
}
// @ts-ignore: decorator
@inline function atOrBefore(a: u32, b: u32): bool {
  return <i32>(a - b) <= 0;
}

// ── entry fields ──
// @ts-ignore: decorator
@inline export function entryIfindex(n: usize): u32 { return load<u32>(n, 4); }
// @ts-ignore: decorator
@inline export function entryIp(n: usize): u32 { return load<u32>(n, 8); }
// @ts-ignore: decorator
@inline export function entryMac(n: usize): usize { return n + 12; }
// @ts-ignore: decorator
@inline export function entryState(n: usize): u8 { return load<u8>(n, 18); }
// @ts-ignore: decorator
@inline export function entryUpdated(n: usize): u32 { return load<u32>(n, 28); }
// @ts-ignore: decorator
@inline export function entryProbes(n: usize): u32 { return load<u32>(n, 36); }
// @ts-ignore: decorator
@inline function flags(n: usize): u8 { return load<u8>(n, 19); }
// @ts-ignore: decorator
@inline function setFlags(n: usize, f: u8): void { store<u8>(n, f, 19); }
// @ts-ignore: decorator
@inline function setState(n: usize, s: u8): void { store<u8>(n, s, 18); }
/** The frame at the tail of the hold queue (the newest), or 0. */
// @ts-ignore: decorator
@inline export function entryQueueTail(n: usize): usize { return load<u32>(n, 52); }

function hashOf(ifindex: u32, ip: u32): u32 {
  return fmix32((ip ^ hashRnd) * 0x9e3779b1 + ifindex * 0x85ebca6b);
}

// @ts-ignore: decorator
@inline function bucketFor(ifindex: u32, ip: u32): usize {
  return buckets + (<usize>(shift == 0 ? 0 : hashOf(ifindex, ip) >>> (32 - shift)) << 2);
}

/** neigh_table_init, on the first call that knows the time: buckets, hash key, reachable_time, timers. */
export function init(now: u32): bool {
  if (ready) return true;
  let s: u32 = 3;
  while (s < MAX_SHIFT && (<u32>1 << s) < gcThresh3) s++;
  const b = allocZeroed(<usize>4 << s);
  if (b == 0) return false;
  buckets = b;
  shift = s;
  nBuckets = <u32>1 << s;
  hashRnd = random() | 1;
  drawAll();
  const reachable = defaultParm(F_REACHABLE);
  lastFlush = now;
  lastRand = now + <u32>min<u64>(<u64>reachable * 20, MAX_AGE); // the kernel's first re-draw: 20 reachable_times + 300 s
  periodicDue = now + reachable;
  wakeAt(periodicDue);
  ready = true;
  return true;
}

/** Doubles the buckets (neigh_hash_grow); keeps the old ones when memory is short. */
function grow(): void {
  stat(S_HASH_GROWS);
  const s = shift + 1;
  const nb = allocZeroed(<usize>4 << s);
  if (nb == 0) return;
  const old = buckets;
  const oldN = nBuckets;
  buckets = nb;
  shift = s;
  nBuckets = <u32>1 << s;
  for (let i: u32 = 0; i < oldN; i++) {
    let n = <usize>load<u32>(old + (<usize>i << 2));
    while (n != 0) {
      const next = <usize>load<u32>(n);
      const b = bucketFor(entryIfindex(n), entryIp(n));
      store<u32>(n, load<u32>(b));
      store<u32>(b, <u32>n);
      n = next;
    }
  }
  free(old, <usize>oldN << 2);
}

/** The entry of (ifindex, ip), or 0 (__neigh_lookup_noref: no counters). */
export function find(ifindex: u32, ip: u32): usize {
  if (!ready) return 0;
  let n = <usize>load<u32>(bucketFor(ifindex, ip));
  while (n != 0) {
    if (entryIp(n) == ip && entryIfindex(n) == ifindex) return n;
    n = <usize>load<u32>(n);
  }
  return 0;
}

/** Whether (ifindex, ip) has a valid entry: a frame sent to it now goes out at once, never held. */
export function neighValid(ifindex: u32, ip: u32): bool {
  const n = find(ifindex, ip);
  return n != 0 && (entryState(n) & NUD_VALID) != 0;
}

/** neigh_lookup: counts lookups and hits. */
export function lookup(ifindex: u32, ip: u32): usize {
  stat(S_LOOKUPS);
  const n = find(ifindex, ip);
  if (n != 0) stat(S_HITS);
  return n;
}

// ── the gc list (entries that are not permanent, oldest first) ──
function gcAdd(n: usize): void {
  store<u32>(n, <u32>gcTail, 40);
  store<u32>(n, 0, 44);
  if (gcTail != 0) store<u32>(gcTail, <u32>n, 44);
  else gcHead = n;
  gcTail = n;
  setFlags(n, flags(n) | F_GC);
  gcEntries++;
}

function gcRemove(n: usize): void {
  if ((flags(n) & F_GC) == 0) return;
  const prev = <usize>load<u32>(n, 40);
  const next = <usize>load<u32>(n, 44);
  if (prev != 0) store<u32>(prev, <u32>next, 44);
  else gcHead = next;
  if (next != 0) store<u32>(next, <u32>prev, 40);
  else gcTail = prev;
  setFlags(n, flags(n) & ~F_GC);
  gcEntries--;
}

// ── the hold queue (neigh-queue.ts) ──
/** Drops every held frame of n without an error report (neigh_destroy's purge). */
function purge(n: usize): void {
  dropHeld(n);
  setFlags(n, flags(n) & ~F_RELEASE);
}

/**
 * neigh_invalidate: a resolution failed. Counts res_failed; every held frame is dropped and waits on
 * the failed list for its ICMP host unreachable (sent by the next neighTick, as arp_error_report).
 */
function invalidate(n: usize, now: u32): void {
  stat(S_RES_FAILED);
  store<u32>(n, now, 28);
  failHeld(n);
  setFlags(n, flags(n) & ~F_RELEASE);
}

// ── entries: create and destroy ──
/** Removes n from the table and frees it (neigh_mark_dead + neigh_destroy). */
export function destroy(n: usize): void {
  const b = bucketFor(entryIfindex(n), entryIp(n));
  let p = b;
  let c = <usize>load<u32>(b);
  while (c != 0 && c != n) {
    p = c;
    c = <usize>load<u32>(c);
  }
  if (c == n) store<u32>(p, load<u32>(n));
  gcRemove(n);
  purge(n);
  nEntries--;
  stat(S_DESTROYS);
  free(n, ENTRY_BYTES);
}

/**
 * neigh_forced_gc: walks the gc list oldest first, removing unreferenced entries that are FAILED,
 * NOARP, multicast or not updated for 5 s, until gc_entries − gc_thresh2 are gone. Returns how many.
 */
function forcedGc(now: u32): u32 {
  const maxClean = <i32>gcEntries - <i32>gcThresh2;
  stat(S_FORCED_GC);
  let shrunk: i32 = 0;
  let n = gcHead;
  while (n != 0) {
    const next = <usize>load<u32>(n, 44);
    const s = entryState(n);
    if ((s & NUD_IN_TIMER) == 0) {
      if (s == NUD_FAILED || s == NUD_NOARP || isMulticast(entryIp(n)) || now - entryUpdated(n) > FORCED_GC_GAP_MS) {
        destroy(n);
        shrunk++;
      }
      if (shrunk >= maxClean) break;
    }
    n = next;
  }
  lastFlush = now;
  return <u32>shrunk;
}

/**
 * neigh_alloc + ___neigh_create: a new entry in state NONE, or 0 (createError says why: the table is
 * full even after a forced GC, or memory is short). Permanent entries skip the thresholds.
 */
export function create(ifindex: u32, ip: u32, now: u32, exemptFromGc: bool): usize {
  if (!exemptFromGc) {
    const entries = gcEntries;
    if (entries >= gcThresh3 || (entries >= gcThresh2 && after(now, lastFlush + FORCED_GC_GAP_MS))) {
      if (forcedGc(now) == 0 && entries >= gcThresh3) return tableFull();
    }
  }
  if (nEntries >= MAX_ENTRIES) return tableFull();
  const n = allocZeroed(ENTRY_BYTES);
  if (n == 0) {
    createError = D_NO_BUFS;
    return 0;
  }
  stat(S_ALLOCS);
  nEntries++;
  store<u32>(n, ifindex, 4);
  store<u32>(n, ip, 8);
  store<u32>(n, now, 20);
  store<u32>(n, now - (parm(ifindex, F_BASE_REACHABLE) << 1), 24);
  store<u32>(n, now, 28);
  if (nEntries > nBuckets && shift < MAX_SHIFT) grow();
  const b = bucketFor(ifindex, ip);
  store<u32>(n, load<u32>(b));
  store<u32>(b, <u32>n);
  if (!exemptFromGc) gcAdd(n);
  return n;
}

function tableFull(): usize {
  stat(S_TABLE_FULLS);
  store<u32>(neighEvents, load<u32>(neighEvents) + 1);
  createError = D_NEIGH_TABLE_FULL;
  return 0;
}

/** neigh_event_ns's and the output path's lookup: the entry, created when missing (0 when it cannot be). */
export function lookupOrCreate(ifindex: u32, ip: u32, now: u32, counted: bool): usize {
  const n = counted ? lookup(ifindex, ip) : find(ifindex, ip);
  return n != 0 ? n : create(ifindex, ip, now, false);
}

/** Why the last create failed: a drop verdict (D_NEIGH_TABLE_FULL or D_NO_BUFS). */
export function createFailure(): u8 {
  return dropped(createError);
}

// ── timers ──
/** neigh_add_timer: keeps confirmed within MAX_AGE, used ≥ confirmed, and arms the timer. */
function addTimer(n: usize, when: u32, now: u32): void {
  if (now - load<u32>(n, 24) > MAX_AGE) store<u32>(n, now - MAX_AGE, 24);
  if (after(load<u32>(n, 24), load<u32>(n, 20))) store<u32>(n, load<u32>(n, 24), 20);
  store<u32>(n, when, 32);
  wakeAt(when);
}

/** neigh_max_probes with app_solicit 0 and mcast_resolicit 0. */
// @ts-ignore: decorator
@inline function maxProbes(n: usize): u32 {
  const ifi = entryIfindex(n);
  return parm(ifi, F_UCAST_SOLICIT) + ((entryState(n) & NUD_PROBE) != 0 ? 0 : parm(ifi, F_MCAST_SOLICIT));
}

/** neigh_probe: one ARP request (about the newest held frame, if any), then probes + 1. */
function probe(n: usize): void {
  arpSolicit(n, parm(entryIfindex(n), F_UCAST_SOLICIT));
  store<u32>(n, entryProbes(n) + 1, 36);
}

/** neigh_timer_handler. */
function timerFired(n: usize, now: u32): void {
  const state = entryState(n);
  const ifi = entryIfindex(n);
  const reachableMs = parm(ifi, F_REACHABLE);
  const delayProbeMs = parm(ifi, F_DELAY_PROBE);
  const retransMs = parm(ifi, F_RETRANS);
  let next = now + 1000;
  if ((state & NUD_REACHABLE) != 0) {
    const confirmed = load<u32>(n, 24);
    if (atOrBefore(now, confirmed + reachableMs)) {
      next = confirmed + reachableMs;
    } else if (atOrBefore(now, load<u32>(n, 20) + delayProbeMs)) {
      setState(n, NUD_DELAY);
      store<u32>(n, now, 28);
      next = now + delayProbeMs;
    } else {
      setState(n, NUD_STALE);
      store<u32>(n, now, 28);
    }
  } else if ((state & NUD_DELAY) != 0) {
    const confirmed = load<u32>(n, 24);
    if (atOrBefore(now, confirmed + delayProbeMs)) {
      setState(n, NUD_REACHABLE);
      store<u32>(n, now, 28);
      next = confirmed + reachableMs;
    } else {
      setState(n, NUD_PROBE);
      store<u32>(n, now, 28);
      store<u32>(n, 0, 36);
      next = now + max<u32>(retransMs, MIN_TIMER_MS);
    }
  } else {
    next = now + max<u32>(retransMs, MIN_TIMER_MS);
  }
  const s = entryState(n);
  if ((s & (NUD_INCOMPLETE | NUD_PROBE)) != 0 && entryProbes(n) >= maxProbes(n)) {
    setState(n, NUD_FAILED);
    invalidate(n, now);
    return;
  }
  if ((s & NUD_IN_TIMER) != 0) {
    if (after(now + MIN_TIMER_MS, next)) next = now + MIN_TIMER_MS;
    store<u32>(n, next, 32);
  }
  if ((s & (NUD_INCOMPLETE | NUD_PROBE)) != 0) probe(n);
}

// ── sending ──
const BROADCAST_MAC: usize = memory.data<u8>([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const mcastMac: usize = memory.data(8);

// @ts-ignore: decorator
@inline function writeMacs(frame: usize, dst: usize, src: usize): void {
  frameWrite(frame, 12);
  memory.copy(frame, dst, 6);
  memory.copy(frame + 6, src, 6);
}

/** __neigh_event_send's verdicts. */
const EV_SEND: u8 = 255;

/**
 * neigh_event_send: marks n used and moves it through its states. EV_SEND when the frame may go now;
 * V_QUEUED when it was held (frame 0: nothing to hold); else a drop verdict.
 */
function eventSend(n: usize, frame: usize, len: u32, now: u32): u8 {
  store<u32>(n, now, 20);
  const state = entryState(n);
  if ((state & (NUD_CONNECTED | NUD_DELAY | NUD_PROBE)) != 0) return EV_SEND;
  const ifi = entryIfindex(n);
  let immediateProbe = false;
  if ((state & (NUD_STALE | NUD_INCOMPLETE)) == 0) {
    if (parm(ifi, F_MCAST_SOLICIT) == 0) {
      setState(n, NUD_FAILED);
      store<u32>(n, now, 28);
      return dropped(D_NEIGH_FAILED);
    }
    store<u32>(n, parm(ifi, F_UCAST_SOLICIT), 36);
    setState(n, NUD_INCOMPLETE);
    store<u32>(n, now, 28);
    addTimer(n, now + max<u32>(parm(ifi, F_RETRANS), MIN_TIMER_MS), now);
    immediateProbe = true;
  } else if ((state & NUD_STALE) != 0) {
    setState(n, NUD_DELAY);
    store<u32>(n, now, 28);
    addTimer(n, now + parm(ifi, F_DELAY_PROBE), now);
  }
  let rc = EV_SEND;
  if (entryState(n) == NUD_INCOMPLETE) {
    rc = V_QUEUED;
    if (frame != 0 && !enqueue(n, frame, len)) rc = dropped(D_NO_BUFS);
  }
  if (immediateProbe) probe(n);
  return rc;
}

/** neigh_resolve_output for a frame that stays where it is (listed in place). */
function resolveOutput(n: usize, frame: usize, len: u32, now: u32): u8 {
  const rc = eventSend(n, frame, len, now);
  if (rc != EV_SEND) return rc;
  setFlags(n, flags(n) | F_HH);
  writeMacs(frame, entryMac(n), portMac(entryIfindex(n)));
  return txRef(entryIfindex(n), frame, len) ? V_FORWARDED : dropped(D_TX_FULL);
}

/** Sends n's held frames now that it has a MAC: each through neigh_resolve_output, copied for transmit. */
function release(n: usize, now: u32): void {
  setFlags(n, flags(n) & ~F_RELEASE);
  const oif = entryIfindex(n);
  let h = unlinkHead(n);
  while (h != 0) {
    const len = load<u32>(h, 4);
    if ((entryState(n) & NUD_VALID) != 0 && eventSend(n, 0, 0, now) == EV_SEND) {
      setFlags(n, flags(n) | F_HH);
      const out = txAlloc(oif, len);
      if (out != 0) {
        frameWrite(out, len);
        memory.copy(out, h + 8, len);
        writeMacs(out, entryMac(n), portMac(oif));
      } else {
        dropped(D_TX_FULL);
      }
    } else {
      dropped(D_NEIGH_FAILED);
    }
    free(h, 8 + <usize>len);
    h = unlinkHead(n);
  }
}

/**
 * ip_finish_output2 → neigh_output for one Ethernet frame (IPv4 inside) to nexthop out of port oif:
 * writes both MACs and lists the frame (V_FORWARDED), holds it until the MAC is known (V_QUEUED),
 * or drops it. 255.255.255.255 and multicast next hops need no neighbour (the kernel's NOARP entries).
 */
export function neighOutput(oif: u32, nexthop: u32, frame: usize, len: u32, now: u32): u8 {
  const src = portMac(oif);
  if (src == 0 || len < 14 || nexthop == 0) return dropped(D_NEIGH_FAILED);
  if (nexthop == 0xffffffff || isMulticast(nexthop)) {
    let dst = BROADCAST_MAC;
    if (nexthop != 0xffffffff) {
      store<u32>(mcastMac, 0x005e0001); // 01:00:5e + the low 23 bits (ip_eth_mc_map)
      store<u8>(mcastMac, <u8>((nexthop >>> 16) & 0x7f), 3);
      store<u8>(mcastMac, <u8>(nexthop >>> 8), 4);
      store<u8>(mcastMac, <u8>nexthop, 5);
      dst = mcastMac;
    }
    writeMacs(frame, dst, src);
    return txRef(oif, frame, len) ? V_FORWARDED : dropped(D_TX_FULL);
  }
  if (!init(now)) return dropped(D_NO_BUFS);
  const n = lookupOrCreate(oif, nexthop, now, false);
  if (n == 0) return createFailure();
  if ((flags(n) & F_RELEASE) != 0) release(n, now);
  if ((entryState(n) & NUD_CONNECTED) != 0 && (flags(n) & F_HH) != 0) {
    writeMacs(frame, entryMac(n), src);
    return txRef(oif, frame, len) ? V_FORWARDED : dropped(D_TX_FULL);
  }
  return resolveOutput(n, frame, len, now);
}

// ── updates (neigh_update) ──
// @ts-ignore: decorator
@inline function sameMac(a: usize, b: usize): bool {
  return load<u32>(a) == load<u32>(b) && load<u16>(a, 4) == load<u16>(b, 4);
}

/**
 * __neigh_update: new state and (optionally, mac != 0) a new MAC, as ARP (flags 0 or UPD_OVERRIDE)
 * or the administrator (UPD_ADMIN | UPD_OVERRIDE) asks. When an unresolved entry becomes valid its
 * held frames are sent at once (releaseNow, inside a data-plane call) or by the next neighTick.
 * Returns 0, -1 (EPERM: a static entry, not admin) or -22 (no MAC known).
 */
export function neighUpdate(n: usize, mac: usize, newState: u8, fl: u32, now: u32, releaseNow: bool): i32 {
  const old = entryState(n);
  let state = newState;
  if ((fl & UPD_ADMIN) == 0 && (old & (NUD_NOARP | NUD_PERMANENT)) != 0) return -1;
  if ((state & NUD_VALID) == 0) {
    setState(n, state);
    if ((old & (NUD_INCOMPLETE | NUD_PROBE)) != 0 && (state & NUD_FAILED) != 0) invalidate(n, now);
    gcUpdate(n, old, state);
    return 0;
  }
  let macChanged = false;
  if (mac != 0) macChanged = (old & NUD_VALID) == 0 || !sameMac(mac, entryMac(n));
  else if ((old & NUD_VALID) == 0) return -22;
  if ((state & NUD_CONNECTED) != 0) store<u32>(n, now, 24);
  if ((old & NUD_VALID) != 0) {
    if (macChanged && (fl & UPD_OVERRIDE) == 0) return 0;
    if (!macChanged && state == NUD_STALE && (fl & UPD_ADMIN) == 0) state = old;
  }
  if (state != old || macChanged) store<u32>(n, now, 28);
  if (state != old) {
    if ((state & NUD_PROBE) != 0) store<u32>(n, 0, 36);
    if ((state & NUD_IN_TIMER) != 0) addTimer(n, now + ((state & NUD_REACHABLE) != 0 ? parm(entryIfindex(n), F_REACHABLE) : 0), now);
    setState(n, state);
  }
  if (macChanged) {
    memory.copy(entryMac(n), mac, 6);
    if ((state & NUD_CONNECTED) == 0) store<u32>(n, now - (parm(entryIfindex(n), F_BASE_REACHABLE) << 1), 24);
  }
  if (state == old) return 0;
  if ((old & NUD_VALID) == 0 && load<u32>(n, 48) != 0) {
    if (releaseNow) release(n, now);
    else {
      setFlags(n, flags(n) | F_RELEASE);
      wakeAt(now);
    }
  }
  gcUpdate(n, old, state);
  return 0;
}

/** neigh_update_gc_list: entries leave the gc list when they become permanent, join its tail when not. */
function gcUpdate(n: usize, old: u8, state: u8): void {
  if (((old ^ state) & NUD_PERMANENT) == 0) return;
  if ((state & NUD_PERMANENT) != 0) gcRemove(n);
  else if ((flags(n) & F_GC) == 0) gcAdd(n);
}

/** Ensures the table exists (first use at time now); false when memory is short. */
export function neighReady(now: u32): bool {
  return init(now);
}

// ── timers and GC (neighTick) ──
/** neigh_periodic_work: reachable_time re-drawn every 300 s; above gc_thresh1, stale entries go. */
function periodic(now: u32): void {
  stat(S_PERIODIC_GC);
  if (after(now, lastRand + RAND_INTERVAL_MS)) {
    lastRand = now;
    drawAll();
  }
  const scan = nEntries >= gcThresh1;
  for (let i: u32 = 0; i < nBuckets; i++) {
    let n = <usize>load<u32>(buckets + (<usize>i << 2));
    while (n != 0) {
      const next = <usize>load<u32>(n);
      clampTimes(n, now);
      const s = entryState(n);
      if (scan && (s & (NUD_PERMANENT | NUD_IN_TIMER)) == 0) {
        const confirmed = load<u32>(n, 24);
        if (after(confirmed, load<u32>(n, 20)) && atOrBefore(confirmed, now)) store<u32>(n, confirmed, 20);
        if (s == NUD_FAILED || now - load<u32>(n, 20) >= parm(entryIfindex(n), F_GC_STALE)) destroy(n);
      }
      n = next;
    }
  }
  periodicDue = now + (defaultParm(F_BASE_REACHABLE) >> 1);
}

/** Keeps used, confirmed and updated within MAX_AGE of now, so u32 ms never wrap into the future. */
function clampTimes(n: usize, now: u32): void {
  for (let p = n + 20; p <= n + 28; p += 4) {
    if (now - load<u32>(p) > MAX_AGE) store<u32>(p, now - MAX_AGE);
  }
}

/**
 * The neighbour table's clock (call it often, e.g. every 20 ms): queues released by static adds go
 * out, due timers fire (retries, reachability), periodic GC runs every base_reachable_time / 2, and the
 * frames of failed neighbours get their ICMP host unreachable.
 */
export function neighTick(now: u32): void {
  if (!init(now)) return;
  for (let i: u32 = 0; i < nBuckets; i++) {
    let n = <usize>load<u32>(buckets + (<usize>i << 2));
    while (n != 0) {
      if ((flags(n) & F_RELEASE) != 0) release(n, now);
      if ((entryState(n) & NUD_IN_TIMER) != 0 && atOrBefore(load<u32>(n, 32), now)) timerFired(n, now);
      n = <usize>load<u32>(n);
    }
  }
  if (atOrBefore(periodicDue, now)) periodic(now);
  reportFailed(now);
}

/** ms until neighTick has something to do (0: at once; NO_WAKE: nothing), by the same walk (util/wake.ts). */
export function neighNextWake(now: u32): u32 {
  if (!ready) return NO_WAKE;
  if (failedPending()) return 0;
  let due = periodicDue;
  for (let i: u32 = 0; i < nBuckets; i++) {
    for (let n = <usize>load<u32>(buckets + (<usize>i << 2)); n != 0; n = <usize>load<u32>(n)) {
      if ((flags(n) & F_RELEASE) != 0) return 0;
      if ((entryState(n) & NUD_IN_TIMER) != 0 && after(due, load<u32>(n, 32))) due = load<u32>(n, 32);
    }
  }
  return delayUntil(due, now);
}
