/**
 * `wasmroute demo` (what `npm start` runs until the router exists): the WASM FIB on the real
 * 901,899-prefix BGP table — load and build it, add a policy example, answer `ip route get`
 * queries, and sweep a million random destinations through one batched lookup.
 */
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Fib } from "../fib/fib.ts";
import { readCidrListFile } from "../fib/cidr-list.ts";
import { NEXTHOP_RULE } from "../fib/nexthop-rule.ts";
import { runScript } from "./script.ts";

const TABLE = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bench", "data", "bgp-ipv4-2024-01.txt.gz");

const SETUP = `# connected networks, a default route, a policy table, and a few special routes
route add 192.0.2.0/24 dev eth0 proto kernel scope link
route add 198.18.0.0/15 dev eth1 proto kernel scope link
route add default via 192.0.2.1 dev eth0 metric 100
route add 10.1.0.0/16 via 198.18.0.1 dev eth1 table 100
route add 198.51.100.0/24 nexthop via 192.0.2.1 dev eth0 weight 3 nexthop via 198.18.0.1 dev eth1
route add blackhole 203.0.113.0/24
route add prohibit 100.64.0.0/10
rule add from 10.1.0.0/16 lookup 100 priority 100
`;

const QUERIES = `route get 8.8.8.8
route get 1.1.1.1
route get 10.1.2.3
route get 10.1.2.3 from 10.1.0.5
route get 198.51.100.7 from 1.2.3.4
route get 198.51.100.7 from 1.2.3.6
route get 203.0.113.9
route get 100.64.1.1
route get 192.0.2.77
rule show
`;

export function runDemo(out: (line: string) => void): void {
  out("wasmroute demo: the WebAssembly FIB on a real BGP table (the router itself comes with issue #4)");
  let t0 = performance.now();
  const list = readCidrListFile(TABLE);
  const parsed = performance.now() - t0;
  const fib = new Fib();
  const hops = Array.from({ length: 64 }, (_, i) => ({ gateway: (0xc0000200 + 2 + i) >>> 0, dev: "eth0", weight: 1, onlink: false }));
  t0 = performance.now();
  fib.loadCidrList(list.addrs, list.lens, { table: 254, nexthops: hops });
  const built = performance.now() - t0;
  out(`loaded ${list.addrs.length} prefixes from bench/data in ${(parsed / 1000).toFixed(2)} s, built the FIB in ${(built / 1000).toFixed(2)} s`);
  out(`next hops: 64 gateways 192.0.2.2-65 on eth0, ${NEXTHOP_RULE}`);
  out(`lookup structure: ${(fib.lookupBytes(254) / 1048576).toFixed(2)} MiB (a DIR-24-8 needs 64 MiB)`);
  runScript(fib, SETUP, "demo-setup", () => {});
  out("");
  out("$ wasmroute ip route get …   (and rule show)");
  runScript(fib, QUERIES, "demo-queries", out);

  const n = 1 << 20;
  const keys = fib.core.alloc(n * 4);
  const res = fib.core.alloc(n * 4);
  const m = fib.core.u32();
  let s = 0x2545f491;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    m[(keys >>> 2) + i] = s >>> 0;
  }
  const t = fib.coreIndex(254);
  fib.core.x.fib_lookup_batch(t, keys, res, n); // warm up
  t0 = performance.now();
  fib.core.x.fib_lookup_batch(t, keys, res, n);
  const ms = performance.now() - t0;
  let routed = 0;
  const r = fib.core.u32();
  for (let i = 0; i < n; i++) if (r[(res >>> 2) + i] !== 0) routed++;
  out("");
  out(`one batched call looked up ${n} random destinations in ${ms.toFixed(1)} ms (${((n / ms) * 1e3 / 1e6).toFixed(0)} M lookups/s); ${((100 * routed) / n).toFixed(1)} % had a route`);
  out("measured properly, with baselines: npm run bench -- lookup   (see BENCHMARKS.md)");
}
