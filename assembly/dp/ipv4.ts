// ipv4.ts — the data plane's wire layer for Ethernet II + IPv4 (RFC 791, RFC 1812 §5.2.2 checks):
// classify a frame, validate its IPv4 header, and decrement the TTL with the incremental checksum
// update of RFC 1624 (HC' = ~(~HC + ~m + m')). Every read stays inside the frame's length: any bytes at
// all get a verdict, never a trap.
//
// Parse record, 16 bytes per frame
// ┌─────┬─────┬──────────────────────────────────────────────────────────────────────────────┐
// │  +0 │ u8  │ verdict: 0 IPv4 ok, 1 ARP, 2 other ethertype, 3 runt (< 14 bytes),             │
// │     │     │ 4 IPv4 header errors (version, IHL, total length < header, checksum),          │
// │     │     │ 5 truncated (total length > what the frame carries)                           │
// │  +1 │ u8  │ header length in bytes (IHL · 4)                                               │
// │  +2 │ u8  │ TTL                                                                            │
// │  +3 │ u8  │ protocol                                                                       │
// │  +4 │ u16 │ total length                                                                   │
// │  +6 │ u16 │ flags + fragment offset (host order)                                           │
// │  +8 │ u32 │ source address (host order)                                                    │
// │ +12 │ u32 │ destination address (host order)                                               │
// └─────┴─────┴──────────────────────────────────────────────────────────────────────────────┘
import { be16, be32 } from "./bytes";
import { frameRead, frameWrite } from "./window";

export const V_IPV4: u8 = 0;
export const V_ARP: u8 = 1;
export const V_OTHER: u8 = 2;
export const V_RUNT: u8 = 3;
export const V_HDR_ERROR: u8 = 4;
export const V_TRUNCATED: u8 = 5;
export const PARSE_BYTES: u32 = 16;

/** The Internet checksum over n bytes (n even or odd), folded, not inverted. */
export function sum16(p: usize, n: u32): u32 {
  frameRead(p, n);
  let s: u32 = 0;
  let i: u32 = 0;
  for (; i + 1 < n; i += 2) s += be16(p + i);
  if (i < n) s += <u32>load<u8>(p + i) << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** Classifies and validates one frame of len bytes at f; writes the parse record at out. */
export function parseFrame(f: usize, len: u32, out: usize): u8 {
  memory.fill(out, 0, PARSE_BYTES);
  let v: u8 = V_IPV4;
  if (len < 14) v = V_RUNT;
  else {
    const type = be16(f + 12);
    if (type == 0x0806) v = V_ARP;
    else if (type != 0x0800) v = V_OTHER;
    else {
      const ip = f + 14;
      const room = len - 14;
      if (room < 20) v = V_HDR_ERROR;
      else {
        frameRead(ip, 20);
        const vihl = <u32>load<u8>(ip);
        const hl = (vihl & 15) << 2;
        const total = be16(ip + 2);
        if ((vihl >>> 4) != 4 || hl < 20 || hl > room || total < hl) v = V_HDR_ERROR;
        else if (sum16(ip, hl) != 0xffff) v = V_HDR_ERROR;
        else if (total > room) v = V_TRUNCATED;
        if (hl >= 20 && hl <= room) {
          store<u8>(out, <u8>hl, 1);
          store<u8>(out, load<u8>(ip, 8), 2);
          store<u8>(out, load<u8>(ip, 9), 3);
          store<u16>(out, <u16>total, 4);
          store<u16>(out, <u16>be16(ip + 6), 6);
          store<u32>(out, be32(ip + 12), 8);
          store<u32>(out, be32(ip + 16), 12);
        }
      }
    }
  }
  store<u8>(out, v);
  return v;
}

/** n frames, frame i at buf + i·slot with length lens[i] (i32), → n parse records at out. */
export function parseBatch(buf: usize, slot: u32, lens: usize, n: u32, out: usize): void {
  for (let i: u32 = 0; i < n; i++) {
    const len = <u32>max<i32>(load<i32>(lens + (<usize>i << 2)), 0);
    parseFrame(buf + <usize>i * slot, min<u32>(len, slot), out + <usize>i * PARSE_BYTES);
  }
}

/**
 * TTL − 1 on a valid IPv4 frame at f, patching the header checksum incrementally (RFC 1624 eqn. 3):
 * the 16-bit word holding TTL and protocol changes from m to m − 0x0100.
 */
export function decrementTtl(f: usize): void {
  const ip = f + 14;
  const m = be16(ip + 8);
  const m2 = m - 0x0100;
  let s = (~be16(ip + 10) & 0xffff) + (~m & 0xffff) + m2;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  const hc = ~s & 0xffff;
  frameWrite(ip + 8, 4);
  store<u8>(ip, <u8>(m2 >>> 8), 8);
  store<u8>(ip, <u8>(hc >>> 8), 10);
  store<u8>(ip, <u8>hc, 11);
}
