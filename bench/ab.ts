/**
 * `npm run bench -- ab --base REF|FILE.wasm [--rounds N] [--stages] [--updates] [--quick]`: the working tree's core (wasm/release.wasm)
 * against another build of it, in one process, so that a change to the core is judged on a shared, noisy
 * machine by what the two builds do in the same minutes. The base is a git ref, whose assembly/ and
 * asconfig.json are compiled into a temporary directory with this checkout's AssemblyScript, or a compiled
 * core. Each build gets its own core instance, filled alike: the real table, then the flows of the cache bench.
 *
 * Probes (ns per key, CPU time of the process, as the cache bench measures them): cache hits over 4,096 flows
 * alone in the table (the small cache), then over all flows in random order, in insertion order and over
 * their first 4,096 (cache-resident); the batched LPM over uniform random keys and over keys inside
 * announced space (the lookup bench's sets). In every round each probe runs on both builds back to back, the
 * order swapped each round. The figure per probe is the median over the rounds of each build, and the median of
 * the rounds' ratios new/base, with the middle half of those ratios. With --stages, the random-order hit is also
 * run up to each pass of the fast path (cache_hit_stages), and each build's cost is split by pass as the cache
 * bench splits it. With --updates, also FIB updates (ns per update, CPU time): each round adds 20,000 new prefixes
 * to each build's full table, each as its own transaction, and deletes them (bench/update-sets.ts), after one
 * pass over another 20,000 on each, so that the host's JavaScript, which the two builds share, is compiled.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { coreModule } from "../host/core/load.ts";
import { announcedKeys, uniformKeys, xorshift32 } from "./keys.ts";
import { BATCH, cpuNsPerKey, median, shuffle } from "./timing.ts";
import { churn, newPrefixSets, type NewPrefix } from "./update-sets.ts";
import type { Nexthop } from "../host/fib/types.ts";
import { KEY_BYTES, benchCache, permutedKeys, readBenchTable, stagesOf, stagesText, type BenchCache, type CidrList } from "./cache-setup.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const SMALL_FLOWS = 4096;
/** Next hops of the update probe's routes, on the bench cache's interfaces. */
const UPDATE_HOPS: Nexthop[] = Array.from({ length: 16 }, (_, i) => ({ gateway: (0x0aff0000 + i + 1) >>> 0, dev: `eth${1 + (i % 7)}`, weight: 1, onlink: false }));
const LPM_KEYS = 1 << 20;

interface AbOptions {
  base: string;
  rounds: number;
  flows: number;
  /** Also the random-order hit's passes (cache_hit_stages 1–4), so that a difference can be placed. */
  stages: boolean;
  /** Also FIB updates: 0 for none, else the prefixes a round adds and deletes. */
  updates: number;
}

function parseAbArgs(args: string[]): AbOptions {
  const quick = args.includes("--quick");
  const o: AbOptions = { base: "", rounds: 15, flows: quick ? 1 << 16 : 1 << 18, stages: args.includes("--stages"), updates: args.includes("--updates") ? (quick ? 2000 : 20000) : 0 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--quick" || a === "--stages" || a === "--updates") continue;
    const v = args[++i] ?? "";
    if (a === "--base" && v !== "" && !v.startsWith("--")) o.base = v;
    else if (a === "--rounds" && /^\d+$/.test(v) && +v >= 1 && +v <= 201) o.rounds = +v;
    else throw new Error(`bad option ${a} ${v} (--base REF|FILE.wasm, --rounds 1–201, --quick, --stages, --updates)`);
  }
  if (o.base === "") throw new Error("--base REF|FILE.wasm is required: the build to compare the working tree's core with");
  return o;
}

/** The base build's bytes: a compiled core as given, or the release build of a git ref's assembly/. */
function baseWasm(base: string): { bytes: Uint8Array; label: string } {
  if (base.endsWith(".wasm")) {
    if (!existsSync(base)) throw new Error(`--base ${base}: no such file`);
    return { bytes: readFileSync(base), label: base };
  }
  let commit: string;
  try {
    commit = execFileSync("git", ["-C", root, "rev-parse", "--verify", "--quiet", `${base}^{commit}`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    throw new Error(`--base ${base}: not a commit of this checkout, nor a .wasm file`);
  }
  const dir = mkdtempSync(join(tmpdir(), "wr-ab-"));
  try {
    const tar = execFileSync("git", ["-C", root, "archive", "--format=tar", commit, "assembly", "asconfig.json"], { maxBuffer: 256 << 20 });
    execFileSync("tar", ["-x", "-C", dir], { input: tar });
    // The CLI, not the API: asc's type declarations redeclare globals that the host's code uses.
    const r = spawnSync(process.execPath, [join(root, "node_modules", "assemblyscript", "bin", "asc.js"), "--config", join(dir, "asconfig.json"), "--target", "release"], { encoding: "utf8", timeout: 300_000 });
    if (r.status !== 0) throw new Error(`--base ${base}: its core did not compile: ${(r.stderr || String(r.error)).trim().split("\n").find((l) => /ERROR/.test(l)) ?? "asc failed"}`);
    const outFile = (JSON.parse(readFileSync(join(dir, "asconfig.json"), "utf8")) as { targets?: { release?: { outFile?: string } } }).targets?.release?.outFile;
    if (!outFile || !existsSync(join(dir, outFile))) throw new Error(`--base ${base}: its asconfig.json has no release build this bench can find`);
    return { bytes: readFileSync(join(dir, outFile)), label: `${base} (${commit.slice(0, 7)})` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Probe = () => number;

/** One build's core, filled and ready to probe. Keys live in its own memory, so the two builds read alike. */
class Side {
  readonly b: BenchCache;
  private readonly out: number;
  private readonly lpmOut: number;

  constructor(list: CidrList, flows: number, module: WebAssembly.Module) {
    this.b = benchCache(list, flows, module);
    this.out = this.b.fib.core.alloc(BATCH * 24);
    this.lpmOut = this.b.fib.core.alloc(BATCH * 4);
  }

  insert(from: number, to: number): void {
    const x = this.b.fib.core.x;
    for (let i = from; i < to; i += BATCH) x.cache_input_batch(this.b.keyArea + i * KEY_BYTES, this.out, Math.min(BATCH, to - i), 1000, 0);
  }

  /**
   * Hits over `n` keys from `keys`, two sweeps of all flows' worth of calls (as the cache bench times them): the
   * whole fast path, or with `upTo` 1–4 its passes up to that one (cache_hit_stages).
   */
  hits(keys: number, n: number, flows: number, upTo = 0): Probe {
    const x = this.b.fib.core.x;
    const out = this.out;
    const calls = n / BATCH;
    const batch = upTo === 0 ? (k: number) => x.cache_input_batch(k, out, BATCH, 2000, 0) : (k: number) => x.cache_hit_stages(k, out, BATCH, 2000, upTo);
    return () => cpuNsPerKey((2 * flows) / BATCH, (c) => batch(keys + (c % calls) * BATCH * KEY_BYTES));
  }

  /** ns per FIB update (CPU time): every prefix of `set` added to the main table, then deleted. */
  updates(set: readonly NewPrefix[]): Probe {
    return () => {
      const t0 = process.cpuUsage();
      churn(this.b.fib, set, UPDATE_HOPS);
      const d = process.cpuUsage(t0);
      return ((d.user + d.system) * 1e3) / (2 * set.length);
    };
  }

  /** The batched LPM of the main table over `keys` (copied into this core's memory), two sweeps. */
  lpm(keys: Uint32Array): Probe {
    const core = this.b.fib.core;
    const area = core.alloc(keys.length * 4);
    core.u32().set(keys, area >>> 2);
    const t = this.b.fib.coreIndex(254);
    const calls = keys.length / BATCH;
    return () => cpuNsPerKey(2 * calls, (c) => core.x.fib_lookup_batch(t, area + (c % calls) * BATCH * 4, this.lpmOut, BATCH));
  }
}

interface ProbeResult {
  baseNs: number;
  newNs: number;
  /** Median of the rounds' new/base ratios, and the middle half of them. */
  ratio: number;
  ratioQ1: number;
  ratioQ3: number;
  baseRounds: number[];
  newRounds: number[];
}

/** Runs each probe on both sides in every round, the side going first swapped each round. */
function alternatePairs(probes: Record<string, [Probe, Probe]>, rounds: number): Record<string, ProbeResult> {
  const runs: Record<string, [number[], number[]]> = Object.fromEntries(Object.keys(probes).map((k) => [k, [[], []]]));
  for (let r = 0; r < rounds; r++) {
    for (const [k, pair] of Object.entries(probes)) {
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      for (const s of order) runs[k]![s]!.push(pair[s]!());
    }
  }
  const q = (a: number[], f: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * f))]!;
  return Object.fromEntries(
    Object.entries(runs).map(([k, [b, n]]) => {
      const ratios = b.map((v, i) => n[i]! / v);
      return [k, { baseNs: median(b), newNs: median(n), ratio: median(ratios), ratioQ1: q(ratios, 0.25), ratioQ3: q(ratios, 0.75), baseRounds: b, newRounds: n }];
    }),
  );
}

const PROBE_NAMES: Record<string, string> = {
  smallCache: "cache hits, 4,096 flows alone in the table",
  randomOrder: "cache hits, all flows, random order",
  insertionOrder: "cache hits, all flows, insertion order",
  resident: "cache hits, first 4,096 of all flows",
  lpmUniform: "batched LPM, uniform random keys",
  lpmAnnounced: "batched LPM, keys inside announced space",
  randomStage1: "random order, pass 1a only (hash)",
  randomStage2: "random order, up to 1b (+ bucket, first entry)",
  randomStage3: "random order, up to 2 (+ chain walk)",
  randomStage4: "random order, up to 3's compare (+ key compare)",
  updates: "FIB update (ns per add or delete)",
};

export async function runAbBench(args: string[]): Promise<{ json: unknown; table: string }> {
  const o = parseAbArgs(args);
  const base = baseWasm(o.base);
  const list = readBenchTable();
  const baseModule = new WebAssembly.Module(base.bytes);
  const newModule = coreModule("release");
  let base0: Side;
  try {
    base0 = new Side(list, o.flows, baseModule);
  } catch (e) {
    // A core older than the host's calls: name what it lacks instead of a TypeError from deep inside.
    const has = new Set(WebAssembly.Module.exports(baseModule).map((x) => x.name));
    const lacks = WebAssembly.Module.exports(newModule).map((x) => x.name).filter((n) => !has.has(n));
    if (e instanceof TypeError && lacks.length > 0) throw new Error(`--base ${o.base}: its core is too old for this host (it lacks ${lacks.slice(0, 4).join(", ")}${lacks.length > 4 ? ", …" : ""})`);
    const abi = /core ABI (\d+) does not match host ABI (\d+)/.exec((e as Error).message);
    if (abi) throw new Error(`--base ${o.base}: its core speaks ABI ${abi[1]} and this host ABI ${abi[2]}: compare against a base of the same ABI (abi_version in assembly/index.ts)`);
    throw e;
  }
  const sides = [base0, new Side(list, o.flows, newModule)] as const;
  const pair = (f: (s: Side) => Probe): [Probe, Probe] => [f(sides[0]), f(sides[1])];

  for (const s of sides) s.insert(0, SMALL_FLOWS);
  const small = alternatePairs({ smallCache: pair((s) => s.hits(s.b.keyArea, SMALL_FLOWS, o.flows)) }, o.rounds);
  for (const s of sides) s.insert(SMALL_FLOWS, o.flows);
  const hashed = sides.map((s) => s.b.cache.hashed);
  if (hashed[0] !== hashed[1]) throw new Error(`the two builds cached different numbers of flows (${hashed[0]} and ${hashed[1]}): they do not behave alike`);

  const perm = shuffle(o.flows, xorshift32(5));
  const shuffled = sides.map((s) => permutedKeys(s.b, perm));
  const uniform = uniformKeys(LPM_KEYS, 0x1234567);
  const announced = announcedKeys(LPM_KEYS, 0x7654321, list.addrs, list.lens);
  const rest = alternatePairs(
    {
      randomOrder: [sides[0].hits(shuffled[0]!, o.flows, o.flows), sides[1].hits(shuffled[1]!, o.flows, o.flows)],
      insertionOrder: pair((s) => s.hits(s.b.keyArea, o.flows, o.flows)),
      resident: pair((s) => s.hits(s.b.keyArea, SMALL_FLOWS, o.flows)),
      lpmUniform: pair((s) => s.lpm(uniform)),
      lpmAnnounced: pair((s) => s.lpm(announced)),
      ...(o.stages ? Object.fromEntries([1, 2, 3, 4].map((st) => [`randomStage${st}`, [0, 1].map((k) => sides[k]!.hits(shuffled[k]!, o.flows, o.flows, st)) as [Probe, Probe]])) : {}),
    },
    o.rounds,
  );
  // Updates last: they leave each table as they found it, but the cache probes above should not follow them.
  let updates: Record<string, ProbeResult> = {};
  if (o.updates > 0) {
    const sets = newPrefixSets(list.addrs, list.lens, o.updates);
    for (const s of sides) s.updates(sets.b)(); // the host's update path compiled before the first timed round
    updates = alternatePairs({ updates: pair((s) => s.updates(sets.a)) }, o.rounds);
  }
  const probes = { ...small, ...rest, ...updates };

  // The passes' split from each build's medians, as the cache bench gives it (stage 5 is the whole fast path).
  const split = (k: "baseNs" | "newNs") => stagesOf({ ...Object.fromEntries([1, 2, 3, 4].map((st) => [`s${st}`, probes[`randomStage${st}`]![k]])), s5: probes.randomOrder![k] }, "s");
  const stageSplit = o.stages ? { base: split("baseNs"), new: split("newNs") } : undefined;
  const json = { base: base.label, new: "working tree (wasm/release.wasm)", rounds: o.rounds, flows: o.flows, cachedFlows: hashed[0], updatesPerRound: o.updates, probes, ...(stageSplit ? { randomOrderSplitNsPerKey: stageSplit } : {}) };
  const rows = Object.entries(probes).map(([k, p]) => [PROBE_NAMES[k]!, p.baseNs.toFixed(1), p.newNs.toFixed(1), `${p.ratio.toFixed(3)} (${p.ratioQ1.toFixed(3)}–${p.ratioQ3.toFixed(3)})`]);
  const head = ["probe", "base ns/key", "new ns/key", "new/base, median of rounds (middle half)"];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join(" | ")} |`;
  const table = [
    `A/B of the core — base ${base.label} against the working tree; ${o.flows} flows, ${o.rounds} rounds${o.updates ? `, ${o.updates} updates a round` : ""}, CPU time`,
    line(head),
    `|${w.map((n, i) => (i === 0 ? "-".repeat(n + 2) : "-".repeat(n + 1) + ":")).join("|")}|`,
    ...rows.map(line),
    ...(stageSplit ? [`random order by pass, base: ${stagesText(stageSplit.base)}`, `random order by pass, new:  ${stagesText(stageSplit.new)}`] : []),
  ].join("\n");
  return { json, table };
}
