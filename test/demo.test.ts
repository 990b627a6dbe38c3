// `wasmroute demo` (the FIB tour): the real table loads, queries answer through the policy rules, and the
// batched sweep reports a lookup rate. Driven through the real command line, as a user runs it.
import { describe, it, expect } from "vitest";
import { execFileSync } from "node:child_process";

describe("wasmroute demo", () => {
  it("loads the real table and answers queries", () => {
    const out = execFileSync(process.execPath, ["--import", "tsx", "host/cli/main.ts", "demo"], { encoding: "utf8", timeout: 60_000 });
    expect(out).toMatch(/loaded 901899 prefixes/);
    expect(out).toMatch(/lookup structure: [0-7]\.\d\d MiB/);
    expect(out).toContain("10.1.2.3 from 10.1.0.5 via 198.18.0.1 dev eth1 table 100");
    expect(out).toContain("198.51.100.7 from 1.2.3.4 via 192.0.2.1 dev eth0");
    expect(out).toContain("198.51.100.7 from 1.2.3.6 via 198.18.0.1 dev eth1");
    expect(out).toContain("blackhole 203.0.113.9");
    expect(out).toContain("prohibit 100.64.1.1");
    expect(out).toContain("100:\tfrom 10.1.0.0/16 lookup 100");
    expect(out).toMatch(/looked up 1048576 random destinations in [\d.]+ ms \(\d+ M lookups\/s\)/);
  });
});
