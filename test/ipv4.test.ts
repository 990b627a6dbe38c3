// Tests of host/fib/ipv4.ts: strict dotted-quad / CIDR parsing, its error messages, and agreement
// with the ip-address library as an oracle.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { Address4 } from "ip-address";
import {
  formatIPv4,
  formatPrefix,
  maskOf,
  parseAddress,
  parseIPv4,
  parsePrefix,
  scanIPv4,
  scanPrefix,
} from "../host/fib/ipv4.ts";

/** The oracle's value of an address string it accepts. */
function oracle(s: string): number {
  return Number(new Address4(s).bigInt());
}

describe("parseIPv4", () => {
  it("parses the extremes", () => {
    expect(parseIPv4("0.0.0.0")).toBe(0);
    expect(parseIPv4("255.255.255.255")).toBe(0xffffffff);
    expect(parseIPv4("1.2.3.4")).toBe(0x01020304);
    expect(parseIPv4("128.0.0.1")).toBe(0x80000001); // unsigned, never negative
  });

  it.each([
    ["", "empty"],
    ["1.2.3", "three octets"],
    ["1.2.3.4.5", "five octets"],
    ["256.1.1.1", "octet > 255"],
    ["1.2.3.1000", "four digits"],
    ["1..3.4", "empty octet"],
    [".1.2.3", "leading dot"],
    ["1.2.3.4.", "trailing dot"],
    ["01.2.3.4", "leading zero"],
    ["1.2.3.010", "leading zero (octal to inet_aton)"],
    ["1.2.3.00", "double zero"],
    [" 1.2.3.4", "leading space"],
    ["1.2.3.4 ", "trailing space"],
    ["1.2.3.4\n", "trailing newline"],
    ["1.2.3.4x", "trailing junk"],
    ["1.2.3.4/32", "a prefix is not an address"],
    ["0x1.2.3.4", "hex"],
    ["+1.2.3.4", "sign"],
    ["١.2.3.4", "non-ASCII digit"],
  ])("rejects %j (%s)", (s) => {
    expect(parseIPv4(s)).toBeUndefined();
  });

  it("round-trips through formatIPv4", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        expect(parseIPv4(formatIPv4(n))).toBe(n);
      }),
    );
  });

  it("scanIPv4 parses a range of a larger string", () => {
    const s = "xx10.1.2.3/8yy";
    expect(scanIPv4(s, 2, 10)).toBe(0x0a010203);
    expect(scanIPv4(s, 2, 11)).toBe(-1);
  });
});

describe("parseAddress", () => {
  it("returns the value or throws a one-line message", () => {
    expect(parseAddress("10.0.0.1")).toBe(0x0a000001);
    expect(() => parseAddress("300.1.1.1")).toThrow(/^invalid IPv4 address "300\.1\.1\.1"$/);
    expect(() => parseAddress("1.2.3.4\nevil")).toThrow(/^invalid IPv4 address "1\.2\.3\.4\\nevil"$/);
  });
});

describe("parsePrefix", () => {
  it("accepts CIDR, bare addresses and default", () => {
    expect(parsePrefix("0.0.0.0/0")).toEqual({ addr: 0, len: 0 });
    expect(parsePrefix("default")).toEqual({ addr: 0, len: 0 });
    expect(parsePrefix("255.255.255.255/32")).toEqual({ addr: 0xffffffff, len: 32 });
    expect(parsePrefix("255.255.255.255")).toEqual({ addr: 0xffffffff, len: 32 });
    expect(parsePrefix("10.0.0.0/8")).toEqual({ addr: 0x0a000000, len: 8 });
    expect(parsePrefix("192.168.1.0/24")).toEqual({ addr: 0xc0a80100, len: 24 });
    expect(parsePrefix("128.0.0.0/1")).toEqual({ addr: 0x80000000, len: 1 });
  });

  it.each([
    ["10.0.0.1/8", 'invalid prefix "10.0.0.1/8": host bits set (did you mean 10.0.0.0/8?)'],
    ["0.0.0.1/0", 'invalid prefix "0.0.0.1/0": host bits set (did you mean 0.0.0.0/0?)'],
    ["10.0.0.0/33", 'invalid prefix length "33" in "10.0.0.0/33" (0..32)'],
    ["10.0.0.0/", 'invalid prefix length "" in "10.0.0.0/" (0..32)'],
    ["10.0.0.0/08", 'invalid prefix length "08" in "10.0.0.0/08" (0..32)'],
    ["10.0.0.0/8x", 'invalid prefix length "8x" in "10.0.0.0/8x" (0..32)'],
    ["10.0.0.0/-1", 'invalid prefix length "-1" in "10.0.0.0/-1" (0..32)'],
    ["10.0.0.0/8/8", 'invalid prefix length "8/8" in "10.0.0.0/8/8" (0..32)'],
    ["300.1.1.1", 'invalid IPv4 address "300.1.1.1"'],
    ["300.1.1.0/24", 'invalid IPv4 address "300.1.1.0" in "300.1.1.0/24"'],
    ["010.0.0.0/8", 'invalid IPv4 address "010.0.0.0" in "010.0.0.0/8"'],
    ["/8", 'invalid IPv4 address "" in "/8"'],
    ["", 'invalid prefix "": empty'],
    ["Default", 'invalid IPv4 address "Default"'],
    [" 10.0.0.0/8", 'invalid IPv4 address " 10.0.0.0" in " 10.0.0.0/8"'],
    ["10.0.0.0/8 ", 'invalid prefix length "8 " in "10.0.0.0/8 " (0..32)'],
  ])("rejects %j", (s, message) => {
    expect(() => parsePrefix(s)).toThrow(new Error(message));
  });

  it("keeps error messages on one line and short for hostile input", () => {
    const long = `1.2.3.4/${"9".repeat(10_000)}\n`;
    let message = "";
    try {
      parsePrefix(long);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^invalid prefix length "9+…" in "1\.2\.3\.4\/9+…" \(0\.\.32\)$/);
    expect(message.length).toBeLessThan(200);
  });

  it("scanPrefix packs addr * 64 + len and reports -1", () => {
    expect(scanPrefix("10.0.0.0/8", 0, 10)).toBe(0x0a000000 * 64 + 8);
    expect(scanPrefix("1.2.3.4", 0, 7)).toBe(0x01020304 * 64 + 32);
    expect(scanPrefix("10.0.0.1/8", 0, 10)).toBe(-1);
    expect(scanPrefix("default", 0, 7)).toBe(-1); // only parsePrefix knows the word
  });

  it("round-trips every prefix through formatPrefix", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (a, len) => {
        const addr = (a & maskOf(len)) >>> 0;
        expect(parsePrefix(formatPrefix(addr, len))).toEqual({ addr, len });
      }),
    );
  });
});

describe("maskOf / formatting", () => {
  it("gives unsigned masks", () => {
    expect(maskOf(0)).toBe(0);
    expect(maskOf(1)).toBe(0x80000000);
    expect(maskOf(24)).toBe(0xffffff00);
    expect(maskOf(32)).toBe(0xffffffff);
  });

  it("formats addresses and prefixes", () => {
    expect(formatIPv4(0)).toBe("0.0.0.0");
    expect(formatIPv4(0xffffffff)).toBe("255.255.255.255");
    expect(formatIPv4(-1)).toBe("255.255.255.255"); // a signed int32 view of the same bits
    expect(formatPrefix(0x0a000000, 8)).toBe("10.0.0.0/8");
  });
});

// Oracle: ip-address 10.x. It agrees with us on addresses: it too rejects octets with a leading
// zero ("IPv4 addresses can't have leading zeroes."), whitespace, hex and empty octets.
// Deliberate differences, on prefixes only (so the prefix property is one-way):
// - ip-address allows host bits ("10.0.0.1/8" is valid); parsePrefix rejects them.
// - ip-address reads the length with /\/\d{1,2}$/ and parseInt, so "/08" is 8; we reject a
//   leading zero in the length as in the octets.
// - "default" is ours (iproute2's word); a bare address is /32 in both.
describe("agreement with ip-address (Address4)", () => {
  const octet = fc.integer({ min: 0, max: 255 });
  const quad = fc.tuple(octet, octet, octet, octet).map((o) => o.join("."));

  it("valid dotted quads: same value", () => {
    fc.assert(
      fc.property(fc.oneof(quad, fc.ipV4()), (s) => {
        expect(Address4.isValid(s)).toBe(true);
        expect(parseIPv4(s)).toBe(oracle(s));
      }),
      { numRuns: 2000 },
    );
  });

  // Strings from a small alphabet, built char by char and from number-ish tokens (so that
  // near-misses such as "1.2.3.04" or "1.2.256.4" come up often).
  const alphabet = "0123456789./ax-".split("");
  const charString = fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 20 });
  const token = fc.oneof(
    fc.integer({ min: 0, max: 300 }).map(String),
    fc.constantFrom("0", "00", "01", "010", "255", "256", "."),
    fc.constantFrom(...alphabet),
  );
  const tokenString = fc
    .array(token, { maxLength: 9 })
    .map((parts) => parts.join(""))
    .chain((s) => fc.oneof(fc.constant(s), fc.integer({ min: 0, max: 40 }).map((len) => `${s}/${len}`)));
  // Three to five octet-ish parts: well-formed mostly, with leading zeros, overflow, junk.
  const part = fc.oneof(
    { weight: 4, arbitrary: octet.map(String) },
    { weight: 1, arbitrary: fc.constantFrom("00", "01", "010", "001", "0255", "256", "999", "1000", "", "a", "-1", " 1") },
  );
  const nearQuad = fc
    .array(part, { minLength: 3, maxLength: 5 })
    .map((parts) => parts.join("."))
    .chain((q) => fc.constantFrom(q, `${q}/24`, `${q}/08`, `${q}x`));
  const anyString = fc.oneof(charString, tokenString, nearQuad, quad.chain((q) => fc.constantFrom(q, `${q}/24`)));

  it("addresses: parseIPv4 accepts exactly what Address4 accepts (for strings without '/')", () => {
    fc.assert(
      fc.property(anyString, (s) => {
        const ours = parseIPv4(s);
        if (ours !== undefined) {
          expect(Address4.isValid(s)).toBe(true);
          expect(ours).toBe(oracle(s));
        } else if (!s.includes("/")) {
          expect(Address4.isValid(s)).toBe(false);
        }
      }),
      { numRuns: 20_000 },
    );
  });

  it("prefixes: whatever parsePrefix accepts, Address4 accepts with the same value", () => {
    fc.assert(
      fc.property(anyString, (s) => {
        let ours: { addr: number; len: number } | undefined;
        try {
          ours = parsePrefix(s);
        } catch {
          return;
        }
        const a = new Address4(s);
        expect(a.subnetMask).toBe(ours.len);
        expect(Number(a.bigInt())).toBe(ours.addr);
        expect(Number(a.startAddress().bigInt())).toBe(ours.addr); // host bits clear
      }),
      { numRuns: 20_000 },
    );
  });
});
