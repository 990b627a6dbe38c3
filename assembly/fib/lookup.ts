// lookup.ts — the batched longest-prefix match of one table (the data plane's hot loop).
//
// Passes per chunk of keys, so the CPU's branch predictor and memory-level parallelism both work:
//   1. level 0 for every key, branch-free: store the level-0 word as the answer, and append the key's
//      index to `pending` when that word is a ply pointer (append = store, then advance by 0 or 1);
//   2. the ply walk for the pending keys only: there the "has a level-2 ply?" and INHERIT branches
//      are rare and predictable, and no misprediction on "ply or not" flushes loads in flight. It is
//      split in two, so that the misses of one kind overlap from key to key instead of each leaf's
//      waiting for its header: 2a reads each ply header and stores the leaf's address, 2b loads the leaves.
//
// Static memory: pending u32[CHUNK] (indices into the chunk), leafAt u32[CHUNK] (pass 2a's leaf addresses).
import { PTR } from "./table";
import { INHERIT, plyChild, plyLeafAt } from "./ply";

const CHUNK: u32 = 4096;
const pending: usize = memory.data(<i32>CHUNK * 4);
const leafAt: usize = memory.data(<i32>CHUNK * 4);

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
    // 2a: each pending key's leaf address (the ply header's loads: independent from key to key); 2b: the leaves.
    for (let j: usize = 0; j < np; j++) {
      const i = <usize>load<u32>(pending + (j << 2));
      const a = load<u32>(k + (i << 2));
      const p = <usize>(load<u32>(o + (i << 2)) & ~PTR);
      const v = (a >>> 8) & 255;
      const c = plyChild(p, v);
      store<u32>(leafAt + (j << 2), <u32>(c != 0 ? plyLeafAt(c, a & 255) : plyLeafAt(p, v)));
    }
    for (let j: usize = 0; j < np; j++) {
      const i = <usize>load<u32>(pending + (j << 2));
      const r = load<u32>(<usize>load<u32>(leafAt + (j << 2)));
      store<u32>(o + (i << 2), r != INHERIT ? r : load<u32>(<usize>(load<u32>(o + (i << 2)) & ~PTR)));
    }
  }
}
