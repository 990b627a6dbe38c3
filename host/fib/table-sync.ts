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
import { clearArray } from "./clear-array.ts";
import { maskOf } from "./ipv4.ts";
import { RouteSets } from "./route-sets.ts";
import type { Route } from "./types.ts";

export interface RibTable {
  id: number;
  core: number;
  sets: RouteSets; // the table's routes, one set per prefix (route-sets.ts)
  dirty: number[]; // /16 slots to rebuild, each once (isDirty marks them)
  isDirty: Uint8Array;
}

/** A RIB table of id over core table index core, empty; routeOf rebuilds a packed set's route (route-sets.ts). */
export function newRibTable(id: number, core: number, routeOf: (addr: number, len: number, metric: number, result: number) => Route): RibTable {
  return { id, core, sets: new RouteSets(routeOf), dirty: [], isDirty: new Uint8Array(65536) };
}

export class TableSync {
  private readonly core: Core;
  private dirtyTables: RibTable[] = [];

  constructor(core: Core) {
    this.core = core;
  }

  /** Tells the core that the best route of set `id` may have changed (a /16 above /16 waits for flush). */
  publish(table: RibTable, id: number): void {
    const sets = table.sets;
    const best = sets.bestResult(id);
    if (best === sets.best[id]) return;
    const addr = sets.addr[id]!;
    const len = sets.len[id]!;
    if (len <= 16) {
      sets.best[id] = best;
      const x = this.core.x;
      const rc = best
        ? x.fib_short_set(table.core, addr, len, best)
        : (() => {
            for (let l = len - 1; l >= 0; l--) {
              const cover = sets.find(addr & maskOf(l), l);
              if (cover && sets.best[cover]) return x.fib_short_delete(table.core, addr, len, sets.best[cover]!, l);
            }
            return x.fib_short_delete(table.core, addr, len, 0, 255);
          })();
      if (rc !== 0) throw new FibError(-rc, `wasmroute: core refused short route update (${rc})`);
      return;
    }
    const rc = this.core.x.fib_route_put(table.core, addr, len, best);
    if (rc !== 0) throw new FibError(-rc, rc === -12 ? "wasmroute: core out of memory (route list)" : `wasmroute: core refused route update (${rc})`);
    sets.best[id] = best;
    const slot = addr >>> 16;
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
      clearArray(t.dirty);
    }
    clearArray(this.dirtyTables);
  }
}
