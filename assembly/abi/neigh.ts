// abi/neigh.ts — exports of the neighbour table and ARP (dp/neigh.ts, dp/arp.ts), and nothing else.
// Frames and records live in linear memory the host names; times are the host's ms clock (u32).
// ┌──────────────────────────┬─────┬──────────────────────────────────────────────────────────────┐
// │ frame .. frame + len     │ r/w │ dp_neigh_output: Ethernet frame whose 12 MAC bytes are set   │
// │ f .. f + len             │ r   │ dp_arp_input: a received ARP frame                           │
// │ macPtr .. + 6            │ r   │ dp_neigh_add: the MAC                                        │
// │ out + 32·k               │ w   │ dp_neigh_dump: record k (layout in dp/neigh-admin.ts)        │
// │ dp_arp_stat()            │ r   │ u32[13] /proc/net/stat/arp_cache columns                     │
// │ dp_neigh_events()        │ r/w │ u32[4]: [0] table overflows (the host reads and clears)      │
// └──────────────────────────┴─────┴──────────────────────────────────────────────────────────────┘
import { neighOutput, neighTick, neighEvents, neighNextWake } from "../dp/neigh";
import { neighSetParam, neighSetDevParam, neighAdd, neighDel, neighFlush, neighDump, neighStats, neighReachableTime } from "../dp/neigh-admin";
import { arpInput } from "../dp/arp";

/** The frame to nexthop out of port oif: a verdict (0 listed, 2 held for ARP, 16 + reason dropped). */
export function dp_neigh_output(oif: u32, nexthop: u32, frame: u32, len: u32, now: u32): u32 {
  return neighOutput(oif, nexthop, frame, len, now);
}

/** A received ARP frame on port iif: a verdict (1 answered, 3 learned, 16 + reason dropped). */
export function dp_arp_input(f: u32, len: u32, iif: u32, now: u32): u32 {
  return arpInput(f, len, iif, now);
}

/** Neighbour timers, released queues, periodic GC and the ICMP errors of failed neighbours. */
export function dp_neigh_tick(now: u32): void {
  neighTick(now);
}

/** ms until dp_neigh_tick has something to do (0: at once; 0xffffffff: nothing armed). */
export function dp_neigh_next_wake(now: u32): u32 {
  return neighNextWake(now);
}

/** Knob id (0 gc_thresh1 … 10 gc_interval_ms, 11 locktime_ms) = v; -22 bad id or value. */
export function dp_neigh_set_param(id: u32, v: u32): i32 {
  return neighSetParam(id, v);
}

/** Per-device knob id (3 base_reachable_time_ms … 9 gc_stale_time_ms) of port ifindex = v; -22 bad id, value or port. */
export function dp_neigh_set_dev_param(ifindex: u32, id: u32, v: u32): i32 {
  return neighSetDevParam(ifindex, id, v);
}

/** `ip neigh replace`: 0, -19 no such port, -22 bad state / no MAC, -105 table full, -12 no memory. */
export function dp_neigh_add(ifindex: u32, ip: u32, macPtr: u32, state: u32, now: u32): i32 {
  return neighAdd(ifindex, ip, macPtr, state, now);
}

/** `ip neigh del`: 0, or -2 when there is no such entry. */
export function dp_neigh_del(ifindex: u32, ip: u32): i32 {
  return neighDel(ifindex, ip);
}

/** Removes the non-permanent entries of port ifindex (0 = all); returns how many. */
export function dp_neigh_flush(ifindex: u32): u32 {
  return neighFlush(ifindex);
}

/** Up to max 32-byte records at out; returns how many were written. */
export function dp_neigh_dump(out: u32, max: u32, now: u32): u32 {
  return neighDump(out, max, now);
}

export function dp_arp_stat(): u32 {
  return <u32>neighStats();
}

export function dp_neigh_events(): u32 {
  return <u32>neighEvents;
}

/** The current reachable_time (ms) of port ifindex (0xffffffff: the table's default), drawn from base_reachable_time. */
export function dp_neigh_reachable_time(ifindex: u32): u32 {
  return neighReachableTime(ifindex);
}
