// forward.ts — the data plane's pipeline for one batch of frames received on one port: Ethernet and
// IPv4 checks (ipv4.ts; ip_rcv's order and counters), ARP (arp.ts), one batched route-cache input
// lookup for every IPv4 frame (cache/input.ts, §6), then per frame what ip_forward, ip_local_deliver
// and ip_error do: forward (TTL, DF/MTU with frag-needed, redirects, TTL − 1, offloaded checksums
// finished, fragmentation, neighbour), deliver locally (echo replies, UDP port unreachable, protocol
// unreachable, TCP reset), or drop with an ICMP error where RFC 1812 asks for one. Each frame gets a verdict byte
// (snmp.ts, docs/dataplane.md); frames to send go on the transmit list (tx.ts).
//
// Receive area (allocated once by rxInit; the host reads frames into it)
// ┌──────────────────┬──────────────────────────────────────────────────────────────────────────┐
// │ header (36 B)    │ +0 buf ptr, +4 lens ptr, +8 flags ptr, +12 verdicts ptr, +16 slots,       │
// │                  │ +20 slot bytes, +24 vnet ptr, +28 buf bytes, +32 offs ptr                 │
// │ buf              │ max(slots × slot bytes, 2 × GSO_FRAME_BYTES): frame i at buf + i·slot; a  │
// │                  │ batch from an offload port (PORT_OFFLOAD) is packed instead: frame i at   │
// │                  │ buf + offs[i], 64-byte aligned, the host reading while GSO_FRAME_BYTES    │
// │                  │ still fit (hundreds of small frames, or about 7 super-frames of 64 KiB)   │
// │ offs             │ u32[slots] packed frame offsets from buf (offload ports only)             │
// │ lens             │ i32[slots] frame lengths (what recv wrote)                                │
// │ flags            │ u8[slots] per-frame flags from the device (1 = checksum not ready)        │
// │ vnet             │ u8[slots × 12] per-frame virtio_net_hdr (gso.ts), read only for a batch   │
// │                  │ from an offload port: gso_type, gso_size, NEEDS_CSUM                       │
// │ verdicts         │ u8[slots] written by dpInput                                              │
// │ parse, keys, ans │ 16 B parse record, 20 B cache key, 24 B cache answer per slot; u32 frame  │
// │                  │ index per key                                                             │
// └──────────────────┴──────────────────────────────────────────────────────────────────────────┘
// Batch counts (16 B, static; rewritten by every dpInput, read by the host for the port's rx counters)
// ┌─────┬─────┬──────────────────────────────────────────────────────────────────────────────────┐
// │  +0 │ f64 │ bytes received: the sum of lens as the host wrote them (negatives as 0)           │
// │  +8 │ u32 │ frames to a multicast MAC, broadcast not included (the kernel's rx `multicast`)  │
// └─────┴─────┴──────────────────────────────────────────────────────────────────────────────────┘
import { alloc } from "../util/arena";
import { parseFrame, decrementTtl, sum16, PARSE_BYTES, V_IPV4, V_ARP, V_RUNT, V_OTHER, V_TRUNCATED } from "./ipv4";
import { inputBatch, isForwarding, KEY_BYTES, ANSWER_BYTES } from "../cache/input";
import { RTN_UNICAST, RTN_LOCAL, RTN_BROADCAST, RTN_UNREACHABLE, EXDEV, ENETUNREACH, EHOSTUNREACH, isMulticast } from "../cache/addr";
import { RTCF_DOREDIRECT } from "../cache/entry";
import { ENOBUFS } from "../cache/decision";
import { portMac, portMtu, portFlags, isLocalAddr, PORT_SEND_REDIRECTS, PORT_OFFLOAD, MAX_PORTS } from "./ports";
import { txReset, txFinish, txScratch, txVnetFor } from "./tx";
import { neighOutput, neighTick, neighValid } from "./neigh";
import { VNET_STRIDE, GSO_ECN, vnetGsoSize, vnetGsoForeign, tcpHeaderLength, vnetWriteTcp4, gsoSegment, gsoSegSlot, gsoSegments, GSO_ROOM } from "./gso";
import { arpInput } from "./arp";
import { fragmentInto, finishChecksum } from "./fragment";
import { icmpError, echoReply, tcpReset } from "./local-out";
import { errorAllowedFor } from "./peer";
import {
  mib, mibAdd, icmpIn, dropped, V_FORWARDED, V_REPLIED, V_DELIVERED,
  IP_IN_RECEIVES, IP_IN_HDR_ERRORS, IP_IN_ADDR_ERRORS, IP_FORW_DATAGRAMS, IP_IN_UNKNOWN_PROTOS, IP_IN_DELIVERS,
  IP_REASM_FAILS, IP_FRAG_OKS, IP_FRAG_FAILS, IP_FRAG_CREATES, IPX_IN_NO_ROUTES, IPX_IN_TRUNCATED, IPX_IN_BCAST_PKTS,
  IPX_IN_OCTETS, IPX_OUT_OCTETS, IPX_IN_BCAST_OCTETS, ICMP_IN_ERRORS, ICMP_IN_CSUM_ERRORS, UDP_IN_DATAGRAMS, UDP_NO_PORTS,
  TCPX_IP_RP_FILTER, IP_REASM_REQDS,
  D_RUNT, D_ETHERTYPE, D_OTHERHOST, D_IP_HEADER, D_IP_TRUNCATED, D_MARTIAN_SRC, D_MARTIAN_DST, D_NO_ROUTE, D_BLACKHOLE,
  D_PROHIBIT, D_TTL_EXPIRED, D_FRAG_NEEDED, D_NOT_FORWARDING, D_NO_BUFS, D_MULTICAST, D_LOCAL_PROTO, D_FRAGMENT, D_TX_FULL,
  D_GSO_BAD,
} from "./snmp";
import { be16, be32 } from "./bytes";
import { rxRegion, rxFrame, frameRead } from "./window";

export const CSUM_NOT_READY: u8 = 1;
const EACCES: i32 = 13;
const MAX_FRAGS: u32 = 256;
/** The room a packed read needs: one GSO super-frame, 14 + 65,535 bytes, rounded up to 64. */
export const GSO_FRAME_BYTES: u32 = 65600;
/** At most this many segments from one super-frame (64 KiB at an MSS of 256 bytes). */
const MAX_SEGS: u32 = 256;

let slots: u32 = 0;
let slotBytes: u32 = 0;
let area: usize = 0;
let buf: usize = 0;
let lens: usize = 0;
let flags: usize = 0;
let verdicts: usize = 0;
let vnet: usize = 0;
let offs: usize = 0;
let bufBytes: usize = 0;
let parse: usize = 0;
let keys: usize = 0;
let answers: usize = 0;
let keyFrame: usize = 0;
const fragLens: usize = memory.data(<i32>MAX_FRAGS * 4);
const segLens: usize = memory.data(<i32>MAX_SEGS * 4);
/** Frames dropped per input port (u32 per ifindex < MAX_PORTS). */
export const portDrops: usize = memory.data(<i32>MAX_PORTS * 4);
/** The last batch's counts (layout above). */
export const rxBatchCounts: usize = memory.data(16, 8);

/** Allocates the receive area (once); returns its header's address, 0 when memory is short. */
export function rxInit(n: u32, bytes: u32): usize {
  if (area != 0) return n <= slots && bytes <= slotBytes ? area : 0;
  if (n == 0 || bytes < 64 || bytes > 65536 + 64) return 0;
  const per: usize = 4 + 4 + 1 + 1 + VNET_STRIDE + PARSE_BYTES + KEY_BYTES + ANSWER_BYTES + 4;
  bufBytes = max<usize>(<usize>n * bytes, 2 * <usize>GSO_FRAME_BYTES);
  const p = alloc(36 + bufBytes + <usize>n * per + 64);
  if (p == 0) return 0;
  area = p;
  buf = (p + 36 + 63) & ~63;
  lens = buf + bufBytes;
  keys = lens + <usize>n * 4;
  answers = keys + <usize>n * KEY_BYTES;
  keyFrame = answers + <usize>n * ANSWER_BYTES;
  parse = keyFrame + <usize>n * 4;
  flags = parse + <usize>n * PARSE_BYTES;
  verdicts = flags + <usize>n;
  vnet = verdicts + <usize>n;
  offs = (vnet + <usize>n * VNET_STRIDE + 3) & ~3;
  slots = n;
  slotBytes = bytes;
  rxRegion(buf, buf + bufBytes);
  store<u32>(area, <u32>buf);
  store<u32>(area, <u32>lens, 4);
  store<u32>(area, <u32>flags, 8);
  store<u32>(area, <u32>verdicts, 12);
  store<u32>(area, n, 16);
  store<u32>(area, bytes, 20);
  store<u32>(area, <u32>vnet, 24);
  store<u32>(area, <u32>bufBytes, 28);
  store<u32>(area, <u32>offs, 32);
  return area;
}

/** Where frame i of the batch is: slot i, or for an offload port where offs[i] says (kept inside buf). */
// @ts-ignore: decorator
@inline function frameAt(packed: bool, i: u32): usize {
  if (!packed) return buf + <usize>i * slotBytes;
  return buf + min<usize>(<usize>load<u32>(offs + (<usize>i << 2)), bufBytes);
}

/** PACKET_HOST 0, PACKET_BROADCAST 1, PACKET_MULTICAST 2, PACKET_OTHERHOST 3 (by destination MAC). */
function pktType(f: usize, iif: u32): u32 {
  frameRead(f, 6);
  const mac = portMac(iif);
  if (mac != 0 && load<u32>(f) == load<u32>(mac) && load<u16>(f, 4) == load<u16>(mac, 4)) return 0;
  if (load<u32>(f) == 0xffffffff && load<u16>(f, 4) == 0xffff) return 1;
  if ((load<u8>(f) & 1) != 0) return 2;
  return 3;
}

/**
 * Processes n frames received on port iif (frame i in slot i, lengths and flags as the host wrote
 * them) at time now; fills n verdicts and the transmit list. Returns the number of transmit groups.
 */
export function dpInput(iif: u32, n0: u32, now: u32): u32 {
  txReset();
  const offload = (portFlags(iif) & PORT_OFFLOAD) != 0;
  const n = min<u32>(n0, slots);
  let k: u32 = 0;
  let bytes: u64 = 0;
  let multicast: u32 = 0;
  // Pass 1: wire checks, ARP, and the cache keys of the IPv4 frames (ip_rcv's order and counters).
  for (let i: u32 = 0; i < n; i++) {
    const f = frameAt(offload, i);
    const room = offload ? <i32>(bufBytes - (f - buf)) : <i32>slotBytes;
    const got = max<i32>(0, load<i32>(lens + (<usize>i << 2)));
    bytes += <u64>got;
    const len = <u32>min<i32>(got, room);
    store<i32>(lens + (<usize>i << 2), <i32>len); // pass 2 reads this same, clamped length
    const rec = parse + <usize>i * PARSE_BYTES;
    rxFrame(f, len);
    if (len >= 6) {
      frameRead(f, 6);
      if ((load<u8>(f) & 1) != 0 && !(load<u32>(f) == 0xffffffff && load<u16>(f, 4) == 0xffff)) multicast++; // the group bit
    }
    const v = parseFrame(f, len, rec);
    let verdict: u8 = V_DELIVERED;
    if (v == V_RUNT) verdict = dropped(D_RUNT);
    else if (v == V_OTHER) verdict = dropped(D_ETHERTYPE);
    else if (v == V_ARP) verdict = arpInput(f, len, iif, now);
    else if (pktType(f, iif) == 3) verdict = dropped(D_OTHERHOST);
    else {
      mib(IP_IN_RECEIVES);
      if (v == V_IPV4) {
        mibAdd(IPX_IN_OCTETS, <u32>load<u16>(rec, 4));
        const key = keys + <usize>k * KEY_BYTES;
        store<u32>(key, load<u32>(rec, 12)); // dst
        store<u32>(key, load<u32>(rec, 8), 4); // src
        store<u32>(key, iif, 8);
        store<u32>(key, 0, 12); // mark
        frameRead(f + 15, 1);
        store<u32>(key, <u32>load<u8>(f, 15), 16); // tos
        store<u32>(keyFrame + (<usize>k << 2), i);
        k++;
      } else if (v == V_TRUNCATED) {
        mib(IPX_IN_TRUNCATED);
        verdict = dropped(D_IP_TRUNCATED);
      } else {
        mib(IP_IN_HDR_ERRORS);
        verdict = dropped(D_IP_HEADER);
      }
    }
    store<u8>(verdicts + i, verdict);
  }
  // One batched lookup through the route cache for every IPv4 frame.
  inputBatch(keys, answers, k, now, false);
  // Pass 2: act on each decision.
  for (let j: u32 = 0; j < k; j++) {
    const i = load<u32>(keyFrame + (<usize>j << 2));
    const f = frameAt(offload, i);
    const len = <u32>load<i32>(lens + (<usize>i << 2));
    const rec = parse + <usize>i * PARSE_BYTES;
    const meta = offload ? vnet + <usize>i * VNET_STRIDE : 0;
    rxFrame(f, len);
    store<u8>(verdicts + i, decide(f, len, rec, answers + <usize>j * ANSWER_BYTES, iif, load<u8>(flags + i), meta, now));
  }
  rxFrame(0, 0);
  if (iif < MAX_PORTS) {
    let d: u32 = 0;
    for (let i: u32 = 0; i < n; i++) if (load<u8>(verdicts + i) >= 16) d++;
    store<u32>(portDrops + (<usize>iif << 2), load<u32>(portDrops + (<usize>iif << 2)) + d);
  }
  store<f64>(rxBatchCounts, <f64>bytes);
  store<u32>(rxBatchCounts, multicast, 8);
  return txFinish();
}

/** What happens to one valid IPv4 frame, given the cache's answer. */
function decide(f: usize, len: u32, rec: usize, a: usize, iif: u32, fl: u8, meta: usize, now: u32): u8 {
  const type = load<u8>(a);
  const err = -load<i32>(a, 4);
  if (type == 0) {
    if (err == EXDEV) {
      mib(TCPX_IP_RP_FILTER); // ip_rcv_finish: LINUX_MIB_IPRPFILTER
      return dropped(D_MARTIAN_SRC);
    }
    if (err == ENOBUFS) return dropped(D_NO_BUFS);
    if (isMulticast(load<u32>(rec, 12))) return dropped(D_MULTICAST);
    if (err == EHOSTUNREACH) return dropped(isForwarding(iif) ? D_MARTIAN_DST : D_NOT_FORWARDING);
    return dropped(D_MARTIAN_SRC);
  }
  if (type == RTN_UNICAST) return forward(f, len, rec, a, iif, fl, meta, now);
  if (type == RTN_LOCAL) return deliver(f, len, rec, now);
  if (type == RTN_BROADCAST) {
    mib(IPX_IN_BCAST_PKTS);
    mibAdd(IPX_IN_BCAST_OCTETS, <u32>load<u16>(rec, 4));
    return deliver(f, len, rec, now);
  }
  if (type == RTN_UNREACHABLE) return ipError(f, len, err, iif, now);
  return dropped(D_MARTIAN_DST);
}

/** ip_error (§2, "ICMP unreachable limiter"): counters, the error token bucket, the unreachable. */
function ipError(f: usize, len: u32, err: i32, iif: u32, now: u32): u8 {
  let code: u32 = 0;
  let reason = D_BLACKHOLE;
  if (err == EHOSTUNREACH) {
    mib(IP_IN_ADDR_ERRORS);
    code = 1;
    reason = D_NO_ROUTE;
  } else if (err == ENETUNREACH) {
    mib(IPX_IN_NO_ROUTES);
    code = 0;
    reason = D_NO_ROUTE;
  } else if (err == EACCES) {
    code = 13;
    reason = D_PROHIBIT;
  }
  if (reason != D_BLACKHOLE && isForwarding(iif) && errorAllowedFor(be32(f + 26), now)) {
    icmpError(f, len, 3, code, 0, now);
  }
  return dropped(reason);
}

/**
 * ip_forward → ip_forward_finish → ip_output / ip_fragment → the neighbour. meta: the frame's vnet
 * header when it came from an offload port (0 otherwise); a TCPv4 GSO super-frame is forwarded as one
 * datagram, as the kernel forwards one GSO skb: one ForwDatagrams, its whole length in OutOctets, TTL − 1
 * and the header checksum on the outer header, its partial TCP checksum untouched.
 */
function forward(f: usize, len: u32, rec: usize, a: usize, iif: u32, fl: u8, meta: usize, now: u32): u8 {
  if (pktType(f, iif) != 0) return dropped(D_OTHERHOST); // only frames sent to our MAC are forwarded
  const total = <u32>load<u16>(rec, 4);
  const size = 14 + total;
  const hl = <u32>load<u8>(rec, 1);
  let gso: u32 = 0;
  let thl: u32 = 0;
  if (meta != 0) {
    if (vnetGsoForeign(meta)) return dropped(D_GSO_BAD);
    gso = vnetGsoSize(meta);
    if (gso != 0) {
      thl = tcpHeaderLength(f, size, hl);
      if (thl == 0) return dropped(D_GSO_BAD);
    }
  }
  if (load<u8>(rec, 2) <= 1) {
    mib(IP_IN_HDR_ERRORS); // too_many_hops
    icmpError(f, size, 11, 0, 0, now);
    return dropped(D_TTL_EXPIRED);
  }
  const oif = load<u32>(a, 12);
  const gw = load<u32>(a, 8);
  const mtu = portMtu(oif);
  const df = (load<u16>(rec, 6) & 0x4000) != 0;
  // ip_exceeds_mtu: a GSO datagram fits when each of its segments does (skb_gso_validate_network_len).
  const fits = gso != 0 ? hl + thl + gso <= mtu || total <= mtu : total <= mtu;
  if (!fits && df) {
    mib(IP_FRAG_FAILS);
    icmpError(f, size, 3, 4, mtu, now);
    return dropped(D_FRAG_NEEDED);
  }
  decrementTtl(f);
  if ((load<u32>(a, 16) & RTCF_DOREDIRECT) != 0 && (portFlags(iif) & PORT_SEND_REDIRECTS) != 0) {
    icmpError(f, size, 5, 1, gw, now); // a host redirect to the better first hop (ip_rt_send_redirect)
  }
  mib(IP_FORW_DATAGRAMS);
  mibAdd(IPX_OUT_OCTETS, total);
  if (gso != 0) {
    // Whole to an offload TAP whose neighbour is known (a held frame would lose its vnet header), its
    // TCP checksum partial as TSO leaves it; anywhere else, or with a checksum not marked partial, cut
    // into segments here with full checksums (validate_xmit_skb → skb_gso_segment).
    const partial = (fl & CSUM_NOT_READY) != 0;
    if (fits && partial && (portFlags(oif) & PORT_OFFLOAD) != 0 && neighValid(oif, gw)) {
      vnetWriteTcp4(txVnetFor(f), hl, thl, gso, (load<u8>(meta, 1) & GSO_ECN) != 0);
      return neighOutput(oif, gw, f, size, now);
    }
    return segmentOut(f, size, hl, thl, gso, mtu, oif, gw, now);
  }
  if ((fl & CSUM_NOT_READY) != 0) finishChecksum(f, size);
  if (total <= mtu) return neighOutput(oif, gw, f, size, now);
  return fragmentOut(f, size, total, mtu, oif, gw, now);
}

/** Software GSO: the super-frame's segments each go out (or, DF clear and still too big, fragmented). */
function segmentOut(f: usize, size: u32, hl: u32, thl: u32, gso: u32, mtu: u32, oif: u32, gw: u32, now: u32): u8 {
  const segSlot = gsoSegSlot(hl, thl, gso);
  const want = min<u32>(MAX_SEGS, gsoSegments(size, hl, thl, gso));
  const out = txScratch(want * segSlot);
  if (out == 0) return dropped(D_TX_FULL);
  const ns = gsoSegment(f, size, gso, out, segLens, want);
  if (ns <= 0) return dropped(ns == GSO_ROOM ? D_TX_FULL : D_GSO_BAD);
  let verdict: u8 = V_FORWARDED;
  for (let i: u32 = 0; i < <u32>ns; i++) {
    const seg = out + <usize>i * segSlot;
    const segSize = <u32>load<i32>(segLens + (<usize>i << 2));
    const v = segSize - 14 <= mtu ? neighOutput(oif, gw, seg, segSize, now) : fragmentOut(seg, segSize, segSize - 14, mtu, oif, gw, now);
    if (v != V_FORWARDED) verdict = v;
  }
  return verdict;
}

/** ip_fragment: DF is clear and the datagram is larger than the egress MTU. */
function fragmentOut(f: usize, size: u32, total: u32, mtu: u32, oif: u32, gw: u32, now: u32): u8 {
  const slot = (mtu + 14 + 7) & ~7;
  const per = max<u32>(8, (mtu - 20) & ~7);
  const want = min<u32>(MAX_FRAGS, (total + per - 1) / per + 1);
  const out = txScratch(want * slot);
  if (out == 0) {
    mib(IP_FRAG_FAILS);
    return dropped(D_TX_FULL);
  }
  const nf = fragmentInto(f, size, mtu, out, slot, fragLens, want);
  if (nf <= 0) {
    mib(IP_FRAG_FAILS);
    return dropped(D_FRAG_NEEDED);
  }
  mib(IP_FRAG_OKS);
  mibAdd(IP_FRAG_CREATES, <u32>nf);
  let verdict: u8 = V_FORWARDED;
  for (let i: u32 = 0; i < <u32>nf; i++) {
    const v = neighOutput(oif, gw, out + <usize>i * slot, <u32>load<i32>(fragLens + (<usize>i << 2)), now);
    if (v != V_FORWARDED) verdict = v;
  }
  return verdict;
}

/** ip_local_deliver: no reassembly; ICMP echo, UDP (no sockets: port unreachable), other protocols. */
function deliver(f: usize, len: u32, rec: usize, now: u32): u8 {
  const size = 14 + <u32>load<u16>(rec, 4);
  const frag = <u32>load<u16>(rec, 6);
  if ((frag & 0x3fff) != 0) {
    mib(IP_REASM_REQDS);
    mib(IP_REASM_FAILS);
    return dropped(D_FRAGMENT);
  }
  const hl = <u32>load<u8>(rec, 1);
  const proto = load<u8>(rec, 3);
  const l4 = f + 14 + hl;
  const l4len = size - 14 - hl;
  if (proto == 1) {
    mib(IP_IN_DELIVERS);
    if (l4len < 8) {
      mib(ICMP_IN_ERRORS);
      return dropped(D_IP_HEADER);
    }
    frameRead(l4, 1);
    icmpIn(<u32>load<u8>(l4));
    if (sum16(l4, l4len) != 0xffff) {
      mib(ICMP_IN_CSUM_ERRORS);
      mib(ICMP_IN_ERRORS);
      return dropped(D_IP_HEADER);
    }
    // Echo requests to our own address get a reply; to a broadcast they are ignored
    // (icmp_echo_ignore_broadcasts = 1).
    if (load<u8>(l4) == 8 && isLocalAddr(load<u32>(rec, 12)) && echoReply(f, size, now)) return V_REPLIED;
    return V_DELIVERED;
  }
  if (proto == 17) {
    mib(IP_IN_DELIVERS);
    mib(UDP_IN_DATAGRAMS);
    mib(UDP_NO_PORTS); // no sockets here: every datagram finds a closed port
    return icmpError(f, size, 3, 3, 0, now) ? V_REPLIED : V_DELIVERED;
  }
  if (proto == 6) {
    mib(IP_IN_DELIVERS);
    // No listener on any port: a segment to one of our addresses is answered with a reset, as a Linux
    // host does; to a broadcast, or a reset itself, nothing.
    if (isLocalAddr(load<u32>(rec, 12)) && tcpReset(f, size, hl, now)) return V_REPLIED;
    return dropped(D_LOCAL_PROTO);
  }
  mib(IP_IN_UNKNOWN_PROTOS);
  icmpError(f, size, 3, 2, 0, now);
  return dropped(D_LOCAL_PROTO);
}

/** Timers: neighbour retries and expiry. Returns the number of transmit groups. */
export function dpTick(now: u32): u32 {
  txReset();
  neighTick(now);
  return txFinish();
}

/** The verdict of frame i of the last batch (tests). */
export function verdictOf(i: u32): u8 {
  return i < slots ? load<u8>(verdicts + i) : 255;
}
