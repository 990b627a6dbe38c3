// fragment.ts — two jobs on an outgoing Ethernet II + IPv4 frame, both as Linux does them:
//  · fragmentInto: cut one datagram into fragments for an egress MTU (RFC 791 §2.3 "Fragmentation and
//    Reassembly", §3.1 "Flags"/"Fragment Offset"/"Options" copy flag, §3.2 "An Example Fragmentation
//    Procedure"), the way ip_fragment → ip_do_fragment's slow path (ip_frag_init, ip_frag_next,
//    ip_options_fragment) does it;
//  · finishChecksum: complete a CHECKSUM_PARTIAL TCP/UDP checksum (read with TP_STATUS_CSUMNOTREADY)
//    the way skb_checksum_help does (RFC 793 §3.1, RFC 768: the one's complement sum of RFC 1071).
// Every read stays inside the frame's len bytes; any input gets an answer, never a trap.
//
// Where Linux and RFC 791 differ, this is Linux:
//  · Later fragments keep the first fragment's header length: each option whose copy flag (type bit
//    0x80) is clear is overwritten with NOPs (ip_options_fragment), not removed (RFC 791 §3.2 builds a
//    shorter header). The options walk stops at EOL or at the first malformed length, as Linux's does.
//  · The options are NOP-ed only when the datagram being cut starts at offset 0 ("first_frag"); a
//    datagram that is already a non-first fragment keeps its options in every piece as they are.
//  · The flags + offset word is rebuilt: offset, MF; the reserved bit (0x8000) comes out clear.
//  · skb_checksum_help stores CSUM_MANGLED_0 (0xffff) for a zero result for TCP as well as UDP
//    (for TCP both values verify; for UDP 0 would mean "no checksum", RFC 768).
//
// Memory (f = the input frame, len bytes; IPv4 header at f + 14, hl = IHL · 4, total = total length)
// ┌──────────────────────────┬─────┬──────────────────────────────────────────────────────────────┐
// │ f + 0 .. 13              │ r   │ Ethernet header, copied to every fragment; +12 ethertype      │
// │ f + 14 .. 14 + hl        │ r   │ IPv4 header: +0 version/IHL, +2 total, +6 flags/offset         │
// │ f + 14 + hl .. 14 + total│ r   │ payload, cut into the fragments                                │
// │ out + k·slot             │ w   │ fragment k: Ethernet header, IPv4 header (+2 total, +6 flags/  │
// │   .. + 14 + hl + len_k   │     │ offset, +10 checksum rewritten; options NOP-ed for k ≥ 1),     │
// │                          │     │ len_k payload bytes                                            │
// │ lens + 4k                │ w   │ i32: fragment k's frame length (14 + hl + len_k)               │
// │ f + 14 + hl + 16 / + 6   │ r/w │ finishChecksum: the TCP / UDP checksum field (big-endian)       │
// └──────────────────────────┴─────┴──────────────────────────────────────────────────────────────┘
// fragmentInto writes nothing at all when it returns a negative value.
import { sum16 } from "./ipv4";
import { be16, putBe16 } from "./bytes";
import { frameRead, frameWrite, txBlock } from "./window";

/** DF is set: the caller sends ICMP fragmentation needed (RFC 1191) instead. */
export const FRAG_DF: i32 = -1;
/** mtu < 68, or the frame is not a well-formed IPv4 datagram, or it claims to end past 65535. */
export const FRAG_BAD: i32 = -2;
/** More than maxFrags fragments needed, or a fragment would not fit in slot bytes. */
export const FRAG_ROOM: i32 = -3;

/** The IPv4 header length of the frame at f if it is a well-formed IPv4 datagram within len, else 0. */
function ipv4HeaderLength(f: usize, len: u32): u32 {
  if (len < 34 || be16(f + 12) != 0x0800) return 0;
  const ip = f + 14;
  frameRead(ip, 20);
  const vihl = <u32>load<u8>(ip);
  const hl = (vihl & 15) << 2;
  const total = be16(ip + 2);
  if ((vihl >>> 4) != 4 || hl < 20 || total < hl || total > len - 14) return 0;
  return hl;
}

/**
 * ip_options_fragment on n option bytes at opt: every option without the copy flag becomes NOPs;
 * stops at EOL, or at a length that is < 2 or runs past the options.
 */
function optionsFragment(opt: usize, n: u32): void {
  let i: u32 = 0;
  while (i < n) {
    frameRead(opt + i, 1);
    const type = <u32>load<u8>(opt + i);
    if (type == 0) return; // EOL
    if (type == 1) { // NOP
      i++;
      continue;
    }
    if (n - i < 2) return;
    frameRead(opt + i + 1, 1);
    const olen = <u32>load<u8>(opt + i, 1);
    if (olen < 2 || olen > n - i) return;
    if ((type & 0x80) == 0) {
      frameWrite(opt + i, olen);
      memory.fill(opt + i, 1, olen);
    }
    i += olen;
  }
}

/**
 * Fragments the frame f (len bytes) for an IPv4 MTU of mtu bytes into out + k·slot, frame lengths as
 * i32 at lens + 4k. Returns the number of fragments, or FRAG_DF / FRAG_BAD / FRAG_ROOM. Fragment
 * payloads are (mtu − hl) rounded down to 8 except the last, which takes the rest when it fits in
 * mtu − hl (ip_frag_next). A datagram that already fits comes back as one fragment: itself.
 */
export function fragmentInto(f: usize, len: u32, mtu: u32, out: usize, slot: u32, lens: usize, maxFrags: u32): i32 {
  const hl = ipv4HeaderLength(f, len);
  if (hl == 0 || mtu < 68) return FRAG_BAD;
  const ip = f + 14;
  const total = be16(ip + 2);
  const flags = be16(ip + 6);
  if ((flags & 0x4000) != 0) return FRAG_DF;
  const offset0 = (flags & 0x1fff) << 3;
  const payload = total - hl;
  if (offset0 + payload > 0xffff) return FRAG_BAD; // a piece's offset would not fit 13 bits
  const room = mtu - hl; // data space per fragment (≥ 8: mtu ≥ 68, hl ≤ 60)
  const chunk = room & ~7;

  // Count the fragments and check the room before writing anything.
  let n: u32 = 0;
  let left = payload;
  let biggest: u32 = 0;
  do {
    const l = left > room ? chunk : left;
    if (l > biggest) biggest = l;
    left -= l;
    n++;
    if (n > maxFrags) return FRAG_ROOM;
  } while (left > 0);
  if (hl + biggest + 14 > slot) return FRAG_ROOM;

  const notLast = (flags & 0x2000) != 0; // cutting a fragment that was not the last: MF stays on all
  let hdr = ip; // where fragment k's header is copied from
  let ptr = ip + hl;
  let offset = offset0;
  left = payload;
  for (let k: u32 = 0; k < n; k++) {
    const l = left > room ? chunk : left;
    const o = out + <usize>k * slot;
    const h = o + 14;
    txBlock(o, slot);
    frameWrite(o, 14 + hl + l);
    frameRead(f, 14);
    frameRead(hdr, hl);
    frameRead(ptr, l);
    memory.copy(o, f, 14);
    memory.copy(h, hdr, hl);
    if (k == 1) {
      if (offset0 == 0) optionsFragment(h + 20, hl - 20);
      hdr = h; // later fragments inherit the fixed options
    }
    memory.copy(h + hl, ptr, l);
    left -= l;
    putBe16(h + 2, hl + l);
    putBe16(h + 6, (offset >>> 3) | (left > 0 || notLast ? 0x2000 : 0));
    putBe16(h + 10, 0);
    putBe16(h + 10, ~sum16(h, hl) & 0xffff);
    store<i32>(lens + (<usize>k << 2), <i32>(hl + l + 14));
    ptr += l;
    offset += l;
  }
  return <i32>n;
}

/**
 * Completes the TCP (field at +16) or UDP (+6) checksum of an unfragmented IPv4 frame whose field holds
 * the folded pseudo-header sum (CHECKSUM_PARTIAL): the one's complement sum over the segment from the
 * end of the IP header to the total length, field included, inverted; 0 is stored as 0xffff.
 * Returns false, frame untouched, for anything else or a segment too short to hold the field.
 */
export function finishChecksum(f: usize, len: u32): bool {
  const hl = ipv4HeaderLength(f, len);
  if (hl == 0) return false;
  const ip = f + 14;
  if ((be16(ip + 6) & 0x3fff) != 0) return false; // MF or an offset: a fragment
  frameRead(ip + 9, 1);
  const proto = load<u8>(ip, 9);
  let at: u32;
  if (proto == 6) at = 16;
  else if (proto == 17) at = 6;
  else return false;
  const seg = be16(ip + 2) - hl;
  if (seg < at + 2) return false;
  const l4 = ip + hl;
  let c = ~sum16(l4, seg) & 0xffff;
  if (c == 0) c = 0xffff; // CSUM_MANGLED_0
  putBe16(l4 + at, c);
  return true;
}
