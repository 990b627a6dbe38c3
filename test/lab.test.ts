// `wasmroute lab` (npm start), run as a user runs it: the live lab as root (namespaces, TAPs, the real
// table, ping, a UDP burst, lnstat rows; everything removed afterwards) and the pcap pipeline that runs
// without privileges.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { canRunLive } from "./lib/netns.ts";

const live = canRunLive("wasmroute lab, live", ["ping"]);


function lab(args: string[], timeout = 90_000): { status: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "host/cli/main.ts", "lab", ...args], { encoding: "utf8", timeout });
  return { status: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe("wasmroute lab", () => {
  it("runs the pipeline on generated frames through pcap ports (no privileges needed)", () => {
    const r = lab(["--pcap", "--table", "none", "--flows", "300"]);
    expect(r.err).toBe("");
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/replayed 608 frames from h1/);
    // lnstat's header and one row; in_slow_tot counts the new flows (300 UDP + pings + probe + ARP-less).
    const lines = r.out.split("\n");
    const head = lines.findIndex((l) => /in_slow_/.test(l));
    expect(head).toBeGreaterThan(0);
    const row = lines.slice(head + 1).find((l) => /^\s*\d/.test(l))!.trim().split(/\s*\|\s*/).map(Number);
    const names = lines[head]!.split("|").map((s) => s.trim()).filter(Boolean);
    const slow = row[names.indexOf("in_slow_")]!;
    expect(slow).toBeGreaterThanOrEqual(300);
    expect(r.out).toMatch(/p2: rx 0 frames, tx (6\d\d|5\d\d) frames/); // the flows and pings, forwarded to h2
  });

  (live ? it : it.skip)(
    "builds the live lab with the real table, pings through it, shows lnstat rows and removes everything",
    () => {
      const r = lab(["--duration", "2", "--flows", "500"]);
      expect(r.err).toBe("");
      expect(r.status).toBe(0);
      expect(r.out).toMatch(/901,899 prefixes loaded via 10\.201\.2\.2/);
      expect(r.out).toMatch(/ping -c 3 10\.201\.2\.2: 3 packets transmitted, 3 received/);
      expect(r.out).toMatch(/ping -c 3 10\.201\.1\.1: 3 packets transmitted, 3 received/);
      expect(r.out).toMatch(/namespaces and taps removed/);
      const ns = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
      expect(ns).not.toMatch(/wr-lab-/);
    },
    120_000,
  );
});
