// entry.ts — route cache entries (struct rtable + dst_entry, 64 bytes instead of the kernel's ~256)
// and the slab they come from: chunks of 1024 entries carved from the arena, recycled through a free
// list. "allocated" counts every entry not yet freed — hashed, unhashed-but-referenced (garbage list),
// uncached — which is what GC and max_size test (§7.4); "hashed" counts what the table holds.
// Every entry is one 64-byte cache line: a chunk is aligned to 64 inside its arena block (56 B of padding
// per 1,024 entries), so a hit's entry costs one cache miss, not two.
//
// Entry, 64 bytes
// ┌─────┬─────┬───────────────────────────────────────────────────────────────────────────┐
// │  +0 │ u32 │ next: chain link (hashed) or garbage-list link (unhashed); free-list link │
// │  +4 │ u32 │ key dst                                                                   │
// │  +8 │ u32 │ key src                                                                   │
// │ +12 │ u32 │ key iif (route_iif; 0 = output route)                                     │
// │ +16 │ u32 │ key mark                                                                  │
// │ +20 │ u8  │ key tos (tos & 0x1c)                                                      │
// │ +21 │ u8  │ type (RTN_*: 1 unicast 2 local 3 broadcast 5 multicast 7 unreachable)     │
// │ +22 │ u16 │ learned PMTU (0 = none; makes the entry "valuable", §3.3)                 │
// │ +24 │ u32 │ flags: RTCF_* in the high 16 bits (§1.5), bits 8–11 the first holder of   │
// │     │     │ an ABI reference (holders.ts), F_* in bits 0–2                            │
// │ +28 │ u32 │ genid the entry was made under                                            │
// │ +32 │ u32 │ key oif: the caller's output interface (output routes; 0 for input)      │
// │ +36 │ u32 │ gateway (next hop address; = dst when on-link)                            │
// │ +40 │ u32 │ output interface index (1 = lo for local, broadcast, unreachable)         │
// │ +44 │ i32 │ error (positive errno of a negative entry, e.g. 101)                      │
// │ +48 │ u32 │ refcnt                                                                    │
// │ +52 │ u32 │ use (hashed); while parked (garbage.ts): the previous entry on its list   │
// │ +56 │ u32 │ lastuse (ms)                                                              │
// │ +60 │ u32 │ expires: PMTU expiry (ms; 0 = none)                                       │
// └─────┴─────┴───────────────────────────────────────────────────────────────────────────┘
import { alloc } from "../util/arena";

export const ENTRY_BYTES: u32 = 64;
export const F_NOCACHE: u32 = 1; // DST_NOCACHE: freed when the last reference goes
export const F_HASHED: u32 = 2;
export const F_GARBAGE: u32 = 4; // unhashed while referenced: on the garbage list (obsolete = 2)
/** Flags bits 8–11: the first holder of an ABI reference since refcnt was last 0 (holders.ts). */
export const HOLDER_SHIFT: u32 = 8;
export const HOLDER_MASK: u32 = 0xf00;
export const MAX_HOLDERS: u32 = 16;

export const RTCF_NOTIFY: u32 = 0x00010000;
export const RTCF_REDIRECTED: u32 = 0x00040000;
export const RTCF_DOREDIRECT: u32 = 0x01000000;
export const RTCF_DIRECTSRC: u32 = 0x04000000;
export const RTCF_BROADCAST: u32 = 0x10000000;
export const RTCF_MULTICAST: u32 = 0x20000000;
export const RTCF_LOCAL: u32 = 0x80000000;

const CHUNK: u32 = 1024;
const LINE: usize = 64; // a cache line; entries start on one
const CHUNK_BLOCK_BYTES: usize = <usize>CHUNK * ENTRY_BYTES + LINE - 8; // room to align (blocks are 8-aligned)
let freeList: usize = 0;
export let allocated: u32 = 0;
export let hashed: u32 = 0;
export let slabBytes: usize = 0;

export function addHashed(d: i32): void {
  hashed = <u32>(<i32>hashed + d);
}

/** A zeroed entry, or 0 when memory is exhausted. */
export function entryAlloc(): usize {
  if (freeList == 0) {
    // One cache line per entry: the arena's blocks are 8-byte aligned, so the chunk is aligned here
    // (an unaligned entry straddles two lines, and a hit then waits for two misses).
    const block = alloc(CHUNK_BLOCK_BYTES);
    if (block == 0) return 0;
    const chunk = (block + LINE - 1) & ~(LINE - 1);
    slabBytes += CHUNK_BLOCK_BYTES;
    for (let i: u32 = 0; i < CHUNK; i++) {
      const e = chunk + <usize>i * ENTRY_BYTES;
      store<u32>(e, <u32>freeList);
      freeList = e;
    }
  }
  const e = freeList;
  freeList = <usize>load<u32>(e);
  memory.fill(e, 0, ENTRY_BYTES);
  allocated++;
  return e;
}

/** dst_destroy: back to the slab. */
export function entryFree(e: usize): void {
  store<u32>(e, <u32>freeList);
  store<u32>(e, 0, 24);
  freeList = e;
  allocated--;
}
