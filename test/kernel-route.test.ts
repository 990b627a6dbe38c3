// The reader of `ip -4 -o -d route` / `ip -4 -o -d monitor route` lines (#6, --sync-from-kernel):
// real iproute2 6.1 output, and a property test over every shape iproute2 prints.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { parseKernelRouteLine, routeKey } from "../host/router/kernel-route.ts";
import { parseRouteAdd } from "../host/cli/parse-route.ts";
import { formatIPv4, parseIPv4 } from "../host/fib/ipv4.ts";
import { maskOf } from "../host/fib/fib.ts";
import { spawnSync } from "node:child_process";
import { canRunLive, createNetns, deleteNetns, ip } from "./lib/netns.ts";


const MAIN = 254;
const parse = (l: string, t = MAIN) => parseKernelRouteLine(l, t);

describe("kernel route lines", () => {
  // Captured from `ip -4 -o -d [-n NS] monitor route` and `ip -4 -o -d route show table all` (iproute2 6.1).
  it("reads what iproute2 prints", () => {
    const a = parse("unicast 203.0.113.0/24 via 10.77.0.2 dev sya table main proto bird scope global metric 32 ");
    expect(a).toMatchObject({ kind: "route", deleted: false, key: routeKey(MAIN, parseIPv4("203.0.113.0")!, 24, 32) });
    expect(a.kind === "route" && a.words).toEqual(["unicast", "203.0.113.0/24", "table", "254", "proto", "bird", "metric", "32", "via", "10.77.0.2"]);
    const d = parse("Deleted unicast 203.0.113.0/24 via 10.77.0.2 dev sya table main proto bird scope global metric 32 ");
    expect(d).toMatchObject({ kind: "route", deleted: true });
    const ecmp = parse("unicast 198.51.100.0/24 table main proto boot scope global \\\tnexthop via 10.77.0.2 dev sya weight 2 \\\tnexthop via 10.77.0.3 dev sya weight 1 ");
    expect(ecmp.kind === "route" && ecmp.route.nexthops.map((h) => [formatIPv4(h.gateway), h.weight])).toEqual([["10.77.0.2", 2], ["10.77.0.3", 1]]);
    expect(ecmp.kind === "route" && ecmp.route.proto).toBeUndefined(); // proto boot is wasmroute's "no proto"
    for (const [line, type] of [
      ["blackhole 192.0.2.0/24 table main proto boot scope global ", "blackhole"],
      ["unreachable 10.99.0.0/16 table main proto boot scope global metric 5 ", "unreachable"],
      ["prohibit 10.97.0.0/16 table main proto static scope global ", "prohibit"],
    ] as const) {
      const r = parse(line);
      expect(r.kind === "route" && r.route.type).toBe(type);
    }
    const def = parse("unicast default via 10.77.0.5 dev sya table main proto boot scope global onlink ");
    expect(def.kind === "route" && [def.route.prefix, def.route.len, def.route.nexthops[0]!.gateway]).toEqual([0, 0, parseIPv4("10.77.0.5")]);
    expect(parse("unicast 10.88.1.0/24 via 10.77.0.9 dev sya table 100 proto boot scope global ", 100)).toMatchObject({ kind: "route" });
  });

  it("ignores what is not a route of the table, and says why it skips what it cannot express", () => {
    for (const l of [
      "unicast 10.88.1.0/24 via 10.77.0.9 dev sya table 100 proto boot scope global ", // another table
      "unicast 10.66.0.0/24 dev sya table main proto kernel scope link src 10.66.0.1 ", // connected
      "local 10.66.0.1 dev sya table local proto kernel scope host src 10.66.0.1 ",
      "broadcast 10.66.0.255 dev sya table local proto kernel scope link src 10.66.0.1 ",
      "unicast fe80::/64 dev sya table main proto kernel scope global metric 256 pref medium",
      "",
      "Flushed table main",
    ]) expect(parse(l)).toEqual({ kind: "ignore" });
    const reasons: [string, RegExp][] = [
      ["unicast 10.2.0.0/16 dev sya table main proto boot scope link ", /device only/],
      ["unicast 10.3.0.0/16 via 10.77.0.9 dev sya table main proto boot scope global mtu 1400 ", /per-route mtu/],
      ["prohibit 10.98.0.0/16 tos 0x10 table main proto boot scope global ", /TOS/],
      ["unicast 10.4.0.0/16 nhid 7 via 10.77.0.9 dev sya table main proto zebra scope global metric 20 ", /nexthop objects/],
      ["unicast 10.5.0.0/16 via inet6 fe80::1 dev sya table main proto bird scope global ", /another family/],
      ["unicast 10.6.0.0/16 table main proto boot scope global \\\tnexthop via 10.77.0.2 dev sya weight 1 \\\tnexthop dev syb weight 1 ", /device only/],
      ["nat 10.7.0.0/16 table main proto boot scope global ", /type nat/],
    ];
    for (const [l, why] of reasons) {
      const r = parse(l);
      expect(r.kind, l).toBe("skip");
      expect(r.kind === "skip" && r.reason, l).toMatch(why);
    }
  });

  it("gives back every route iproute2 can print, whatever it adds around it (property)", () => {
    const ip = fc.integer({ min: 1, max: 0xfffffffe }).map((n) => n >>> 0);
    const hop = fc.record({ gw: ip, weight: fc.integer({ min: 1, max: 256 }), dev: fc.constantFrom("eth0", "veth-x", "sya"), flags: fc.subarray(["onlink", "dead", "linkdown"]) });
    const spec = fc.record({
      type: fc.constantFrom("unicast", "blackhole", "unreachable", "prohibit", "throw"),
      addr: ip,
      len: fc.integer({ min: 0, max: 32 }),
      table: fc.constantFrom(MAIN, 100, 253, 4242),
      proto: fc.constantFrom("boot", "static", "bird", "zebra", "bgp", "ospf", "babel", "77"),
      metric: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffffffff })),
      hops: fc.array(hop, { minLength: 1, maxLength: 4 }),
      src: fc.option(ip),
      scope: fc.constantFrom("global", "link", "site"),
      deleted: fc.boolean(),
    });
    fc.assert(
      fc.property(spec, (s) => {
        const prefix = (s.addr & maskOf(s.len)) >>> 0;
        const dst = s.len === 0 ? "default" : s.len === 32 ? formatIPv4(prefix) : `${formatIPv4(prefix)}/${s.len}`;
        const table = s.table === MAIN ? "main" : s.table === 253 ? "default" : String(s.table);
        const hops = s.type === "unicast" ? s.hops : [];
        const parts = [s.deleted ? "Deleted" : "", s.type, dst];
        if (hops.length === 1) parts.push("via", formatIPv4(hops[0]!.gw), "dev", hops[0]!.dev);
        parts.push("table", table, "proto", s.proto, "scope", s.scope);
        if (s.src !== null) parts.push("src", formatIPv4(s.src));
        if (s.metric) parts.push("metric", String(s.metric));
        if (hops.length === 1) parts.push(...hops[0]!.flags);
        if (hops.length > 1) for (const h of hops) parts.push("\\\tnexthop", "via", formatIPv4(h.gw), "dev", h.dev, "weight", String(h.weight), ...h.flags);
        const line = `${parts.filter((p) => p !== "").join(" ")} `;
        const r = parseKernelRouteLine(line, s.table);
        expect(r.kind, line).toBe("route");
        if (r.kind !== "route") return;
        expect(r.deleted).toBe(s.deleted);
        expect(r.key).toBe(routeKey(s.table, prefix, s.len, s.metric));
        expect([r.route.type, r.route.prefix, r.route.len, r.route.table, r.route.metric]).toEqual([s.type, prefix, s.len, s.table, s.metric]);
        expect(r.route.proto).toBe(s.proto === "boot" ? undefined : s.proto);
        expect(r.route.src).toBeUndefined();
        expect(r.route.nexthops.map((h) => [h.gateway, h.dev, hops.length > 1 ? h.weight : 1])).toEqual(hops.map((h) => [h.gw, "", hops.length > 1 ? h.weight : 1]));
        // The words are wasmroute's own grammar: parsing them again gives the same route.
        expect(parseRouteAdd(r.words)).toEqual(r.route);
        // The same line for another table is not ours.
        expect(parseKernelRouteLine(line, s.table === 100 ? 101 : 100)).toEqual({ kind: "ignore" });
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws on arbitrary or mangled lines (property)", () => {
    const words = fc.constantFrom("Deleted", "unicast", "local", "via", "dev", "table", "main", "proto", "metric", "nexthop", "weight", "10.1.2.0/24", "10.1.2.3", "default", "256", "x", "\\", "inet6", "tos", "0x10", "scope", "link", "mtu", "999999999999", "1.2.3.4/33", "");
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.array(words, { maxLength: 14 }).map((w) => w.join(" "))), (line) => {
        const r = parseKernelRouteLine(line, MAIN);
        expect(["route", "skip", "ignore"]).toContain(r.kind);
        if (r.kind === "route") expect(parseRouteAdd(r.words)).toEqual(r.route);
      }),
      { numRuns: 3000 },
    );
  });
});

// The same reader against the real kernel and iproute2: random routes added with `ip route add` in a wr-sy-
// namespace, read back from `ip -4 -o -d route show table all`.
(canRunLive("kernel route lines from the real kernel", ["bird"]) ? describe : describe.skip)("kernel route lines from the real kernel", () => {
  it("reads back every route the kernel took", () => {
    const ns = `wr-sy-kr-${process.pid % 100000}`;
    createNetns(ns);
    try {
      ip("-n", ns, "link", "add", "sya", "type", "veth", "peer", "name", "syb");
      ip("-n", ns, "link", "set", "sya", "up");
      ip("-n", ns, "link", "set", "syb", "up");
      ip("-n", ns, "addr", "add", "10.77.0.1/24", "dev", "sya");
      const gw = fc.integer({ min: 2, max: 254 }).map((n) => `10.77.0.${n}`);
      const spec = fc.record({
        type: fc.constantFrom("unicast", "unicast", "blackhole", "unreachable", "prohibit", "throw"),
        addr: fc.integer({ min: 0x0b000000, max: 0xdfffffff }).map((n) => n >>> 0),
        len: fc.integer({ min: 1, max: 32 }),
        table: fc.constantFrom(MAIN, 100, 4242),
        proto: fc.constantFrom("boot", "static", "bird", "zebra", "bgp", "ospf", "77"),
        metric: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffffffff })),
        hops: fc.array(fc.record({ gw, weight: fc.integer({ min: 1, max: 256 }) }), { minLength: 1, maxLength: 3 }),
        onlink: fc.boolean(),
        src: fc.boolean(),
      });
      const all = fc.sample(spec, { numRuns: 300, seed: 6 });
      const byKey = new Map<string, (typeof all)[number] & { prefix: number }>();
      for (const x of all) {
        const prefix = (x.addr & maskOf(x.len)) >>> 0;
        const key = routeKey(x.table, prefix, x.len, x.metric);
        if (!byKey.has(key)) byKey.set(key, { ...x, prefix });
      }
      const cmds = [...byKey.values()].map((x) => {
        const w = ["route", "add", x.type, `${formatIPv4(x.prefix)}/${x.len}`];
        if (x.type === "unicast" && x.hops.length === 1) w.push("via", x.hops[0]!.gw, "dev", "sya", ...(x.onlink ? ["onlink"] : []));
        w.push("table", String(x.table), "proto", x.proto, "metric", String(x.metric));
        if (x.type === "unicast" && x.src) w.push("src", "10.77.0.1");
        if (x.type === "unicast" && x.hops.length > 1) for (const h of x.hops) w.push("nexthop", "via", h.gw, "dev", "sya", "weight", String(h.weight));
        return w.join(" ");
      });
      // One `ip` per route: in -batch, iproute2 6.1 caches a protocol name by pointer into its reused
      // line buffer, so `proto ospf` after `proto 77` is stored as 77.
      for (const c of cmds) {
        const r = spawnSync("ip", ["-n", ns, ...c.split(" ")], { encoding: "utf8", timeout: 5000 });
        expect(r.stderr, c).toBe("");
      }
      const dump = ip("-n", ns, "-4", "-o", "-d", "route", "show", "table", "all").split("\n");
      let seen = 0;
      for (const table of [MAIN, 100, 4242]) {
        for (const l of dump) {
          const got = parseKernelRouteLine(l, table);
          if (got.kind === "ignore") continue;
          expect(got.kind, l).toBe("route");
          if (got.kind !== "route") continue;
          const x = byKey.get(got.key);
          expect(x, l).toBeDefined();
          seen++;
          expect([got.route.type, got.route.prefix, got.route.len, got.route.table, got.route.metric, got.route.proto], l).toEqual([x!.type, x!.prefix, x!.len, x!.table, x!.metric, x!.proto === "boot" ? undefined : x!.proto]);
          const hops = x!.type !== "unicast" ? [] : x!.hops.length === 1 ? [[parseIPv4(x!.hops[0]!.gw), 1]] : x!.hops.map((h) => [parseIPv4(h.gw), h.weight]);
          expect(got.route.nexthops.map((h) => [h.gateway, h.weight]), l).toEqual(hops);
        }
      }
      expect(seen).toBe(byKey.size);
    } finally {
      deleteNetns(ns);
    }
  }, 60_000);
});
