// The `wasmroute run --config FILE` configuration (host/router/config.ts) and its reload diff
// (host/router/config-diff.ts). The diff is checked against the real FIB: a FIB started from the old
// config and reloaded with the diff must hold exactly what a FIB started from the new config holds.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { Fib } from "../host/fib/fib.ts";
import { formatDst, formatRoute, formatRule, routeAddText } from "../host/cli/format.ts";
import { parseRouteCommand } from "../host/cli/parse-route.ts";
import { addressRoutes } from "../host/router/addresses.ts";
import { assignNexthop } from "../host/fib/nexthop-rule.ts";
import { ConfigError, formatConfig, parseConfig, type RouterConfig } from "../host/router/config.ts";
import { addConfigRoute, routeModel, routeReplay, ruleModel } from "../host/router/config-model.ts";
import { diffConfig, diffLines, isEmptyDiff, sameGroups } from "../host/router/config-diff.ts";

const ip = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
const mac = (...b: number[]) => Uint8Array.from(b);
const cfg = (text: string) => parseConfig(text, "r.conf");

/** Generated config texts, parsed: those the parser refuses (ConfigError) are dropped; any other error fails. */
function parsedConfigs(texts: fc.Arbitrary<string>, file: string): fc.Arbitrary<RouterConfig> {
  return texts
    .map((text) => {
      try {
        return parseConfig(text, file);
      } catch (e) {
        if (e instanceof ConfigError) return undefined;
        throw e;
      }
    })
    .filter((c): c is RouterConfig => c !== undefined);
}

/** The message parseConfig throws for `text` (file name "r.conf"). */
function error(text: string): string {
  try {
    parseConfig(text, "r.conf");
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("did not throw");
}

const FULL = `# the lab router
ip link add tap0 type tap kernel-name wr-t0 netns h1 address 02:77:72:00:01:01
link add p0 type packet dev eth1 netns h2 mtu 9000
link add name cap type pcap    # replay only

addr add 10.0.1.1/24 dev tap0
address add 10.0.2.1/24 dev p0 broadcast 10.0.2.255
addr add 192.0.2.1 dev cap brd +
neigh add 10.0.1.2 lladdr 02:00:00:00:01:02 dev tap0
neighbour replace 10.0.2.2 lladdr 02:00:00:00:02:02 dev p0 nud noarp
neighbor add 10.0.2.3 lladdr 02:00:00:00:02:03 dev p0 nud stale
neigh replace 10.0.1.2 lladdr 02:00:00:00:01:99 dev tap0
route add 10.9.0.0/16 via 10.0.1.2
route append default via 10.0.2.2 dev p0 metric 10
ip route replace blackhole 198.51.100.0/24
route add 203.0.113.0/24 nexthop via 10.0.1.2 dev tap0 weight 2 nexthop via 10.0.2.2 dev p0
rule add from 10.1.0.0/16 lookup 100 priority 100
rule add fwmark 0x1 lookup main
sysctl net.ipv4.route.gc_timeout=120
sysctl -w net.ipv4.conf.tap0.rp_filter = 1
sysctl net/ipv4/neigh/default/retrans_time_ms=500
sysctl net.ipv4.ip_forward=1
`;

describe("a full valid file", () => {
  it("parses to the expected structure, in file order", () => {
    const c = cfg(FULL);
    expect(c.fileName).toBe("r.conf");
    expect(c.links).toEqual([
      { name: "tap0", kind: "tap", kernelName: "wr-t0", netns: "h1", dev: undefined, mac: mac(0x02, 0x77, 0x72, 0, 1, 1), mtu: 1500, offload: true, line: 2 },
      { name: "p0", kind: "packet", kernelName: undefined, netns: "h2", dev: "eth1", mac: undefined, mtu: 9000, offload: true, line: 3 },
      { name: "cap", kind: "pcap", kernelName: undefined, netns: undefined, dev: undefined, mac: undefined, mtu: 1500, offload: false, line: 4 },
    ]);
    expect(c.addrs).toEqual([
      { dev: "tap0", addr: ip(10, 0, 1, 1), len: 24, broadcast: undefined, line: 6 },
      { dev: "p0", addr: ip(10, 0, 2, 1), len: 24, broadcast: ip(10, 0, 2, 255), line: 7 },
      { dev: "cap", addr: ip(192, 0, 2, 1), len: 32, broadcast: undefined, line: 8 },
    ]);
    // The replace on line 12 supersedes line 9's entry and takes its place in order.
    expect(c.neighs).toEqual([
      { addr: ip(10, 0, 2, 2), lladdr: mac(2, 0, 0, 0, 2, 2), dev: "p0", nud: "noarp", line: 10 },
      { addr: ip(10, 0, 2, 3), lladdr: mac(2, 0, 0, 0, 2, 3), dev: "p0", nud: "stale", line: 11 },
      { addr: ip(10, 0, 1, 2), lladdr: mac(2, 0, 0, 0, 1, 0x99), dev: "tap0", nud: "permanent", line: 12 },
    ]);
    expect(c.routes).toEqual([
      {
        mode: "add", line: 13, words: ["add", "10.9.0.0/16", "via", "10.0.1.2"],
        route: { prefix: ip(10, 9, 0, 0), len: 16, type: "unicast", table: 254, metric: 0, nexthops: [{ gateway: ip(10, 0, 1, 2), dev: "", weight: 1, onlink: false }] },
      },
      {
        mode: "append", line: 14, words: ["append", "default", "via", "10.0.2.2", "dev", "p0", "metric", "10"],
        route: { prefix: 0, len: 0, type: "unicast", table: 254, metric: 10, nexthops: [{ gateway: ip(10, 0, 2, 2), dev: "p0", weight: 1, onlink: false }] },
      },
      {
        mode: "replace", line: 15, words: ["replace", "blackhole", "198.51.100.0/24"],
        route: { prefix: ip(198, 51, 100, 0), len: 24, type: "blackhole", table: 254, metric: 0, nexthops: [] },
      },
      {
        mode: "add", line: 16, words: ["add", "203.0.113.0/24", "nexthop", "via", "10.0.1.2", "dev", "tap0", "weight", "2", "nexthop", "via", "10.0.2.2", "dev", "p0"],
        route: {
          prefix: ip(203, 0, 113, 0), len: 24, type: "unicast", table: 254, metric: 0,
          nexthops: [{ gateway: ip(10, 0, 1, 2), dev: "tap0", weight: 2, onlink: false }, { gateway: ip(10, 0, 2, 2), dev: "p0", weight: 1, onlink: false }],
        },
      },
    ]);
    expect(c.rules).toEqual([
      {
        line: 17, words: ["add", "from", "10.1.0.0/16", "lookup", "100", "priority", "100"],
        rule: { src: ip(10, 1, 0, 0), srcLen: 16, dst: 0, dstLen: 0, iif: "", tos: 0, fwmark: 0, fwmask: 0, action: "lookup", table: 100, priority: 100 },
      },
      {
        line: 18, words: ["add", "fwmark", "0x1", "lookup", "main"],
        rule: { src: 0, srcLen: 0, dst: 0, dstLen: 0, iif: "", tos: 0, fwmark: 1, fwmask: 0xffffffff, action: "lookup", table: 254 },
      },
    ]);
    expect(c.sysctls).toEqual([
      { name: "net.ipv4.route.gc_timeout", value: "120", line: 19 },
      { name: "net.ipv4.conf.tap0.rp_filter", value: "1", line: 20 },
      { name: "net.ipv4.neigh.default.retrans_time_ms", value: "500", line: 21 },
      { name: "net.ipv4.ip_forward", value: "1", line: 22 },
    ]);
  });

  it("replays on the FIB model as the router applies it", () => {
    const c = cfg(FULL);
    const main = routeModel(c).filter((g) => g.table === 254);
    const g = main.find((x) => x.prefix === ip(10, 9, 0, 0))!;
    // `via 10.0.1.2` without dev resolves through tap0's connected route, as Fib.normalise does.
    expect(g.entries[0]!.route.nexthops[0]!.dev).toBe("tap0");
    expect(g.entries[0]!.source?.line).toBe(13);
    expect(main.find((x) => x.prefix === ip(10, 0, 1, 0))!.entries[0]!.addr?.line).toBe(6);
    expect(ruleModel(c).map((r) => `${r.rule.priority}:${r.source?.line ?? "-"}`)).toEqual(["0:-", "99:18", "100:17", "32766:-", "32767:-"]);
  });

  it("prints back as canonical directives that parse to the same config", () => {
    const c = cfg(FULL);
    const text = formatConfig(c);
    expect(text.slice(0, 4)).toEqual([
      "link add tap0 type tap kernel-name wr-t0 netns h1 address 02:77:72:00:01:01",
      "link add p0 type packet dev eth1 netns h2 mtu 9000",
      "link add cap type pcap",
      "addr add 10.0.1.1/24 dev tap0",
    ]);
    const c2 = cfg(text.join("\n"));
    const strip = (x: RouterConfig) => ({
      links: x.links.map(({ line: _l, ...l }) => l),
      addrs: x.addrs.map(({ line: _l, ...a }) => a),
      neighs: x.neighs.map(({ line: _l, ...n }) => n),
      routes: x.routes.map((r) => ({ mode: r.mode, route: r.route })),
      rules: x.rules.map((r) => r.rule),
      sysctls: x.sysctls.map((s) => [s.name, s.value]),
    });
    expect(strip(c2)).toEqual(strip(c));
  });

  it("accepts an empty file, comments and blank lines", () => {
    expect(cfg("")).toEqual({ fileName: "r.conf", links: [], addrs: [], neighs: [], routes: [], rules: [], sysctls: [], syncs: [] });
    expect(cfg("# nothing\n\n   \t# really\r\n").links).toEqual([]);
    expect(cfg("link add a type tap # trailing comment").links[0]!.name).toBe("a");
    // "#" starts a comment only at the start of a word, as in script.ts.
    expect(error("link add a type tap#x")).toBe(`r.conf:1: unknown link type "tap#x" (expected tap, packet or pcap)`);
  });
});

describe("errors: one line, FILE:LINE: what was wrong", () => {
  const L = "link add t0 type tap\n";
  const CASES: [string, string][] = [
    // directives
    ["frobnicate all", `r.conf:1: unknown directive "frobnicate" (expected link, addr, neigh, route, rule, sysctl or sync)`],
    ["link del t0", `r.conf:1: "link del" is not allowed in a config file (only "link add")`],
    ["link", `r.conf:1: "link" needs a command (a config file takes "link add")`],
    // links
    ["link add lo type tap", `r.conf:1: invalid link name "lo": that is the loopback interface`],
    ["link add abcdefghijklmnop type tap", `r.conf:1: invalid link name "abcdefghijklmnop": longer than 15 characters`],
    ["link add a/b type tap", `r.conf:1: invalid link name "a/b": only letters, digits, "_", "." and "-"`],
    ["link add eth0:1 type tap", `r.conf:1: invalid link name "eth0:1": only letters, digits, "_", "." and "-"`],
    ["link add all type tap", `r.conf:1: invalid link name "all": it would collide with net.ipv4.conf.all`],
    ["link add .. type tap", `r.conf:1: invalid link name ".."`],
    ["link add", `r.conf:1: "link add" needs a link name`],
    [`${L}# again\nlink add t0 type pcap`, `r.conf:3: duplicate link "t0" (first declared on line 1)`],
    ["link add t0 type veth", `r.conf:1: unknown link type "veth" (expected tap, packet or pcap)`],
    ["link add t0 mtu 1400", `r.conf:1: "link add t0" needs "type tap|packet|pcap"`],
    ["link add t0 type tap type tap", `r.conf:1: duplicate "type" in link command`],
    ["link add t0 type tap color blue", `r.conf:1: unknown word "color" in link command (type, kernel-name, netns, dev, address, mtu, offload)`],
    ["link add t0 type tap netns", `r.conf:1: missing argument after "netns" in "link add"`],
    ["link add t0 type tap netns bad/ns", `r.conf:1: invalid netns name "bad/ns" (1..64 of letters, digits, "_", "." and "-")`],
    [`link add t0 type tap netns ${"n".repeat(65)}`, `r.conf:1: invalid netns name "${"n".repeat(64)}…" (1..64 of letters, digits, "_", "." and "-")`],
    ["link add t0 type tap address 02:00:00:00:00", `r.conf:1: invalid MAC address "02:00:00:00:00" (expected six hex bytes like 02:00:00:00:00:01)`],
    ["link add t0 type tap address 02-00-00-00-00-01", `r.conf:1: invalid MAC address "02-00-00-00-00-01" (expected six hex bytes like 02:00:00:00:00:01)`],
    ["link add t0 type tap address 01:00:5e:00:00:01", `r.conf:1: invalid MAC address "01:00:5e:00:00:01": multicast (the first byte is odd); a port needs a unicast address`],
    ["link add t0 type tap address 00:00:00:00:00:00", `r.conf:1: invalid MAC address "00:00:00:00:00:00": all zeros`],
    ["link add t0 type tap mtu 67", `r.conf:1: "mtu" value 67 is out of range 68..65535`],
    ["link add t0 type tap mtu 65536", `r.conf:1: "mtu" value 65536 is out of range 68..65535`],
    ["link add t0 type tap mtu jumbo", `r.conf:1: "mtu" needs a number, got "jumbo"`],
    ["link add p0 type packet", `r.conf:1: a packet link needs "dev IFNAME" (the interface to bind)`],
    ["link add t0 type tap dev eth0", `r.conf:1: "dev" is only for a packet link (a tap creates its own interface: use kernel-name)`],
    ["link add c0 type pcap dev eth0", `r.conf:1: "dev" is only for a packet link (a pcap link has no device)`],
    ["link add p0 type packet dev eth0 kernel-name x", `r.conf:1: "kernel-name" is only for a tap link`],
    ["link add c0 type pcap netns h1", `r.conf:1: "netns" is not for a pcap link (it has no device)`],
    ["link add p0 type packet dev eth0/1", `r.conf:1: invalid interface name "eth0/1" after "dev" (1..15 characters, no "/", ":" or blanks)`],
    ["link add t0 type tap kernel-name abcdefghijklmnop", `r.conf:1: invalid interface name "abcdefghijklmnop" after "kernel-name" (1..15 characters, no "/", ":" or blanks)`],
    ["link add a type tap\nlink add b type tap kernel-name a", `r.conf:2: tap interface "a" is already used by link "a" (line 1); give a different kernel-name`],
    ["link add a type packet dev eth0\nlink add b type packet dev eth0", `r.conf:2: interface "eth0" is already bound by link "a" (line 1)`],
    ["link add a type packet dev eth0 netns x\nlink add b type packet dev eth0 netns x", `r.conf:2: interface "eth0" in netns "x" is already bound by link "a" (line 1)`],
    // addresses
    ["addr add 10.0.0.1/24 dev t0", `r.conf:1: unknown device "t0" in "addr add" (declare it with "link add" on an earlier line)`],
    [`${L}addr add 10.0.0.1/24`, `r.conf:2: "addr add" needs "dev NAME"`],
    [`${L}address add dev t0`, `r.conf:2: missing address in "address add"`],
    [`${L}addr add 10.0.0.256/24 dev t0`, `r.conf:2: invalid IPv4 address "10.0.0.256" in "10.0.0.256/24"`],
    [`${L}addr add 10.0.0.1/33 dev t0`, `r.conf:2: invalid prefix length "33" in "10.0.0.1/33" (0..32)`],
    [`${L}addr add 0.0.0.0/8 dev t0`, `r.conf:2: invalid interface address "0.0.0.0/8": 0.0.0.0`],
    [`${L}addr add 127.0.0.1/8 dev t0`, `r.conf:2: invalid interface address "127.0.0.1/8": loopback (127.0.0.0/8)`],
    [`${L}addr add 224.0.0.1/4 dev t0`, `r.conf:2: invalid interface address "224.0.0.1/4": not a unicast address`],
    [`${L}addr add 10.0.0.1/24 dev t0 scope link`, `r.conf:2: unknown word "scope" in address command (ADDR/LEN, dev, broadcast)`],
    [`${L}addr add 10.0.0.1/24 dev t0 broadcast -`, `r.conf:2: "broadcast -" is not supported (give an address or "+")`],
    [`${L}addr add 10.0.0.1/24 10.0.0.2/24 dev t0`, `r.conf:2: duplicate address "10.0.0.2/24" in "addr add"`],
    [`${L}link add t1 type tap\naddr add 10.0.0.1/24 dev t0\naddr add 10.0.0.1/16 dev t1`, `r.conf:4: address 10.0.0.1 is already on t0 (line 3)`],
    [`${L}addr del 10.0.0.1/24 dev t0`, `r.conf:2: "addr del" is not allowed in a config file (only "addr add")`],
    // neighbours
    ["neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev t0", `r.conf:1: unknown device "t0" in "neigh add" (declare it with "link add" on an earlier line)`],
    [`${L}neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev t0\nneigh add 10.0.0.2 lladdr 02:00:00:00:00:03 dev t0`,
      `r.conf:3: RTNETLINK answers: File exists (neighbour 10.0.0.2 dev t0 is on line 2; use "neigh replace")`],
    [`${L}neigh del 10.0.0.2 dev t0`, `r.conf:2: "neigh del" is not allowed in a config file (only "neigh add" or "neigh replace")`],
    [`${L}neighbour change 10.0.0.2 lladdr 02:00:00:00:00:02 dev t0`, `r.conf:2: "neighbour change" is not allowed in a config file (only "neighbour add" or "neighbour replace")`],
    [`${L}neigh add 10.0.0.2 dev t0`, `r.conf:2: "neigh add" needs "lladdr MAC" (a static entry needs the link-layer address)`],
    [`${L}neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev t0 nud failed`, `r.conf:2: "nud failed" cannot be set by hand in "neigh add" (permanent, noarp, reachable or stale)`],
    // routes
    [`${L}route del 10.0.0.0/8`, `r.conf:2: "route del" is not allowed in a config file (only "route add", "route append", "route replace" or "route load")`],
    [`${L}route show`, `r.conf:2: "route show" is not allowed in a config file (only "route add", "route append", "route replace" or "route load")`],
    [`${L}route get 10.0.0.1`, `r.conf:2: "route get" is not allowed in a config file (only "route add", "route append", "route replace" or "route load")`],
    [`${L}route flush table main`, `r.conf:2: "route flush" is not allowed in a config file (only "route add", "route append", "route replace" or "route load")`],
    [`${L}route change 10.0.0.0/8 dev t0`, `r.conf:2: "route change" is not allowed in a config file (only "route add", "route append", "route replace" or "route load")`],
    [`${L}route load table.txt via 10.0.0.1 dev t0`, `r.conf:2: cannot read CIDR list ${process.cwd()}/table.txt: no such file`],
    [`${L}route`, `r.conf:2: "route" needs a command (a config file takes "route add", "route append", "route replace" or "route load")`],
    [`${L}route add 10.0.0.1/8 dev t0`, `r.conf:2: invalid prefix "10.0.0.1/8": host bits set (did you mean 10.0.0.0/8?)`],
    [`${L}route add 10.0.0.0/8 dev t9`, `r.conf:2: unknown device "t9" in "route add" (declare it with "link add" on an earlier line)`],
    [`${L}route append 10.0.0.0/8 nexthop via 10.1.0.1 dev t0 nexthop via 10.2.0.1 dev t9`, `r.conf:2: unknown device "t9" in "route append" (declare it with "link add" on an earlier line)`],
    [`route add 10.0.0.0/8 dev t0\n${L}`, `r.conf:1: unknown device "t0" in "route add" (declare it with "link add" on an earlier line)`],
    [`${L}route add 10.0.0.0/8`, `r.conf:2: Error: Nexthop device required for a unicast route (give via and/or dev).`],
    [`${L}route add 10.0.0.0/8 via 192.0.2.1`, `r.conf:2: Error: Nexthop has invalid gateway. (192.0.2.1: no route in table main reaches it; add "dev NAME" or an address on its subnet)`],
    [`${L}route add 10.0.0.0/8 via 192.0.2.1 dev t0\nroute add 10.1.0.0/16 via 10.9.9.9`,
      `r.conf:3: Error: Nexthop has invalid gateway. (10.9.9.9: table main reaches it by 10.0.0.0/8, which is not a directly connected route; add "dev NAME" or an address on its subnet)`],
    [`${L}route add 10.0.0.0/8 dev t0\n\nroute add 10.0.0.0/8 via 10.0.0.1 dev t0`,
      `r.conf:4: RTNETLINK answers: File exists (the route on line 2 has the same prefix, table and metric; use "route replace" or "route append")`],
    [`${L}addr add 10.0.1.1/24 dev t0\nroute add 10.0.1.0/24 dev t0`,
      `r.conf:3: RTNETLINK answers: File exists (the kernel route of address 10.0.1.1/24 dev t0 (line 2) has the same prefix, table and metric; use "route replace" or "route append")`],
    [`${L}route add 10.0.0.0/8 dev t0\nroute append 10.0.0.0/8 dev t0`, `r.conf:3: RTNETLINK answers: File exists (the route on line 2 is the same route)`],
    // rules
    [`${L}rule del from 10.0.0.0/8`, `r.conf:2: "rule del" is not allowed in a config file (only "rule add")`],
    [`${L}rule show`, `r.conf:2: "rule show" is not allowed in a config file (only "rule add")`],
    [`${L}rule add from 10.0.0.0/8`, `r.conf:2: "rule add" needs "lookup TABLE" or an action (blackhole, unreachable, prohibit)`],
    [`${L}rule add from 10.0.0.0/8 lookup 100 pref 5\nrule add from 10.0.0.0/8 lookup 100 priority 5`, `r.conf:3: RTNETLINK answers: File exists (the same rule is on line 2)`],
    [`${L}rule add lookup local priority 0`, `r.conf:2: RTNETLINK answers: File exists (it is a default rule)`],
    [`${L}rule add iif a/b lookup 100`, `r.conf:2: invalid interface name "a/b" in "rule add"`],
    // sysctls
    ["sysctl net.ipv4.route.gc_timeout", `r.conf:1: "sysctl" needs NAME=VALUE, got "net.ipv4.route.gc_timeout"`],
    ["sysctl", `r.conf:1: "sysctl" needs NAME=VALUE`],
    ["sysctl =5", `r.conf:1: missing sysctl name before "="`],
    ["sysctl net.ipv4.route.gc_timeout =", `r.conf:1: missing value for sysctl "net.ipv4.route.gc_timeout"`],
    ["sysctl -a", `r.conf:1: sysctl option "-a" is not allowed in a config file (write "sysctl [-w] NAME=VALUE")`],
    ["sysctl net.ipv4.route.gc_timeot=5", `r.conf:1: unknown sysctl "net.ipv4.route.gc_timeot"`],
    ["sysctl net.ipv4.tcp_syncookies=1", `r.conf:1: unknown sysctl "net.ipv4.tcp_syncookies"`],
    ["sysctl net.ipv4.route.gc_timeout=5s", `r.conf:1: invalid value "5s" for net.ipv4.route.gc_timeout: not an integer`],
    ["sysctl rhash_entries=4096", `r.conf:1: "rhash_entries" is a boot parameter, not a sysctl: the route cache is sized when the router starts`],
    ["sysctl net.ipv4.conf.t0.rp_filter=1\nlink add t0 type tap", `r.conf:1: unknown sysctl "net.ipv4.conf.t0.rp_filter" (no interface "t0"; conf directories: all, default, none)`],
    [`${L}sysctl net.ipv4.conf.t0.rp_filter=3`, `r.conf:2: invalid value "3" for net.ipv4.conf.t0.rp_filter: out of range (allowed: 0..2)`],
    [`${L}sysctl net.ipv4.neigh.t0.gc_thresh1=3`, `r.conf:2: unknown sysctl "net.ipv4.neigh.t0.gc_thresh1" (gc_thresh1 is table-wide: net.ipv4.neigh.default.gc_thresh1)`],
    ["sysctl net.ipv4.ip_forward = 1 2", `r.conf:1: invalid value "1 2" for net.ipv4.ip_forward: not an integer (allowed: 0..1)`],
  ];

  for (const [text, message] of CASES) {
    it(message, () => expect(error(text)).toBe(message));
  }

  it("uses the file name given and counts lines from 1, comments included", () => {
    expect(() => parseConfig("# one\n\nbogus\n", "/etc/wasmroute/r1.conf")).toThrow(/^\/etc\/wasmroute\/r1\.conf:3: unknown directive "bogus"/);
  });

  it("rejects the whole file: a bad last line gives nothing back", () => {
    expect(error(`${FULL}route add 10.0.0.0/8 dev nowhere\n`)).toBe(`r.conf:23: unknown device "nowhere" in "route add" (declare it with "link add" on an earlier line)`);
  });

  it("keeps odd but valid input: lo routes, iif of an absent interface, optional words", () => {
    const c = cfg(`${L}route add local 10.7.0.0/16 dev lo\nroute add unreachable 10.6.0.0/16\nrule add iif eth9 lookup 100\naddr add 10.0.0.1/0 dev t0`);
    expect(c.routes.map((r) => r.route.type)).toEqual(["local", "unreachable"]);
    expect(c.rules[0]!.rule.iif).toBe("eth9");
  });

  it("random garbage never throws anything but a one-line FILE:LINE ConfigError", () => {
    const token = fc.oneof(
      fc.constantFrom(
        "ip", "link", "add", "addr", "address", "neigh", "neighbour", "route", "rule", "sysctl", "-w", "replace", "append", "del",
        "show", "type", "tap", "packet", "pcap", "dev", "t0", "t1", "lo", "kernel-name", "netns", "mtu", "9000", "address",
        "02:00:00:00:00:01", "lladdr", "nud", "permanent", "10.0.0.1/24", "10.0.0.0/8", "10.0.0.2", "via", "metric", "table",
        "nexthop", "lookup", "from", "priority", "broadcast", "+", "=", "net.ipv4.route.gc_timeout=1", "net.ipv4.conf.t0.rp_filter",
        "net.ipv4.ip_forward", "1", "0x10", "-1", "#", "blackhole", "default", "local", "all",
      ),
      fc.string({ maxLength: 10 }),
      fc.string({ unit: "binary", maxLength: 6 }),
    );
    const line = fc.array(token, { maxLength: 9 }).map((ws) => ws.join(" "));
    const prelude = "link add t0 type tap\nlink add t1 type pcap\naddr add 10.0.0.1/24 dev t0";
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 6 }), (lines) => {
        const text = `${prelude}\n${lines.join("\n")}`;
        try {
          parseConfig(text, "g.conf");
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
          const m = (e as Error).message;
          expect(m).toMatch(/^g\.conf:(\d+): \S/);
          expect(m).not.toMatch(/[\n\r]/);
          const n = Number(/^g\.conf:(\d+):/.exec(m)![1]);
          expect(n).toBeGreaterThanOrEqual(1);
          expect(n).toBeLessThanOrEqual(text.split("\n").length);
          expect((e as ConfigError).line).toBe(n);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

// ── reload diffs ──────────────────────────────────────────────────────────────

/** A FIB as Router.start builds it from a config. */
function startFib(c: RouterConfig): Fib {
  const fib = new Fib();
  fib.transaction(() => {
    for (const a of c.addrs) for (const r of addressRoutes(a)) fib.addRoute(r, "replace");
    for (const r of c.routes) addConfigRoute(fib, r);
    for (const r of c.rules) fib.addRule(r.rule);
  });
  return fib;
}

/** The FIB part of Router.reload. */
function reloadFib(fib: Fib, prev: RouterConfig, next: RouterConfig): void {
  const d = diffConfig(prev, next);
  fib.transaction(() => {
    if (d.addrsChanged) {
      for (const a of prev.addrs) {
        for (const r of addressRoutes(a)) {
          try {
            fib.delRoute({ prefix: r.prefix, len: r.len, table: r.table, type: r.type, dev: r.nexthops[0]?.dev });
          } catch {
            // gone already
          }
        }
      }
      for (const a of next.addrs) for (const r of addressRoutes(a)) fib.addRoute(r, "replace");
    }
    for (const r of d.routesDel) fib.delRoute(r);
    for (const r of d.routesAdd) fib.addRoute(r.route, r.mode);
    for (const r of d.rulesDel) fib.delRule(r);
    for (const r of d.rulesAdd) fib.addRule(r.rule);
  });
}

/** Reloads a FIB started from config a (or `fib`, already at a) to config b, and checks it is what a fresh start from b gives. */
function reloadsLikeAFreshStart(a: RouterConfig, b: RouterConfig, fib = startFib(a)): Fib {
  reloadFib(fib, a, b);
  expect(fibState(fib)).toEqual(fibState(startFib(b)));
  return fib;
}

function fibState(fib: Fib): string[] {
  return [
    ...fib.routes("all").map((r) => `${r.table} ${formatRoute(r, { showTable: false }).join(" | ")}`),
    ...fib.rules().map(formatRule),
  ];
}

const LINKS = "link add tap0 type tap\nlink add tap1 type tap\n";

describe("diffConfig", () => {
  it("is empty for the same config (comments, order of unrelated lines and spelling aside)", () => {
    const a = cfg(FULL);
    const b = cfg(FULL.replace("# the lab router", "").replace("sysctl -w net.ipv4.conf.tap0.rp_filter = 1", "sysctl net/ipv4/conf/tap0/rp_filter=0x1"));
    const d = diffConfig(a, b);
    expect(isEmptyDiff(d)).toBe(true);
    expect(diffLines(d)).toEqual([]);
  });

  it("rewrites only the prefixes whose routes changed, deletions first", () => {
    const a = cfg(`${LINKS}addr add 10.0.1.1/24 dev tap0\nroute add default via 10.0.1.2 dev tap0 metric 10\nroute add 10.9.0.0/16 via 10.0.1.3\nroute add blackhole 192.0.2.0/24`);
    const b = cfg(`${LINKS}addr add 10.0.1.1/24 dev tap0\nroute add default via 10.0.1.2 dev tap0 metric 20\nroute add 10.9.0.0/16 via 10.0.1.3\nroute add 10.8.0.0/16 via 10.0.1.4 dev tap0`);
    const d = diffConfig(a, b);
    expect(diffLines(d)).toEqual([
      "route del unicast default via 10.0.1.2 dev tap0 metric 10",
      "route del blackhole 192.0.2.0/24 metric 0",
      "route add default via 10.0.1.2 dev tap0 metric 20",
      "route add 10.8.0.0/16 via 10.0.1.4 dev tap0",
    ]);
    expect(d.routesDel[0]).toEqual({ prefix: 0, len: 0, table: 254, type: "unicast", metric: 10, gateway: ip(10, 0, 1, 2), dev: "tap0" });
    expect(d.routesAdd.map((r) => r.line)).toEqual([4, 6]);
    expect(d.links).toEqual([]);
    expect(d.addrsChanged).toBe(false);
  });

  it("re-resolves a gateway whose connected route moved to another link", () => {
    const a = cfg(`${LINKS}addr add 10.0.1.1/24 dev tap0\nroute add 10.9.0.0/16 via 10.0.1.2`);
    const b = cfg(`${LINKS}addr add 10.0.1.1/24 dev tap1\nroute add 10.9.0.0/16 via 10.0.1.2`);
    const d = diffConfig(a, b);
    expect(d.addrsChanged).toBe(true);
    expect(d.addrsRemoved.map((x) => x.dev)).toEqual(["tap0"]);
    expect(d.addrsAdded.map((x) => x.dev)).toEqual(["tap1"]);
    expect(diffLines(d)).toEqual([
      "addr del 10.0.1.1/24 dev tap0",
      "addr add 10.0.1.1/24 dev tap1",
      "route del unicast 10.9.0.0/16 via 10.0.1.2 dev tap0 metric 0",
      "route add 10.9.0.0/16 via 10.0.1.2 dev tap1",
    ]);
  });

  it("rewrites a prefix in the FIB's order when replace and append interleave", () => {
    const a = cfg(`${LINKS}route add 10.9.0.0/16 via 10.0.0.1 dev tap0\nroute append 10.9.0.0/16 via 10.0.0.2 dev tap0`);
    const b = cfg(`${LINKS}route add 10.9.0.0/16 via 10.0.0.1 dev tap0\nroute append 10.9.0.0/16 via 10.0.0.2 dev tap0\nroute replace 10.9.0.0/16 via 10.0.0.3 dev tap1`);
    const d = diffConfig(a, b);
    expect(d.routesDel.length).toBe(2);
    // The prefix's lines are replayed: .3 replaces .1 and so comes before .2, as in a fresh start.
    expect(d.routesAdd.map((r) => `${r.mode} ${r.route.nexthops[0]!.gateway & 255}`)).toEqual(["add 1", "append 2", "replace 3"]);
    const fib = startFib(a);
    reloadFib(fib, a, b);
    expect(fibState(fib)).toEqual(fibState(startFib(b)));
  });

  it("gives rules without a priority the priority a fresh start would", () => {
    const a = cfg(`${LINKS}rule add from 10.1.0.0/16 lookup 100\nrule add to 10.3.0.0/16 blackhole priority 50`);
    const b = cfg(`${LINKS}rule add from 10.2.0.0/16 lookup 100\nrule add from 10.1.0.0/16 lookup 100\nrule add to 10.3.0.0/16 blackhole priority 50`);
    const d = diffConfig(a, b);
    expect(diffLines(d)).toEqual([
      "rule del from 10.1.0.0/16 lookup 100 priority 32765",
      "rule add from 10.2.0.0/16 lookup 100 priority 32765",
      "rule add from 10.1.0.0/16 lookup 100 priority 32764",
    ]);
    expect(d.rulesDel[0]).toEqual({ priority: 32765, src: ip(10, 1, 0, 0), srcLen: 16, dst: 0, dstLen: 0, iif: "", tos: 0, fwmark: 0, fwmask: 0, action: "lookup", table: 100 });
    const fib = startFib(a);
    reloadFib(fib, a, b);
    expect(fibState(fib)).toEqual(fibState(startFib(b)));
  });

  it("deletes and adds neighbours by (dev, address)", () => {
    const n = (s: string) => `${LINKS}${s}`;
    const a = cfg(n("neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev tap0\nneigh add 10.0.0.3 lladdr 02:00:00:00:00:03 dev tap0\nneigh add 10.0.0.4 lladdr 02:00:00:00:00:04 dev tap1"));
    const b = cfg(n("neigh add 10.0.0.4 lladdr 02:00:00:00:00:04 dev tap1\nneigh add 10.0.0.2 lladdr 02:00:00:00:00:22 dev tap0\nneigh add 10.0.0.3 lladdr 02:00:00:00:00:03 dev tap1"));
    expect(diffLines(diffConfig(a, b))).toEqual([
      "neigh del 10.0.0.2 dev tap0",
      "neigh del 10.0.0.3 dev tap0",
      "neigh replace 10.0.0.2 lladdr 02:00:00:00:00:22 dev tap0 nud permanent",
      "neigh replace 10.0.0.3 lladdr 02:00:00:00:00:03 dev tap1 nud permanent",
    ]);
    const c = cfg(n("neigh add 10.0.0.4 lladdr 02:00:00:00:00:04 dev tap1 nud stale"));
    expect(diffConfig(b, c).neighsAdd).toEqual([{ addr: ip(10, 0, 0, 4), lladdr: mac(2, 0, 0, 0, 0, 4), dev: "tap1", nud: "stale", line: 3 }]);
  });

  it("writes the sysctls that take the old values to the new ones, propagation included", () => {
    const a = cfg(`${LINKS}sysctl net.ipv4.ip_forward=0\nsysctl net.ipv4.conf.tap0.forwarding=1\nsysctl net.ipv4.route.gc_timeout=120\nsysctl net.ipv4.route.gc_min_interval_ms=200`);
    const b = cfg(`${LINKS}sysctl net.ipv4.route.gc_min_interval_ms=700\nsysctl net.ipv4.conf.default.rp_filter=1\nsysctl net.ipv4.conf.tap1.rp_filter=2`);
    const d = diffConfig(a, b);
    // all.forwarding=1 also sets default, both devices and all.accept_redirects; default.rp_filter reaches
    // tap0 and tap1, and tap1 then gets its own value.
    expect(d.sysctls).toEqual([
      { name: "net.ipv4.route.gc_min_interval_ms", value: "700" },
      { name: "net.ipv4.route.gc_timeout", value: "300" },
      { name: "net.ipv4.conf.all.forwarding", value: "1" },
      { name: "net.ipv4.conf.default.rp_filter", value: "1" },
      { name: "net.ipv4.conf.tap1.rp_filter", value: "2" },
    ]);
    expect(diffConfig(b, b).sysctls).toEqual([]);
    expect(diffConfig(a, cfg(`${LINKS}sysctl net.ipv4.route.flush=1`)).sysctls.some((s) => s.name === "net.ipv4.route.flush")).toBe(false);
  });

  it("describes link changes for the runtime to refuse or apply", () => {
    const a = cfg("link add tap0 type tap\nlink add p0 type packet dev eth0\nlink add gone type pcap");
    const b = cfg("link add tap0 type tap mtu 9000 address 02:00:00:00:00:01\nlink add p0 type packet dev eth0\nlink add new type pcap");
    const d = diffConfig(a, b);
    expect(d.links).toEqual(["link gone removed", "link new added", "link tap0 changed (address auto → 02:00:00:00:00:01, mtu 1500 → 9000)"]);
    expect(d.linksChanged[0]!.changes).toEqual(["address auto → 02:00:00:00:00:01", "mtu 1500 → 9000"]);
    expect(d.linksAdded.map((l) => l.name)).toEqual(["new"]);
    expect(d.linksRemoved.map((l) => l.name)).toEqual(["gone"]);
    // Sysctls of a new link are compared from the values it would start with.
    const c = cfg("link add tap0 type tap\nlink add p0 type packet dev eth0\nlink add new type pcap\nsysctl net.ipv4.conf.new.rp_filter=1");
    expect(diffConfig(a, c).sysctls).toEqual([{ name: "net.ipv4.conf.new.rp_filter", value: "1" }]);
  });

  it("reloading with the diff gives the FIB a fresh start would (property)", () => {
    const ADDRS = [
      "addr add 10.0.1.1/24 dev tap0", "addr add 10.0.2.1/24 dev tap1", "addr add 10.0.3.1/24 dev tap0", "addr add 10.0.3.1/24 dev tap1",
      "addr add 10.0.4.1/24 dev tap1 broadcast 10.0.4.127",
    ];
    const ROUTES = [
      "10.9.0.0/16 via 10.0.1.2", "10.9.0.0/16 via 10.0.3.2", "10.9.0.0/16 via 10.0.2.2 dev tap1", "10.9.0.0/16 via 10.0.2.2 dev tap1 metric 5",
      "10.9.0.0/16 via 10.0.1.2 dev tap0 metric 5 proto static", "10.9.0.0/16 via 10.0.2.2 dev tap1 src 10.0.2.1",
      "default via 10.0.2.254 dev tap1", "default via 10.0.1.254 dev tap0 metric 100", "blackhole 192.0.2.0/24", "unreachable 192.0.2.0/24 metric 7",
      "10.8.0.0/16 nexthop via 10.0.1.2 dev tap0 nexthop via 10.0.2.2 dev tap1", "10.8.0.0/16 nexthop via 10.0.1.2 dev tap0 nexthop via 10.0.2.3 dev tap1 weight 3",
      "10.8.0.0/16 dev tap0 table 100", "10.0.1.0/24 dev tap1 metric 100", "local 10.7.0.0/16", "10.6.0.0/16 via 10.0.3.9 scope link",
    ];
    const RULES = [
      "rule add from 10.1.0.0/16 lookup 100", "rule add from 10.2.0.0/16 lookup 100 priority 100", "rule add to 10.3.0.0/16 blackhole",
      "rule add fwmark 0x1 lookup main", "rule add iif tap0 lookup 100 pref 200", "rule add from 10.1.0.0/16 lookup 101",
    ];
    const arbConfig = parsedConfigs(fc
      .record({
        addrs: fc.shuffledSubarray(ADDRS),
        routes: fc.array(fc.tuple(fc.constantFrom("add", "append", "replace"), fc.constantFrom(...ROUTES)), { maxLength: 8 }),
        rules: fc.array(fc.constantFrom(...RULES), { maxLength: 4 }),
      })
      .map((r) => [LINKS, ...r.addrs, ...r.routes.map(([m, s]) => `route ${m} ${s}`), ...r.rules].join("\n")), "p.conf");
    fc.assert(
      fc.property(arbConfig, arbConfig, (a, b) => {
        const fib = reloadsLikeAFreshStart(a, b);
        reloadsLikeAFreshStart(b, a, fib); // and back again
      }),
      { numRuns: 300 },
    );
  });

  it("rebuilds prefixes shared with kernel routes when the addresses stay (property)", () => {
    const FIXED = `${LINKS}addr add 10.0.1.1/24 dev tap0\naddr add 10.0.2.1/24 dev tap1\n`;
    const ROUTES = [
      "10.0.1.0/24 dev tap1", "10.0.1.0/24 dev tap0 src 10.0.1.9", "10.0.1.0/24 via 10.0.2.2 dev tap1 metric 3",
      "10.0.2.0/24 via 10.0.1.2 dev tap0", "local 10.0.1.1 dev tap0", "broadcast 10.0.1.255 dev tap1", "10.9.0.0/16 via 10.0.1.2",
    ];
    const arbConfig = parsedConfigs(
      fc.array(fc.tuple(fc.constantFrom("add", "append", "replace"), fc.constantFrom(...ROUTES)), { maxLength: 6 }).map((rs) => FIXED + rs.map(([m, r]) => `route ${m} ${r}`).join("\n")),
      "k.conf",
    );
    fc.assert(
      fc.property(arbConfig, arbConfig, (a, b) => void reloadsLikeAFreshStart(a, b)),
      { numRuns: 200 },
    );
  });

  it("carries routes the route parser would give for the canonical text", () => {
    const a = cfg(LINKS);
    const b = cfg(`${LINKS}route add 10.5.0.0/16 via 10.0.0.1 dev tap0 proto static metric 3`);
    const d = diffConfig(a, b);
    const cmd = parseRouteCommand(diffLines(d)[0]!.split(" ").slice(1));
    expect(cmd).toEqual({ op: "add", mode: "add", route: d.routesAdd[0]!.route });
  });
});

describe("route load FILE: a CIDR list in the config", () => {
  const dir = mkdtempSync(join(tmpdir(), "wr-config-load-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const list = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return name;
  };
  const inDir = (text: string) => parseConfig(text, join(dir, "r.conf"));
  const HOPS = "nexthop via 10.0.1.2 dev tap0 nexthop via 10.0.2.2 dev tap1";
  const BASE = `${LINKS}addr add 10.0.1.1/24 dev tap0\naddr add 10.0.2.1/24 dev tap1\n`;
  const PREFIXES = ["1.0.0.0/24", "1.0.4.0/22", "8.8.8.0/24", "100.64.0.0/10", "203.0.113.128/25", "0.0.0.0/0"];

  it("adds what the same routes as route add lines would, each prefix taking its hop by the stated rule", () => {
    const f = list("table.txt", `# a dump\n${PREFIXES.join("\n")}\n`);
    const loaded = inDir(`${BASE}route load ${f} ${HOPS}\nroute add 9.9.9.0/24 via 10.0.1.2 dev tap0\n`);
    const r = loaded.routes[0]!;
    expect(r.load!.file).toBe(join(dir, "table.txt"));
    expect(r.load!.addrs.length).toBe(PREFIXES.length);
    // The same routes written out, with the hop assignNexthop gives.
    const hops = ["via 10.0.1.2 dev tap0", "via 10.0.2.2 dev tap1"];
    const lines = PREFIXES.map((p) => {
      const [a, l] = p.split("/");
      const addr = a!.split(".").reduce((x, o) => x * 256 + Number(o), 0);
      return `route add ${p} ${hops[assignNexthop(addr, Number(l), 2)]}`;
    });
    const written = inDir(`${BASE}${lines.join("\n")}\nroute add 9.9.9.0/24 via 10.0.1.2 dev tap0\n`);
    expect(fibState(startFib(loaded))).toEqual(fibState(startFib(written)));
    expect(routeModel(loaded).map((g) => g.entries.map((e) => formatRoute(e.route, {})))).toEqual(
      routeModel(written).map((g) => g.entries.map((e) => formatRoute(e.route, {}))),
    );
    // Both hops are used by these six prefixes, so the test sees the rule and not one hop for all.
    expect(new Set(fibState(startFib(loaded)).map((l) => l.includes("tap1")))).toEqual(new Set([true, false]));
  });

  it("prints back as a route load line with the file made absolute", () => {
    const f = list("t2.txt", "10.9.0.0/16\n");
    const c = inDir(`${BASE}route load ${f} table 100 via 10.0.1.2 dev tap0\n`);
    const text = formatConfig(c);
    expect(text.at(-1)).toBe(`route load ${join(dir, "t2.txt")} table 100 nexthop via 10.0.1.2 dev tap0`);
    expect(fibState(startFib(parseConfig(text.join("\n"), "/elsewhere/x.conf")))).toEqual(fibState(startFib(c)));
  });

  it("refuses a missing file, a bad prefix in the file, an unknown device and a clash, with the config's line", () => {
    const bad = list("bad.txt", "1.0.0.0/24\n1.0.0.1/24\n");
    const dup = list("dup.txt", "10.9.0.0/16\n");
    const err = (text: string) => {
      try {
        inDir(text);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        expect((e as Error).message).not.toContain("\n");
        return (e as Error).message;
      }
      throw new Error("did not throw");
    };
    const conf = join(dir, "r.conf");
    expect(err(`${BASE}route load nope.txt via 10.0.1.2 dev tap0`)).toBe(`${conf}:5: cannot read CIDR list ${join(dir, "nope.txt")}: no such file`);
    expect(err(`${BASE}route load ${bad} via 10.0.1.2 dev tap0`)).toMatch(new RegExp(`^${conf}:5: .*bad\\.txt:2`));
    expect(err(`${BASE}route load ${dup} via 10.0.1.2 dev tap9`)).toBe(`${conf}:5: unknown device "tap9" in "route load" (declare it with "link add" on an earlier line)`);
    expect(err(`${BASE}route add 10.9.0.0/16 via 10.0.2.2 dev tap1\nroute load ${dup} via 10.0.1.2 dev tap0`)).toMatch(/^.*r\.conf:6: RTNETLINK answers: File exists \(the route on line 5/);
    expect(err(`${BASE}route load ${dup} via 10.0.1.2 dev tap0 metric 5`)).toMatch(/:5: "route load" takes only a table and next hops/);
  });

  it("checks a listed prefix against every other line, before and after, as route add lines would be", () => {
    const f = list("check.txt", "10.9.0.0/16\n10.9.1.0/24\n172.20.0.0/16\n");
    const twice = list("twice.txt", "10.8.0.0/16\n10.9.1.0/24\n10.8.0.0/16\n");
    const conf = join(dir, "r.conf");
    const err = (text: string) => {
      try {
        inDir(text);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error("did not throw");
    };
    const exists = (at: number, of: number) => new RegExp(`^${conf}:${at}: RTNETLINK answers: File exists \\(the route on line ${of} `);
    // A later route add, a second list, and a prefix twice in one list: each clash at its own line.
    expect(err(`${BASE}route load ${f} via 10.0.1.2 dev tap0\nroute add 10.9.1.0/24 via 10.0.2.2 dev tap1`)).toMatch(exists(6, 5));
    expect(err(`${BASE}route load ${f} via 10.0.1.2 dev tap0\nroute load ${twice} via 10.0.2.2 dev tap1`)).toMatch(exists(6, 5));
    expect(err(`${BASE}route load ${twice} via 10.0.1.2 dev tap0`)).toMatch(exists(5, 5));
    // What the FIB accepts, the check accepts, and the two agree on the result: replace, append at another
    // metric, and a gateway reached through a listed connected prefix (a list with `dev` only).
    const ok = [
      `${BASE}route load ${f} via 10.0.1.2 dev tap0\nroute replace 10.9.1.0/24 via 10.0.2.2 dev tap1\nroute add 10.9.0.0/16 via 10.0.2.2 dev tap1 metric 7`,
      `${BASE}route load ${f} dev tap1\nroute add 192.0.2.0/24 via 172.20.3.4`,
    ];
    const c = inDir(ok[0]!);
    const written = routeModel(c).flatMap((g) => g.entries.filter((e) => e.source).map((e) => routeAddText("append", e.route)));
    expect(written).toContain("route append 10.9.1.0/24 via 10.0.2.2 dev tap1");
    expect(fibState(startFib(c))).toEqual(fibState(startFib(inDir(`${BASE}${written.join("\n")}`))));
    const viaListed = inDir(ok[1]!);
    expect(routeModel(viaListed).find((g) => g.prefix === 0xc0000200)!.entries[0]!.route.nexthops[0]!.dev).toBe("tap1");
    expect(fibState(startFib(viaListed))).toContain("254 192.0.2.0/24 via 172.20.3.4 dev tap1 ");
  });

  it("reloads a list by the prefixes that changed, and finds nothing to do for an unchanged one", () => {
    const many = Array.from({ length: 3000 }, (_, i) => `172.${16 + (i >> 8)}.${i & 255}.0/24`);
    const a = list("many-a.txt", `${many.join("\n")}\n`);
    const b = list("many-b.txt", `${[...many.slice(1), "192.0.2.0/24"].join("\n")}\n`); // one gone, one new
    const ca = inDir(`${BASE}route load ${a} ${HOPS}\n`);
    const cb = inDir(`${BASE}route load ${b} ${HOPS}\n`);
    expect(diffLines(diffConfig(ca, ca))).toEqual([]);
    expect(diffLines(diffConfig(ca, cb))).toEqual([
      "route del unicast 172.16.0.0/24 via 10.0.2.2 dev tap1 metric 0",
      "route add 192.0.2.0/24 via 10.0.1.2 dev tap0",
    ]);
    // One hop for the whole list: the prefixes that had the other hop change, and only those.
    const cc = inDir(`${BASE}route load ${a} via 10.0.1.2 dev tap0\n`);
    const moved = diffConfig(ca, cc);
    const onTap1 = many.filter((p) => {
      const [addr, len] = p.split("/");
      return assignNexthop(addr!.split(".").reduce((x, o) => x * 256 + Number(o), 0), Number(len), 2) === 1;
    });
    expect(moved.routesDel.length).toBe(onTap1.length);
    expect(moved.routesAdd.map((r) => formatDst(r.route.prefix, r.route.len)).sort()).toEqual(onTap1.sort());
    // The same gateway on another device is another route.
    const cd = inDir(`${BASE}route load ${a} via 10.0.2.2 dev tap0\n`);
    expect(diffConfig(ca, cd).routesAdd.length).toBe(many.length);
    // Only what changed becomes a group: the address routes and the two prefixes.
    const [ra, rb] = [routeReplay(ca), routeReplay(cb)];
    sameGroups(ra.model, rb.model);
    const mainGroups = (m: typeof ra.model) => m.groups.filter((g) => g.table === 254).map((g) => formatDst(g.prefix, g.len));
    expect(mainGroups(ra.model)).toEqual(["10.0.1.0/24", "10.0.2.0/24", "172.16.0.0/24"]); // 192.0.2.0/24: not in a
    expect(mainGroups(rb.model)).toEqual(["10.0.1.0/24", "10.0.2.0/24", "192.0.2.0/24"]); // 172.16.0.0/24: not in b
    for (const [x, y] of [[ca, cb], [cb, ca], [ca, cc], [cc, cb], [ca, cd]] as const) {
      const fib = startFib(x);
      reloadFib(fib, x, y);
      expect(fibState(fib)).toEqual(fibState(startFib(y)));
    }
  });

  it("reloads as a fresh start would when the file or the line changes", () => {
    const a = list("a.txt", `${PREFIXES.join("\n")}\n`);
    const b = list("b.txt", `${PREFIXES.slice(2).join("\n")}\n5.5.0.0/16\n`);
    const configs = [
      inDir(`${BASE}route load ${a} ${HOPS}\n`),
      inDir(`${BASE}route load ${b} ${HOPS}\n`),
      inDir(`${BASE}route load ${b} via 10.0.2.2 dev tap1\nroute replace 5.5.0.0/16 via 10.0.1.2 dev tap0\n`),
      inDir(`${BASE}route add 8.8.8.0/24 via 10.0.1.2 dev tap0 metric 1\n`),
    ];
    for (const x of configs) {
      for (const y of configs) {
        const fib = startFib(x);
        reloadFib(fib, x, y);
        expect(fibState(fib)).toEqual(fibState(startFib(y)));
      }
    }
    expect(isEmptyDiff(diffConfig(configs[1]!, configs[1]!))).toBe(true);
  });
});
