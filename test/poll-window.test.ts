/**
 * The receive loop. Its poll window (DataPlaneOptions.pollWindowUs, `wasmroute run --poll-window`): after a
 * wake-up that found frames, the ports are polled from the event loop for the window, so a frame that
 * comes meanwhile is taken without a readiness wake-up; once the window passes without frames, the
 * loop stops polling and waits for readiness again. Driven through a device that only says "readable"
 * when the test tells it to.
 */
import { describe, it, expect, afterEach } from "vitest";
import { Router } from "../host/router/router.ts";
import { parseConfig } from "../host/router/config.ts";
import { Logger } from "../host/router/logger.ts";
import { udpDatagram } from "../host/sim/frames.ts";
import { parseMac } from "../host/router/mac.ts";
import { adaptPasses, type FrameDevice } from "../host/router/dataplane.ts";
import { FramePort } from "../host/io/port.ts";
import { spawnSync } from "node:child_process";
import { canRunLive, createNetns, deleteNetns, ipIn } from "./lib/netns.ts";

const CONFIG = `
link add p1 type pcap address 02:77:00:00:01:01
link add p2 type pcap address 02:77:00:00:02:01
addr add 10.201.1.1/24 dev p1
addr add 10.201.2.1/24 dev p2
neigh add 10.201.2.2 lladdr 02:00:00:00:02:02 dev p2
route add 172.16.0.0/16 via 10.201.2.2 dev p2
`;
const ip = (s: string) => s.split(".").reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);
const frame = () => udpDatagram({ srcMac: parseMac("02:00:00:00:01:02"), dstMac: parseMac("02:77:00:00:01:01") }, ip("10.201.1.2"), ip("172.16.1.1"), 1, 2, 10);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A device with a queue the test fills; readable only when the test calls wake(). */
class QueueDevice implements FrameDevice {
  queue: Uint8Array[] = [];
  recvCalls = 0;
  taken = 0;
  private readable: (() => void) | undefined;
  /** Whether the readiness watch is paused (the data plane pauses it while it polls), and each change. */
  paused = false;
  pauses: boolean[] = [];
  recv(buf: ArrayBuffer | ArrayBufferView, offset: number, slot: number, max: number, lens: Int32Array): number {
    this.recvCalls++;
    const bytes = buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    let n = 0;
    while (n < max && this.queue.length > 0) {
      const f = this.queue.shift()!;
      bytes.set(f, offset + n * slot);
      lens[n++] = f.length;
    }
    this.taken += n;
    return n;
  }
  sent: Uint8Array[] = [];
  sendList(b: ArrayBuffer | ArrayBufferView, offs: Uint32Array, lens: Int32Array, first: number, n: number): number {
    const bytes = b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    for (let k = first; k < first + n; k++) this.sent.push(bytes.slice(offs[k]!, offs[k]! + lens[k]!));
    return n;
  }
  onReadable(callback: () => void): void {
    this.readable = callback;
  }
  /** The device became readable: a paused watch says nothing (its fd is out of the epoll set). */
  wake(): void {
    if (!this.paused) this.readable?.();
  }
  pauseWatching(paused: boolean): void {
    this.paused = paused;
    this.pauses.push(paused);
    if (!paused && this.queue.length > 0) this.readable?.(); // level-triggered, as epoll reports a waiting frame
  }
  stopWatching(): void {
    this.readable = undefined;
  }
  close(): void {}
}

let router: Router | undefined;
afterEach(() => {
  router?.stop();
  router = undefined;
});

/** Starts the router with the test's queue as p1's device, and p2's too when `out` is given. */
function start(pollWindowUs: number, out?: QueueDevice, dev = new QueueDevice()): QueueDevice {
  router = Router.start(parseConfig(CONFIG, "poll.conf"), { pollWindowUs, logger: new Logger("text", () => {}) });
  for (const [name, d] of [["p1", dev], ["p2", out]] as const) {
    if (!d) continue;
    const ifindex = router.ports.get(name)!.ifindex;
    router.dp.removePort(ifindex); // the port's device is now the test's queue
    router.dp.addPort(ifindex, name, d);
  }
  return dev;
}

describe("the poll window after traffic", () => {
  it("takes a frame that comes within the window without a readiness wake-up, then stops polling", async () => {
    const dev = start(80_000); // 80 ms: long enough to be sure on a busy machine
    dev.queue.push(frame());
    dev.wake();
    expect(dev.taken).toBe(1);
    await sleep(20);
    dev.queue.push(frame()); // no wake(): only the poll loop can find it
    await sleep(30);
    expect(dev.taken).toBe(2);
    await sleep(250); // the window has passed since the last frame
    const calls = dev.recvCalls;
    await sleep(60);
    expect(dev.recvCalls).toBe(calls); // asleep: no more polling
    dev.queue.push(frame());
    await sleep(30);
    expect(dev.taken).toBe(2); // nobody looks until the device is readable again…
    dev.wake();
    expect(dev.taken).toBe(3); // …and then at once
  });

  it("keeps taking frames that keep coming, and the window runs from the last of them", async () => {
    const dev = start(60_000);
    dev.queue.push(frame());
    dev.wake();
    for (let i = 0; i < 5; i++) {
      await sleep(40); // each frame within the window of the one before; the first window ends at ~60 ms
      dev.queue.push(frame());
    }
    await sleep(40);
    expect(dev.taken).toBe(6); // found by polling alone, 200 ms after the only wake-up
    await sleep(200);
    const calls = dev.recvCalls;
    await sleep(60);
    expect(dev.recvCalls).toBe(calls);
  });

  it("pauses every port's readiness watch while it polls, and resumes them when the window closes", async () => {
    const out = new QueueDevice();
    const dev = start(60_000, out);
    dev.queue.push(frame());
    dev.wake();
    expect([dev.paused, out.paused]).toEqual([true, true]); // polling from now on: both ports paused
    await sleep(20);
    dev.queue.push(frame());
    dev.wake(); // paused: no callback, the poll loop takes it
    await sleep(20);
    expect(dev.taken).toBe(2);
    await sleep(250); // the window has passed
    expect([dev.pauses, out.pauses]).toEqual([[true, false], [true, false]]);
    dev.queue.push(frame());
    dev.wake();
    expect(dev.taken).toBe(3); // awake again on readiness
  });

  it("reads the clock about every 25 µs of polling, whatever a pass costs", () => {
    expect(adaptPasses(4, 0.001)).toBe(8); // 1 µs for 4 passes: read less often
    expect(adaptPasses(256, 0.001)).toBe(256); // at most 256 passes between reads
    expect(adaptPasses(64, 0.06)).toBe(32); // 60 µs: read more often
    expect(adaptPasses(1, 0.06)).toBe(1);
    expect(adaptPasses(16, 0.025)).toBe(16); // on target
    let passes = 4;
    for (let i = 0; i < 20; i++) passes = adaptPasses(passes, passes * 0.0002); // 0.2 µs a pass
    expect(passes * 0.0002).toBeGreaterThanOrEqual(0.0125);
    expect(passes * 0.0002).toBeLessThanOrEqual(0.05);
  });

  it("with --poll-window 0 takes every frame a device's reader already holds before it sleeps (a tap's multishot read)", async () => {
    // A reader that took the frames off its device: one per receive, and no wake-up for the rest.
    class ReadAheadDevice extends QueueDevice {
      override recv(buf: ArrayBuffer | ArrayBufferView, offset: number, slot: number, max: number, lens: Int32Array): number {
        return super.recv(buf, offset, slot, Math.min(max, 1), lens);
      }
      buffered(): boolean {
        return this.queue.length > 0;
      }
    }
    const dev = start(0, undefined, new ReadAheadDevice());
    dev.queue.push(frame(), frame(), frame());
    dev.wake();
    expect(dev.taken).toBe(3);
    expect(router!.dp.stats().find((p) => p.name === "p1")!.rxBatches).toEqual([3, 0, 0, 0, 0, 0, 0, 0, 0]); // three batches of one frame
  });

  it("counts each batch in its size class: 1, 2-3, 4-7, … 128-255, 256+", () => {
    const dev = start(0);
    for (const n of [1, 3, 4, 255, 256]) {
      for (let i = 0; i < n; i++) dev.queue.push(frame());
      dev.wake();
    }
    expect(router!.dp.stats().find((p) => p.name === "p1")!.rxBatches).toEqual([1, 1, 1, 0, 0, 0, 0, 1, 1]);
  });

  it("with --poll-window 0 sleeps as soon as the port is empty", async () => {
    const dev = start(0);
    dev.queue.push(frame());
    dev.wake();
    const calls = dev.recvCalls;
    dev.queue.push(frame());
    await sleep(40);
    expect(dev.taken).toBe(1);
    expect(dev.recvCalls).toBe(calls);
  });
});

describe("the receive loop after the core's memory grew", () => {
  it("takes and sends frames through the grown memory (the old buffer is detached, the views are made again)", () => {
    const out = new QueueDevice();
    const dev = start(0, out);
    const core = router!.dp.core;
    for (let round = 0; round < 3; round++) {
      if (round > 0) {
        const before = core.x.memory.buffer;
        core.x.memory.grow(16);
        expect(before.byteLength).toBe(0); // detached: what the data plane's cached buffer shows
      }
      dev.queue.push(frame(), frame());
      dev.wake();
      expect(out.sent.length).toBe(2 * (round + 1));
      for (const f of out.sent.slice(-2)) {
        expect([...f.subarray(0, 6)]).toEqual([2, 0, 0, 0, 2, 2]); // to the next hop's MAC
        expect(f[14 + 8]).toBe(63); // TTL − 1
      }
    }
  });

  it.skipIf(!canRunLive("the poll window over real AF_PACKET ports"))("AF_PACKET ports whose arrays were bound into them get the new memory bound, and go on forwarding", async () => {
    // p1 and p2 on the router ends of two veths in a wr- namespace; the test sends into a0 and reads b0.
    const ns = `wr-pw-${process.pid}`;
    const test: FramePort[] = [];
    createNetns(ns);
    try {
      spawnSync("ip", ["netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
      for (const args of [["link", "add", "wr-pwa0", "type", "veth", "peer", "name", "wr-pwa1"], ["link", "add", "wr-pwb0", "type", "veth", "peer", "name", "wr-pwb1"], ...["wr-pwa0", "wr-pwa1", "wr-pwb0", "wr-pwb1"].map((d) => ["link", "set", d, "up"])]) {
        const r = ipIn(ns, args);
        if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.err}`);
      }
      router = Router.start(parseConfig(CONFIG, "poll.conf"), { pollWindowUs: 0, logger: new Logger("text", () => {}) });
      for (const [name, dev] of [["p1", "wr-pwa1"], ["p2", "wr-pwb1"]] as const) {
        const ifindex = router.ports.get(name)!.ifindex;
        router.dp.removePort(ifindex);
        router.dp.addPort(ifindex, name, FramePort.packet(dev, ns)); // no offload, as the pcap links the core was told of
      }
      const into = FramePort.packet("wr-pwa0", ns);
      const out = FramePort.packet("wr-pwb0", ns);
      test.push(into, out);
      const f = frame();
      const core = router.dp.core;
      const got: Uint8Array[] = [];
      const buf = new Uint8Array(2048 * 8);
      const lens = new Int32Array(8);
      for (let round = 0; round < 3; round++) {
        if (round > 0) core.x.memory.grow(16); // the ports' bound arrays now point into a detached buffer
        const src = new Uint8Array(2048 * 4);
        for (let k = 0; k < 4; k++) src.set(f, k * 2048);
        expect(into.send(src, 0, 2048, new Int32Array(4).fill(f.length), 4)).toBe(4);
        const t0 = Date.now();
        while (got.length < 4 * (round + 1) && Date.now() - t0 < 3000) {
          await sleep(5); // the router's readiness callbacks run meanwhile
          const n = out.recv(buf, 0, 2048, 8, lens);
          for (let i = 0; i < n; i++) got.push(buf.slice(i * 2048, i * 2048 + lens[i]!));
        }
        expect(got.length).toBe(4 * (round + 1));
      }
      for (const g of got) {
        expect([...g.subarray(0, 6)]).toEqual([2, 0, 0, 0, 2, 2]); // to the next hop's MAC
        expect(g[14 + 8]).toBe(63); // TTL − 1
      }
      expect(router.dp.stats().every((p) => !p.failed)).toBe(true);
    } finally {
      for (const p of test) p.close();
      router?.stop();
      router = undefined;
      deleteNetns(ns);
    }
  });
});
