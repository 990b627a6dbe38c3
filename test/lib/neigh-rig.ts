// A core set up for neighbour and ARP tests: three ports with MACs and addresses, a transmit list, and
// one call per step (dp_tx_reset, the call, dp_tx_finish) whose emitted frames are read back.
import { Core, type BuildFlavor, type CoreExports } from "../../host/core/load.ts";
import type { NeighExports } from "../../host/router/neigh-table.ts";
import type { Port, Sent } from "../ref/neigh-model.ts";

interface DpExports {
  dp_port_set(ifindex: number, macPtr: number, mtu: number, flags: number): number;
  dp_addr_add(ifindex: number, addr: number, plen: number): number;
  dp_tx_init(maxFrames: number, bytes: number): number;
  dp_tx_reset(): void;
  dp_tx_finish(): number;
  dp_tx_result(): number;
  dp_snmp(): number;
  dp_neigh_next_wake(now: number): number;
}
export type RigExports = CoreExports & NeighExports & DpExports;

export const ip4 = (s: string): number => s.split(".").reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);

export const PORTS: Port[] = [
  { ifindex: 1, mac: [0x02, 0x77, 0x72, 0, 1, 1], addrs: [{ addr: ip4("10.0.1.1"), plen: 24 }] },
  { ifindex: 2, mac: [0x02, 0x77, 0x72, 0, 2, 1], addrs: [{ addr: ip4("10.0.2.1"), plen: 24 }, { addr: ip4("10.0.20.1"), plen: 24 }] },
  { ifindex: 3, mac: [0x02, 0x77, 0x72, 0, 3, 1], addrs: [{ addr: ip4("10.0.3.1"), plen: 24 }] },
];

const WR_DROP = 586;
const SCRATCH = 1 << 17;

export class NeighRig {
  readonly core: Core;
  readonly x: RigExports;
  private readonly scratch: number;

  /** A new core of that flavour, or an existing one (a Fib's, with its route cache started). */
  constructor(from: BuildFlavor | Core = "release", ports: Port[] = PORTS) {
    this.core = typeof from === "string" ? new Core(from) : from;
    this.x = this.core.x as unknown as RigExports;
    this.scratch = this.core.alloc(SCRATCH);
    if (this.x.dp_tx_init(1024, 1 << 20) !== 0) throw new Error("dp_tx_init");
    const rc = this.x.cache_init(1024, 1, 1, 0);
    if (rc !== 0 && rc !== -17) throw new Error("cache_init");
    for (const p of ports) {
      this.put(p.mac, 0);
      if (this.x.dp_port_set(p.ifindex, this.scratch, 1500, 1) !== 0) throw new Error("dp_port_set");
      for (const a of p.addrs) this.x.dp_addr_add(p.ifindex, a.addr, a.plen);
    }
  }

  mem(): Uint8Array {
    return new Uint8Array(this.x.memory.buffer);
  }

  /** Copies bytes into the scratch area at offset o; returns their address. */
  put(bytes: ArrayLike<number>, o = 0): number {
    this.mem().set(Array.from(bytes), this.scratch + o);
    return this.scratch + o;
  }

  /** Runs one data-plane step and returns its result with the frames it listed. */
  step<T>(f: () => T): { r: T; sent: Sent[] } {
    this.x.dp_tx_reset();
    const r = f();
    this.x.dp_tx_finish();
    return { r, sent: this.readTx() };
  }

  readTx(): Sent[] {
    const u = this.core.u32();
    const r = this.x.dp_tx_result() >>> 2;
    const groups = u[r]!;
    const offsets = u[r + 2]! >>> 2;
    const lens = u[r + 3]! >>> 2;
    const m = this.mem();
    const out: Sent[] = [];
    for (let g = 0; g < groups; g++) {
      const [oif, first, count] = [u[r + 4 + 3 * g]!, u[r + 5 + 3 * g]!, u[r + 6 + 3 * g]!];
      for (let i = first; i < first + count; i++) {
        const at = u[offsets + i]!;
        out.push({ oif, bytes: m.slice(at, at + u[lens + i]!) });
      }
    }
    return out;
  }

  /** dp_neigh_output of frame (copied to the scratch area, where it stays listed in place). */
  output(oif: number, nexthop: number, frame: Uint8Array, now: number): { v: number; sent: Sent[] } {
    const { r, sent } = this.step(() => {
      const p = this.put(frame, 0);
      return this.x.dp_neigh_output(oif, nexthop >>> 0, p, frame.length, now >>> 0);
    });
    return { v: r, sent };
  }

  arp(frame: Uint8Array, iif: number, now: number): { v: number; sent: Sent[] } {
    const { r, sent } = this.step(() => {
      const p = this.put(frame, 0);
      return this.x.dp_arp_input(p, frame.length, iif, now >>> 0);
    });
    return { v: r, sent };
  }

  tick(now: number): Sent[] {
    return this.step(() => this.x.dp_neigh_tick(now >>> 0)).sent;
  }

  add(ifindex: number, ip: number, mac: ArrayLike<number> | null, state: number, now: number): number {
    const p = mac ? this.put(mac, 0) : 0;
    return this.x.dp_neigh_add(ifindex, ip >>> 0, p, state, now >>> 0);
  }

  dump(now: number): DumpRecord[] {
    const max = this.stats()[0]! + 1;
    const out = this.core.alloc(max * 32);
    const n = this.x.dp_neigh_dump(out, max, now >>> 0);
    const m = this.mem();
    const v = new DataView(m.buffer, out, n * 32);
    const recs: DumpRecord[] = [];
    for (let i = 0; i < n; i++) {
      const o = i * 32;
      recs.push({
        ifindex: v.getUint32(o, true), ip: v.getUint32(o + 4, true), mac: [...m.slice(out + o + 8, out + o + 14)],
        state: v.getUint16(o + 14, true), used: v.getUint32(o + 16, true), confirmed: v.getUint32(o + 20, true),
        updated: v.getUint32(o + 24, true), probes: v.getUint16(o + 28, true), held: v.getUint16(o + 30, true),
      });
    }
    this.x.mem_free(out, max * 32);
    return recs;
  }

  entry(ifindex: number, ip: number, now: number): DumpRecord | undefined {
    return this.dump(now).find((r) => r.ifindex === ifindex && r.ip === ip >>> 0);
  }

  stats(): number[] {
    const p = this.x.dp_arp_stat() >>> 2;
    return [...this.core.u32().slice(p, p + 13)];
  }

  events(): number {
    return this.core.u32()[this.x.dp_neigh_events() >>> 2]!;
  }

  /** WrDrop counter of drop reason r. */
  drops(r: number): number {
    return this.core.u32()[(this.x.dp_snmp() >>> 2) + 2 * (WR_DROP + r)]!;
  }

  /** A MIB counter (u64, low half) by index (docs/dataplane.md). */
  mib(i: number): number {
    return this.core.u32()[(this.x.dp_snmp() >>> 2) + 2 * i]!;
  }
}

export interface DumpRecord {
  ifindex: number;
  ip: number;
  mac: number[];
  state: number;
  used: number;
  confirmed: number;
  updated: number;
  probes: number;
  held: number;
}

/** An Ethernet + IPv4 frame of len bytes (≥ 34) from src to dst; the rest is a counter pattern. */
export function ipFrame(src: number, dst: number, len: number, tag = 0): Uint8Array {
  const f = new Uint8Array(len);
  for (let i = 0; i < len; i++) f[i] = (i * 7 + tag) & 255;
  f.set([0x02, 0x77, 0x72, 0, 0, 1, 0x02, 0x68, 0, 0, 0, tag & 255], 0); // as received: to the router, from a host
  f.set([0x08, 0x00, 0x45, 0x00, ((len - 14) >> 8) & 255, (len - 14) & 255, 0, tag & 255, 0, 0, 64, 17, 0, 0], 12);
  f.set([src >>> 24, (src >>> 16) & 255, (src >>> 8) & 255, src & 255, dst >>> 24, (dst >>> 16) & 255, (dst >>> 8) & 255, dst & 255], 26);
  return f;
}

export const hex = (b: ArrayLike<number>): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
