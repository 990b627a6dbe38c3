// The mirrored part of the FIB (#6, --sync-from-kernel) on a real router with pcap ports: dumps, events,
// the resync diff, routes the FIB refuses, keys held by the config, and SIGHUP reloads around them.
import { describe, it, expect, afterEach } from "vitest";
import fc from "fast-check";
import { Router } from "../host/router/router.ts";
import { parseConfig } from "../host/router/config.ts";
import { Logger } from "../host/router/logger.ts";
import { RouteMirror } from "../host/router/kernel-mirror.ts";
import { parseKernelRouteLine } from "../host/router/kernel-route.ts";
import { formatRoute } from "../host/cli/format.ts";

const BASE = ["link add p1 type pcap", "link add p2 type pcap", "addr add 10.201.1.1/24 dev p1", "addr add 10.201.2.1/24 dev p2"];

let routers: Router[] = [];
afterEach(() => {
  for (const r of routers) r.stop();
  routers = [];
});

function rig(extra: string[] = []) {
  const logs: string[] = [];
  const log = new Logger("text", (l) => logs.push(l));
  const router = Router.start(parseConfig([...BASE, ...extra, ""].join("\n"), "r.conf"), { logger: log });
  routers.push(router);
  const mirror = new RouteMirror(router, log, "kernel table main of netns test");
  router.routeSources.push({
    yieldTo: (s) => mirror.yieldTo(s),
    afterReload: () => void mirror.afterReload(),
    stop: () => {},
    status: () => ({ table: "main", netns: "test", routes: mirror.count, synced: true }),
  });
  const lines = (...ls: string[]) => ls.map((l) => parseKernelRouteLine(l, 254));
  /** Table main as `ip route` prints it, without the connected routes. */
  const table = () => router.fib.routes(254).filter((r) => r.proto !== "kernel").flatMap((r) => formatRoute(r)).join("\n");
  return { router, mirror, logs, lines, table };
}

const k = (prefix: string, rest = "via 10.201.2.9", extra = "") => `unicast ${prefix} ${rest} dev eth1 table main proto bird scope global ${extra}`;

describe("kernel route mirror", () => {
  it("applies a dump in one transaction, then events in order; the cache is invalidated once per commit", () => {
    const { router, mirror, lines, table } = rig();
    const gen0 = router.cache.state().genid;
    mirror.replaceAll(lines(k("203.0.113.0/24"), k("198.51.100.0/24", "", "\\\tnexthop via 10.201.2.9 dev x weight 3 \\\tnexthop via 10.201.2.10 dev x"), "blackhole 192.0.2.0/24 table main proto boot scope global "));
    expect(mirror.commit()).toMatchObject({ added: 3, removed: 0, replaced: 0, refused: 0, mutated: true });
    expect(router.cache.state().genid).not.toBe(gen0);
    expect(table()).toBe([
      "blackhole 192.0.2.0/24 ",
      "198.51.100.0/24 proto bird ",
      "\tnexthop via 10.201.2.9 dev p2 weight 3 ",
      "\tnexthop via 10.201.2.10 dev p2 weight 1 ",
      "203.0.113.0/24 via 10.201.2.9 dev p2 proto bird ",
    ].join("\n"));
    for (const l of lines(k("203.0.113.0/24", "via 10.201.2.7"), `Deleted ${k("198.51.100.0/24", "via 10.201.2.9")}`, k("10.50.0.0/16", "via 10.201.2.8", "metric 20"), k("10.50.0.0/16", "via 10.201.2.6", "metric 10"))) mirror.event(l);
    const gen1 = router.cache.state().genid;
    expect(mirror.commit()).toMatchObject({ added: 2, removed: 1, replaced: 1 });
    expect(router.cache.state().genid).not.toBe(gen1);
    expect(table()).toBe([
      "10.50.0.0/16 via 10.201.2.6 dev p2 proto bird metric 10 ",
      "10.50.0.0/16 via 10.201.2.8 dev p2 proto bird metric 20 ",
      "blackhole 192.0.2.0/24 ",
      "203.0.113.0/24 via 10.201.2.7 dev p2 proto bird ",
    ].join("\n"));
    // A commit with nothing new changes nothing, not even the cache generation.
    const gen2 = router.cache.state().genid;
    mirror.event(lines(k("203.0.113.0/24", "via 10.201.2.7"))[0]!);
    expect(mirror.commit()).toMatchObject({ mutated: false, added: 0, replaced: 0, removed: 0 });
    expect(router.cache.state().genid).toBe(gen2);
    expect(router.fib.get({ dst: 0xcb007105, src: 0, iif: "", mark: 0, tos: 0 }).nexthop?.gateway).toBe(0x0ac90207);
  });

  it("resyncs by diff: a fresh dump changes only what differs", () => {
    const { mirror, lines, table } = rig();
    mirror.replaceAll(lines(k("10.1.0.0/16"), k("10.2.0.0/16"), k("10.3.0.0/16"), k("10.4.0.0/16", "via 10.201.2.9", "metric 5")));
    mirror.commit();
    mirror.replaceAll(lines(k("10.1.0.0/16"), k("10.2.0.0/16", "via 10.201.2.3"), k("10.4.0.0/16", "via 10.201.2.9", "metric 6"), k("10.5.0.0/16")));
    expect(mirror.commit()).toMatchObject({ added: 2, replaced: 1, removed: 2 });
    expect(table()).toBe([
      "10.1.0.0/16 via 10.201.2.9 dev p2 proto bird ",
      "10.2.0.0/16 via 10.201.2.3 dev p2 proto bird ",
      "10.4.0.0/16 via 10.201.2.9 dev p2 proto bird metric 6 ",
      "10.5.0.0/16 via 10.201.2.9 dev p2 proto bird ",
    ].join("\n"));
    expect(mirror.count).toBe(4);
  });

  it("leaves out, with one logged line each, what the FIB refuses or the config holds; the rest applies", () => {
    const { mirror, lines, table, logs } = rig(["route add 10.9.0.0/16 via 10.201.1.9 proto static"]);
    mirror.replaceAll(lines(k("10.7.0.0/16", "via 172.31.0.1"), k("10.8.0.0/16"), k("10.9.0.0/16"), k("10.10.0.0/16", "via 10.201.2.9", "mtu 1400")));
    expect(mirror.commit()).toMatchObject({ added: 1, refused: 3 });
    expect(table()).toBe(["10.8.0.0/16 via 10.201.2.9 dev p2 proto bird ", "10.9.0.0/16 via 10.201.1.9 dev p1 proto static "].join("\n"));
    const skips = logs.filter((l) => l.includes("not mirrored"));
    expect(skips).toHaveLength(3);
    expect(skips.join("\n")).toMatch(/10\.7\.0\.0\/16 .*Nexthop has invalid gateway/);
    expect(skips.join("\n")).toMatch(/10\.9\.0\.0\/16 metric 0: the FIB holds a route of the config or the control socket there/);
    expect(skips.join("\n")).toMatch(/10\.10\.0\.0\/16: per-route mtu is not supported/);
    // A resync does not repeat them.
    mirror.replaceAll(lines(k("10.7.0.0/16", "via 172.31.0.1"), k("10.8.0.0/16"), k("10.9.0.0/16"), k("10.10.0.0/16", "via 10.201.2.9", "mtu 1400")));
    mirror.commit();
    expect(logs.filter((l) => l.includes("not mirrored"))).toHaveLength(3);
  });

  it("a SIGHUP reload keeps mirrored routes; a config route takes over a mirrored key and gives it back", () => {
    const { router, mirror, lines, table } = rig();
    mirror.replaceAll(lines(k("10.1.0.0/16"), k("10.2.0.0/16")));
    mirror.commit();
    const reload = (extra: string[]) => router.reload(parseConfig([...BASE, ...extra, ""].join("\n"), "r.conf"));
    reload(["route add 10.3.0.0/16 via 10.201.1.3"]);
    expect(table()).toBe(["10.1.0.0/16 via 10.201.2.9 dev p2 proto bird ", "10.2.0.0/16 via 10.201.2.9 dev p2 proto bird ", "10.3.0.0/16 via 10.201.1.3 dev p1 "].join("\n"));
    reload(["route add 10.2.0.0/16 via 10.201.1.2"]);
    expect(table()).toBe(["10.1.0.0/16 via 10.201.2.9 dev p2 proto bird ", "10.2.0.0/16 via 10.201.1.2 dev p1 "].join("\n"));
    expect(mirror.count).toBe(1);
    // A refused reload (a bad route) changes nothing, the mirror included.
    expect(() => reload(["route add 10.1.0.0/16 via 10.201.1.1", "route add 10.6.0.0/16 via 172.31.9.9"])).toThrow(/invalid gateway/);
    expect(table()).toBe(["10.1.0.0/16 via 10.201.2.9 dev p2 proto bird ", "10.2.0.0/16 via 10.201.1.2 dev p1 "].join("\n"));
    expect(mirror.count).toBe(1);
    reload([]);
    expect(table()).toBe(["10.1.0.0/16 via 10.201.2.9 dev p2 proto bird ", "10.2.0.0/16 via 10.201.2.9 dev p2 proto bird "].join("\n"));
    expect(mirror.count).toBe(2);
    // Withdrawn from the kernel while a reload ran: gone once the reload is over.
    mirror.event(lines(`Deleted ${k("10.1.0.0/16")}`)[0]!);
    reload(["route add 10.4.0.0/16 via 10.201.1.4"]);
    expect(table()).toBe(["10.2.0.0/16 via 10.201.2.9 dev p2 proto bird ", "10.4.0.0/16 via 10.201.1.4 dev p1 "].join("\n"));
  });

  it("a reload that changes sync lines is refused whole (they need a restart)", () => {
    const { router, table } = rig(["sync from-kernel table main netns wr-a"]);
    const before = table();
    expect(() => router.reload(parseConfig([...BASE, "sync from-kernel table main netns wr-b", "route add 10.3.0.0/16 via 10.201.1.3", ""].join("\n"), "r.conf"))).toThrow(
      /^sync lines changed \("sync from-kernel table main netns wr-a" → "sync from-kernel table main netns wr-b"\): restart wasmroute to apply them; nothing was reloaded$/,
    );
    expect(table()).toBe(before);
  });

  it("ends where the kernel table ends, whatever the events and the resyncs (property)", () => {
    const { router, mirror, lines } = rig(["route add 10.0.3.0/24 via 10.201.1.7 metric 1"]);
    const prefixes = ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24", "10.0.0.0/16", "0.0.0.0/0"];
    const route = fc.record({ p: fc.constantFrom(...prefixes), gw: fc.integer({ min: 2, max: 6 }), metric: fc.constantFrom(0, 1, 2), type: fc.constantFrom("unicast", "blackhole", "unicast") });
    const text = (r: { p: string; gw: number; metric: number; type: string }) =>
      r.type === "unicast" ? k(r.p, `via 10.201.2.${r.gw}`, r.metric ? `metric ${r.metric}` : "") : `blackhole ${r.p} table main proto boot scope global ${r.metric ? `metric ${r.metric}` : ""}`;
    const op = fc.oneof(
      fc.record({ kind: fc.constant("set" as const), r: route }),
      fc.record({ kind: fc.constant("del" as const), r: route }),
      fc.record({ kind: fc.constant("commit" as const) }),
      fc.record({ kind: fc.constant("resync" as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        // The kernel table, as a map key → line.
        const kernel = new Map<string, string>();
        const keyOf = (r: { p: string; metric: number }) => `${r.p}|${r.metric}`;
        for (const o of ops) {
          if (o.kind === "set") {
            kernel.set(keyOf(o.r), text(o.r));
            mirror.event(lines(text(o.r))[0]!);
          } else if (o.kind === "del") {
            if (!kernel.has(keyOf(o.r))) continue; // the kernel only reports deletes of what it has
            mirror.event(lines(`Deleted ${kernel.get(keyOf(o.r))!}`)[0]!);
            kernel.delete(keyOf(o.r));
          } else if (o.kind === "commit") mirror.commit();
          else mirror.replaceAll(lines(...kernel.values()));
        }
        mirror.commit();
        // Expected: the kernel's routes, except 10.0.3.0/24 metric 1 (the config's), plus the config route.
        const want = new Set([...kernel.entries()].filter(([key]) => key !== "10.0.3.0/24|1").map(([, l]) => formatRoute(parseKernelRouteLine(l, 254).kind === "route" ? (parseKernelRouteLine(l, 254) as { route: Parameters<typeof formatRoute>[0] }).route : (undefined as never)).join("").replace(/ dev \w+/g, "")));
        want.add("10.0.3.0/24 via 10.201.1.7 metric 1 ");
        const have = new Set(router.fib.routes(254).filter((r) => r.proto !== "kernel").map((r) => formatRoute(r).join("").replace(/ dev \w+/g, "")));
        expect([...have].sort()).toEqual([...want].sort());
        expect(mirror.count).toBe(want.size - 1);
        router.fib.check();
        // Next run starts from an empty kernel table.
        mirror.replaceAll([]);
        mirror.commit();
        expect(mirror.count).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
