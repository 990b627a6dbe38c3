// abi/gso.ts — the export of software segmentation (dp/gso.ts), and nothing else. It works on a frame the
// host placed in linear memory; the segments go to the areas it names.
// ┌─────────────────────────┬─────┬───────────────────────────────────────────────────────────────┐
// │ f .. f + len            │ r   │ the Ethernet II + IPv4 + TCP super-frame                        │
// │ out + k·segSlot         │ w   │ segment k, a whole Ethernet frame (segSlot: dp_gso_seg_slot)    │
// │ lens + 4k               │ w   │ i32 length of segment k                                        │
// └─────────────────────────┴─────┴───────────────────────────────────────────────────────────────┘
import { gsoSegment, gsoSegSlot, tcpHeaderLength } from "../dp/gso";

/**
 * Cuts the TCPv4 super-frame f (len bytes) into segments of gsoSize payload bytes (tcp_gso_segment):
 * segment k at out + k·dp_gso_seg_slot(f, len, gsoSize), its length (i32) at lens + 4k. Returns the
 * count, or −2 not an unfragmented TCPv4 frame, −3 no gso_size or more than maxSegs segments.
 */
export function dp_gso_segment(f: u32, len: u32, gsoSize: u32, out: u32, lens: u32, maxSegs: u32): i32 {
  return gsoSegment(f, len, gsoSize, out, lens, maxSegs);
}

/** The bytes between two segments' starts in dp_gso_segment's output (0 when f is not TCPv4). */
export function dp_gso_seg_slot(f: u32, len: u32, gsoSize: u32): u32 {
  if (len < 34) return 0;
  const hl = <u32>(load<u8>(f + 14) & 15) << 2;
  if (hl < 20 || hl + 14 > len) return 0;
  const thl = tcpHeaderLength(f, len, hl);
  return thl == 0 ? 0 : gsoSegSlot(hl, thl, gsoSize);
}
