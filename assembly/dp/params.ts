// params.ts — the data plane's knobs, in the core's units (ms), set by the host from its sysctls:
// the ICMP limits of the route cache (kernel-route-cache.md §2: error_cost, error_burst, redirect_load,
// redirect_number, redirect_silence; HZ-based defaults as on a 1000 Hz kernel) and net.ipv4.icmp_ratelimit.
// No memory of its own beyond these globals.

export let errorCostMs: u32 = 1000;
export let errorBurstMs: u32 = 5000;
export let redirectLoadMs: u32 = 20;
export let redirectNumber: u32 = 9;
export let redirectSilenceMs: u32 = 20480;
export let icmpRatelimitMs: u32 = 1000;
export let icmpRatemask: u32 = 0x1818; // dest unreachable, source quench, time exceeded, parameter problem

export const DP_ERROR_COST: u32 = 0;
export const DP_ERROR_BURST: u32 = 1;
export const DP_REDIRECT_LOAD: u32 = 2;
export const DP_REDIRECT_NUMBER: u32 = 3;
export const DP_REDIRECT_SILENCE: u32 = 4;
export const DP_ICMP_RATELIMIT: u32 = 5;
export const DP_ICMP_RATEMASK: u32 = 6;

export function dpSetParam(id: u32, v: u32): i32 {
  if (id == DP_ERROR_COST) errorCostMs = v;
  else if (id == DP_ERROR_BURST) errorBurstMs = v;
  else if (id == DP_REDIRECT_LOAD) redirectLoadMs = v;
  else if (id == DP_REDIRECT_NUMBER) redirectNumber = v;
  else if (id == DP_REDIRECT_SILENCE) redirectSilenceMs = v;
  else if (id == DP_ICMP_RATELIMIT) icmpRatelimitMs = v;
  else if (id == DP_ICMP_RATEMASK) icmpRatemask = v;
  else return -22;
  return 0;
}
