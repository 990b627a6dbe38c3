// MAC addresses as text (host/router/mac.ts): the one parser and formatter every part of the router uses.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { formatMac, parseMac } from "../host/router/mac.ts";
import { thrown } from "./lib/thrown.ts";

describe("MAC addresses", () => {
  it("reads upper-case and one-digit bytes and prints them as iproute2 does", () => {
    const m = parseMac("0A:1b:C:d:00:ff");
    expect([...m]).toEqual([0x0a, 0x1b, 0x0c, 0x0d, 0x00, 0xff]);
    expect(formatMac(m)).toBe("0a:1b:0c:0d:00:ff");
    expect(formatMac([2, 0x77, 0, 0, 1, 1, 99])).toBe("02:77:00:00:01:01");
  });

  it("round-trips every six bytes, through upper case too", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (b) => {
        const text = formatMac(b);
        expect(text).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
        expect([...parseMac(text)]).toEqual([...b]);
        expect([...parseMac(text.toUpperCase())]).toEqual([...b]);
      }),
    );
  });

  it("refuses anything else in one line naming the text and what it was", () => {
    expect(thrown(() => parseMac("02:00:00:00:00"))).toBe(`invalid MAC address "02:00:00:00:00" (expected six hex bytes like 02:00:00:00:00:01)`);
    expect(thrown(() => parseMac("02-00-00-00-00-01", "lladdr"))).toBe(`invalid lladdr "02-00-00-00-00-01" (expected six hex bytes like 02:00:00:00:00:01)`);
    for (const bad of ["", "02:00:00:00:00:001", "02:00:00:00:00:0g", " 02:00:00:00:00:01", "02:00:00:00:00:01:02", "02::00:00:00:01"]) {
      expect(() => parseMac(bad)).toThrow(/^invalid MAC address /);
    }
  });
});
