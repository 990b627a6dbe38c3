// neigh-queue.ts — the frames a neighbour entry holds while its MAC is unknown (the kernel's arp_queue,
// bounded by unres_qlen_bytes, oldest pushed out first), and the list of frames whose neighbour failed:
// they wait there for their ICMP host unreachable (arp_error_report), sent by the next neighTick. The
// entry itself and its state machine live in neigh.ts; this file touches only the entry's queue words.
//
// Queue words of a neighbour entry (the whole entry is drawn in neigh.ts)
// ┌─────┬─────┬──────────────────────────────────────┐
// │ +48 │ u32 │ hold queue head (held frame)         │
// │ +52 │ u32 │ hold queue tail                      │
// │ +56 │ u32 │ hold queue bytes (frame lengths)     │
// │ +60 │ u32 │ hold queue frames                    │
// └─────┴─────┴──────────────────────────────────────┘
// Held frame, 8 + len bytes (arena): +0 u32 next, +4 u32 len, +8 the Ethernet frame. The failed list
// links the same blocks through +0.
import { alloc, free } from "../util/arena";
import { wakeSoon } from "../util/wake";
import { parm, F_QUEUE_BYTES } from "./neigh-parms";
import { frameRead } from "./window";
import { dropped, D_NEIGH_FAILED, D_QUEUE_OVERFLOW } from "./snmp";
import { icmpError } from "./local-out";
import { entryIfindex, stat, S_UNRES_DISCARDS } from "./neigh";

let failedHead: usize = 0; // frames whose neighbour failed, waiting for their ICMP error (next tick)
let failedTail: usize = 0;

/** Appends frame (len bytes) to n's hold queue, pushing out the oldest frames beyond unres_qlen_bytes. */
export function enqueue(n: usize, frame: usize, len: u32): bool {
  const queueBytesMax = parm(entryIfindex(n), F_QUEUE_BYTES);
  while (load<u32>(n, 56) + len > queueBytesMax) {
    const h = <usize>load<u32>(n, 48);
    if (h == 0) break;
    unlinkHead(n);
    stat(S_UNRES_DISCARDS);
    dropped(D_QUEUE_OVERFLOW);
    free(h, 8 + <usize>load<u32>(h, 4));
  }
  const b = alloc(8 + <usize>len);
  if (b == 0) return false;
  frameRead(frame, len);
  store<u32>(b, 0);
  store<u32>(b, len, 4);
  memory.copy(b + 8, frame, len);
  const t = <usize>load<u32>(n, 52);
  if (t != 0) store<u32>(t, <u32>b);
  else store<u32>(n, <u32>b, 48);
  store<u32>(n, <u32>b, 52);
  store<u32>(n, load<u32>(n, 56) + len, 56);
  store<u32>(n, load<u32>(n, 60) + 1, 60);
  return true;
}

/** Takes the oldest held frame off n's queue (the caller frees or re-links it). */
export function unlinkHead(n: usize): usize {
  const h = <usize>load<u32>(n, 48);
  if (h == 0) return 0;
  const next = <usize>load<u32>(h);
  store<u32>(n, <u32>next, 48);
  if (next == 0) store<u32>(n, 0, 52);
  store<u32>(n, load<u32>(n, 56) - load<u32>(h, 4), 56);
  store<u32>(n, load<u32>(n, 60) - 1, 60);
  return h;
}

/** Drops every held frame of n without an error report (neigh_destroy's purge). */
export function dropHeld(n: usize): void {
  let h = unlinkHead(n);
  while (h != 0) {
    dropped(D_NEIGH_FAILED);
    free(h, 8 + <usize>load<u32>(h, 4));
    h = unlinkHead(n);
  }
}

/** Moves every held frame of n, counted as dropped, to the failed list for its ICMP error (neigh_invalidate). */
export function failHeld(n: usize): void {
  let h = unlinkHead(n);
  while (h != 0) {
    dropped(D_NEIGH_FAILED);
    store<u32>(h, 0);
    if (failedTail != 0) store<u32>(failedTail, <u32>h);
    else failedHead = h;
    failedTail = h;
    h = unlinkHead(n);
  }
  if (failedHead != 0) wakeSoon(); // reportFailed runs in the next tick
}

/** Frames wait on the failed list for the next tick's reportFailed. */
export function failedPending(): bool {
  return failedHead != 0;
}

/** Sends the ICMP errors of the frames whose neighbour failed (the list is detached first). */
export function reportFailed(now: u32): void {
  while (failedHead != 0) {
    let h = failedHead;
    failedHead = 0;
    failedTail = 0;
    while (h != 0) {
      const next = <usize>load<u32>(h);
      const len = load<u32>(h, 4);
      icmpError(h + 8, len, 3, 1, 0, now);
      free(h, 8 + <usize>len);
      h = next;
    }
  }
}
