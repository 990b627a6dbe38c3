// `ip route show cache` of a large cache through the control socket: a router whose replayed traffic
// made 10,000 cache entries answers with all of them (spec §1.6: every hashed entry of the current genid),
// in pieces of 4,096 with the event loop turning between them, and a prefix filter applies across pieces.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { PCAP_ROUTER_LINES, H1_TO_ROUTER, runCli, startRouter, stopRouter, type StartedRouter } from "./lib/pcap-router.ts";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PcapWriter } from "../host/io/pcap.ts";
import { udpDatagram } from "../host/sim/frames.ts";
import { formatIPv4 } from "../host/fib/ipv4.ts";
import { rawControlMessages, type ControlMessage } from "./lib/control-raw.ts";

const FLOWS = 10_000;
const H1 = 0x0ac90102; // 10.201.1.2
const dstOf = (i: number) => 0xac100001 + i; // 172.16.0.1 on, inside 172.16/12

const dir = mkdtempSync(join(tmpdir(), "wr-ctl-cache-"));
const sock = join(dir, "ctl.sock");
let started: StartedRouter | undefined;

const ctl = (...words: string[]) => runCli(["--control", sock, ...words]);

beforeAll(async () => {
  const conf = join(dir, "r.conf");
  writeFileSync(conf, `${PCAP_ROUTER_LINES.join("\n")}\n`);
  const input = join(dir, "in.pcap");
  const w = new PcapWriter(input);
  for (let i = 0; i < FLOWS; i++) w.write(udpDatagram(H1_TO_ROUTER, H1, dstOf(i), 1000, 9, 20), Date.now());
  w.close();
  // 16,384 buckets: gc_thresh above the 10,000 flows, so the GC leaves every entry in place
  started = await startRouter(["--config", conf, "--name", "ctl-cache-test", "--control", sock, "--rhash-entries", "16384", "--pcap-in", `p1=${input}`, "--duration", "120"]);
}, 30_000);

afterAll(async () => {
  await stopRouter(started?.child);
  rmSync(dir, { recursive: true, force: true });
});

describe("ip route show cache of a large cache, through the control socket", () => {
  it("lists every entry, in pieces of 4,096 a turn of the event loop", async () => {
    const want = Array.from({ length: FLOWS }, (_, i) => formatIPv4(dstOf(i))).sort();
    let messages: ControlMessage[] = [];
    let dsts: string[] = [];
    for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
      messages = await rawControlMessages(sock, ["ip", "route", "show", "cache"]);
      const text = messages.map((m) => m.stdout ?? "").join("");
      dsts = [...text.matchAll(/^(\S+) from 10\.201\.1\.2 via 10\.201\.2\.2 dev p2 \n {4}cache <src-direct> {2}iif p1$/gm)].map((m) => m[1]!);
      if (dsts.length >= FLOWS) break; // the replay may still be going on
    }
    expect(messages.at(-1)).toEqual({ exit: 0 });
    expect(dsts.length).toBe(FLOWS); // before: at most 65,536 entries, in one piece; each line matched the format
    expect([...dsts].sort()).toEqual(want); // each entry once
    const pieces = messages.filter((m) => m.stdout !== undefined);
    expect(pieces.length).toBe(3); // 10,000 entries (and the router's own, if any), 4,096 a piece
    expect(pieces.slice(0, -1).every((m) => m.stdout!.match(/^\S.* \n {4}cache/gm)!.length === 4096)).toBe(true);

    const client = await ctl("ip", "route", "show", "cache");
    expect(client.status).toBe(0);
    expect(client.out).toBe(messages.map((m) => m.stdout ?? "").join("")); // the client joins the pieces
  });

  it("filters by prefix across the pieces", async () => {
    const r = await ctl("ip", "route", "show", "cache", "172.16.20.0/23");
    expect(r.status).toBe(0);
    const dsts = [...r.out.matchAll(/^(\S+) from /gm)].map((m) => m[1]!).sort();
    const want = Array.from({ length: FLOWS }, (_, i) => dstOf(i)).filter((d) => d >>> 9 === 0xac101400 >>> 9).map(formatIPv4).sort();
    expect(want.length).toBe(512);
    expect(dsts).toEqual(want);
  });
});
