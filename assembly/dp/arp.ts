// arp.ts — ARP on the wire (RFC 826, Linux net/ipv4/arp.c with arp_ignore 0, arp_accept 0,
// arp_announce 0): received requests and replies (arp_rcv + arp_process) answered and learned into the
// neighbour table (neigh.ts), and the requests the table sends (arp_solicit). Frames are built in the
// transmit arena (tx.ts); every read of a received frame is bounded by its length.
//
// ARP over Ethernet, 42 bytes (sent unpadded, as Linux hands them to the device)
// ┌─────┬────────┬─────────────────────────────────────────────────────────────┐
// │  +0 │ u8[6]  │ Ethernet destination                                        │
// │  +6 │ u8[6]  │ Ethernet source                                             │
// │ +12 │ u16    │ ethertype 0x0806                                            │
// │ +14 │ u16    │ hardware type (1 Ethernet; 6 IEEE 802 also accepted)        │
// │ +16 │ u16    │ protocol type 0x0800                                        │
// │ +18 │ u8     │ hardware address length 6                                   │
// │ +19 │ u8     │ protocol address length 4                                   │
// │ +20 │ u16    │ operation: 1 request, 2 reply                               │
// │ +22 │ u8[6]  │ sender hardware address (sha)                               │
// │ +28 │ u32    │ sender IP (sip)                                             │
// │ +32 │ u8[6]  │ target hardware address (tha)                               │
// │ +38 │ u32    │ target IP (tip)                                             │
// └─────┴────────┴─────────────────────────────────────────────────────────────┘
// Memory: none of its own.
import { isMulticast, isLoopback, isZeronet } from "../cache/addr";
import { portMac, isLocalAddr, addrFor } from "./ports";
import { txAlloc } from "./tx";
import { dropped, V_REPLIED, V_DELIVERED, D_ARP_INVALID, D_ARP_IGNORED, D_OTHERHOST, D_TX_FULL, D_NO_BUFS } from "./snmp";
import {
  neighReady, lookup, lookupOrCreate, createFailure, neighUpdate, stat, entryIfindex, entryIp, entryMac,
  entryQueueTail, entryUpdated, S_RCV_PROBES_MCAST, S_RCV_PROBES_UCAST, NUD_REACHABLE, NUD_STALE, UPD_OVERRIDE,
} from "./neigh";
import { locktimeMs } from "./neigh-admin";
import { be16, be32 } from "./bytes";
import { frameRead, frameWrite } from "./window";

export const ARP_FRAME_BYTES: u32 = 42;
const ARPOP_REQUEST: u32 = 1;
const ARPOP_REPLY: u32 = 2;
const PACKET_HOST: u32 = 0;
const PACKET_OTHERHOST: u32 = 3;

// @ts-ignore: decorator
@inline function sameMac(a: usize, b: usize): bool {
  return load<u32>(a) == load<u32>(b) && load<u16>(a, 4) == load<u16>(b, 4);
}
// @ts-ignore: decorator
@inline function isBroadcastMac(a: usize): bool {
  return load<u32>(a) == 0xffffffff && load<u16>(a, 4) == 0xffff;
}

/**
 * arp_create + arp_xmit: an ARP frame out of port oif. destHw 0 = broadcast; targetHw 0 = zeros.
 * False when the transmit list is full.
 */
function arpSend(op: u32, oif: u32, destIp: u32, srcIp: u32, destHw: usize, targetHw: usize): bool {
  const mac = portMac(oif);
  if (mac == 0) return false;
  const f = txAlloc(oif, ARP_FRAME_BYTES);
  if (f == 0) return false;
  frameWrite(f, ARP_FRAME_BYTES);
  if (destHw != 0) frameRead(destHw, 6);
  if (targetHw != 0) frameRead(targetHw, 6);
  if (destHw != 0) memory.copy(f, destHw, 6);
  else memory.fill(f, 0xff, 6);
  memory.copy(f + 6, mac, 6);
  store<u16>(f, 0x0608, 12); // 0x0806, big-endian
  store<u16>(f, 0x0100, 14); // ARPHRD_ETHER
  store<u16>(f, 0x0008, 16); // ETH_P_IP
  store<u8>(f, 6, 18);
  store<u8>(f, 4, 19);
  store<u16>(f, <u16>bswap<u16>(<u16>op), 20);
  memory.copy(f + 22, mac, 6);
  store<u32>(f, bswap<u32>(srcIp), 28);
  if (targetHw != 0) memory.copy(f + 32, targetHw, 6);
  else memory.fill(f + 32, 0, 6);
  store<u32>(f, bswap<u32>(destIp), 38);
  return true;
}

/**
 * arp_solicit for neighbour n: a request for its address from portMac(its port). The sender IP is the
 * newest held frame's source when that is one of ours (arp_announce 0), else addrFor(port, target).
 * Unicast to the known MAC while probes < ucastSolicit (NUD_PROBE), broadcast otherwise.
 */
export function arpSolicit(n: usize, ucastSolicit: u32): void {
  const oif = entryIfindex(n);
  const target = entryIp(n);
  let saddr: u32 = 0;
  const held = entryQueueTail(n);
  if (held != 0 && load<u32>(held, 4) >= 34) {
    const s = be32(held + 8 + 26);
    if (isLocalAddr(s)) saddr = s;
  }
  if (saddr == 0) saddr = addrFor(oif, target);
  const unicast = load<u32>(n, 36) < ucastSolicit;
  arpSend(ARPOP_REQUEST, oif, target, saddr, unicast ? entryMac(n) : 0, 0);
}

/** PACKET_HOST 0, PACKET_BROADCAST 1, PACKET_MULTICAST 2, PACKET_OTHERHOST 3, by destination MAC. */
function pktType(f: usize, mac: usize): u32 {
  frameRead(f, 6);
  if (sameMac(f, mac)) return PACKET_HOST;
  if (isBroadcastMac(f)) return 1;
  if ((load<u8>(f) & 1) != 0) return 2;
  return PACKET_OTHERHOST;
}

/** Why an ARP frame is not one we process (0 = it is): arp_rcv's and arp_process's header checks. */
function invalid(f: usize, len: u32): bool {
  if (len < ARP_FRAME_BYTES) return true;
  const hrd = be16(f + 14);
  if ((hrd != 1 && hrd != 6) || be16(f + 16) != 0x0800) return true;
  frameRead(f + 18, 2);
  if (load<u8>(f, 18) != 6 || load<u8>(f, 19) != 4) return true;
  const op = be16(f + 20);
  if (op != ARPOP_REQUEST && op != ARPOP_REPLY) return true;
  const sip = be32(f + 28);
  const tip = be32(f + 38);
  if (isMulticast(tip) || isLoopback(tip)) return true;
  return isMulticast(sip) || isLoopback(sip) || sip == 0xffffffff;
}

/**
 * One received ARP frame (f, len bytes) on port iif at time now (arp_rcv + arp_process): a request for
 * one of our addresses is answered from portMac(iif) and its sender learned (STALE); a reply, or a
 * request for someone else, updates an existing entry (REACHABLE for a reply sent to our MAC,
 * otherwise STALE if the MAC changed) and sends what it held. Gratuitous ARP creates nothing.
 */
export function arpInput(f: usize, len: u32, iif: u32, now: u32): u8 {
  const mac = portMac(iif);
  if (mac == 0 || invalid(f, len)) return dropped(D_ARP_INVALID);
  const pkt = pktType(f, mac);
  if (pkt == PACKET_OTHERHOST) return dropped(D_OTHERHOST);
  if (!neighReady(now)) return dropped(D_NO_BUFS);
  const op = be16(f + 20);
  const sha = f + 22;
  const sip = be32(f + 28);
  const tha = f + 32;
  const tip = be32(f + 38);
  frameRead(sha, 6); // learned by neighUpdate, and tha below
  frameRead(tha, 6);
  // RFC 2131 duplicate address detection: answered, nothing learned.
  if (sip == 0) {
    if (op == ARPOP_REQUEST && isLocalAddr(tip)) {
      return arpSend(ARPOP_REPLY, iif, 0, tip, sha, sha) ? V_REPLIED : dropped(D_TX_FULL);
    }
    return dropped(D_ARP_IGNORED);
  }
  // A request for one of our addresses (ip_route_input says RTN_LOCAL: the sender is no martian).
  if (op == ARPOP_REQUEST && isLocalAddr(tip) && !isLocalAddr(sip) && !isZeronet(sip)) {
    stat(pkt == PACKET_HOST ? S_RCV_PROBES_UCAST : S_RCV_PROBES_MCAST);
    const n = lookupOrCreate(iif, sip, now, true); // neigh_event_ns
    if (n == 0) return createFailure();
    neighUpdate(n, sha, NUD_STALE, UPD_OVERRIDE, now, true);
    return arpSend(ARPOP_REPLY, iif, sip, tip, sha, sha) ? V_REPLIED : dropped(D_TX_FULL);
  }
  // Anything else only updates an entry we already have (arp_accept 0).
  const n = lookup(iif, sip);
  if (n == 0) return dropped(D_ARP_IGNORED);
  const garp = sip == tip && (op == ARPOP_REQUEST || sameMac(tha, sha)) && !isLocalAddr(sip);
  const overrideMac = garp || <i32>(now - (entryUpdated(n) + locktimeMs)) > 0;
  const state = op == ARPOP_REPLY && pkt == PACKET_HOST ? NUD_REACHABLE : NUD_STALE;
  neighUpdate(n, sha, state, overrideMac ? UPD_OVERRIDE : 0, now, true);
  return V_DELIVERED;
}
