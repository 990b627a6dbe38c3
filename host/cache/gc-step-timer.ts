/**
 * Times the route cache's GC steps from the host: the core's GC probe (assembly/cache/gc-probe.ts)
 * reports each step's start and end; this measures the wall time between them and hands every step
 * (kind, seconds, work) to its listeners — the `--metrics` histogram — and keeps a summary per kind.
 * The core itself never reads a clock; the timing is observation only.
 */
import { performance } from "node:perf_hooks";
import type { Core } from "../core/load.ts";

/** Step kinds, by the probe's kind number. */
export const GC_STEP_KINDS = ["garbage_collect", "check_expire", "dst_gc_task"] as const;
export type GcStepKind = (typeof GC_STEP_KINDS)[number];

export interface GcStep {
  kind: GcStepKind;
  seconds: number;
  /** Entries freed (garbage_collect, dst_gc_task) or buckets scanned (check_expire). */
  work: number;
}

export interface GcStepSummary {
  steps: number;
  seconds: number;
  maxSeconds: number;
}

export class GcStepTimer {
  private readonly started = [0, 0, 0];
  private readonly listeners: ((s: GcStep) => void)[] = [];
  readonly summary: Record<GcStepKind, GcStepSummary> = {
    garbage_collect: { steps: 0, seconds: 0, maxSeconds: 0 },
    check_expire: { steps: 0, seconds: 0, maxSeconds: 0 },
    dst_gc_task: { steps: 0, seconds: 0, maxSeconds: 0 },
  };

  /** Starts timing the GC steps of a core (one timer per core). */
  constructor(core: Core) {
    if (core.onGcStep) throw new Error("wasmroute: this core's GC steps are already timed");
    core.onGcStep = (kind, phase, work) => this.probe(kind, phase, work);
  }

  onStep(listener: (s: GcStep) => void): void {
    this.listeners.push(listener);
  }

  private probe(k: number, phase: number, work: number): void {
    const kind = GC_STEP_KINDS[k];
    if (kind === undefined) return;
    if (phase === 0) {
      this.started[k] = performance.now();
      return;
    }
    const seconds = Math.max(0, performance.now() - this.started[k]!) / 1000;
    const s = this.summary[kind];
    s.steps++;
    s.seconds += seconds;
    if (seconds > s.maxSeconds) s.maxSeconds = seconds;
    for (const l of this.listeners) l({ kind, seconds, work: work >>> 0 });
  }
}
