// window.ts — the checked build's frame windows (issue #7): a read or write of a received frame stays
// inside that frame's length, and a write (or read) in the transmit arena stays inside the one block or
// fragment slot it was handed. Compiled in only when asc is given `--use WASMROUTE_CHECKED=1` (the
// "checked" target of asconfig.json); in the release and debug builds FRAME_CHECKS is false and every
// function here is an empty inline, so their code is unchanged and pays nothing.
//
// The receive side is one current window, set by dp_input for the frame it is working on. The transmit
// side cannot be one window: a frame being built (an ICMP error) is still written after a second block
// was taken for an ARP request (neighOutput → release/solicit), so each block and fragment slot marks its
// first granule in a bitmap and an access must not cross a mark.
//
// State (checked build only; module globals plus one block from the arena)
// ┌────────────────────┬────────────────────────────────────────────────────────────────────────┐
// │ rxLo .. rxHi       │ the receive buffer, all slots (rxInit)                                  │
// │ rxBase, rxLen      │ the received frame being processed: an access that touches the buffer   │
// │                    │ must lie in [rxBase, rxBase + rxLen); rxLen = 0 between frames          │
// │ txLo .. txHi       │ the transmit arena (txInit)                                             │
// │ txEnd              │ end of the last block handed out since txReset: nothing beyond is valid │
// │ txStarts           │ bit g set = a block or slot starts at txLo + 8·g (u8[arena / 64])        │
// └────────────────────┴────────────────────────────────────────────────────────────────────────┘
// A violation calls the host's wasmroute.frame_fault(kind, address, size, window start, window end)
// (kind: bit 0 write, bit 1 transmit side), which throws with the function's name from the stack.
import { alloc } from "../util/arena";

// @ts-ignore: decorator, compile-time constant
@inline export const FRAME_CHECKS: bool = isDefined(WASMROUTE_CHECKED);

// @ts-ignore: decorator
@external("wasmroute", "frame_fault")
declare function frameFault(kind: u32, p: usize, n: usize, lo: usize, hi: usize): void;

let rxLo: usize = 0;
let rxHi: usize = 0;
let rxBase: usize = 0;
let rxLen: usize = 0;
let txLo: usize = 0;
let txHi: usize = 0;
let txEnd: usize = 0;
let txStarts: usize = 0;

/** The receive buffer [lo, hi): every frame slot. */
// @ts-ignore: decorator
@inline export function rxRegion(lo: usize, hi: usize): void {
  if (FRAME_CHECKS) {
    rxLo = lo;
    rxHi = hi;
  }
}

/** The received frame now being worked on (len 0: none). */
// @ts-ignore: decorator
@inline export function rxFrame(base: usize, len: usize): void {
  if (FRAME_CHECKS) {
    rxBase = base;
    rxLen = len;
  }
}

/** The transmit arena [lo, lo + bytes); false when the bitmap cannot be allocated. */
// @ts-ignore: decorator
@inline export function txRegion(lo: usize, bytes: usize): bool {
  if (FRAME_CHECKS) {
    txStarts = alloc((bytes >> 6) + 1);
    if (txStarts == 0) return false;
    memory.fill(txStarts, 0, (bytes >> 6) + 1);
    txLo = lo;
    txHi = lo + bytes;
    txEnd = lo;
  }
  return true;
}

/** The arena starts empty again (txReset). */
// @ts-ignore: decorator
@inline export function txEmpty(): void {
  if (FRAME_CHECKS) {
    if (txStarts != 0) memory.fill(txStarts, 0, ((txEnd - txLo) >> 6) + 1);
    txEnd = txLo;
  }
}

/** A block or fragment slot of n bytes at p (8-byte aligned) was handed out of the arena. */
// @ts-ignore: decorator
@inline export function txBlock(p: usize, n: usize): void {
  if (FRAME_CHECKS) markBlock(p, n);
}

/** Asserts that n bytes at p may be read as frame bytes. */
// @ts-ignore: decorator
@inline export function frameRead(p: usize, n: usize): void {
  if (FRAME_CHECKS) check(p, n, 0);
}

/** Asserts that n bytes at p may be written as frame bytes. */
// @ts-ignore: decorator
@inline export function frameWrite(p: usize, n: usize): void {
  if (FRAME_CHECKS) check(p, n, 1);
}

function markBlock(p: usize, n: usize): void {
  if (p < txLo || p + n > txHi || txStarts == 0) return; // not in the arena (an ABI caller's buffer)
  const g = (p - txLo) >> 3;
  store<u8>(txStarts + (g >> 3), <u8>(<u32>load<u8>(txStarts + (g >> 3)) | (<u32>1 << <u32>(g & 7))));
  if (p + n > txEnd) txEnd = p + n;
}

function fault(kind: u32, p: usize, n: usize, lo: usize, hi: usize): void {
  frameFault(kind, p, n, lo, hi);
  unreachable(); // the host's handler throws; without one, still a trap
}

function check(p: usize, n: usize, write: u32): void {
  if (n == 0) return;
  const end = p + n;
  if (end > rxLo && p < rxHi) {
    if (p < rxBase || end > rxBase + rxLen) fault(write, p, n, rxBase, rxBase + rxLen);
    return;
  }
  if (end > txLo && p < txHi) {
    if (p < txLo || end > txEnd) fault(write | 2, p, n, txLo, txEnd);
    const last = (end - 1 - txLo) >> 3;
    for (let g = ((p - txLo) >> 3) + 1; g <= last; g++) {
      if ((<u32>load<u8>(txStarts + (g >> 3)) & (1 << <u32>(g & 7))) != 0) fault(write | 2, p, n, txLo + (g << 3), txLo + (g << 3));
    }
  }
}
