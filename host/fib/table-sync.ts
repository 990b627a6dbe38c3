/**
 * What the core is told when a prefix's best route changes: the RIB's route sets (Fib, fib.ts) on one
 * side, the WebAssembly lookup tables (assembly/fib/table.ts) on the other, as DPDK's lpm keeps its
 * rules apart from its tables.
 *
 *   routes ≤ /16  → fib_short_set / fib_short_delete at once (with the covering route as replacement);
 *   routes > /16  → the /16 they fall in is marked dirty and rebuilt once from its best routes, by
 *                   flush(): when the transaction commits or before the next lookup.
 *
 * A /16's bucket is the (addr, len, result) triples fib_rebuild reads, copied into the core's scratch:
 *
 *   | u32 word | what                         |
 *   |----------|------------------------------|
 *   | 3i       | set i's address              |
 *   | 3i + 1   | its prefix length (17..32)   |
 *   | 3i + 2   | its best route's result id   |
 */
import type { Core } from "../core/load.ts";
import { FibError } from "./fib-error.ts";
import { maskOf } from "./ipv4.ts";
import type { Route } from "./types.ts";

export interface Entry {
  route: Route;
  result: number;
}

export interface RouteSet {
  addr: number;
  len: number;
  entries: Entry[]; // metric order; entries[0] is what the FIB uses
  best: number; // result id published to the core (0 = none)
  pos: number; // index in its /16 bucket (routes > /16), -1 when not there
  fresh: boolean; // created by the open transaction (no snapshot needed)
}

/** The best routes > /16 of one /16, as the (addr, len, result) triples fib_rebuild reads. */
class Bucket {
  n = 0;
  rec = new Uint32Array(24);
  sets: RouteSet[] = [];
}

export interface RibTable {
  id: number;
  core: number;
  sets: Map<number, RouteSet>[]; // by prefix length; keyed by addr | 0 (an int32 stays a small integer)
  buckets: Map<number, Bucket>;
  dirty: number[]; // /16 slots to rebuild, each once (isDirty marks them)
  isDirty: Uint8Array;
}

/** A RIB table of id over core table index core, empty. */
export function newRibTable(id: number, core: number): RibTable {
  return { id, core, sets: Array.from({ length: 33 }, () => new Map()), buckets: new Map(), dirty: [], isDirty: new Uint8Array(65536) };
}

export class TableSync {
  private readonly core: Core;
  private dirtyTables: RibTable[] = [];

  constructor(core: Core) {
    this.core = core;
  }

  /** Tells the core that the best route of `set` may have changed (a /16 above /16 waits for flush). */
  publish(table: RibTable, set: RouteSet): void {
    const best = set.entries.length > 0 ? set.entries[0]!.result : 0;
    if (set.len <= 16) {
      if (best === set.best) return;
      set.best = best;
      const x = this.core.x;
      const rc = best
        ? x.fib_short_set(table.core, set.addr, set.len, best)
        : (() => {
            for (let l = set.len - 1; l >= 0; l--) {
              const cover = table.sets[l]!.get(set.addr & maskOf(l));
              if (cover && cover.best) return x.fib_short_delete(table.core, set.addr, set.len, cover.best, l);
            }
            return x.fib_short_delete(table.core, set.addr, set.len, 0, 255);
          })();
      if (rc !== 0) throw new FibError(-rc, `wasmroute: core refused short route update (${rc})`);
      return;
    }
    const slot = set.addr >>> 16;
    let b = table.buckets.get(slot);
    if (best) {
      if (!b) table.buckets.set(slot, (b = new Bucket()));
      if (set.pos < 0) {
        if ((b.n + 1) * 3 > b.rec.length) {
          const g = new Uint32Array(b.rec.length * 2);
          g.set(b.rec);
          b.rec = g;
        }
        set.pos = b.n++;
        b.sets[set.pos] = set;
        b.rec[set.pos * 3] = set.addr;
        b.rec[set.pos * 3 + 1] = set.len;
      } else if (set.best === best) return;
      b.rec[set.pos * 3 + 2] = best;
    } else {
      if (set.pos < 0) return;
      const last = --b!.n;
      const moved = b!.sets.pop()!;
      const r = b!.rec;
      if (moved !== set) {
        b!.sets[set.pos] = moved;
        r[set.pos * 3] = r[last * 3]!;
        r[set.pos * 3 + 1] = r[last * 3 + 1]!;
        r[set.pos * 3 + 2] = r[last * 3 + 2]!;
        moved.pos = set.pos;
      }
      set.pos = -1;
      if (b!.n === 0) table.buckets.delete(slot);
    }
    set.best = best;
    if (table.isDirty[slot] === 0) {
      table.isDirty[slot] = 1;
      if (table.dirty.length === 0) this.dirtyTables.push(table);
      table.dirty.push(slot);
    }
  }

  /** Rebuilds every /16 changed since the last flush. */
  flush(): void {
    if (this.dirtyTables.length === 0) return;
    const x = this.core.x;
    for (let ti = 0; ti < this.dirtyTables.length; ti++) {
      const t = this.dirtyTables[ti]!;
      for (let si = 0; si < t.dirty.length; si++) {
        const slot = t.dirty[si]!;
        t.isDirty[slot] = 0;
        const b = t.buckets.get(slot);
        const n = b ? b.n : 0;
        if (n > 0) {
          const p = x.fib_scratch(n) >>> 0;
          if (p === 0) throw new FibError(12, "wasmroute: core out of memory (rebuild scratch)");
          this.core.u32().set(n * 3 === b!.rec.length ? b!.rec : b!.rec.subarray(0, n * 3), p >>> 2);
        }
        const rc = x.fib_rebuild(t.core, slot, n);
        if (rc !== 0) throw new FibError(-rc, `wasmroute: core refused rebuild of ${slot >>> 8}.${slot & 255}.0.0/16 (${rc})`);
      }
      t.dirty.length = 0;
    }
    this.dirtyTables.length = 0;
  }
}
