// The real 901,899-prefix BGP table in the WASM FIB against the reference model: 1 M uniform random
// addresses, plus the first/last address ±1 of every 9th prefix, through the batched lookup ABI.
import { describe, it, expect } from "vitest";
import { Fib } from "../host/fib/fib.ts";
import { readCidrListFile } from "../host/fib/cidr-list.ts";
import { assignNexthop } from "../host/fib/nexthop-rule.ts";
import { RefLpm, maskOf } from "./ref/lpm-model.ts";
import { prng } from "./ref/prng.ts";

const POOL = 256;

describe("FIB on the real BGP table", () => {
  it("matches the reference model for 1 M random and adversarial addresses", () => {
    const list = readCidrListFile("bench/data/bgp-ipv4-2024-01.txt.gz");
    expect(list.addrs.length).toBe(901899);
    const pool = Array.from({ length: POOL }, (_, i) => ({ gateway: 0x0aff0000 + i, dev: `eth${i % 8}`, weight: 1, onlink: false }));
    const fib = new Fib();
    fib.loadCidrList(list.addrs, list.lens, { table: 254, nexthops: pool });
    fib.check();
    const ref = new RefLpm<number>();
    for (let i = 0; i < list.addrs.length; i++) ref.set(list.addrs[i]!, list.lens[i]!, assignNexthop(list.addrs[i]!, list.lens[i]!, POOL));

    const rand = prng(2024);
    const probes: number[] = [];
    for (let i = 0; i < 1_000_000; i++) probes.push(rand());
    for (let i = 0; i < list.addrs.length; i += 9) {
      const first = list.addrs[i]!;
      const last = (first | ~maskOf(list.lens[i]!)) >>> 0;
      probes.push(first, last, (first - 1) >>> 0, (last + 1) >>> 0);
    }
    const n = probes.length;
    const keys = fib.core.alloc(n * 4);
    const out = fib.core.alloc(n * 4);
    fib.core.u32().set(probes, keys >>> 2);
    fib.core.x.fib_lookup_batch(fib.coreIndex(254), keys, out, n);
    const got = fib.core.u32().slice(out >>> 2, (out >>> 2) + n);
    const hopOf = new Map<number, number>([[0, -1]]);
    let mismatches = 0;
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const id = got[i]!;
      let hop = hopOf.get(id);
      if (hop === undefined) hopOf.set(id, (hop = fib.result(id)!.nexthops[0]!.gateway - 0x0aff0000));
      const want = ref.lookup(probes[i]!)?.value ?? -1;
      if (want >= 0) hits++;
      if (hop !== want && mismatches++ < 5) console.error(`address ${probes[i]}: FIB hop ${hop}, reference ${want}`);
    }
    expect(mismatches).toBe(0);
    expect(hits).toBeGreaterThan(n / 2); // most probes land in announced space
  }, 120_000);
});
