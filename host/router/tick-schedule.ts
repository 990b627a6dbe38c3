/**
 * When the core's timers run (cache_tick and dp_tick: neighbour retries and reachability, hold queues,
 * the cache's periodic scan and its dst reaper): at the core's next deadline, not on a fixed period.
 * After a tick the core says when its next timer is due (core_next_wake, a walk of its timers); after
 * any other call into it the host asks whether that call armed an earlier one (core_wake_take) and, if
 * so, brings the tick forward (assembly/util/wake.ts lists the places that arm one).
 *
 * Like the kernel's tick with NOHZ idle, the tick keeps a BUSY_TICK_MS cadence while frames come (and
 * for IDLE_AFTER_MS after the last), and an idle router sleeps until the next deadline, at most
 * MAX_SLEEP_MS. The fixed 20 ms tick cost an idle router 50 wake-ups a second and about 38 % of its
 * main thread's samples (BENCHMARKS.md, "Where an idle router's CPU goes per echo"). Sleeping through
 * traffic as well looked slower for the idle echo, though within this machine's noise ("An idle router
 * sleeps"), so a router carrying traffic keeps the cadence it always had. Timers fire on time either way, instead of up to a tick late. The bound is a safety net: a
 * timer armed by a call the host did not ask about (or a virtual clock that jumped) waits at most this.
 */

/** The core's "no timer armed" (assembly/util/wake.ts NO_WAKE). */
export const NO_WAKE = 0xffffffff;
/** The longest the timers sleep without asking the core again, ms. */
export const MAX_SLEEP_MS = 1000;
/** The tick's cadence while frames come, ms. */
export const BUSY_TICK_MS = 20;
/** How long after the last frame the router counts as idle, ms. */
export const IDLE_AFTER_MS = 1000;

export class TickSchedule {
  private timer: NodeJS.Timeout | undefined;
  /** When the set tick is due, router clock (u32 ms, wrapping); meaningful while timer is set. */
  private dueMs = 0;
  private readonly fire = (): void => {
    this.timer = undefined;
    this.ticks++;
    this.onTick();
  };
  /** Ticks the schedule has run (not counting ticks run on request). */
  ticks = 0;
  /** When frames last came (router clock); far in the past at start. */
  private lastTrafficMs = 0;
  private seenTraffic = false;

  private readonly onTick: () => void;

  constructor(onTick: () => void) {
    this.onTick = onTick;
  }

  /** Sets the tick `delay` ms (a core answer, NO_WAKE = none) after `now`, replacing the one set. */
  set(now: number, delay: number): void {
    const busy = this.seenTraffic && ((now - this.lastTrafficMs) | 0) < IDLE_AFTER_MS;
    const d = Math.min(delay >>> 0, busy ? BUSY_TICK_MS : MAX_SLEEP_MS); // (NO_WAKE is larger than both)
    if (this.timer) clearTimeout(this.timer);
    this.dueMs = (now + d) >>> 0;
    this.timer = setTimeout(this.fire, d);
  }

  /** Frames came at `now`, and the call that took them armed a timer `armed` ms on (NO_WAKE: none). */
  traffic(now: number, armed: number): void {
    this.lastTrafficMs = now;
    this.seenTraffic = true;
    this.sooner(now, Math.min(armed >>> 0, BUSY_TICK_MS));
  }

  /** Brings the tick forward to `delay` ms after `now` when that is sooner than the one set. */
  sooner(now: number, delay: number): void {
    if (delay >>> 0 === NO_WAKE) return;
    if (this.timer && ((now + delay - this.dueMs) | 0) >= 0) return;
    this.set(now, delay);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
