// tcp-reset.ts — the reset a host with no listener sends (RFC 793 §3.4 "Reset Generation", as Linux's
// tcp_v4_send_reset): for a segment to a closed port of ours, a bare RST back to its sender. A segment
// that carries an ACK gets RST with seq = its ack; otherwise RST|ACK with seq 0 and ack = its seq plus its
// length (SYN and FIN count one each). Never a reset in answer to a reset.
//
// Frame built (Ethernet header left for the neighbour to fill):
// ┌──────────┬──────────────────────────────────────────────────────────────────────────┐
// │ +0  14 B │ Ethernet (addresses written later, type 0x0800)                           │
// │ +14 20 B │ IPv4: TOS 0, TTL 64, DF, protocol 6, addresses swapped, header checksum  │
// │ +34 20 B │ TCP: ports swapped, seq, ack, data offset 5, flags, window 0, checksum   │
// └──────────┴──────────────────────────────────────────────────────────────────────────┘
import { sum16 } from "./ipv4";
import { be16, putBe16 } from "./bytes";
import { frameRead, frameWrite } from "./window";

export const RESET_BYTES: u32 = 54;

/**
 * Builds into out (RESET_BYTES) the reset answering the TCP segment in frame f (len bytes, a valid IPv4
 * header of hl bytes); returns its length, or 0 when none is due (a reset, or a segment too short).
 */
export function buildReset(f: usize, len: u32, hl: u32, out: usize): u32 {
  const ip = f + 14;
  const total = be16(ip + 2);
  if (total < hl + 20 || total + 14 > len) return 0;
  const t = ip + hl;
  frameRead(ip, hl + 20);
  frameWrite(out, RESET_BYTES);
  const flags = <u32>load<u8>(t, 13);
  if ((flags & 0x04) != 0) return 0; // RST: never answered
  const doff = (<u32>load<u8>(t, 12) >>> 4) << 2;
  if (doff < 20 || doff > total - hl) return 0;
  memory.fill(out, 0, RESET_BYTES);
  putBe16(out + 12, 0x0800);
  const o = out + 14;
  store<u8>(o, 0x45);
  putBe16(o + 2, 40);
  putBe16(o + 6, 0x4000);
  store<u8>(o, 64, 8);
  store<u8>(o, 6, 9);
  memory.copy(o + 12, ip + 16, 4);
  memory.copy(o + 16, ip + 12, 4);
  putBe16(o + 10, ~sum16(o, 20) & 0xffff);
  const r = o + 20;
  memory.copy(r, t + 2, 2);
  memory.copy(r + 2, t, 2);
  if ((flags & 0x10) != 0) {
    memory.copy(r + 4, t + 8, 4); // seq = their ack
    store<u8>(r, 0x04, 13);
  } else {
    let n = total - hl - doff;
    if ((flags & 0x02) != 0) n++;
    if ((flags & 0x01) != 0) n++;
    store<u32>(r + 8, bswap<u32>(bswap<u32>(load<u32>(t + 4)) + n)); // ack = their seq + length
    store<u8>(r, 0x14, 13);
  }
  store<u8>(r, 0x50, 12);
  // Checksum over the pseudo-header (addresses, protocol, TCP length) and the header.
  let s: u32 = sum16(o + 12, 8) + 6 + 20 + sum16(r, 20);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  putBe16(r + 16, ~s & 0xffff);
  return RESET_BYTES;
}
