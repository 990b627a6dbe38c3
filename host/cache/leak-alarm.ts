/**
 * Leak alarm (seed 000's signature): entries that are allocated but no longer hashed are held by
 * someone — the garbage list of unhashed-but-referenced dsts (kernel-route-cache.md §7.4). A healthy
 * router has a small number of them that comes and goes (packets in flight). When that number grows
 * across sampling intervals without ever falling back, raise an alarm that says how many are held and
 * for how long.
 */
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
  sample(allocated: number, hashed: number, oldestHeldMs: number): LeakAlarmState | undefined {
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
        `something keeps references to entries the cache no longer lists`;
      this.active = { held, allocated, hashed, oldestHeldMs, growingFor: this.growing, message };
      return this.active;
    }
    if (this.growing === 0) this.active = undefined;
    return undefined;
  }
}
