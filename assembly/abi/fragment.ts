// abi/fragment.ts — exports of fragmentation and checksum completion (dp/fragment.ts), and nothing else.
// Both work on frames the host placed in linear memory; results go to the areas it names.
// ┌─────────────────────────┬─────┬───────────────────────────────────────────────────────────────┐
// │ f .. f + len            │ r   │ the Ethernet II + IPv4 frame (finish_checksum: r/w, one field) │
// │ out + k·slot            │ w   │ dp_fragment: fragment k, a whole Ethernet frame                │
// │ lens + 4k               │ w   │ dp_fragment: i32 length of fragment k                          │
// └─────────────────────────┴─────┴───────────────────────────────────────────────────────────────┘
import { fragmentInto, finishChecksum } from "../dp/fragment";

/**
 * Fragments frame f (len bytes) for an IPv4 MTU of mtu (RFC 791, as Linux ip_do_fragment): fragment k at
 * out + k·slot, its length (i32) at lens + 4k. Returns the count, or −1 DF set, −2 mtu < 68 / not a
 * well-formed IPv4 datagram, −3 more than maxFrags needed or a fragment larger than slot.
 */
export function dp_fragment(f: u32, len: u32, mtu: u32, out: u32, slot: u32, lens: u32, maxFrags: u32): i32 {
  return fragmentInto(f, len, mtu, out, slot, lens, maxFrags);
}

/** Completes a CHECKSUM_PARTIAL TCP/UDP checksum in frame f (skb_checksum_help): 1 done, 0 untouched. */
export function dp_finish_checksum(f: u32, len: u32): u32 {
  return finishChecksum(f, len) ? 1 : 0;
}
