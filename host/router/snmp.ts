/**
 * The data plane's MIB counters (assembly/dp/snmp.ts) named and printed as Linux prints them.
 *
 * The core keeps one u64 array laid out as docs/dataplane.md's counter table; the name arrays below are
 * that table, block by block, in its order (the only place the host spells the layout out; a test checks
 * that their total equals the core's `dp_snmp_count()`).
 *
 * Text formats follow **Linux 6.1** (net/ipv4/proc.c `snmp_seq_show`, `netstat_seq_show`), the kernel of
 * Debian 12, whose iproute2 6.1 nstat reads them:
 *
 * - `/proc/net/snmp`: the `Ip:` pair (Forwarding, DefaultTTL, then the 17 ipstats fields: 6.1 has no
 *   OutTransmits, which 6.3 appended), the `Icmp:` pair (InMsgs InErrors InCsumErrors, the 11 In<type>,
 *   OutMsgs OutErrors OutRateLimitGlobal OutRateLimitHost, the 11 Out<type>), the `IcmpMsg:` pairs
 *   (`icmpmsg_put`: the non-zero types, In0..In255 then Out0..Out255, 16 per line pair; no pair at all
 *   when every type is 0), then `Udp:`. Lines are joined the kernel's way ("\nIcmp:" …) and the file
 *   ends with one "\n".
 *   Left out on purpose: `Tcp:` (wasmroute has no TCP; nstat reads line pairs and simply has no Tcp*
 *   counters then) and `UdpLite:` (no UDP-Lite either).
 * - `/proc/net/netstat`: `TcpExt:` with the one TCP-extension counter a router has
 *   (IPReversePathFilter), `IpExt:` with the 18 fields of 6.1, then wasmroute's own `WrDrop:` pair of the
 *   32 drop reasons (nstat shows them as WrDropRunt …; no `MPTcpExt:`).
 *
 * Every value is printed in decimal from the u64 counter (the kernel's `%lu`/`%llu` on 64-bit).
 */
import type { Core } from "../core/load.ts";

/** `Ip:` fields after Forwarding and DefaultTTL (snmp4_ipstats_list of Linux 6.1). Indexes 0–16. */
export const IP_FIELDS = [
  "InReceives", "InHdrErrors", "InAddrErrors", "ForwDatagrams", "InUnknownProtos", "InDiscards", "InDelivers",
  "OutRequests", "OutDiscards", "OutNoRoutes", "ReasmTimeout", "ReasmReqds", "ReasmOKs", "ReasmFails",
  "FragOKs", "FragFails", "FragCreates",
] as const;

/** `IpExt:` fields (snmp4_ipextstats_list of Linux 6.1). Indexes 17–34. */
export const IPEXT_FIELDS = [
  "InNoRoutes", "InTruncatedPkts", "InMcastPkts", "OutMcastPkts", "InBcastPkts", "OutBcastPkts", "InOctets",
  "OutOctets", "InMcastOctets", "OutMcastOctets", "InBcastOctets", "OutBcastOctets", "InCsumErrors",
  "InNoECTPkts", "InECT1Pkts", "InECT0Pkts", "InCEPkts", "ReasmOverlaps",
] as const;

/** The per-type part of `Icmp:` (icmpmibmap: name and ICMP type), printed with In and Out prefixes. */
const ICMP_TYPE_NAMES = [
  "DestUnreachs", "TimeExcds", "ParmProbs", "SrcQuenchs", "Redirects", "Echos", "EchoReps", "Timestamps",
  "TimestampReps", "AddrMasks", "AddrMaskReps",
] as const;

/** `Icmp:` fields (icmp_put of Linux 6.1). Indexes 35–63. */
export const ICMP_FIELDS = [
  "InMsgs", "InErrors", "InCsumErrors", ...ICMP_TYPE_NAMES.map((n) => `In${n}`),
  "OutMsgs", "OutErrors", "OutRateLimitGlobal", "OutRateLimitHost", ...ICMP_TYPE_NAMES.map((n) => `Out${n}`),
] as readonly string[];

/** `Udp:` fields (snmp4_udp_list of Linux 6.1). Indexes 64–72. */
export const UDP_FIELDS = [
  "InDatagrams", "NoPorts", "InErrors", "OutDatagrams", "RcvbufErrors", "SndbufErrors", "InCsumErrors",
  "IgnoredMulti", "MemErrors",
] as const;

/** `TcpExt:` fields kept by the router. Index 73. */
export const TCPEXT_FIELDS = ["IPReversePathFilter"] as const;

/** `IcmpMsg:` InType0 … InType255 (indexes 74–329), then OutType0 … OutType255 (330–585). */
export const ICMPMSG_FIELDS = [
  ...Array.from({ length: 256 }, (_, t) => `InType${t}`),
  ...Array.from({ length: 256 }, (_, t) => `OutType${t}`),
] as readonly string[];

/**
 * The drop reasons r = 0 … 24 of docs/dataplane.md (verdict 16 + r). Slots 25–31 have no reason yet;
 * they are printed as Reason25 … Reason31 so that a core counting a reason the host cannot name yet
 * still shows it.
 */
export const DROP_REASONS = [
  "Runt", "Ethertype", "OtherHost", "IpHeader", "IpTruncated", "MartianSrc", "MartianDst", "NoRoute",
  "Blackhole", "Prohibit", "TtlExpired", "FragNeeded", "NotForwarding", "NeighFailed", "NeighTableFull",
  "TxFull", "NoBufs", "ArpInvalid", "ArpIgnored", "Multicast", "LocalProto", "Fragment", "QueueOverflow",
  "Broadcast", "GsoBad",
] as const;

/** `WrDrop:` fields: the 32 drop-reason slots (indexes 586–617). */
export const WRDROP_FIELDS = [
  ...DROP_REASONS,
  ...Array.from({ length: 32 - DROP_REASONS.length }, (_, i) => `Reason${DROP_REASONS.length + i}`),
] as readonly string[];

/** The blocks of the counter array, in docs/dataplane.md's order. */
export const SNMP_BLOCKS = [
  { block: "Ip", fields: IP_FIELDS as readonly string[] },
  { block: "IpExt", fields: IPEXT_FIELDS as readonly string[] },
  { block: "Icmp", fields: ICMP_FIELDS },
  { block: "Udp", fields: UDP_FIELDS as readonly string[] },
  { block: "TcpExt", fields: TCPEXT_FIELDS as readonly string[] },
  { block: "IcmpMsg", fields: ICMPMSG_FIELDS },
  { block: "WrDrop", fields: WRDROP_FIELDS },
] as const;

/** Index of the first counter of each block. */
export const SNMP_OFFSETS: Readonly<Record<(typeof SNMP_BLOCKS)[number]["block"], number>> = (() => {
  const o: Record<string, number> = {};
  let at = 0;
  for (const b of SNMP_BLOCKS) {
    o[b.block] = at;
    at += b.fields.length;
  }
  return o as Record<(typeof SNMP_BLOCKS)[number]["block"], number>;
})();

/** Number of u64 counters (618): must equal the core's `dp_snmp_count()`. */
export const SNMP_COUNT = SNMP_BLOCKS.reduce((n, b) => n + b.fields.length, 0);

/** Index of counter `field` of `block` (e.g. snmpIndex("Ip", "ForwDatagrams") = 3). Throws if unknown. */
export function snmpIndex(block: (typeof SNMP_BLOCKS)[number]["block"], field: string): number {
  const b = SNMP_BLOCKS.find((x) => x.block === block)!;
  const i = b.fields.indexOf(field);
  if (i < 0) throw new RangeError(`snmp: no field ${block}${field}`);
  return SNMP_OFFSETS[block] + i;
}

/** A copy of the core's counters (u64 each, docs/dataplane.md's order). */
export function readSnmp(core: Core): BigUint64Array {
  const x = core.x as unknown as { dp_snmp_count(): number; dp_snmp(): number };
  const n = x.dp_snmp_count() >>> 0;
  if (n !== SNMP_COUNT) throw new Error(`wasmroute: the core has ${n} MIB counters, the host names ${SNMP_COUNT}; rebuild`);
  const p = x.dp_snmp() >>> 0;
  return new BigUint64Array(core.x.memory.buffer.slice(p, p + n * 8));
}

export interface SnmpOptions {
  /** IPv4 forwarding: 1 on, 2 off (RFC 1213 ipForwarding, as the kernel prints it). */
  forwarding: 1 | 2;
  /** ipDefaultTTL; default 64 (net.ipv4.ip_default_ttl). */
  defaultTtl?: number;
}

function check(values: BigUint64Array): void {
  if (!(values instanceof BigUint64Array) || values.length !== SNMP_COUNT) {
    throw new RangeError(`snmp: expected a BigUint64Array of ${SNMP_COUNT} counters`);
  }
}

function valuesOf(values: BigUint64Array, from: number, count: number): string {
  let s = "";
  for (let i = from; i < from + count; i++) s += ` ${values[i]!}`;
  return s;
}

/** One header/value line pair: "P: a b\nP: 1 2" (no trailing newline, as the kernel builds it). */
function pair(prefix: string, names: readonly string[], values: BigUint64Array, from: number): string {
  return `${prefix}: ${names.join(" ")}\n${prefix}:${valuesOf(values, from, names.length)}`;
}

/** IcmpMsg pairs as icmpmsg_put: non-zero types only, In before Out, at most 16 per line pair. */
function icmpMsgLines(values: BigUint64Array): string {
  const PERLINE = 16;
  const base = SNMP_OFFSETS.IcmpMsg;
  let out = "";
  let names: string[] = [];
  let vals = "";
  const flush = (): void => {
    if (names.length === 0) return;
    out += `\nIcmpMsg: ${names.join(" ")}\nIcmpMsg:${vals}`;
    names = [];
    vals = "";
  };
  for (let i = 0; i < 512; i++) {
    const v = values[base + i]!;
    if (v !== 0n) {
      names.push(ICMPMSG_FIELDS[i]!);
      vals += ` ${v}`;
    }
    if (names.length === PERLINE) flush();
  }
  flush();
  return out;
}

/** The exact text of Linux 6.1's /proc/net/snmp for these counters (Tcp and UdpLite left out; see top). */
export function formatProcSnmp(values: BigUint64Array, opts: SnmpOptions): string {
  check(values);
  if (opts.forwarding !== 1 && opts.forwarding !== 2) throw new RangeError(`snmp: forwarding must be 1 or 2`);
  const ttl = opts.defaultTtl ?? 64;
  const ip =
    `Ip: Forwarding DefaultTTL ${IP_FIELDS.join(" ")}\n` +
    `Ip: ${opts.forwarding} ${ttl}${valuesOf(values, SNMP_OFFSETS.Ip, IP_FIELDS.length)}`;
  return (
    ip +
    `\n${pair("Icmp", ICMP_FIELDS, values, SNMP_OFFSETS.Icmp)}` +
    icmpMsgLines(values) +
    `\n${pair("Udp", UDP_FIELDS, values, SNMP_OFFSETS.Udp)}` +
    "\n"
  );
}

/** The text of Linux 6.1's /proc/net/netstat (TcpExt reduced to IPReversePathFilter), plus `WrDrop:`. */
export function formatProcNetstat(values: BigUint64Array): string {
  check(values);
  return (
    `${pair("TcpExt", TCPEXT_FIELDS, values, SNMP_OFFSETS.TcpExt)}\n` +
    `${pair("IpExt", IPEXT_FIELDS, values, SNMP_OFFSETS.IpExt)}\n` +
    `${pair("WrDrop", WRDROP_FIELDS, values, SNMP_OFFSETS.WrDrop)}\n`
  );
}
