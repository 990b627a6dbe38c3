/**
 * The neighbour table (ARP cache) as the host sees it: static entries (`ip neigh replace / del /
 * flush`), the knobs, the table as `ip neigh show` and `ip -s neigh show` print it (iproute2 6.1,
 * byte for byte), the /proc/net/stat/arp_cache counters and the overflow events. The table itself
 * (states, hold queues, timers, GC) lives in the core: assembly/dp/neigh.ts and arp.ts.
 */
import type { Core } from "../core/load.ts";
import type { NeighDevParams, NeighParams } from "./if-sysctl.ts";
import { formatIPv4 } from "../fib/ipv4.ts";
import { formatMac, parseMac } from "./mac.ts";

/** The core's neighbour and ARP exports (assembly/abi/neigh.ts). */
export interface NeighExports {
  dp_neigh_output(oif: number, nexthop: number, frame: number, len: number, now: number): number;
  dp_arp_input(f: number, len: number, iif: number, now: number): number;
  dp_neigh_tick(now: number): void;
  dp_neigh_set_param(id: number, v: number): number;
  dp_neigh_add(ifindex: number, ip: number, macPtr: number, state: number, now: number): number;
  dp_neigh_del(ifindex: number, ip: number): number;
  dp_neigh_flush(ifindex: number): number;
  dp_neigh_dump(out: number, max: number, now: number): number;
  dp_arp_stat(): number;
  dp_neigh_events(): number;
  dp_neigh_set_dev_param(ifindex: number, id: number, v: number): number;
  dp_neigh_reachable_time(ifindex: number): number;
}

/** NUD states (include/uapi/linux/neighbour.h). */
export const NUD = {
  NONE: 0x00,
  INCOMPLETE: 0x01,
  REACHABLE: 0x02,
  STALE: 0x04,
  DELAY: 0x08,
  PROBE: 0x10,
  FAILED: 0x20,
  NOARP: 0x40,
  PERMANENT: 0x80,
} as const;
const NUD_VALID = NUD.PERMANENT | NUD.NOARP | NUD.REACHABLE | NUD.PROBE | NUD.STALE | NUD.DELAY;
const NUD_IN_TIMER = NUD.INCOMPLETE | NUD.REACHABLE | NUD.DELAY | NUD.PROBE;
/** iproute2's print order of the state bits. */
const STATE_NAMES: [number, string][] = [
  [NUD.INCOMPLETE, "INCOMPLETE"], [NUD.REACHABLE, "REACHABLE"], [NUD.STALE, "STALE"], [NUD.DELAY, "DELAY"],
  [NUD.PROBE, "PROBE"], [NUD.FAILED, "FAILED"], [NUD.NOARP, "NOARP"], [NUD.PERMANENT, "PERMANENT"],
];

/** Knob ids of dp_neigh_set_param (assembly/dp/neigh.ts). */
export const NeighParam = {
  gcThresh1: 0,
  gcThresh2: 1,
  gcThresh3: 2,
  baseReachableTimeMs: 3,
  retransTimeMs: 4,
  delayFirstProbeTimeMs: 5,
  mcastSolicit: 6,
  ucastSolicit: 7,
  unresQlenBytes: 8,
  gcStaleTimeMs: 9,
  gcIntervalMs: 10,
  locktimeMs: 11,
} as const;
export type NeighParamName = keyof typeof NeighParam;

/** The per-device knobs of a parameter set, as (knob, value) pairs. */
function devParams(d: NeighDevParams): [NeighParamName, number][] {
  return [
    ["baseReachableTimeMs", d.baseReachableTimeMs],
    ["retransTimeMs", d.retransTimeMs],
    ["delayFirstProbeTimeMs", d.delayFirstProbeTimeMs],
    ["gcStaleTimeMs", d.gcStaleTimeMs],
    ["ucastSolicit", d.ucastSolicit],
    ["mcastSolicit", d.mcastSolicit],
    ["unresQlenBytes", d.unresQlenBytes],
  ];
}

/** The states `ip neigh replace … nud STATE` accepts here. */
export type StaticState = "permanent" | "noarp" | "reachable" | "stale";
const STATIC_STATES: Record<StaticState, number> = { permanent: NUD.PERMANENT, noarp: NUD.NOARP, reachable: NUD.REACHABLE, stale: NUD.STALE };

/** A static neighbour: `ip neigh replace ADDR lladdr LLADDR dev DEV nud STATE` (nud defaults to permanent). */
export interface StaticNeigh {
  dev: string;
  /** IPv4 address (host order). */
  addr: number;
  /** 6 bytes, or "02:00:00:00:01:02"; may be left out when the entry already has one. */
  lladdr?: ArrayLike<number> | string;
  nud?: StaticState;
}

/** One entry of the table, decoded from a 32-byte dump record. */
export interface NeighEntry {
  ifindex: number;
  dev: string;
  addr: number;
  /** The MAC while the state is valid, else null. */
  lladdr: Uint8Array | null;
  state: number;
  usedMs: number;
  confirmedMs: number;
  updatedMs: number;
  probes: number;
  /** Frames held for this entry (INCOMPLETE). */
  held: number;
  /** References: 1 while a timer runs (as the kernel's refcnt − 1 with no other user). */
  ref: number;
}

export interface ShowOptions {
  /** Only this device (its name is then left out of each line, as iproute2 does). */
  dev?: string;
  /** `nud all`: NOARP and NONE entries too (the default view hides them). */
  all?: boolean;
  /** `-s`: ref, used/confirmed/updated and probes. */
  stats?: boolean;
}

const DUMP_BYTES = 32;
const ERRNO: Record<number, string> = { [-2]: "No such file or directory", [-12]: "Cannot allocate memory", [-19]: "No such device", [-22]: "Invalid argument", [-105]: "No buffer space available" };

/** The state as iproute2 prints it: each set bit's name followed by a space. */
export function formatState(state: number): string {
  let s = "";
  for (const [bit, name] of STATE_NAMES) if (state & bit) s += `${name} `;
  return s;
}

/**
 * One line of `ip [-s] neigh show` (iproute2 6.1 print_neigh, without the newline): "ADDR ", "dev DEV "
 * unless filtered by device, "lladdr MAC ", with -s " ref N" (when N > 0), " used A/B/C" (seconds),
 * "probes P ", then the state names, each followed by a space.
 */
export function formatNeigh(e: NeighEntry, opts: { showDev: boolean; stats: boolean }): string {
  let s = `${formatIPv4(e.addr)} `;
  if (opts.showDev) s += `dev ${e.dev} `;
  if (e.lladdr) s += `lladdr ${formatMac(e.lladdr)} `;
  if (opts.stats) {
    if (e.ref) s += ` ref ${e.ref}`;
    s += ` used ${Math.floor(e.usedMs / 1000)}/${Math.floor(e.confirmedMs / 1000)}/${Math.floor(e.updatedMs / 1000)}`;
    s += `probes ${e.probes} `;
  }
  return s + formatState(e.state);
}

export class NeighTable {
  private readonly core: Core;
  private readonly x: NeighExports;
  private readonly nameOf: (ifindex: number) => string;
  private readonly clock: () => number;

  /**
   * nameOf names a port (ifindex → name); devices are found by name through it. clock: the same ms
   * clock the data plane uses (default performance.now, as DataPlane's).
   */
  constructor(core: Core, nameOf: (ifindex: number) => string, clock: () => number = () => performance.now()) {
    this.core = core;
    this.x = core.x as unknown as NeighExports;
    this.nameOf = nameOf;
    this.clock = clock;
  }

  private now(): number {
    return this.clock() >>> 0;
  }

  /** The ifindex of a port by name (ports are 1..255). */
  indexOf(dev: string): number {
    for (let i = 1; i < 256; i++) if (this.nameOf(i) === dev) return i;
    throw new Error(`Cannot find device "${dev}"`);
  }

  /** `ip neigh replace` (add and replace are the same here): creates or overwrites the entry. */
  add(n: StaticNeigh): void {
    const ifindex = this.indexOf(n.dev);
    const state = STATIC_STATES[n.nud ?? "permanent"];
    if (state === undefined) throw new Error(`nud state "${n.nud}" is not one of permanent, noarp, reachable, stale`);
    let macPtr = 0;
    if (n.lladdr !== undefined) {
      const mac = typeof n.lladdr === "string" ? parseMac(n.lladdr, "lladdr") : Uint8Array.from(n.lladdr);
      if (mac.length !== 6) throw new Error("lladdr must be 6 bytes");
      macPtr = this.core.alloc(8);
      new Uint8Array(this.memory(), macPtr, 6).set(mac);
    }
    const rc = this.x.dp_neigh_add(ifindex, n.addr >>> 0, macPtr, state, this.now());
    if (macPtr) this.core.x.mem_free(macPtr, 8);
    if (rc !== 0) throw new Error(`neigh ${formatIPv4(n.addr)} dev ${n.dev}: ${ERRNO[rc] ?? `error ${rc}`}`);
  }

  replace(n: StaticNeigh): void {
    this.add(n);
  }

  /** `ip neigh del ADDR dev DEV`: false when there was no such entry. */
  del(n: { dev: string; addr: number }): boolean {
    return this.x.dp_neigh_del(this.indexOf(n.dev), n.addr >>> 0) === 0;
  }

  /** Removes the entries that are not permanent, of one device or of all; returns how many. */
  flush(dev?: string): number {
    return this.x.dp_neigh_flush(dev === undefined ? 0 : this.indexOf(dev));
  }

  /** Every entry, in the table's order. */
  list(): NeighEntry[] {
    const now = this.now();
    const max = this.arpStat()[0]! + 16;
    const out = this.core.alloc(max * DUMP_BYTES);
    try {
      const n = this.x.dp_neigh_dump(out, max, now);
      const b = new Uint8Array(this.memory(), out, n * DUMP_BYTES);
      const v = new DataView(b.buffer, out, n * DUMP_BYTES);
      const entries: NeighEntry[] = [];
      for (let i = 0; i < n; i++) {
        const o = i * DUMP_BYTES;
        const state = v.getUint16(o + 14, true);
        const ifindex = v.getUint32(o, true);
        entries.push({
          ifindex,
          dev: this.nameOf(ifindex),
          addr: v.getUint32(o + 4, true),
          lladdr: state & NUD_VALID ? b.slice(o + 8, o + 14) : null,
          state,
          usedMs: v.getUint32(o + 16, true),
          confirmedMs: v.getUint32(o + 20, true),
          updatedMs: v.getUint32(o + 24, true),
          probes: v.getUint16(o + 28, true),
          held: v.getUint16(o + 30, true),
          ref: state & NUD_IN_TIMER ? 1 : 0,
        });
      }
      return entries;
    } finally {
      this.core.x.mem_free(out, max * DUMP_BYTES);
    }
  }

  /**
   * `ip [-s] neigh show [dev DEV] [nud all]` as lines (no newline). Like iproute2, the default view
   * leaves out NOARP entries and entries with no state.
   */
  show(opts: ShowOptions = {}): string[] {
    const lines: string[] = [];
    for (const e of this.list()) {
      if (opts.dev !== undefined && e.dev !== opts.dev) continue;
      if (!opts.all && !(e.state & (0xff & ~NUD.NOARP))) continue;
      lines.push(formatNeigh(e, { showDev: opts.dev === undefined, stats: opts.stats ?? false }));
    }
    return lines;
  }

  setParam(name: NeighParamName, value: number): void {
    const id = NeighParam[name];
    if (id === undefined || this.x.dp_neigh_set_param(id, value >>> 0) !== 0) throw new Error(`bad neighbour parameter ${name} = ${value}`);
  }

  /**
   * Applies the neighbour sysctls: the table's (gc_thresh1..3, gc_interval), net.ipv4.neigh.default.*
   * (what a port without its own values reads) and each port's effective net.ipv4.neigh.IFNAME.* (the
   * kernel's per-device neigh_parms; IfSysctls resolves what a device inherits from default).
   * indexOf: a device name's port index, undefined when it is not a port (then it is skipped).
   */
  setParams(p: NeighParams, indexOf: (dev: string) => number | undefined = () => undefined): void {
    this.setParam("gcThresh1", p.gcThresh1);
    this.setParam("gcThresh2", p.gcThresh2);
    this.setParam("gcThresh3", p.gcThresh3);
    this.setParam("gcIntervalMs", p.gcIntervalMs);
    for (const [name, v] of devParams(p.defaults)) this.setParam(name, v);
    for (const [dev, d] of Object.entries(p.devices)) {
      const ifindex = indexOf(dev);
      if (ifindex === undefined) continue;
      for (const [name, v] of devParams(d)) {
        if (this.x.dp_neigh_set_dev_param(ifindex, NeighParam[name], v >>> 0) !== 0) throw new Error(`bad neighbour parameter ${dev} ${name} = ${v}`);
      }
    }
  }

  /** The current reachable_time (ms) of the table's default, or of port dev: a random value in [base/2, 3·base/2). */
  reachableTimeMs(ifindex?: number): number {
    return this.x.dp_neigh_reachable_time(ifindex ?? 0xffffffff);
  }

  /** /proc/net/stat/arp_cache's 13 columns (entries allocs destroys hash_grows lookups hits res_failed rcv_probes_mcast rcv_probes_ucast periodic_gc_runs forced_gc_runs unresolved_discards table_fulls). */
  arpStat(): Uint32Array {
    const p = this.x.dp_arp_stat() >>> 2;
    return this.core.u32().slice(p, p + 13);
  }

  /** Events since the last call, then cleared: table overflows ("neighbour table overflow"). */
  takeEvents(): { tableOverflows: number } {
    const p = this.x.dp_neigh_events() >>> 2;
    const m = this.core.u32();
    const e = { tableOverflows: m[p]! };
    m[p] = 0;
    return e;
  }

  private memory(): ArrayBuffer {
    return this.core.x.memory.buffer;
  }
}
