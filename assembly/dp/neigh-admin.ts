// neigh-admin.ts — what the control plane does to the neighbour table (neigh.ts): its knobs and the
// per-device ones (net.ipv4.neigh.*), static entries (`ip neigh replace / del / flush`), the dump that
// `ip neigh show` and /proc/net/arp read, and the arp_cache counters. The data path never calls it.
//
// Dump record, 32 bytes (DUMP_BYTES; host/router/neigh-table.ts reads it)
// ┌─────┬────────┬───────────────────────────────────┐
// │  +0 │ u32    │ ifindex                           │
// │  +4 │ u32    │ IPv4 address (host order)         │
// │  +8 │ u8[6]  │ MAC                               │
// │ +14 │ u16    │ state (NUD_* bits)                │
// │ +16 │ u32    │ ms since used                     │
// │ +20 │ u32    │ ms since confirmed                │
// │ +24 │ u32    │ ms since updated                  │
// │ +28 │ u16    │ probes                            │
// │ +30 │ u16    │ frames held                       │
// └─────┴────────┴───────────────────────────────────┘
// Memory: none of its own (the knobs are globals; the counters are neigh.ts's arpStats).
import { parm, defaultParm, setParm, DEFAULT_ROW, F_BASE_REACHABLE, F_RETRANS, F_DELAY_PROBE, F_MCAST_SOLICIT, F_UCAST_SOLICIT, F_QUEUE_BYTES, F_GC_STALE, F_REACHABLE } from "./neigh-parms";
import { portMac, MAX_PORTS } from "./ports";
import { D_NEIGH_TABLE_FULL } from "./snmp";
import {
  ready, init, lookup, create, createError, destroy, neighUpdate, buckets, nBuckets, nEntries, arpStats, MAX_AGE,
  entryIfindex, entryIp, entryMac, entryState, entryProbes,
  NUD_PERMANENT, NUD_NOARP, NUD_REACHABLE, NUD_STALE, NUD_FAILED, UPD_ADMIN, UPD_OVERRIDE,
} from "./neigh";

export const DUMP_BYTES: u32 = 32;

// ── knobs (ids of neighSetParam; Linux's arp_tbl defaults) ──
export let gcThresh1: u32 = 128;
export let gcThresh2: u32 = 512;
export let gcThresh3: u32 = 1024;
// The per-device knobs (base_reachable_time, retrans_time, delay_first_probe_time, mcast/ucast_solicit,
// unres_qlen_bytes, gc_stale_time and the drawn reachable_time) live in neigh-parms.ts, read by port.
export let gcIntervalMs: u32 = 30000; // kept, not used: as in the kernel, periodic GC runs every base_reachable_time / 2
export let locktimeMs: u32 = 1000;


// ── knobs ──
export const P_GC_THRESH1: u32 = 0;
export const P_GC_THRESH2: u32 = 1;
export const P_GC_THRESH3: u32 = 2;
export const P_BASE_REACHABLE: u32 = 3;
export const P_RETRANS: u32 = 4;
export const P_DELAY_PROBE: u32 = 5;
export const P_MCAST_SOLICIT: u32 = 6;
export const P_UCAST_SOLICIT: u32 = 7;
export const P_QUEUE_BYTES: u32 = 8;
export const P_GC_STALE: u32 = 9;
export const P_GC_INTERVAL: u32 = 10;
export const P_LOCKTIME: u32 = 11;

/** The neigh-parms.ts field of a per-device knob id; FIELD_NONE for the table's own knobs. */
const FIELD_NONE: u32 = 0xffffffff;
function fieldOf(id: u32): u32 {
  if (id == P_BASE_REACHABLE) return F_BASE_REACHABLE;
  if (id == P_RETRANS) return F_RETRANS;
  if (id == P_DELAY_PROBE) return F_DELAY_PROBE;
  if (id == P_MCAST_SOLICIT) return F_MCAST_SOLICIT;
  if (id == P_UCAST_SOLICIT) return F_UCAST_SOLICIT;
  if (id == P_QUEUE_BYTES) return F_QUEUE_BYTES;
  if (id == P_GC_STALE) return F_GC_STALE;
  return FIELD_NONE;
}

function isTimeKnob(id: u32): bool {
  return id == P_BASE_REACHABLE || id == P_RETRANS || id == P_DELAY_PROBE || id == P_GC_STALE || id == P_GC_INTERVAL || id == P_LOCKTIME;
}

/**
 * Sets knob id (ms for times) of the table: its own (gc_thresh1..3, gc_interval, locktime) or the default
 * parameters that ports without their own read. -22 for an unknown id or a time of 2^30 ms or more.
 */
export function neighSetParam(id: u32, v: u32): i32 {
  if (isTimeKnob(id) && v >= MAX_AGE) return -22;
  const f = fieldOf(id);
  if (f != FIELD_NONE) setParm(DEFAULT_ROW, f, v, ready);
  else if (id == P_GC_THRESH1) gcThresh1 = v;
  else if (id == P_GC_THRESH2) gcThresh2 = v;
  else if (id == P_GC_THRESH3) gcThresh3 = v;
  else if (id == P_GC_INTERVAL) gcIntervalMs = v;
  else if (id == P_LOCKTIME) locktimeMs = v;
  else return -22;
  return 0;
}

/**
 * Sets per-device knob id of port ifindex (net.ipv4.neigh.IFNAME.*: base_reachable_time_ms, retrans_time_ms,
 * delay_first_probe_time, mcast/ucast_solicit, unres_qlen_bytes, gc_stale_time). -22 for a table knob, an
 * unknown id, a time of 2^30 ms or more, or an ifindex that is not a port.
 */
export function neighSetDevParam(ifindex: u32, id: u32, v: u32): i32 {
  const f = fieldOf(id);
  if (f == FIELD_NONE || ifindex >= MAX_PORTS || (isTimeKnob(id) && v >= MAX_AGE)) return -22;
  setParm(ifindex, f, v, ready);
  return 0;
}

/** reachable_time (ms) of port ifindex, or of the table's default with ifindex 0xffffffff. */
export function neighReachableTime(ifindex: u32): u32 {
  return ifindex == 0xffffffff ? defaultParm(F_REACHABLE) : parm(ifindex, F_REACHABLE);
}

// ── static entries (ip neigh replace / del / flush) ──
/**
 * `ip neigh replace ip lladdr MAC dev ifindex nud STATE` (STATE PERMANENT, NOARP, REACHABLE or
 * STALE; macPtr 0 keeps a known MAC). 0, -19 no such port, -22 bad state or no MAC, -105 table full.
 */
export function neighAdd(ifindex: u32, ip: u32, macPtr: usize, state: u32, now: u32): i32 {
  if (portMac(ifindex) == 0) return -19;
  if (state != NUD_PERMANENT && state != NUD_NOARP && state != NUD_REACHABLE && state != NUD_STALE) return -22;
  if (!init(now)) return -12;
  let n = lookup(ifindex, ip);
  if (n == 0) {
    if (macPtr == 0) return -22;
    n = create(ifindex, ip, now, (state & NUD_PERMANENT) != 0);
    if (n == 0) return createError == D_NEIGH_TABLE_FULL ? -105 : -12;
  }
  return neighUpdate(n, macPtr, <u8>state, UPD_ADMIN | UPD_OVERRIDE, now, false);
}

/** `ip neigh del`: the entry fails (held frames get their ICMP errors at the next tick) and goes. -2 if absent. */
export function neighDel(ifindex: u32, ip: u32): i32 {
  if (!ready) return -2;
  const n = lookup(ifindex, ip);
  if (n == 0) return -2;
  const now = load<u32>(n, 28); // an admin failure needs no clock: updated is only read while the entry lives
  neighUpdate(n, 0, NUD_FAILED, UPD_ADMIN | UPD_OVERRIDE, now, false);
  destroy(n);
  return 0;
}

/** Removes every entry of port ifindex (0 = all ports) that is not permanent, as on carrier loss. */
export function neighFlush(ifindex: u32): u32 {
  if (!ready) return 0;
  let count: u32 = 0;
  for (let i: u32 = 0; i < nBuckets; i++) {
    let n = <usize>load<u32>(buckets + (<usize>i << 2));
    while (n != 0) {
      const next = <usize>load<u32>(n);
      if ((ifindex == 0 || entryIfindex(n) == ifindex) && (entryState(n) & NUD_PERMANENT) == 0) {
        destroy(n);
        count++;
      }
      n = next;
    }
  }
  return count;
}

/** Writes up to max 32-byte records (layout above) at out; returns how many. */
export function neighDump(out: usize, max: u32, now: u32): u32 {
  if (!ready) return 0;
  let k: u32 = 0;
  for (let i: u32 = 0; i < nBuckets && k < max; i++) {
    let n = <usize>load<u32>(buckets + (<usize>i << 2));
    while (n != 0 && k < max) {
      const r = out + <usize>k * DUMP_BYTES;
      store<u32>(r, entryIfindex(n));
      store<u32>(r, entryIp(n), 4);
      memory.copy(r + 8, entryMac(n), 6);
      store<u16>(r, <u16>entryState(n), 14);
      store<u32>(r, now - load<u32>(n, 20), 16);
      store<u32>(r, now - load<u32>(n, 24), 20);
      store<u32>(r, now - load<u32>(n, 28), 24);
      store<u16>(r, <u16>min<u32>(entryProbes(n), 0xffff), 28);
      store<u16>(r, <u16>min<u32>(load<u32>(n, 60), 0xffff), 30);
      k++;
      n = <usize>load<u32>(n);
    }
  }
  return k;
}

/** The u32[13] arp_cache counters, entries filled in. */
export function neighStats(): usize {
  store<u32>(arpStats, nEntries);
  return arpStats;
}
