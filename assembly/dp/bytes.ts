// bytes.ts — network byte order on the wire: big-endian 16- and 32-bit reads and writes at any address
// (frames are not aligned). No memory of its own. In the checked build each access asserts its frame
// window (window.ts); elsewhere that assert compiles to nothing.
import { frameRead, frameWrite } from "./window";

// @ts-ignore: decorator
@inline export function be16(p: usize): u32 {
  frameRead(p, 2);
  return (<u32>load<u8>(p) << 8) | <u32>load<u8>(p, 1);
}

// @ts-ignore: decorator
@inline export function be32(p: usize): u32 {
  frameRead(p, 4);
  return bswap<u32>(load<u32>(p));
}

// @ts-ignore: decorator
@inline export function putBe16(p: usize, v: u32): void {
  frameWrite(p, 2);
  store<u8>(p, <u8>(v >>> 8));
  store<u8>(p, <u8>v, 1);
}

// @ts-ignore: decorator
@inline export function putBe32(p: usize, v: u32): void {
  frameWrite(p, 4);
  store<u32>(p, bswap<u32>(v));
}
