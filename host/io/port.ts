/**
 * A router port as the host sees it: a device that moves Ethernet frames in batches, with readiness
 * from the event loop (no busy polling). Two kinds, one interface:
 *   FramePort.tap(name, offload)  a TAP device; offload: with IFF_VNET_HDR + TUNSETOFFLOAD (TCPv4 GSO
 *                                 super-frames and partial checksums both ways, each frame with its
 *                                 12-byte vnet header slot, assembly/dp/gso.ts). Open (attach) it in the process's own namespace BEFORE
 *                                 moving its kernel side elsewhere (`ip link set NAME netns NS`): after
 *                                 a move, TUNSETIFF by name silently creates a new, unrelated tap here
 *                                 (testbed.md §4.2). The tap lives as long as it is open.
 *   FramePort.packet(ifname, ns, frameBytes, offload)  AF_PACKET on an existing interface, inside namespace
 *                                 `ns` if given; it never reads its own sends (PACKET_IGNORE_OUTGOING), and its
 *                                 receive ring takes frames whole up to frameBytes (default 2048). offload:
 *                                 PACKET_VNET_HDR: frames come and go with a vnet header, as on an offload tap,
 *                                 so TCP super-frames (a sender's TSO, GRO) cross whole: one longer than a
 *                                 ring slot comes through the socket's queue, in ring order (packet_ring.c).
 * Frames land in any buffer, typically the WebAssembly core's memory: frame i at offset + i·slot.
 */
import { KernelSideDrops } from "./net-dev.ts";
import { wrio } from "./wrio.ts";

export type PortKind = "tap" | "packet";

/** Per-frame flags from recv (an AF_PACKET port: its receive ring slot's status, or PACKET_AUXDATA on recvmmsg). */
export const CSUM_NOT_READY = 1;
export const CSUM_VALID = 2;

/** What a port lost on the way in, since it opened (`ip -s link`: RX missed, and the length errors of RX errors). */
export interface PortLosses {
  /** Frames dropped before the router could take them: its ring or queue was full. */
  missed: number;
  /** Frames longer than the room they were read into, handed on cut (the core drops them as truncated). */
  cut: number;
}

/**
 * Where a data plane's batches live, bound into a port once (bindArea) so that recvBound and sendBound
 * pass no arrays: the receive area (recv's slots, or recvPacked's packed bytes, and the per-frame arrays)
 * and the transmit list (sendList's offsets, lengths and vnet headers). Every array is a view into buf.
 * Bind a new one after the memory grew: a call through the old one throws.
 */
export interface IoArea {
  buf: ArrayBuffer;
  rxOffset: number;
  rxBytes: number;
  slot: number;
  frameMax: number;
  max: number;
  lens: Int32Array;
  flags: Uint8Array;
  vnet: Uint8Array;
  offs: Uint32Array;
  txOffsets: Uint32Array;
  txLens: Int32Array;
  txVnet: Uint8Array;
}

/** One native binding per area, however many ports share it. */
const boundAreas = new WeakMap<IoArea, object>();

function areaHandle(a: IoArea): object {
  let h = boundAreas.get(a);
  if (!h) {
    h = wrio().areaBind(a.buf, a.rxOffset, a.rxBytes, a.slot, a.frameMax, a.max, a.lens, a.flags, a.vnet, a.offs, a.txOffsets, a.txLens, a.txVnet);
    boundAreas.set(a, h);
  }
  return h;
}

export class FramePort {
  readonly kind: PortKind;
  readonly name: string;
  readonly fd: number;
  /** A tap or packet socket with vnet headers: recvPacked and sendList take a vnet array (12 bytes a frame). */
  readonly offload: boolean;
  private watcher: object | undefined;
  private area: object | undefined;
  private kernelSide: KernelSideDrops | undefined;

  private constructor(kind: PortKind, name: string, fd: number, offload: boolean) {
    this.kind = kind;
    this.name = name;
    this.fd = fd;
    this.offload = offload;
  }

  /** Whether a packet port reads through its PACKET_RX_RING (host/io/native/packet_ring.c) rather than recvmmsg. */
  get rxRing(): boolean {
    return this.kind === "packet" && wrio().packetRing(this.fd);
  }

  /** Whether a tap reads through its io_uring multishot read (host/io/native/tap_mshot.c) rather than read(2). */
  get multishot(): boolean {
    return this.kind === "tap" && wrio().tapMultishot(this.fd);
  }

  /** Frames this port's reader took from the device wait to be received: a tap's multishot read reads ahead
   *  of a batch, and the tap's readiness no longer shows those frames. */
  buffered(): boolean {
    return this.kind === "tap" && wrio().tapBuffered(this.fd);
  }

  /** Creates the tap `name`, or attaches to it if it exists in this namespace; offload: vnet headers, GSO. */
  static tap(name: string, offload = false): FramePort {
    return new FramePort("tap", name, wrio().tapOpen(name, offload), offload);
  }

  /** A packet socket bound to interface `ifname` (in network namespace `netns`, by name, if given); offload: vnet headers, GSO. */
  static packet(ifname: string, netns?: string, frameBytes?: number, offload = false): FramePort {
    if (netns !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(netns)) throw new Error(`invalid namespace name "${netns}"`);
    return new FramePort("packet", ifname, wrio().packetOpen(ifname, netns === undefined ? undefined : `/run/netns/${netns}`, frameBytes, offload), offload);
  }

  /**
   * Reads up to max frames: frame i into buf at offset + i·slot, its length in lens[i]. Returns how many.
   * flags[i], if given: CSUM_NOT_READY when the sender left the checksum to offload (the data plane
   * must finish it before the frame leaves by another port), CSUM_VALID when the kernel verified it.
   * An offload port is read with recvPacked (its frames come with a vnet header).
   */
  recv(buf: ArrayBuffer | ArrayBufferView, offset: number, slot: number, max: number, lens: Int32Array, flags?: Uint8Array): number {
    if (this.offload) throw new Error(`${this.name}: an offload port is read with recvPacked`);
    return wrio().recvBatch(this.fd, buf, offset, slot, max, lens, flags);
  }

  /**
   * An offload port's receive (or a plain tap's): frames packed one after another (64-byte aligned) into
   * bytes at offset, read while frameMax bytes still fit; frame i at offset + offs[i], its vnet header at
   * vnet[12i …]. A packet port without offload reads its ring with recv.
   */
  recvPacked(buf: ArrayBuffer | ArrayBufferView, offset: number, bytes: number, frameMax: number, max: number, lens: Int32Array, flags: Uint8Array, vnet: Uint8Array, offs: Uint32Array): number {
    if (this.kind !== "tap" && !this.offload) throw new Error(`${this.name}: packed receive is for a tap or an offload port`);
    return wrio().recvPacked(this.fd, buf, offset, bytes, frameMax, max, lens, flags, this.offload ? vnet : undefined, offs);
  }

  /** Writes n frames laid out as recv lays them out. Returns how many went (fewer when the queue is full). */
  send(buf: ArrayBuffer | ArrayBufferView, offset: number, slot: number, lens: Int32Array, n: number): number {
    return wrio().sendBatch(this.fd, buf, offset, slot, lens, n);
  }

  /** Writes n frames lying anywhere in buf: frame k at offsets[start + k], length lens[start + k]. Returns how many went. */
  sendList(buf: ArrayBuffer | ArrayBufferView, offsets: Uint32Array, lens: Int32Array, start: number, n: number, vnet?: Uint8Array): number {
    if (this.offload && !vnet) throw new Error(`${this.name}: an offload tap needs each frame's vnet header`);
    return wrio().sendList(this.fd, buf, offsets, lens, start, n, this.offload ? vnet : undefined);
  }

  /** Binds the area recvBound and sendBound use (again after the memory grew). */
  bindArea(area: IoArea): void {
    this.area = areaHandle(area);
  }

  /** recv, or recvPacked on an offload port, into the bound area: the frames taken. */
  recvBound(): number {
    if (!this.area) throw new Error(`${this.name}: no area bound`);
    return wrio().recvArea(this.area, this.fd, this.offload);
  }

  /** sendList of the bound area's transmit list (entries start … start + n − 1, with their vnet headers on an offload port). */
  sendBound(start: number, n: number): number {
    if (!this.area) throw new Error(`${this.name}: no area bound`);
    return wrio().sendArea(this.area, this.fd, start, n, this.offload);
  }

  /**
   * A tap: from now on, count as missed what its kernel side `name` (in the namespace at netnsPath, or
   * this one) drops on its way to the router. Call it once the kernel side is where it will stay.
   */
  countKernelSide(name: string, netnsPath?: string): void {
    if (this.kind !== "tap") throw new Error(`${this.name}: only a tap has a kernel side`);
    this.kernelSide?.close();
    this.kernelSide = new KernelSideDrops(name, netnsPath);
  }

  /** What the port lost on the way in since it opened. */
  losses(): PortLosses {
    const [missed, cut] = wrio().portCounters(this.fd);
    return { missed: this.kind === "tap" ? (this.kernelSide?.dropped() ?? 0) : missed, cut };
  }

  /** Calls back whenever frames are waiting. One watcher per port. */
  onReadable(callback: () => void): void {
    this.stopWatching();
    this.watcher = wrio().watch(this.fd, () => callback());
  }

  /**
   * Pauses or resumes the watch (while the data plane polls the port anyway). A watched fd sits in the
   * event loop's epoll set, and then every frame the kernel queues for it runs epoll's wake-up callback
   * on the CPU that queued it: on a veth, the sender's (BENCHMARKS.md, "Epoll out of the way").
   */
  pauseWatching(paused: boolean): void {
    if (this.watcher) wrio().watchPause(this.watcher, paused);
  }

  stopWatching(): void {
    if (this.watcher) wrio().unwatch(this.watcher);
    this.watcher = undefined;
  }

  /** Stops watching and closes the fd (a tap nobody else holds disappears with it). */
  close(): void {
    this.stopWatching();
    this.kernelSide?.close();
    this.kernelSide = undefined;
    wrio().close(this.fd);
  }
}
