// Interface and neighbour sysctls (host/router/if-sysctl.ts). Expected semantics are Linux's:
// net/ipv4/devinet.c (devinet_conf_proc, devinet_sysctl_forward, inet_forward_change),
// include/linux/inetdevice.h (IN_DEV_MAXCONF / ORCONF / ANDCONF), net/core/neighbour.c, arp.c defaults.
import { describe, expect, it } from "vitest";
import { RouteSysctls, SysctlError } from "../host/cache/sysctl.ts";
import { IfSysctls, sysctlAllLines } from "../host/router/if-sysctl.ts";
import { IF_SYSCTLS } from "../host/router/if-knobs.ts";
import { compareSysctlNames, sysctlName, sysctlPath } from "../host/router/sysctl-names.ts";

function thrown(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SysctlError);
    return (e as Error).message;
  }
  throw new Error("did not throw");
}

const C = "net.ipv4.conf.";
const N = "net.ipv4.neigh.";

describe("defaults", () => {
  it("are the kernel's, as a router (ip_forward = 1)", () => {
    const s = new IfSysctls(["tap0", "p0"]);
    expect(s.get("net.ipv4.ip_forward")).toBe("1");
    expect(s.ipForward()).toBe(true);
    for (const dir of ["all", "default", "tap0", "p0"]) {
      expect(s.get(`${C}${dir}.forwarding`)).toBe("1");
      expect(s.get(`${C}${dir}.rp_filter`)).toBe("0");
      expect(s.get(`${C}${dir}.send_redirects`)).toBe("1");
      expect(s.get(`${C}${dir}.accept_local`)).toBe("0");
      expect(s.get(`${C}${dir}.src_valid_mark`)).toBe("0");
      expect(s.get(`${C}${dir}.log_martians`)).toBe("0");
    }
    // inet_forward_change at ip_forward=1 turned all.accept_redirects off; default and devices keep 1.
    expect(s.get(`${C}all.accept_redirects`)).toBe("0");
    expect(s.get(`${C}default.accept_redirects`)).toBe("1");
    expect(s.get(`${C}tap0.accept_redirects`)).toBe("1");
    expect(s.effective("tap0")).toEqual({
      forwarding: true, rpFilter: 0, acceptLocal: false, srcValidMark: false, sendRedirects: true, acceptRedirects: false, logMartians: false,
    });
  });

  it("are the kernel's with forwarding: false", () => {
    const s = new IfSysctls(["tap0"], { forwarding: false });
    expect(s.get("net.ipv4.ip_forward")).toBe("0");
    expect(s.get(`${C}tap0.forwarding`)).toBe("0");
    expect(s.get(`${C}all.accept_redirects`)).toBe("1");
    expect(s.effective("tap0")).toMatchObject({ forwarding: false, acceptRedirects: true });
  });

  it("neighbour knobs have Linux's defaults in their /proc units", () => {
    const s = new IfSysctls(["tap0"]);
    const want: Record<string, string> = {
      base_reachable_time: "30", base_reachable_time_ms: "30000", retrans_time: "100", retrans_time_ms: "1000",
      delay_first_probe_time: "5", gc_stale_time: "60", ucast_solicit: "3", mcast_solicit: "3",
      unres_qlen_bytes: "65536", unres_qlen: "31",
    };
    for (const dir of ["default", "tap0"]) for (const [k, v] of Object.entries(want)) expect(s.get(`${N}${dir}.${k}`), `${dir}.${k}`).toBe(v);
    expect(s.get(`${N}default.gc_thresh1`)).toBe("128");
    expect(s.get(`${N}default.gc_thresh2`)).toBe("512");
    expect(s.get(`${N}default.gc_thresh3`)).toBe("1024");
    expect(s.get(`${N}default.gc_interval`)).toBe("30");
    const dev = { baseReachableTimeMs: 30000, retransTimeMs: 1000, delayFirstProbeTimeMs: 5000, gcStaleTimeMs: 60000, ucastSolicit: 3, mcastSolicit: 3, unresQlenBytes: 65536, unresQlen: 31 };
    expect(s.neighParams()).toEqual({ gcThresh1: 128, gcThresh2: 512, gcThresh3: 1024, gcIntervalMs: 30000, defaults: dev, devices: { tap0: dev } });
    expect(s.neighDev("tap0")).toEqual(dev);
  });

  it("the catalogue lists every knob pattern once", () => {
    const names = IF_SYSCTLS.map((k) => k.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain("net.ipv4.conf.{all,default,IFNAME}.rp_filter");
    expect(names).toContain("net.ipv4.neigh.default.gc_thresh3");
    expect(IF_SYSCTLS.find((k) => k.name.endsWith(".unres_qlen"))!.defaultText).toBe("31");
  });
});

describe("all / default / device semantics", () => {
  it("effective rp_filter is max(all, dev)", () => {
    const s = new IfSysctls(["a", "b"]);
    s.set(`${C}a.rp_filter`, "1");
    expect(s.effective("a").rpFilter).toBe(1);
    expect(s.effective("b").rpFilter).toBe(0);
    s.set(`${C}all.rp_filter`, "2");
    expect(s.effective("a").rpFilter).toBe(2);
    expect(s.effective("b").rpFilter).toBe(2);
    s.set(`${C}all.rp_filter`, "0");
    s.set(`${C}b.rp_filter`, "2");
    expect([s.effective("a").rpFilter, s.effective("b").rpFilter]).toEqual([1, 2]);
  });

  it("send_redirects, accept_local, src_valid_mark, log_martians are all || dev", () => {
    const s = new IfSysctls(["a"]);
    s.set(`${C}a.send_redirects`, "0");
    expect(s.effective("a").sendRedirects).toBe(true); // all.send_redirects is still 1: the classic gotcha
    s.set(`${C}all.send_redirects`, "0");
    expect(s.effective("a").sendRedirects).toBe(false);
    s.set(`${C}all.log_martians`, "1");
    s.set(`${C}a.accept_local`, "1");
    s.set(`${C}all.src_valid_mark`, "1");
    expect(s.effective("a")).toMatchObject({ logMartians: true, acceptLocal: true, srcValidMark: true });
  });

  it("accept_redirects: all && dev when forwarding, all || dev otherwise", () => {
    const s = new IfSysctls(["a"]);
    s.set(`${C}all.accept_redirects`, "1");
    expect(s.effective("a").acceptRedirects).toBe(true);
    s.set(`${C}a.accept_redirects`, "0");
    expect(s.effective("a").acceptRedirects).toBe(false);
    s.set(`${C}a.forwarding`, "0");
    expect(s.effective("a").acceptRedirects).toBe(true);
  });

  it("writing all.forwarding (or ip_forward) sets default, every device and all.accept_redirects", () => {
    const s = new IfSysctls(["a", "b"]);
    s.set(`${C}a.forwarding`, "0");
    expect(s.effective("a").forwarding).toBe(false);
    expect(s.effective("b").forwarding).toBe(true);
    expect(s.ipForward()).toBe(true);
    s.set("net.ipv4.ip_forward", "0");
    expect(s.get(`${C}all.forwarding`)).toBe("0");
    expect(s.get(`${C}default.forwarding`)).toBe("0");
    expect([s.get(`${C}a.forwarding`), s.get(`${C}b.forwarding`)]).toEqual(["0", "0"]);
    expect(s.get(`${C}all.accept_redirects`)).toBe("1");
    s.set(`${C}all.forwarding`, "1");
    expect([s.get(`${C}a.forwarding`), s.get(`${C}b.forwarding`), s.get("net.ipv4.ip_forward")]).toEqual(["1", "1", "1"]);
    expect(s.get(`${C}all.accept_redirects`)).toBe("0");
  });

  it("an all.forwarding write that changes nothing does not propagate (devinet_sysctl_forward)", () => {
    const s = new IfSysctls(["a"]);
    s.set(`${C}a.forwarding`, "0");
    s.set(`${C}all.forwarding`, "1"); // already 1
    expect(s.get(`${C}a.forwarding`)).toBe("0");
  });

  it("default.forwarding touches only itself; other default knobs reach devices not set by hand", () => {
    const s = new IfSysctls(["a", "b"]);
    s.set(`${C}default.forwarding`, "0");
    expect([s.get(`${C}a.forwarding`), s.get(`${C}b.forwarding`)]).toEqual(["1", "1"]);
    s.set(`${C}a.rp_filter`, "1");
    s.set(`${C}default.rp_filter`, "2");
    expect(s.get(`${C}a.rp_filter`)).toBe("1"); // written by hand: kept
    expect(s.get(`${C}b.rp_filter`)).toBe("2"); // devinet_copy_dflt_conf
    s.set(`${C}b.rp_filter`, "2"); // same value, but now set by hand
    s.set(`${C}default.rp_filter`, "0");
    expect(s.get(`${C}b.rp_filter`)).toBe("2");
  });

  it("a device added later starts from default", () => {
    const s = new IfSysctls(["a"]);
    s.set(`${C}default.rp_filter`, "1");
    s.set(`${N}default.retrans_time_ms`, "250");
    s.addInterface("late");
    expect(s.get(`${C}late.rp_filter`)).toBe("1");
    expect(s.get(`${N}late.retrans_time_ms`)).toBe("250");
    expect(s.interfaces()).toEqual(["a", "late"]);
    expect(() => s.addInterface("a")).toThrow(/already has sysctls/);
    expect(() => s.addInterface("all")).toThrow(/invalid interface name/);
  });

  it("neigh.default writes reach devices not set by hand; table knobs live only in default", () => {
    const s = new IfSysctls(["a", "b"]);
    s.set(`${N}a.ucast_solicit`, "5");
    s.set(`${N}default.ucast_solicit`, "7");
    expect(s.neighDev("a").ucastSolicit).toBe(5);
    expect(s.neighDev("b").ucastSolicit).toBe(7);
    s.set(`${N}default.gc_thresh3`, "4096");
    expect(s.neighParams().gcThresh3).toBe(4096);
    expect(thrown(() => s.set(`${N}a.gc_thresh3`, "1"))).toBe(`unknown sysctl "net.ipv4.neigh.a.gc_thresh3" (gc_thresh3 is table-wide: net.ipv4.neigh.default.gc_thresh3)`);
  });

  it("unit views share one value: seconds, ms, USER_HZ ticks, packets", () => {
    const s = new IfSysctls(["a"]);
    s.set(`${N}a.base_reachable_time_ms`, "1500");
    expect(s.get(`${N}a.base_reachable_time`)).toBe("1"); // truncated
    s.set(`${N}a.base_reachable_time`, "20");
    expect(s.get(`${N}a.base_reachable_time_ms`)).toBe("20000");
    s.set(`${N}a.retrans_time`, "50");
    expect(s.get(`${N}a.retrans_time_ms`)).toBe("500");
    s.set(`${N}a.unres_qlen`, "101");
    expect(s.get(`${N}a.unres_qlen_bytes`)).toBe(String(101 * 2090));
    expect(s.get(`${N}a.unres_qlen`)).toBe("101");
    s.set(`${N}a.delay_first_probe_time`, "0x10");
    expect(s.neighDev("a").delayFirstProbeTimeMs).toBe(16000);
    s.set(`${N}a.mcast_solicit`, " 010 "); // C base 0: octal, blanks trimmed
    expect(s.neighDev("a").mcastSolicit).toBe(8);
  });
});

describe("names", () => {
  it("accepts sysctl(8)'s slash forms, for names with dots too", () => {
    expect(sysctlPath("net/ipv4/conf/eth0.10/rp_filter")).toEqual(["net", "ipv4", "conf", "eth0.10", "rp_filter"]);
    expect(sysctlPath("net.ipv4.conf.eth0/10.rp_filter")).toEqual(["net", "ipv4", "conf", "eth0.10", "rp_filter"]);
    expect(sysctlName(["net", "ipv4", "conf", "eth0.10", "rp_filter"])).toBe("net.ipv4.conf.eth0/10.rp_filter");
    const s = new IfSysctls(["eth0.10"]);
    s.set("net/ipv4/conf/eth0.10/rp_filter", "1");
    expect(s.get("net.ipv4.conf.eth0/10.rp_filter")).toBe("1");
    expect(s.canonicalName("net/ipv4/ip_forward")).toBe("net.ipv4.ip_forward");
    expect(s.has("net.ipv4.conf.eth0/10.forwarding")).toBe(true);
    expect(s.has("net.ipv4.conf.eth0.10.forwarding")).toBe(false);
  });

  it("orders names as readdir does", () => {
    expect(["net.ipv4.route.gc_timeout", "net.ipv4.ip_forward", "net.ipv4.conf.all.rp_filter"].sort(compareSysctlNames)).toEqual([
      "net.ipv4.conf.all.rp_filter", "net.ipv4.ip_forward", "net.ipv4.route.gc_timeout",
    ]);
    expect(compareSysctlNames("net.ipv4.conf.eth0.x", "net.ipv4.conf.eth0/10.x")).toBeLessThan(0);
  });
});

describe("errors", () => {
  const s = new IfSysctls(["tap0", "p0"]);

  it("unknown names", () => {
    expect(thrown(() => s.set("net.ipv4.tcp_syncookies", "1"))).toBe(`unknown sysctl "net.ipv4.tcp_syncookies"`);
    expect(thrown(() => s.set("kernel.hostname", "x"))).toBe(`unknown sysctl "kernel.hostname"`);
    expect(thrown(() => s.get("net.ipv4.conf.eth9.rp_filter"))).toBe(`unknown sysctl "net.ipv4.conf.eth9.rp_filter" (no interface "eth9"; conf directories: all, default, tap0, p0)`);
    expect(thrown(() => s.get("net.ipv4.neigh.all.ucast_solicit"))).toBe(`unknown sysctl "net.ipv4.neigh.all.ucast_solicit" (no interface "all"; neigh directories: default, tap0, p0)`);
    expect(thrown(() => s.get("net.ipv4.conf.all.arp_ignore"))).toBe(
      `unknown sysctl "net.ipv4.conf.all.arp_ignore" (net.ipv4.conf knobs: accept_local, accept_redirects, forwarding, log_martians, rp_filter, send_redirects, src_valid_mark)`,
    );
    expect(thrown(() => s.get("net.ipv4.neigh.tap0.app_solicit"))).toMatch(/^unknown sysctl "net.ipv4.neigh.tap0.app_solicit" \(net.ipv4.neigh knobs: base_reachable_time, /);
    expect(thrown(() => s.effective("eth9"))).toBe(`no interface "eth9"`);
  });

  it("bad values name the value and the allowed range", () => {
    expect(thrown(() => s.set(`${C}all.rp_filter`, "3"))).toBe(`invalid value "3" for net.ipv4.conf.all.rp_filter: out of range (allowed: 0..2)`);
    expect(thrown(() => s.set(`${C}tap0.forwarding`, "-1"))).toBe(`invalid value "-1" for net.ipv4.conf.tap0.forwarding: out of range (allowed: 0..1)`);
    expect(thrown(() => s.set("net.ipv4.ip_forward", "yes"))).toBe(`invalid value "yes" for net.ipv4.ip_forward: not an integer (allowed: 0..1)`);
    expect(thrown(() => s.set(`${N}default.gc_interval`, "99999999"))).toBe(`invalid value "99999999" for net.ipv4.neigh.default.gc_interval: out of range (allowed: 0..2147483 seconds)`);
    expect(thrown(() => s.set(`${N}p0.retrans_time_ms`, ""))).toBe(`invalid value "" for net.ipv4.neigh.p0.retrans_time_ms: empty value (allowed: 0..2147483647 milliseconds)`);
    expect(thrown(() => s.set(`${N}p0.unres_qlen`, "2000000"))).toBe(`invalid value "2000000" for net.ipv4.neigh.p0.unres_qlen: out of range (allowed: 0..1027504 packets)`);
  });

  it("setMany is all or nothing and says which entry failed", () => {
    const t = new IfSysctls(["a"]);
    let err: SysctlError | undefined;
    try {
      t.setMany([{ name: `${C}a.rp_filter`, value: "1" }, { name: `${C}a.rp_filter`, value: "9" }]);
    } catch (e) {
      err = e as SysctlError;
    }
    expect(err?.index).toBe(1);
    expect(t.get(`${C}a.rp_filter`)).toBe("0");
  });

  it("listeners hear successful writes, with canonical names", () => {
    const t = new IfSysctls(["a"]);
    const heard: string[] = [];
    const off = t.onChange((c) => heard.push(`${c.name}=${c.value}`));
    t.set("net/ipv4/conf/a/rp_filter", "0x2");
    off();
    t.set(`${C}a.rp_filter`, "1");
    expect(heard).toEqual(["net.ipv4.conf.a.rp_filter=2"]);
  });

  it("clone is independent", () => {
    const t = new IfSysctls(["a"]);
    const u = t.clone();
    u.set(`${C}a.rp_filter`, "2");
    expect(t.get(`${C}a.rp_filter`)).toBe("0");
    expect(u.get(`${C}a.rp_filter`)).toBe("2");
  });
});

describe("sysctl -a", () => {
  it("lists every knob once, in readdir order, merged with the route-cache knobs", () => {
    const s = new IfSysctls(["tap0", "Eth1"]);
    const names = s.list().map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBe(7 * 4 + 1 + 10 * 3 + 4);
    expect([...names].sort(compareSysctlNames)).toEqual(names);
    expect(names.slice(0, 2)).toEqual(["net.ipv4.conf.Eth1.accept_local", "net.ipv4.conf.Eth1.accept_redirects"]); // "E" < "a"
    const lines = sysctlAllLines(s, new RouteSysctls({ totalRamBytes: 4 * 2 ** 30 }));
    expect(lines).toContain("net.ipv4.ip_forward = 1");
    expect(lines).toContain("net.ipv4.neigh.default.gc_thresh3 = 1024");
    expect(lines).toContain("net.ipv4.route.gc_timeout = 300");
    const i = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
    expect(i("net.ipv4.conf.")).toBeLessThan(i("net.ipv4.ip_forward"));
    expect(i("net.ipv4.ip_forward")).toBeLessThan(i("net.ipv4.neigh."));
    expect(i("net.ipv4.neigh.")).toBeLessThan(i("net.ipv4.route."));
    expect(i("net.ipv4.route.")).toBeLessThan(i("net.ipv4.rt_cache_rebuild_count"));
    expect(lines.at(-1)).toMatch(/^rhash_entries = /);
    expect(sysctlAllLines(s)).toEqual(s.list().map((e) => `${e.name} = ${e.value}`));
  });
});
