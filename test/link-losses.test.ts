// What a port loses on the way in, as `wasmroute -n NAME ip -s -s link` shows it (host/router/links.ts):
// a live router between two wr- namespaces is stopped (SIGSTOP) while h1 sends more UDP datagrams than
// its receive ring (AF_PACKET, 1,920 slots) or its tap's queue (txqueuelen frames) holds; after SIGCONT the
// frames the router never got must show as RX missed. For AF_PACKET, taken + missed must equal what the
// kernel's veth end delivered (its own rx_packets, an independent count); for a tap, missed must equal
// what the tap's kernel side says it dropped, and a frame the tap refuses is a TX error. A frame longer than an `offload off` port's ring slot must
// show as a length error. Root only (CI is root); bounded in time; everything removed, also on failure.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { canRunLive, ip } from "./lib/netns.ts";
import { Lab, type LabOptions } from "./lib/lab.ts";

const run = canRunLive("ip -s link on a live router", ["ping", "ethtool"]) ? describe : describe.skip;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the real CLI against the lab's router (its control socket). */
function ctl(lab: Lab, ...words: string[]): string {
  const r = spawnSync(process.execPath, ["--import", "tsx", "host/cli/main.ts", "--control", join(lab.dir, "ctl.sock"), ...words], { encoding: "utf8", timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

interface RxCounters {
  packets: number;
  errors: number;
  dropped: number;
  missed: number;
  length: number;
}

/** The RX counters of `ip -s -s link show dev NAME` text (ours or iproute2's). */
function rxOf(text: string): RxCounters {
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.startsWith("    RX:"));
  const [, packets, errors, dropped, missed] = lines[at + 1]!.trim().split(/\s+/).map(Number);
  const length = Number(lines[at + 3]!.trim().split(/\s+/)[0]);
  return { packets: packets!, errors: errors!, dropped: dropped!, missed: missed!, length };
}

/** Sends `count` datagrams from h1 with the router stopped, then lets it drain. */
async function floodWhileStopped(lab: Lab, count: number): Promise<void> {
  expect(lab.exec(lab.h1, ["ping", "-c", "2", "-i", "0.2", "-W", "2", "10.201.2.2"]).out).toMatch(/2 received/); // neighbours resolved
  lab.router!.kill("SIGSTOP");
  try {
    const r = lab.udpFlood(lab.h1, "10.201.2.2", count);
    expect(r.status, r.err).toBe(0);
    await sleep(200);
  } finally {
    lab.router!.kill("SIGCONT");
  }
  await sleep(500);
}

/** A lab whose router has its control socket in the lab's directory, started before and removed after the tests. */
function liveLab(opts: LabOptions): Lab {
  const lab = new Lab(opts);
  beforeAll(async () => {
    lab.opts.routerArgs = ["--control", join(lab.dir, "ctl.sock")];
    await lab.start();
  }, 60_000);
  afterAll(async () => {
    lab.router?.kill("SIGCONT");
    await lab.stop();
  });
  return lab;
}

run("ip -s link on a live router: frames missed and frames cut", () => {
  describe("AF_PACKET ports, `offload off` towards h1", () => {
    const lab = liveLab({ kind: "packet", link1: "offload off" });

    it("counts what overflowed the ring as missed: taken + missed = what the veth delivered", async () => {
      await floodWhileStopped(lab, 4000);
      const veth = () => (JSON.parse(ip("-n", lab.r, "-j", "-s", "link", "show", "dev", lab.name(1, "b"))) as { stats64: { rx: { packets: number } } }[])[0]!.stats64.rx.packets;
      // both read again until they agree: a late frame (IPv6 housekeeping) may land between the two reads
      let ours = rxOf(ctl(lab, "ip", "-s", "-s", "link", "show", "dev", "p1"));
      let delivered = veth();
      for (let i = 0; i < 20 && ours.packets + ours.missed !== delivered; i++) {
        await sleep(100);
        ours = rxOf(ctl(lab, "ip", "-s", "-s", "link", "show", "dev", "p1"));
        delivered = veth();
      }
      expect(ours.missed).toBeGreaterThan(4000 - 1920 - 50); // the ring held 1,920 of the 4,000
      expect(ours.packets + ours.missed).toBe(delivered);
      expect(ours.length).toBe(0);
    }, 60_000);

    it("counts a frame longer than its ring slot as a length error, and drops it", async () => {
      // h1 → router with a 3,000-byte MTU on the wire; the port's slots are sized for 1,500
      ip("-n", lab.h1, "link", "set", lab.if1, "mtu", "3000");
      ip("-n", lab.r, "link", "set", lab.name(1, "b"), "mtu", "3000");
      const before = rxOf(ctl(lab, "ip", "-s", "-s", "link", "show", "dev", "p1"));
      lab.exec(lab.h1, ["ping", "-c", "1", "-W", "1", "-s", "2900", "-M", "do", "10.201.2.2"]);
      const after = rxOf(ctl(lab, "ip", "-s", "-s", "link", "show", "dev", "p1"));
      expect(after.length - before.length).toBe(1);
      expect(after.errors - before.errors).toBe(1);
      expect(after.dropped - before.dropped).toBeGreaterThanOrEqual(1); // the core saw a truncated datagram
      const nstat = ctl(lab, "nstat", "-a", "-s", "IpExtInTruncatedPkts");
      expect(nstat).toMatch(/^IpExtInTruncatedPkts\s+1\s/m);
    }, 30_000);
  });

  describe("TAP ports", () => {
    const lab = liveLab({ kind: "tap" });

    it("counts what the tap's kernel side dropped for want of queue room as missed", async () => {
      await floodWhileStopped(lab, 2000);
      // The two sides are read one after the other, so a frame (an ARP probe) can come in between: read them
      // again until they agree, for at most a second.
      type TapStats = { txqlen: number; stats64: { tx: { packets: number; dropped: number } } };
      let ours = rxOf(ctl(lab, "ip", "-s", "-s", "link", "show", "dev", "p1"));
      let tap = (JSON.parse(ip("-n", lab.h1, "-j", "-s", "link", "show", "dev", lab.if1)) as TapStats[])[0]!;
      for (let k = 0; k < 10 && ours.packets !== tap.stats64.tx.packets; k++) {
        await sleep(100);
        ours = rxOf(ctl(lab, "ip", "-s", "-s", "link", "show", "dev", "p1"));
        tap = (JSON.parse(ip("-n", lab.h1, "-j", "-s", "link", "show", "dev", lab.if1)) as TapStats[])[0]!;
      }
      const side = tap.stats64.tx;
      expect(ours.missed).toBeGreaterThan(2000 - tap.txqlen - 50); // the queue (txqueuelen frames) held the rest
      expect(ours.missed).toBe(side.dropped);
      expect(ours.packets).toBe(side.packets); // and every frame the kernel side handed over was taken
    }, 60_000);

    it("counts frames a tap refuses (its kernel side down) as TX errors, and not as bytes sent", async () => {
      const tx = () => {
        const lines = ctl(lab, "ip", "-s", "link", "show", "dev", "p2").split("\n");
        const [bytes, packets, errors] = lines[lines.findIndex((l) => l.startsWith("    TX:")) + 1]!.trim().split(/\s+/).map(Number);
        return { bytes: bytes!, packets: packets!, errors: errors! };
      };
      ip("-n", lab.h2, "link", "set", lab.if2, "down"); // a write to a tap whose kernel side is down fails (EIO)
      try {
        const before = tx();
        const r = lab.udpFlood(lab.h1, "10.201.2.2", 50);
        expect(r.status, r.err).toBe(0);
        await sleep(300);
        const after = tx();
        expect(after.errors - before.errors).toBe(50);
        expect([after.packets, after.bytes]).toEqual([before.packets, before.bytes]);
      } finally {
        ip("-n", lab.h2, "link", "set", lab.if2, "up");
      }
    }, 30_000);
  });
});
