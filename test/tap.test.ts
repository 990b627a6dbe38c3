// The TAP device layer with a real kernel on the other side: attach in the root namespace, move the
// kernel side into a wr- namespace, then the kernel's ARP request arrives through recv (event-driven),
// our ARP reply goes back through send, the kernel learns the neighbour and releases the UDP datagram it
// held for it — which arrives too. Root only (CI is root).
import { describe, it, expect, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { TapDevice } from "../host/io/tap.ts";
import { canUseNetns, requireNetnsInCi, createNetns, deleteNetns, ipIn, ip } from "./lib/netns.ts";

requireNetnsInCi();
const NS = `wr-tap-${process.pid}`;
const TAP = `wr-t${process.pid % 100000}`;
const OUR_MAC = [0x02, 0, 0, 0, 0, 0x01];
let tap: TapDevice | undefined;

afterAll(() => {
  tap?.close();
  deleteNetns(NS);
});

function waitFor<T>(get: () => T | undefined, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = () => {
      const v = get();
      if (v !== undefined) return resolve(v);
      if (Date.now() - t0 > ms) return reject(new Error(`timed out after ${ms} ms`));
      setTimeout(poll, 10);
    };
    poll();
  });
}

describe.skipIf(!canUseNetns())("TAP device (wrio addon)", () => {
  it("carries frames both ways after the kernel side moved to another namespace", async () => {
    tap = TapDevice.open(TAP); // attach first …
    createNetns(NS);
    ip("link", "set", TAP, "netns", NS); // … then move
    for (const args of [["link", "set", TAP, "address", "02:00:00:00:00:02"], ["addr", "add", "10.199.0.2/24", "dev", TAP], ["link", "set", TAP, "up"]]) {
      const r = ipIn(NS, args);
      if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.err}`);
    }
    const SLOT = 2048, MAX = 32;
    const buf = new Uint8Array(SLOT * MAX);
    const lens = new Int32Array(MAX);
    const frames: Uint8Array[] = [];
    let wakeups = 0;
    tap.onReadable(() => {
      wakeups++;
      const n = tap!.recv(buf, 0, SLOT, MAX, lens);
      for (let i = 0; i < n; i++) frames.push(buf.slice(i * SLOT, i * SLOT + lens[i]!));
    });
    // One UDP datagram to 10.199.0.1 (us): the kernel must first ask who has it.
    const send = spawnSync("ip", ["netns", "exec", NS, "bash", "-c", "echo wasmroute > /dev/udp/10.199.0.1/9"], { timeout: 5000 });
    expect(send.status).toBe(0);
    const etherType = (f: Uint8Array) => (f[12]! << 8) | f[13]!;
    const arp = await waitFor(() => frames.find((f) => etherType(f) === 0x0806 && f[21] === 1), 3000);
    expect([...arp.slice(38, 42)]).toEqual([10, 199, 0, 1]); // who has 10.199.0.1
    expect([...arp.slice(28, 32)]).toEqual([10, 199, 0, 2]); // tell 10.199.0.2
    const theirMac = [...arp.slice(6, 12)];
    expect(theirMac).toEqual([2, 0, 0, 0, 0, 2]);
    // ARP reply: 10.199.0.1 is at 02:00:00:00:00:01
    const reply = new Uint8Array(SLOT);
    reply.set([...theirMac, ...OUR_MAC, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 2, ...OUR_MAC, 10, 199, 0, 1, ...theirMac, 10, 199, 0, 2]);
    const replyLens = new Int32Array([42]);
    expect(tap.send(reply, 0, SLOT, replyLens, 1)).toBe(1);
    // The kernel learns us and releases the datagram it held: IPv4/UDP to 10.199.0.1:9, to our MAC.
    const udp = await waitFor(() => frames.find((f) => etherType(f) === 0x0800 && f[23] === 17), 3000);
    expect([...udp.slice(0, 6)]).toEqual(OUR_MAC);
    expect([...udp.slice(30, 34)]).toEqual([10, 199, 0, 1]);
    expect((udp[36]! << 8) | udp[37]!).toBe(9);
    expect(Buffer.from(udp.slice(42)).toString()).toBe("wasmroute\n");
    expect(ipIn(NS, ["neigh", "show", "10.199.0.1"]).out).toMatch(/lladdr 02:00:00:00:00:01/);
    expect(wakeups).toBeGreaterThanOrEqual(1);
  });

  it("refuses a bad name and an out-of-bounds batch with clear errors", () => {
    expect(() => TapDevice.open("a-name-much-too-long")).toThrow(/1\.\.15 characters/);
    const t = TapDevice.open(`wr-u${process.pid % 100000}`);
    try {
      expect(() => t.recv(new Uint8Array(100), 0, 2048, 1, new Int32Array(1))).toThrow(/out of bounds/);
      expect(() => t.send(new Uint8Array(100), 0, 50, new Int32Array([60, 0]), 2)).toThrow(/exceeds its slot/);
      expect(t.recv(new Uint8Array(2048), 0, 2048, 1, new Int32Array(1))).toBe(0); // nothing waiting: EAGAIN, not an error
    } finally {
      t.close();
    }
  });
});
