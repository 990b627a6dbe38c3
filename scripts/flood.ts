/**
 * The random-source flood (issue #7), longer than the CI test: for each overflow mode, h1 floods random
 * source addresses at trafgen's full speed through `wasmroute run` while h3 sends a fixed-rate legit flow
 * to h2 (scripts/lib/flood-lab.ts has the topology and the method). Root only.
 *
 *   node --import tsx scripts/flood.ts [--seconds S] [--rhash-entries N] [--max-size M[,M2|default…]]
 *                                      [--legit-pps P] [--modes forward,kernel,backoff] [--backoff-ms MS]
 *                                      [--rounds R] [--json]
 *
 * Defaults: 30 s, 1,024 buckets, max_size 16 × buckets ("default"), 1,000 pps, modes forward and kernel,
 * one round. Mode backoff is forward with `--overflow-backoff MS` (--backoff-ms, default 1000).
 * Prints one table row per run (max sizes and modes alternate within a round, so machine noise hits
 * them alike; the foreign CPU column says how much there was);
 * --json prints the JSON document on stdout and the table on stderr.
 */
import { runFlood, type FloodResult, type OverflowMode } from "./lib/flood-lab.ts";

/** A router's overflow handling: forward, kernel, or backoff (forward with --overflow-backoff). */
type Mode = OverflowMode | "backoff";
import { cleanup } from "../bench/forward/topology.ts";

function parseArgs(argv: string[]) {
  const o = { seconds: 30, rhashEntries: 1024, maxSizes: [undefined] as (number | undefined)[], legitPps: 1000, modes: ["forward", "kernel"] as Mode[], backoffMs: 1000, rounds: 1, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (min: number, max: number) => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${a} wants an integer from ${min} to ${max}, got "${argv[i] ?? ""}"`);
      return v;
    };
    if (a === "--seconds") o.seconds = num(1, 600);
    else if (a === "--rhash-entries") o.rhashEntries = num(1, 1 << 20);
    else if (a === "--max-size") {
      const v = argv[++i] ?? "";
      o.maxSizes = v.split(",").map((x) => {
        if (x === "default") return undefined;
        const m = Number(x);
        if (!/^\d+$/.test(x) || m < 1 || m > 1 << 26) throw new Error(`--max-size wants entries (1 to 67108864) or "default", comma-separated, got "${v}"`);
        return m;
      });
    }
    else if (a === "--legit-pps") o.legitPps = num(1, 20_000);
    else if (a === "--rounds") o.rounds = num(1, 10);
    else if (a === "--modes") {
      const m = (argv[++i] ?? "").split(",");
      if (m.length === 0 || m.some((x) => x !== "forward" && x !== "kernel" && x !== "backoff")) throw new Error(`--modes wants forward, kernel and backoff, comma-separated, got "${argv[i] ?? ""}"`);
      o.modes = m as Mode[];
    } else if (a === "--backoff-ms") {
      o.backoffMs = num(1, 3_600_000);
    } else if (a === "--json") o.json = true;
    else throw new Error(`unknown option "${a}"`);
  }
  return o;
}

const n = (x: number) => Math.round(x).toLocaleString("en-US");

function table(rows: FloodResult[]): string {
  const head = ["max_size", "mode", "flood offered pps", "accepted pps", "forwarded pps", "legit pps", "legit delivered", "legit hit rate: during flood / whole run (lower bound, entries)", "max allocated", "gc_total", "gc_ignored", "gc_goal_miss", "gc_dst_overflow", "uncached", "NoBufs drops", "overflow log lines", "ping after", "foreign CPU"];
  const lines = rows.map((r) => [
    n(r.maxSize), r.overflowBackoffMs ? `${r.overflow}, back-off ${r.overflowBackoffMs} ms` : r.overflow, n(r.flood.offeredPps), n(r.flood.acceptedPps), n(r.flood.forwardedPps),
    n(r.legit.pps), `${r.legit.delivered}/${r.legit.sent} (${r.legit.deliveredPct.toFixed(2)} %)`,
    `${r.legit.duringFlood.hitRatePct.toFixed(2)} % / ${r.legit.hitRatePct.toFixed(2)} % (≥ ${r.legit.hitRateLowerBoundPct.toFixed(2)} %, ${r.legit.lifetimes})`,
    n(r.allocated.max), n(r.counters.gc_total), n(r.counters.gc_ignored), n(r.counters.gc_goal_miss), n(r.counters.gc_dst_overflow),
    n(r.uncached), n(r.dropsNoBufs), String(r.overflowLogLines), /(\d+) received/.exec(r.after.pingThrough)?.[1] ?? "0", `${r.foreignCpuPct} %`,
  ]);
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...lines.map((l) => `| ${l.join(" | ")} |`)].join("\n");
}

const o = parseArgs(process.argv.slice(2));
if (process.getuid?.() !== 0) {
  console.error("flood: needs root (network namespaces, TAPs)");
  process.exit(2);
}
cleanup.install(); // Ctrl-C removes the namespaces
const rows: FloodResult[] = [];
for (let round = 0; round < o.rounds; round++) {
  for (const maxSize of o.maxSizes) for (const mode of o.modes) {
    const r = await runFlood({ overflow: mode === "backoff" ? "forward" : mode, overflowBackoffMs: mode === "backoff" ? o.backoffMs : undefined, rhashEntries: o.rhashEntries, maxSize, floodSeconds: o.seconds, floodMax: 400_000 * o.seconds, legitPps: o.legitPps, legitMarginS: 2, sampleMs: 250, log: (l) => console.error(l) });
    rows.push(r);
    console.error(table([r]).split("\n")[2]);
    if (r.legit.hits > r.legit.sent + r.legit.repeatsAllowed) {
      console.error(`flood: ${r.legit.hits} cache hits for ${r.legit.sent} legit packets (+ ${r.legit.repeatsAllowed} random repeats allowed): something else hit the cache`);
      process.exitCode = 1;
    }
  }
}
const text = table(rows);
const doc = {
  scenario: { seconds: o.seconds, rhashEntries: o.rhashEntries, maxSizes: o.maxSizes.map((m) => m ?? "16 × buckets"), legitPps: o.legitPps, rounds: o.rounds },
  runs: rows.map(({ routerLog, after, ...r }) => ({ ...r, pingThroughReceived: Number(/(\d+) received/.exec(after.pingThrough)?.[1] ?? 0), pingRouterReceived: Number(/(\d+) received/.exec(after.pingRouter)?.[1] ?? 0), pingRouterSummary: after.pingRouter.trim().split("\n").slice(-2), routerLogTail: routerLog.split("\n").slice(-6) })),
};
if (o.json) {
  process.stderr.write(text + "\n");
  process.stdout.write(JSON.stringify(doc, null, 2) + "\n");
} else process.stdout.write(text + "\n");
