// Reference model of assembly/dp/gso.ts's segmentation, plain TypeScript written to be read: a TCPv4
// super-frame is its headers and a payload; segment k carries payload bytes [k·mss, (k+1)·mss), the
// super-frame's Ethernet, IPv4 (options too) and TCP headers with IP id + k, total length, seq + k·mss,
// FIN/PSH only on the last, CWR only on the first, and both checksums computed from scratch
// (inet_gso_segment + tcp_gso_segment). Also: how a captured frame's TCP checksum stands (complete,
// partial as an offloaded frame carries it, or bad).
import { checksum, fixChecksum } from "./ipv4-ref.ts";
import { pseudoHeaderSum } from "./fragment-ref.ts";

export const GSO_BAD = -2;
export const GSO_ROOM = -3;

const be16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const be32 = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const put16 = (b: Uint8Array, o: number, v: number) => {
  b[o] = (v >> 8) & 255;
  b[o + 1] = v & 255;
};
const put32 = (b: Uint8Array, o: number, v: number) => {
  put16(b, o, v >>> 16);
  put16(b, o + 2, v & 0xffff);
};

/** Writes the full TCP checksum of an Ethernet + IPv4 + TCP frame (pseudo-header, header, payload). */
export function fixTcpChecksum(f: Uint8Array): void {
  const hl = (f[14]! & 15) * 4;
  const tcp = f.subarray(14 + hl, 14 + be16(f, 16));
  put16(tcp, 16, 0);
  let s = pseudoHeaderSum(f) + checksum(tcp);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  put16(tcp, 16, ~s & 0xffff);
}

/** The segments of super-frame f for gso_size mss, or GSO_BAD / GSO_ROOM. */
export function segmentRef(frame: Uint8Array, mss: number, maxSegs = Infinity): Uint8Array[] | number {
  if (frame.length < 34) return GSO_BAD;
  const hl = (frame[14]! & 15) * 4;
  const total = be16(frame, 16);
  if (hl < 20 || total < hl || 14 + total > frame.length) return GSO_BAD;
  const f = frame.subarray(0, 14 + total); // Ethernet padding is not payload
  if (f[23] !== 6 || be16(f, 20) & 0x3fff || f.length < 14 + hl + 20) return GSO_BAD;
  const thl = (f[14 + hl + 12]! >> 4) * 4;
  if (thl < 20 || 14 + hl + thl > f.length) return GSO_BAD;
  if (mss === 0) return GSO_ROOM;
  const hdrs = 14 + hl + thl;
  const payload = f.subarray(hdrs);
  const n = payload.length === 0 ? 1 : Math.ceil(payload.length / mss);
  if (n > maxSegs) return GSO_ROOM;
  const id = be16(f, 18);
  const seq = be32(f, 14 + hl + 4);
  const flags = f[14 + hl + 13]!;
  const out: Uint8Array[] = [];
  for (let k = 0; k < n; k++) {
    const piece = payload.subarray(k * mss, (k + 1) * mss);
    const s = new Uint8Array(hdrs + piece.length);
    s.set(f.subarray(0, hdrs));
    s.set(piece, hdrs);
    put16(s, 16, hl + thl + piece.length);
    put16(s, 18, (id + k) & 0xffff);
    fixChecksum(s);
    put32(s, 14 + hl + 4, (seq + k * mss) >>> 0);
    let fl = flags;
    if (k < n - 1) fl &= ~(0x01 | 0x08); // FIN, PSH
    if (k > 0) fl &= ~0x80; // CWR
    s[14 + hl + 13] = fl;
    fixTcpChecksum(s);
    out.push(s);
  }
  return out;
}

/**
 * How the TCP checksum of a captured IPv4 frame stands: "complete" (verifies), "partial" (holds the
 * folded pseudo-header sum, as a frame with offloaded checksum does before the NIC finishes it), "bad",
 * or "ip-bad" when the IPv4 header checksum itself is wrong; "other" for anything not TCP over IPv4.
 */
export function tcpChecksumState(f: Uint8Array): "complete" | "partial" | "bad" | "ip-bad" | "other" {
  if (f.length < 34 || be16(f, 12) !== 0x0800 || f[23] !== 6) return "other";
  const hl = (f[14]! & 15) * 4;
  if (checksum(f.subarray(14, 14 + hl)) !== 0xffff) return "ip-bad";
  const total = be16(f, 16);
  if (14 + total > f.length) return "other"; // cut by the capture length
  const tcp = f.subarray(14 + hl, 14 + total);
  let s = pseudoHeaderSum(f) + checksum(tcp);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  if (s === 0xffff) return "complete";
  if (be16(tcp, 16) === pseudoHeaderSum(f)) return "partial";
  return "bad";
}
