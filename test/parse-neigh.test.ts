// `ip neigh …` grammar (host/cli/parse-neigh.ts): the iproute2 6.1 subset a router with static
// neighbours needs. Defaults follow iproute2's ipneigh.c (add → nud permanent; flush spares permanent
// and noarp unless nud is given; "Flush requires arguments").
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  neighFilterStates, neighText, parseNeighCommand, NUD_NAMES,
} from "../host/cli/parse-neigh.ts";
import { thrown } from "./lib/thrown.ts";

const w = (line: string) => line.trim().split(/\s+/).filter((x) => x !== "");
const neigh = (line: string) => parseNeighCommand(w(line));
const ip = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
const mac = (...b: number[]) => Uint8Array.from(b);

describe("neigh add / replace / change", () => {
  it("parses an entry in any word order, with nud permanent by default", () => {
    const want = { addr: ip(10, 0, 1, 2), lladdr: mac(2, 0, 0, 0, 1, 2), dev: "tap0", nud: "permanent" };
    expect(neigh("add 10.0.1.2 lladdr 02:00:00:00:01:02 dev tap0")).toEqual({ op: "add", neigh: want });
    expect(neigh("add dev tap0 lladdr 02:00:00:00:01:02 to 10.0.1.2")).toEqual({ op: "add", neigh: want });
    expect(neigh("replace 10.0.1.2 lladdr 2:0:0:0:1:2 dev tap0 nud stale")).toEqual({ op: "replace", neigh: { ...want, nud: "stale" } });
    expect(neigh("change 10.0.1.2 lladdr 02:00:00:00:01:02 dev tap0 nud noarp")).toMatchObject({ op: "change", neigh: { nud: "noarp" } });
    expect(neigh("add 10.0.1.2 lladdr 02:00:00:00:01:02 dev tap0 nud reachable")).toMatchObject({ neigh: { nud: "reachable" } });
  });

  it("refuses what a static entry cannot be, naming the word", () => {
    expect(thrown(() => neigh("add 10.0.1.2 dev tap0"))).toBe(`"neigh add" needs "lladdr MAC" (a static entry needs the link-layer address)`);
    expect(thrown(() => neigh("add 10.0.1.2 lladdr 02:00:00:00:01:02"))).toBe(`"neigh add" needs "dev NAME" (device and destination are required)`);
    expect(thrown(() => neigh("add lladdr 02:00:00:00:01:02 dev tap0"))).toBe(`missing address in "neigh add"`);
    expect(thrown(() => neigh("add 10.0.1.2 lladdr 02:00:00:00:01 dev tap0"))).toBe(`invalid lladdr "02:00:00:00:01" (expected six hex bytes like 02:00:00:00:00:01)`);
    expect(thrown(() => neigh("add 10.0.1.2 lladdr 02:00:00:00:01:002 dev tap0"))).toMatch(/^invalid lladdr "02:00:00:00:01:002"/);
    expect(thrown(() => neigh("add 10.0.1.2 lladdr 02:00:00:00:01:02 dev tap0 nud delay"))).toBe(`"nud delay" cannot be set by hand in "neigh add" (permanent, noarp, reachable or stale)`);
    expect(thrown(() => neigh("add 10.0.1.2 lladdr 02:00:00:00:01:02 dev tap0 nud bogus"))).toBe(`"nud" value "bogus" is invalid (permanent, noarp, reachable or stale)`);
    expect(thrown(() => neigh("add 10.0.1.2 lladdr 02:00:00:00:01:02 dev tap0 dev tap1"))).toBe(`duplicate "dev" in neigh command`);
    expect(thrown(() => neigh("add 10.0.1.2 10.0.1.3 lladdr 02:00:00:00:01:02 dev tap0"))).toBe(`duplicate "address" in neigh command`);
    expect(thrown(() => neigh("add 10.0.1.2 lladdr 02:00:00:00:01:02 dev tap0 router"))).toBe(`unknown word "router" in neigh command`);
    expect(thrown(() => neigh("add 10.0.1.2 lladdr 02:00:00:00:01:02 dev tap0 proxy"))).toBe(`proxy entries are not supported in "neigh add"`);
    expect(thrown(() => neigh("add 10.0.1.2 lladdr 02:00:00:00:01:02 dev"))).toBe(`missing argument after "dev" in "neigh add"`);
    expect(thrown(() => neigh("add 10.0.1.256 lladdr 02:00:00:00:01:02 dev tap0"))).toBe(`invalid IPv4 address "10.0.1.256"`);
    expect(thrown(() => neigh("add 0.0.0.0 lladdr 02:00:00:00:01:02 dev tap0"))).toBe(`invalid neighbour address "0.0.0.0": 0.0.0.0`);
    expect(thrown(() => neigh("add 224.0.0.1 lladdr 01:00:5e:00:00:01 dev tap0"))).toBe(`invalid neighbour address "224.0.0.1": not a unicast address`);
    expect(thrown(() => neigh("add 255.255.255.255 lladdr ff:ff:ff:ff:ff:ff dev tap0"))).toMatch(/not a unicast address$/);
  });
});

describe("neigh del / show / flush", () => {
  it("del needs the address and the device; lladdr and nud are ignored", () => {
    expect(neigh("del 10.0.1.2 dev tap0")).toEqual({ op: "del", addr: ip(10, 0, 1, 2), dev: "tap0" });
    expect(neigh("delete 10.0.1.2 dev tap0 lladdr 02:00:00:00:01:02 nud failed")).toEqual({ op: "del", addr: ip(10, 0, 1, 2), dev: "tap0" });
    expect(thrown(() => neigh("del 10.0.1.2"))).toBe(`"neigh del" needs "dev NAME" (device and destination are required)`);
  });

  it("show takes optional selectors and defaults to every state", () => {
    expect(neigh("")).toEqual({ op: "show" });
    expect(neigh("show")).toEqual({ op: "show" });
    expect(neigh("list dev tap0 nud stale nud reachable to 10.0.0.0/8")).toEqual({
      op: "show", dev: "tap0", nud: ["stale", "reachable"], prefix: { addr: ip(10, 0, 0, 0), len: 8 },
    });
    expect(neighFilterStates({ op: "show" })).toEqual([...NUD_NAMES]);
    expect(neighFilterStates({ op: "show", nud: ["failed"] })).toEqual(["failed"]);
    expect(neigh("show nud all")).toMatchObject({ nud: [...NUD_NAMES] });
    expect(thrown(() => neigh("show nud sleepy"))).toMatch(/^"nud" value "sleepy" is invalid/);
    expect(thrown(() => neigh("show unused"))).toBe(`unknown word "unused" in neigh command`);
  });

  it("flush requires a selector and spares permanent/noarp unless told", () => {
    expect(thrown(() => neigh("flush"))).toBe(`"neigh flush" requires arguments (dev NAME, nud STATE or a prefix)`);
    const f = neigh("flush dev tap0");
    expect(f).toEqual({ op: "flush", dev: "tap0" });
    expect(neighFilterStates(f as { op: "flush" })).toEqual(["reachable", "stale", "incomplete", "delay", "probe", "failed", "none"]);
    // `nud all` on flush still spares noarp entries (ipneigh.c: state &= ~NUD_NOARP).
    expect(neigh("flush nud all")).toMatchObject({ nud: NUD_NAMES.filter((n) => n !== "noarp") });
    expect(neigh("flush nud permanent")).toEqual({ op: "flush", nud: ["permanent"] });
  });

  it("refuses an unknown command", () => {
    expect(thrown(() => neigh("get 10.0.0.1 dev tap0"))).toBe(`unknown neigh command "get" (expected add, replace, change, del, show or flush)`);
  });
});

describe("canonical text", () => {
  it("round-trips through the parser", () => {
    const arb = fc.record({
      addr: fc.integer({ min: 0x01000000, max: 0xdfffffff }),
      lladdr: fc.uint8Array({ minLength: 6, maxLength: 6 }),
      dev: fc.constantFrom("tap0", "p0", "eth1.10", "a-b_c"),
      nud: fc.constantFrom("permanent" as const, "noarp" as const, "reachable" as const, "stale" as const),
    });
    fc.assert(
      fc.property(arb, fc.constantFrom("add" as const, "replace" as const, "change" as const), (n, op) => {
        expect(parseNeighCommand(neighText(op, n).split(" ").slice(1))).toEqual({ op, neigh: n });
      }),
    );
    expect(neighText("del", { addr: ip(10, 0, 1, 2), lladdr: mac(2, 0, 0, 0, 0, 1), dev: "tap0", nud: "permanent" })).toBe("neigh del 10.0.1.2 dev tap0");
  });

  it("never throws anything but a one-line Error on garbage", () => {
    const word = fc.oneof(
      fc.constantFrom("add", "del", "replace", "show", "flush", "lladdr", "dev", "nud", "to", "all", "permanent", "10.0.0.1", "02:00:00:00:00:01", "10.0.0.0/8"),
      fc.string({ maxLength: 12 }).filter((s) => !/\s/.test(s) && s !== ""),
    );
    fc.assert(
      fc.property(fc.array(word, { maxLength: 8 }), (words) => {
        try {
          parseNeighCommand(words);
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
          expect((e as Error).message).not.toMatch(/\n/);
        }
      }),
      { numRuns: 500 },
    );
  });
});
