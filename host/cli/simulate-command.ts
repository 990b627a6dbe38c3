/**
 * `wasmroute simulate`: the route cache simulator on the command line (host/sim/simulate.ts).
 *
 *   wasmroute simulate [--scenario steady|surge|pause|leak] [--rate N] [--duration S]
 *       [--rhash-entries N] [--sysctl NAME=VALUE]… [--kernel 3.4|2.6.39] [--lifetime S] [--pps N]
 *       [--leak-share F] [--flush-interval S] [--overflow forward|kernel] [--overflow-backoff MS]
 *       [--gc-step-budget N] [--seed N]
 *       [--csv FILE] [--svg FILE] [--proc DIR] [--show-cache N] [--quiet]
 *
 * Knobs go through the sysctl layer with the kernel's names and units (gc_timeout in seconds,
 * gc_min_interval_ms in ms, …). Prints one summary line per simulated minute and a closing summary.
 */
import { writeFileSync, mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { simulate, toCsv, SIM_DEFAULTS, type SimOptions, type Scenario } from "../sim/simulate.ts";
import { plotSvg } from "../sim/svg.ts";
import { RouteSysctls } from "../cache/sysctl.ts";
import { formatRtCacheStat } from "../cache/stat.ts";
import { formatRouteCache, formatDstSlabinfo } from "../cache/show-cache.ts";

interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const SIMULATE_USAGE =
  "usage: wasmroute simulate [--scenario steady|surge|pause|leak] [--rate N] [--duration S] [--rhash-entries N] " +
  "[--sysctl NAME=VALUE]... [--kernel 3.4|2.6.39] [--lifetime S] [--pps N] [--leak-share F] [--flush-interval S] " +
  "[--overflow forward|kernel] [--overflow-backoff MS] [--gc-step-budget N] [--seed N] [--csv FILE] [--svg FILE] [--proc DIR] [--show-cache N] [--quiet]";

function num(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || v === "" || !Number.isFinite(n) || n < min || n > max) {
    throw new Error(`${name} needs a number from ${min} to ${max}, got ${v === undefined ? "nothing" : JSON.stringify(v)}`);
  }
  return n;
}

/** Runs the command; returns the exit status. Errors: one line on stderr, status 2. */
export function runSimulate(argv: string[], io: Io): number {
  try {
    const o: Partial<SimOptions> = {};
    const sysctls = new RouteSysctls();
    const settings: [string, string][] = [];
    let csv: string | undefined, svg: string | undefined, proc: string | undefined, quiet = false, showCache = 0;
    let rhash: string | undefined;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      const v = argv[i + 1];
      const take = () => {
        i++;
        return v;
      };
      switch (a) {
        case "--scenario": {
          const s = take();
          if (!["steady", "surge", "pause", "leak"].includes(s ?? "")) throw new Error(`--scenario must be steady, surge, pause or leak, got ${JSON.stringify(s)}`);
          o.scenario = s as Scenario;
          break;
        }
        case "--rate": o.rate = num(a, take(), 0, 1e7); break;
        case "--duration": o.duration = num(a, take(), 1, 30 * 86400); break;
        case "--rhash-entries": rhash = take(); if (rhash === undefined) throw new Error("--rhash-entries needs a number"); break;
        case "--sysctl": {
          const s = take() ?? "";
          const eq = s.indexOf("=");
          if (eq <= 0) throw new Error(`--sysctl needs NAME=VALUE, got ${JSON.stringify(s)}`);
          settings.push([s.slice(0, eq).trim(), s.slice(eq + 1).trim()]);
          break;
        }
        case "--kernel": {
          const k = take();
          if (k !== "3.4" && k !== "2.6.39") throw new Error(`--kernel must be 3.4 or 2.6.39, got ${JSON.stringify(k)}`);
          o.kernel = k;
          break;
        }
        case "--lifetime": o.lifetime = num(a, take(), 0.1, 86400); break;
        case "--pps": o.pps = num(a, take(), 0.001, 10); break;
        case "--leak-share": o.leakShare = num(a, take(), 0, 1); break;
        case "--flush-interval": o.flushInterval = num(a, take(), 0, 86400); break;
        case "--seed": o.seed = num(a, take(), 0, 2 ** 32 - 1); break;
        case "--overflow": {
          const m = take();
          if (m !== "forward" && m !== "kernel") throw new Error(`--overflow must be forward or kernel, got ${JSON.stringify(m)}`);
          o.overflow = m;
          break;
        }
        case "--gc-step-budget": o.gcStepBudget = num(a, take(), 0, 2 ** 31 - 1); break;
        case "--overflow-backoff": o.overflowBackoffMs = num(a, take(), 0, 3_600_000); break;
        case "--csv": csv = take(); break;
        case "--svg": svg = take(); break;
        case "--proc": proc = take(); break;
        case "--quiet": quiet = true; break;
        case "--show-cache": showCache = num(a, take(), 1, 1 << 20); break;
        default: throw new Error(`unknown option ${JSON.stringify(a)}`);
      }
      if ((a === "--csv" || a === "--svg" || a === "--proc") && !v) throw new Error(`${a} needs a path`);
    }
    if (rhash !== undefined) sysctls.set("rhash_entries", rhash);
    for (const [k, v] of settings) sysctls.set(k, v);
    const p = sysctls.params();
    if (o.scenario === "leak" && o.flushInterval === undefined) o.flushInterval = 600; // ≤ 2.6.34's secret_interval re-key
    const opts: Partial<SimOptions> = {
      ...o, rhashEntries: p.buckets,
      params: { gcThresh: p.gcThresh, maxSize: p.maxSize, gcElasticity: p.gcElasticity, gcMinIntervalMs: p.gcMinIntervalMs, gcTimeoutMs: p.gcTimeoutMs, rebuildCount: p.rtCacheRebuildCount, ...((o.kernel ?? SIM_DEFAULTS.kernel) === "3.4" ? { gcIntervalMs: p.gcIntervalMs } : {}) },
      onSample: quiet ? undefined : (r) => {
        if (r.t_s % 60 === 0) io.stdout(`t=${r.t_s}s entries=${r.entries} hashed=${r.hashed} in_hit/s=${r.in_hit} in_slow_tot/s=${r.in_slow_tot} gc/s=${r.gc_total - r.gc_ignored} goal_miss=${r.gc_goal_miss} overflow=${r.gc_dst_overflow}${r.leak_alarm ? " LEAK-ALARM" : ""}\n`);
      },
    };
    const res = simulate(opts);
    const full = { ...SIM_DEFAULTS, ...opts };
    const last = res.rows[res.rows.length - 1];
    for (const a of res.alarms) io.stdout(`t=${a.t_s}s ${a.message}\n`);
    io.stdout(
      `simulated ${full.scenario} ${full.duration} s at ${full.rate} new flows/s, rhash_entries ${p.buckets}, gc_thresh ${p.gcThresh}, ` +
        `gc_elasticity ${p.gcElasticity} (aggressive above ${p.gcElasticity * p.buckets}), max_size ${p.maxSize}, kernel ${full.kernel}: ` +
        `${last?.entries ?? 0} entries at the end, ${res.wallSeconds.toFixed(1)} s of wall time\n`,
    );
    if (showCache) {
      // The end state as `ip -s route show cache` and /proc/slabinfo's ip_dst_cache line would show it.
      const now = full.duration * 1000;
      io.stdout(formatRouteCache(res.cache.entries(now, showCache), { stats: true }));
      io.stdout(formatDstSlabinfo(res.cache.allocated) + "\n");
    }
    if (csv) writeFileSync(csv, toCsv(res.rows));
    if (svg) {
      const title = `${full.scenario}: ${full.rate}/s, rhash_entries ${p.buckets}, gc_elasticity ${p.gcElasticity}, kernel ${full.kernel}`;
      writeFileSync(svg, plotSvg(res.rows, { gcThresh: p.gcThresh, aggressive: p.gcElasticity * p.buckets, maxSize: p.maxSize }, title));
    }
    if (proc) {
      const f = join(proc, "net", "stat", "rt_cache");
      mkdirSync(dirname(f), { recursive: true });
      writeFileSync(f, formatRtCacheStat([res.cache.counters()]));
    }
    return 0;
  } catch (e) {
    io.stderr(`wasmroute simulate: ${(e as Error).message}\n`);
    return 2;
  }
}
