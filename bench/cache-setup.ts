/**
 * The route cache benches' common ground (bench/cache.ts, bench/ab.ts): the real table with 256 next hops and
 * a default route in a FIB, a cache of 262,144 buckets over it with forwarding on one interface, and the keys
 * of `flows` random unicast flows written into the core's memory. Nothing is inserted here.
 */
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Fib } from "../host/fib/fib.ts";
import { readCidrListFile } from "../host/fib/cidr-list.ts";
import { RouteCache } from "../host/cache/cache.ts";
import { unicastAddress as unicast } from "../host/sim/simulate.ts";
import { xorshift32 } from "./keys.ts";

export const BENCH_BUCKETS = 262144;
/** Bytes of one cache key in linear memory (daddr, saddr, iif, tos, mark). */
export const KEY_BYTES = 20;

export type CidrList = ReturnType<typeof readCidrListFile>;

export function readBenchTable(): CidrList {
  return readCidrListFile(join(dirname(fileURLToPath(import.meta.url)), "data", "bgp-ipv4-2024-01.txt.gz"));
}

export interface BenchCache {
  fib: Fib;
  cache: RouteCache;
  /** `flows` keys of KEY_BYTES each, in insertion order. */
  keyArea: number;
  /** The same flows' destinations, u32 each (for the FIB-only lookup). */
  dsts: number;
}

/** A core (a build's compiled module, or the working tree's release build) set up as above. */
export function benchCache(list: CidrList, flows: number, module?: WebAssembly.Module): BenchCache {
  const fib = new Fib({ module });
  fib.loadCidrList(list.addrs, list.lens, {
    table: 254,
    nexthops: Array.from({ length: 256 }, (_, i) => ({ gateway: (0x0aff0000 + i + 1) >>> 0, dev: `eth${1 + (i % 7)}`, weight: 1, onlink: false })),
  });
  fib.addRoute({ prefix: 0, len: 0, type: "unicast", table: 254, metric: 0, nexthops: [{ gateway: 0xc00002fe, dev: "eth1", weight: 1, onlink: false }] });
  const cache = new RouteCache(fib, { buckets: BENCH_BUCKETS, secret: 0xc0ffee, seed: 7, now: 0 });
  cache.setInterface("eth0", { forwarding: true, rpFilter: 0, hasAddresses: true });
  cache.set("gcThresh", 1 << 30); // hits and inserts without GC in the way
  cache.set("maxSize", 1 << 30);
  const iif = fib.ifaces.index("eth0");
  const r = xorshift32(99);
  const keyArea = fib.core.alloc(flows * KEY_BYTES);
  const dsts = fib.core.alloc(flows * 4);
  const m = fib.core.u32();
  for (let i = 0; i < flows; i++) {
    const w = (keyArea >>> 2) + i * 5;
    m[w] = unicast(r());
    m[w + 1] = unicast(r());
    m[w + 2] = iif;
    m[w + 3] = 0;
    m[w + 4] = 0;
    m[(dsts >>> 2) + i] = m[w]!;
  }
  return { fib, cache, keyArea, dsts };
}

/** A copy of the keys at keyArea in the order perm gives (entry addresses then have nothing to do with key order). */
export function permutedKeys(b: BenchCache, perm: Uint32Array): number {
  const area = b.fib.core.alloc(perm.length * KEY_BYTES);
  const m = b.fib.core.u32();
  for (let i = 0; i < perm.length; i++) m.copyWithin((area >>> 2) + i * 5, (b.keyArea >>> 2) + perm[i]! * 5, (b.keyArea >>> 2) + perm[i]! * 5 + 5);
  return area;
}

// ── the fast path's cost by pass (cache_hit_stages 1–5, cumulative) ──

export interface StageSplit {
  hash: number;
  bucketAndHeadLoad: number;
  chainWalk: number;
  keyCompare: number;
  useAndAnswerStores: number;
  total: number;
}

/** The fast path's cost by pass, from the cumulative probes `${prefix}1` … `${prefix}5` (cache_hit_stages). */
export function stagesOf(ns: Record<string, number>, prefix: string): StageSplit {
  const at = (s: number) => ns[`${prefix}${s}`]!;
  return { hash: at(1), bucketAndHeadLoad: at(2) - at(1), chainWalk: at(3) - at(2), keyCompare: at(4) - at(3), useAndAnswerStores: at(5) - at(4), total: at(5) };
}

export function stagesText(s: StageSplit): string {
  return `hash ${s.hash.toFixed(1)} + bucket + head entry ${s.bucketAndHeadLoad.toFixed(1)} + chain walk ${s.chainWalk.toFixed(1)} + key compare ${s.keyCompare.toFixed(1)} + use/answer stores ${s.useAndAnswerStores.toFixed(1)}`;
}
