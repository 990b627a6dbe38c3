/**
 * The host side of the data plane: devices bound to the core's port ifindexes, the receive loop (one
 * batch per readable port, one `dp_input` call per batch), the transmit list sent back out grouped by
 * port (one `sendList` per port), the core's timers (`cache_tick`, `dp_tick`: run when due, as
 * tick-schedule.ts decides), and pcap replay and capture. Frames move between the devices and the
 * core's linear memory without a JS copy and without a per-frame JS→WASM call (docs/dataplane.md has
 * the memory layout and the verdicts). An offload TAP (device.offload) is read into the same receive
 * buffer packed (frame after frame, while a 64 KiB super-frame still fits), each frame with its vnet
 * header, and written with the vnet header the core listed for each frame.
 */
import type { Core } from "../core/load.ts";
import type { PcapWriter } from "../io/pcap.ts";
import type { IoArea, PortLosses } from "../io/port.ts";
import { TickSchedule } from "./tick-schedule.ts";

/** What the data plane needs of a device: FramePort (TAP, AF_PACKET) and PcapDevice provide it. */
export interface FrameDevice {
  /** Frames come and go with a 12-byte vnet header each (an offload TAP or packet port); received packed, through recvBound. */
  readonly offload?: boolean;
  /** Frames into the receive slots, for a device that takes no bound area (recvBound reads a FramePort). */
  recv(buf: ArrayBuffer | ArrayBufferView, offset: number, slot: number, max: number, lens: Int32Array, flags?: Uint8Array): number;
  sendList(buf: ArrayBuffer | ArrayBufferView, offsets: Uint32Array, lens: Int32Array, start: number, n: number, vnet?: Uint8Array): number;
  /** Takes the receive area and transmit list once (again after the memory grew); then recvBound and sendBound pass no arrays. */
  bindArea?(area: IoArea): void;
  recvBound?(): number;
  sendBound?(start: number, n: number): number;
  onReadable(callback: () => void): void;
  /** Pauses or resumes the readiness callback (the poll loop pauses every port's while it polls them). */
  pauseWatching?(paused: boolean): void;
  /** Frames the device's reader already took wait to be received, where its readiness does not show them. */
  buffered?(): boolean;
  stopWatching(): void;
  close(): void;
  /** What the device lost on the way in (none: it loses nothing, as a pcap port). */
  losses?(): PortLosses;
}

export interface DataPlaneExports {
  dp_rx_init(n: number, bytes: number): number;
  dp_tx_init(maxFrames: number, bytes: number): number;
  dp_input(iif: number, n: number, now: number): number;
  dp_tick(now: number): number;
  core_next_wake(now: number): number;
  core_wake_take(now: number): number;
  dp_tx_result(): number;
  dp_tx_vnet(): number;
  dp_port_set(ifindex: number, macPtr: number, mtu: number, flags: number): number;
  dp_addr_add(ifindex: number, addr: number, plen: number): number;
  dp_addr_clear(): void;
  dp_set_param(id: number, v: number): number;
  dp_snmp(): number;
  dp_snmp_count(): number;
  dp_port_drops(): number;
  dp_rx_counts(): number;
  cache_tick(now: number): void;
}

export interface PortStats {
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  /** Frames the device refused or had no room for. */
  txErrors: number;
  /** Frames received to a multicast MAC (broadcast not included), as the kernel's `multicast` counts them. */
  rxMulticast: number;
}

/** The size classes of PortReport.rxBatches, by frames per batch: class k holds 2^k … 2^(k+1) − 1 frames, the last 256 and up. */
export const RX_BATCH_CLASSES = ["1", "2-3", "4-7", "8-15", "16-31", "32-63", "64-127", "128-255", "256+"] as const;

/** A port's counters as DataPlane.stats reports them (what `ip -s link` and the metrics print). */
export interface PortReport {
  name: string;
  ifindex: number;
  stats: PortStats;
  /** Batches handed to the core, counted by size class (RX_BATCH_CLASSES): how well reads were batched. */
  rxBatches: number[];
  losses: PortLosses;
  /** The device failed: the port is no longer read or written. */
  failed: boolean;
}

interface Port {
  ifindex: number;
  name: string;
  device: FrameDevice;
  capture?: PcapWriter;
  replay: Uint8Array[];
  stats: PortStats;
  /** Batches by size class (RX_BATCH_CLASSES). */
  rxBatches: Float64Array;
  failed: boolean;
}

export interface DataPlaneOptions {
  /** Frames per receive batch (default 256). */
  slots?: number;
  /** Bytes per receive slot: the largest frame accepted (default 2048: MTU 1500 + headers, rounded). */
  slotBytes?: number;
  /** The clock, in ms (default: performance.now()). */
  clock?: () => number;
  /** Receive by polling in a loop instead of waiting for readiness (benchmarks). */
  busyPoll?: boolean;
  /**
   * After a wake-up that found frames, keep polling the ports for this many µs before going back to
   * sleep in epoll (like net.core.busy_poll, but only while traffic flows). 0: sleep at once.
   */
  pollWindowUs?: number;
  /** Told once when a port's device fails (the port is then left alone). */
  onPortError?: (port: string, message: string) => void;
}

/** The room a packed read of an offload port needs: one GSO super-frame (assembly/dp/forward.ts GSO_FRAME_BYTES). */
export const GSO_FRAME_BYTES = 65600;
/** Bytes of one frame's vnet header slot (virtio_net_hdr, 10 bytes, padded). */
export const VNET_STRIDE = 12;

/** A frame the core sent: its output port, its bytes, the vnet header it left with (all zero: none). */
export interface SentFrame {
  oif: number;
  frame: Uint8Array;
  vnet: Uint8Array;
}

/**
 * Default poll window after traffic, µs: the kernel's suggested net.core.busy_poll for a few sockets.
 * Halves ping RTT under a steady load; idle costs nothing (BENCHMARKS.md, "Latency").
 */
export const DEFAULT_POLL_WINDOW_US = 50;
/** Polling passes between two looks at the clock at start; adapted after (adaptPasses). */
const EMPTY_PASSES_PER_CLOCK_READ = 4;
/** The longest one loop turn polls before the event loop gets a turn, ms (each turn costs an Immediate). */
const POLL_TURN_MS = 0.5;
/** How often the poll loop wants to read the clock, ms (half the default window). */
const CLOCK_READ_MS = 0.025;
/** Bounds of the adapted passes between clock reads. */
const MIN_PASSES_PER_CLOCK_READ = 1;
const MAX_PASSES_PER_CLOCK_READ = 256;

/** Passes per clock read for the next interval, from this interval's length (ms): halved or doubled towards CLOCK_READ_MS. */
export function adaptPasses(passes: number, elapsedMs: number): number {
  if (elapsedMs > 2 * CLOCK_READ_MS) return Math.max(MIN_PASSES_PER_CLOCK_READ, passes >> 1);
  if (elapsedMs < CLOCK_READ_MS / 2) return Math.min(MAX_PASSES_PER_CLOCK_READ, passes << 1);
  return passes;
}

/** Whether the frame at a has the broadcast destination MAC. */
export class DataPlane {
  readonly core: Core;
  readonly x: DataPlaneExports;
  readonly slots: number;
  readonly slotBytes: number;
  private readonly clock: () => number;
  private readonly busyPoll: boolean;
  private readonly pollWindowMs: number;
  /** When a poll last found frames (performance.now(), ms). */
  private lastFrameAt = 0;
  private readonly onPortError: (port: string, message: string) => void;
  private readonly ports = new Map<number, Port>();
  /** The ports in an array, for the poll loop (a Map's for-of makes an iterator object per pass). */
  private portList: Port[] = [];
  /** Empty passes between two clock reads in the poll loop, adapted so that a read comes about every CLOCK_READ_MS. */
  private passesPerClockRead = EMPTY_PASSES_PER_CLOCK_READ;
  /** pollAll bound once (a closure per setImmediate is garbage). */
  private readonly pollAllBound = (): void => this.pollAll();
  private rxBuf = 0;
  private rxLens = 0;
  private rxFlags = 0;
  private rxVerdicts = 0;
  private rxVnet = 0;
  private rxOffs = 0;
  /** Where dp_input leaves the batch's counts: f64 bytes, then u32 multicast frames (assembly/dp/forward.ts). */
  private readonly rxCounts: number;
  /** Bytes of the receive buffer (an offload port's batch packs frames into them). */
  readonly rxBytes: number;
  private collect: SentFrame[] | undefined;
  private tx: { u32: Uint32Array; offsets: Uint32Array; lens: Int32Array; vnets: Uint8Array } | undefined;
  private verdictsView!: Uint8Array;
  private running = false;
  /** When the core's timers run next (host/router/tick-schedule.ts). */
  readonly timers = new TickSchedule(() => this.tick());
  private polling: NodeJS.Immediate | undefined;
  private replaying: NodeJS.Immediate | undefined;
  private mem: ArrayBuffer | undefined;
  /** The area bound into the ports (made with the views). */
  private area: IoArea | undefined;
  private lensView!: Int32Array;
  private flagsView!: Uint8Array;
  private vnetView!: Uint8Array;
  private offsView!: Uint32Array;
  private bytes!: Uint8Array;
  private rxCountBytes!: Float64Array;
  private rxCountMulticast!: Uint32Array;

  constructor(core: Core, opts: DataPlaneOptions = {}) {
    this.core = core;
    this.x = core.x as unknown as DataPlaneExports;
    this.slots = opts.slots ?? 256;
    this.slotBytes = opts.slotBytes ?? 2048;
    this.clock = opts.clock ?? (() => performance.now());
    this.busyPoll = opts.busyPoll ?? false;
    this.pollWindowMs = Math.max(0, opts.pollWindowUs ?? DEFAULT_POLL_WINDOW_US) / 1000;
    this.onPortError = opts.onPortError ?? (() => {});
    const area = this.x.dp_rx_init(this.slots, this.slotBytes) >>> 0;
    if (area === 0) throw new Error(`wasmroute: cannot allocate a receive area of ${this.slots} × ${this.slotBytes} bytes`);
    const u32 = core.u32();
    this.rxBuf = u32[area >>> 2]!;
    this.rxLens = u32[(area >>> 2) + 1]!;
    this.rxFlags = u32[(area >>> 2) + 2]!;
    this.rxVerdicts = u32[(area >>> 2) + 3]!;
    this.rxVnet = u32[(area >>> 2) + 6]!;
    this.rxBytes = u32[(area >>> 2) + 7]!;
    this.rxOffs = u32[(area >>> 2) + 8]!;
    this.rxCounts = this.x.dp_rx_counts() >>> 0;
    // Every received frame may turn into a few (fragments, ICMP, released ARP queues): room for 4×.
    if (this.x.dp_tx_init(this.slots * 4, this.slots * 4 * this.slotBytes) !== 0) throw new Error("wasmroute: cannot allocate the transmit arena");
  }

  /** Where the receive area is (benchmarks write frames there and call dp_input themselves). */
  get rxArea(): { buf: number; lens: number; flags: number; verdicts: number } {
    return { buf: this.rxBuf, lens: this.rxLens, flags: this.rxFlags, verdicts: this.rxVerdicts };
  }

  /** The current time for the core, u32 ms. */
  now(): number {
    return Math.floor(this.clock()) >>> 0;
  }

  /**
   * The core's memory and the views over it, made again only after it grew. Growing detaches the old
   * buffer (its byteLength becomes 0), so a cached buffer with a length is current, and the hot path
   * skips the `memory.buffer` getter, an API call into V8 (about 1 % of an AF_PACKET router's samples).
   */
  private views(): ArrayBuffer {
    if (this.mem !== undefined && this.mem.byteLength !== 0) return this.mem;
    const buf = this.core.x.memory.buffer;
    this.mem = buf;
    this.bytes = new Uint8Array(buf);
    this.lensView = new Int32Array(buf, this.rxLens, this.slots);
    this.flagsView = new Uint8Array(buf, this.rxFlags, this.slots);
    this.verdictsView = new Uint8Array(buf, this.rxVerdicts, this.slots);
    this.vnetView = new Uint8Array(buf, this.rxVnet, this.slots * VNET_STRIDE);
    this.offsView = new Uint32Array(buf, this.rxOffs, this.slots);
    this.rxCountBytes = new Float64Array(buf, this.rxCounts, 1);
    this.rxCountMulticast = new Uint32Array(buf, this.rxCounts + 8, 1);
    this.tx = undefined;
    this.txViews(buf, this.x.dp_tx_result() >>> 2); // and binds the new area into the ports
    return buf;
  }

  /** The receive area and transmit list over the current memory, bound into every port that takes one. */
  private bindArea(): void {
    const t = this.tx!;
    this.area = {
      buf: this.mem!, rxOffset: this.rxBuf, rxBytes: this.rxBytes, slot: this.slotBytes, frameMax: GSO_FRAME_BYTES, max: this.slots,
      lens: this.lensView, flags: this.flagsView, vnet: this.vnetView, offs: this.offsView, txOffsets: t.offsets, txLens: t.lens, txVnet: t.vnets,
    };
    for (const p of this.ports.values()) if (!p.failed) p.device.bindArea?.(this.area);
  }

  /** Where frame i of the batch just received on p starts in linear memory (a slot, or packed). */
  private frameAddr(p: Port, i: number): number {
    return this.rxBuf + (p.device.offload ? this.offsView[i]! : i * this.slotBytes);
  }

  /**
   * Puts frames into the receive area as port p's device would (flags and vnet headers zero unless
   * given); returns how many fit (an offload port packs them while a super-frame still fits).
   */
  private load(p: Port, frames: readonly Uint8Array[], flags?: readonly number[], vnets?: readonly (Uint8Array | undefined)[]): number {
    this.views();
    let used = 0;
    let n = 0;
    for (const frame of frames) {
      const i = n;
      if (i >= this.slots) break;
      let at = this.rxBuf + i * this.slotBytes;
      let len = Math.min(frame.length, this.slotBytes);
      if (p.device.offload) {
        if (used + GSO_FRAME_BYTES > this.rxBytes) break;
        len = Math.min(frame.length, GSO_FRAME_BYTES);
        this.offsView[i] = used;
        at = this.rxBuf + used;
        used += (len + 63) & ~63;
      }
      n++;
      this.bytes.set(frame.subarray(0, len), at);
      this.lensView[i] = len;
      this.flagsView[i] = flags?.[i] ?? 0;
      this.vnetView.fill(0, i * VNET_STRIDE, (i + 1) * VNET_STRIDE);
      const v = vnets?.[i];
      if (v) this.vnetView.set(v.subarray(0, VNET_STRIDE), i * VNET_STRIDE);
    }
    return n;
  }

  /** Binds a device to core port ifindex (set up with dp_port_set by the caller). */
  addPort(ifindex: number, name: string, device: FrameDevice, capture?: PcapWriter): void {
    if (this.ports.has(ifindex)) throw new Error(`port ${name} is already bound`);
    this.ports.set(ifindex, { ifindex, name, device, capture, replay: [], failed: false, rxBatches: new Float64Array(RX_BATCH_CLASSES.length), stats: { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txErrors: 0, rxMulticast: 0 } });
    this.portList = [...this.ports.values()];
    this.views(); // the area over the current memory (bound into every port if the memory grew)
    device.bindArea?.(this.area!);
    if (this.running) this.watch(this.ports.get(ifindex)!);
  }

  /** Unbinds port ifindex: stops watching it and closes its device and capture (a reload removed the link). */
  removePort(ifindex: number): void {
    const p = this.ports.get(ifindex);
    if (!p) return;
    this.ports.delete(ifindex);
    this.portList = [...this.ports.values()];
    p.device.stopWatching();
    p.device.close();
    p.capture?.close();
  }

  /** Frames to feed into port ifindex as if received there (pcap replay), in order. */
  inject(ifindex: number, frames: Uint8Array[]): void {
    const p = this.ports.get(ifindex);
    if (!p) throw new Error(`no port with index ${ifindex}`);
    for (const f of frames) p.replay.push(f); // (not push(...frames): a spread of ~130,000 overflows the stack)
    if (this.running) this.scheduleReplay();
  }

  stats(): PortReport[] {
    return [...this.ports.values()].map((p) => ({ name: p.name, ifindex: p.ifindex, stats: { ...p.stats }, rxBatches: [...p.rxBatches], losses: p.device.losses?.() ?? { missed: 0, cut: 0 }, failed: p.failed }));
  }

  /** Frames waiting to be replayed, on every port. */
  get replayPending(): number {
    let n = 0;
    for (const p of this.ports.values()) n += p.replay.length;
    return n;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const p of this.ports.values()) this.watch(p);
    this.scheduleReplay();
    this.timers.set(this.now(), 0);
  }

  private watch(p: Port): void {
    if (this.busyPoll) {
      if (!this.polling) this.polling = setImmediate(this.pollAllBound);
    } else
      p.device.onReadable(() => {
        let n = this.pump(p);
        // Frames a device's reader took ahead of the batch (a tap's multishot read) are not in its readiness
        // any more; with no poll window to come back for them, they are taken now.
        if (this.pollWindowMs === 0) while (n > 0 && p.device.buffered?.()) n = this.pump(p);
        if (n > 0 && this.pollWindowMs > 0) {
          this.lastFrameAt = performance.now();
          if (!this.polling) {
            this.pauseWatches(true);
            this.polling = setImmediate(this.pollAllBound);
          }
        }
      });
  }

  /**
   * While the poll loop runs it reads every port anyway, so their readiness watches are paused: a port
   * in the event loop's epoll set costs every frame queued for it an epoll wake-up callback on the
   * sender's CPU (ep_poll_callback, an irq-saving lock), which on a veth is the CPU the traffic comes
   * from. Resumed when the window closes; level-triggered, so a frame that came in between reports at once.
   */
  private pauseWatches(paused: boolean): void {
    for (const q of this.ports.values()) if (!q.failed) q.device.pauseWatching?.(paused);
  }

  /**
   * Polls every port from the loop's check phase, in a loop that processes what comes, until the poll
   * window since the last frames has passed (then the ports' readiness watchers take over; never with
   * busy polling) or this turn has polled for POLL_TURN_MS (then the event loop gets a turn and polling
   * goes on in the next one).
   */
  private pollAll(): void {
    this.polling = undefined;
    if (!this.running) return;
    // Busy polling is a window that never closes: the same loop, whose turns end only at POLL_TURN_MS.
    // Garbage here means scavenges, each of which stops the router (about 5 ms with the full table given as
    // route add lines, a 1.1 GB heap), so the loop allocates nothing per pass or per batch:
    // - the clock (performance.now() makes a heap number) is read about every CLOCK_READ_MS of polling,
    //   the passes between reads adapting to what a pass costs (a look at a receive ring: ~0.1 µs);
    // - a batch does not end the turn (a turn per batch cost an Immediate and the event loop's own
    //   objects, about 300 B); a batch seen since the last read moves the window's start to that read;
    // - the batches of a turn share one reading of the router's ms clock, taken again after frames.
    const ports = this.portList;
    const turnStart = performance.now();
    let lastRead = turnStart;
    let seen = false;
    let nowMs = this.now();
    for (let pass = 1; ; pass++) {
      for (let i = 0; i < ports.length; i++) if (this.pump(ports[i]!, nowMs) > 0) seen = true;
      if (!this.running) return;
      if (pass % this.passesPerClockRead === 0) {
        const now = performance.now();
        this.passesPerClockRead = adaptPasses(this.passesPerClockRead, now - lastRead);
        lastRead = now;
        if (seen) {
          this.lastFrameAt = now;
          nowMs = this.now();
          seen = false;
        } else if (!this.busyPoll && now - this.lastFrameAt >= this.pollWindowMs) {
          this.pauseWatches(false);
          return;
        }
        if (now - turnStart >= POLL_TURN_MS) break; // a long window still lets timers and sockets run
      }
    }
    this.polling = setImmediate(this.pollAllBound);
  }

  /**
   * Reads and processes one batch from a port; returns the frames taken. One batch per turn: under a
   * flood on one port, a turn of 16 batches (4,096 frames, about 4 ms) let the other ports' rings (1,920
   * slots) overflow from about 480 kpps; one batch each, round-robin, keeps their wait to one batch
   * (test/fairness.test.ts). A port that still has frames is readable again at once, or is polled again
   * in the next pass.
   */
  pump(p: Port, now?: number): number {
    if (p.failed) return 0;
    const mem = this.views();
    let n: number;
    try {
      n = p.device.recvBound ? p.device.recvBound() : p.device.recv(mem, this.rxBuf, this.slotBytes, this.slots, this.lensView, this.flagsView);
    } catch (e) {
      this.portFailed(p, e);
      return 0;
    }
    if (n <= 0) return 0;
    this.process(p, n, now);
    return n;
  }

  /** Hands the n frames just received on p to the core; now: the router clock (ms) if the caller has it. */
  private process(p: Port, n: number, now = this.now()): void {
    if (p.capture) {
      const wall = Date.now();
      for (let i = 0; i < n; i++) p.capture.write(this.bytes.subarray(this.frameAddr(p, i), this.frameAddr(p, i) + this.lensView[i]!), wall);
    }
    const groups = this.x.dp_input(p.ifindex, n, now);
    if (this.running) this.timers.traffic(now, this.x.core_wake_take(now)); // the busy cadence, and a timer the batch armed
    this.views(); // the core may have grown its memory
    p.stats.rxFrames += n;
    if (n > 0) p.rxBatches[Math.min(31 - Math.clz32(n), RX_BATCH_CLASSES.length - 1)]!++;
    p.stats.rxBytes += this.rxCountBytes[0]!;
    p.stats.rxMulticast += this.rxCountMulticast[0]!;
    this.send(groups);
  }

  /**
   * Hands frames to the core as if port ifindex had received them, now, and returns each frame's
   * verdict and every frame the call sent (also sent to the devices as usual). For tests and tools.
   * vnets: the frames' vnet headers, as an offload port hands them over (read only on such a port).
   */
  receive(ifindex: number, frames: readonly Uint8Array[], flags?: readonly number[], vnets?: readonly (Uint8Array | undefined)[]): { verdicts: number[]; sent: SentFrame[] } {
    const p = this.ports.get(ifindex);
    if (!p) throw new Error(`no port with index ${ifindex}`);
    if (this.load(p, frames, flags, vnets) < frames.length) throw new Error(`at most ${this.slots} frames per batch (or ${Math.floor(this.rxBytes / GSO_FRAME_BYTES)} on an offload port)`);
    const sent: SentFrame[] = [];
    this.collect = sent;
    try {
      this.process(p, frames.length);
    } finally {
      this.collect = undefined;
    }
    this.views();
    return { verdicts: [...this.verdictsView.subarray(0, frames.length)], sent };
  }

  /** Runs the timers now and returns what they sent (tests and tools). */
  tickCollect(): SentFrame[] {
    const sent: SentFrame[] = [];
    this.collect = sent;
    try {
      this.tick();
    } finally {
      this.collect = undefined;
    }
    return sent;
  }

  private scheduleReplay(): void {
    if (this.replaying || !this.running || this.replayPending === 0) return;
    this.replaying = setImmediate(() => {
      this.replaying = undefined;
      for (const p of this.ports.values()) {
        if (p.replay.length === 0) continue;
        const n = this.load(p, p.replay.slice(0, this.slots));
        p.replay.splice(0, n);
        this.process(p, n);
      }
      this.scheduleReplay();
    });
  }

  /**
   * A device that fails (its interface deleted, its namespace gone) stops only its own port: it is no
   * longer read or written, the error is reported once, and the other ports go on.
   */
  private portFailed(p: Port, e: unknown): void {
    if (p.failed) return;
    p.failed = true;
    p.device.stopWatching();
    this.onPortError(p.name, e instanceof Error ? e.message : String(e));
  }

  /** Runs the core's timers (neighbour retries, hold-queue expiry) and the route cache's. */
  tick(): void {
    const now = this.now();
    try {
      this.x.cache_tick(now);
      this.send(this.x.dp_tick(now));
    } finally {
      // set again even if this tick failed: the timers must not stop (as a setInterval would not)
      if (this.running) this.timers.set(now, this.x.core_next_wake(now));
    }
  }

  /**
   * After calls into the core from outside the data plane (neighbour and cache commands, knobs): runs
   * the timers sooner when those calls armed one earlier than the tick set.
   */
  timersChanged(): void {
    if (!this.running) return;
    const now = this.now();
    this.timers.sooner(now, this.x.core_wake_take(now));
  }

  /** Sends the transmit list of the last core call, one sendList per output port. */
  private send(groups: number): void {
    if (groups === 0) return;
    const res = this.x.dp_tx_result() >>> 2;
    const buf = this.views();
    const { u32, offsets, lens, vnets } = this.txViews(buf, res);
    for (let g = 0; g < groups; g++) {
      const oif = u32[res + 4 + g * 3]!;
      const first = u32[res + 5 + g * 3]!;
      const count = u32[res + 6 + g * 3]!;
      const p = this.ports.get(oif);
      if (this.collect) {
        for (let k = first; k < first + count; k++) {
          this.collect.push({ oif, frame: new Uint8Array(buf, offsets[k]!, lens[k]!).slice(), vnet: vnets.slice(k * VNET_STRIDE, (k + 1) * VNET_STRIDE) });
        }
      }
      if (!p) continue;
      let sent = 0;
      if (!p.failed) {
        try {
          sent = p.device.sendBound ? p.device.sendBound(first, count) : p.device.sendList(buf, offsets, lens, first, count, p.device.offload ? vnets : undefined);
        } catch (e) {
          this.portFailed(p, e);
        }
      }
      // the device takes a batch in order until it is full (EAGAIN); a frame it refuses in between (down,
      // no buffer) is skipped, so these are the bytes of the frames sent whenever the batch stopped short
      let bytes = 0;
      for (let k = first; k < first + sent; k++) bytes += lens[k]!;
      p.stats.txFrames += sent;
      p.stats.txBytes += bytes;
      p.stats.txErrors += count - sent;
      if (p.capture) {
        const b = new Uint8Array(buf);
        const wall = Date.now();
        for (let k = first; k < first + count; k++) p.capture.write(b.subarray(offsets[k]!, offsets[k]! + lens[k]!), wall);
      }
    }
  }

  /**
   * Views of the transmit list (assembly/dp/tx.ts: its arrays stay where dp_tx_init put them), made again
   * only when memory grew: a batch allocates nothing, so the V8 young generation fills slowly, and with a
   * full table's RIB in the old generation every scavenge costs milliseconds of forwarding.
   */
  private txViews(buf: ArrayBuffer, res: number): { u32: Uint32Array; offsets: Uint32Array; lens: Int32Array; vnets: Uint8Array } {
    const t = this.tx;
    if (t && t.u32.buffer === buf) {
      const u = t.u32;
      if (u[res + 2] === t.offsets.byteOffset && u[res + 3] === t.lens.byteOffset) return t;
    }
    const u32 = new Uint32Array(buf);
    const max = this.slots * 4; // dp_tx_init's maxFrames
    this.tx = { u32, offsets: new Uint32Array(buf, u32[res + 2]!, max), lens: new Int32Array(buf, u32[res + 3]!, max), vnets: new Uint8Array(buf, this.x.dp_tx_vnet(), max * VNET_STRIDE) };
    this.bindArea();
    return this.tx;
  }

  /** Stops receiving and closes every device and capture. */
  stop(): void {
    this.running = false;
    this.timers.stop();
    if (this.polling) clearImmediate(this.polling);
    if (this.replaying) clearImmediate(this.replaying);
    this.polling = this.replaying = undefined;
    for (const ifindex of [...this.ports.keys()]) this.removePort(ifindex);
  }
}

/**
 * A port with no device (`link add NAME type pcap`): it receives only what `--pcap-in` replays into it,
 * and what it sends goes nowhere but its `--capture` file. The pipeline runs without privileges. With
 * offload it stands where an offload TAP would: the core sends it GSO super-frames whole.
 */
export class PcapDevice implements FrameDevice {
  readonly offload: boolean;
  constructor(offload = false) {
    this.offload = offload;
  }

  recv(): number {
    return 0;
  }
  sendList(_buf: ArrayBuffer | ArrayBufferView, _offsets: Uint32Array, _lens: Int32Array, _start: number, n: number): number {
    return n;
  }
  onReadable(): void {}
  stopWatching(): void {}
  close(): void {}
}
