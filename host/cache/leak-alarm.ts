/**
 * Leak alarm (seed 000's signature): entries that are allocated but no longer hashed are held by
 * someone — the garbage list of unhashed-but-referenced dsts (kernel-route-cache.md §7.4). A healthy
 * router has a small number of them that comes and goes (packets in flight). When that number grows
 * across sampling intervals without ever falling back, raise an alarm that says how many are held,
 * for how long, and who holds them: the core counts references per named holder and tags each entry
 * with the holder of its latest reference (assembly/cache/holders.ts, RouteCache.holders()).
 */
import type { HolderCensus } from "./cache.ts";

export interface LeakAlarmOptions {
  /** Intervals of growth (with no decrease in between) before the alarm fires. */
  intervals?: number;
  /** Held entries below this never alarm (packets in flight). */
  floor?: number;
}

export interface LeakAlarmState {
  held: number;
  allocated: number;
  hashed: number;
  oldestHeldMs: number;
  growingFor: number; // intervals
  /** Who keeps the held entries, largest first (empty when the caller did not say). */
  holders: HolderCensus[];
  message: string;
}

export class LeakAlarm {
  private readonly intervals: number;
  private readonly floor: number;
  private last = -1;
  private growing = 0;
  active: LeakAlarmState | undefined;

  constructor(opts: LeakAlarmOptions = {}) {
    this.intervals = opts.intervals ?? 3;
    this.floor = opts.floor ?? 64;
  }

  /** One sample per interval; returns the alarm when it is raised (again) at this sample. */
  sample(allocated: number, hashed: number, oldestHeldMs: number, holders: HolderCensus[] = []): LeakAlarmState | undefined {
    const held = allocated - hashed;
    // Growth counts; a flat interval neither counts nor forgives (leaks grow in steps, at each
    // invalidation); any decrease means the holders let go, so it starts over.
    if (this.last >= 0 && held > this.last) this.growing++;
    else if (held < this.last) this.growing = 0;
    this.last = held;
    if (this.growing >= this.intervals && held >= this.floor) {
      const message =
        `route cache leak suspected: ${held} entries held unhashed (allocated ${allocated}, hashed ${hashed}), ` +
        `growing for ${this.growing} intervals, oldest held ${Math.round(oldestHeldMs / 1000)} s: ` +
        `something keeps references to entries the cache no longer lists${describeHolders(holders)}`;
      this.active = { held, allocated, hashed, oldestHeldMs, growingFor: this.growing, holders, message };
      return this.active;
    }
    if (this.growing === 0) this.active = undefined;
    return undefined;
  }
}

/** "; held by A: 5000 entries (5000 references, oldest 3541 s), B: …" for holders with garbage-listed entries. */
export function describeHolders(holders: HolderCensus[]): string {
  const keeping = holders.filter((h) => h.garbage > 0);
  if (holders.length === 0) return "";
  if (keeping.length === 0) return "; no named holder keeps them (references taken outside the holder accounting)";
  const one = (h: HolderCensus) => `${h.holder}: ${h.garbage} entries (${h.refs} references, oldest ${Math.round(h.oldestMs / 1000)} s)`;
  return `; held by ${keeping.slice(0, 3).map(one).join(", ")}${keeping.length > 3 ? `, and ${keeping.length - 3} more holders` : ""}`;
}
