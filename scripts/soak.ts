/**
 * Seed 000's soak in the simulator (issue #7): a router for about 6,000 hosts carrying 200–300 Mbps
 * to and from the Internet (mean packet about 700 B), for 72 virtual hours, on the real WASM cache and GC.
 *
 *   node --import tsx scripts/soak.ts [--hours H] [--leak-hours H] [--full-rate] [--seed S]
 *
 * --hours (default 72) is the healthy run; --leak-hours (default 2) the leaking one. The alarm must
 * come within the first hour; a longer leak run only shows the count climbing to max_size (about 23 h).
 * (It used to get slower as it went, about 20× by 10 h: the dst garbage reaper walked the whole list of
 * held entries each time a newly unhashed held entry re-armed it to 100 ms, as the kernel's __dst_free
 * does. The reaper now skips the walk when nothing on the list is free: RELIABILITY.md §4.)
 *
 * The workload (kernel-route-cache.md §7.6a: CentOS 5.2, 2.6.18):
 *   - 6,000 source hosts (10.64.0.0 upward), destinations spread over the Internet;
 *   - 25 new flows a second, each living 60 s: 1,500 active flows; at about 30 packets a second each
 *     that is 45,000 packets/s, 250 Mbps at 700 B;
 *   - every packet holds its entry for one step (a packet in flight in a queue) and gives it back;
 *   - the cache is invalidated every 600 s, as 2.6.18's secret_interval re-key did;
 *   - rhash_entries 32,768 (gc_thresh 32,768, max_size 524,288), gc_timeout 300 s, elasticity 8.
 * By default each flow is looked up once a virtual second (1 s steps): a hit only moves the entry's
 * lastuse and use count, so the other ~29 packets of that second change nothing the GC looks at.
 * `--full-rate` looks up every packet (25 per flow per second, 37,500/s, 20 ms steps): slower, for
 * checking that the sampling changes nothing.
 *
 * Checks (exit status 1 if one fails):
 *   healthy run: allocated bounded (the last third's peak within 5 % of the first third's), allocated −
 *   hashed never above the references in flight, zero gc_dst_overflow, zero uncached (overflow) decisions;
 *   leak run (the same traffic, one flow in 4 keeps a reference forever, 6.25 entries/s as the seed's
 *   220,000 → 410,000 objects in 8 h): the leak alarm within the first virtual hour, saying how many
 *   entries are held unhashed, that something keeps references to them, and which holder it is.
 */
import { pathToFileURL } from "node:url";
import { simulate, type SimOptions, type SimRow } from "../host/sim/simulate.ts";

export interface SoakOptions {
  hours: number;
  leak: boolean;
  fullRate?: boolean;
  seed?: number;
}

export interface SoakResult {
  hours: number;
  wallSeconds: number;
  maxAllocated: number;
  maxHashed: number;
  maxHeld: number;
  maxInFlight: number;
  /** Seconds in which allocated − hashed exceeded the references in flight. */
  heldOverInFlight: number;
  overflows: number;
  uncached: number;
  firstThirdMaxAllocated: number;
  lastThirdMaxAllocated: number;
  lookupsPerSecond: number;
  end: SimRow;
  alarms: { t_s: number; message: string }[];
  /** Virtual time the allocated count first reached max_size (leak run), or undefined. */
  maxSizeReachedAt?: number;
}

export const SOAK_WORKLOAD: Partial<SimOptions> = {
  rate: 25, lifetime: 60, hosts: 6000, inFlightSteps: 1, flushInterval: 600, alarmInterval: 60, rhashEntries: 32768, kernel: "3.4",
  leakShare: 0.25,
};
export const MAX_SIZE = 16 * 32768;

export function soak(o: SoakOptions): SoakResult {
  const duration = Math.round(o.hours * 3600);
  let maxAllocated = 0, maxHashed = 0, maxHeld = 0, maxInFlight = 0, heldOverInFlight = 0, overflows = 0, uncached = 0;
  let firstThird = 0, lastThird = 0, lookups = 0;
  let maxSizeReachedAt: number | undefined;
  const r = simulate({
    ...SOAK_WORKLOAD,
    scenario: o.leak ? "leak" : "steady",
    duration,
    seed: o.seed ?? 1,
    ...(o.fullRate ? { pps: 25, stepMs: 20 } : { pps: 1, stepMs: 1000 }),
    onSample: (row) => {
      maxAllocated = Math.max(maxAllocated, row.allocated);
      maxHashed = Math.max(maxHashed, row.hashed);
      maxHeld = Math.max(maxHeld, row.held_unhashed);
      maxInFlight = Math.max(maxInFlight, row.in_flight ?? 0);
      if (row.held_unhashed > (row.in_flight ?? 0)) heldOverInFlight++;
      overflows += row.gc_dst_overflow;
      uncached += row.uncached;
      lookups += row.in_hit + row.in_slow_tot;
      if (row.t_s <= duration / 3) firstThird = Math.max(firstThird, row.allocated);
      if (row.t_s > (2 * duration) / 3) lastThird = Math.max(lastThird, row.allocated);
      if (maxSizeReachedAt === undefined && row.allocated >= MAX_SIZE) maxSizeReachedAt = row.t_s;
    },
  });
  return {
    hours: o.hours, wallSeconds: r.wallSeconds, maxAllocated, maxHashed, maxHeld, maxInFlight, heldOverInFlight, overflows, uncached,
    firstThirdMaxAllocated: firstThird, lastThirdMaxAllocated: lastThird, lookupsPerSecond: lookups / duration,
    end: r.rows[r.rows.length - 1]!, alarms: r.alarms, maxSizeReachedAt,
  };
}

/** The healthy run's failed checks (empty when it passed). */
export function healthyProblems(r: SoakResult): string[] {
  const p: string[] = [];
  if (r.lastThirdMaxAllocated > r.firstThirdMaxAllocated * 1.05) p.push(`allocated still growing: peak ${r.firstThirdMaxAllocated} in the first third, ${r.lastThirdMaxAllocated} in the last`);
  if (r.maxAllocated >= MAX_SIZE / 8) p.push(`allocated reached ${r.maxAllocated}`);
  if (r.heldOverInFlight > 0) p.push(`allocated − hashed exceeded the references in flight in ${r.heldOverInFlight} seconds`);
  if (r.overflows > 0) p.push(`${r.overflows} gc_dst_overflow`);
  if (r.uncached > 0) p.push(`${r.uncached} uncached (overflow) decisions`);
  if (r.alarms.length > 0) p.push(`leak alarm on a healthy run: ${r.alarms[0]!.message}`);
  return p;
}

/** The leak run's failed checks. */
export function leakProblems(r: SoakResult): string[] {
  const a = r.alarms[0];
  if (!a) return ["no leak alarm"];
  const p: string[] = [];
  if (a.t_s > 3600) p.push(`leak alarm only at ${a.t_s} s`);
  if (!/^route cache leak suspected: \d+ entries held unhashed \(allocated \d+, hashed \d+\), .*something keeps references.*; held by sockets that never release their route \(leak scenario\): \d+ entries/.test(a.message)) p.push(`alarm message: ${a.message}`);
  return p;
}

function describe(name: string, r: SoakResult): string {
  return (
    `${name}: ${r.hours} virtual hours in ${r.wallSeconds.toFixed(1)} s; ${Math.round(r.lookupsPerSecond)} lookups/s; ` +
    `allocated max ${r.maxAllocated} (first third ${r.firstThirdMaxAllocated}, last third ${r.lastThirdMaxAllocated}), hashed max ${r.maxHashed}, ` +
    `allocated − hashed max ${r.maxHeld} (references in flight max ${r.maxInFlight}), gc_dst_overflow ${r.overflows}, uncached ${r.uncached}; ` +
    `at the end allocated ${r.end.allocated}, hashed ${r.end.hashed}` +
    (r.maxSizeReachedAt !== undefined ? `; max_size ${MAX_SIZE} reached at ${(r.maxSizeReachedAt / 3600).toFixed(1)} h` : "")
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const arg = (name: string, def: number) => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : def;
  };
  const fullRate = argv.includes("--full-rate");
  const hours = arg("--hours", 72);
  const leakHours = arg("--leak-hours", Math.min(hours, 2));
  const seed = arg("--seed", 1);
  const healthy = soak({ hours, leak: false, fullRate, seed });
  const hp = healthyProblems(healthy);
  process.stdout.write(`${describe("healthy", healthy)}\n${hp.length ? `FAILED: ${hp.join("; ")}` : "healthy: PASS"}\n`);
  const leak = soak({ hours: leakHours, leak: true, fullRate, seed });
  const lp = leakProblems(leak);
  process.stdout.write(`${describe("leak", leak)}\n`);
  if (leak.alarms[0]) process.stdout.write(`first alarm at t=${leak.alarms[0].t_s} s: ${leak.alarms[0].message}\n`);
  process.stdout.write(lp.length ? `FAILED: ${lp.join("; ")}\n` : "leak: PASS\n");
  process.exitCode = hp.length || lp.length ? 1 : 0;
}
