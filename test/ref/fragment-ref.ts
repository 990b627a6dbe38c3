// Reference model of assembly/dp/fragment.ts: plain TypeScript over byte arrays, written to be read.
//  · fragmentRef: RFC 791 §3.2 "An Example Fragmentation Procedure" (the recursive one: cut off the
//    first NFB·8 bytes, send, repeat on the rest), with the Linux choices the core documents: the rest
//    keeps the header length and its non-copied options become NOPs (ip_options_fragment, only when the
//    datagram starts at offset 0), the flags word is rebuilt (reserved bit clear), a zero-length payload
//    or a datagram that fits comes back as itself.
//  · reassembleRef: RFC 815's hole-descriptor list.
//  · finishChecksumRef: skb_checksum_help on a CHECKSUM_PARTIAL TCP/UDP frame.
import { checksum } from "./ipv4-ref.ts";

export const FRAG_DF = -1;
export const FRAG_BAD = -2;
export const FRAG_ROOM = -3;

const be16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const put16 = (b: Uint8Array, o: number, v: number) => {
  b[o] = (v >> 8) & 255;
  b[o + 1] = v & 255;
};

/** The IPv4 header length of an Ethernet frame carrying a well-formed IPv4 datagram, else 0. */
export function ipv4HeaderLength(f: Uint8Array): number {
  if (f.length < 34 || be16(f, 12) !== 0x0800) return 0;
  const hl = (f[14]! & 15) * 4;
  const total = be16(f, 16);
  if (f[14]! >> 4 !== 4 || hl < 20 || total < hl || total > f.length - 14) return 0;
  return hl;
}

/** The options area split as Linux's ip_options_fragment walks it: option spans until EOL or a bad length. */
export function optionSpans(opts: Uint8Array): { at: number; len: number; type: number }[] {
  const spans: { at: number; len: number; type: number }[] = [];
  let i = 0;
  while (i < opts.length) {
    const type = opts[i]!;
    if (type === 0) break; // EOL: the rest is padding
    if (type === 1) {
      i += 1;
      continue;
    }
    if (i + 1 >= opts.length) break;
    const len = opts[i + 1]!;
    if (len < 2 || i + len > opts.length) break; // malformed: Linux stops here
    spans.push({ at: i, len, type });
    i += len;
  }
  return spans;
}

/** The header a fragment after the first carries: options without the copy flag (0x80) are NOP (1) bytes. */
export function laterFragmentHeader(header: Uint8Array): Uint8Array {
  const h = header.slice();
  const opts = h.subarray(20);
  for (const s of optionSpans(opts)) if ((s.type & 0x80) === 0) opts.fill(1, s.at, s.at + s.len);
  return h;
}

/** One output fragment: the Ethernet header, then header with the given offset/MF, then data. */
function piece(eth: Uint8Array, header: Uint8Array, data: Uint8Array, offsetBytes: number, mf: boolean): Uint8Array {
  const f = new Uint8Array(14 + header.length + data.length);
  f.set(eth, 0);
  f.set(header, 14);
  f.set(data, 14 + header.length);
  put16(f, 16, header.length + data.length);
  put16(f, 20, (offsetBytes / 8) | (mf ? 0x2000 : 0));
  put16(f, 24, 0);
  put16(f, 24, ~checksum(f.subarray(14, 14 + header.length)) & 0xffff);
  return f;
}

/**
 * Fragments an Ethernet frame for an IPv4 MTU: the frames, or FRAG_DF / FRAG_BAD / FRAG_ROOM.
 * slot bounds every frame's length, maxFrags their number.
 */
export function fragmentRef(frame: Uint8Array, mtu: number, maxFrags = Infinity, slot = Infinity): Uint8Array[] | number {
  const hl = ipv4HeaderLength(frame);
  if (hl === 0 || mtu < 68) return FRAG_BAD;
  const eth = frame.subarray(0, 14);
  const header = frame.slice(14, 14 + hl);
  const total = be16(frame, 16);
  const flags = be16(frame, 20);
  if (flags & 0x4000) return FRAG_DF;
  const offset = (flags & 0x1fff) * 8;
  const moreAfter = (flags & 0x2000) !== 0;
  const data = frame.subarray(14 + hl, 14 + total);
  if (offset + data.length > 65535) return FRAG_BAD;

  // RFC 791 §3.2, iterated: while the rest does not fit, send NFB·8 bytes of it with MF set.
  const out: Uint8Array[] = [];
  const later = offset === 0 ? laterFragmentHeader(header) : header;
  const nfb = Math.floor((mtu - hl) / 8);
  let at = 0;
  let h: Uint8Array = header;
  while (hl + (data.length - at) > mtu) {
    out.push(piece(eth, h, data.subarray(at, at + nfb * 8), offset + at, true));
    at += nfb * 8;
    h = later;
  }
  out.push(piece(eth, h, data.subarray(at), offset + at, moreAfter));
  if (out.length > maxFrags || out.some((f) => f.length > slot)) return FRAG_ROOM;
  return out;
}

export interface Reassembly {
  /** Bytes by fragment offset (up to the highest end seen). */
  data: Uint8Array;
  /** RFC 815 holes still open: [first, last] byte numbers, last = Infinity when no last fragment came. */
  holes: [number, number][];
  /** The header of the fragment at offset 0, if any. */
  header: Uint8Array | null;
}

/** RFC 815 reassembly of IPv4 datagrams (each starting at its IP header, fragments of one datagram). */
export function reassembleRef(datagrams: Uint8Array[]): Reassembly {
  let holes: [number, number][] = [[0, Infinity]];
  let end = 0;
  for (const d of datagrams) end = Math.max(end, (be16(d, 6) & 0x1fff) * 8 + be16(d, 2) - (d[0]! & 15) * 4);
  const data = new Uint8Array(end);
  let header: Uint8Array | null = null;
  for (const d of datagrams) {
    const hl = (d[0]! & 15) * 4;
    const first = (be16(d, 6) & 0x1fff) * 8;
    const bytes = d.subarray(hl, be16(d, 2));
    const last = first + bytes.length - 1;
    const more = (be16(d, 6) & 0x2000) !== 0;
    if (first === 0) header = d.slice(0, hl);
    data.set(bytes, first);
    const next: [number, number][] = [];
    for (const [hf, hlast] of holes) {
      if (first > hlast || last < hf) { // steps 2, 3: this hole is not touched
        next.push([hf, hlast]);
        continue;
      }
      // step 4: the hole goes; steps 5, 6: what is left of it on either side
      if (first > hf) next.push([hf, first - 1]);
      if (last < hlast && more) next.push([last + 1, hlast]);
    }
    // RFC 791: the fragment without MF fixes the datagram's length, so nothing past its end is a hole
    // (step 6 already does this for one that carries data; an empty one ends the datagram at first).
    holes = more ? next : next.filter(([hf]) => hf <= last).map(([hf, hlast]) => [hf, Math.min(hlast, last)] as [number, number]);
  }
  return { data, holes, header };
}

/** The pseudo-header sum of RFC 793 / RFC 768 over an IPv4 frame's addresses, protocol and L4 length. */
export function pseudoHeaderSum(f: Uint8Array): number {
  const hl = (f[14]! & 15) * 4;
  const l4len = be16(f, 16) - hl;
  const ph = new Uint8Array(12);
  ph.set(f.subarray(26, 34), 0);
  ph[9] = f[23]!;
  put16(ph, 10, l4len);
  return checksum(ph);
}

/** skb_checksum_help on a copy of frame f: the completed frame, or null when the core must leave it. */
export function finishChecksumRef(f: Uint8Array): Uint8Array | null {
  const hl = ipv4HeaderLength(f);
  if (hl === 0) return null;
  if (be16(f, 20) & 0x3fff) return null;
  const proto = f[23];
  const at = proto === 6 ? 16 : proto === 17 ? 6 : -1;
  if (at < 0) return null;
  const total = be16(f, 16);
  if (total - hl < at + 2) return null;
  const g = f.slice();
  const seg = g.subarray(14 + hl, 14 + total);
  const c = ~checksum(seg) & 0xffff;
  put16(seg, at, c === 0 ? 0xffff : c);
  return g;
}
