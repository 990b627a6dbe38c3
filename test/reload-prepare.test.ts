// The reload's worker thread (host/router/reload-prepare.ts): what it sends back is what parsing and diffing
// on the main thread gives, a bad config comes back as its one-line error, and requests are answered in turn.
import { describe, it, expect, afterAll } from "vitest";
import { parseConfig } from "../host/router/config.ts";
import { diffConfig, diffLines } from "../host/router/config-diff.ts";
import { ReloadWorker } from "../host/router/reload-prepare.ts";
import { PCAP_ROUTER_LINES } from "./lib/pcap-router.ts";

describe("ReloadWorker", () => {
  const worker = new ReloadWorker();
  afterAll(() => worker.close());
  const base = [...PCAP_ROUTER_LINES, ""].join("\n");
  const current = parseConfig(base, "/etc/wr/r.conf");

  it("parses and diffs in the worker as the main thread would", async () => {
    const text = `${base}route add 198.18.0.0/15 via 10.201.2.2\nrule add from 10.201.1.0/24 lookup 100\nsysctl net.ipv4.route.gc_timeout=60\n`;
    const p = await worker.prepare(text, "/etc/wr/r.conf", current);
    expect(p.against).toBe(current); // the caller's own object, to check against the config in effect
    expect(p.next).toEqual(parseConfig(text, "/etc/wr/r.conf"));
    expect(diffLines(p.diff)).toEqual(diffLines(diffConfig(current, parseConfig(text, "/etc/wr/r.conf"))));
    expect(diffLines(p.diff).length).toBe(3);
  });

  it("sends a bad config back as its one-line error, and goes on answering", async () => {
    await expect(worker.prepare(`${base}route add 10.0.0.0/33 dev p1\n`, "/etc/wr/r.conf", current)).rejects.toThrow(
      /^\/etc\/wr\/r\.conf:8: invalid prefix length/,
    );
    const [a, b] = await Promise.all([
      worker.prepare(`${base}route add 192.0.2.0/24 via 10.201.2.2\n`, "/etc/wr/r.conf", current),
      worker.prepare(base, "/etc/wr/r.conf", current),
    ]);
    expect(diffLines(a.diff)).toEqual(["route add 192.0.2.0/24 via 10.201.2.2 dev p2"]);
    expect(diffLines(b.diff)).toEqual([]);
  });
});
