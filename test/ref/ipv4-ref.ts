// Reference model of the wire layer (assembly/dp/ipv4.ts): plain TypeScript over byte arrays, written
// from RFC 791 / RFC 1812 §5.2.2, so the property tests can check every verdict and field.
export interface ParseRecord {
  verdict: number; // 0 IPv4 ok, 1 ARP, 2 other, 3 runt, 4 header error, 5 truncated
  hl: number;
  ttl: number;
  proto: number;
  total: number;
  frag: number;
  src: number;
  dst: number;
}

export function checksum(bytes: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i]! << 8) | (i + 1 < bytes.length ? bytes[i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s; // folded sum; 0xffff over a header with a correct checksum
}

export function parseRef(f: Uint8Array): ParseRecord {
  const r: ParseRecord = { verdict: 0, hl: 0, ttl: 0, proto: 0, total: 0, frag: 0, src: 0, dst: 0 };
  if (f.length < 14) return { ...r, verdict: 3 };
  const type = (f[12]! << 8) | f[13]!;
  if (type === 0x0806) return { ...r, verdict: 1 };
  if (type !== 0x0800) return { ...r, verdict: 2 };
  const ip = f.subarray(14);
  if (ip.length < 20) return { ...r, verdict: 4 };
  const hl = (ip[0]! & 15) * 4;
  const total = (ip[2]! << 8) | ip[3]!;
  let verdict = 0;
  if (ip[0]! >> 4 !== 4 || hl < 20 || hl > ip.length || total < hl) verdict = 4;
  else if (checksum(ip.subarray(0, hl)) !== 0xffff) verdict = 4;
  else if (total > ip.length) verdict = 5;
  if (hl >= 20 && hl <= ip.length) {
    const u32 = (o: number) => ((ip[o]! << 24) | (ip[o + 1]! << 16) | (ip[o + 2]! << 8) | ip[o + 3]!) >>> 0;
    return { verdict, hl, ttl: ip[8]!, proto: ip[9]!, total, frag: (ip[6]! << 8) | ip[7]!, src: u32(12), dst: u32(16) };
  }
  return { ...r, verdict };
}

/** Writes a correct header checksum into the IPv4 header at frame offset 14. */
export function fixChecksum(f: Uint8Array): void {
  const hl = (f[14]! & 15) * 4;
  f[24] = f[25] = 0;
  const c = ~checksum(f.subarray(14, 14 + hl)) & 0xffff;
  f[24] = c >> 8;
  f[25] = c & 255;
}
