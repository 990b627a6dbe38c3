/**
 * A tap's kernel side, as the router sees it: what that side dropped on its way to the router. A tap
 * hands the router the frames its kernel side transmits; when the router's queue on the tap is full,
 * the kernel side drops them and counts each in its own `tx_dropped` (drivers/net/tun.c). For the router
 * those are missed frames, as a NIC's full receive ring makes them. The counter is read from
 * /proc/net/dev of the namespace the kernel side lives in, through an fd opened there (wrio netDevOpen).
 */
import { closeSync, readSync } from "node:fs";
import { wrio } from "./wrio.ts";

/** /proc/net/dev's columns after "name:": 8 receive counters, then 8 transmit counters. */
const TX_DROP_COLUMN = 11;

/** The counters of each interface in a /proc/net/dev text, by name (16 numbers each). */
export function parseNetDev(text: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0 || line.includes("|")) continue; // the two header lines
    const fields = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (fields.length >= 16 && fields.every(Number.isFinite)) out.set(line.slice(0, colon).trim(), fields);
  }
  return out;
}

export class KernelSideDrops {
  private readonly fd: number;
  private readonly name: string;
  private readonly base: number;
  private last: number;
  private buf = Buffer.alloc(16 << 10);

  /** The tap whose kernel side is `name`, in the namespace at netnsPath (or this one): counts from now. */
  constructor(name: string, netnsPath?: string) {
    this.fd = wrio().netDevOpen(netnsPath);
    this.name = name;
    this.base = this.read() ?? 0;
    this.last = this.base;
  }

  private read(): number | undefined {
    let n = 0;
    try {
      // a read at offset 0 gives the whole file again; one that fills the buffer may have been cut
      while ((n = readSync(this.fd, this.buf, 0, this.buf.length, 0)) === this.buf.length) this.buf = Buffer.alloc(this.buf.length * 2);
    } catch {
      return undefined;
    }
    return parseNetDev(this.buf.toString("latin1", 0, n)).get(this.name)?.[TX_DROP_COLUMN];
  }

  /** Frames the kernel side dropped since the port opened (the last value seen if it is gone or renamed). */
  dropped(): number {
    const v = this.read();
    if (v !== undefined && v >= this.base) this.last = v;
    return this.last - this.base;
  }

  close(): void {
    closeSync(this.fd);
  }
}
