// limit.ts — the two ICMP rate limiters of the old route cache (kernel-route-cache.md §2), on 8 bytes
// of state the caller keeps per destination (3.x: in the inet_peer) or per cache entry (2.6.x):
//   +0 u32 tokens (ms for the error limiter, a count for redirects)   +4 u32 last (ms)
//
// ip_error's limiter: tokens += now − last, capped at error_burst; last = now; send when tokens ≥
// error_cost, paying the cost. Defaults (cost 1 s, burst 5 s): a burst of 5, then 1 per second.
// ip_rt_send_redirect's: silence resets the count; after redirect_number sends, stay quiet; otherwise
// send when none sent yet or now > last + (redirect_load << tokens). Gaps 40, 80, 160 … ms.

export function errorAllowed(state: usize, now: u32, costMs: u32, burstMs: u32): bool {
  let tokens = <u64>load<u32>(state) + <u64>(now - load<u32>(state, 4));
  if (tokens > <u64>burstMs) tokens = <u64>burstMs;
  store<u32>(state, now, 4);
  if (tokens >= <u64>costMs) {
    store<u32>(state, <u32>(tokens - costMs));
    return true;
  }
  store<u32>(state, <u32>tokens);
  return false;
}

/** A fresh error limiter starts full (the kernel's peer starts with a full bucket). */
export function errorInit(state: usize, now: u32, burstMs: u32): void {
  store<u32>(state, burstMs);
  store<u32>(state, now, 4);
}

export function redirectAllowed(state: usize, now: u32, loadMs: u32, number: u32, silenceMs: u32): bool {
  let tokens = load<u32>(state);
  const last = load<u32>(state, 4);
  if (tokens != 0 && <i32>(now - (last + silenceMs)) > 0) tokens = 0;
  if (tokens >= number) {
    store<u32>(state, tokens);
    store<u32>(state, now, 4);
    return false;
  }
  if (tokens == 0 || <i32>(now - (last + (loadMs << tokens))) > 0) {
    store<u32>(state, tokens + 1);
    store<u32>(state, now, 4);
    return true;
  }
  store<u32>(state, tokens);
  return false;
}
