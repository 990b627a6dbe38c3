/**
 * Hands the sysctl layer's values (host/cache/sysctl.ts, core units) to a running cache, and keeps
 * them in step: every later `set` reaches the core through onChange; a write to flush flushes.
 */
import type { RouteCache } from "./cache.ts";
import type { RouteCacheParams, RouteSysctls } from "./sysctl.ts";

export function applyParams(cache: RouteCache, p: RouteCacheParams): void {
  cache.set("gcThresh", p.gcThresh);
  cache.set("maxSize", p.maxSize);
  cache.set("gcElasticity", p.gcElasticity);
  cache.set("gcMinIntervalMs", p.gcMinIntervalMs);
  cache.set("gcTimeoutMs", p.gcTimeoutMs);
  cache.set("gcIntervalMs", p.gcIntervalMs);
  cache.set("rebuildCount", p.rtCacheRebuildCount);
}

/** Applies the current values and follows changes; `now` supplies the clock for flushes. */
export function bindSysctls(cache: RouteCache, sysctls: RouteSysctls, now: () => number): () => void {
  sysctls.markCacheCreated();
  applyParams(cache, sysctls.params());
  return sysctls.onChange((c) => {
    if (c.kind === "flush") cache.flush(c.value, now());
    else applyParams(cache, c.params);
  });
}
