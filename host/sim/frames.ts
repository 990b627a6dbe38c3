/**
 * Ethernet II frames a host would send, built byte by byte for generated traffic (the lab's pcap mode,
 * benchmarks): ARP requests (RFC 826), ICMP echo requests (RFC 792), UDP datagrams (RFC 768) and TCP segments (RFC 793) in
 * IPv4 (RFC 791) with correct header and payload checksums.
 */

export interface Hosts {
  srcMac: Uint8Array;
  dstMac: Uint8Array;
}

/** The Internet checksum (RFC 1071) of b[from, to), ones' complement, with seed added in (a pseudo-header's sum). */
export function checksum(b: Uint8Array, from: number, to: number, seed = 0): number {
  let s = seed;
  for (let i = from; i + 1 < to; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if ((to - from) & 1) s += b[to - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Writes v big-endian (network order) at b[o]. */
export function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

export function put32(b: Uint8Array, o: number, v: number): void {
  put16(b, o, v >>> 16);
  put16(b, o + 2, v & 0xffff);
}

let ipId = 1;

/** An IPv4 frame carrying payload (proto), with the header checksum filled in. */
export function ipv4Frame(h: Hosts, src: number, dst: number, proto: number, payload: Uint8Array, opts: { ttl?: number; df?: boolean; tos?: number } = {}): Uint8Array {
  const f = new Uint8Array(14 + 20 + payload.length);
  f.set(h.dstMac, 0);
  f.set(h.srcMac, 6);
  put16(f, 12, 0x0800);
  f[14] = 0x45;
  f[15] = opts.tos ?? 0;
  put16(f, 16, 20 + payload.length);
  put16(f, 18, ipId++ & 0xffff);
  put16(f, 20, opts.df ? 0x4000 : 0);
  f[22] = opts.ttl ?? 64;
  f[23] = proto;
  put32(f, 26, src);
  put32(f, 30, dst);
  put16(f, 24, checksum(f, 14, 34));
  f.set(payload, 34);
  return f;
}

/** An ICMP echo request with `size` bytes of data. */
export function echoRequest(h: Hosts, src: number, dst: number, id: number, seq: number, size = 56, opts: { ttl?: number } = {}): Uint8Array {
  const p = new Uint8Array(8 + size);
  p[0] = 8;
  put16(p, 4, id);
  put16(p, 6, seq);
  for (let i = 0; i < size; i++) p[8 + i] = i & 0xff;
  put16(p, 2, checksum(p, 0, p.length));
  return ipv4Frame(h, src, dst, 1, p, opts);
}

/** A UDP datagram with `size` bytes of payload and its checksum (pseudo-header included). */
export function udpDatagram(h: Hosts, src: number, dst: number, sport: number, dport: number, size = 18, opts: { ttl?: number } = {}): Uint8Array {
  const len = 8 + size;
  const p = new Uint8Array(len);
  put16(p, 0, sport);
  put16(p, 2, dport);
  put16(p, 4, len);
  const pseudo = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 17 + len;
  const c = checksum(p, 0, len, pseudo);
  put16(p, 6, c === 0 ? 0xffff : c);
  return ipv4Frame(h, src, dst, 17, p, opts);
}

/** A TCP segment (no options) with `flags` (0x02 SYN, 0x10 ACK, 0x04 RST, 0x01 FIN) and `size` bytes of data. */
export function tcpSegment(h: Hosts, src: number, dst: number, sport: number, dport: number, seq: number, ack: number, flags: number, size = 0): Uint8Array {
  const len = 20 + size;
  const p = new Uint8Array(len);
  put16(p, 0, sport);
  put16(p, 2, dport);
  put32(p, 4, seq >>> 0);
  put32(p, 8, ack >>> 0);
  p[12] = 0x50;
  p[13] = flags;
  put16(p, 14, 64240);
  const pseudo = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 6 + len;
  put16(p, 16, checksum(p, 0, len, pseudo));
  return ipv4Frame(h, src, dst, 6, p, { df: true });
}

/** A broadcast ARP request: who has `target`? tell `sender`. */
export function arpRequest(srcMac: Uint8Array, sender: number, target: number): Uint8Array {
  const f = new Uint8Array(42);
  f.fill(0xff, 0, 6);
  f.set(srcMac, 6);
  put16(f, 12, 0x0806);
  put16(f, 14, 1);
  put16(f, 16, 0x0800);
  f[18] = 6;
  f[19] = 4;
  put16(f, 20, 1);
  f.set(srcMac, 22);
  put32(f, 28, sender);
  put32(f, 38, target);
  return f;
}
