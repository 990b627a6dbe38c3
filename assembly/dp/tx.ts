// tx.ts — the transmit list of one data-plane call (dp_input or dp_tick): the frames to send, each
// with its output port, grouped by port when the call ends so the host makes one send per port.
// A frame is listed in place (a forwarded frame in the receive area, or one built elsewhere that stays
// valid until the host has sent) or copied into the transmit arena, which every call starts empty.
//
// Memory
// ┌─────────────┬───────────────────────────────────────────────────────────────────────────────┐
// │ arena       │ TX arena bytes, bump-allocated, 8-byte aligned                                 │
// │ list        │ TX_MAX × (u32 oif, u32 address, i32 length, u8[12] vnet header), in the order  │
// │             │ frames were listed                                                             │
// │ result      │ header the host reads (docs/dataplane.md): +0 groups, +4 frames,               │
// │             │ +8 offsets ptr, +12 lens ptr, +16 (oif, first, count) × groups                 │
// │ offsets     │ u32[TX_MAX] frame addresses, grouped by port                                    │
// │ lens        │ i32[TX_MAX] frame lengths, grouped by port                                      │
// │ vnets       │ u8[TX_MAX × 12] each frame's virtio_net_hdr (gso.ts), grouped by port: what an │
// │             │ offload TAP writes before the frame; all zero for an ordinary frame             │
// └─────────────┴───────────────────────────────────────────────────────────────────────────────┘
// A frame leaves with a non-zero vnet header only when the caller named it with txVnetFor just before
// listing it (a forwarded GSO super-frame or partial checksum for an offload TAP).
import { alloc } from "../util/arena";
import { MAX_PORTS } from "./ports";
import { txRegion, txEmpty, txBlock } from "./window";
import { VNET_STRIDE } from "./gso";

const ENTRY: usize = 24;

export let txMax: u32 = 0;
let arena: usize = 0;
let arenaBytes: u32 = 0;
let used: u32 = 0;
let list: usize = 0;
let n: u32 = 0;
export let txResult: usize = 0;
let offsets: usize = 0;
let lens: usize = 0;
let vnets: usize = 0;
let vnetFrame: usize = 0;
const vnetPending: usize = memory.data(<i32>VNET_STRIDE);
const perPort: usize = memory.data(<i32>MAX_PORTS * 4);

/** Reserves room for maxFrames listed frames and an arena of arenaBytes; -12 when memory is short. */
export function txInit(maxFrames: u32, bytes: u32): i32 {
  if (txMax != 0) return txMax >= maxFrames && arenaBytes >= bytes ? 0 : -17;
  arena = alloc(bytes);
  list = alloc(<usize>maxFrames * ENTRY);
  txResult = alloc(16 + <usize>MAX_PORTS * 12);
  offsets = alloc(<usize>maxFrames * 4);
  lens = alloc(<usize>maxFrames * 4);
  vnets = alloc(<usize>maxFrames * VNET_STRIDE);
  if (arena == 0 || list == 0 || txResult == 0 || offsets == 0 || lens == 0 || vnets == 0 || !txRegion(arena, bytes)) return -12;
  txMax = maxFrames;
  arenaBytes = bytes;
  return 0;
}

export function txReset(): void {
  txEmpty();
  used = 0;
  n = 0;
  vnetFrame = 0;
}

/** The grouped vnet headers of the last txFinish (u8[12] per frame, same order as offsets). */
export function txVnets(): usize {
  return vnets;
}

/**
 * The vnet header (12 bytes, gso.ts) the frame at address frame leaves with, if it is listed next;
 * returns where to write it. Any other frame listed meanwhile gets zeros.
 */
export function txVnetFor(frame: usize): usize {
  vnetFrame = frame;
  return vnetPending;
}

/** Frames listed so far in this call. */
export function txCount(): u32 {
  return n;
}

/** Lists a frame that stays where it is; false when the list is full. */
export function txRef(oif: u32, frame: usize, len: u32): bool {
  if (n >= txMax || oif == 0 || oif >= MAX_PORTS) return false;
  const d = list + <usize>n * ENTRY;
  store<u32>(d, oif);
  store<u32>(d, <u32>frame, 4);
  store<u32>(d, len, 8);
  if (frame == vnetFrame && frame != 0) {
    memory.copy(d + 12, vnetPending, VNET_STRIDE);
    vnetFrame = 0;
  } else {
    memory.fill(d + 12, 0, VNET_STRIDE);
  }
  n++;
  return true;
}

/** Space for a len-byte frame in the arena, listed for oif; 0 when the arena or list is full. */
export function txAlloc(oif: u32, len: u32): usize {
  const need = (len + 7) & ~7;
  if (used + need > arenaBytes || n >= txMax || oif == 0 || oif >= MAX_PORTS) return 0;
  const p = arena + used;
  used += need;
  txBlock(p, need);
  txRef(oif, p, len);
  return p;
}

/** Scratch space in the arena that is not listed (a frame still being decided about); 0 when full. */
export function txScratch(len: u32): usize {
  const need = (len + 7) & ~7;
  if (used + need > arenaBytes) return 0;
  const p = arena + used;
  used += need;
  txBlock(p, need);
  return p;
}

/** Groups the list by output port into the result the host reads; returns the number of groups. */
export function txFinish(): u32 {
  memory.fill(perPort, 0, <usize>MAX_PORTS * 4);
  for (let i: u32 = 0; i < n; i++) {
    const p = perPort + (<usize>load<u32>(list + <usize>i * ENTRY) << 2);
    store<u32>(p, load<u32>(p) + 1);
  }
  let groups: u32 = 0;
  let at: u32 = 0;
  for (let oif: u32 = 1; oif < MAX_PORTS; oif++) {
    const c = load<u32>(perPort + (<usize>oif << 2));
    if (c == 0) continue;
    const g = txResult + 16 + <usize>groups * 12;
    store<u32>(g, oif);
    store<u32>(g, at, 4);
    store<u32>(g, c, 8);
    store<u32>(perPort + (<usize>oif << 2), at); // now: where the next frame of oif goes
    at += c;
    groups++;
  }
  for (let i: u32 = 0; i < n; i++) {
    const d = list + <usize>i * ENTRY;
    const p = perPort + (<usize>load<u32>(d) << 2);
    const slot = load<u32>(p);
    store<u32>(p, slot + 1);
    store<u32>(offsets + (<usize>slot << 2), load<u32>(d, 4));
    store<u32>(lens + (<usize>slot << 2), load<u32>(d, 8));
    memory.copy(vnets + <usize>slot * VNET_STRIDE, d + 12, VNET_STRIDE);
  }
  store<u32>(txResult, groups);
  store<u32>(txResult, n, 4);
  store<u32>(txResult, <u32>offsets, 8);
  store<u32>(txResult, <u32>lens, 12);
  return groups;
}
