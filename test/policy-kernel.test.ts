// Policy routing mirrors Linux: random `ip rule` lists and routes in several tables are loaded into a
// real kernel (a wr-* namespace with forwarding on) and into the WASM FIB; `ip route get … iif …`
// (the input path) must give the same answer from both for every query: type, gateway, device,
// table, or the same error. Runs as root (CI is root); elsewhere it is skipped.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { Fib } from "../host/fib/fib.ts";
import { TABLE_LOCAL, TABLE_MAIN, type Route, type RouteTypeName, type Rule } from "../host/fib/types.ts";
import { formatIPv4 } from "../host/fib/ipv4.ts";
import { canRunLive, createNetns, deleteNetns, ipIn } from "./lib/netns.ts";
import { prng } from "./ref/prng.ts";

const NS = `wr-pol-${process.pid}`;
const DEV = "wr-p0";
const ERRNO: Record<string, number> = {
  "Network is unreachable": -101,
  "No route to host": -113,
  "Invalid argument": -22,
  "Permission denied": -13,
};
const tableName = (t: number) => (t === TABLE_MAIN ? "main" : t === TABLE_LOCAL ? "local" : String(t));
const mask = (len: number) => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);

function routeArgs(r: Route): string[] {
  const a: string[] = [r.type, `${formatIPv4(r.prefix)}/${r.len}`];
  if (r.nexthops[0]?.gateway) a.push("via", formatIPv4(r.nexthops[0].gateway));
  if (r.nexthops[0]?.dev && r.type === "unicast") a.push("dev", r.nexthops[0].dev);
  if (r.type === "local" || r.type === "broadcast") a.push("dev", DEV);
  a.push("table", String(r.table), "metric", String(r.metric));
  return a;
}

function ruleArgs(r: Rule): string[] {
  const a: string[] = ["pref", String(r.priority)];
  if (r.srcLen) a.push("from", `${formatIPv4(r.src)}/${r.srcLen}`);
  if (r.dstLen) a.push("to", `${formatIPv4(r.dst)}/${r.dstLen}`);
  if (r.iif) a.push("iif", r.iif);
  if (r.tos) a.push("tos", `0x${r.tos.toString(16)}`);
  if (r.fwmask) a.push("fwmark", `0x${r.fwmark.toString(16)}/0x${r.fwmask.toString(16)}`);
  a.push(...(r.action === "lookup" ? ["lookup", String(r.table)] : [r.action]));
  return a;
}

/** "type gateway table dev" from the kernel's `ip route get` text, or the errno. */
function kernelAnswer(out: string, err: string): string {
  if (err.trim()) {
    const m = /RTNETLINK answers: (.*)/.exec(err);
    return `error ${m ? (ERRNO[m[1]!.trim()] ?? m[1]) : err.trim()}`;
  }
  const w = out.split(/\s+/);
  const type = w[0] === "local" || w[0] === "broadcast" ? w[0] : "unicast";
  const at = (k: string) => (w.indexOf(k) >= 0 ? w[w.indexOf(k) + 1]! : "-");
  const dev = type === "unicast" ? at("dev") : "-";
  return `${type} via ${at("via")} dev ${dev} table ${at("table") === "-" ? "main" : at("table")}`;
}

function fibAnswer(fib: Fib, dst: number, src: number, mark: number, tos: number): string {
  const a = fib.get({ dst, src, iif: DEV, mark, tos });
  if (a.error) return `error ${a.error}`;
  const gw = a.nexthop?.gateway ? formatIPv4(a.nexthop.gateway) : "-";
  const dev = a.type === "unicast" ? (a.nexthop?.dev ?? "-") : "-";
  return `${a.type} via ${gw} dev ${dev} table ${tableName(a.table)}`;
}

describe.skipIf(!canRunLive("policy routing against the Linux kernel"))("policy routing against the Linux kernel", () => {
  beforeAll(() => {
    createNetns(NS);
    for (const args of [
      ["link", "set", "lo", "up"],
      ["link", "add", DEV, "type", "veth", "peer", "name", "wr-p1"],
      ["link", "set", DEV, "up"],
      ["link", "set", "wr-p1", "up"],
      ["addr", "add", "192.0.2.5/24", "dev", DEV],
    ]) {
      const r = ipIn(NS, args);
      if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.err}`);
    }
    for (const k of ["net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", `net.ipv4.conf.${DEV}.rp_filter=0`]) {
      if (spawnSync("ip", ["netns", "exec", NS, "sysctl", "-qw", k]).status !== 0) throw new Error(`sysctl ${k} failed`);
    }
  });
  afterAll(() => deleteNetns(NS));

  it.each([1, 2, 3])("answers every input-path query like the kernel (seed %i)", (seed) => {
    const rand = prng(seed);
    const pick = <T,>(a: readonly T[]): T => a[rand() % a.length]!;
    // Start both from the same state: the kernel's connected/local routes, mirrored into the FIB.
    for (const t of ["100", "200"]) ipIn(NS, ["route", "flush", "table", t]);
    for (;;) {
      const rules = ipIn(NS, ["rule", "show"]).out.split("\n").filter((l) => l && !/^(0|32766|32767):/.test(l));
      if (rules.length === 0) break;
      ipIn(NS, ["rule", "del", "pref", rules[0]!.split(":")[0]!]);
    }
    const main = ipIn(NS, ["route", "show", "table", "main"]).out.split("\n").filter((l) => l && !l.includes("proto kernel"));
    for (const l of main) ipIn(NS, ["route", "del", ...l.trim().split(/\s+/)]);

    const fib = new Fib();
    const nh = (gw: number) => [{ gateway: gw, dev: DEV, weight: 1, onlink: false }];
    fib.addRoute({ prefix: 0xc0000200, len: 24, type: "unicast", table: TABLE_MAIN, metric: 0, nexthops: [{ gateway: 0, dev: DEV, weight: 1, onlink: false }], scope: "link" });
    fib.addRoute({ prefix: 0xc0000205, len: 32, type: "local", table: TABLE_LOCAL, metric: 0, nexthops: [{ gateway: 0, dev: DEV, weight: 1, onlink: false }] });
    fib.addRoute({ prefix: 0xc00002ff, len: 32, type: "broadcast", table: TABLE_LOCAL, metric: 0, nexthops: [{ gateway: 0, dev: DEV, weight: 1, onlink: false }] });
    fib.addRoute({ prefix: 0x7f000000, len: 8, type: "local", table: TABLE_LOCAL, metric: 0, nexthops: [{ gateway: 0, dev: "lo", weight: 1, onlink: false }] });

    const types: RouteTypeName[] = ["unicast", "unicast", "unicast", "unicast", "blackhole", "unreachable", "prohibit", "throw"];
    const prefixes: { addr: number; len: number }[] = [];
    for (let i = 0; i < 60; i++) {
      const len = pick([8, 12, 16, 16, 20, 24, 24, 28, 32]);
      prefixes.push({ addr: ((0x0a000000 | (rand() & 0x0003ffff)) & mask(len)) >>> 0, len });
    }
    for (const p of prefixes) {
      const type = pick(types);
      const route: Route = {
        prefix: p.addr, len: p.len, type, table: pick([100, 200, TABLE_MAIN]), metric: pick([0, 0, 5]),
        nexthops: type === "unicast" ? nh(0xc0000200 + 6 + (rand() % 20)) : [],
      };
      const k = ipIn(NS, ["route", "add", ...routeArgs(route)]);
      let mine = "";
      try {
        fib.addRoute(route);
      } catch (e) {
        mine = (e as Error).message;
      }
      expect(mine.replace(/^Error: |^RTNETLINK answers: /, ""), `route add ${routeArgs(route).join(" ")}`).toBe(
        k.err.trim().replace(/^Error: |^RTNETLINK answers: /, ""),
      );
    }
    for (let i = 0; i < 8; i++) {
      const action = pick(["lookup", "lookup", "lookup", "blackhole", "unreachable", "prohibit"] as const);
      // An error action gets a source selector, so no single rule swallows every query.
      const srcLen = action === "lookup" ? pick([0, 0, 24, 28]) : pick([24, 28]);
      const dstLen = pick([0, 0, 8, 16]);
      const fwmask = pick([0, 0, 0xff, 0xf]);
      const rule: Rule = {
        priority: 100 + i * 10, src: (0xc6336400 | (rand() & 0x3ff)) & mask(srcLen), srcLen,
        dst: ((0x0a000000 | (rand() & 0x0003ffff)) & mask(dstLen)) >>> 0, dstLen,
        iif: pick(["", "", DEV, "wr-p1"]), tos: pick([0, 0, 0, 0x10]), fwmark: fwmask ? rand() & fwmask : 0, fwmask,
        action, table: action === "lookup" ? pick([100, 200, TABLE_MAIN]) : 0,
      };
      rule.src >>>= 0;
      const k = ipIn(NS, ["rule", "add", ...ruleArgs(rule)]);
      expect(k.err).toBe("");
      fib.addRule(rule);
    }

    // Catch-alls after the random rules, so every table is reachable and the random rules decide.
    for (const [priority, table] of [[30000, 100], [30001, 200]] as const) {
      const rule: Rule = { priority, src: 0, srcLen: 0, dst: 0, dstLen: 0, iif: "", tos: 0, fwmark: 0, fwmask: 0, action: "lookup", table };
      expect(ipIn(NS, ["rule", "add", ...ruleArgs(rule)]).err).toBe("");
      fib.addRule(rule);
    }
    const kinds = new Set<string>();
    for (let q = 0; q < 120; q++) {
      const p = pick(prefixes);
      const dst = rand() % 4 === 0 ? (0xc0000200 | pick([5, 0xff, 77])) >>> 0 : (p.addr | (rand() & ~mask(p.len))) >>> 0;
      const src = (0xc6336400 | (rand() & 0x3ff)) >>> 0; // 198.51.100.0/22: a /24 rule matches a quarter
      const mark = pick([0, 1, 3, 0x13, 0x2f]);
      const tos = pick([0, 0x08, 0x10, 0x12]);
      const k = ipIn(NS, ["route", "get", formatIPv4(dst), "from", formatIPv4(src), "iif", DEV, "mark", String(mark), "tos", `0x${tos.toString(16)}`]);
      const want = kernelAnswer(k.out, k.err);
      const got = fibAnswer(fib, dst, src, mark, tos);
      expect(got, `route get ${formatIPv4(dst)} from ${formatIPv4(src)} mark ${mark} tos ${tos}`).toBe(want);
      kinds.add(want.startsWith("error") ? want : `${want.split(" ")[0]} table ${want.split(" ").pop()}`);
    }
    // The scenario must exercise several outcomes, or agreeing proves little.
    expect(kinds.size, [...kinds].join(", ")).toBeGreaterThanOrEqual(5);
  });
});
