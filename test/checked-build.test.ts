// Issue #7, the checked build (wasm/checked.wasm): every load, store, memory.copy and memory.fill of the
// compiled core goes through a bounds check (scripts/bounds-instrument.mjs), and the data plane's frame
// accesses assert their frame window (assembly/dp/window.ts). These tests show that each layer catches a
// bad access with a message naming it while the release build does not check, and that the
// instrumentation left no access of the binary unchecked. The fuzzer runs the checked build in
// test/fuzz.test.ts.
import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import binaryen from "binaryen";
import { Core, wasmPath, coreModule, type CoreExports } from "../host/core/load.ts";
import { BoundsError } from "../host/core/bounds.ts";
import { Router } from "../host/router/router.ts";
import { parseConfig } from "../host/router/config.ts";
import { Logger } from "../host/router/logger.ts";
import { parseMac } from "../host/router/mac.ts";
import { FUZZ_CONFIG } from "../scripts/fuzz.ts";
import { arpRequest, echoRequest } from "../host/sim/frames.ts";
// @ts-expect-error: a plain ES module without types (the build's own pass)
import { uncheckedAccesses, HELPERS } from "../scripts/bounds-instrument.mjs";

interface TestExports extends CoreExports {
  dp_parse_batch(buf: number, slot: number, lens: number, n: number, out: number): void;
  dp_tx_result(): number;
}

const ip = (s: string) => s.split(".").reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);
const R1 = parseMac("02:77:00:00:01:01");
const H1 = parseMac("02:00:00:00:01:02");
const toRouter = { srcMac: H1, dstMac: R1 };
const arpForRouter = () => arpRequest(H1, ip("10.201.1.2"), ip("10.201.1.1"));
/** An ICMP echo request of 28 + size bytes from h1 to the router. */
const echoToRouter = (size: number) => echoRequest(toRouter, ip("10.201.1.2"), ip("10.201.1.1"), 1, 1, size);

/** Copies bytes into the core's arena; returns the address. */
function place(core: Core, bytes: Uint8Array): number {
  const p = core.alloc(bytes.length);
  new Uint8Array(core.x.memory.buffer).set(bytes, p);
  return p;
}

function router(flavor: "release" | "checked"): Router {
  const prev = process.env.WASMROUTE_CORE;
  process.env.WASMROUTE_CORE = flavor;
  try {
    return Router.start(parseConfig(FUZZ_CONFIG, "fuzz.conf"), { clock: () => 1_000_000, logger: new Logger("text", () => {}), buckets: 1024, slots: 16 });
  } finally {
    if (prev === undefined) delete process.env.WASMROUTE_CORE;
    else process.env.WASMROUTE_CORE = prev;
  }
}

describe("checked build, whole-module layer: every access inside [16, 32) ∪ [memoryBase, heap top)", () => {
  it("a write past the allocator's top traps, naming the function, the address and the size; release writes silently", () => {
    for (const flavor of ["release", "checked"] as const) {
      const core = new Core(flavor);
      const top = core.x.mem_top() >>> 0;
      expect(top).toBeGreaterThan(65536);
      expect(top + 256).toBeLessThan(core.x.memory.buffer.byteLength); // inside linear memory: only the check can object
      const call = () => core.x.dp_decrement_ttl(top + 64);
      if (flavor === "release") expect(call).not.toThrow();
      else {
        expect(call).toThrow(BoundsError);
        expect(call).toThrow(/(load|store) of [124] bytes at 0x[0-9a-f]+ in \S*(decrement|Ttl|ttl)\S*: outside \[16, 32\) and \[0x10000, heap top 0x[0-9a-f]+\)/);
        try {
          call();
        } catch (e) {
          const at = parseInt(/at 0x([0-9a-f]+)/.exec((e as Error).message)![1]!, 16);
          expect(at).toBeGreaterThanOrEqual(top + 64 + 14);
        }
      }
    }
  });

  it("the null page and the gap below the static data trap; the header answer at 16..31 does not", () => {
    const core = new Core("checked");
    expect(() => core.x.dp_icmp_forbidden(0, 100)).toThrow(/load of \d bytes at 0x0 in /);
    expect(() => core.x.dp_icmp_forbidden(40_000, 100)).toThrow(/at 0x9c40 in /);
    expect(() => core.x.mem_free(4, 8)).toThrow(/store of 4 bytes at 0x4 in \S*free/);
    expect(new Core("release").x.dp_icmp_forbidden(0, 100)).toBeTypeOf("number");
    expect(core.x.fib_route(ip("8.8.8.8"), 0, 0, 0, 0)).toBeTypeOf("number"); // writes its answer at 16
  });

  it("the instrumentation left no load, store, memory.copy or memory.fill unchecked outside the checkers", () => {
    const m = binaryen.readBinary(readFileSync(wasmPath("checked")));
    try {
      const { unchecked, checked } = uncheckedAccesses(m) as { unchecked: { func: string; kind: string }[]; checked: Record<string, number> };
      expect(unchecked).toEqual([]);
      expect(checked.load).toBeGreaterThan(500);
      expect(checked.store).toBeGreaterThan(500);
      expect(checked.copy).toBeGreaterThan(10);
      expect(checked.fill).toBeGreaterThan(10);
      for (const h of HELPERS as string[]) expect(m.getFunction(h)).toBeTruthy();
    } finally {
      m.dispose();
    }
    // and the test can fail: the release build is all unchecked accesses
    const r = binaryen.readBinary(readFileSync(wasmPath("release")));
    try {
      expect((uncheckedAccesses(r) as { unchecked: unknown[] }).unchecked.length).toBeGreaterThan(1000);
    } finally {
      r.dispose();
    }
  });

  it("release and debug carry no checks: they import only the GC probe", () => {
    const names = (flavor: "release" | "debug" | "checked") => WebAssembly.Module.imports(coreModule(flavor)).map((i) => `${i.module}.${i.name}`).sort();
    for (const flavor of ["release", "debug"] as const) expect(names(flavor)).toEqual(["env.gc_step"]);
    expect(names("checked")).toEqual(["env.gc_step", "wasmroute.bounds_fault", "wasmroute.frame_fault"]);
  });
});

describe("checked build, frame layer: received frames within their length, transmit frames within their block", () => {
  it("writing a frame across a transmit block traps in the checked build; release writes over the next block", () => {
    for (const flavor of ["release", "checked"] as const) {
      const r = router(flavor);
      try {
        const x = r.fib.core.x as TestExports;
        // Two ARP requests for the router's address: two 42-byte replies in adjacent 48-byte transmit blocks.
        const res = r.dp.receive(r.ports.get("p1")!.ifindex, [arpForRouter(), arpForRouter()], [0, 0]);
        expect(res.verdicts).toEqual([1, 1]);
        const u32 = new Uint32Array(x.memory.buffer);
        const t = x.dp_tx_result() >>> 2;
        const first = new Uint32Array(x.memory.buffer, u32[t + 2]!, 2);
        expect(first[1]! - first[0]!).toBe(48);
        // An echo reply of 14 + 28 + 20 bytes built into the first block overruns it into the second.
        const req = echoToRouter(20);
        const f = place(r.fib.core, req);
        const mac = place(r.fib.core, R1);
        const build = () => x.dp_icmp_echo_reply(f, req.length, mac, first[0]!);
        if (flavor === "release") expect(build()).toBe(req.length);
        else expect(build).toThrow(/frame window: write of 62 bytes at 0x[0-9a-f]+ crosses the transmit block starting at 0x[0-9a-f]+, in \S*(echo|Echo)/);
      } finally {
        r.stop();
      }
    }
  });

  it("reading a receive slot outside dp_input's current frame traps", () => {
    const r = router("checked");
    try {
      const x = r.fib.core.x as TestExports;
      const { buf } = r.dp.rxArea;
      const lens = place(r.fib.core, new Uint8Array(new Int32Array([60]).buffer));
      const out = r.fib.core.alloc(16);
      expect(() => x.dp_parse_batch(buf, r.dp.slotBytes, lens, 1, out)).toThrow(/frame window: read of \d+ bytes at 0x[0-9a-f]+ is outside the received frame \[0x0, 0x0\), in \S*parse/i);
      // a frame in ordinary memory is not a received frame: no window applies
      const g = place(r.fib.core, echoToRouter(8));
      expect(() => x.dp_parse_batch(g, 64, lens, 1, out)).not.toThrow();
    } finally {
      r.stop();
    }
  });
});
