// Software GSO (assembly/dp/gso.ts, through dp_gso_segment) against the reference model
// (test/ref/gso-ref.ts), with fast-check: random TCPv4 super-frames (IP options, TCP options, any flags,
// seq and id near their wrap, payloads up to 64 KiB, gso_size 1..9000) give the reference's segments byte
// for byte, and — checked on their own, not against the model — every segment has a valid IPv4 header
// checksum and a complete TCP checksum, ids count up from the super-frame's, seq advances by the
// payload sent before it, FIN/PSH sit only on the last segment, CWR only on the first, no segment carries
// more than gso_size bytes, and the payloads put together are the original payload. Non-TCP frames,
// fragments, broken TCP headers, no gso_size and too few segment slots are refused without writing
// anything; arbitrary bytes never trap.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { Core } from "../host/core/load.ts";
import { checksum, fixChecksum } from "./ref/ipv4-ref.ts";
import { segmentRef, fixTcpChecksum, tcpChecksumState, GSO_BAD, GSO_ROOM } from "./ref/gso-ref.ts";

interface GsoExports {
  memory: WebAssembly.Memory;
  dp_gso_segment(f: number, len: number, gsoSize: number, out: number, lens: number, maxSegs: number): number;
  dp_gso_seg_slot(f: number, len: number, gsoSize: number): number;
}

const ETH = [0x02, 0x72, 0, 0, 0, 9, 0x02, 0x72, 0, 0, 0, 1, 0x08, 0x00];
const OUT_BYTES = 4 << 20;
const MAX_SEGS = 1 << 16;

const core = new Core("release");
const x = core.x as unknown as GsoExports;
const inAt = core.alloc(70_000);
const outAt = core.alloc(OUT_BYTES);
const lensAt = core.alloc(MAX_SEGS * 4);

const be16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const be32 = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

const mem = () => new Uint8Array(x.memory.buffer);

/** How many segments of frame f fit in the output area (at most MAX_SEGS). */
function room(f: Uint8Array, mss: number): number {
  mem().set(f, inAt);
  const slot = x.dp_gso_seg_slot(inAt, f.length, mss);
  return slot === 0 ? MAX_SEGS : Math.min(MAX_SEGS, Math.floor(OUT_BYTES / slot));
}

/** Runs the core's segmentation on frame f; the segments, or the negative code. */
function segmentCore(f: Uint8Array, mss: number, maxSegs = room(f, mss)): Uint8Array[] | number {
  if (maxSegs > room(f, mss)) throw new Error("the output area is too small for that many segments");
  mem().set(f, inAt);
  const marker = 0xa5;
  mem().fill(marker, outAt, outAt + 4096);
  const n = x.dp_gso_segment(inAt, f.length, mss, outAt, lensAt, maxSegs);
  if (n < 0) {
    expect(mem().subarray(outAt, outAt + 4096).every((b) => b === marker)).toBe(true); // nothing written
    return n;
  }
  const slot = x.dp_gso_seg_slot(inAt, f.length, mss);
  const lens = new Int32Array(x.memory.buffer, lensAt, n);
  return Array.from({ length: n }, (_, k) => mem().slice(outAt + k * slot, outAt + k * slot + lens[k]!));
}

interface SuperFrame {
  frame: Uint8Array;
  hl: number;
  thl: number;
  payload: Uint8Array;
}

/** A TCPv4 super-frame: random IP and TCP options, flags, seq, id, payload; TCP checksum complete or partial. */
const superFrame = fc
  .record({
    ipOpts: fc.integer({ min: 0, max: 10 }),
    tcpOpts: fc.integer({ min: 0, max: 10 }),
    size: fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 65_535 - 120 })),
    seed: fc.integer({ min: 0, max: 0xffffffff }),
    flags: fc.integer({ min: 0, max: 255 }),
    seq: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0xffff0000, max: 0xffffffff })),
    id: fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xffc0, max: 0xffff })),
    df: fc.boolean(),
  })
  .map(({ ipOpts, tcpOpts, size, seed, flags, seq, id, df }): SuperFrame => {
    const hl = 20 + ipOpts * 4;
    const thl = 20 + tcpOpts * 4;
    const total = Math.min(65_535, hl + thl + size);
    const f = new Uint8Array(14 + total);
    f.set(ETH);
    let s = seed >>> 0;
    for (let i = 14; i < f.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      f[i] = s >>> 24;
    }
    f[14] = 0x40 | (hl / 4);
    f[16] = total >> 8;
    f[17] = total & 255;
    f[18] = id >> 8;
    f[19] = id & 255;
    f[20] = df ? 0x40 : 0;
    f[21] = 0;
    f[22] = 64;
    f[23] = 6;
    const t = 14 + hl;
    f[t + 4] = seq >>> 24;
    f[t + 5] = (seq >>> 16) & 255;
    f[t + 6] = (seq >>> 8) & 255;
    f[t + 7] = seq & 255;
    f[t + 12] = (thl / 4) << 4;
    f[t + 13] = flags;
    fixChecksum(f);
    fixTcpChecksum(f);
    return { frame: f, hl, thl, payload: f.slice(14 + hl + thl) };
  });

const mssArb = fc.oneof(fc.integer({ min: 536, max: 9000 }), fc.integer({ min: 1, max: 9000 }), fc.constantFrom(1448, 1460, 8948));

/** Keeps a run to at most 2,048 segments (a 64 KiB payload at gso_size 1 would be 65,000). */
const fewSegments = (sf: SuperFrame, mss: number) => Math.ceil(sf.payload.length / mss) <= 2048;

/** Byte-wise equality of two segment lists (or codes), fast on 64 KiB of segments. */
function sameSegments(a: Uint8Array[] | number, b: Uint8Array[] | number): boolean {
  if (typeof a === "number" || typeof b === "number") return a === b;
  return a.length === b.length && a.every((s, k) => Buffer.compare(s, b[k]!) === 0);
}

describe("software GSO (dp_gso_segment)", () => {
  it("matches the reference byte for byte", () => {
    fc.assert(
      fc.property(superFrame, mssArb, (sf, mss) => {
        fc.pre(fewSegments(sf, mss));
        const max = room(sf.frame, mss);
        expect(sameSegments(segmentCore(sf.frame, mss, max), segmentRef(sf.frame, mss, max))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("gives valid checksums, the right ids, seqs and flags, and the whole payload back", () => {
    fc.assert(
      fc.property(superFrame, mssArb, (sf, mss) => {
        fc.pre(fewSegments(sf, mss));
        const segs = segmentCore(sf.frame, mss);
        if (typeof segs === "number") throw new Error(`refused: ${segs}`);
        const t = 14 + sf.hl;
        const seq0 = be32(sf.frame, t + 4);
        const id0 = be16(sf.frame, 18);
        const flags = sf.frame[t + 13]!;
        let at = 0;
        const parts: Uint8Array[] = [];
        const wrong: string[] = [];
        const check = (ok: boolean, what: string, k: number) => ok || wrong.push(`segment ${k}: ${what}`);
        segs.forEach((s, k) => {
          const last = k === segs.length - 1;
          const fl = s[t + 13]!;
          const piece = s.subarray(14 + sf.hl + sf.thl);
          check(checksum(s.subarray(14, 14 + sf.hl)) === 0xffff, "IPv4 header checksum", k);
          check(tcpChecksumState(s) === "complete", "TCP checksum", k);
          check(be16(s, 16) === s.length - 14, "total length", k);
          check(be16(s, 18) === ((id0 + k) & 0xffff), "IP id", k);
          check(be16(s, 20) === be16(sf.frame, 20), "DF/flags word", k);
          check(be32(s, t + 4) === (seq0 + at) >>> 0, "seq", k);
          check((fl & 0x09) === (last ? flags & 0x09 : 0), "FIN/PSH", k);
          check((fl & 0x80) === (k === 0 ? flags & 0x80 : 0), "CWR", k);
          check((fl & ~0x89) === (flags & ~0x89), "other flags", k);
          check(Buffer.compare(s.subarray(0, 14), sf.frame.subarray(0, 14)) === 0, "Ethernet header", k);
          check(last ? piece.length <= mss : piece.length === mss, "payload size", k);
          parts.push(piece);
          at += piece.length;
        });
        expect(wrong).toEqual([]);
        expect(Buffer.compare(Buffer.concat(parts), sf.payload)).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it("cuts a 64 KiB super-frame at MSS 1448 into 46 wire-sized segments", () => {
    const f = new Uint8Array(14 + 20 + 20 + 65_000);
    f.set(ETH);
    for (let i = 54; i < f.length; i++) f[i] = i * 7;
    f[14] = 0x45;
    f[16] = (20 + 20 + 65_000) >> 8;
    f[17] = (20 + 20 + 65_000) & 255;
    f[20] = 0x40;
    f[22] = 64;
    f[23] = 6;
    f[34 + 12] = 0x50;
    f[34 + 13] = 0x18; // PSH ACK
    fixChecksum(f);
    fixTcpChecksum(f);
    const segs = segmentCore(f, 1448) as Uint8Array[];
    expect(segs).toHaveLength(Math.ceil(65_000 / 1448));
    expect(segs.slice(0, -1).every((s) => s.length === 14 + 40 + 1448)).toBe(true);
  });

  it("refuses what it cannot cut, writing nothing", () => {
    const sf = fc.sample(superFrame, { numRuns: 1, seed: 9 })[0]!;
    const udp = sf.frame.slice();
    udp[23] = 17;
    fixChecksum(udp);
    expect(segmentCore(udp, 1448)).toBe(GSO_BAD);
    const frag = sf.frame.slice();
    frag[20] |= 0x20; // MF
    fixChecksum(frag);
    expect(segmentCore(frag, 1448)).toBe(GSO_BAD);
    const badThl = sf.frame.slice();
    badThl[14 + sf.hl + 12] = 0x40; // 16-byte TCP header
    expect(segmentCore(badThl, 1448)).toBe(GSO_BAD);
    const cut = sf.frame.slice(0, 14 + sf.hl + 10);
    expect(segmentCore(cut, 1448)).toBe(GSO_BAD); // total length past the frame
    expect(segmentCore(sf.frame, 0)).toBe(GSO_ROOM);
    if (sf.payload.length > 100) expect(segmentCore(sf.frame, 10, Math.floor(sf.payload.length / 10) - 1)).toBe(GSO_ROOM);
  });

  it("never traps on arbitrary bytes, and agrees with the reference", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2000 }), fc.integer({ min: 0, max: 3000 }), (bytes, mss) => {
        const f = new Uint8Array([...ETH, ...bytes]);
        const max = room(f, mss);
        expect(segmentCore(f, mss, max)).toEqual(segmentRef(f, mss, max));
      }),
      { numRuns: 500 },
    );
  });
});
