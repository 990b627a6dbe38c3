// decision.ts — what a slow path (input or output) decided, and turning it into a cached entry and
// an answer: dst_alloc (GC first), fill, rt_intern_hash, and the 24-byte answer record. When the GC
// gives up at max_size: the kernel drops with ENOBUFS; wasmroute's forward mode answers uncached.
//
// Answer, 24 bytes: +0 u8 type (RTN_*; 0 = dropped)  +1 u8 cached  +4 i32 errno (0 = go on)
//   +8 u32 gateway  +12 u32 output ifindex  +16 u32 RTCF flags  +20 u32 entry (when a reference was taken)
import { intern, release } from "./table";
import { allocEntry } from "./gc";
import { event, E_UNCACHED, overflowForward } from "./state";

export const ENOBUFS: i32 = 105;

// The decision the slow path makes, before it becomes an entry.
let dType: u8 = 0;
let dFlags: u32 = 0;
let dGateway: u32 = 0;
let dOif: u32 = 0;
let dError: i32 = 0;

export function answer(out: usize, type: u8, cached: bool, err: i32, gateway: u32, oif: u32, flags: u32, entry: usize): void {
  store<u8>(out, type);
  store<u8>(out, cached ? 1 : 0, 1);
  store<u16>(out, 0, 2);
  store<i32>(out, err, 4);
  store<u32>(out, gateway, 8);
  store<u32>(out, oif, 12);
  store<u32>(out, flags, 16);
  store<u32>(out, <u32>entry, 20);
}

export function drop(out: usize, err: i32): void {
  answer(out, 0, false, -err, 0, 0, 0, 0);
}

/** Starts a decision: no flags, no error. */
export function decide(): void {
  dType = 0;
  dFlags = 0;
  dGateway = 0;
  dOif = 0;
  dError = 0;
}

export function addFlags(f: u32): void {
  dFlags |= f;
}

/** Sets what the entry will say (flags added so far are kept). */
export function setDecision(type: u8, gateway: u32, oif: u32, error: i32): void {
  dType = type;
  dGateway = gateway;
  dOif = oif;
  dError = error;
}

/**
 * Allocates, fills and interns the decided entry under the key (dst, src, iif, oifKey, tos, mark), then
 * answers (an output route's key has iif 0). takeRef: the answer keeps a reference.
 */
export function finish(out: usize, dst: u32, src: u32, iif: u32, oifKey: u32, tos: u32, mark: u32, now: u32, takeRef: bool): void {
  const e = allocEntry(now);
  const err = dError != 0 ? -dError : 0;
  if (e == 0) {
    if (!overflowForward) {
      drop(out, ENOBUFS); // the kernel: no entry, no packet (§3.2 step 8)
      return;
    }
    event(E_UNCACHED); // wasmroute: the decision still holds, it is just not cached
    answer(out, dType, false, err, dGateway, dOif, dFlags, 0);
    return;
  }
  store<u32>(e, dst, 4);
  store<u32>(e, src, 8);
  store<u32>(e, iif, 12);
  store<u32>(e, mark, 16);
  store<u8>(e, <u8>tos, 20);
  store<u8>(e, dType, 21);
  store<u32>(e, dFlags, 24);
  store<u32>(e, oifKey, 32);
  store<u32>(e, dGateway, 36);
  store<u32>(e, dOif, 40);
  store<i32>(e, dError, 44);
  store<u32>(e, 1, 48); // the creating path's reference
  store<u32>(e, 1, 52);
  store<u32>(e, now, 56);
  const used = intern(e, now);
  const cached = (load<u32>(used, 24) & 2) != 0; // F_HASHED
  answer(out, load<u8>(used, 21), cached, err, load<u32>(used, 36), load<u32>(used, 40), load<u32>(used, 24) & 0xffff0000, takeRef ? used : 0);
  if (!takeRef) release(used); // the noref receive path (§6.1): the packet keeps no reference
}

