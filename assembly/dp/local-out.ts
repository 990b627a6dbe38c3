// local-out.ts — sending what the router itself generates (ICMP errors, redirects, echo replies, TCP resets):
// the output route (the cache's output path, §6.7) to the destination, a source address of ours on
// the way out (icmp_send with icmp_errors_use_inbound_ifaddr = 0 picks the address of the output
// device, inet_select_addr), the per-host ICMP limits (peer.ts), then the neighbour (neigh.ts).
// Frames are built in the transmit arena (tx.ts); RFC 1812 §4.3.2.7 refusals live in icmp.ts.
//
// Memory: none of its own beyond the 24-byte answer of the output lookup below.
import { outputOne } from "../cache/output";
import { RTN_UNICAST } from "../cache/addr";
import { buildError, buildEchoReply, errorForbidden } from "./icmp";
import { buildReset, RESET_BYTES } from "./tcp-reset";
import { icmpAllowedTo, redirectAllowedTo } from "./peer";
import { icmpRatemask } from "./params";
import { addrFor, isLocalAddr, portMac } from "./ports";
import { txScratch } from "./tx";
import { neighOutput } from "./neigh";
import { mib, icmpOut, IP_OUT_REQUESTS, IP_OUT_NO_ROUTES, IP_OUT_DISCARDS, ICMP_OUT_ERRORS, ICMP_OUT_RATELIMIT_HOST, V_FORWARDED, V_QUEUED } from "./snmp";
import { be32 } from "./bytes";

const answer: usize = memory.data(24);
const ICMP_FRAME_MAX: u32 = 14 + 576;
let outOif: u32 = 0;
let outGw: u32 = 0;

/** The output route to dst for a packet of ours: sets outOif/outGw, or counts OutNoRoutes. */
function route(dst: u32, now: u32): bool {
  outputOne(dst, 0, 0, 0, 0, now, false, answer);
  const oif = load<u32>(answer, 12);
  if (load<u8>(answer) != RTN_UNICAST || load<i32>(answer, 4) != 0 || portMac(oif) == 0) {
    mib(IP_OUT_NO_ROUTES);
    return false;
  }
  outOif = oif;
  outGw = load<u32>(answer, 8);
  return true;
}

/** Hands a built frame (IPv4 inside, addressed) to the neighbour of the route just looked up. */
function transmit(frame: usize, len: u32, now: u32): bool {
  mib(IP_OUT_REQUESTS);
  const v = neighOutput(outOif, outGw, frame, len, now);
  if (v == V_FORWARDED || v == V_QUEUED) return true;
  mib(IP_OUT_DISCARDS);
  return false;
}

/**
 * Sends an ICMP error (type, code; info = next-hop MTU for frag-needed, gateway for a redirect) about
 * frame f (len bytes) back to its source. Redirects pass the redirect back-off, the other error types
 * in icmp_ratemask the per-host icmp_ratelimit. True when the error was sent or queued for ARP.
 */
export function icmpError(f: usize, len: u32, type: u32, code: u32, info: u32, now: u32): bool {
  if (errorForbidden(f, len) != 0) return false;
  const src = be32(f + 26);
  const dst = be32(f + 30);
  if (type == 5) {
    if (!redirectAllowedTo(src, now)) return false;
  } else if (((icmpRatemask >>> type) & 1) != 0 && !icmpAllowedTo(src, now)) {
    mib(ICMP_OUT_RATELIMIT_HOST);
    return false;
  }
  if (!route(src, now)) return false;
  const buf = txScratch(ICMP_FRAME_MAX);
  if (buf == 0) {
    mib(ICMP_OUT_ERRORS);
    return false;
  }
  const from = isLocalAddr(dst) ? dst : addrFor(outOif, src);
  const n = buildError(f, len, type, code, info, portMac(outOif), from, buf);
  if (n == 0) return false;
  icmpOut(type);
  return transmit(buf, n, now);
}

/** Answers the echo request in frame f (to one of our addresses). True when the reply was sent or queued. */
export function echoReply(f: usize, len: u32, now: u32): bool {
  if (!route(be32(f + 26), now)) return false;
  const buf = txScratch(len);
  if (buf == 0) {
    mib(ICMP_OUT_ERRORS);
    return false;
  }
  const n = buildEchoReply(f, len, portMac(outOif), buf);
  if (n == 0) return false;
  icmpOut(0);
  return transmit(buf, n, now);
}

/** Answers a TCP segment to a closed port of ours (frame f, IPv4 header of hl bytes) with a reset. */
export function tcpReset(f: usize, len: u32, hl: u32, now: u32): bool {
  if (!route(be32(f + 26), now)) return false;
  const buf = txScratch(RESET_BYTES);
  if (buf == 0) return false;
  if (buildReset(f, len, hl, buf) == 0) return false;
  return transmit(buf, RESET_BYTES, now);
}
