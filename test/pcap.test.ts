// pcap files as tcpdump reads and writes them: our writer's file decodes in tcpdump, a file tcpdump
// wrote reads back frame for frame, and broken files give one-line errors.
import { describe, it, expect, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PcapWriter, readPcap } from "../host/io/pcap.ts";

const dir = mkdtempSync(join(tmpdir(), "wasmroute-pcap-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasTcpdump = spawnSync("tcpdump", ["--version"]).status === 0;
if (process.env.CI && !hasTcpdump) throw new Error("CI must have tcpdump installed (.ci/run installs it)");

const theirs = [2, 0, 0, 0, 0, 2];
const ours = [2, 0, 0, 0, 0, 1];
const arpRequest = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...theirs, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1, ...theirs, 10, 199, 0, 2, 0, 0, 0, 0, 0, 0, 10, 199, 0, 1]);
const arpReply = new Uint8Array([...theirs, ...ours, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 2, ...ours, 10, 199, 0, 1, ...theirs, 10, 199, 0, 2]);

describe("pcap", () => {
  it("writes captures tcpdump decodes, and reads back what it wrote", () => {
    const f = join(dir, "ours.pcap");
    const w = new PcapWriter(f);
    w.write(arpRequest, 1_700_000_000_123.456);
    const slot = 64;
    const buf = new Uint8Array(slot * 2);
    buf.set(arpReply, 0);
    buf.set(arpRequest, slot);
    w.writeBatch(buf, 0, slot, new Int32Array([arpReply.length, arpRequest.length]), 2, 1_700_000_001_000);
    w.close();
    const back = readPcap(f);
    expect(back.map((x) => [...x.data])).toEqual([[...arpRequest], [...arpReply], [...arpRequest]]);
    expect(back[0]!.timeMs).toBeCloseTo(1_700_000_000_123.456, 3);
    if (!hasTcpdump) return;
    const t = spawnSync("tcpdump", ["-r", f, "-nn"], { encoding: "utf8", timeout: 10_000 });
    const lines = t.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/ARP, Request who-has 10\.199\.0\.1 tell 10\.199\.0\.2/);
    expect(lines[1]).toMatch(/ARP, Reply 10\.199\.0\.1 is-at 02:00:00:00:00:01/);
    // tcpdump rewrites the file with its own writer (nanosecond precision asked): we read that too
    const g = join(dir, "theirs.pcap");
    expect(spawnSync("tcpdump", ["-r", f, "-w", g, "--time-stamp-precision", "nano"], { timeout: 10_000 }).status).toBe(0);
    expect(readPcap(g).map((x) => [...x.data])).toEqual(back.map((x) => [...x.data]));
  });

  it("refuses files that are not Ethernet pcap, or cut short, with one line naming the file", () => {
    const bad = join(dir, "bad.pcap");
    writeFileSync(bad, Buffer.from("not a capture at all, just text"));
    expect(() => readPcap(bad)).toThrow(new RegExp(`^${bad}: not a pcap file`));
    const f = join(dir, "cut.pcap");
    const w = new PcapWriter(f);
    w.write(arpRequest, 0);
    w.close();
    const whole = readPcap(f);
    expect(whole).toHaveLength(1);
    const cut = join(dir, "cut2.pcap");
    writeFileSync(cut, readFileSync(f).subarray(0, 24 + 16 + 10));
    expect(() => readPcap(cut)).toThrow(/truncated record at byte 24/);
  });
});
