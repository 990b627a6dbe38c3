// gso.ts — TCPv4 generic segmentation offload on the data plane, as Linux does it: read the
// virtio_net_hdr an offload TAP hands over with a frame (what the frame is: a GSO super-frame, a
// checksum still to finish), write the one a super-frame leaves with, and cut a super-frame into
// wire-sized segments for an egress that cannot take it whole (software GSO: inet_gso_segment +
// tcp_gso_segment). Every read stays inside the frame; any input gets an answer, never a trap.
//
// Segmentation, per segment k of n (payload cut in gso_size pieces, the last takes the rest):
//  · Ethernet header and IPv4 header (options too) copied; IP id = id₀ + k (no FIXEDID over virtio),
//    total length = hl + thl + piece, header checksum recomputed; DF and TTL as in the super-frame.
//  · TCP header copied; seq = seq₀ + k·gso_size; FIN and PSH only on the last segment, CWR only on the
//    first (tcp_gso_segment clears fin/psh on all but the last, cwr after the first); the checksum is
//    computed in full over pseudo-header + segment (RFC 793 §3.1), whatever the super-frame held.
//
// virtio_net_hdr (include/uapi/linux/virtio_net.h, little-endian as the TAP uses on x86), 12-byte stride
// ┌─────┬─────┬──────────────────────────────────────────────────────────────────────────────┐
// │  +0 │ u8  │ flags: 1 NEEDS_CSUM (checksum partial: csum_start/csum_offset), 2 DATA_VALID   │
// │  +1 │ u8  │ gso_type: 0 none, 1 TCPV4, 3 UDP, 4 TCPV6; | 0x80 ECN                          │
// │  +2 │ u16 │ hdr_len: Ethernet + IP + TCP header bytes                                      │
// │  +4 │ u16 │ gso_size: TCP payload bytes per segment                                        │
// │  +6 │ u16 │ csum_start: where the checksummed part starts (from the frame start)           │
// │  +8 │ u16 │ csum_offset: where the checksum field is, from csum_start                      │
// │ +10 │ u16 │ padding (the stride is 12)                                                     │
// └─────┴─────┴──────────────────────────────────────────────────────────────────────────────┘
// Output of gsoSegment: segment k at out + k·segSlot (segSlot = gsoSegSlot(...)), its frame length as
// i32 at lens + 4k. Nothing is written when it returns a negative value.
import { sum16 } from "./ipv4";
import { be16, be32, putBe16, putBe32 } from "./bytes";

export const VNET_STRIDE: u32 = 12;
export const VNET_NEEDS_CSUM: u8 = 1;
export const GSO_NONE: u8 = 0;
export const GSO_TCPV4: u8 = 1;
export const GSO_ECN: u8 = 0x80;
/** Not a TCPv4 datagram GSO can cut (not TCP, a fragment, a TCP header that does not fit). */
export const GSO_BAD: i32 = -2;
/** More segments than maxSegs, or no gso_size. */
export const GSO_ROOM: i32 = -3;

const TCP_FIN: u32 = 0x01;
const TCP_PSH: u32 = 0x08;
const TCP_CWR: u32 = 0x80;

/** gso_size of the vnet header at v when it announces a TCPv4 super-frame (ECN or not), else 0. */
export function vnetGsoSize(v: usize): u32 {
  return (load<u8>(v, 1) & ~GSO_ECN) == GSO_TCPV4 ? <u32>load<u16>(v, 4) : 0;
}

/** Whether the vnet header at v announces a kind of GSO the data plane does not handle (UDP, TCPv6 …). */
export function vnetGsoForeign(v: usize): bool {
  const t = load<u8>(v, 1) & ~GSO_ECN;
  return t != GSO_NONE && t != GSO_TCPV4;
}

/**
 * The TCP header length of the unfragmented TCPv4 frame f (size bytes, IPv4 header hl bytes long),
 * 0 when it is not one or the TCP header does not fit.
 */
export function tcpHeaderLength(f: usize, size: u32, hl: u32): u32 {
  const ip = f + 14;
  if (load<u8>(ip, 9) != 6 || (be16(ip + 6) & 0x3fff) != 0) return 0;
  if (size < 14 + hl + 20) return 0;
  const thl = <u32>(load<u8>(ip + hl, 12) >>> 4) << 2;
  if (thl < 20 || hl + thl + 14 > size) return 0;
  return thl;
}

/**
 * Writes the vnet header a TCPv4 super-frame leaves whole by an offload TAP with (IPv4 header hl bytes,
 * TCP header thl): TCPV4 (ECN kept), gso_size, hdr_len, and its checksum partial (NEEDS_CSUM at the TCP
 * checksum field), as the sender's TSO left it.
 */
export function vnetWriteTcp4(v: usize, hl: u32, thl: u32, gsoSize: u32, ecn: bool): void {
  store<u8>(v, VNET_NEEDS_CSUM);
  store<u8>(v, GSO_TCPV4 | (ecn ? GSO_ECN : 0), 1);
  store<u16>(v, <u16>(14 + hl + thl), 2);
  store<u16>(v, <u16>gsoSize, 4);
  store<u16>(v, <u16>(14 + hl), 6);
  store<u16>(v, 16, 8);
  store<u16>(v, 0, 10);
}

/** Bytes one segment of a super-frame takes in the output area (frame size rounded up to 8). */
export function gsoSegSlot(hl: u32, thl: u32, gsoSize: u32): u32 {
  return (14 + hl + thl + gsoSize + 7) & ~7;
}

/** Segments the payload of size bytes would be cut into (0 for no gso_size). */
export function gsoSegments(size: u32, hl: u32, thl: u32, gsoSize: u32): u32 {
  if (gsoSize == 0) return 0;
  const payload = size - 14 - hl - thl;
  return payload == 0 ? 1 : (payload + gsoSize - 1) / gsoSize;
}

/** The full TCP checksum of the segment at tcp (len bytes) between src and dst (big-endian words). */
function tcpChecksum(ip: usize, tcp: usize, len: u32): u32 {
  putBe16(tcp + 16, 0);
  let s = sum16(ip + 12, 8) + 6 + len + sum16(tcp, len);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/**
 * Cuts the TCPv4 super-frame f (len bytes, at least Ethernet + IPv4 total length) into segments of gsoSize
 * payload bytes at out (see the header). Returns the number of segments, or GSO_BAD / GSO_ROOM.
 */
export function gsoSegment(f: usize, len: u32, gsoSize: u32, out: usize, lens: usize, maxSegs: u32): i32 {
  if (len < 34) return GSO_BAD;
  const ip = f + 14;
  const hl = <u32>(load<u8>(ip) & 15) << 2;
  const total = be16(ip + 2);
  if (hl < 20 || total < hl || total + 14 > len) return GSO_BAD;
  const size = total + 14; // Ethernet padding after the datagram is not payload
  const thl = tcpHeaderLength(f, size, hl);
  if (thl == 0) return GSO_BAD;
  if (gsoSize == 0) return GSO_ROOM;
  const n = gsoSegments(size, hl, thl, gsoSize);
  if (n > maxSegs) return GSO_ROOM;
  const hdrs = 14 + hl + thl;
  const slot = gsoSegSlot(hl, thl, gsoSize);
  const id0 = be16(ip + 4);
  const seq0 = be32(ip + hl + 4);
  const fl = <u32>load<u8>(ip + hl, 13);
  let left = size - hdrs;
  let from = f + hdrs;
  for (let k: u32 = 0; k < n; k++) {
    const piece = left > gsoSize ? gsoSize : left;
    const o = out + <usize>k * slot;
    const oip = o + 14;
    const otcp = oip + hl;
    memory.copy(o, f, hdrs);
    memory.copy(o + hdrs, from, piece);
    putBe16(oip + 2, hl + thl + piece);
    putBe16(oip + 4, (id0 + k) & 0xffff);
    putBe16(oip + 10, 0);
    putBe16(oip + 10, ~sum16(oip, hl) & 0xffff);
    putBe32(otcp + 4, seq0 + k * gsoSize);
    let flags = fl;
    if (k + 1 < n) flags &= ~(TCP_FIN | TCP_PSH);
    if (k > 0) flags &= ~TCP_CWR;
    store<u8>(otcp, <u8>flags, 13);
    putBe16(otcp + 16, tcpChecksum(oip, otcp, thl + piece));
    store<i32>(lens + (<usize>k << 2), <i32>(hdrs + piece));
    left -= piece;
    from += piece;
  }
  return <i32>n;
}
