// addr.ts — the names the input and output paths share: address predicates (§6.2), route types
// (RTN_*), the errnos they answer with, and the loopback interface index.

export const LOOPBACK: u32 = 1;

export const RTN_UNICAST: u8 = 1;
export const RTN_LOCAL: u8 = 2;
export const RTN_BROADCAST: u8 = 3;
export const RTN_MULTICAST: u8 = 5;
export const RTN_UNREACHABLE: u8 = 7;

export const EXDEV: i32 = 18;
export const ENODEV: i32 = 19;
export const EINVAL: i32 = 22;
export const ENETUNREACH: i32 = 101;
export const EHOSTUNREACH: i32 = 113;

/** 127.0.0.0/8 */
// @ts-ignore: decorator
@inline export function isLoopback(a: u32): bool { return (a >>> 24) == 127; }
/** 224.0.0.0/4 */
// @ts-ignore: decorator
@inline export function isMulticast(a: u32): bool { return (a >>> 28) == 0xe; }
/** 0.0.0.0/8 */
// @ts-ignore: decorator
@inline export function isZeronet(a: u32): bool { return (a >>> 24) == 0; }
