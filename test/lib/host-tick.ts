// The host's tick as host/router/tick-schedule.ts keeps it, for the model tests (test/neigh.test.ts,
// test/cache-model.test.ts), without the cadence and the bound: after a tick it is set to the core's exact
// next wake (core_next_wake); after any other call it comes sooner if that call armed an earlier timer
// (core_wake_take). `check` says it is no later than the model's next timer: a host that sleeps until then
// misses none. Times are the test's own (unwrapped) ms.
import { expect } from "vitest";
import { NO_WAKE } from "../../host/router/tick-schedule.ts";

export class HostTick {
  /** When the host's tick is set (undefined: none). */
  at: number | undefined;

  constructor(at?: number) {
    this.at = at;
  }

  /** After a tick at T: the core's next wake, `delay` ms on (NO_WAKE: none). */
  set(T: number, delay: number): void {
    this.at = delay >>> 0 === NO_WAKE ? undefined : T + (delay >>> 0);
  }

  /** After another call at T, which armed a timer `delay` ms on (NO_WAKE: none). */
  sooner(T: number, delay: number): void {
    if (delay >>> 0 !== NO_WAKE && (this.at === undefined || T + (delay >>> 0) < this.at)) this.at = T + (delay >>> 0);
  }

  /** The model's next timer is at `due` (undefined: none armed; a time already past: due now, at T). */
  check(T: number, due: number | undefined, what: string): void {
    if (due === undefined) return;
    expect(this.at, `${what}: the host's tick is set`).toBeDefined();
    expect(this.at!, `${what}: the host's tick (${this.at! - T} ms on) comes no later than the next timer (${due - T} ms on)`).toBeLessThanOrEqual(Math.max(due, T));
  }
}
