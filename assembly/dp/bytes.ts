// bytes.ts — network byte order on the wire: big-endian 16- and 32-bit reads and writes at any address
// (frames are not aligned). No memory of its own.

// @ts-ignore: decorator
@inline export function be16(p: usize): u32 {
  return (<u32>load<u8>(p) << 8) | <u32>load<u8>(p, 1);
}

// @ts-ignore: decorator
@inline export function be32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

// @ts-ignore: decorator
@inline export function putBe16(p: usize, v: u32): void {
  store<u8>(p, <u8>(v >>> 8));
  store<u8>(p, <u8>v, 1);
}

// @ts-ignore: decorator
@inline export function putBe32(p: usize, v: u32): void {
  store<u32>(p, bswap<u32>(v));
}
