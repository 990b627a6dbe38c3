/**
 * IPv4 text handling: strict dotted-quad and CIDR parsing/formatting with one-line error messages.
 *
 * Addresses are unsigned 32-bit numbers (0 .. 2^32-1). Parsing is hand-written over `charCodeAt`
 * so that bulk loaders (BGP table dumps, ~1M lines) stay fast; the `scan*` functions work on a
 * range of a larger string without slicing it and report failure as -1 instead of throwing.
 *
 * Accepted syntax (deliberately strict, no whitespace anywhere):
 * - address: exactly 4 decimal octets 0..255 separated by "."; an octet with a leading zero
 *   ("010", "00") is rejected, because inet_aton and the WHATWG URL parser read it as octal.
 * - prefix: "A.B.C.D/LEN" with LEN 0..32 (decimal, no leading zero), bare "A.B.C.D" (= /32), or
 *   the word "default" (= 0.0.0.0/0, as iproute2). Host bits must be clear.
 */

const DOT = 46; // "."
const SLASH = 47; // "/"
const ZERO = 48; // "0"

/** Longest piece of user input quoted back in an error message. */
const QUOTE_MAX = 64;

/** Quotes user input for an error message: JSON escaping keeps the message on one line. */
function quote(s: string): string {
  return JSON.stringify(s.length > QUOTE_MAX ? `${s.slice(0, QUOTE_MAX)}…` : s);
}

/**
 * Parses `s[start, end)` as a dotted quad.
 * @returns the address as an unsigned 32-bit number, or -1 if the range is not a valid address
 */
export function scanIPv4(s: string, start: number, end: number): number {
  let i = start;
  let value = 0;
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0) {
      if (i >= end || s.charCodeAt(i) !== DOT) return -1;
      i++;
    }
    const first = i;
    let v = 0;
    while (i < end) {
      const d = s.charCodeAt(i) - ZERO;
      if (d < 0 || d > 9) break;
      if (i - first === 3) return -1; // a fourth digit
      v = v * 10 + d;
      i++;
    }
    const digits = i - first;
    if (digits === 0 || v > 255 || (digits > 1 && s.charCodeAt(first) === ZERO)) return -1;
    value = (value << 8) | v;
  }
  return i === end ? value >>> 0 : -1;
}

/**
 * Parses `s[start, end)` as "A.B.C.D/LEN" or bare "A.B.C.D" (= /32); host bits must be clear.
 * "default" is not handled here (see {@link parsePrefix}).
 * @returns `addr * 64 + len` (exact in a double), or -1 on any error
 */
export function scanPrefix(s: string, start: number, end: number): number {
  let slash = end;
  // The address part is at most 15 characters, so the slash is found quickly.
  for (let i = start; i < end; i++) {
    if (s.charCodeAt(i) === SLASH) {
      slash = i;
      break;
    }
  }
  const addr = scanIPv4(s, start, slash);
  if (addr < 0) return -1;
  let len = 32;
  if (slash < end) {
    const n = end - slash - 1;
    if (n < 1 || n > 2) return -1;
    const d0 = s.charCodeAt(slash + 1) - ZERO;
    if (d0 < 0 || d0 > 9) return -1;
    len = d0;
    if (n === 2) {
      const d1 = s.charCodeAt(slash + 2) - ZERO;
      if (d0 === 0 || d1 < 0 || d1 > 9) return -1;
      len = d0 * 10 + d1;
      if (len > 32) return -1;
    }
  }
  if (((addr & ~maskOf(len)) >>> 0) !== 0) return -1;
  return addr * 64 + len;
}

/** Parses a dotted quad; `undefined` if `s` is not exactly a valid IPv4 address. */
export function parseIPv4(s: string): number | undefined {
  const v = scanIPv4(s, 0, s.length);
  return v < 0 ? undefined : v;
}

/** Like {@link parseIPv4} but throws `invalid IPv4 address "…"`. */
export function parseAddress(s: string): number {
  const v = scanIPv4(s, 0, s.length);
  if (v < 0) throw new Error(`invalid IPv4 address ${quote(s)}`);
  return v;
}

/** Formats an unsigned 32-bit address as a dotted quad. */
export function formatIPv4(n: number): string {
  n >>>= 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Netmask of a prefix length 0..32 as an unsigned number (0 → 0, 32 → 0xffffffff). */
export function maskOf(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** Formats a prefix as "a.b.c.d/len". */
export function formatPrefix(addr: number, len: number): string {
  return `${formatIPv4(addr)}/${len}`;
}

/**
 * Parses "A.B.C.D/LEN", bare "A.B.C.D" (= /32) or "default" (= 0.0.0.0/0).
 * @throws Error with a one-line message naming what is wrong, e.g.
 *   `invalid prefix "10.0.0.1/8": host bits set (did you mean 10.0.0.0/8?)`
 */
export function parsePrefix(s: string): { addr: number; len: number } {
  const v = scanPrefix(s, 0, s.length);
  if (v >= 0) return { addr: Math.floor(v / 64), len: v % 64 };
  if (s === "default") return { addr: 0, len: 0 };
  throw new Error(prefixError(s));
}

/** Explains why `s` is not a prefix (only called once the fast path has failed). */
function prefixError(s: string): string {
  if (s.length === 0) return `invalid prefix "": empty`;
  const slash = s.indexOf("/");
  if (slash < 0) return `invalid IPv4 address ${quote(s)}`;
  const addrText = s.slice(0, slash);
  const lenText = s.slice(slash + 1);
  const addr = scanIPv4(addrText, 0, addrText.length);
  if (addr < 0) return `invalid IPv4 address ${quote(addrText)} in ${quote(s)}`;
  if (!/^(?:[0-9]|[1-9][0-9])$/.test(lenText) || Number(lenText) > 32) {
    return `invalid prefix length ${quote(lenText)} in ${quote(s)} (0..32)`;
  }
  const len = Number(lenText);
  const net = (addr & maskOf(len)) >>> 0;
  return `invalid prefix ${quote(s)}: host bits set (did you mean ${formatPrefix(net, len)}?)`;
}
