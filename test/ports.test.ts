// The port layer (wrio addon) with a real kernel on the other side, for both kinds of port: a TAP
// attached in the root namespace whose kernel side then moves into a wr- namespace, and an AF_PACKET
// socket on one end of a veth pair inside a wr- namespace. In each, the kernel's ARP request arrives
// through recv (event-driven), our ARP reply goes back through send, the kernel learns the neighbour
// and releases the UDP datagram it held for it — which arrives too. Root only (CI is root).
import { describe, it, expect, afterAll } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FramePort, CSUM_NOT_READY, type IoArea } from "../host/io/port.ts";
import { frameSlotBytes } from "../host/router/devices.ts";
import { GSO_FRAME_BYTES } from "../host/router/dataplane.ts";
import { canRunLive, createNetns, deleteNetns, ipIn, ip } from "./lib/netns.ts";

const live = canRunLive("ports: TAP and AF_PACKET", ["tcpdump"]);
const NS = `wr-tap-${process.pid}`;
const NS2 = `wr-afp-${process.pid}`;
const NS3 = `wr-bnd-${process.pid}`;
const TAP = `wr-t${process.pid % 100000}`;
const OUR_MAC = [0x02, 0, 0, 0, 0, 0x01];
const ports: FramePort[] = [];

afterAll(() => {
  for (const p of ports) p.close();
  deleteNetns(NS);
  deleteNetns(NS2);
  deleteNetns(NS3);
});

/** The ARP + UDP exchange through `port` with the kernel at 10.199.0.2 (MAC 02:…:02) in namespace ns. */
async function exchange(port: FramePort, ns: string): Promise<number[]> {
  const SLOT = 2048, MAX = 32;
  const buf = new Uint8Array(SLOT * MAX);
  const lens = new Int32Array(MAX);
  const flags = new Uint8Array(MAX);
  const frames: Uint8Array[] = [];
  const frameFlags: number[] = [];
  let wakeups = 0;
  port.onReadable(() => {
    wakeups++;
    const n = port.recv(buf, 0, SLOT, MAX, lens, flags);
    for (let i = 0; i < n; i++) {
      frames.push(buf.slice(i * SLOT, i * SLOT + lens[i]!));
      frameFlags.push(flags[i]!);
    }
  });
  // One UDP datagram to 10.199.0.1 (us): the kernel must first ask who has it.
  const send = spawnSync("ip", ["netns", "exec", ns, "bash", "-c", "echo wasmroute > /dev/udp/10.199.0.1/9"], { timeout: 5000 });
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
  expect(port.send(reply, 0, SLOT, new Int32Array([42]), 1)).toBe(1);
  // The kernel learns us and releases the datagram it held: IPv4/UDP to 10.199.0.1:9, to our MAC.
  const udp = await waitFor(() => frames.find((f) => etherType(f) === 0x0800 && f[23] === 17), 3000);
  expect([...udp.slice(0, 6)]).toEqual(OUR_MAC);
  expect([...udp.slice(30, 34)]).toEqual([10, 199, 0, 1]);
  expect((udp[36]! << 8) | udp[37]!).toBe(9);
  expect(Buffer.from(udp.slice(42, 52)).toString()).toBe("wasmroute\n");
  expect(ipIn(ns, ["neigh", "show", "10.199.0.1"]).out).toMatch(/lladdr 02:00:00:00:00:01/);
  expect(wakeups).toBeGreaterThanOrEqual(1);
  // our own reply never came back to us (a packet port ignores its outgoing frames)
  expect(frames.some((f) => etherType(f) === 0x0806 && f[21] === 2)).toBe(false);
  port.stopWatching();
  return [frameFlags[frames.indexOf(udp)]!];
}

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

describe.skipIf(!live)("ports: TAP and AF_PACKET (wrio addon)", () => {
  it("TAP: carries frames both ways after the kernel side moved to another namespace", async () => {
    const tap = FramePort.tap(TAP); // attach first …
    ports.push(tap);
    createNetns(NS);
    ip("link", "set", TAP, "netns", NS); // … then move
    for (const args of [["link", "set", TAP, "address", "02:00:00:00:00:02"], ["addr", "add", "10.199.0.2/24", "dev", TAP], ["link", "set", TAP, "up"]]) {
      const r = ipIn(NS, args);
      if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.err}`);
    }
    expect(await exchange(tap, NS)).toEqual([0]); // a tap hands over finished frames
  });

  it("TAP: a batch goes out whole and in order through io_uring, and through write(2) when switched off", async () => {
    const tap = ports.find((p) => p.kind === "tap")!; // the previous test's tap, kernel side 10.199.0.2 in NS
    const SLOT = 128, N = 200;
    const rxPackets = () => Number(/RX:.*\n\s*\d+\s+(\d+)/.exec(ipIn(NS, ["-s", "link", "show", TAP]).out)![1]);
    /** N UDP datagrams to 10.199.0.2:9 with their index as the IP id; they reach the kernel's stack. */
    const batch = () => {
      const buf = new Uint8Array(SLOT * N);
      const lens = new Int32Array(N).fill(60);
      for (let i = 0; i < N; i++) {
        const f = buf.subarray(i * SLOT);
        f.set([2, 0, 0, 0, 0, 2, ...OUR_MAC, 8, 0]);
        f.set([0x45, 0, 0, 46, i >> 8, i & 255, 0, 0, 64, 17, 0, 0, 10, 199, 0, 1, 10, 199, 0, 2], 14);
        let sum = 0;
        for (let k = 14; k < 34; k += 2) sum += (f[k]! << 8) | f[k + 1]!;
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
        f[24] = (~sum >> 8) & 255;
        f[25] = ~sum & 255;
        f.set([0x30, 0x39, 0, 9, 0, 26, 0, 0], 34); // UDP 12345 → 9, no checksum
      }
      return { buf, lens };
    };
    const w = (await import("../host/io/wrio.ts")).wrio();
    for (const viaUring of [true, false]) {
      w.uring(viaUring);
      const before = rxPackets();
      const { buf, lens } = batch();
      expect(tap.send(buf, 0, SLOT, lens, N)).toBe(N);
      expect(w.uring()).toBe(viaUring); // this kernel has io_uring (kernel.io_uring_disabled = 0)
      expect(rxPackets() - before).toBe(N);
    }
    w.uring(true);
    // In order: a capture of one more batch shows the IP ids 0 … N−1 in sequence.
    const cap = spawn("ip", ["netns", "exec", NS, "tcpdump", "-n", "-l", "-v", "-i", TAP, "-c", String(N), "udp and dst port 9"], { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    cap.stdout!.on("data", (d: Buffer) => (text += d.toString()));
    let listening = "";
    cap.stderr!.on("data", (d: Buffer) => (listening += d.toString()));
    await waitFor(() => (listening.includes("listening") ? true : undefined), 5000);
    const done = new Promise((r) => cap.once("exit", r));
    const { buf, lens } = batch();
    expect(tap.send(buf, 0, SLOT, lens, N)).toBe(N);
    const timer = setTimeout(() => cap.kill(), 5000);
    await done;
    clearTimeout(timer);
    const ids = [...text.matchAll(/\bid (\d+)\b/g)].map((m) => Number(m[1]));
    expect(ids).toEqual(Array.from({ length: N }, (_, i) => i));
  });

  it("TAP: a burst comes in whole and in order through the multishot read, and through read(2) when switched off; a frame longer than its slot is cut and counted", async () => {
    const first = ports.find((p) => p.kind === "tap")!; // the first test's tap: kernel side 10.199.0.2 in NS
    // a second tap read with read(2): WASMROUTE_NO_MULTISHOT is read when a tap is opened
    const TAP2 = `wr-r${process.pid % 100000}`;
    process.env.WASMROUTE_NO_MULTISHOT = "1";
    let second: FramePort;
    try {
      second = FramePort.tap(TAP2);
    } finally {
      delete process.env.WASMROUTE_NO_MULTISHOT;
    }
    ports.push(second);
    ip("link", "set", TAP2, "netns", NS);
    for (const args of [["link", "set", TAP2, "address", "02:00:00:00:00:04"], ["addr", "add", "10.198.0.2/24", "dev", TAP2], ["link", "set", TAP2, "up"]]) {
      const r = ipIn(NS, args);
      if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.err}`);
    }
    expect([first.multishot, second.multishot]).toEqual([true, false]); // this kernel (6.18) has IORING_OP_READ_MULTISHOT
    const N = 300, SLOT = 2048, MAX = 64;
    for (const [port, dev, peer] of [[first, TAP, "10.199.0.1"], [second, TAP2, "10.198.0.1"]] as const) {
      // the kernel side sends N numbered datagrams to a static neighbour behind the tap, then one of 3,000 bytes
      for (const args of [["link", "set", dev, "mtu", "9000"], ["neigh", "replace", peer, "lladdr", "02:00:00:00:00:01", "dev", dev, "nud", "permanent"]]) {
        const r = ipIn(NS, args);
        if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.err}`);
      }
      const cut0 = port.losses().cut;
      const sender =
        "const d=require('dgram').createSocket('udp4');const n=+process.argv[2];" +
        "for(let i=0;i<n;i++){const b=Buffer.alloc(4);b.writeUInt32BE(i);d.send(b,9,process.argv[1]);}" +
        "d.send(Buffer.alloc(3000),9,process.argv[1],()=>d.close());";
      const r = spawnSync("ip", ["netns", "exec", NS, process.execPath, "-e", sender, peer, String(N)], { timeout: 10_000 });
      expect(r.status, String(r.stderr)).toBe(0);
      const buf = new Uint8Array(SLOT * MAX);
      const lens = new Int32Array(MAX);
      const seqs: number[] = [];
      const long: number[] = [];
      const t0 = Date.now();
      let first = true;
      while (seqs.length + long.length < N + 1 && Date.now() - t0 < 5000) {
        const n = port.recv(buf, 0, SLOT, MAX, lens);
        if (first && n > 0) {
          // the multishot read took more than this batch: the rest waits in its completions, where the tap's
          // readiness does not show it (the data plane asks, with no poll window to come back)
          expect(port.buffered(), dev).toBe(port.multishot);
          first = false;
        }
        for (let i = 0; i < n; i++) {
          const f = buf.subarray(i * SLOT, i * SLOT + lens[i]!);
          if (f[12] !== 8 || f[13] !== 0 || f[23] !== 17) continue; // IPv4 UDP only
          if (lens[i] === SLOT) long.push(lens[i]!);
          else seqs.push(new DataView(f.buffer, f.byteOffset + 42, 4).getUint32(0));
        }
        if (n === 0) await new Promise((res) => setTimeout(res, 5));
      }
      expect(seqs, dev).toEqual(Array.from({ length: N }, (_, i) => i));
      expect(long, dev).toEqual([SLOT]); // 3,042 bytes on the wire, handed on cut at the slot …
      expect(port.losses().cut - cut0, dev).toBe(1); // … and counted
    }
    // Closing a tap whose read took frames ahead of the batch: the read is cancelled before its buffers go.
    const again = spawnSync("ip", ["netns", "exec", NS, process.execPath, "-e", "const d=require('dgram').createSocket('udp4');for(let i=0;i<200;i++)d.send(Buffer.alloc(4),9,'10.199.0.1');setTimeout(()=>d.close(),100)"], { timeout: 10_000 });
    expect(again.status).toBe(0);
    expect(first.recv(new Uint8Array(SLOT * 8), 0, SLOT, 8, new Int32Array(8))).toBe(8);
    expect(first.buffered()).toBe(true);
    first.close();
    ports.splice(ports.indexOf(first), 1);
  });

  it("AF_PACKET: carries frames both ways on one end of a veth inside a namespace", async () => {
    createNetns(NS2);
    for (const args of [
      ["link", "add", "wr-p0", "type", "veth", "peer", "name", "wr-p1"],
      ["link", "set", "wr-p0", "address", "02:00:00:00:00:02"],
      ["addr", "add", "10.199.0.2/24", "dev", "wr-p0"],
      ["link", "set", "wr-p0", "up"],
      ["link", "set", "wr-p1", "up"],
    ]) {
      const r = ipIn(NS2, args);
      if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.err}`);
    }
    const port = FramePort.packet("wr-p1", NS2);
    ports.push(port);
    expect(port.kind).toBe("packet");
    expect(port.rxRing).toBe(true); // frames come through a PACKET_RX_RING
    // veth keeps TX checksum offload on: the kernel says the UDP checksum was left unfinished
    const [udpFlags] = await exchange(port, NS2);
    expect(udpFlags! & CSUM_NOT_READY).toBe(CSUM_NOT_READY);
  });

  it("AF_PACKET: a paused watch stays quiet while a frame waits, and reports it as soon as it is resumed", async () => {
    const rx = FramePort.packet("wr-p1", NS2);
    const tx = FramePort.packet("wr-p0", NS2);
    try {
      const SLOT = 2048;
      const buf = new Uint8Array(SLOT * 64), lens = new Int32Array(64);
      let calls = 0;
      let ours = 0;
      rx.onReadable(() => {
        calls++;
        for (let n; (n = rx.recv(buf, 0, SLOT, 64, lens)) > 0; ) for (let k = 0; k < n; k++) if (buf[k * SLOT + 12] === 0x88 && buf[k * SLOT + 13] === 0xb6) ours++;
      });
      rx.pauseWatching(true); // out of the epoll set: the kernel's wake-up for each frame finds nobody
      const frame = new Uint8Array(60);
      frame.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 2, 0x88, 0xb6]);
      expect(tx.send(frame, 0, 60, new Int32Array([60]), 1)).toBe(1);
      await new Promise((r) => setTimeout(r, 150));
      expect(calls).toBe(0);
      rx.pauseWatching(false); // back in the set, level-triggered: the waiting frame reports at once
      await waitFor(() => (ours > 0 ? true : undefined), 2000);
      expect(calls).toBeGreaterThanOrEqual(1);
      expect(ours).toBe(1);
    } finally {
      rx.close();
      tx.close();
    }
  });

  /**
   * N frames of lengths 60 … 1514 with their index in bytes 14–17 and a pattern after it, sent from a
   * packet socket on the veth's other end in batches of `per`, read back through `rx` between batches.
   */
  async function burst(rx: FramePort, N: number, per: number): Promise<void> {
    const tx = FramePort.packet("wr-p0", NS2);
    try {
      const SLOT = 2048;
      const out = new Uint8Array(SLOT * per), outLens = new Int32Array(per);
      const inBuf = new Uint8Array(SLOT * 256), inLens = new Int32Array(256);
      const lenOf = (i: number) => 60 + ((i * 97) % 1455);
      const got: number[] = [];
      const take = () => {
        for (let n; (n = rx.recv(inBuf, 0, SLOT, 256, inLens)) > 0; ) {
          for (let k = 0; k < n; k++) {
            const f = inBuf.subarray(k * SLOT, k * SLOT + inLens[k]!);
            if (f[12] !== 0x88 || f[13] !== 0xb5) continue; // not ours (local experimental ethertype)
            const i = (f[14]! << 24) | (f[15]! << 16) | (f[16]! << 8) | f[17]!;
            expect(f.length).toBe(lenOf(i));
            expect(f[f.length - 1]).toBe((i + f.length - 1) & 255);
            got.push(i);
          }
        }
      };
      for (let start = 0; start < N; start += per) {
        const n = Math.min(per, N - start);
        for (let k = 0; k < n; k++) {
          const i = start + k, len = lenOf(i), f = out.subarray(k * SLOT, k * SLOT + len);
          f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 2, 0x88, 0xb5, i >>> 24, (i >> 16) & 255, (i >> 8) & 255, i & 255]);
          for (let b = 18; b < len; b++) f[b] = (i + b) & 255;
          outLens[k] = len;
        }
        let sent = 0;
        while (sent < n) sent += tx.send(out.subarray(sent * SLOT), 0, SLOT, outLens.subarray(sent), n - sent);
        await new Promise((r) => setTimeout(r, 1));
        take();
      }
      for (let tries = 0; got.length < N && tries < 100; tries++) {
        await new Promise((r) => setTimeout(r, 10));
        take();
      }
      expect(got).toEqual(Array.from({ length: N }, (_, i) => i)); // all, in order, each whole
    } finally {
      tx.close();
    }
  }

  it("AF_PACKET: a ring port takes bursts whole, in order, round the ring several times", async () => {
    const port = ports.find((p) => p.kind === "packet")!; // the previous test's port on wr-p1
    await burst(port, 5000, 200); // the ring holds 1,920 frames: 5,000 go round it more than twice
  });

  it("AF_PACKET: WASMROUTE_NO_RING=1 leaves a port on recvmmsg, which carries the same frames", async () => {
    process.env.WASMROUTE_NO_RING = "1";
    let port: FramePort;
    try {
      port = FramePort.packet("wr-p1", NS2);
    } finally {
      delete process.env.WASMROUTE_NO_RING;
    }
    try {
      expect(port.rxRing).toBe(false);
      await burst(port, 600, 100);
    } finally {
      port.close();
    }
  });

  it("AF_PACKET: a port of a 9000-byte MTU link takes a jumbo frame whole through its ring", async () => {
    for (const dev of ["wr-p0", "wr-p1"]) expect(ipIn(NS2, ["link", "set", dev, "mtu", "9000"]).status).toBe(0);
    const slot = frameSlotBytes(9000);
    const rx = FramePort.packet("wr-p1", NS2, slot);
    const tx = FramePort.packet("wr-p0", NS2);
    try {
      expect(rx.rxRing).toBe(true);
      const len = 9014;
      const frame = new Uint8Array(len);
      frame.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 2, 0x88, 0xb5]);
      for (let b = 14; b < len; b++) frame[b] = (b * 7) & 255;
      expect(tx.send(frame, 0, len, new Int32Array([len]), 1)).toBe(1);
      const buf = new Uint8Array(slot * 8), lens = new Int32Array(8);
      let got: Uint8Array | undefined;
      for (let tries = 0; !got && tries < 100; tries++) {
        const n = rx.recv(buf, 0, slot, 8, lens);
        for (let k = 0; k < n; k++) if (buf[k * slot + 12] === 0x88 && buf[k * slot + 13] === 0xb5) got = buf.slice(k * slot, k * slot + lens[k]!);
        if (!got) await new Promise((r) => setTimeout(r, 10));
      }
      expect(got?.length).toBe(len); // a 2048-byte ring slot would have cut it at about 2 KB
      expect(Buffer.from(got!).equals(Buffer.from(frame))).toBe(true);
    } finally {
      rx.close();
      tx.close();
      for (const dev of ["wr-p0", "wr-p1"]) ipIn(NS2, ["link", "set", dev, "mtu", "1500"]);
    }
  });

  it.skipIf(!canRunLive("ports: a port opened during a flood", ["trafgen"]))("AF_PACKET: a port opened during a flood on another interface never reads that interface's frames", async () => {
    // trafgen floods wr-p0 → wr-p1 while ports on the namespace's quiet lo are opened and read, on
    // recvmmsg (the socket's queue) and on offload rings (whose COPY slots read that queue). A socket
    // that took frames before its bind (ETH_P_ALL at socket()) would hold some of the flood's.
    expect(ipIn(NS2, ["link", "set", "lo", "up"]).status).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), "wr-afp-"));
    const conf = join(dir, "flood.trafgen");
    writeFileSync(conf, "{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x09, 0x88, 0xb5, fill(0x5a, 46) }\n");
    const flood = spawn("ip", ["netns", "exec", NS2, "timeout", "-s", "INT", "-k", "2", "8", "trafgen", "--no-sock-mem", "-q", "-P", "1", "--dev", "wr-p0", "--conf", conf, "-n", "3000000"], { stdio: "ignore" });
    const foreign: string[] = [];
    try {
      await new Promise((r) => setTimeout(r, 300)); // the flood is running
      const buf = new Uint8Array(1 << 19), lens = new Int32Array(64), flags = new Uint8Array(64), hdrs = new Uint8Array(64 * 12), offs = new Uint32Array(64);
      const sawFlood = (f: Uint8Array) => f[12] === 0x88 && f[13] === 0xb5 && f[11] === 0x09;
      for (let round = 0; round < 60; round++) {
        const ring = round % 2 === 1;
        if (!ring) process.env.WASMROUTE_NO_RING = "1";
        let port: FramePort;
        try {
          port = FramePort.packet("lo", NS2, frameSlotBytes(1500), ring);
        } finally {
          delete process.env.WASMROUTE_NO_RING;
        }
        try {
          expect(port.rxRing).toBe(ring);
          const n = ring ? port.recvPacked(buf, 0, buf.length, GSO_FRAME_BYTES, 64, lens, flags, hdrs, offs) : port.recv(buf, 0, 2048, 64, lens);
          for (let k = 0; k < n; k++) {
            const at = ring ? offs[k]! : k * 2048;
            if (sawFlood(buf.subarray(at, at + lens[k]!))) foreign.push(`round ${round} (${ring ? "offload ring" : "recvmmsg"})`);
          }
        } finally {
          port.close();
        }
      }
    } finally {
      flood.kill("SIGINT");
      await new Promise((r) => (flood.exitCode !== null ? r(null) : flood.once("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    }
    const rx = Number(ipIn(NS2, ["-s", "-j", "link", "show", "wr-p1"]).out.match(/"rx":\{"bytes":\d+,"packets":(\d+)/)?.[1] ?? 0);
    expect(rx).toBeGreaterThan(10_000); // the flood really ran
    expect(foreign).toEqual([]);
  }, 30_000);

  it("AF_PACKET offload: a TCP super-frame sent with its vnet header crosses the veth whole, between its neighbours in order", async () => {
    const rx = FramePort.packet("wr-p1", NS2, frameSlotBytes(1500), true);
    const tx = FramePort.packet("wr-p0", NS2, frameSlotBytes(1500), true);
    try {
      expect(rx.rxRing).toBe(true); // PACKET_VNET_HDR with a ring of MTU-sized slots: the super-frame comes through the socket's queue
      const payload = 20_000;
      const len = 14 + 20 + 20 + payload;
      const f = new Uint8Array(len);
      const ipLen = len - 14;
      f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 2, 0x08, 0x00]);
      const ipHdr = [0x45, 0, ipLen >> 8, ipLen & 255, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 10, 199, 0, 2, 10, 199, 0, 1];
      let sum = 0;
      for (let i = 0; i < 20; i += 2) sum += (ipHdr[i]! << 8) | ipHdr[i + 1]!;
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      ipHdr[10] = (~sum >> 8) & 255;
      ipHdr[11] = ~sum & 255;
      f.set(ipHdr, 14);
      f.set([0x30, 0x39, 0x13, 0x89, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0], 34);
      for (let b = 54; b < len; b++) f[b] = (b * 13) & 255;
      // virtio_net_hdr (little-endian): NEEDS_CSUM, GSO TCPV4, hdr_len 54, gso_size 1448, csum at 34 + 16
      const vnet = new Uint8Array(12 * 3);
      vnet.set([1, 1, 54, 0, 1448 & 255, 1448 >> 8, 34, 0, 16, 0], 12);
      // a marker frame (EtherType 0x88b5, its sequence number at byte 14) before and after the super-frame
      const marker = (seq: number) => Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 2, 0x88, 0xb5, seq, ...new Array(45).fill(0)]);
      const out = new Uint8Array(len + 128);
      out.set(marker(1), 0);
      out.set(f, 64);
      out.set(marker(2), 64 + len);
      expect(tx.sendList(out, new Uint32Array([0, 64, 64 + len]), new Int32Array([60, len, 60]), 0, 3, vnet)).toBe(3);
      const bytes = 1 << 19, buf = new Uint8Array(bytes), lens = new Int32Array(8), flags = new Uint8Array(8), hdrs = new Uint8Array(8 * 12), offs = new Uint32Array(8);
      let got: { frame: Uint8Array; hdr: Uint8Array; flag: number } | undefined;
      const order: string[] = [];
      for (let tries = 0; order.length < 3 && tries < 100; tries++) {
        const n = rx.recvPacked(buf, 0, bytes, GSO_FRAME_BYTES, 8, lens, flags, hdrs, offs);
        for (let k = 0; k < n; k++) {
          const fr = buf.subarray(offs[k]!, offs[k]! + lens[k]!);
          if (fr[12] === 0x88 && fr[13] === 0xb5) order.push(`marker ${fr[14]}`);
          if (fr[12] === 0x08 && fr[23] === 6 && fr[18] === 0x12 && fr[19] === 0x34) {
            got = { frame: fr.slice(), hdr: hdrs.slice(k * 12, k * 12 + 12), flag: flags[k]! };
            order.push("super-frame");
          }
        }
        if (order.length < 3) await new Promise((r) => setTimeout(r, 10));
      }
      expect(order).toEqual(["marker 1", "super-frame", "marker 2"]);
      expect(got?.frame.length).toBe(len); // whole: one 20 KB super-frame, not 14 segments, nor cut at its 2 KB slot
      expect(Buffer.from(got!.frame.subarray(54)).equals(Buffer.from(f.subarray(54)))).toBe(true);
      expect(got!.hdr[1]).toBe(1); // gso_type TCPV4
      expect(got!.hdr[4]! | (got!.hdr[5]! << 8)).toBe(1448); // gso_size
      expect(got!.flag & CSUM_NOT_READY).toBe(CSUM_NOT_READY); // NEEDS_CSUM: the checksum is still partial
    } finally {
      rx.close();
      tx.close();
    }
  });

  it("a bound area: frames go out with sendBound and come in with recvBound, packed and in slots; a grown memory needs a new binding", async () => {
    // Two packet ports on the two ends of a veth in NS3: a plain one (slots) and an offload one (packed, vnet headers).
    createNetns(NS3);
    for (const args of [["link", "add", "wr-ba0", "type", "veth", "peer", "name", "wr-ba1"], ["link", "set", "wr-ba0", "up"], ["link", "set", "wr-ba1", "up"]]) {
      const r = ipIn(NS3, args);
      if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.err}`);
    }
    const plain = FramePort.packet("wr-ba0", NS3);
    const offload = FramePort.packet("wr-ba1", NS3, undefined, true);
    ports.push(plain, offload);
    const mem = new WebAssembly.Memory({ initial: 4 });
    const MAX = 16;
    const area = (buf: ArrayBuffer): IoArea => ({
      buf, rxOffset: 0, rxBytes: 2 * GSO_FRAME_BYTES, slot: 2048, frameMax: GSO_FRAME_BYTES, max: MAX,
      lens: new Int32Array(buf, 140_000, MAX), flags: new Uint8Array(buf, 140_100, MAX), vnet: new Uint8Array(buf, 140_200, MAX * 12), offs: new Uint32Array(buf, 140_400, MAX),
      txOffsets: new Uint32Array(buf, 140_500, MAX), txLens: new Int32Array(buf, 140_600, MAX), txVnet: new Uint8Array(buf, 140_700, MAX * 12),
    });
    // frame k: broadcast, ethertype 0x88b5 (local experimental: no stack takes it), k in its payload, 60 + k bytes
    const send = (from: FramePort, a: IoArea, count: number) => {
      const b = new Uint8Array(a.buf);
      for (let k = 0; k < count; k++) {
        const at = 150_000 + k * 128;
        b.fill(0, at, at + 128);
        b.set([255, 255, 255, 255, 255, 255, 2, 0, 0, 0, 0xba, 1, 0x88, 0xb5, k], at);
        a.txOffsets[k] = at;
        a.txLens[k] = 60 + k;
      }
      a.txVnet.fill(0); // no offload asked: a plain frame
      expect(from.sendBound(0, count)).toBe(count);
    };
    const take = async (to: FramePort, a: IoArea, count: number, packed: boolean) => {
      const got: number[][] = [];
      const t0 = Date.now();
      while (got.length < count && Date.now() - t0 < 3000) {
        const n = to.recvBound();
        const b = new Uint8Array(a.buf);
        for (let i = 0; i < n; i++) {
          const at = packed ? a.offs[i]! : i * a.slot;
          expect(packed ? at % 64 : 0).toBe(0);
          if (b[at + 12] === 0x88 && b[at + 13] === 0xb5) got.push([a.lens[i]!, b[at + 12]!, b[at + 13]!, b[at + 14]!]); // not the kernel's IPv6 chatter
        }
        if (n === 0) await new Promise((r) => setTimeout(r, 5));
      }
      expect(got).toEqual(Array.from({ length: count }, (_, k) => [60 + k, 0x88, 0xb5, k]));
    };
    let a = area(mem.buffer);
    plain.bindArea(a);
    offload.bindArea(a);
    send(plain, a, 10);
    await take(offload, a, 10, true);
    send(offload, a, 7);
    await take(plain, a, 7, false);
    // the memory grows: the old buffer is detached, and the old binding refuses to touch it
    mem.grow(1);
    expect(() => plain.recvBound()).toThrow(/grew or moved since areaBind; bind it again/);
    expect(() => offload.sendBound(0, 1)).toThrow(/bind it again/);
    a = area(mem.buffer);
    plain.bindArea(a);
    offload.bindArea(a);
    send(plain, a, MAX);
    await take(offload, a, MAX, true);
    // a list entry past the list, or an array that is not a view into buf: one clear error each
    expect(() => plain.sendBound(MAX - 1, 2)).toThrow(/entries out of the list/);
    expect(() => plain.bindArea({ ...area(mem.buffer), lens: new Int32Array(MAX) })).toThrow(/argument 7 must be a typed array inside buf/);
    expect(() => plain.bindArea({ ...area(mem.buffer), max: 100_000 })).toThrow(/out of bounds/);
  });

  it("refuses a bad name and an out-of-bounds batch with clear errors", async () => {
    expect(() => FramePort.tap("a-name-much-too-long")).toThrow(/1\.\.15 characters/);
    expect(() => FramePort.packet("wr-none0", NS2)).toThrow(/wr-none0/);
    expect(() => FramePort.packet("lo", "wr-no-such-ns")).toThrow(/\/run\/netns\/wr-no-such-ns/);
    const t = FramePort.tap(`wr-u${process.pid % 100000}`);
    try {
      expect(() => t.recv(new Uint8Array(100), 0, 2048, 1, new Int32Array(1))).toThrow(/out of bounds/);
      expect(() => t.send(new Uint8Array(100), 0, 50, new Int32Array([60, 0]), 2)).toThrow(/exceeds its slot/);
      // a negative offset, a slot of 0, a length list shorter than the batch, more slots than the buffer holds
      expect(() => t.recv(new Uint8Array(4096), -1, 2048, 1, new Int32Array(1))).toThrow(/out of bounds/);
      expect(() => t.recv(new Uint8Array(4096), 0, 0, 1, new Int32Array(1))).toThrow(/out of bounds/);
      expect(() => t.send(new Uint8Array(100), 0, 50, new Int32Array([10]), 2)).toThrow(/out of bounds/);
      expect(() => t.send(new Uint8Array(100), 1, 50, new Int32Array([10, 10]), 2)).toThrow(/out of bounds/);
      // optional arrays too short for the batch: per-frame flags, per-frame vnet headers
      expect(() => t.recv(new Uint8Array(4096), 0, 2048, 2, new Int32Array(2), new Uint8Array(1))).toThrow(/flags must hold max bytes/);
      const w = (await import("../host/io/wrio.ts")).wrio(); // a plain tap's sendList leaves vnet out: call the addon
      expect(() => w.sendList(t.fd, new Uint8Array(100), new Uint32Array([0]), new Int32Array([60]), 0, 1, new Uint8Array(11))).toThrow(/vnet must hold/);
      expect(t.recv(new Uint8Array(2048), 0, 2048, 1, new Int32Array(1))).toBe(0); // nothing waiting: EAGAIN, not an error
    } finally {
      t.close();
    }
  });
});
