// neigh-parms.ts — neighbour parameters per port: the kernel's struct neigh_parms, one per device and
// the table's default that a device starts from. The NUD state machine (neigh.ts) reads an entry's
// values by its port. The host resolves the inheritance of net.ipv4.neigh.default.* into devices
// (host/router/if-sysctl.ts) and writes each port's effective values; a port never written reads the
// default row.
//
// Memory: static rows of u32[FIELDS]; row r < MAX_PORTS is port r, row MAX_PORTS the default.
// ┌─────┬──────────────────────────────────────────────────────────────────────┐
// │  +0 │ base_reachable_time (ms)                                             │
// │  +4 │ retrans_time (ms)                                                    │
// │  +8 │ delay_first_probe_time (ms)                                          │
// │ +12 │ mcast_solicit                                                        │
// │ +16 │ ucast_solicit                                                        │
// │ +20 │ unres_qlen_bytes                                                     │
// │ +24 │ gc_stale_time (ms)                                                   │
// │ +28 │ reachable_time (ms): random in [base/2, 3·base/2), as neigh_rand_reach_time │
// └─────┴──────────────────────────────────────────────────────────────────────┘
// written: u8[MAX_PORTS], 1 once the port's row has been written.
import { random } from "../cache/state";
import { MAX_PORTS } from "./ports";

export const F_BASE_REACHABLE: u32 = 0;
export const F_RETRANS: u32 = 1;
export const F_DELAY_PROBE: u32 = 2;
export const F_MCAST_SOLICIT: u32 = 3;
export const F_UCAST_SOLICIT: u32 = 4;
export const F_QUEUE_BYTES: u32 = 5;
export const F_GC_STALE: u32 = 6;
export const F_REACHABLE: u32 = 7;
const FIELDS: u32 = 8;
export const DEFAULT_ROW: u32 = MAX_PORTS;

// Linux's arp_tbl defaults; reachable_time is drawn when the table starts (drawAll).
const rows: usize = memory.data(<i32>((MAX_PORTS + 1) * FIELDS * 4));
const written: usize = memory.data(<i32>MAX_PORTS);
let defaultsSet = false;

function setDefaults(): void {
  const d = rows + <usize>DEFAULT_ROW * FIELDS * 4;
  store<u32>(d, 30000);
  store<u32>(d, 1000, 4);
  store<u32>(d, 5000, 8);
  store<u32>(d, 3, 12);
  store<u32>(d, 3, 16);
  store<u32>(d, 65536, 20);
  store<u32>(d, 60000, 24);
  store<u32>(d, 0, 28);
  defaultsSet = true;
}

// @ts-ignore: decorator
@inline function at(row: u32, f: u32): usize {
  return rows + ((<usize>row * FIELDS + f) << 2);
}

/** The row port ifindex reads: its own once written, else the default. */
// @ts-ignore: decorator
@inline function rowOf(ifindex: u32): u32 {
  return ifindex < MAX_PORTS && load<u8>(written + <usize>ifindex) != 0 ? ifindex : DEFAULT_ROW;
}

/** Field f for an entry on port ifindex. */
export function parm(ifindex: u32, f: u32): u32 {
  if (!defaultsSet) setDefaults();
  return load<u32>(at(rowOf(ifindex), f));
}

/** The default row's field f (the table's own values: periodic GC interval, new devices). */
export function defaultParm(f: u32): u32 {
  return parm(MAX_PORTS, f);
}

/** neigh_rand_reach_time. */
export function randReach(base: u32): u32 {
  return base == 0 ? 0 : <u32>((<u64>random() * <u64>base) >> 32) + (base >> 1);
}

/**
 * Writes field f (not F_REACHABLE) of row (a port, or DEFAULT_ROW). A port's first write copies the
 * default row into it. A new base_reachable_time draws reachable_time again, as the sysctl handler does.
 */
export function setParm(row: u32, f: u32, v: u32, tableReady: bool): void {
  if (!defaultsSet) setDefaults();
  if (row < MAX_PORTS && load<u8>(written + <usize>row) == 0) {
    memory.copy(at(row, 0), at(DEFAULT_ROW, 0), FIELDS << 2);
    store<u8>(written + <usize>row, 1);
  }
  const p = at(row, f);
  const changed = load<u32>(p) != v;
  store<u32>(p, v);
  if (f == F_BASE_REACHABLE && tableReady && changed) store<u32>(at(row, F_REACHABLE), randReach(v));
}

/** Draws reachable_time again for the default and every written port (neigh_periodic_work, every 300 s). */
export function drawAll(): void {
  if (!defaultsSet) setDefaults();
  store<u32>(at(DEFAULT_ROW, F_REACHABLE), randReach(load<u32>(at(DEFAULT_ROW, F_BASE_REACHABLE))));
  for (let r: u32 = 0; r < MAX_PORTS; r++) {
    if (load<u8>(written + <usize>r) != 0) store<u32>(at(r, F_REACHABLE), randReach(load<u32>(at(r, F_BASE_REACHABLE))));
  }
}
