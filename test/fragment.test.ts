// Fragmentation and checksum completion (assembly/dp/fragment.ts) against the reference model
// (test/ref/fragment-ref.ts: RFC 791 §3.2's procedure with Linux's header choices, RFC 815 reassembly),
// with fast-check: random datagrams (20..9000 bytes, random options with the copy flag set or clear,
// malformed option lists, already-fragmented inputs) and random MTUs (68..9000) give the reference's
// fragments byte for byte, each within mtu + 14 bytes with a valid header checksum, and they reassemble
// to the original payload. DF, a too small MTU and too little room are refused without writing anything.
// CHECKSUM_PARTIAL TCP and UDP frames are completed to the correct checksum (skb_checksum_help), and
// nothing else is touched; arbitrary bytes never trap and agree with the reference.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { Core } from "../host/core/load.ts";
import { checksum, fixChecksum } from "./ref/ipv4-ref.ts";
import { fragmentRef, reassembleRef, finishChecksumRef, pseudoHeaderSum, FRAG_DF, FRAG_BAD, FRAG_ROOM } from "./ref/fragment-ref.ts";

interface FragmentExports {
  memory: WebAssembly.Memory;
  dp_fragment(f: number, len: number, mtu: number, out: number, slot: number, lens: number, maxFrags: number): number;
  dp_finish_checksum(f: number, len: number): number;
}

const ETH = [0x02, 0x72, 0, 0, 0, 9, 0x02, 0x72, 0, 0, 0, 1, 0x08, 0x00];
const OUT_BYTES = 2 << 20;
const MAX_LENS = 1 << 16;

// ── generators ───────────────────────────────────────────────────────────────

/** One IPv4 option as bytes: NOP, EOL, a known option, or any type with the copy flag set or clear. */
const option = fc.oneof(
  { weight: 2, arbitrary: fc.constant([1]) },
  { weight: 1, arbitrary: fc.constant([0]) },
  {
    weight: 6,
    arbitrary: fc
      .record({ type: fc.oneof(fc.constantFrom(0x07, 0x44, 0x83, 0x89, 0x94, 0x82, 0x88), fc.integer({ min: 2, max: 255 })), body: fc.uint8Array({ maxLength: 10 }) })
      .map(({ type, body }) => [type, 2 + body.length, ...body]),
  },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 2, max: 255 }), fc.integer({ min: 0, max: 255 })).map(([t, l]) => [t, l]) }, // any length byte
);

/** An options area: up to 40 bytes, padded with zeros (EOL) to a multiple of 4; options may be cut off. */
const options = fc.array(option, { maxLength: 8 }).map((opts) => {
  const bytes = opts.flat().slice(0, 40);
  while (bytes.length % 4) bytes.push(0);
  return bytes;
});

interface Datagram {
  frame: Uint8Array;
  hl: number;
  payload: Uint8Array;
  offset: number; // bytes
  mf: boolean;
}

/** A datagram of 20..9000 bytes (header included), DF clear, maybe a fragment already, maybe padded. */
const datagram = fc
  .record({
    opts: options,
    size: fc.oneof(fc.integer({ min: 20, max: 9000 }), fc.integer({ min: 20, max: 1600 })),
    seed: fc.integer({ min: 0, max: 0xffffffff }),
    kind: fc.constantFrom("whole", "whole", "first", "middle", "last"),
    offset: fc.integer({ min: 1, max: 0x1fff }),
    reserved: fc.boolean(),
    tos: fc.integer({ min: 0, max: 255 }),
    id: fc.integer({ min: 0, max: 0xffff }),
    ttl: fc.integer({ min: 1, max: 255 }),
    proto: fc.integer({ min: 0, max: 255 }),
    pad: fc.integer({ min: 0, max: 8 }),
  })
  .map((r): Datagram => {
    const hl = 20 + r.opts.length;
    const total = Math.max(r.size, hl);
    const payload = new Uint8Array(total - hl);
    let s = r.seed;
    for (let i = 0; i < payload.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      payload[i] = s >>> 24;
    }
    const offset = r.kind === "whole" || r.kind === "first" ? 0 : Math.min(r.offset, (65535 - payload.length) >> 3) * 8;
    const mf = r.kind === "first" || r.kind === "middle";
    const flags = (r.reserved && r.seed % 4 === 0 ? 0x8000 : 0) | (mf ? 0x2000 : 0) | (offset / 8);
    const frame = new Uint8Array(14 + total + r.pad).fill(0xee);
    frame.set(ETH, 0);
    frame.set([0x40 | (hl / 4), r.tos, total >> 8, total & 255, r.id >> 8, r.id & 255, flags >> 8, flags & 255, r.ttl, r.proto, 0, 0,
      10, 0, 1, 2, 198, 51, 100, 9, ...r.opts], 14);
    frame.set(payload, 14 + hl);
    fixChecksum(frame);
    return { frame, hl, payload, offset, mf };
  });

const mtuFor = (d: Datagram) =>
  fc.oneof(fc.integer({ min: 68, max: 9000 }), fc.constantFrom(68, 576, 1280, 1492, 1500), fc.integer({ min: Math.max(68, d.frame.length - 40), max: Math.max(68, d.frame.length) }));

// ── helpers ──────────────────────────────────────────────────────────────────

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function expectSame(got: Uint8Array, want: Uint8Array, what: string): void {
  const at = firstDifference(got, want);
  if (at >= 0) {
    expect({ what, at, length: got.length, got: [...got.subarray(Math.max(0, at - 4), at + 8)] }).toEqual({
      what, at: -1, length: want.length, got: [...want.subarray(Math.max(0, at - 4), at + 8)],
    });
  }
}

describe.each(["release", "debug", "checked"] as const)("fragmentation (%s core)", (flavor) => {
  const core = new Core(flavor);
  const x = core.x as unknown as FragmentExports;
  const inAt = core.alloc(70_000);
  const outAt = core.alloc(OUT_BYTES);
  const lensAt = core.alloc(MAX_LENS * 4);
  const mem = () => new Uint8Array(x.memory.buffer);

  /** Runs dp_fragment on frame; the fragments, or the negative code (with whether anything was written). */
  function fragment(frame: Uint8Array, mtu: number, slot = (mtu + 14 + 7) & ~7, maxFrags = Math.min(MAX_LENS, Math.floor(OUT_BYTES / slot))) {
    const m = mem();
    m.set(frame, inAt);
    m.fill(0xa5, outAt, outAt + Math.min(OUT_BYTES, slot * 4));
    m.fill(0xa5, lensAt, lensAt + 16);
    const n = x.dp_fragment(inAt, frame.length, mtu, outAt, slot, lensAt, maxFrags);
    if (n < 0) {
      const untouched = m.subarray(outAt, outAt + Math.min(OUT_BYTES, slot * 4)).every((b) => b === 0xa5) && m.subarray(lensAt, lensAt + 16).every((b) => b === 0xa5);
      return { n, frags: [] as Uint8Array[], untouched };
    }
    const lens = new Int32Array(x.memory.buffer, lensAt, n);
    const frags = Array.from({ length: n }, (_, k) => m.slice(outAt + k * slot, outAt + k * slot + lens[k]!));
    return { n, frags, untouched: false };
  }

  it("cuts RFC 791's way: 552 + 552 + 376 bytes of a 1500-byte datagram for MTU 576, offsets 0, 69, 138", () => {
    const payload = Uint8Array.from({ length: 1480 }, (_, i) => i & 255);
    const f = new Uint8Array(14 + 1500);
    f.set(ETH, 0);
    f.set([0x45, 0, 0x05, 0xdc, 0xbe, 0xef, 0, 0, 63, 17, 0, 0, 10, 0, 1, 2, 198, 51, 100, 9], 14);
    f.set(payload, 34);
    fixChecksum(f);
    const { n, frags } = fragment(f, 576);
    expect(n).toBe(3);
    expect(frags.map((g) => g.length)).toEqual([14 + 20 + 552, 14 + 20 + 552, 14 + 20 + 376]);
    expect(frags.map((g) => (g[20]! << 8) | g[21]!)).toEqual([0x2000 | 0, 0x2000 | 69, 138]);
    for (const g of frags) {
      expect([...g.subarray(0, 14)]).toEqual(ETH);
      expect([g[18], g[19], g[22], g[23]]).toEqual([0xbe, 0xef, 63, 17]); // id, TTL, protocol as they were
      expect(checksum(g.subarray(14, 34))).toBe(0xffff);
    }
    expect([...frags.flatMap((g) => [...g.subarray(34)])]).toEqual([...payload]);
  });

  it("keeps copied options in every fragment and NOPs the others after the first (ip_options_fragment)", () => {
    // Record route (0x07, not copied), loose source route (0x83, copied), router alert (0x94, copied), timestamp (0x44, not copied), EOL.
    const opts = [0x07, 7, 4, 0, 0, 0, 0, 0x83, 7, 4, 1, 1, 1, 1, 0x94, 4, 0, 0, 0x44, 8, 5, 0, 0, 0, 0, 0, 0, 0];
    const hl = 20 + opts.length;
    const total = hl + 200;
    const f = new Uint8Array(14 + total);
    f.set(ETH, 0);
    f.set([0x40 | (hl / 4), 0, total >> 8, total & 255, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 1, 2, 198, 51, 100, 9, ...opts], 14);
    fixChecksum(f);
    const { n, frags } = fragment(f, hl + 96);
    expect(n).toBe(3);
    expect([...frags[0]!.subarray(34, 34 + opts.length)]).toEqual(opts);
    const later = [1, 1, 1, 1, 1, 1, 1, 0x83, 7, 4, 1, 1, 1, 1, 0x94, 4, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
    for (const g of frags.slice(1)) {
      expect(g[14]! & 15).toBe(hl / 4); // Linux keeps the header length
      expect([...g.subarray(34, 34 + opts.length)]).toEqual(later);
      expect(checksum(g.subarray(14, 14 + hl))).toBe(0xffff);
    }
  });

  it("equals the reference byte for byte on random datagrams and MTUs; fragments fit, checksums hold, reassembly gives the payload back", () => {
    fc.assert(
      fc.property(datagram.chain((d) => fc.tuple(fc.constant(d), mtuFor(d))), ([d, mtu]) => {
        const want = fragmentRef(d.frame, mtu);
        const { n, frags } = fragment(d.frame, mtu);
        if (typeof want === "number") {
          expect(n).toBe(want); // only an offset + length past 65535 can be refused here
          expect(want).toBe(FRAG_BAD);
          return;
        }
        expect(n).toBe(want.length);
        frags.forEach((g, k) => expectSame(g, want[k]!, `fragment ${k}`));
        const datagrams = frags.map((g) => g.subarray(14));
        frags.forEach((g, k) => {
          expect(g.length).toBeLessThanOrEqual(mtu + 14);
          expect(checksum(g.subarray(14, 14 + d.hl))).toBe(0xffff);
          expect((g[16]! << 8) | g[17]!).toBe(g.length - 14);
          const fl = (g[20]! << 8) | g[21]!;
          const last = k === n - 1;
          expect((fl & 0x2000) !== 0).toBe(last ? d.mf : true);
          if (!last) expect((g.length - 14 - d.hl) % 8).toBe(0);
          expect(fl & 0xc000).toBe(0);
        });
        const r = reassembleRef(datagrams);
        const end = d.offset + d.payload.length;
        const holes: [number, number][] = [];
        if (d.offset > 0) holes.push([0, d.offset - 1]);
        if (d.mf) holes.push([end, Infinity]);
        expect(r.holes).toEqual(holes);
        expectSame(r.data.subarray(d.offset, end), d.payload, "reassembled payload");
        if (d.offset === 0) expectSame(r.header!.subarray(20), d.frame.subarray(34, 14 + d.hl), "first fragment's options");
      }),
      { numRuns: 400, seed: 791 },
    );
  });

  it("refuses DF (−1), an MTU below 68 (−2) and too little room (−3), writing nothing", () => {
    fc.assert(
      fc.property(datagram, fc.integer({ min: 0, max: 67 }), (d, small) => {
        const df = d.frame.slice();
        df[20]! |= 0x40;
        fixChecksum(df);
        let r = fragment(df, 576);
        expect(r.n).toBe(FRAG_DF);
        expect(r.untouched).toBe(true);
        expect(fragmentRef(df, 576)).toBe(FRAG_DF);
        r = fragment(d.frame, small);
        expect(r.n).toBe(FRAG_BAD);
        expect(r.untouched).toBe(true);
        const want = fragmentRef(d.frame, 576);
        if (typeof want === "number") return;
        const slot = (576 + 14 + 7) & ~7;
        expect(fragment(d.frame, 576, slot, want.length).n).toBe(want.length);
        r = fragment(d.frame, 576, slot, want.length - 1);
        expect(r.n).toBe(FRAG_ROOM);
        expect(r.untouched).toBe(true);
        const biggest = Math.max(...want.map((g) => g.length));
        r = fragment(d.frame, 576, biggest - 1, 1000);
        expect(r.n).toBe(FRAG_ROOM);
        expect(r.untouched).toBe(true);
        expect(fragment(d.frame, 576, biggest, 1000).n).toBe(want.length);
      }),
      { numRuns: 200, seed: 1191 },
    );
  });

  it("cuts with 8-byte pieces at MTU 68 behind a 60-byte header, and returns a datagram that fits as itself", () => {
    const opts = Array.from({ length: 40 }, () => 1);
    const f = new Uint8Array(14 + 60 + 100);
    f.set(ETH, 0);
    f.set([0x4f, 0, 0, 160, 0, 7, 0, 0, 9, 17, 0, 0, 10, 0, 1, 2, 198, 51, 100, 9, ...opts], 14);
    fixChecksum(f);
    const { n, frags } = fragment(f, 68);
    expect(n).toBe(13);
    expect(frags.map((g) => g.length - 74)).toEqual([...Array(12).fill(8), 4]);
    expect(fragment(f, 160).frags).toEqual([f]);
    expect(fragment(f, 159).n).toBe(2);
  });

  it("answers −2 for frames that are not IPv4 datagrams, and never traps on arbitrary bytes", () => {
    const garbage = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.tuple(datagram, fc.integer({ min: 0, max: 3 }), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([d, kind, at, val]) => {
        let f = d.frame.slice();
        if (kind === 0) f[14 + (at % Math.min(40, f.length - 14))] = val; // header bytes
        if (kind === 1) f = f.slice(0, at % (f.length + 1)); // cut short
        if (kind === 2) { f[16] = val; f[17] = at & 255; } // total length
        if (kind === 3) f[14] = (f[14]! & 0xf0) | (val & 15); // IHL
        return f;
      }),
    );
    fc.assert(
      fc.property(garbage, fc.integer({ min: 0, max: 2000 }), (f, mtu) => {
        const want = fragmentRef(f, mtu, 1000, 2048);
        const { n, frags } = fragment(f, mtu, 2048, 1000);
        if (typeof want === "number") expect(n).toBe(want);
        else {
          expect(n).toBe(want.length);
          frags.forEach((g, k) => expectSame(g, want[k]!, `fragment ${k}`));
        }
      }),
      { numRuns: 1000, seed: 815 },
    );
    expect(x.dp_fragment(inAt, 0, 1500, outAt, 2048, lensAt, 10)).toBe(FRAG_BAD);
  });
});

// ── finishing CHECKSUM_PARTIAL checksums ─────────────────────────────────────

interface Segment {
  frame: Uint8Array; // with the correct checksum
  at: number; // frame offset of the checksum field
}

const l4Frame = fc
  .record({
    tcp: fc.boolean(),
    opts: fc.integer({ min: 0, max: 10 }),
    n: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 3000 })),
    seed: fc.integer({ min: 0, max: 0xffffffff }),
    src: fc.integer({ min: 0, max: 0xffffffff }),
    dst: fc.integer({ min: 0, max: 0xffffffff }),
    df: fc.boolean(),
    pad: fc.integer({ min: 0, max: 6 }),
    zero: fc.integer({ min: 0, max: 7 }),
  })
  .map((r): Segment => {
    const hl = 20 + r.opts * 4;
    const l4hdr = r.tcp ? 20 : 8;
    const total = hl + l4hdr + r.n;
    const f = new Uint8Array(14 + total + r.pad);
    let s = r.seed;
    for (let i = 0; i < f.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      f[i] = s >>> 24;
    }
    f.set(ETH, 0);
    f.set([0x40 | (hl / 4), 0, total >> 8, total & 255, 0x12, 0x34, r.df ? 0x40 : 0, 0, 64, r.tcp ? 6 : 17, 0, 0,
      r.src >>> 24, (r.src >>> 16) & 255, (r.src >>> 8) & 255, r.src & 255, r.dst >>> 24, (r.dst >>> 16) & 255, (r.dst >>> 8) & 255, r.dst & 255], 14);
    f.fill(1, 34, 14 + hl); // NOP options
    fixChecksum(f);
    const l4 = 14 + hl;
    const at = l4 + (r.tcp ? 16 : 6);
    if (!r.tcp) { f[l4 + 4] = (8 + r.n) >> 8; f[l4 + 5] = (8 + r.n) & 255; }
    else f[l4 + 12] = 0x50;
    f[at] = f[at + 1] = 0;
    if (r.zero === 0) {
      // Make the sum come out to 0xffff, so the computed checksum is 0 (sent as 0xffff).
      const word = r.tcp ? l4 + 18 : l4 + 2; // urgent pointer / destination port
      f[word] = f[word + 1] = 0;
      const rest = checksum(f.subarray(l4, 14 + total));
      const sum = (pseudoHeaderSum(f) + rest) % 0xffff || 0xffff;
      const w = (0xffff - sum) & 0xffff;
      f[word] = w >> 8;
      f[word + 1] = w & 255;
    }
    const c = ~((pseudoHeaderSum(f) + checksum(f.subarray(l4, 14 + total))) % 0xffff || 0xffff) & 0xffff;
    const sent = c === 0 ? 0xffff : c; // RFC 768: a computed 0 is sent as all ones (and Linux does so for TCP too)
    f[at] = sent >> 8;
    f[at + 1] = sent & 255;
    return { frame: f, at };
  });

/** As Linux's CHECKSUM_PARTIAL leaves it: the field holds the folded pseudo-header sum, not inverted. */
function partial(seg: Segment): Uint8Array {
  const f = seg.frame.slice();
  const ph = pseudoHeaderSum(f);
  f[seg.at] = ph >> 8;
  f[seg.at + 1] = ph & 255;
  return f;
}

describe.each(["release", "debug", "checked"] as const)("checksum completion (%s core)", (flavor) => {
  const core = new Core(flavor);
  const x = core.x as unknown as FragmentExports;
  const at = core.alloc(70_000);

  function finish(f: Uint8Array): { ok: number; frame: Uint8Array } {
    new Uint8Array(x.memory.buffer).set(f, at);
    const ok = x.dp_finish_checksum(at, f.length);
    return { ok, frame: new Uint8Array(x.memory.buffer).slice(at, at + f.length) };
  }

  it("completes TCP and UDP checksums from the pseudo-header sum to the correct value (skb_checksum_help)", () => {
    fc.assert(
      fc.property(l4Frame, (seg) => {
        const { ok, frame } = finish(partial(seg));
        expect(ok).toBe(1);
        expectSame(frame, seg.frame, "completed frame");
        const hl = (frame[14]! & 15) * 4;
        const total = (frame[16]! << 8) | frame[17]!;
        expect((pseudoHeaderSum(frame) + checksum(frame.subarray(14 + hl, 14 + total))) % 0xffff).toBe(0); // verifies
        expect((frame[seg.at]! << 8) | frame[seg.at + 1]!).not.toBe(0);
      }),
      { numRuns: 500, seed: 768 },
    );
  });

  it("writes 0xffff when the checksum computes to 0 (UDP: 0 would mean none, RFC 768)", () => {
    let seen = 0;
    fc.assert(
      fc.property(l4Frame, (seg) => {
        const f = partial(seg);
        const { frame } = finish(f);
        if ((seg.frame[seg.at]! << 8 | seg.frame[seg.at + 1]!) !== 0xffff) return;
        seen++;
        expect([frame[seg.at], frame[seg.at + 1]]).toEqual([0xff, 0xff]);
      }),
      { numRuns: 300, seed: 0xffff },
    );
    expect(seen).toBeGreaterThan(10);
  });

  it("leaves everything else untouched: other protocols, fragments, other ethertypes, short segments", () => {
    fc.assert(
      fc.property(l4Frame, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 255 }), (seg, kind, val) => {
        let f = partial(seg);
        const hl = (f[14]! & 15) * 4;
        if (kind === 0) f[23] = [1, 47, 50, 132, 0, 255][val % 6]!; // ICMP, GRE, ESP, SCTP …
        if (kind === 1) f[20] |= 0x20; // MF
        if (kind === 2) f[21] = val | 1; // an offset
        if (kind === 3) f[13] = 0xdd; // 0x86dd
        if (kind === 4) { // segment one byte too short for the field
          const total = hl + (f[23] === 6 ? 17 : 7);
          f = f.slice(0, 14 + total);
          f[16] = total >> 8;
          f[17] = total & 255;
        }
        if (kind === 5) { f[16] = 0xff; f[17] = 0xff; } // claims more than the frame holds
        if (kind !== 3) fixChecksum(f);
        const { ok, frame } = finish(f);
        expect(ok).toBe(0);
        expectSame(frame, f, "untouched frame");
        expect(finishChecksumRef(f)).toBe(null);
      }),
      { numRuns: 300, seed: 793 },
    );
  });

  it("never traps on arbitrary bytes, and agrees with the reference", () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 120 }),
      fc.tuple(l4Frame, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([seg, i, v, cut]) => {
        let f = partial(seg);
        f[i % Math.min(f.length, 80)] = v;
        if (cut) f = f.slice(0, i % (f.length + 1));
        return f;
      }),
    );
    fc.assert(
      fc.property(bytes, (f) => {
        const want = finishChecksumRef(f);
        const { ok, frame } = finish(f);
        expect(ok).toBe(want ? 1 : 0);
        expectSame(frame, want ?? f, "frame");
      }),
      { numRuns: 1000, seed: 1071 },
    );
    expect(x.dp_finish_checksum(at, 0)).toBe(0);
  });
});
