// `wasmroute run --user` without root: the option's parsing and the user lookup (the system's real
// databases: nobody/nogroup exist everywhere), which capabilities are kept and why, which links a
// dropped router refuses on reload, /proc status parsing and the post-drop check; and a reload that
// adds and removes links on a pcap router (host/router/router.ts), all or nothing.
import { describe, it, expect, afterEach } from "vitest";
import { parseUserSpec, resolveUser, canReadWrite, keptCapabilities, droppedLinkGuard, checkDropped, unreachableThread, type TargetUser } from "../host/router/privilege.ts";
import { capBit, capabilityNames, formatCapMask, parseCapMask, parseTaskStatus, readTaskCredentials, type TaskCredentials } from "../host/router/capabilities.ts";
import { parseConfig, type ConfigLink } from "../host/router/config.ts";
import { Router } from "../host/router/router.ts";
import { Logger } from "../host/router/logger.ts";
import { PCAP_ROUTER_LINES } from "./lib/pcap-router.ts";

const RAW = capBit("cap_net_raw");
const ADMIN = capBit("cap_net_admin");

describe("--user NAME[:GROUP]", () => {
  it.each([
    ["nobody", { user: "nobody" }],
    ["nobody:nogroup", { user: "nobody", group: "nogroup" }],
    ["65534", { user: 65534 }],
    ["65534:65534", { user: 65534, group: 65534 }],
    ["www-data:0", { user: "www-data", group: 0 }],
    ["_apt", { user: "_apt" }],
  ])("parses %s", (text, spec) => {
    expect(parseUserSpec(text)).toEqual(spec);
  });

  it.each([
    ["", '--user wants NAME[:GROUP], got ""'],
    [":nogroup", '--user wants NAME[:GROUP], got ":nogroup"'],
    ["nobody:", '--user wants NAME[:GROUP], got "nobody:"'],
    ["a:b:c", '--user wants NAME[:GROUP], got "a:b:c"'],
    ["no body", '--user no body: invalid user name "no body"'],
    ["-1", '--user -1: invalid user name "-1"'],
    ["nobody:9x/", '--user nobody:9x/: invalid group name "9x/"'],
    ["4294967295", "--user 4294967295: user id 4294967295 is out of range"],
  ])("refuses %j", (text, message) => {
    expect(() => parseUserSpec(text)).toThrow(message);
  });

  it("looks users and groups up in the system's databases", () => {
    const nobody: TargetUser = { name: "nobody", uid: 65534, gid: 65534, groupName: "65534", groups: [65534] };
    expect(resolveUser(parseUserSpec("nobody"))).toEqual(nobody);
    expect(resolveUser(parseUserSpec("65534"))).toEqual(nobody);
    expect(resolveUser(parseUserSpec("nobody:nogroup"))).toEqual({ ...nobody, groupName: "nogroup" });
    // A group given replaces the primary one: the supplementary groups are those naming the user, plus it.
    expect(resolveUser(parseUserSpec("nobody:0"))).toEqual({ ...nobody, gid: 0, groupName: "0", groups: [0] });
    // An id with no passwd entry: its group must be given, and it gets no supplementary groups.
    expect(resolveUser(parseUserSpec("4000000000:65534"))).toEqual({ name: "uid 4000000000", uid: 4000000000, gid: 65534, groupName: "65534", groups: [] });
  });

  it("names what is unknown, and refuses root", () => {
    expect(() => resolveUser(parseUserSpec("wr-pv-nosuch"))).toThrow('--user wr-pv-nosuch: no such user "wr-pv-nosuch"');
    expect(() => resolveUser(parseUserSpec("nobody:wr-pv-nosuch"))).toThrow('--user nobody:wr-pv-nosuch: no such group "wr-pv-nosuch"');
    expect(() => resolveUser(parseUserSpec("4000000000"))).toThrow("uid 4000000000 has no passwd entry; give its group too");
    expect(() => resolveUser(parseUserSpec("root"))).toThrow("--user root: that is root; name an unprivileged user");
    expect(() => resolveUser(parseUserSpec("0:65534"))).toThrow("that is root");
  });
});

describe("what a dropped router keeps", () => {
  it("decides who may open a device from its mode, owner and group", () => {
    const tun = (mode: number) => ({ mode: 0o20000 | mode, uid: 0, gid: 0 });
    expect(canReadWrite(tun(0o600), 65534, [65534])).toBe(false);
    expect(canReadWrite(tun(0o666), 65534, [65534])).toBe(true);
    expect(canReadWrite(tun(0o660), 65534, [65534])).toBe(false);
    expect(canReadWrite(tun(0o660), 65534, [65534, 0])).toBe(true);
    expect(canReadWrite(tun(0o604), 65534, [65534])).toBe(false); // read only
    expect(canReadWrite({ mode: 0o600, uid: 65534, gid: 0 }, 65534, [65534])).toBe(true);
    expect(canReadWrite({ mode: 0o066, uid: 65534, gid: 0 }, 65534, [0])).toBe(false); // the owner's bits count for the owner
  });

  it("keeps cap_net_raw, and cap_net_admin only when the user can open /dev/net/tun, of what it holds", () => {
    const all = (1n << 41n) - 1n;
    expect(keptCapabilities(all, true)).toBe(ADMIN | RAW);
    expect(keptCapabilities(all, false)).toBe(RAW);
    expect(keptCapabilities(ADMIN, true)).toBe(ADMIN); // a container without cap_net_raw
    expect(keptCapabilities(capBit("cap_sys_admin"), true)).toBe(0n);
    expect(capabilityNames(keptCapabilities(all, true))).toEqual(["cap_net_admin", "cap_net_raw"]);
  });

  const link = (l: Partial<ConfigLink>): ConfigLink => ({ name: "p9", kind: "packet", kernelName: undefined, netns: undefined, dev: "veth9", mac: undefined, mtu: 1500, offload: false, line: 7, ...l });

  it("refuses on reload the links its dropped credentials cannot open, saying why", () => {
    const both = droppedLinkGuard(ADMIN | RAW, "nobody");
    const rawOnly = droppedLinkGuard(RAW, "nobody");
    const none = droppedLinkGuard(0n, "nobody");
    expect(both(link({}))).toBeUndefined();
    expect(both(link({ kind: "tap", dev: undefined, kernelName: "t9" }))).toBeUndefined();
    expect(none(link({ kind: "pcap", dev: undefined }))).toBeUndefined();
    expect(both(link({ netns: "ns1" }))).toBe("netns ns1 needs cap_sys_admin (setns), dropped after --user nobody; restart wasmroute to add it");
    expect(both(link({ kind: "tap", netns: "ns1" }))).toBe("netns ns1 needs ip(8) with cap_net_admin to move the tap, dropped after --user nobody; restart wasmroute to add it");
    expect(rawOnly(link({ kind: "tap" }))).toBe("a tap needs cap_net_admin and /dev/net/tun, not kept after --user nobody; restart wasmroute to add it");
    expect(rawOnly(link({}))).toBeUndefined();
    expect(none(link({}))).toBe("an AF_PACKET port needs cap_net_raw, not kept after --user nobody; restart wasmroute to add it");
    expect(both(link({ mac: new Uint8Array(6) }))).toMatch(/^address on a packet link needs ip\(8\) with cap_net_admin \(promiscuous mode\)/);
  });
});

describe("capability masks and /proc status", () => {
  it("names bits as linux/capability.h does and reads /proc's hex masks", () => {
    expect(capBit("cap_chown")).toBe(1n);
    expect(capBit("cap_net_admin")).toBe(1n << 12n);
    expect(capBit("cap_checkpoint_restore")).toBe(1n << 40n);
    expect(formatCapMask(ADMIN | RAW)).toBe("0000000000003000");
    expect(parseCapMask("000001fffeffffff")).toBe(0x1fffeffffffn);
    expect(capabilityNames(parseCapMask("0000000000002000"))).toEqual(["cap_net_raw"]);
    expect(capabilityNames(1n << 45n)).toEqual(["cap_45"]);
    expect(() => parseCapMask("xyz")).toThrow('not a mask: "xyz"');
  });

  const status = (over: Record<string, string> = {}) => {
    const f: Record<string, string> = {
      Name: "node", Uid: "65534\t65534\t65534\t65534", Gid: "65534\t65534\t65534\t65534", Groups: "65534 ", CapInh: "0000000000000000",
      CapPrm: "0000000000002000", CapEff: "0000000000002000", CapBnd: "0000000000002000", CapAmb: "0000000000000000", NoNewPrivs: "1", SigBlk: "0000000000000200", ...over,
    };
    return Object.entries(f).map(([k, v]) => `${k}:\t${v}`).join("\n");
  };
  const nobody: TargetUser = { name: "nobody", uid: 65534, gid: 65534, groupName: "nogroup", groups: [65534] };

  it("parses a thread's credentials", () => {
    const t = parseTaskStatus(7, status());
    expect(t).toEqual({ tid: 7, uids: [65534, 65534, 65534, 65534], gids: [65534, 65534, 65534, 65534], groups: [65534], inheritable: 0n, permitted: RAW, effective: RAW, bounding: RAW, ambient: 0n, noNewPrivs: true, sigBlocked: 0x200n });
    expect(parseTaskStatus(7, status({ Groups: "" })).groups).toEqual([]);
    expect(() => parseTaskStatus(7, "Name:\tnode\n")).toThrow("/proc status of task 7: no Uid");
  });

  it("accepts a drop only when every thread is as promised", () => {
    const worker = (over: Record<string, string> = {}) => parseTaskStatus(8, status({ CapPrm: "0000000000000000", CapEff: "0000000000000000", ...over }));
    const main = (over: Record<string, string> = {}) => parseTaskStatus(7, status(over));
    const check = (tasks: TaskCredentials[]) => checkDropped(tasks, 7, nobody, RAW);
    expect(check([main(), worker()])).toEqual([]);
    expect(check([main({ Uid: "65534\t0\t65534\t65534" }), worker()])).toEqual(["thread 7: uids 65534,0,65534,65534"]);
    expect(check([main(), worker({ CapEff: "0000000000002000" })])).toEqual(["thread 8: permitted/effective cap_net_raw"]);
    expect(check([main({ CapBnd: "000001ffffffffff" }), worker()])).toEqual([expect.stringMatching(/^thread 7: bounding set cap_chown,/)]);
    expect(check([main(), worker({ NoNewPrivs: "0", Groups: "0 65534" })])).toEqual(["thread 8: groups 0,65534, no_new_privs unset"]);
    expect(check([main({ CapAmb: "0000000000002000" }), worker()])).toEqual(["thread 7: inheritable or ambient capabilities"]);
    expect(check([main(), worker({ CapBnd: "000001ffffffffff" })])).toEqual([expect.stringMatching(/^thread 8: bounding set cap_chown,/)]);
    // A thread that blocks the restrict signal (bit 62 of SigBlk: signal 63) keeps its bounding set and
    // no_new_privs, and is held to the rest; the main thread never is exempt.
    const deaf = { CapBnd: "000001ffffffffff", NoNewPrivs: "0", SigBlk: "fffffffe7ffbfeff" };
    expect(unreachableThread(worker(deaf))).toBe(true);
    expect(unreachableThread(worker())).toBe(false);
    expect(check([main(), worker(deaf)])).toEqual([]);
    expect(check([main(), worker({ ...deaf, CapEff: "0000000000002000" })])).toEqual(["thread 8: permitted/effective cap_net_raw"]);
    expect(check([main(deaf), worker()])).toEqual([expect.stringMatching(/^thread 7: bounding set .*, no_new_privs unset$/)]);
  });

  it("reads every thread of a live process", () => {
    const tasks = readTaskCredentials("self");
    expect(tasks.some((t) => t.tid === process.pid)).toBe(true);
    const uid = process.getuid!();
    for (const t of tasks) expect(t.uids[0]).toBe(uid);
  });
});

describe("a reload that adds and removes links (pcap router)", () => {
  const lines = (extra: string[]) => [...PCAP_ROUTER_LINES, ...extra, ""].join("\n");
  let router: Router | undefined;
  afterEach(() => router?.stop());
  const routesOn = (dev: string) => router!.fib.routes("all").filter((r) => r.nexthops.some((n) => n.dev === dev)).length;

  it("opens an added link with its addresses and knobs, and closes a removed one", () => {
    router = Router.start(parseConfig(lines([]), "r.conf"), { logger: new Logger("text", () => {}) });
    const added = router.reload(parseConfig(lines(["link add p3 type pcap", "addr add 10.201.3.1/24 dev p3", "sysctl net.ipv4.conf.p3.rp_filter=1"]), "r.conf"));
    expect(added.links).toBe(1);
    expect([...router.ports.keys()]).toEqual(["p1", "p2", "p3"]);
    expect(routesOn("p3")).toBeGreaterThan(0);
    expect(router.ifSysctls.get("net.ipv4.conf.p3.rp_filter")).toBe("1");
    const removed = router.reload(parseConfig(lines([]), "r.conf"));
    expect(removed.links).toBe(1);
    expect([...router.ports.keys()]).toEqual(["p1", "p2"]);
    expect(routesOn("p3")).toBe(0);
    expect(() => router!.ifSysctls.get("net.ipv4.conf.p3.rp_filter")).toThrow();
    // And back again: the interface's knobs start afresh, as for a new Linux device.
    router.reload(parseConfig(lines(["link add p3 type pcap", "addr add 10.201.3.1/24 dev p3"]), "r.conf"));
    expect(router.ifSysctls.get("net.ipv4.conf.p3.rp_filter")).toBe("0");
  });

  it("refuses, as a whole, a link its guard refuses or a changed link", () => {
    router = Router.start(parseConfig(lines([]), "r.conf"), { logger: new Logger("text", () => {}), linkGuard: (l) => (l.name === "p4" ? "not today" : undefined) });
    const next = parseConfig(lines(["route add 203.0.113.0/24 via 10.201.2.2", "link add p3 type pcap", "link add p4 type pcap"]), "r.conf");
    expect(() => router!.reload(next)).toThrow(/^r\.conf:10: link p4: not today; nothing was reloaded$/);
    expect([...router.ports.keys()]).toEqual(["p1", "p2"]);
    expect(router.fib.routes("all").some((r) => r.prefix === 0xcb007100)).toBe(false);
    const changed = parseConfig(lines([]).replace("link add p2 type pcap address 02:77:00:00:02:01", "link add p2 type pcap address 02:77:00:00:02:01 mtu 1400"), "r.conf");
    expect(() => router!.reload(changed)).toThrow(/^link p2 changed \(mtu 1500 → 1400\): restart wasmroute to apply a changed link; nothing was reloaded$/);
  });
});
