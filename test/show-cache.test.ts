// `ip [-s] route show cache` text (iproute2 3.x print_route; spec §1.5, §1.6) and the ip_dst_cache
// slabinfo line (§7.4).
import { describe, it, expect } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { parseIPv4 } from "../host/fib/ipv4.ts";
import {
  IP_DST_CACHE_OBJSIZE,
  RTCF,
  SLABINFO_HEADER,
  formatCacheEntry,
  formatCacheFlags,
  formatDstSlabinfo,
  formatG,
  formatRouteCache,
  formatSlabinfoLine,
  type CacheEntryView,
} from "../host/cache/show-cache.ts";

const ip = (s: string): number => parseIPv4(s)!;

/** A forwarded entry: 8.8.8.8 from 10.0.0.7 via 192.0.2.1 dev eth1, input on eth0. */
function forwarded(over: Partial<CacheEntryView> = {}): CacheEntryView {
  return {
    type: "unicast",
    dst: ip("8.8.8.8"),
    src: ip("10.0.0.7"),
    tos: 0,
    gateway: ip("192.0.2.1"),
    dev: "eth1",
    flags: 0,
    iif: "eth0",
    refcnt: 0,
    use: 17,
    lastuseAgeMs: 420,
    error: 0,
    expiresMs: 0,
    ...over,
  };
}

describe("ip route show cache", () => {
  it("prints the spec's illustrative entries (§1.6) with -s", () => {
    const s = { stats: true };
    expect(
      formatCacheEntry(
        { type: "local", dst: ip("10.0.0.1"), src: ip("10.0.0.7"), tos: 0, gateway: ip("10.0.0.1"), dev: "lo", prefsrc: ip("10.0.0.1"), flags: RTCF.LOCAL | RTCF.DIRECTSRC, iif: "eth0", refcnt: 1, use: 4, lastuseAgeMs: 3_200, error: 0, expiresMs: 0 },
        s,
      ),
    ).toBe("local 10.0.0.1 from 10.0.0.7 dev lo  src 10.0.0.1 \n    cache <local,src-direct>  users 1 used 4 age 3sec iif eth0\n");
    expect(formatCacheEntry(forwarded(), s)).toBe("8.8.8.8 from 10.0.0.7 via 192.0.2.1 dev eth1 \n    cache  used 17 age 0sec iif eth0\n");
    expect(
      formatCacheEntry(
        { type: "unicast", dst: ip("8.8.8.8"), src: 0, tos: 0, gateway: ip("192.0.2.1"), dev: "eth1", prefsrc: ip("192.0.2.9"), flags: 0, oif: "eth1", refcnt: 2, use: 0, lastuseAgeMs: 1_000, error: 0, expiresMs: 0, ipid: 0x5b1c, metrics: { rtt: 29 * 8, rttvar: 20 * 4, cwnd: 10 } },
        s,
      ),
    ).toBe("8.8.8.8 via 192.0.2.1 dev eth1  src 192.0.2.9 \n    cache  users 2 age 1sec ipid 0x5b1c rtt 29ms rttvar 20ms cwnd 10\n");
    expect(
      formatCacheEntry({ type: "unreachable", dst: ip("203.0.113.5"), src: ip("10.0.0.7"), tos: 0, gateway: ip("203.0.113.5"), dev: "lo", flags: 0, iif: "eth0", refcnt: 0, use: 0, lastuseAgeMs: 0, error: 101, expiresMs: 0 }, s),
    ).toBe("unreachable 203.0.113.5 from 10.0.0.7 dev lo \n    cache  error 101 iif eth0\n");
  });

  it("prints users/used/age only with -s, and only when nonzero in clock_t", () => {
    const e = forwarded({ refcnt: 3, use: 5, lastuseAgeMs: 59_990 });
    expect(formatCacheEntry(e)).toBe("8.8.8.8 from 10.0.0.7 via 192.0.2.1 dev eth1 \n    cache  iif eth0\n");
    expect(formatCacheEntry(e, { stats: true })).toBe("8.8.8.8 from 10.0.0.7 via 192.0.2.1 dev eth1 \n    cache  users 3 used 5 age 59sec iif eth0\n");
    // age: 9 ms is 0 clock ticks (nothing), 10 ms is 1 tick (" age 0sec").
    expect(formatCacheEntry(forwarded({ use: 0, lastuseAgeMs: 9 }), { stats: true })).toContain("cache  iif eth0");
    expect(formatCacheEntry(forwarded({ use: 0, lastuseAgeMs: 10 }), { stats: true })).toContain("cache  age 0sec iif eth0");
  });

  it("names flags in iproute2's order, leftover bits in hex, and adds notify before the cache line", () => {
    const all = Object.values(RTCF).reduce((a, b) => (a | b) >>> 0, 0);
    expect(formatCacheFlags(all)).toBe("<local,reject,mc,brd,dst-nat,src-nat,masq,dst-direct,src-direct,redirected,redirect,fastroute,notify,proxy> ");
    expect(formatCacheFlags(all | 0x02100000 | 0xffff)).toBe(
      "<local,reject,mc,brd,dst-nat,src-nat,masq,dst-direct,src-direct,redirected,redirect,fastroute,notify,proxy,2100000> ",
    );
    expect(formatCacheFlags(0x00100000)).toBe("<100000> ");
    expect(formatCacheFlags(0x0000ffff)).toBe("");
    expect(formatCacheFlags(RTCF.BROADCAST | RTCF.LOCAL)).toBe("<local,brd> ");
    expect(formatCacheEntry(forwarded({ flags: RTCF.NOTIFY | RTCF.DOREDIRECT }))).toBe(
      "8.8.8.8 from 10.0.0.7 via 192.0.2.1 dev eth1 notify \n    cache <redirect,notify>  iif eth0\n",
    );
    expect(
      formatCacheEntry({ type: "broadcast", dst: ip("192.0.2.255"), src: ip("192.0.2.9"), tos: 0, gateway: ip("192.0.2.255"), dev: "lo", prefsrc: ip("192.0.2.1"), flags: RTCF.LOCAL | RTCF.BROADCAST, iif: "eth1", refcnt: 0, use: 0, lastuseAgeMs: 0, error: 0, expiresMs: 0 }),
    ).toBe("broadcast 192.0.2.255 from 192.0.2.9 dev lo  src 192.0.2.1 \n    cache <local,brd>  iif eth1\n");
  });

  it("prints tos names of the 3.x rt_dsfield, mark, realms, expires, ts, oneline", () => {
    expect(formatCacheEntry(forwarded({ tos: 0x10 }))).toContain(" from 10.0.0.7 tos lowdelay via ");
    expect(formatCacheEntry(forwarded({ tos: 0x0c }))).toContain(" tos 0x0c via ");
    expect(formatCacheEntry(forwarded({ tos: 0x10 }), { dsfield: new Map([[0xb8, "EF"]]) })).toContain(" tos 0x10 via ");
    expect(formatCacheEntry(forwarded({ mark: 5 }))).toContain("dev eth1  mark 5\n");
    expect(formatCacheEntry(forwarded({ mark: 0x20 }))).toContain("dev eth1  mark 0x20\n");
    expect(formatCacheEntry(forwarded({ realms: 0x00020003 }))).toContain("dev eth1 realms 2/3 \n");
    expect(formatCacheEntry(forwarded({ realms: 10 }))).toContain("dev eth1 realm 10 \n");
    expect(formatCacheEntry(forwarded({ realms: 0x00050000 }))).toContain("dev eth1 realms 5/cosmos \n");
    expect(formatCacheEntry(forwarded({ expiresMs: 599_999 }))).toContain("cache  expires 599sec iif");
    expect(formatCacheEntry(forwarded({ expiresMs: 500 }))).toContain("cache  expires 0sec iif");
    expect(formatCacheEntry(forwarded({ expiresMs: 5 }))).toContain("cache  iif");
    expect(formatCacheEntry(forwarded({ ipid: 7, ts: 0x1234abcd, tsage: 5 }))).toContain("cache  ipid 0x0007 ts 0x1234abcd tsage 5sec iif");
    expect(formatCacheEntry(forwarded(), { oneline: true })).toBe("8.8.8.8 from 10.0.0.7 via 192.0.2.1 dev eth1 \\    cache  iif eth0\n");
    // gateway == dst: on-link, no "via".
    expect(formatCacheEntry(forwarded({ gateway: ip("8.8.8.8") }))).toBe("8.8.8.8 from 10.0.0.7 dev eth1 \n    cache  iif eth0\n");
  });

  it("prints metrics in RTAX order with lock, ms/s times and hoplimit −1 as 0", () => {
    // 2.6.x: every entry carries mtu, advmss and hoplimit (§1.4).
    expect(formatCacheEntry(forwarded({ metrics: { hoplimit: 64, advmss: 1460, mtu: 1500 } }))).toContain("cache  mtu 1500 advmss 1460 hoplimit 64 iif eth0\n");
    const m = formatCacheEntry(
      forwarded({
        metrics: { mtu: 1400, rtt: 8000 * 8, rttvar: 1234 * 4 + 3, rto_min: 200, hoplimit: 0xffffffff, window: 0, features: 1, initrwnd: 10 },
        lockedMetrics: ["mtu", "rto_min"],
        expiresMs: 300_000,
      }),
    );
    expect(m).toContain("cache  expires 300sec mtu lock 1400 rtt 8s rttvar 1.234s hoplimit 0 features 1 rto_min lock 200ms initrwnd 10 iif eth0\n");
  });

  it("joins entries, and %g matches glibc on ties and exponents", () => {
    expect(formatRouteCache([forwarded(), forwarded({ dst: ip("8.8.4.4"), gateway: ip("8.8.4.4") })])).toBe(
      "8.8.8.8 from 10.0.0.7 via 192.0.2.1 dev eth1 \n    cache  iif eth0\n8.8.4.4 from 10.0.0.7 dev eth1 \n    cache  iif eth0\n",
    );
    // Values checked against glibc printf("%g").
    const cases: [number, string][] = [
      [1, "1"], [1.5, "1.5"], [1234.125, "1234.12"], [12345.25, "12345.2"], [123456.5, "123456"], [1234567.5, "1.23457e+06"],
      [4294967.295, "4.29497e+06"], [0.0001, "0.0001"], [0.00001234, "1.234e-05"], [999999.5, "1e+06"], [65.535, "65.535"],
    ];
    for (const [x, s] of cases) expect(formatG(x), String(x)).toBe(s);
  });
});

describe("ip_dst_cache in /proc/slabinfo", () => {
  it("prints the 2.1 header and the SLUB line for the allocated count", () => {
    expect(SLABINFO_HEADER).toBe(
      "slabinfo - version: 2.1\n# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n",
    );
    expect(IP_DST_CACHE_OBJSIZE).toBe(256);
    expect(formatDstSlabinfo(0)).toBe("ip_dst_cache           0      0    256   16    1 : tunables    0    0    0 : slabdata      0      0      0\n");
    expect(formatDstSlabinfo(220001)).toBe("ip_dst_cache      220001 220016    256   16    1 : tunables    0    0    0 : slabdata  13751  13751      0\n");
    expect(formatDstSlabinfo(8_388_608, 600_000)).toBe("ip_dst_cache      8388608 9600000    256   16    1 : tunables    0    0    0 : slabdata 600000 600000      0\n");
    expect(() => formatDstSlabinfo(17, 1)).toThrow(RangeError);
    expect(() => formatDstSlabinfo(-1)).toThrow(RangeError);
  });

  it.runIf(existsSync("/proc/slabinfo"))("uses the kernel's column layout (every row of this machine's /proc/slabinfo)", () => {
    let text: string;
    try {
      text = readFileSync("/proc/slabinfo", "latin1");
    } catch {
      return; // not readable without root
    }
    const lines = text.split("\n").filter((l) => l && !l.startsWith("slabinfo") && !l.startsWith("#"));
    expect(text.startsWith(SLABINFO_HEADER)).toBe(true);
    let checked = 0;
    for (const line of lines) {
      const m = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+) : tunables\s+(\d+)\s+(\d+)\s+(\d+) : slabdata\s+(\d+)\s+(\d+)\s+(\d+)$/.exec(line);
      if (!m) continue; // SLAB with statistics adds columns
      const n = m.slice(2).map(Number);
      const row = { name: m[1]!, activeObjs: n[0]!, numObjs: n[1]!, objSize: n[2]!, objPerSlab: n[3]!, pagesPerSlab: n[4]!, limit: n[5]!, batchcount: n[6]!, sharedFactor: n[7]!, activeSlabs: n[8]!, numSlabs: n[9]!, sharedAvail: n[10]! };
      expect(formatSlabinfoLine(row)).toBe(`${line}\n`);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });
});
