// Multipath routes: Linux's hash-threshold (fib_rebalance upper bounds, first hop whose bound ≥ the
// 31-bit flow hash), checked against a plain reference of the rule and for weight proportions.
import { describe, it, expect } from "vitest";
import { Fib } from "../host/fib/fib.ts";
import { multipathUpperBounds } from "../host/fib/results.ts";
import { fmix32 } from "../host/fib/nexthop-rule.ts";
import { prng } from "./ref/prng.ts";

/** The flow hash the core documents (assembly/fib/nexthop.ts), written out plainly. */
const flowHash = (src: number, dst: number) => fmix32((src ^ fmix32((dst ^ 0x9e3779b9) >>> 0)) >>> 0) >>> 1;

describe("multipath (hash-threshold)", () => {
  it("computes Linux's upper bounds", () => {
    // DIV_ROUND_CLOSEST((Σw) << 31, total) − 1; the last hop always ends at 2^31 − 1.
    expect(multipathUpperBounds([1, 1])).toEqual([1073741823, 2147483647]);
    expect(multipathUpperBounds([2, 1])).toEqual([1431655764, 2147483647]);
    expect(multipathUpperBounds([1, 2, 3])).toEqual([357913940, 1073741823, 2147483647]);
  });

  it.each(["release", "debug"] as const)("picks hops like the reference and in weight proportion (%s)", (flavor) => {
    const fib = new Fib({ flavor });
    const hops = [
      { gateway: 0xc0000201, dev: "eth1", weight: 2, onlink: false },
      { gateway: 0xc0000209, dev: "eth2", weight: 1, onlink: false },
      { gateway: 0xc0000211, dev: "eth3", weight: 5, onlink: false },
    ];
    fib.addRoute({ prefix: 0xc6336400, len: 24, type: "unicast", table: 254, metric: 0, nexthops: hops });
    const bounds = multipathUpperBounds(hops.map((h) => h.weight));
    const rand = prng(5);
    const count = [0, 0, 0];
    const N = 20000;
    for (let i = 0; i < N; i++) {
      const src = rand();
      const dst = (0xc6336400 | (rand() & 255)) >>> 0;
      expect(fib.core.x.fib_flow_hash(src, dst) >>> 0).toBe(flowHash(src, dst));
      const a = fib.get({ dst, src, iif: "", mark: 0, tos: 0 });
      const want = bounds.findIndex((b) => flowHash(src, dst) <= b);
      expect(a.nexthop).toEqual(hops[want]);
      expect(fib.get({ dst, src, iif: "", mark: 0, tos: 0 }).nexthop).toBe(a.nexthop); // same flow, same hop
      count[want]!++;
    }
    expect(count[0]! / N).toBeCloseTo(2 / 8, 1);
    expect(count[1]! / N).toBeCloseTo(1 / 8, 1);
    expect(count[2]! / N).toBeCloseTo(5 / 8, 1);
  });
});
