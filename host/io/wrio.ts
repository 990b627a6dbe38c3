/**
 * Loads the device I/O addon (host/io/native/wrio.c, built by node-gyp at `npm ci`, or `npm run
 * build:native`) with a typed face. Frames move between devices and a caller's buffer in batches;
 * privilege.c adds the user lookups and the privilege drop of `wasmroute run --user`.
 */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface Wrio {
  tapOpen(name: string, offload?: boolean): number;
  packetOpen(ifname: string, netnsPath?: string, frameBytes?: number, offload?: boolean): number;
  recvBatch(fd: number, buf: ArrayBuffer | ArrayBufferView, offset: number, slot: number, max: number, lens: Int32Array, flags?: Uint8Array): number;
  recvPacked(fd: number, buf: ArrayBuffer | ArrayBufferView, offset: number, bytes: number, frameMax: number, max: number, lens: Int32Array, flags: Uint8Array, vnet: Uint8Array | undefined, offs: Uint32Array): number;
  sendBatch(fd: number, buf: ArrayBuffer | ArrayBufferView, offset: number, slot: number, lens: Int32Array, n: number): number;
  sendList(fd: number, buf: ArrayBuffer | ArrayBufferView, offsets: Uint32Array, lens: Int32Array, start: number, n: number, vnet?: Uint8Array): number;
  /** The receive area and transmit list bound once (area.c): every array a view into buf. */
  areaBind(buf: ArrayBuffer, rxOffset: number, rxBytes: number, slot: number, frameMax: number, max: number, lens: Int32Array, flags: Uint8Array, vnet: Uint8Array, offs: Uint32Array, txOffsets: Uint32Array, txLens: Int32Array, txVnet: Uint8Array): object;
  /** recvBatch (packed false) or recvPacked (true) into a bound area; throws once its memory grew (bind again). */
  recvArea(area: object, fd: number, packed: boolean): number;
  /** sendList of a bound area's transmit list, entries start … start + n − 1; withVnet on an offload port. */
  sendArea(area: object, fd: number, start: number, n: number, withVnet: boolean): number;
  watch(fd: number, callback: (status: number) => void): object;
  unwatch(handle: object): void;
  /** Stops (the fd leaves the epoll set at once) or restarts a watch's callbacks without closing it. */
  watchPause(handle: object, paused: boolean): void;
  close(fd: number): void;
  /** Whether a tap's batches go out through io_uring (known after the first batch); enable switches it (A/B runs), and true sets the ring up now. */
  uring(enable?: boolean): boolean;
  /** Whether a packet port reads through its PACKET_RX_RING (packet_ring.c); false with WASMROUTE_NO_RING=1 or where the ring could not be set up. */
  packetRing(fd: number): boolean;
  /** Whether a tap is read through its io_uring multishot read (tap_mshot.c); false before Linux 6.7 and with WASMROUTE_NO_URING=1 or WASMROUTE_NO_MULTISHOT=1. */
  tapMultishot(fd: number): boolean;
  /** Whether frames a tap's multishot read took are waiting to be received (the tap's readiness no longer shows them). */
  tapBuffered(fd: number): boolean;
  /** Since fd was opened: [missed (a packet socket's frames dropped for want of room: PACKET_STATISTICS), cut (frames longer than their room)] (port_counters.c). */
  portCounters(fd: number): [missed: number, cut: number];
  /** An fd on /proc/net/dev of the namespace at netnsPath (or this one), opened there; read it at offset 0. */
  netDevOpen(netnsPath?: string): number;
  // privilege.c (`wasmroute run --user`, host/router/privilege.ts)
  lookupUser(name: string): { name: string; uid: number; gid: number } | null;
  lookupUid(uid: number): { name: string; uid: number; gid: number } | null;
  lookupGroup(name: string): number | null;
  groupList(name: string, gid: number): number[];
  dropPrivileges(uid: number, gid: number, groups: readonly number[], keepMask: number): { unreachable: number; signal: number };
}

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
let loaded: Wrio | undefined;

export function wrio(): Wrio {
  if (!loaded) {
    const path = join(root, "build", "Release", "wrio.node");
    if (!existsSync(path)) throw new Error(`wasmroute: the I/O addon ${path} is missing; run "npm run build:native"`);
    loaded = createRequire(import.meta.url)(path) as Wrio;
  }
  return loaded;
}
