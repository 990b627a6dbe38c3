// The data plane's wire layer (assembly/dp/ipv4.ts) against the reference model, with fast-check:
// well-formed IPv4 frames (options included), the same frames mutated (bit flips, cut short, IHL and
// total length changed, odd ethertypes), and arbitrary bytes. Every frame gets the reference's verdict
// and fields, nothing traps; TTL − 1 with the incremental checksum equals a full recomputation.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { Core } from "../host/core/load.ts";
import { parseRef, fixChecksum, checksum } from "./ref/ipv4-ref.ts";

const SLOT = 256;

const ipv4Frame = fc
  .record({
    optWords: fc.integer({ min: 0, max: 10 }),
    payload: fc.integer({ min: 0, max: 120 }),
    ttl: fc.integer({ min: 1, max: 255 }),
    proto: fc.integer({ min: 0, max: 255 }),
    frag: fc.integer({ min: 0, max: 0xffff }),
    src: fc.integer({ min: 0, max: 0xffffffff }),
    dst: fc.integer({ min: 0, max: 0xffffffff }),
    fill: fc.integer({ min: 0, max: 255 }),
  })
  .map(({ optWords, payload, ttl, proto, frag, src, dst, fill }) => {
    const hl = 20 + optWords * 4;
    const f = new Uint8Array(Math.min(SLOT, 14 + hl + payload)).fill(fill);
    f.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00], 0);
    const total = Math.min(hl + payload, SLOT - 14);
    f.set([0x40 | (hl / 4), 0, total >> 8, total & 255, 0x12, 0x34, frag >> 8, frag & 255, ttl, proto, 0, 0], 14);
    f.set([src >>> 24, (src >>> 16) & 255, (src >>> 8) & 255, src & 255, dst >>> 24, (dst >>> 16) & 255, (dst >>> 8) & 255, dst & 255], 26);
    fixChecksum(f);
    return f;
  });

const mutated = fc.tuple(ipv4Frame, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 255 })).map(([f0, kind, at, val]) => {
  let f = f0.slice();
  if (kind === 0) f[at % f.length] ^= 1 << (val & 7); // a bit flip anywhere
  if (kind === 1) f = f.slice(0, at % (f.length + 1)); // cut short
  if (kind === 2) f[14] = (f[14]! & 0xf0) | (val & 15); // IHL
  if (kind === 3) { f[16] = val; f[17] = at & 255; } // total length
  if (kind === 4) { f[12] = val; f[13] = at & 255; } // ethertype
  if (kind === 5) { f[14] = (val & 0xf0) | (f[14]! & 15); } // version
  return f;
});

function runBatch(core: Core, frames: Uint8Array[]) {
  const x = core.x;
  const n = frames.length;
  const buf = core.alloc(n * SLOT);
  const lens = core.alloc(n * 4);
  const out = core.alloc(n * 16);
  const m8 = new Uint8Array(x.memory.buffer);
  const i32 = core.i32();
  frames.forEach((f, i) => {
    m8.set(f, buf + i * SLOT);
    i32[(lens >>> 2) + i] = f.length;
  });
  x.dp_parse_batch(buf, SLOT, lens, n, out);
  const dv = new DataView(x.memory.buffer);
  const recs = frames.map((_, i) => {
    const o = out + i * 16;
    return { verdict: dv.getUint8(o), hl: dv.getUint8(o + 1), ttl: dv.getUint8(o + 2), proto: dv.getUint8(o + 3), total: dv.getUint16(o + 4, true),
      frag: dv.getUint16(o + 6, true), src: dv.getUint32(o + 8, true), dst: dv.getUint32(o + 12, true) };
  });
  return { buf, recs };
}

describe.each(["release", "debug"] as const)("wire layer (%s core)", (flavor) => {
  const core = new Core(flavor);

  it("agrees with the reference on valid, mutated and arbitrary frames", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(ipv4Frame, mutated, fc.uint8Array({ maxLength: 80 })), { minLength: 1, maxLength: 64 }), (frames) => {
        const { recs } = runBatch(core, frames);
        frames.forEach((f, i) => expect(recs[i]).toEqual(parseRef(f)));
      }),
      { numRuns: 300, seed: 4242 },
    );
  });

  it("accepts every well-formed frame, and TTL − 1 patches the checksum like a full recomputation (RFC 1624)", () => {
    fc.assert(
      fc.property(fc.array(ipv4Frame, { minLength: 1, maxLength: 32 }), (frames) => {
        const { buf, recs } = runBatch(core, frames);
        expect(recs.every((r) => r.verdict === 0)).toBe(true);
        const m8 = new Uint8Array(core.x.memory.buffer);
        frames.forEach((f, i) => {
          core.x.dp_decrement_ttl(buf + i * SLOT);
          const want = f.slice();
          want[22] = want[22]! - 1;
          fixChecksum(want);
          expect([...m8.subarray(buf + i * SLOT, buf + i * SLOT + f.length)]).toEqual([...want]);
          expect(checksum(want.subarray(14, 14 + recs[i]!.hl))).toBe(0xffff);
        });
      }),
      { numRuns: 200, seed: 1624 },
    );
  });
});
