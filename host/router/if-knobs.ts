/**
 * The catalogue of the router's per-interface and neighbour sysctls (host/router/if-sysctl.ts holds their
 * values and semantics): each knob's /proc name, field, unit, range and Linux default, and how its /proc
 * text maps to the value held (times in ms, unres_qlen in bytes).
 */
const INT_MAX = 2 ** 31 - 1;
/** SKB_TRUESIZE(ETH_FRAME_LEN) on x86-64: unres_qlen = unres_qlen_bytes / 2090 (65536 → 31). */
export const SKB_TRUESIZE_ETH_FRAME = 2090;

// ───────────────────────────── the knobs ─────────────────────────────

export type ConfField = "forwarding" | "rpFilter" | "acceptLocal" | "srcValidMark" | "sendRedirects" | "acceptRedirects" | "logMartians";
export type NeighField =
  | "baseReachableTimeMs" | "retransTimeMs" | "delayFirstProbeTimeMs" | "gcStaleTimeMs"
  | "ucastSolicit" | "mcastSolicit" | "unresQlenBytes";
export type NeighTableField = "gcThresh1" | "gcThresh2" | "gcThresh3" | "gcIntervalMs";

/**
 * How the /proc text maps to the held value:
 * - `int`: the value itself (flags, counts, bytes);
 * - `seconds`: proc_dointvec_jiffies, whole seconds (held as ms);
 * - `ms`: proc_dointvec_ms_jiffies, milliseconds;
 * - `userhz`: proc_dointvec_userhz_jiffies, USER_HZ = 100 ticks of 10 ms;
 * - `qlen`: unres_qlen, packets of SKB_TRUESIZE(ETH_FRAME_LEN) bytes (held as unres_qlen_bytes).
 */
export type IfSysctlKind = "int" | "seconds" | "ms" | "userhz" | "qlen";

export interface IfKnob<F extends string> {
  /** File name inside its directory. */
  readonly key: string;
  readonly field: F;
  readonly kind: IfSysctlKind;
  /** Allowed range of the /proc text. */
  readonly min: number;
  readonly max: number;
  /** Unit of the /proc text, for messages and listings. */
  readonly unit: string;
  /** Linux's default, in held units (ms for times, bytes for unres_qlen_bytes). */
  readonly def: number;
  readonly note: string;
}

const SECONDS_MAX = Math.floor(INT_MAX / 1000);
const USERHZ_MAX = Math.floor(INT_MAX / 10);

/** net.ipv4.conf.{all,default,IFNAME}.* (files sorted as readdir lists them). */
export const CONF_KNOBS: readonly IfKnob<ConfField>[] = [
  { key: "accept_local", field: "acceptLocal", kind: "int", min: 0, max: 1, unit: "flag", def: 0, note: "Accept packets with a local source address (effective: all || dev)." },
  { key: "accept_redirects", field: "acceptRedirects", kind: "int", min: 0, max: 1, unit: "flag", def: 1, note: "Accept ICMP redirects (effective: forwarding ? all && dev : all || dev). all.accept_redirects is set to !forwarding by every change of all.forwarding." },
  { key: "forwarding", field: "forwarding", kind: "int", min: 0, max: 1, unit: "flag", def: 0, note: "Forward packets received on this device (effective: the device's own flag). Writing all.forwarding sets it on every device. wasmroute starts with 1." },
  { key: "log_martians", field: "logMartians", kind: "int", min: 0, max: 1, unit: "flag", def: 0, note: "Log packets with impossible addresses (effective: all || dev)." },
  { key: "rp_filter", field: "rpFilter", kind: "int", min: 0, max: 2, unit: "mode", def: 0, note: "Reverse-path filter: 0 off, 1 strict, 2 loose (RFC 3704). Effective: max(all, dev)." },
  { key: "send_redirects", field: "sendRedirects", kind: "int", min: 0, max: 1, unit: "flag", def: 1, note: "Send ICMP redirects (effective: all || dev, so turning them off takes all = 0 and dev = 0)." },
  { key: "src_valid_mark", field: "srcValidMark", kind: "int", min: 0, max: 1, unit: "flag", def: 0, note: "Use the packet mark in the reverse-path lookup (effective: all || dev)." },
];

/** net.ipv4.neigh.{default,IFNAME}.* (files sorted as readdir lists them). */
export const NEIGH_KNOBS: readonly IfKnob<NeighField>[] = [
  { key: "base_reachable_time", field: "baseReachableTimeMs", kind: "seconds", min: 0, max: SECONDS_MAX, unit: "seconds", def: 30_000, note: "Seconds view of base_reachable_time_ms (truncated). A confirmed entry stays REACHABLE for a random time in [base/2, 3·base/2)." },
  { key: "base_reachable_time_ms", field: "baseReachableTimeMs", kind: "ms", min: 0, max: INT_MAX, unit: "milliseconds", def: 30_000, note: "Base of the REACHABLE lifetime of an entry." },
  { key: "delay_first_probe_time", field: "delayFirstProbeTimeMs", kind: "seconds", min: 0, max: SECONDS_MAX, unit: "seconds", def: 5_000, note: "Time in DELAY before the first unicast probe of a STALE entry that was used." },
  { key: "gc_stale_time", field: "gcStaleTimeMs", kind: "seconds", min: 0, max: SECONDS_MAX, unit: "seconds", def: 60_000, note: "An unreferenced entry unused this long may be garbage-collected." },
  { key: "mcast_solicit", field: "mcastSolicit", kind: "int", min: 0, max: INT_MAX, unit: "count", def: 3, note: "Broadcast ARP requests before the entry is FAILED." },
  { key: "retrans_time", field: "retransTimeMs", kind: "userhz", min: 0, max: USERHZ_MAX, unit: "USER_HZ ticks (1/100 s)", def: 1_000, note: "Deprecated view of retrans_time_ms in 1/100 s." },
  { key: "retrans_time_ms", field: "retransTimeMs", kind: "ms", min: 0, max: INT_MAX, unit: "milliseconds", def: 1_000, note: "Time between ARP requests." },
  { key: "ucast_solicit", field: "ucastSolicit", kind: "int", min: 0, max: INT_MAX, unit: "count", def: 3, note: "Unicast probes of a known MAC (PROBE state) before falling back to broadcast / FAILED." },
  { key: "unres_qlen", field: "unresQlenBytes", kind: "qlen", min: 0, max: Math.floor(INT_MAX / SKB_TRUESIZE_ETH_FRAME), unit: "packets", def: 65_536, note: "unres_qlen_bytes in packets of SKB_TRUESIZE(ETH_FRAME_LEN) = 2090 bytes (65536 → 31); writing it sets unres_qlen_bytes." },
  { key: "unres_qlen_bytes", field: "unresQlenBytes", kind: "int", min: 0, max: INT_MAX, unit: "bytes", def: 65_536, note: "Bytes of packets held per unresolved entry; the oldest are dropped beyond it." },
];

/** net.ipv4.neigh.default.* that belong to the table, not to a device. */
export const NEIGH_TABLE_KNOBS: readonly IfKnob<NeighTableField>[] = [
  { key: "gc_interval", field: "gcIntervalMs", kind: "seconds", min: 0, max: SECONDS_MAX, unit: "seconds", def: 30_000, note: "Period of the forced-GC check (periodic work)." },
  { key: "gc_thresh1", field: "gcThresh1", kind: "int", min: 0, max: INT_MAX, unit: "entries", def: 128, note: "Below this many entries the GC never runs." },
  { key: "gc_thresh2", field: "gcThresh2", kind: "int", min: 0, max: INT_MAX, unit: "entries", def: 512, note: "Soft limit: above it, a forced GC runs if the last one was more than 5 s ago." },
  { key: "gc_thresh3", field: "gcThresh3", kind: "int", min: 0, max: INT_MAX, unit: "entries", def: 1024, note: "Hard limit: a new entry beyond it fails after a forced GC (\"neighbour table overflow\")." },
];

/** One line of the knob catalogue (IF_SYSCTLS), for documentation and `sysctl --describe`-like output. */
export interface IfSysctlInfo {
  /** Name pattern, e.g. "net.ipv4.conf.{all,default,IFNAME}.rp_filter". */
  readonly name: string;
  readonly unit: string;
  /** Default as /proc text (for a router: see the module note on forwarding). */
  readonly defaultText: string;
  readonly range: string;
  readonly note: string;
}

export const IF_SYSCTLS: readonly IfSysctlInfo[] = [
  { name: "net.ipv4.ip_forward", unit: "flag", defaultText: "1", range: "0..1", note: "The same variable as net.ipv4.conf.all.forwarding (wasmroute: 1; kernel: 0)." },
  ...CONF_KNOBS.map((k) => ({
    name: `net.ipv4.conf.{all,default,IFNAME}.${k.key}`, unit: k.unit, defaultText: k.key === "forwarding" ? "1" : String(k.def),
    range: `${k.min}..${k.max}`, note: k.note,
  })),
  ...NEIGH_KNOBS.map((k) => ({ name: `net.ipv4.neigh.{default,IFNAME}.${k.key}`, unit: k.unit, defaultText: heldToText(k, k.def), range: `${k.min}..${k.max}`, note: k.note })),
  ...NEIGH_TABLE_KNOBS.map((k) => ({ name: `net.ipv4.neigh.default.${k.key}`, unit: k.unit, defaultText: heldToText(k, k.def), range: `${k.min}..${k.max}`, note: k.note })),
];

/** A held value as its /proc text. */
export function heldToText(k: IfKnob<string>, held: number): string {
  switch (k.kind) {
    case "int":
    case "ms":
      return String(held);
    case "seconds":
      return String(Math.trunc(held / 1000));
    case "userhz":
      return String(Math.trunc(held / 10));
    case "qlen":
      return String(Math.trunc(held / SKB_TRUESIZE_ETH_FRAME));
  }
}

/** A /proc value (already parsed and range-checked) in held units. */
export function textToHeld(k: IfKnob<string>, v: number): number {
  switch (k.kind) {
    case "int":
    case "ms":
      return v;
    case "seconds":
      return v * 1000;
    case "userhz":
      return v * 10;
    case "qlen":
      return v * SKB_TRUESIZE_ETH_FRAME;
  }
}
