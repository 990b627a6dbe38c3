/**
 * The update workload of the benchmarks that time FIB updates (lookup, ab): prefixes the table does not have,
 * from the synthetic generator (scripts/lib/synthetic-table.ts, seed 4242), shuffled so that consecutive
 * updates do not share a /16, and a pass that adds each of a set as its own transaction, then deletes each.
 */
import type { Fib } from "../host/fib/fib.ts";
import type { Nexthop } from "../host/fib/types.ts";
import { generateTable } from "../scripts/lib/synthetic-table.ts";

export interface NewPrefix {
  prefix: number;
  len: number;
}

/** Two sets of n prefixes that the table (addrs, lens) does not hold, in random order: A, then B. */
export function newPrefixSets(addrs: Uint32Array, lens: Uint8Array, n: number): { a: NewPrefix[]; b: NewPrefix[] } {
  const known = new Set<number>();
  for (let i = 0; i < addrs.length; i++) known.add(addrs[i]! * 64 + lens[i]!);
  const fresh = generateTable({ size: Math.max(n * 6, 2000), seed: 4242 });
  const news: NewPrefix[] = [];
  for (let i = 0; i < fresh.addrs.length && news.length < 2 * n; i++) {
    if (!known.has(fresh.addrs[i]! * 64 + fresh.lens[i]!)) news.push({ prefix: fresh.addrs[i]!, len: fresh.lens[i]! });
  }
  for (let i = news.length - 1; i > 0; i--) {
    const j = (i * 2654435761) % (i + 1);
    [news[i], news[j]] = [news[j]!, news[i]!];
  }
  return { a: news.slice(0, n), b: news.slice(n) };
}

/** Adds every prefix of `set` to table 254 (next hop `pool[prefix mod pool size]`), each as its own transaction, then deletes each. */
export function churn(fib: Fib, set: readonly NewPrefix[], pool: readonly Nexthop[]): void {
  for (const a of set) fib.addRoute({ prefix: a.prefix, len: a.len, type: "unicast", table: 254, metric: 0, nexthops: [pool[a.prefix % pool.length]!] });
  for (const a of set) fib.delRoute({ prefix: a.prefix, len: a.len, table: 254 });
}
