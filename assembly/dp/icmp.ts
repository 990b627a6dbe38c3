// icmp.ts — the ICMP messages a router sends (RFC 792, RFC 1812 §4.3): errors quoting the offending
// datagram (time exceeded, destination unreachable incl. fragmentation needed with the next-hop MTU,
// §5.2.7.1) and echo replies for its own addresses. Errors are never sent about an ICMP error, a
// non-first fragment, a broadcast/multicast destination (link or IP), or an invalid source (RFC 1812
// §4.3.2.7). As Linux's icmp_send: TOS 0xc0, TTL 64, and as much of the original as fits in 576 bytes.
//
// Frames are Ethernet II + IPv4 (no VLAN). Answers are built in a separate output frame.
import { sum16 } from "./ipv4";
import { be16, putBe16, putBe32 } from "./bytes";
import { frameRead, frameWrite } from "./window";

let ipId: u32 = 0;

/** Why no error may be sent about this frame: 0 = may send, else a reason code (for counters/tests). */
export function errorForbidden(f: usize, len: u32): u32 {
  if (len < 34) return 1; // not an IPv4 frame we could quote
  frameRead(f, 34);
  if ((load<u8>(f) & 1) != 0) return 2; // link-level broadcast or multicast destination
  const ip = f + 14;
  const dst = bswap<u32>(load<u32>(ip, 16));
  const src = bswap<u32>(load<u32>(ip, 12));
  if (dst == 0xffffffff || (dst >>> 28) == 0xe) return 3; // IP broadcast / multicast
  if (src == 0 || (src >>> 24) == 127 || (src >>> 28) >= 0xe) return 4; // no valid source to answer
  if ((be16(ip + 6) & 0x1fff) != 0) return 5; // not the first fragment
  if (load<u8>(ip, 9) == 1) {
    const hl = (<u32>load<u8>(ip) & 15) << 2;
    if (len < 14 + hl + 1) return 6;
    frameRead(ip + hl, 1);
    const t = load<u8>(ip + hl);
    // Only queries may draw an error: echo reply/request, timestamp, info, address mask (0, 8, 13–18).
    if (!(t == 0 || t == 8 || (t >= 13 && t <= 18))) return 6;
  }
  return 0;
}

/**
 * Builds an ICMP error about frame f (len bytes) into out: type, code, and info: for type 3 code 4 the
 * next-hop MTU (RFC 1191), for a redirect (type 5) the better gateway. mac = our port's MAC (6 bytes
 * at macPtr); src = our address on that port. Returns the output frame's length, or 0 when RFC 1812
 * forbids answering.
 */
export function buildError(f: usize, len: u32, type: u32, code: u32, info: u32, macPtr: usize, src: u32, out: usize): u32 {
  if (errorForbidden(f, len) != 0) return 0;
  const ip = f + 14;
  const total = min<u32>(be16(ip + 2), len - 14);
  const quoted = min<u32>(total, 576 - 20 - 8);
  frameWrite(out, 14 + 20 + 8 + quoted);
  frameRead(ip, quoted);
  // Ethernet: back to whoever sent it.
  memory.copy(out, f + 6, 6);
  memory.copy(out + 6, macPtr, 6);
  putBe16(out + 12, 0x0800);
  const o = out + 14;
  const ipLen = 20 + 8 + quoted;
  store<u8>(o, 0x45);
  store<u8>(o, 0xc0, 1);
  putBe16(o + 2, ipLen);
  putBe16(o + 4, ipId++ & 0xffff);
  putBe16(o + 6, 0);
  store<u8>(o, 64, 8);
  store<u8>(o, 1, 9);
  putBe16(o + 10, 0);
  putBe32(o + 12, src);
  memory.copy(o + 16, ip + 12, 4); // to the original source
  putBe16(o + 10, ~sum16(o, 20) & 0xffff);
  const ic = o + 20;
  store<u8>(ic, <u8>type);
  store<u8>(ic, <u8>code, 1);
  putBe16(ic + 2, 0);
  putBe16(ic + 4, type == 5 ? info >>> 16 : 0);
  putBe16(ic + 6, type == 5 || (type == 3 && code == 4) ? info & 0xffff : 0);
  memory.copy(ic + 8, ip, quoted);
  putBe16(ic + 2, ~sum16(ic, 8 + quoted) & 0xffff);
  return 14 + ipLen;
}

/** Builds the echo reply to an echo request in f into out; 0 when f is not a well-formed echo request. */
export function buildEchoReply(f: usize, len: u32, macPtr: usize, out: usize): u32 {
  if (len < 14 + 20 + 8) return 0;
  const ip = f + 14;
  frameRead(f, 14 + 20 + 8);
  const hl = (<u32>load<u8>(ip) & 15) << 2;
  const total = be16(ip + 2);
  if (load<u8>(ip, 9) != 1 || hl < 20 || total < hl + 8 || total + 14 > len) return 0;
  frameRead(ip, total);
  if (load<u8>(ip + hl) != 8) return 0;
  frameWrite(out, 14 + total);
  memory.copy(out, f + 6, 6);
  memory.copy(out + 6, macPtr, 6);
  putBe16(out + 12, 0x0800);
  const o = out + 14;
  memory.copy(o, ip, total);
  memory.copy(o + 12, ip + 16, 4); // swap addresses
  memory.copy(o + 16, ip + 12, 4);
  store<u8>(o, 64, 8);
  putBe16(o + 10, 0);
  putBe16(o + 10, ~sum16(o, hl) & 0xffff);
  const ic = o + hl;
  store<u8>(ic, 0); // echo reply
  putBe16(ic + 2, 0);
  putBe16(ic + 2, ~sum16(ic, total - hl) & 0xffff);
  return 14 + total;
}
