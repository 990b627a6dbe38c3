// peer.ts — per-source limiter state, the role the inet_peer plays in 3.x (kernel-route-cache.md §2):
// ip_error's token bucket (error_cost / error_burst), icmp_send's per-host limit (icmp_ratelimit with
// a burst of 6, inet_peer_xrlim_allow) and the redirect back-off, each keyed by the source address
// of the packet that provoked the message. 3.x keeps one token pair per peer shared by all three;
// here each limiter has its own pair, so one limiter's traffic never spends another's tokens.
// Direct-mapped: a new source takes over its slot (a forgotten source starts with full buckets, as a
// new inet_peer does).
//
// Slot, 32 bytes, PEER_SLOTS of them
// ┌─────┬─────┬──────────────────────────────────────────────┐
// │  +0 │ u32 │ source address                               │
// │  +4 │ u32 │ 1 = in use                                   │
// │  +8 │ 8 B │ ip_error bucket (limit.ts layout)            │
// │ +16 │ 8 B │ icmp_ratelimit bucket (limit.ts layout)      │
// │ +24 │ 8 B │ redirect back-off (limit.ts layout)          │
// └─────┴─────┴──────────────────────────────────────────────┘
import { errorAllowed, errorInit, redirectAllowed } from "./limit";
import { errorBurstMs, errorCostMs, icmpRatelimitMs, redirectLoadMs, redirectNumber, redirectSilenceMs } from "./params";

const PEER_SLOTS: u32 = 4096;
const XRLIM_BURST_FACTOR: u32 = 6;
const peers: usize = memory.data(<i32>(PEER_SLOTS * 32));

function peerOf(addr: u32, now: u32): usize {
  const p = peers + <usize>(((addr * 0x9e3779b1) >>> 20) & (PEER_SLOTS - 1)) * 32;
  if (load<u32>(p, 4) == 0 || load<u32>(p) != addr) {
    store<u32>(p, addr);
    store<u32>(p, 1, 4);
    errorInit(p + 8, now, errorBurstMs);
    errorInit(p + 16, now, XRLIM_BURST_FACTOR * icmpRatelimitMs);
    store<u64>(p + 24, <u64>now << 32);
  }
  return p;
}

/** ip_error's limiter for ICMP unreachables about packets from src. */
export function errorAllowedFor(src: u32, now: u32): bool {
  return errorAllowed(peerOf(src, now) + 8, now, errorCostMs, errorBurstMs);
}

/** icmp_send's per-host limit (icmpv4_xrlim_allow) for an ICMP error to dst. */
export function icmpAllowedTo(dst: u32, now: u32): bool {
  if (icmpRatelimitMs == 0) return true;
  return errorAllowed(peerOf(dst, now) + 16, now, icmpRatelimitMs, XRLIM_BURST_FACTOR * icmpRatelimitMs);
}

/** ip_rt_send_redirect's back-off for redirects to src. */
export function redirectAllowedTo(src: u32, now: u32): bool {
  return redirectAllowed(peerOf(src, now) + 24, now, redirectLoadMs, redirectNumber, redirectSilenceMs);
}

/** Forgets every source (tests, and a configuration that changes the limits). */
export function peersClear(): void {
  memory.fill(peers, 0, <usize>PEER_SLOTS * 32);
}
