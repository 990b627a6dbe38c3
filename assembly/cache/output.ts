// output.ts — output route resolution with the cache (__ip_route_output_key / ip_route_output_slow,
// §6.7): routes for traffic the router itself sends (its ICMP errors and echo replies, later its own
// sessions). The key is (dst, src, oif, tos & 0x1d, mark) with route_iif 0; a 0 src or oif means
// "unspecified" and stays 0 in the key. Output failures are never cached. Counters: out_hit and
// out_hlist_search on the fast path (table.ts), out_slow_tot and out_slow_mc here (§5.2).
//
// Key, 20 bytes: dst, src, oif, mark, tos. Answer, 24 bytes: see decision.ts. An output lookup holds
// a reference on the entry, as dst_use does (the caller gives it back with release when takeRef).
import { LOOPBACK, RTN_UNICAST, RTN_LOCAL, RTN_BROADCAST, RTN_MULTICAST, EINVAL, ENODEV, ENETUNREACH, isLoopback, isMulticast, isZeronet } from "./addr";
import { routeOne } from "../fib/rules";
import { nexthops, NEXTHOP_BYTES, resultType } from "../fib/nexthop";
import { lookupOutput, release } from "./table";
import { answer, drop, decide, addFlags, setDecision, finish } from "./decision";
import { RTCF_BROADCAST, RTCF_LOCAL, RTCF_MULTICAST } from "./entry";
import { bump, C_OUT_SLOW_TOT, C_OUT_SLOW_MC } from "./state";
import { isInterfaceUp } from "./input";

const fibOut: usize = memory.data(16);


/** True when src is one of the router's own addresses (a LOCAL route in the policy lookup). */
function isLocalAddress(src: u32): bool {
  return routeOne(src, 0, LOOPBACK, 0, 0, fibOut) == 0 && resultType(load<u32>(fibOut)) == RTN_LOCAL;
}

export function outputOne(dst0: u32, src0: u32, oif: u32, mark: u32, tos0: u32, now: u32, takeRef: bool, out: usize): void {
  const tos = tos0 & 0x1d; // IPTOS_RT_MASK | RTO_ONLINK (§1.3)
  const hit = lookupOutput(dst0, src0, oif, tos, mark, now);
  if (hit != 0) {
    const er = load<i32>(hit, 44);
    answer(out, load<u8>(hit, 21), true, er != 0 ? -er : 0, load<u32>(hit, 36), load<u32>(hit, 40), load<u32>(hit, 24) & 0xffff0000, takeRef ? hit : 0);
    if (!takeRef) release(hit);
    return;
  }
  // Slow path validation (§6.7 step 2).
  if (src0 != 0) {
    if (isMulticast(src0) || src0 == 0xffffffff || isZeronet(src0)) return drop(out, EINVAL);
    if (!isLocalAddress(src0)) return drop(out, EINVAL);
  }
  if (oif != 0 && !isInterfaceUp(oif)) return drop(out, ENODEV);
  decide();
  let dst = dst0;
  let src = src0;
  if (dst == 0) {
    // No destination: local, through loopback; with no source either, both become 127.0.0.1 (step 3).
    dst = src != 0 ? src : 0x7f000001;
    if (src == 0) src = 0x7f000001;
    addFlags(RTCF_LOCAL);
    setDecision(RTN_LOCAL, dst, LOOPBACK, 0);
    bump(C_OUT_SLOW_TOT);
    return finish(out, dst0, src0, 0, oif, tos, mark, now, takeRef);
  }
  // Limited broadcast and multicast go out of the requested device (§6.7 step 6.1).
  if (dst == 0xffffffff || isMulticast(dst)) {
    if (oif == 0) return drop(out, EINVAL);
    addFlags(dst == 0xffffffff ? RTCF_BROADCAST | RTCF_LOCAL : RTCF_MULTICAST);
    setDecision(dst == 0xffffffff ? RTN_BROADCAST : RTN_MULTICAST, dst, oif, 0);
    bump(C_OUT_SLOW_TOT);
    if (oif != LOOPBACK && dst == 0xffffffff) bump(C_OUT_SLOW_MC); // local broadcast not on loopback: ip_mc_output
    return finish(out, dst0, src0, 0, oif, tos, mark, now, takeRef);
  }
  if (isZeronet(dst)) return drop(out, EINVAL);
  const err = routeOne(dst, src, LOOPBACK, mark, tos & 0x1c, fibOut); // locally generated: iif lo for ip rules
  let type: u8 = RTN_UNICAST;
  let outIf: u32 = oif;
  let gw: u32 = 0;
  if (err != 0) {
    // No route: with an oif, assume it is on-link there; without, ENETUNREACH, not cached (step 4).
    if (oif == 0) return drop(out, ENETUNREACH);
  } else {
    type = resultType(load<u32>(fibOut));
    if (type == RTN_LOCAL) outIf = LOOPBACK;
    else if (type == RTN_BROADCAST) return drop(out, EINVAL); // subnet broadcast output: not modelled yet
    else {
      const nh = nexthops + <usize>load<u32>(fibOut, 8) * NEXTHOP_BYTES;
      if (oif != 0 && load<u32>(nh, 4) != oif) return drop(out, ENETUNREACH); // the route leaves by another device
      outIf = load<u32>(nh, 4);
      gw = load<u32>(nh);
    }
  }
  if (isLoopback(src) && outIf != LOOPBACK) return drop(out, EINVAL);
  if (type == RTN_LOCAL) addFlags(RTCF_LOCAL);
  setDecision(type, gw != 0 ? gw : dst, outIf, 0);
  bump(C_OUT_SLOW_TOT);
  finish(out, dst0, src0, 0, oif, tos, mark, now, takeRef);
}

export function outputBatch(keys: usize, out: usize, n: u32, now: u32, takeRef: bool): void {
  for (let i: u32 = 0; i < n; i++) {
    const k = keys + <usize>i * 20;
    outputOne(load<u32>(k), load<u32>(k, 4), load<u32>(k, 8), load<u32>(k, 12), load<u32>(k, 16), now, takeRef, out + <usize>i * 24);
  }
}

