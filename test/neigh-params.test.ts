// Per-device neighbour knobs (net.ipv4.neigh.IFNAME.*) as the running router applies them: each port
// reads its own values once set, the others inherit net.ipv4.neigh.default.*, and a SIGHUP reload
// changes them. Driven through a router built from a config with pcap ports, on the router's clock.
// (The state machine itself is checked against the model with per-port values in test/neigh.test.ts.)
import { describe, it, expect, afterEach } from "vitest";
import { Router } from "../host/router/router.ts";
import { parseConfig } from "../host/router/config.ts";
import { udpDatagram } from "../host/sim/frames.ts";
import { parseMac } from "../host/router/mac.ts";
import { Logger } from "../host/router/logger.ts";

const ip = (s: string) => s.split(".").reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);
const V_QUEUED = 2;
const D_NEIGH_FAILED = 13;
const toRouter = { srcMac: parseMac("02:00:00:00:01:02"), dstMac: parseMac("02:77:00:00:01:01") };

const BASE = `
link add p1 type pcap address 02:77:00:00:01:01
link add p2 type pcap address 02:77:00:00:02:01
link add p3 type pcap address 02:77:00:00:03:01
addr add 10.201.1.1/24 dev p1
addr add 10.201.2.1/24 dev p2
addr add 10.201.3.1/24 dev p3
neigh add 10.201.1.2 lladdr 02:00:00:00:01:02 dev p1
sysctl net.ipv4.neigh.default.retrans_time_ms=500
sysctl net.ipv4.neigh.p1.base_reachable_time_ms=4000
sysctl net.ipv4.neigh.p1.retrans_time_ms=2000
`;

let router: Router | undefined;
let clock = 1_000_000;
afterEach(() => router?.stop());

function start(extra: string): Router {
  router = Router.start(parseConfig(BASE + extra, "n.conf"), { clock: () => clock, logger: new Logger("text", () => {}) });
  return router;
}
const port = (r: Router, name: string) => r.ports.get(name)!.ifindex;
/** A datagram from h1 to dst, received on p1: its verdict and the ARP requests sent for it. */
function send(r: Router, dst: string): { verdict: number; arps: number[] } {
  const res = r.dp.receive(port(r, "p1"), [udpDatagram(toRouter, ip("10.201.1.2"), ip(dst), 1000, 9, 20)]);
  return { verdict: res.verdicts[0]!, arps: res.sent.filter((s) => s.frame[12] === 0x08 && s.frame[13] === 0x06).map((s) => s.oif) };
}
const arpsAt = (r: Router, ms: number) => {
  clock += ms;
  return r.dp.tickCollect().filter((s) => s.frame[12] === 0x08 && s.frame[13] === 0x06).map((s) => s.oif);
};

describe("per-device neighbour knobs (net.ipv4.neigh.IFNAME.*)", () => {
  it("a port with mcast_solicit 0 fails an unresolved neighbour at once; the others hold the frame and ask", () => {
    const r = start("sysctl net.ipv4.neigh.p2.mcast_solicit=0\n");
    expect(send(r, "10.201.2.77")).toEqual({ verdict: 16 + D_NEIGH_FAILED, arps: [] });
    expect(send(r, "10.201.3.77")).toEqual({ verdict: V_QUEUED, arps: [port(r, "p3")] });
  });

  it("retries at each port's retrans_time: p3 inherits the default's 500 ms, p1 has its own 2000 ms", () => {
    const r = start("");
    expect(send(r, "10.201.3.77").verdict).toBe(V_QUEUED);
    const p3 = port(r, "p3");
    expect(arpsAt(r, 499)).toEqual([]);
    expect(arpsAt(r, 21)).toEqual([p3]); // 500 ms after the first request (the tick runs every 20 ms)
    // An unresolved neighbour on p1 (10.201.1.9), asked for by a datagram from h3.
    const r1 = r.dp.receive(port(r, "p3"), [udpDatagram({ srcMac: parseMac("02:00:00:00:03:02"), dstMac: parseMac("02:77:00:00:03:01") }, ip("10.201.3.2"), ip("10.201.1.9"), 1000, 9, 20)]);
    expect(r1.verdicts[0]).toBe(V_QUEUED);
    const p1 = port(r, "p1");
    expect(r1.sent.filter((s) => s.oif === p1)).toHaveLength(1); // the first request on p1
    const times: number[] = [];
    for (let t = 0; t < 4200; t += 20) if (arpsAt(r, 20).includes(p1)) times.push(t + 20);
    expect(times).toEqual([2000, 4000]); // p1's own retrans_time, not the default's 500
  });

  it("draws reachable_time from each port's base_reachable_time; p2 inherits the default's base, with a draw of its own", () => {
    const r = start("");
    for (let i = 0; i < 20; i++) {
      const own = r.neigh.reachableTimeMs(port(r, "p1"));
      expect(own).toBeGreaterThanOrEqual(2000);
      expect(own).toBeLessThan(6000);
      const inherited = r.neigh.reachableTimeMs(port(r, "p2")); // each device's neigh_parms draws its own
      expect(inherited).toBeGreaterThanOrEqual(15000);
      expect(inherited).toBeLessThan(45000);
    }
  });

  it("a reload applies changed per-device knobs", () => {
    const r = start("sysctl net.ipv4.neigh.p2.mcast_solicit=0\n");
    expect(send(r, "10.201.2.77").verdict).toBe(16 + D_NEIGH_FAILED);
    r.reload(parseConfig(BASE, "n.conf"));
    clock += 6000; // past the FAILED entry's life: the next frame starts resolving afresh
    r.dp.tickCollect();
    const again = send(r, "10.201.2.78");
    expect(again).toEqual({ verdict: V_QUEUED, arps: [port(r, "p2")] });
  });
});
