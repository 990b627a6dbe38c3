// snmp.ts — the data plane's MIB counters, laid out as docs/dataplane.md's table (u64 each): the
// kernel's Ip, IpExt, Icmp, Udp and IcmpMsg fields as /proc/net/snmp and /proc/net/netstat name them,
// one TcpExt field, and wasmroute's drop reasons (WrDrop…). The host names them (host/router/snmp.ts).

export const IP_IN_RECEIVES: u32 = 0;
export const IP_IN_HDR_ERRORS: u32 = 1;
export const IP_IN_ADDR_ERRORS: u32 = 2;
export const IP_FORW_DATAGRAMS: u32 = 3;
export const IP_IN_UNKNOWN_PROTOS: u32 = 4;
export const IP_IN_DISCARDS: u32 = 5;
export const IP_IN_DELIVERS: u32 = 6;
export const IP_OUT_REQUESTS: u32 = 7;
export const IP_OUT_DISCARDS: u32 = 8;
export const IP_OUT_NO_ROUTES: u32 = 9;
export const IP_REASM_REQDS: u32 = 11;
export const IP_REASM_FAILS: u32 = 13;
export const IP_FRAG_OKS: u32 = 14;
export const IP_FRAG_FAILS: u32 = 15;
export const IP_FRAG_CREATES: u32 = 16;
export const IPX_IN_NO_ROUTES: u32 = 17;
export const IPX_IN_TRUNCATED: u32 = 18;
export const IPX_IN_MCAST_PKTS: u32 = 19;
export const IPX_IN_BCAST_PKTS: u32 = 21;
export const IPX_IN_OCTETS: u32 = 23;
export const IPX_OUT_OCTETS: u32 = 24;
export const IPX_IN_MCAST_OCTETS: u32 = 25;
export const IPX_IN_BCAST_OCTETS: u32 = 27;
export const IPX_IN_NO_ECT: u32 = 30;
export const ICMP_IN_MSGS: u32 = 35;
export const ICMP_IN_ERRORS: u32 = 36;
export const ICMP_IN_CSUM_ERRORS: u32 = 37;
export const ICMP_IN_DEST_UNREACHS: u32 = 38;
export const ICMP_IN_TIME_EXCDS: u32 = 39;
export const ICMP_IN_ECHOS: u32 = 43;
export const ICMP_IN_ECHO_REPS: u32 = 44;
export const ICMP_OUT_MSGS: u32 = 49;
export const ICMP_OUT_ERRORS: u32 = 50;
export const ICMP_OUT_RATELIMIT_HOST: u32 = 52;
export const ICMP_OUT_DEST_UNREACHS: u32 = 53;
export const ICMP_OUT_TIME_EXCDS: u32 = 54;
export const ICMP_OUT_REDIRECTS: u32 = 57;
export const ICMP_OUT_ECHO_REPS: u32 = 59;
export const UDP_IN_DATAGRAMS: u32 = 64;
export const UDP_NO_PORTS: u32 = 65;
export const TCPX_IP_RP_FILTER: u32 = 73;
export const ICMPMSG_IN: u32 = 74;
export const ICMPMSG_OUT: u32 = 330;
export const WR_DROP: u32 = 586;
export const SNMP_COUNT: u32 = 618;

export const snmp: usize = memory.data(<i32>SNMP_COUNT * 8);

// @ts-ignore: decorator
@inline export function mib(i: u32): void {
  const p = snmp + (<usize>i << 3);
  store<u64>(p, load<u64>(p) + 1);
}

// @ts-ignore: decorator
@inline export function mibAdd(i: u32, v: u32): void {
  const p = snmp + (<usize>i << 3);
  store<u64>(p, load<u64>(p) + <u64>v);
}

/** Counts an ICMP message received: InMsgs, InType<type>, and the per-type field when there is one. */
export function icmpIn(type: u32): void {
  mib(ICMP_IN_MSGS);
  mib(ICMPMSG_IN + (type & 255));
  if (type == 3) mib(ICMP_IN_DEST_UNREACHS);
  else if (type == 11) mib(ICMP_IN_TIME_EXCDS);
  else if (type == 8) mib(ICMP_IN_ECHOS);
  else if (type == 0) mib(ICMP_IN_ECHO_REPS);
}

/** Counts an ICMP message sent: OutMsgs, OutType<type>, and the per-type field when there is one. */
export function icmpOut(type: u32): void {
  mib(ICMP_OUT_MSGS);
  mib(ICMPMSG_OUT + (type & 255));
  if (type == 3) mib(ICMP_OUT_DEST_UNREACHS);
  else if (type == 11) mib(ICMP_OUT_TIME_EXCDS);
  else if (type == 5) mib(ICMP_OUT_REDIRECTS);
  else if (type == 0) mib(ICMP_OUT_ECHO_REPS);
}

// Verdicts (docs/dataplane.md): 0..3, or 16 + a drop reason.
export const V_FORWARDED: u8 = 0;
export const V_REPLIED: u8 = 1;
export const V_QUEUED: u8 = 2;
export const V_DELIVERED: u8 = 3;
export const D_RUNT: u8 = 0;
export const D_ETHERTYPE: u8 = 1;
export const D_OTHERHOST: u8 = 2;
export const D_IP_HEADER: u8 = 3;
export const D_IP_TRUNCATED: u8 = 4;
export const D_MARTIAN_SRC: u8 = 5;
export const D_MARTIAN_DST: u8 = 6;
export const D_NO_ROUTE: u8 = 7;
export const D_BLACKHOLE: u8 = 8;
export const D_PROHIBIT: u8 = 9;
export const D_TTL_EXPIRED: u8 = 10;
export const D_FRAG_NEEDED: u8 = 11;
export const D_NOT_FORWARDING: u8 = 12;
export const D_NEIGH_FAILED: u8 = 13;
export const D_NEIGH_TABLE_FULL: u8 = 14;
export const D_TX_FULL: u8 = 15;
export const D_NO_BUFS: u8 = 16;
export const D_ARP_INVALID: u8 = 17;
export const D_ARP_IGNORED: u8 = 18;
export const D_MULTICAST: u8 = 19;
export const D_LOCAL_PROTO: u8 = 20;
export const D_FRAGMENT: u8 = 21;
export const D_QUEUE_OVERFLOW: u8 = 22;
export const D_GSO_BAD: u8 = 24; // 23 is the host's "Broadcast"

/** Counts drop reason r and returns its verdict code (16 + r). */
export function dropped(r: u8): u8 {
  mib(WR_DROP + <u32>r);
  return 16 + r;
}
