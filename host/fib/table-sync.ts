/**
 * What the core is told when a prefix's best route changes: the RIB's route sets (Fib, fib.ts) on one
 * side, the WebAssembly lookup tables (assembly/fib/table.ts) on the other, as DPDK's lpm keeps its
 * rules apart from its tables.
 *
 *   routes ≤ /16  → fib_short_set / fib_short_delete at once (with the covering route as replacement);
 *   routes > /16  → fib_route_put sets the prefix's best result in its /16's list, which the core keeps
 *                   (assembly/fib/bucket.ts); the /16 is marked dirty and rebuilt once from that list, by
 *                   flush(): when the transaction commits or before the next lookup.
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
  fresh: boolean; // created by the open transaction (no snapshot needed)
}

export interface RibTable {
  id: number;
  core: number;
  sets: Map<number, RouteSet>[]; // by prefix length; keyed by addr | 0 (an int32 stays a small integer)
  dirty: number[]; // /16 slots to rebuild, each once (isDirty marks them)
  isDirty: Uint8Array;
}

/** A RIB table of id over core table index core, empty. */
export function newRibTable(id: number, core: number): RibTable {
  return { id, core, sets: Array.from({ length: 33 }, () => new Map()), dirty: [], isDirty: new Uint8Array(65536) };
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
    if (best === set.best) return;
    if (set.len <= 16) {
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
    const rc = this.core.x.fib_route_put(table.core, set.addr, set.len, best);
    if (rc !== 0) throw new FibError(-rc, rc === -12 ? "wasmroute: core out of memory (route list)" : `wasmroute: core refused route update (${rc})`);
    set.best = best;
    const slot = set.addr >>> 16;
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
        const rc = x.fib_rebuild(t.core, slot);
        if (rc !== 0) throw new FibError(-rc, `wasmroute: core refused rebuild of ${slot >>> 8}.${slot & 255}.0.0/16 (${rc})`);
      }
      t.dirty.length = 0;
    }
    this.dirtyTables.length = 0;
  }
}
