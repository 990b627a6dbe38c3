// gc-probe.ts — tells the host when a GC step begins and ends, so the host can time it (the GC step
// duration histogram of `--metrics`). The core never reads a clock: the probe only reports; nothing
// it returns can change what the GC does. Called once per step, never per packet.
//
// Import env.gc_step(kind, phase, work):
//   kind  GC_COLLECT rt_garbage_collect's sweep (§3.2) · GC_EXPIRE rt_check_expire (§4.1)
//         · GC_REAP the dst garbage reaper (§7.3)
//   phase 0 begins · 1 ends, with work = entries freed (GC_COLLECT, GC_REAP) or buckets scanned (GC_EXPIRE)
// No memory of its own.

export const GC_COLLECT: u32 = 0;
export const GC_EXPIRE: u32 = 1;
export const GC_REAP: u32 = 2;

// @ts-ignore: decorator
@external("env", "gc_step")
declare function gcStep(kind: u32, phase: u32, work: u32): void;

export function gcBegin(kind: u32): void {
  gcStep(kind, 0, 0);
}

export function gcEnd(kind: u32, work: u32): void {
  gcStep(kind, 1, work);
}
