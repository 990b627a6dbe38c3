/**
 * The FIB lookup benchmark (issue #2): on the real 901,899-prefix table, in one process —
 * batched WASM lookups (uniform random keys and keys inside announced space), per-call WASM lookups,
 * full-table build time, incremental updates/s, bytes of the lookup structure; and for comparison a
 * plain-JS DIR-24-8 over typed arrays and the npm LPM/CIDR libraries on subsets of the table.
 * ns/op figures come from mitata's measure(); every lookup rate is keys / mean time of one call.
 */
import os from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { measure, do_not_optimize } from "mitata";
import { Fib } from "../host/fib/fib.ts";
import { readCidrListFile } from "../host/fib/cidr-list.ts";
import { NEXTHOP_RULE, assignNexthop } from "../host/fib/nexthop-rule.ts";
import type { Nexthop } from "../host/fib/types.ts";
import { JsDir248 } from "./baselines/js-dir248.ts";
import { createNpmPeers } from "./baselines/npm-peers.ts";
import { uniformKeys, announcedKeys } from "./keys.ts";
import { churn, newPrefixSets, type NewPrefix } from "./update-sets.ts";

const here = dirname(fileURLToPath(import.meta.url));
const DEFAULT_TABLE = join(here, "data", "bgp-ipv4-2024-01.txt.gz");
const BATCH = 1024;
const NKEYS = 1 << 20;
const POOL = 256;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function option(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
}

const pool: Nexthop[] = Array.from({ length: POOL }, (_, i) => ({
  gateway: (0x0aff0000 + i + 1) >>> 0,
  dev: `eth${i % 8}`,
  weight: 1,
  onlink: false,
}));

/** Mean ns of one call of fn, by mitata. */
async function nsPerCall(fn: () => void): Promise<number> {
  const s = await measure(fn, { min_cpu_time: 400e6 });
  return s.avg;
}

/** Batched WASM lookups/s over keys already in linear memory, BATCH keys per call. */
async function wasmBatched(fib: Fib, table: number, keys: Uint32Array): Promise<number> {
  const x = fib.core.x;
  const t = fib.coreIndex(table);
  const kp = fib.core.alloc(keys.length * 4);
  const op = fib.core.alloc(BATCH * 4);
  fib.core.u32().set(keys, kp >>> 2);
  const calls = keys.length / BATCH;
  let c = 0;
  const ns = await nsPerCall(() => {
    x.fib_lookup_batch(t, kp + (c++ % calls) * BATCH * 4, op, BATCH);
  });
  fib.core.x.mem_free(kp, keys.length * 4);
  fib.core.x.mem_free(op, BATCH * 4);
  return (BATCH / ns) * 1e9;
}

/** One JS→WASM call per lookup. */
async function wasmPerCall(fib: Fib, table: number, keys: Uint32Array): Promise<number> {
  const x = fib.core.x;
  const t = fib.coreIndex(table);
  const calls = keys.length / BATCH;
  let c = 0;
  const ns = await nsPerCall(() => {
    const base = (c++ % calls) * BATCH;
    let sum = 0;
    for (let i = 0; i < BATCH; i++) sum += x.fib_lookup(t, keys[base + i]!);
    do_not_optimize(sum);
  });
  return (BATCH / ns) * 1e9;
}

async function jsBatched(dir: JsDir248, keys: Uint32Array): Promise<number> {
  const views = Array.from({ length: keys.length / BATCH }, (_, i) => keys.subarray(i * BATCH, (i + 1) * BATCH));
  const out = new Uint32Array(BATCH);
  let c = 0;
  const ns = await nsPerCall(() => {
    dir.lookupBatch(views[c++ % views.length]!, out, BATCH);
  });
  return (BATCH / ns) * 1e9;
}

async function peerRate(lookup: (a: number) => number, keys: Uint32Array): Promise<number> {
  let c = 0;
  const ns = await nsPerCall(() => {
    do_not_optimize(lookup(keys[c++ & (keys.length - 1)]!));
  });
  return 1e9 / ns;
}

function subset(addrs: Uint32Array, lens: Uint8Array, every: number): { addrs: Uint32Array; lens: Uint8Array } {
  const n = Math.floor(addrs.length / every);
  const a = new Uint32Array(n);
  const l = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = addrs[i * every]!;
    l[i] = lens[i * every]!;
  }
  return { addrs: a, lens: l };
}

const fmtRate = (r: number) => (r >= 1e6 ? `${(r / 1e6).toFixed(1)} M/s` : `${(r / 1e3).toFixed(1)} k/s`);
const fmtMiB = (b: number) => `${(b / 1048576).toFixed(2)} MiB`;

export async function runLookupBench(args: string[]): Promise<{ json: unknown; table: string }> {
  const file = option(args, "--table", DEFAULT_TABLE);
  const nUpdates = Number(option(args, "--updates", "20000"));
  const quick = args.includes("--quick");

  // ── load ──
  let t0 = performance.now();
  const list = readCidrListFile(file);
  const parseSeconds = (performance.now() - t0) / 1000;
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const fib = new Fib();
  t0 = performance.now();
  fib.loadCidrList(list.addrs, list.lens, { table: 254, nexthops: pool });
  const buildSeconds = (performance.now() - t0) / 1000;
  gc();
  const ribHeapBytes = process.memoryUsage().heapUsed - heap0;
  const ribArrayBytes = fib.ribArrayBytes(254); // typed arrays: outside heapUsed
  const tableBytes = fib.lookupBytes(254);
  const routeListBytes = fib.routeListBytes(254);
  fib.check();

  // ── keys ──
  const uni = uniformKeys(NKEYS, 0x1234567);
  const ann = announcedKeys(NKEYS, 0x7654321, list.addrs, list.lens);

  // ── WASM ──
  const batchedUniform = await wasmBatched(fib, 254, uni);
  const batchedAnnounced = await wasmBatched(fib, 254, ann);
  const perCall = await wasmPerCall(fib, 254, uni);

  // ── plain-JS DIR-24-8 on the same table and next hops ──
  const values = new Uint32Array(list.addrs.length);
  for (let i = 0; i < values.length; i++) values[i] = assignNexthop(list.addrs[i]!, list.lens[i]!, POOL) + 1;
  const dir = new JsDir248(list.addrs, list.lens, values);
  const jsUniform = await jsBatched(dir, uni);
  const jsAnnounced = await jsBatched(dir, ann);

  // ── incremental updates into the full table ──
  // Two sets of new prefixes, A and B (update-sets.ts); each pass adds every prefix of a set, then deletes each.
  const { a: adds, b: otherAdds } = newPrefixSets(list.addrs, list.lens, nUpdates);
  const churnRate = (set: NewPrefix[]): number => {
    const t = performance.now();
    churn(fib, set, pool);
    return (2 * set.length) / ((performance.now() - t) / 1000);
  };
  gc(); // the garbage of the setup above is not the updates' cost
  // A first: no update has run in this process yet (V8 still compiling the update path). Then B, prefixes
  // and /16s no update has touched, with the update path compiled. Then A again: a flapping prefix.
  const updatesColdPerSec = churnRate(adds);
  const updatesPerSec = churnRate(otherAdds);
  const updatesAgainPerSec = churnRate(adds);
  fib.check();

  // ── npm libraries on subsets (they are too slow for the full table) ──
  const peers = [];
  for (const peer of createNpmPeers()) {
    const every = peer.name.startsWith("netmask") ? 900 : 90; // ~1,000 or ~10,000 prefixes
    const sub = subset(list.addrs, list.lens, every);
    const subValues = new Uint32Array(sub.addrs.length);
    for (let i = 0; i < subValues.length; i++) subValues[i] = assignNexthop(sub.addrs[i]!, sub.lens[i]!, POOL) + 1;
    const keys = announcedKeys(1 << 14, 99, sub.addrs, sub.lens);
    peer.build(sub.addrs, sub.lens, subValues);
    const rate = quick ? 0 : await peerRate((a) => peer.lookup(a), keys);
    const subFib = new Fib();
    subFib.loadCidrList(sub.addrs, sub.lens, { table: 254, nexthops: pool });
    const wasm = await wasmBatched(subFib, 254, announcedKeys(1 << 16, 99, sub.addrs, sub.lens));
    peers.push({ name: peer.name, membershipOnly: peer.membershipOnly, prefixes: sub.addrs.length, lookupsPerSec: rate, wasmLookupsPerSec: wasm, ratio: rate ? wasm / rate : 0 });
  }

  const json = {
    suite: "lookup",
    machine: { node: process.version, cpu: os.cpus()[0]?.model ?? "?", cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) },
    table: { file: file.split("/").pop(), prefixes: list.addrs.length, nexthopPool: POOL, nexthopRule: NEXTHOP_RULE },
    method: { batchKeys: BATCH, keySet: NKEYS, timer: "mitata measure(), mean ns per call" },
    batchedLookupsPerSec: batchedUniform,
    batchedAnnouncedLookupsPerSec: batchedAnnounced,
    perCallLookupsPerSec: perCall,
    jsDir248LookupsPerSec: jsUniform,
    jsDir248AnnouncedLookupsPerSec: jsAnnounced,
    ratioVsJsDir248: batchedUniform / jsUniform,
    ratioVsJsDir248Announced: batchedAnnounced / jsAnnounced,
    tableBytes,
    jsDir248Bytes: dir.bytes,
    ribHeapBytes,
    ribArrayBytes,
    routeListBytes,
    parseSeconds,
    buildSeconds,
    updates: adds.length * 2,
    updatesColdPerSec,
    updatesPerSec,
    updatesAgainPerSec,
    npmPeers: peers,
    targets: {
      batchedLookupsPerSec: { goal: 150e6, met: batchedUniform >= 150e6 },
      ratioVsJsDir248: { goal: 1.5, met: batchedUniform / jsUniform >= 1.5 },
      tableBytes: { goal: 8 * 2 ** 20, met: tableBytes <= 8 * 2 ** 20 },
      buildSeconds: { goal: 2, met: buildSeconds <= 2 },
      updatesPerSec: { goal: 500e3, met: updatesPerSec >= 500e3 },
    },
  };

  const rows: [string, string, string][] = [
    ["WASM FIB, batched (1024/call), uniform random", fmtRate(batchedUniform), "goal ≥ 150 M/s"],
    ["WASM FIB, batched, inside announced space", fmtRate(batchedAnnounced), ""],
    ["WASM FIB, one JS→WASM call per lookup", fmtRate(perCall), ""],
    ["plain-JS DIR-24-8, uniform random", fmtRate(jsUniform), `WASM ×${(batchedUniform / jsUniform).toFixed(2)} (goal ≥ 1.5)`],
    ["plain-JS DIR-24-8, announced space", fmtRate(jsAnnounced), `WASM ×${(batchedAnnounced / jsAnnounced).toFixed(2)}`],
    ["lookup structure (WASM FIB)", fmtMiB(tableBytes), "goal ≤ 8 MiB"],
    ["plain-JS DIR-24-8 arrays", fmtMiB(dir.bytes), ""],
    ["control-plane RIB (JS heap + typed arrays)", fmtMiB(ribHeapBytes + ribArrayBytes), `heap ${fmtMiB(ribHeapBytes)}, arrays ${fmtMiB(ribArrayBytes)}`],
    ["RIB's /16 route lists (core memory)", fmtMiB(routeListBytes), "the records /16 rebuilds read"],
    ["full-table build (parsed → ready)", `${buildSeconds.toFixed(2)} s`, `goal ≤ 2 s; gz parse ${parseSeconds.toFixed(2)} s`],
    [`incremental updates (${adds.length} adds + deletes), the process's first`, fmtRate(updatesColdPerSec), "V8 still compiling the update path"],
    [`incremental updates (${otherAdds.length} others), new prefixes`, fmtRate(updatesPerSec), "goal ≥ 500 k/s"],
    ["the first updates again", fmtRate(updatesAgainPerSec), "a flapping prefix: its /16 warm"],
    ...peers.map((p): [string, string, string] => [
      `npm ${p.name} (${p.prefixes} prefixes${p.membershipOnly ? ", membership only" : ""})`,
      quick ? "skipped" : fmtRate(p.lookupsPerSec),
      quick ? "" : `WASM on same subset ×${p.ratio.toFixed(0)}`,
    ]),
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const table = [
    `lookup benchmark — ${json.table.file}: ${list.addrs.length} prefixes, ${POOL} next hops (${NEXTHOP_RULE})`,
    `${json.machine.cpus} × ${json.machine.cpu}, Node ${process.version}`,
    ...rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`),
  ].join("\n");
  return { json, table };
}
