/**
 * A TAP device as the router's port: Ethernet frames in and out, in batches, with readiness from the
 * event loop. Open (attach) it in the process's own network namespace BEFORE moving its kernel side
 * elsewhere (`ip link set NAME netns NS`): after a move, TUNSETIFF by name would silently create a new,
 * unrelated tap here (testbed.md §4.2). The tap lives as long as it is open.
 */
import { wrio } from "./wrio.ts";

export class TapDevice {
  readonly name: string;
  readonly fd: number;
  private watcher: object | undefined;

  private constructor(name: string, fd: number) {
    this.name = name;
    this.fd = fd;
  }

  /** Creates the tap `name`, or attaches to it if it exists here. */
  static open(name: string): TapDevice {
    return new TapDevice(name, wrio().tapOpen(name));
  }

  /** Reads up to max frames: frame i into buf at offset + i·slot, its length in lens[i]. Returns how many. */
  recv(buf: ArrayBuffer | ArrayBufferView, offset: number, slot: number, max: number, lens: Int32Array): number {
    return wrio().recvBatch(this.fd, buf, offset, slot, max, lens);
  }

  /** Writes n frames laid out as recv lays them out. Returns how many went (fewer when the queue is full). */
  send(buf: ArrayBuffer | ArrayBufferView, offset: number, slot: number, lens: Int32Array, n: number): number {
    return wrio().sendBatch(this.fd, buf, offset, slot, lens, n);
  }

  /** Calls back whenever frames are waiting (no busy polling). One watcher per device. */
  onReadable(callback: () => void): void {
    this.stopWatching();
    this.watcher = wrio().watch(this.fd, () => callback());
  }

  stopWatching(): void {
    if (this.watcher) wrio().unwatch(this.watcher);
    this.watcher = undefined;
  }

  /** Stops watching and closes the fd; a tap nobody else holds disappears with it. */
  close(): void {
    this.stopWatching();
    wrio().close(this.fd);
  }
}
