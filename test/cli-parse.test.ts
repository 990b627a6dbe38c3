// `ip route` / `ip rule` grammar, error messages, and output text. Expected text was taken from
// iproute2 6.1 on Linux 6.x (`ip route show`, `ip rule show` in a scratch network namespace).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Fib } from "../host/fib/fib.ts";
import { maskOf } from "../host/fib/ipv4.ts";
import type { Nexthop, Route, RouteTypeName, Rule } from "../host/fib/types.ts";
import { runIpCommand } from "../host/cli/commands.ts";
import { formatAnswer, formatRoute, formatRouteSpec, formatRule, routeDelText, ruleAddText, ruleDelText } from "../host/cli/format.ts";
import { defaultScope, defaultTable, parseRouteAdd, parseRouteCommand } from "../host/cli/parse-route.ts";
import { parseRuleAdd, parseRuleCommand } from "../host/cli/parse-rule.ts";
import { parseProto, parseScope } from "../host/cli/words.ts";

const w = (line: string) => line.trim().split(/\s+/);
const route = (line: string) => parseRouteCommand(w(line));
const rule = (line: string) => parseRuleCommand(w(line));
const ip = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
const hop = (gateway: number, dev: string, weight = 1, onlink = false): Nexthop => ({ gateway, dev, weight, onlink });

/** Runs lines through runIpCommand on a fresh FIB; returns everything printed. */
function session(lines: string[]): string[] {
  const fib = new Fib();
  const out: string[] = [];
  for (const l of lines) runIpCommand(fib, w(l), (s) => out.push(s));
  return out;
}

describe("route grammar", () => {
  it("parses a single-hop route with every option, in any order", () => {
    expect(route("add 10.0.0.0/8 metric 0x10 dev eth1 via 192.0.2.1 table 100 proto static scope link src 192.0.2.5 onlink")).toEqual({
      op: "add",
      mode: "add",
      route: {
        prefix: ip(10, 0, 0, 0), len: 8, type: "unicast", table: 100, metric: 16,
        nexthops: [hop(ip(192, 0, 2, 1), "eth1", 1, true)], proto: "static", scope: "link", src: ip(192, 0, 2, 5),
      },
    });
  });

  it("accepts the add modes, types, bare /32, default, `to`, and synonyms", () => {
    for (const m of ["add", "append", "replace", "change"] as const) {
      expect(route(`${m} default via 192.0.2.1 dev eth0`)).toMatchObject({ op: "add", mode: m, route: { prefix: 0, len: 0 } });
    }
    expect(route("add 192.0.2.77 dev eth1").op === "add" && route("add 192.0.2.77 dev eth1")).toMatchObject({ route: { len: 32 } });
    expect(route("add to unreachable 12.0.0.0/8")).toMatchObject({ route: { type: "unreachable", len: 8, nexthops: [] } });
    expect(route("add 10.0.0.0/8 dev eth1 priority 7")).toMatchObject({ route: { metric: 7 } });
    expect(route("add 10.0.0.0/8 dev eth1 preference 7")).toMatchObject({ route: { metric: 7 } });
    expect(route("add 10.0.0.0/8 dev eth1 table default")).toMatchObject({ route: { table: 253 } });
  });

  it("fills in iproute2's defaults for table and scope", () => {
    const r = (line: string) => parseRouteAdd(w(line));
    expect(r("10.0.0.0/8 dev eth1")).toMatchObject({ table: 254, scope: "link", metric: 0 });
    expect(r("10.0.0.0/8 via 192.0.2.1 dev eth1").scope).toBeUndefined();
    expect(r("10.0.0.0/8 nexthop dev eth1 nexthop dev eth2").scope).toBeUndefined(); // multipath: global
    expect(r("local 192.0.2.77 dev eth1")).toMatchObject({ table: 255, scope: "host" });
    expect(r("broadcast 192.0.2.255 dev eth1")).toMatchObject({ table: 255, scope: "link" });
    expect(r("broadcast 192.0.2.255 dev eth1 table main")).toMatchObject({ table: 254 });
    expect(r("blackhole 198.51.100.0/24")).toMatchObject({ table: 254, nexthops: [] });
    expect(r("blackhole 198.51.100.0/24").scope).toBeUndefined();
    // proto boot (the default) and scope global (the default) are not printed by iproute2: not stored.
    const b = r("10.0.0.0/8 dev eth1 proto boot scope global");
    expect(b.proto).toBeUndefined();
    expect(b.scope).toBeUndefined();
    expect(r("10.0.0.0/8 dev eth1 proto 42 scope 253")).toMatchObject({ proto: "babel", scope: "link" });
    expect(r("10.0.0.0/8 dev eth1 proto 77 scope 10")).toMatchObject({ proto: "77", scope: "10" });
  });

  it("parses multipath hops until the next nexthop", () => {
    expect(parseRouteAdd(w("198.51.100.0/24 proto static metric 7 nexthop via 192.0.2.1 dev eth1 weight 2 nexthop via 192.0.2.9 dev eth2 onlink"))).toEqual({
      prefix: ip(198, 51, 100, 0), len: 24, type: "unicast", table: 254, metric: 7, proto: "static",
      nexthops: [hop(ip(192, 0, 2, 1), "eth1", 2), hop(ip(192, 0, 2, 9), "eth2", 1, true)],
    });
  });

  it("parses del as a selector of only the words given", () => {
    expect(route("del 10.0.0.0/8")).toEqual({ op: "del", selector: { prefix: ip(10, 0, 0, 0), len: 8, table: 254 } });
    expect(route("delete blackhole 10.0.0.0/8 table 100 metric 5 via 192.0.2.1 dev eth1 proto static")).toEqual({
      op: "del",
      selector: { prefix: ip(10, 0, 0, 0), len: 8, table: 100, type: "blackhole", metric: 5, gateway: ip(192, 0, 2, 1), dev: "eth1", proto: "static" },
    });
  });

  it("parses show, get and flush", () => {
    expect(route("show")).toEqual({ op: "show", table: 254 });
    expect(parseRouteCommand([])).toEqual({ op: "show", table: 254 });
    expect(route("list table all")).toEqual({ op: "show", table: "all" });
    expect(route("show table local 10.0.0.0/8")).toEqual({ op: "show", table: 255, prefix: { addr: ip(10, 0, 0, 0), len: 8 } });
    expect(route("get 10.1.2.3 from 10.9.0.1 iif eth1 mark 0x10 tos 0x08")).toEqual({
      op: "get",
      query: { dst: ip(10, 1, 2, 3), src: ip(10, 9, 0, 1), iif: "eth1", mark: 16, tos: 8 },
    });
    expect(route("get to 10.1.2.3")).toMatchObject({ query: { dst: ip(10, 1, 2, 3), src: 0, iif: "", mark: 0, tos: 0 } });
    expect(route("flush table 100")).toEqual({ op: "flush", table: 100 });
    expect(route("flush table all")).toEqual({ op: "flush", table: "all" });
  });

  it.each([
    ["add 10.0.0.0/8 viaa 192.0.2.1", `unknown word "viaa" in route command`],
    ["add 10.0.0.0/8 dev eth1 metric x", `"metric" needs a number, got "x"`],
    ["add 10.0.0.0/8 dev eth1 metric", `missing argument after "metric" in "route add"`],
    ["add 10.0.0.0/8 dev eth1 metric 010", `"metric" needs a number, got "010" (leading zeros are refused: iproute2 reads them as octal)`],
    ["add 10.0.0.0/8 dev eth1 metric 4294967296", `"metric" value 4294967296 is out of range 0..4294967295`],
    ["add 10.0.0.1/8 dev eth1", `invalid prefix "10.0.0.1/8": host bits set (did you mean 10.0.0.0/8?)`],
    ["add 10.0.0.0/33 dev eth1", `invalid prefix length "33" in "10.0.0.0/33" (0..32)`],
    ["add 10.0.0.0/8 via 192.0.2.256", `invalid IPv4 address "192.0.2.256"`],
    ["add dev eth1", `missing prefix in "route add"`],
    ["add 10.0.0.0/8 11.0.0.0/8 dev eth1", `duplicate prefix "11.0.0.0/8" in "route add"`],
    ["add 10.0.0.0/8 dev eth1 dev eth2", `duplicate "dev" in route command`],
    ["add 10.0.0.0/8 via 1.2.3.4 via 1.2.3.5", `duplicate "via" in route command`],
    ["add 10.0.0.0/8 dev eth1 table foo", `"table" needs a number, got "foo"`],
    ["add 10.0.0.0/8 dev eth1 proto foo", `"proto" value "foo" is invalid (a name from rt_protos or 0..255)`],
    ["add 10.0.0.0/8 dev eth1 scope foo", `"scope" value "foo" is invalid (host, link, site, global, nowhere or 0..255)`],
    ["add 10.0.0.0/8 dev eth1 weight 0", `"weight" value 0 is out of range 1..256`],
    ["add 10.0.0.0/8 nexthop via 192.0.2.1 dev eth1 weight 257", `"weight" value 257 is out of range 1..256`],
    ["add 10.0.0.0/8 nexthop via 192.0.2.1 dev eth1 metric 5", `"nexthop" or end of line is expected instead of "metric"`],
    ["add 10.0.0.0/8 nexthop", `unexpected end of line after "nexthop"`],
    ["add 10.0.0.0/8 nexthop weight 2", `a "nexthop" needs "via ADDR" or "dev NAME"`],
    ["add 10.0.0.0/8 via 192.0.2.1 nexthop via 192.0.2.2 dev eth1", `"via" cannot be combined with "nexthop" in "route add" (put it inside a nexthop)`],
    ["add blackhole 10.0.0.0/8 dev eth1", `a blackhole route cannot have "dev" (no gateway, device or multipath for this route type)`],
    ["add unicast throw 10.0.0.0/8", `unknown word "throw" in route command`],
    ["add 10.0.0.0/8 blackhole", `"blackhole" must come right before the prefix in "route add"`],
    ["del 10.0.0.0/8 nexthop via 192.0.2.1", `"nexthop" is not supported in "route del" (select by prefix, type, table, metric, via, dev, proto, scope)`],
    ["show cache", "route show cache needs a running router (wasmroute run, issue #4); a routes file has no cache. The simulator shows one: wasmroute simulate --show-cache N"],
    ["show tabel all", `unknown word "tabel" in route command`],
    ["get", `missing address in "route get"`],
    ["get 10.0.0.0/8", `invalid IPv4 address "10.0.0.0/8"`],
    ["get 10.0.0.1 mark x", `"mark" needs a number, got "x"`],
    ["get 10.0.0.1 oif eth1", `unknown word "oif" in route command`],
    ["get 10.0.0.1 tos 10", `"tos" value "10" is ambiguous: iproute2 reads it as hex 0x10; write it with 0x`],
    ["flush", `"route flush" needs "table ID|all"`],
    ["frob 10.0.0.0/8", `unknown route command "frob" (expected add, append, replace, change, del, show, get or flush)`],
  ])("route %s → error", (line, message) => {
    expect(() => route(line)).toThrow(message);
    try {
      route(line);
    } catch (e) {
      expect((e as Error).message).toBe(message);
    }
  });
});

describe("rule grammar", () => {
  it("parses every selector and action", () => {
    expect(rule("add from 10.1.0.0/16 to 172.16.0.0/12 iif eth1 tos 0x10 fwmark 0x1/0xff pref 99 lookup 100")).toEqual({
      op: "add",
      rule: {
        priority: 99, src: ip(10, 1, 0, 0), srcLen: 16, dst: ip(172, 16, 0, 0), dstLen: 12, iif: "eth1", tos: 0x10,
        fwmark: 1, fwmask: 0xff, action: "lookup", table: 100,
      },
    });
    expect(rule("add fwmark 7 blackhole")).toEqual({
      op: "add",
      rule: { src: 0, srcLen: 0, dst: 0, dstLen: 0, iif: "", tos: 0, fwmark: 7, fwmask: 0xffffffff, action: "blackhole", table: 0 },
    });
    expect(rule("add from all to all table main order 5")).toMatchObject({ rule: { priority: 5, table: 254, srcLen: 0, dstLen: 0 } });
    expect(rule("add from 1.2.3.4 type unreachable priority 97")).toMatchObject({ rule: { src: ip(1, 2, 3, 4), srcLen: 32, action: "unreachable" } });
    expect(rule("add to 10.5.0.0/16 prohibit")).toMatchObject({ rule: { action: "prohibit" } });
    // "fwmark 0" without a mask selects nothing, as the kernel stores it.
    expect(rule("add fwmark 0 lookup 5")).toMatchObject({ rule: { fwmark: 0, fwmask: 0 } });
    expect(rule("show")).toEqual({ op: "show" });
    expect(parseRuleCommand([])).toEqual({ op: "show" });
  });

  it("parses del as a selector of only the words given", () => {
    expect(rule("del priority 100")).toEqual({ op: "del", selector: { priority: 100 } });
    expect(rule("delete from 10.1.0.0/16 lookup 100")).toEqual({ op: "del", selector: { src: ip(10, 1, 0, 0), srcLen: 16, table: 100 } });
    expect(rule("del from all fwmark 7 blackhole")).toEqual({ op: "del", selector: { fwmark: 7, action: "blackhole" } });
  });

  it.each([
    ["add from 10.1.0.0/16", `"rule add" needs "lookup TABLE" or an action (blackhole, unreachable, prohibit)`],
    ["add from 10.1.0.0/16 lookupp 100", `unknown word "lookupp" in rule command`],
    ["add from 10.1.0.1/16 lookup 100", `invalid prefix "10.1.0.1/16": host bits set (did you mean 10.1.0.0/16?)`],
    ["add lookup 100 priority x", `"priority" needs a number, got "x"`],
    ["add lookup 100 pref", `missing argument after "pref" in "rule add"`],
    ["add lookup 100 fwmark 1/x", `"fwmark mask" needs a number, got "x"`],
    ["add lookup 100 tos 0x01", `"tos" 0x01 is invalid: ECN bits must be 0`],
    ["add lookup 100 tos 0x20", `"tos" 0x20 is invalid (rules take 0x00..0x1e)`],
    ["add lookup 100 blackhole", `"lookup" cannot be combined with "blackhole" in "rule add"`],
    ["add lookup 100 table 5", `duplicate "table" in rule command`],
    ["add type nat", `"type" value "nat" is invalid (blackhole, unreachable or prohibit)`],
    ["del", `"rule del" requires arguments`],
    ["show all", `unknown word "all" in rule command ("rule show" takes no selectors)`],
    ["flush", `unknown rule command "flush" (expected add, del or show)`],
  ])("rule %s → error", (line, message) => {
    let caught: unknown;
    try {
      rule(line);
    } catch (e) {
      caught = e;
    }
    expect((caught as Error | undefined)?.message).toBe(message);
  });
});

describe("iproute2 text", () => {
  it("prints routes exactly as iproute2 6.1", () => {
    const out = session([
      "route add 10.0.0.0/8 via 192.0.2.9 dev wr-a metric 5",
      "route add 192.0.2.0/24 dev wr-a proto kernel scope link src 192.0.2.5",
      "route add blackhole 198.51.100.0/24",
      "route add local 192.0.2.77 dev wr-a table local",
      "route add default via 192.0.2.1 dev eth0",
      "route add 10.1.0.0/16 via 192.0.2.1 dev wr-a table 100",
      "route add 203.0.113.0/24 proto static metric 7 nexthop via 192.0.2.1 dev eth1 weight 2 nexthop via 192.0.2.9 dev eth2 onlink",
      "route add unreachable 203.0.114.0/24 metric 3",
      "route add prohibit 203.0.115.0/24 proto 42",
      "route add throw 203.0.116.0/24 table 100",
      "route add broadcast 203.0.117.255 dev eth1 table main",
      "route add 203.0.118.0/24 dev eth1 src 192.0.2.6 scope 10",
      "route add 203.0.119.0/24 via 192.0.2.1 dev eth1 onlink scope global proto boot",
      "route add 5.0.0.0/8 dev eth1 proto 3 scope 0",
      "route add 6.0.0.0/8 dev eth1 proto 0 scope 253",
      "route add 8.0.0.0/8 nexthop dev eth1",
      "route add 9.0.0.0/8 nexthop dev eth1 nexthop dev eth2",
      "route add 10.0.0.0/8 dev eth1 table 4294967295",
      "route show",
      "route show table all",
      "route show table 100",
      "route show 10.0.0.0/8",
    ]);
    const main = [
      "default via 192.0.2.1 dev eth0 ",
      "5.0.0.0/8 dev eth1 ",
      "6.0.0.0/8 dev eth1 proto unspec scope link ",
      "8.0.0.0/8 dev eth1 ",
      "9.0.0.0/8 ",
      "\tnexthop dev eth1 weight 1 ",
      "\tnexthop dev eth2 weight 1 ",
      "10.0.0.0/8 via 192.0.2.9 dev wr-a metric 5 ",
      "192.0.2.0/24 dev wr-a proto kernel scope link src 192.0.2.5 ",
      "blackhole 198.51.100.0/24 ",
      "203.0.113.0/24 proto static metric 7 ",
      "\tnexthop via 192.0.2.1 dev eth1 weight 2 ",
      "\tnexthop via 192.0.2.9 dev eth2 weight 1 onlink ",
      "unreachable 203.0.114.0/24 metric 3 ",
      "prohibit 203.0.115.0/24 proto babel ",
      "broadcast 203.0.117.255 dev eth1 scope link ",
      "203.0.118.0/24 dev eth1 scope 10 src 192.0.2.6 ",
      "203.0.119.0/24 via 192.0.2.1 dev eth1 onlink ",
    ];
    expect(out).toEqual([
      ...main,
      "10.1.0.0/16 via 192.0.2.1 dev wr-a table 100 ",
      "throw 203.0.116.0/24 table 100 ",
      ...main,
      "local 192.0.2.77 dev wr-a table local scope host ",
      "10.0.0.0/8 dev eth1 table 4294967295 scope link ",
      "10.1.0.0/16 via 192.0.2.1 dev wr-a ",
      "throw 203.0.116.0/24 ",
      "10.0.0.0/8 via 192.0.2.9 dev wr-a metric 5 ",
    ]);
  });

  it("prints rules exactly as iproute2 6.1", () => {
    const out = session([
      "rule add to 172.16.0.0/12 tos 0x10 fwmark 1/0xff iif wr-a lookup main priority 99",
      "rule add fwmark 7 blackhole pref 98",
      "rule add from 1.2.3.4 unreachable order 97",
      "rule add from 1.2.3.0/24 to 5.0.0.0/8 tos 4 iif eth1 table 100",
      "rule add from all to all lookup 0x10",
      "rule add fwmark 0x10/0xffffffff lookup default",
      "rule add fwmark 0x10/0 lookup default",
      "rule add lookup 100 tos 8 fwmark 0/0xff",
      "rule add lookup 100 fwmark 5/0x1 priority 32761",
      "rule add iif eth1 prohibit priority 5",
      "rule show",
    ]);
    expect(out).toEqual([
      "0:\tfrom all lookup local",
      "5:\tfrom all iif eth1 prohibit",
      "92:\tfrom all tos 0x08 fwmark 0/0xff lookup 100",
      "93:\tfrom all fwmark 0x10/0 lookup default",
      "94:\tfrom all fwmark 0x10 lookup default",
      "95:\tfrom all lookup 16",
      "96:\tfrom 1.2.3.0/24 to 5.0.0.0/8 tos 0x04 iif eth1 lookup 100",
      "97:\tfrom 1.2.3.4 unreachable",
      "98:\tfrom all fwmark 0x7 blackhole",
      "99:\tfrom all to 172.16.0.0/12 tos 0x10 fwmark 0x1/0xff iif wr-a lookup main",
      "32761:\tfrom all fwmark 0x5/0x1 lookup 100",
      "32766:\tfrom all lookup main",
      "32767:\tfrom all lookup default",
    ]);
  });

  it("prints route get answers on one line", () => {
    const out = session([
      "route add 10.0.0.0/8 via 192.0.2.9 dev wr-a",
      "route add 192.0.2.0/24 dev wr-a",
      "route add local 192.0.2.5 dev wr-a",
      "route add broadcast 192.0.2.255 dev wr-a",
      "route add 10.1.0.0/16 via 192.0.2.1 dev wr-a table 100",
      "route add 10.2.0.0/16 via 192.0.2.1 dev wr-a table default",
      "route add blackhole 198.51.100.0/24",
      "route add unreachable 198.51.101.0/24 table 100",
      "route add prohibit 198.51.102.0/24",
      "rule add from 10.9.0.0/16 lookup 100 priority 100",
      "rule add fwmark 7 lookup default priority 101",
      "rule add to 10.4.0.0/16 blackhole priority 103",
      "rule add to 10.5.0.0/16 prohibit priority 104",
      "rule add to 10.6.0.0/16 unreachable priority 105",
      "route get 10.0.0.1",
      "route get 10.0.0.1 from 10.9.0.1 iif wr-a",
      "route get 10.1.0.1 from 10.9.0.1 iif wr-a",
      "route get 10.2.0.1 mark 7",
      "route get 10.0.0.1 mark 0x10",
      "route get 192.0.2.44",
      "route get 192.0.2.5 from 192.0.2.1 iif wr-a",
      "route get 192.0.2.255",
      "route get 198.51.100.1",
      "route get 198.51.101.1 from 10.9.0.1 iif wr-a",
      "route get 198.51.102.1",
      "route get 10.4.0.1",
      "route get 10.5.0.1 from 10.9.0.1 iif wr-a",
      "route get 10.6.0.1",
      "route get 8.8.8.8",
      "route get 8.8.8.8 from 10.9.0.1 iif wr-a",
    ]);
    expect(out).toEqual([
      "10.0.0.1 via 192.0.2.9 dev wr-a",
      "10.0.0.1 from 10.9.0.1 via 192.0.2.9 dev wr-a iif wr-a",
      "10.1.0.1 from 10.9.0.1 via 192.0.2.1 dev wr-a table 100 iif wr-a",
      "10.2.0.1 via 192.0.2.1 dev wr-a table default mark 7",
      "10.0.0.1 via 192.0.2.9 dev wr-a mark 0x10",
      "192.0.2.44 dev wr-a",
      "local 192.0.2.5 from 192.0.2.1 dev lo table local iif wr-a",
      "broadcast 192.0.2.255 dev wr-a table local",
      "blackhole 198.51.100.1",
      "unreachable 198.51.101.1 from 10.9.0.1 table 100 iif wr-a",
      "prohibit 198.51.102.1",
      "blackhole 10.4.0.1",
      "prohibit 10.5.0.1 from 10.9.0.1 iif wr-a",
      "unreachable 10.6.0.1",
      "unreachable 8.8.8.8",
      "unreachable 8.8.8.8",
    ]);
  });

  it("formats answers from the answer record alone", () => {
    const q = { dst: ip(10, 0, 0, 1), src: 0, iif: "", mark: 0, tos: 0 };
    expect(formatAnswer(q, { error: -101, type: "none", table: 0 })).toBe("unreachable 10.0.0.1");
    expect(formatAnswer(q, { error: -22, type: "none", table: 0 })).toBe("blackhole 10.0.0.1");
    expect(formatAnswer(q, { error: -13, type: "none", table: 0 })).toBe("prohibit 10.0.0.1");
    expect(formatAnswer(q, { error: -113, type: "unreachable", table: 100 })).toBe("unreachable 10.0.0.1 table 100");
    expect(formatAnswer({ ...q, mark: 15 }, { error: 0, type: "unicast", table: 254, nexthop: hop(0, "eth1") })).toBe("10.0.0.1 dev eth1 mark 15");
  });
});

describe("canonical command text", () => {
  it("shows one prefix as the whole dump filtered to it would, in one table or all", () => {
    const fib = new Fib();
    const lines = [
      "route add 10.0.0.0/8 via 192.0.2.9 dev eth1 metric 5",
      "route append 10.0.0.0/8 via 192.0.2.8 dev eth2 metric 5",
      "route add 10.0.0.0/8 dev eth1 metric 9 proto static",
      "route add 10.0.0.0/16 via 192.0.2.1 dev eth1",
      "route add 10.0.0.0/8 dev eth3 table 100",
      "route add blackhole 10.0.0.0/8 table 7",
      "route add 192.0.2.0/24 dev eth1 src 192.0.2.5",
    ];
    for (const l of lines) runIpCommand(fib, w(l), () => {});
    const show = (l: string) => {
      const out: string[] = [];
      runIpCommand(fib, w(l), (s) => out.push(s));
      return out;
    };
    for (const table of ["", "table 100 ", "table 7 ", "table all "]) {
      const dump = show(`route show ${table}`);
      for (const prefix of ["10.0.0.0/8", "10.0.0.0/16", "192.0.2.0/24", "10.0.0.0/24"]) {
        // The reference: the dump's lines of that exact prefix (a multipath route's hop lines follow their route).
        const want: string[] = [];
        let keep = false;
        for (const l of dump) {
          if (!l.startsWith("\t")) keep = l.replace(/^(blackhole|unreachable|prohibit) /, "").startsWith(`${prefix} `);
          if (keep) want.push(l);
        }
        expect(show(`route show ${table}${prefix}`), `${table}${prefix}`).toEqual(want);
      }
    }
  });

  it("flushes every table with `route flush table all`, and reports nothing to do when all are empty", () => {
    const fib = new Fib();
    for (const l of ["route add 10.0.0.0/8 dev eth1", "route add 10.0.0.0/8 dev eth3 table 100", "route add blackhole 10.0.0.0/8 table 7"]) {
      runIpCommand(fib, w(l), () => {});
    }
    runIpCommand(fib, w("route del 10.0.0.0/8 table 100"), () => {}); // an empty table among the others
    expect(runIpCommand(fib, w("route flush table all"), () => {})).toEqual({ mutated: true, canonical: "route flush table all" });
    expect(fib.routes("all")).toEqual([]);
    expect(runIpCommand(fib, w("route flush table all"), () => {})).toEqual({ mutated: false });
  });

  it("persists what runIpCommand changed, and nothing for queries", () => {
    const fib = new Fib();
    const run = (l: string) => runIpCommand(fib, w(l), () => {});
    expect(run("route add 10.0.0.0/8 dev eth1 metric 0x10 proto 4")).toEqual({
      mutated: true,
      canonical: "route add 10.0.0.0/8 dev eth1 proto static metric 16",
    });
    expect(run("route replace local 192.0.2.5 dev eth1 table main")).toEqual({
      mutated: true,
      canonical: "route replace local 192.0.2.5 dev eth1 table main",
    });
    expect(run("route add 10.0.0.0/8 dev eth1 scope global")).toEqual({
      mutated: true,
      canonical: "route add 10.0.0.0/8 dev eth1 scope global",
    });
    expect(run("route delete 10.0.0.0/8 metric 16 dev eth1")).toEqual({ mutated: true, canonical: "route del 10.0.0.0/8 dev eth1 metric 16" });
    expect(run("rule add from 10.1.0.0/16 table 100")).toEqual({ mutated: true, canonical: "rule add from 10.1.0.0/16 lookup 100 priority 32765" });
    expect(run("rule add fwmark 0x10/0xff prohibit")).toEqual({ mutated: true, canonical: "rule add fwmark 0x10/0xff prohibit priority 32764" });
    expect(run("rule delete from all lookup 100")).toEqual({ mutated: true, canonical: "rule del lookup 100" });
    expect(run("route flush table main")).toEqual({ mutated: true, canonical: "route flush table main" });
    expect(run("route flush table 100")).toEqual({ mutated: false });
    expect(run("route show table all")).toEqual({ mutated: false });
    expect(run("rule show")).toEqual({ mutated: false });
    expect(run("route get 1.2.3.4")).toEqual({ mutated: false });
    expect(routeDelText({ prefix: 0, len: 0, table: 255, type: "local" })).toBe("route del local default");
    expect(ruleDelText({})).toBe("rule del from all");
  });

  it("refuses an unknown object", () => {
    expect(() => runIpCommand(new Fib(), ["link", "show"], () => {})).toThrow(`unknown object "link": expected "route" or "rule"`);
  });
});

// ── property tests ────────────────────────────────────────────────────────────

const arbAddr = fc.integer({ min: 0, max: 0xffffffff });
const arbNonZeroAddr = fc.integer({ min: 1, max: 0xffffffff });
const arbDev = fc.constantFrom("eth0", "eth1", "wr-a", "lo", "br0.10", "veth_1");
const arbTable = fc.oneof(fc.constantFrom(253, 254, 255, 100), fc.integer({ min: 1, max: 0xffffffff }));
const arbProto = fc.option(fc.oneof(fc.constantFrom("static", "kernel", "boot", "bird", "bgp"), fc.integer({ min: 0, max: 255 }).map(String)), { nil: undefined })
  .map((p) => (p === undefined ? undefined : parseProto("proto", p)));
const arbScope = fc.oneof(fc.constantFrom("host", "link", "site", "global", "nowhere"), fc.integer({ min: 0, max: 255 }).map(String))
  .map((s) => parseScope("scope", s));

/**
 * A route as the parser produces it. With `forShow`, only routes whose `ip route show` text is
 * unambiguous (what iproute2 itself cannot round-trip is left out): a single hop has weight 1
 * (the kernel prints no weight for it); a route whose type/gateway implies a default scope keeps a
 * printed scope; local and broadcast routes are not in table main (the default table they would be
 * parsed back into is local).
 */
function arbRoute(forShow: boolean): fc.Arbitrary<Route> {
  const arbType = fc.constantFrom<RouteTypeName>("unicast", "unicast", "local", "broadcast", "blackhole", "unreachable", "prohibit", "throw");
  const arbHop = (weightOne: boolean) =>
    fc.record({
      gateway: fc.oneof(fc.constant(0), arbNonZeroAddr),
      dev: fc.oneof(arbDev, fc.constant("")),
      weight: weightOne ? fc.constant(1) : fc.integer({ min: 1, max: 256 }),
      onlink: fc.boolean(),
    }).filter((h) => h.gateway !== 0 || h.dev !== "");
  return fc
    .record({
      addr: arbAddr,
      len: fc.integer({ min: 0, max: 32 }),
      type: arbType,
      table: arbTable,
      metric: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })),
      single: arbHop(forShow),
      multi: fc.array(arbHop(false), { minLength: 2, maxLength: 4 }),
      multipath: fc.boolean(),
      localDev: fc.option(arbDev, { nil: undefined }),
      proto: arbProto,
      scope: fc.option(arbScope, { nil: null }), // null: not given; undefined: "scope global"
      src: fc.option(arbAddr, { nil: undefined }),
    })
    .map((g) => {
      let nexthops: Nexthop[] = [];
      if (g.type === "unicast") nexthops = g.multipath ? g.multi : [g.single];
      else if (g.type === "local" || g.type === "broadcast") nexthops = g.localDev ? [hop(0, g.localDev)] : [];
      const r: Route = { prefix: (g.addr & maskOf(g.len)) >>> 0, len: g.len, type: g.type, table: g.table, metric: g.metric, nexthops };
      if (g.proto !== undefined) r.proto = g.proto;
      const multipath = nexthops.length > 1;
      const dflt = defaultScope(g.type, !multipath && (nexthops[0]?.gateway ?? 0) !== 0, multipath);
      const scope = g.scope === null ? dflt : g.scope;
      if (scope !== undefined) r.scope = scope;
      else if (forShow && dflt !== undefined) r.scope = dflt;
      if (forShow && defaultTable(g.type) !== 254 && r.table === 254) r.table = 255;
      if (g.src !== undefined) r.src = g.src;
      return r;
    });
}

describe("round trips", () => {
  it("`ip route show` text of a route parses back to the same route", () => {
    fc.assert(
      fc.property(arbRoute(true), (r) => {
        const text = formatRoute(r, { showTable: true });
        expect(text[0]!.endsWith(" ")).toBe(true);
        expect(parseRouteAdd(w(text.join(" ")))).toEqual(r);
      }),
      { numRuns: 2000 },
    );
  });

  it("the canonical command text of any route parses back to the same route", () => {
    fc.assert(
      fc.property(arbRoute(false), (r) => {
        const parsed = parseRouteCommand(w(`add ${formatRouteSpec(r)}`));
        expect(parsed).toEqual({ op: "add", mode: "add", route: r });
      }),
      { numRuns: 2000 },
    );
  });

  it("`ip rule show` text and the canonical line of a rule parse back to the same rule", () => {
    const arbPrefix = fc.record({ addr: arbAddr, len: fc.integer({ min: 0, max: 32 }) }).map((p) => ({ addr: (p.addr & maskOf(p.len)) >>> 0, len: p.len }));
    const arbRule = fc
      .record({
        priority: fc.integer({ min: 0, max: 0xffffffff }),
        src: arbPrefix,
        dst: arbPrefix,
        iif: fc.oneof(fc.constant(""), arbDev),
        tos: fc.integer({ min: 0, max: 7 }).map((t) => t * 4), // ECN bits clear, within 0x1e
        fwmark: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })),
        fwmask: fc.oneof(fc.constant(0xffffffff), fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })),
        action: fc.constantFrom("lookup", "lookup", "blackhole", "unreachable", "prohibit") as fc.Arbitrary<Rule["action"]>,
        table: fc.oneof(fc.constantFrom(253, 254, 255), fc.integer({ min: 1, max: 0xffffffff })),
      })
      .map((g): Rule => ({
        priority: g.priority, src: g.src.addr, srcLen: g.src.len, dst: g.dst.addr, dstLen: g.dst.len, iif: g.iif, tos: g.tos,
        // "fwmark 0" alone is no selector (mask 0), as the kernel stores it.
        fwmark: g.fwmark, fwmask: g.fwmark === 0 && g.fwmask === 0xffffffff ? 0 : g.fwmask,
        action: g.action, table: g.action === "lookup" ? g.table : 0,
      }));
    fc.assert(
      fc.property(arbRule, (r) => {
        const line = formatRule(r);
        const m = /^(\d+):\t(.*)$/.exec(line)!;
        expect(parseRuleAdd(w(`${m[2]} priority ${m[1]}`))).toEqual(r);
        expect(parseRuleCommand(w(ruleAddText(r).replace(/^rule /, "")))).toEqual({ op: "add", rule: r });
      }),
      { numRuns: 2000 },
    );
  });
});
