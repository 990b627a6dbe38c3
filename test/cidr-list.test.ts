// Tests of host/fib/cidr-list.ts: the CIDR list format, FILE:LINE errors, gzip, and the real table.
import { describe, it, expect, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { parseCidrList, readCidrListFile } from "../host/fib/cidr-list.ts";
import { thrown } from "./lib/thrown.ts";

describe("parseCidrList", () => {
  it("reads prefixes with their source lines, skipping blank lines and comments", () => {
    const text = [
      "# a table",
      "10.0.0.0/8",
      "",
      "   ",
      "192.168.1.0/24   # trailing comment",
      "\t1.2.3.4\r",
      "default",
      "  # indented comment",
      "0.0.0.0/0",
    ].join("\n");
    const list = parseCidrList(text, "t.txt");
    expect(Array.from(list.addrs)).toEqual([0x0a000000, 0xc0a80100, 0x01020304, 0, 0]);
    expect(Array.from(list.lens)).toEqual([8, 24, 32, 0, 0]);
    expect(Array.from(list.lines)).toEqual([2, 5, 6, 7, 9]);
  });

  it("handles CRLF, a missing final newline, and empty input", () => {
    const list = parseCidrList("1.0.0.0/24\r\n2.0.0.0/16\r\n3.0.0.0/8", "crlf.txt");
    expect(Array.from(list.lens)).toEqual([24, 16, 8]);
    expect(parseCidrList("", "empty.txt").addrs.length).toBe(0);
    expect(parseCidrList("\n\n# only comments\n", "c.txt").addrs.length).toBe(0);
  });

  it("reports the first bad line as FILE:LINE: message, on one line", () => {
    const lines = Array.from({ length: 100 }, (_, i) => `10.${i}.0.0/16`);
    lines[49] = "10.49.0.1/16";
    lines[70] = "garbage";
    const message = thrown(() => parseCidrList(lines.join("\n"), "table.txt"));
    expect(message).toBe('table.txt:50: invalid prefix "10.49.0.1/16": host bits set (did you mean 10.49.0.0/16?)');
    expect(message).not.toContain("\n");
  });

  it.each([
    ["10.0.0.0/33", 'f:2: invalid prefix length "33" in "10.0.0.0/33" (0..32)'],
    ["300.0.0.0/8", 'f:2: invalid IPv4 address "300.0.0.0" in "300.0.0.0/8"'],
    ["010.0.0.0/8", 'f:2: invalid IPv4 address "010.0.0.0" in "010.0.0.0/8"'],
    ["10.0.0.0/8 20.0.0.0/8", 'f:2: expected one CIDR per line, got "10.0.0.0/8 20.0.0.0/8"'],
    ["10.0.0.0/8\u000b", 'f:2: invalid prefix length "8\\u000b" in "10.0.0.0/8\\u000b" (0..32)'],
  ])("rejects %j", (line, message) => {
    expect(thrown(() => parseCidrList(`1.0.0.0/8\n${line}\n2.0.0.0/8\n`, "f"))).toBe(message);
  });

  it("returns exactly sized arrays past the initial capacity", () => {
    const n = 5000;
    const text = Array.from({ length: n }, (_, i) => `${i >>> 8}.${i & 255}.0.0/16`).join("\n");
    const list = parseCidrList(text, "big.txt");
    expect(list.addrs.length).toBe(n);
    expect(list.lens.length).toBe(n);
    expect(list.lines.length).toBe(n);
    expect(list.addrs[n - 1]).toBe((((n - 1) >>> 8) << 24 | ((n - 1) & 255) << 16) >>> 0);
    expect(list.lines[n - 1]).toBe(n);
  });
});

describe("readCidrListFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "wasmroute-cidr-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const text = "# test\n1.0.0.0/24\n8.8.8.0/24\n";

  it("reads plain text", () => {
    const path = join(dir, "plain.txt");
    writeFileSync(path, text);
    expect(readCidrListFile(path).addrs.length).toBe(2);
  });

  it("reads gzip by extension and by magic bytes", () => {
    const gz = join(dir, "table.txt.gz");
    writeFileSync(gz, gzipSync(text));
    expect(Array.from(readCidrListFile(gz).addrs)).toEqual([0x01000000, 0x08080800]);
    const noExt = join(dir, "table.dat");
    writeFileSync(noExt, gzipSync(text));
    expect(Array.from(readCidrListFile(noExt).lines)).toEqual([2, 3]);
  });

  it("names the file in errors", () => {
    const bad = join(dir, "bad.txt.gz");
    writeFileSync(bad, gzipSync("1.0.0.0/24\n1.0.0.1/24\n"));
    expect(thrown(() => readCidrListFile(bad))).toBe(
      `${bad}:2: invalid prefix "1.0.0.1/24": host bits set (did you mean 1.0.0.0/24?)`,
    );
    const notGz = join(dir, "not.gz");
    writeFileSync(notGz, "1.0.0.0/24\n");
    expect(thrown(() => readCidrListFile(notGz))).toMatch(new RegExp(`^${notGz}: not a valid gzip file \\(.*\\)$`));
  });

  it("parses the real BGP table (bench/data) quickly", () => {
    const path = fileURLToPath(new URL("../bench/data/bgp-ipv4-2024-01.txt.gz", import.meta.url));
    const t0 = performance.now();
    const list = readCidrListFile(path);
    const ms = performance.now() - t0;
    expect(list.addrs.length).toBe(901_899);
    expect(list.lens.filter((l) => l === 24).length).toBe(537_698);
    expect(list.lens.filter((l) => l === 8).length).toBe(16);
    expect(list.lens.filter((l) => l > 24).length).toBe(961);
    expect(list.lines[901_898]).toBe(901_899);
    // Sorted by address, as the README says.
    let sorted = true;
    for (let i = 1; i < list.addrs.length && sorted; i++) sorted = list.addrs[i - 1] <= list.addrs[i];
    expect(sorted).toBe(true);
    // Well under a second on the project's 2-vCPU VM (measured ~0.2 s); generous for noisy CI.
    expect(ms).toBeLessThan(3000);
  });
});
