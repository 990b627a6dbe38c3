// When a running router runs the core's timers (host/router/tick-schedule.ts): at each timer's due time,
// not on a fixed tick. A router on pcap ports, its clock and timers faked (vitest's fake timers), so
// that "at 1,007 ms" means exactly that: an idle router wakes about once a second instead of 50 times,
// and keeps the 20 ms cadence only while frames come;
// ARP retries and the failed neighbour's ICMP error go out on the millisecond they are due, not up to a
// tick late; a static neighbour added through the control socket releases the frames held for it at once.
// (That no call into the core can arm a timer the host does not hear of is checked against the models:
// test/neigh.test.ts and test/cache-model.test.ts.)
import { describe, it, expect, afterEach, vi } from "vitest";
import { connect } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Router } from "../host/router/router.ts";
import { ControlServer } from "../host/router/control.ts";
import { parseConfig } from "../host/router/config.ts";
import { udpDatagram } from "../host/sim/frames.ts";
import { parseMac } from "../host/router/mac.ts";
import { Logger } from "../host/router/logger.ts";
import { BUSY_TICK_MS, IDLE_AFTER_MS, MAX_SLEEP_MS } from "../host/router/tick-schedule.ts";
import { PCAP_ROUTER_LINES, H1_TO_ROUTER } from "./lib/pcap-router.ts";

const ip = (s: string) => s.split(".").reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);
/** The no-root tests' two-port router; 10.201.2.0/24 beyond h2 (10.201.2.2) is unresolved. */
const CONFIG = `${PCAP_ROUTER_LINES.join("\n")}\n`;

let router: Router | undefined;
let control: ControlServer | undefined;
let dir: string | undefined;
afterEach(async () => {
  await control?.close();
  router?.stop();
  vi.useRealTimers();
  if (dir) rmSync(dir, { recursive: true, force: true });
  router = control = dir = undefined;
});

/** A router on the fake clock; every frame it sends, with the fake time it left at. */
function start(): { r: Router; sent: { at: number; port: string; frame: Uint8Array }[] } {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "performance"] });
  const r = Router.start(parseConfig(CONFIG, "t.conf"), { logger: new Logger("text", () => {}) });
  router = r;
  const sent: { at: number; port: string; frame: Uint8Array }[] = [];
  for (const [name, p] of r.ports) {
    const send = p.device.sendList.bind(p.device);
    p.device.sendList = (buf, offsets, lens, first, n, vnet) => {
      const bytes = new Uint8Array(buf instanceof ArrayBuffer ? buf : buf.buffer);
      for (let k = first; k < first + n; k++) sent.push({ at: performance.now(), port: name, frame: bytes.slice(offsets[k]!, offsets[k]! + lens[k]!) });
      return send(buf, offsets, lens, first, n, vnet);
    };
  }
  return { r, sent };
}

const isArp = (f: Uint8Array) => f[12] === 0x08 && f[13] === 0x06;
const isIcmpUnreachable = (f: Uint8Array) => f[12] === 0x08 && f[13] === 0x00 && f[23] === 1 && f[34] === 3;
/** A datagram from h1 (on p1) to dst, as p1's device would hand it over. */
const toward = (r: Router, dst: string) => r.dp.receive(r.ports.get("p1")!.ifindex, [udpDatagram(H1_TO_ROUTER, ip("10.201.1.2"), ip(dst), 1000, 9, 20)]);

/** One request over the control socket; resolves to its exit status. */
async function controlRun(path: string, argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let buf = "";
    s.on("error", reject);
    s.on("data", (d) => {
      buf += d.toString();
      const exit = buf.split("\n").map((l) => (l ? (JSON.parse(l) as { exit?: number }) : {})).find((m) => m.exit !== undefined);
      if (exit) {
        s.end();
        resolve(exit.exit!);
      }
    });
    s.write(`${JSON.stringify({ argv })}\n`);
  });
}

describe("the core's timers run when due", () => {
  it("an idle router wakes about once a second, not every 20 ms", () => {
    const { r } = start();
    const before = r.dp.timers.ticks;
    vi.advanceTimersByTime(10_000);
    const ticks = r.dp.timers.ticks - before;
    // nothing is due in the first 10 s (the neighbour GC at reachable_time ≥ 15 s, the cache's scan at
    // ≥ 60 s): only the bound's wake-ups; a fixed 20 ms tick would have made 500
    expect(ticks).toBeGreaterThanOrEqual(10_000 / MAX_SLEEP_MS - 1);
    expect(ticks).toBeLessThanOrEqual(10_000 / MAX_SLEEP_MS + 1);
  });

  it("while frames come it ticks every 20 ms, as the kernel's tick runs on a busy CPU; a second after the last it sleeps again", () => {
    const { r } = start();
    vi.advanceTimersByTime(5_000);
    const count = (ms: number) => {
      const before = r.dp.timers.ticks;
      vi.advanceTimersByTime(ms);
      return r.dp.timers.ticks - before;
    };
    expect(count(500)).toBeLessThanOrEqual(1); // idle
    const before = r.dp.timers.ticks;
    for (let i = 0; i < 50; i++) {
      toward(r, "10.201.1.2"); // back to h1, a static neighbour: forwarded, no timer armed
      vi.advanceTimersByTime(10);
    }
    // 500 ms of frames 10 ms apart: the cadence from the first frame on, then for IDLE_AFTER_MS more
    expect(r.dp.timers.ticks - before).toBeGreaterThanOrEqual(500 / BUSY_TICK_MS - 1);
    expect(count(IDLE_AFTER_MS - 100)).toBeGreaterThanOrEqual((IDLE_AFTER_MS - 100) / BUSY_TICK_MS - 1);
    count(200); // past IDLE_AFTER_MS since the last frame
    expect(count(3_000)).toBeLessThanOrEqual(3_000 / MAX_SLEEP_MS + 1);
  });

  it("a tick that fails does not stop the timers", () => {
    const { r } = start();
    vi.advanceTimersByTime(10);
    const dp = r.dp as unknown as { send: (groups: number) => void };
    dp.send = () => {
      throw new Error("a bug in the transmit path");
    };
    expect(() => vi.advanceTimersByTime(MAX_SLEEP_MS)).toThrow(/transmit path/);
    delete (dp as { send?: unknown }).send; // the class's own again
    const before = r.dp.timers.ticks;
    vi.advanceTimersByTime(3 * MAX_SLEEP_MS);
    expect(r.dp.timers.ticks - before).toBeGreaterThanOrEqual(2);
  });

  it("ARP retries and the unreachable neighbour's ICMP error leave on the millisecond they are due", () => {
    const { r, sent } = start();
    vi.advanceTimersByTime(7); // off any 20 ms grid
    const t0 = performance.now();
    expect(toward(r, "10.201.2.77").verdicts).toEqual([2]); // held for ARP; the first request now
    vi.advanceTimersByTime(3500);
    const arps = sent.filter((s) => s.port === "p2" && isArp(s.frame)).map((s) => s.at - t0);
    const errors = sent.filter((s) => s.port === "p1" && isIcmpUnreachable(s.frame)).map((s) => s.at - t0);
    // retrans_time 1 s, mcast_solicit 3: requests at 0, 1,000 and 2,000 ms; FAILED at 3,000 ms, when the
    // held frame gets its host unreachable
    expect(arps).toEqual([0, 1000, 2000]);
    expect(errors).toEqual([3000]);
  });

  it("a static neighbour added through the control socket sends the frames held for it at once", async () => {
    const { r, sent } = start();
    dir = mkdtempSync(join(tmpdir(), "wr-tick-"));
    const path = join(dir, "control.sock");
    control = await ControlServer.start(r, path);
    vi.advanceTimersByTime(3);
    expect(toward(r, "10.201.2.9").verdicts).toEqual([2]);
    vi.advanceTimersByTime(400); // well before the retry at 1 s
    const t0 = performance.now();
    expect(await controlRun(path, ["ip", "neigh", "replace", "10.201.2.9", "lladdr", "02:00:00:00:02:09", "dev", "p2", "nud", "permanent"])).toBe(0);
    vi.advanceTimersByTime(1);
    const udp = sent.filter((s) => s.port === "p2" && s.frame[23] === 17);
    expect(udp.map((s) => s.at - t0)).toEqual([0]); // at once, not at the next wake-up
    expect([...udp[0]!.frame.subarray(0, 6)]).toEqual([...parseMac("02:00:00:00:02:09")]);
  });
});
