// Fairness between ports under a flood (host/router/dataplane.ts, pump): both directions of an
// AF_PACKET router get frames queued while the router is stopped (SIGSTOP), 1,500 each, more than one
// port turn of the old 16-batch pump would leave for the other port. After SIGCONT the router drains both
// rings. tcpdump on each host records when each frame came out; merged by time, the frames of the two
// directions must alternate in runs of about one batch (256), not one direction's whole queue first.
// Root only (CI is root); bounded in time; the lab is removed afterwards, also on failure.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import type { ChildProcess } from "node:child_process";
import { canRunLive } from "./lib/netns.ts";
import { Lab } from "./lib/lab.ts";

const run = canRunLive("fairness between ports", ["ping", "tcpdump", "ethtool"]) ? describe : describe.skip;

const FRAMES = 1500; // < 1,920 ring slots: nothing is lost while the router is stopped
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** UDP datagrams from inside ns to dst:9, `count` of them, as fast as Node sends them. */
function udpFlood(lab: Lab, ns: string, dst: string, count: number): void {
  const r = lab.udpFlood(ns, dst, count);
  expect(r.status, r.err).toBe(0);
}

/** tcpdump's -tt timestamps (µs) of UDP frames from src seen on ifname in ns, as they are printed. */
function capture(lab: Lab, ns: string, ifname: string, src: string): { proc: ChildProcess; times: number[] } {
  const proc = lab.background(ns, ["timeout", "20", "tcpdump", "-nn", "-tt", "-l", "-i", ifname, `udp and src ${src}`]);
  const times: number[] = [];
  let tail = "";
  proc.stdout!.on("data", (d: Buffer) => {
    const lines = (tail + d.toString()).split("\n");
    tail = lines.pop()!;
    for (const l of lines) {
      const m = /^(\d+)\.(\d{6}) /.exec(l);
      if (m) times.push(Number(m[1]) * 1e6 + Number(m[2]));
    }
  });
  return { proc, times };
}

run("fairness between ports under a flood (AF_PACKET router)", () => {
  const lab = new Lab({ kind: "packet" });
  beforeAll(async () => {
    await lab.start();
  }, 60_000);
  afterAll(async () => {
    lab.router?.kill("SIGCONT");
    await lab.stop();
  });

  it("takes one batch from each port in turn: neither direction waits for the other's whole queue", async () => {
    // Neighbours resolved both ways (router and hosts) before the router is stopped.
    expect(lab.exec(lab.h1, ["ping", "-c", "2", "-i", "0.2", "-W", "2", "10.201.2.2"]).out).toMatch(/2 received/);
    expect(lab.exec(lab.h2, ["ping", "-c", "2", "-i", "0.2", "-W", "2", "10.201.1.2"]).out).toMatch(/2 received/);
    const toH2 = capture(lab, lab.h2, lab.if2, "10.201.1.2");
    const toH1 = capture(lab, lab.h1, lab.if1, "10.201.2.2");
    await sleep(1000); // tcpdump listening
    lab.router!.kill("SIGSTOP");
    try {
      udpFlood(lab, lab.h1, "10.201.2.2", FRAMES);
      udpFlood(lab, lab.h2, "10.201.1.2", FRAMES);
      await sleep(300);
      expect(toH2.times.length + toH1.times.length).toBe(0); // nothing forwarded while stopped
    } finally {
      lab.router!.kill("SIGCONT");
    }
    const t0 = Date.now();
    while ((toH2.times.length < FRAMES || toH1.times.length < FRAMES) && Date.now() - t0 < 10_000) await sleep(50);
    toH2.proc.kill();
    toH1.proc.kill();
    expect([toH2.times.length, toH1.times.length]).toEqual([FRAMES, FRAMES]);
    // Merged by time: the longest run of one direction's frames.
    const merged = [...toH2.times.map((t) => ({ t, d: 2 })), ...toH1.times.map((t) => ({ t, d: 1 }))].sort((a, b) => a.t - b.t);
    let longest = 0;
    for (let i = 0, run = 0; i < merged.length; i++) {
      run = i > 0 && merged[i]!.d === merged[i - 1]!.d ? run + 1 : 1;
      longest = Math.max(longest, run);
    }
    // One batch is 256 frames; a 16-batch turn would send one direction's 1,500 in one run.
    expect(longest, `longest run ${longest}`).toBeLessThanOrEqual(600);
    expect(longest).toBeGreaterThanOrEqual(256 / 2); // and batches are still batches
  }, 60_000);
});
