// lookup.ts — the batched longest-prefix match of one table (the data plane's hot loop).
//
// Two passes per chunk of keys, so the CPU's branch predictor and memory-level parallelism both work:
//   1. level 0 for every key, branch-free: store the level-0 word as the answer, and append the key's
//      index to `pending` when that word is a ply pointer (append = store, then advance by 0 or 1);
//   2. the ply walk for the pending keys only: there the "has a level-2 ply?" and INHERIT branches
//      are rare and predictable, and no misprediction on "ply or not" flushes loads in flight.
//
// Static memory: pending u32[CHUNK] (indices into the chunk).
import { PTR } from "./table";
import { INHERIT, plyChild, plyLeaf } from "./ply";

const CHUNK: u32 = 4096;
const pending: usize = memory.data(<i32>CHUNK * 4);

export function lookupBatch(dir: usize, keys: usize, out: usize, n: u32): void {
  for (let base: u32 = 0; base < n; base += CHUNK) {
    const m = min(CHUNK, n - base);
    const k = keys + (<usize>base << 2);
    const o = out + (<usize>base << 2);
    let np: usize = 0;
    for (let i: u32 = 0; i < m; i++) {
      const d = load<u32>(dir + (<usize>(load<u32>(k + (<usize>i << 2)) >>> 16) << 2));
      store<u32>(o + (<usize>i << 2), d);
      store<u32>(pending + (np << 2), i);
      np += <usize>(d >>> 31);
    }
    for (let j: usize = 0; j < np; j++) {
      const i = <usize>load<u32>(pending + (j << 2));
      const a = load<u32>(k + (i << 2));
      const p = <usize>(load<u32>(o + (i << 2)) & ~PTR);
      const v = (a >>> 8) & 255;
      const c = plyChild(p, v);
      const r = c != 0 ? plyLeaf(c, a & 255) : plyLeaf(p, v);
      store<u32>(o + (i << 2), r != INHERIT ? r : load<u32>(p));
    }
  }
}
