// The live control socket (#6) without privileges: a router with pcap ports, traffic replayed into it
// at start so the route cache has entries, then changed and read through the real CLI
// (`wasmroute --control PATH …`): routes (and the lazy cache flush they cause), neighbours, knobs,
// /proc/net/stat/rt_cache, bad input refused whole, 20 concurrent clients, and clients that hang up
// mid-request.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { PCAP_ROUTER_LINES, H1_TO_ROUTER, runCli, startRouter, stopRouter, type StartedRouter } from "./lib/pcap-router.ts";
import type { ChildProcess } from "node:child_process";
import { connect, createServer } from "node:net";
import { mkdtempSync, writeFileSync, rmSync, readFileSync, statSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PcapWriter } from "../host/io/pcap.ts";
import { udpDatagram } from "../host/sim/frames.ts";
import { parseControlArgs, sendControlCommand } from "../host/cli/control-client.ts";
import { prng } from "./ref/prng.ts";
import { rawControlMessages } from "./lib/control-raw.ts";

const dir = mkdtempSync(join(tmpdir(), "wr-ctl-"));
const sock = join(dir, "ctl.sock");
const proc = join(dir, "proc");
let router: ChildProcess;
let started: StartedRouter;

const MDNS_MAC = new Uint8Array([0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb]);
const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const ip = (s: string) => s.split(".").reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);

const wasmroute = runCli;
const ctl = (...words: string[]) => wasmroute(["--control", sock, ...words]);

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  const conf = join(dir, "r.conf");
  writeFileSync(
    conf,
    [
      ...PCAP_ROUTER_LINES,
      "",
    ].join("\n"),
  );
  const h = H1_TO_ROUTER;
  const input = join(dir, "in.pcap");
  const w = new PcapWriter(input);
  for (let i = 0; i < 20; i++) w.write(udpDatagram(h, ip("10.201.1.2"), ip("172.16.0.0") + i, 1000, 9, 20), Date.now());
  // one frame to a multicast MAC and one broadcast, for `ip -s link`'s mcast column (counts the first only)
  w.write(udpDatagram({ ...h, dstMac: MDNS_MAC }, ip("10.201.1.2"), ip("224.0.0.251"), 5353, 5353, 20), Date.now());
  w.write(udpDatagram({ ...h, dstMac: BROADCAST_MAC }, ip("10.201.1.2"), ip("10.201.1.255"), 1000, 9, 20), Date.now());
  w.close();
  started = await startRouter(["--config", conf, "--name", "ctl-test", "--proc-dir", proc, "--control", sock, "--pcap-in", `p1=${input}`, "--duration", "120"]);
  router = started.child;
}, 30_000);

afterAll(async () => {
  await stopRouter(router);
  rmSync(dir, { recursive: true, force: true });
});

describe("wasmroute -n NAME / --control PATH", () => {
  it("finds NAME's socket in /run/wasmroute", () => {
    expect(parseControlArgs(["-n", "edge", "ip", "route"])).toEqual({ path: "/run/wasmroute/edge.sock", words: ["ip", "route"] });
    expect(parseControlArgs(["--control", "/tmp/x.sock", "nstat"])).toEqual({ path: "/tmp/x.sock", words: ["nstat"] });
    expect(() => parseControlArgs(["-n", "a/b", "ip"])).toThrow(/invalid router name/);
    expect(() => parseControlArgs(["-n", "edge"])).toThrow(/missing command/);
  });

  it("puts together answers of any size from chunks of any size", async () => {
    // A scripted router: a 4 MB stdout message (a full table's `ip route show` is 60 MB), a stderr one, and
    // the exit, written as one stream cut at random places, two messages sometimes in one write.
    const dir = mkdtempSync(join(tmpdir(), "wr-ctl-chunks-"));
    const path = join(dir, "r.sock");
    const lines = Array.from({ length: 60000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.0/24 via 192.0.2.${i % 250} dev p${i % 4} é\n`);
    const wire = Buffer.from(
      [JSON.stringify({ stdout: lines.join("") }), JSON.stringify({ stderr: "a warning\n" }), JSON.stringify({ exit: 3 })].join("\n") + "\n",
      "utf8",
    );
    const rand = prng(9);
    const server = createServer((c) => {
      c.once("data", async () => {
        for (let at = 0; at < wire.length; ) {
          const n = 1 + (rand() % 200000);
          c.write(wire.subarray(at, at + n)); // may cut a UTF-8 character in two
          at += n;
          await new Promise((r) => setImmediate(r));
        }
      });
    });
    await new Promise<void>((r) => server.listen(path, r));
    try {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const status = await sendControlCommand(path, ["ip", "route", "show"], { stdout: (b) => out.push(b), stderr: (b) => err.push(b) });
      expect(status).toBe(3);
      expect(Buffer.concat(out).toString("latin1")).toBe(lines.join(""));
      expect(Buffer.concat(err).toString("latin1")).toBe("a warning\n");
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("listens on a 0600 unix socket", () => {
    expect(started.out()).toContain(`control socket ${sock}`);
    const st = statSync(sock);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
  });

  it("shows the route cache the replayed traffic filled, and a route change invalidates it", async () => {
    const cache = await until(() => ctl("ip", "-s", "route", "show", "cache"), (r) => r.out.split("\n").filter((l) => l.startsWith("172.16.")).length === 20);
    expect(cache.status).toBe(0);
    const lines = cache.out.split("\n").filter((l) => l.startsWith("172.16."));
    expect(lines).toHaveLength(20);
    expect(cache.out).toMatch(/^172\.16\.0\.5 from 10\.201\.1\.2 via 10\.201\.2\.2 dev p2 $/m);
    expect(cache.out).toMatch(/iif p1/);
    expect(cache.out).toMatch(/used 1/);

    const get1 = await ctl("ip", "route", "get", "172.16.0.5");
    expect(get1.out).toMatch(/via 10\.201\.2\.2 dev p2/);

    const add = await ctl("ip", "route", "add", "172.16.0.0/24", "via", "10.201.1.2");
    expect(add).toMatchObject({ status: 0, out: "", err: "" });
    expect((await ctl("ip", "route", "get", "172.16.0.5")).out).toMatch(/via 10\.201\.1\.2 dev p1/);
    expect((await ctl("ip", "route", "show")).out).toMatch(/^172\.16\.0\.0\/24 via 10\.201\.1\.2 dev p1 $/m);
    // rt_cache_flush(-1): every entry of the old generation is gone from the listing.
    expect((await ctl("ip", "route", "show", "cache")).out).toBe("");

    expect(started.out()).toMatch(/control: ip route add 172\.16\.0\.0\/24 via 10\.201\.1\.2/); // a change is logged
    const del = await ctl("ip", "route", "del", "172.16.0.0/24");
    expect(del.status).toBe(0);
    expect((await ctl("ip", "route", "get", "172.16.0.5")).out).toMatch(/via 10\.201\.2\.2 dev p2/);
    expect((await ctl("ip", "route", "show")).out).not.toMatch(/172\.16\.0\.0\/24/);

    expect((await ctl("ip", "route", "flush", "cache")).status).toBe(0);
    expect((await ctl("ip", "rule", "show")).out).toMatch(/^32766:\tfrom all lookup main/m);
  });

  it("shows the ports as ip -s link does: the replayed frames in, the forwarded ones out", async () => {
    const frame = 14 + 20 + 8 + 20; // Ethernet, IPv4, UDP, 20 bytes of data
    const p1 = await until(() => ctl("ip", "-s", "link", "show", "dev", "p1"), (r) => / 22 +0 +/.test(r.out));
    // RX dropped: the frames the core dropped, whatever the reason; nstat's WrDrop counters say which
    const nstat = (await ctl("nstat", "-a", "-s", "WrDrop*")).out;
    const drops = [...nstat.matchAll(/^WrDrop\w*\s+(\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
    expect(drops).toBe(1); // the multicast datagram (WrDropMulticast: no multicast routing)
    expect(p1.out.split("\n").slice(0, 2)).toEqual(["2: p1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP mode DEFAULT group default ", "    link/ether 02:77:00:00:01:01 brd ff:ff:ff:ff:ff:ff"]);
    // 22 frames in, none cut or missed (a pcap port loses nothing), the one to 01:00:5e:00:00:fb counted as multicast
    expect(p1.out.split("\n").slice(2, 4)).toEqual(["    RX:  bytes packets errors dropped  missed   mcast           ", `    ${String(22 * frame).padStart(10)}      22      0 ${String(drops).padStart(7)}       0       1 `]);
    const p2 = await ctl("ip", "-s", "-s", "link", "show", "p2");
    expect(p2.out).toMatch(new RegExp(`^ {4} +${20 * frame} +20 +0 +0 +0 +0 $`, "m")); // the 20 forwarded datagrams went out of p2
    expect(p2.out).toMatch(/^ {4}RX errors: {2}length {4}crc {3}frame {4}fifo overrun$/m);
    const [j] = JSON.parse((await ctl("ip", "-j", "-s", "link", "show", "p1")).out) as { ifname: string; stats64: { rx: { packets: number; multicast: number } } }[];
    expect([j!.ifname, j!.stats64.rx.packets, j!.stats64.rx.multicast]).toEqual(["p1", 22, 1]);
    expect((await ctl("ip", "-j", "route", "show")).err).toMatch(/-j \(JSON\) is for "ip link"/);
    expect((await ctl("ip", "-j", "route", "show", "cache")).err).toMatch(/-j \(JSON\) is for "ip link"/);
    const all = await ctl("ip", "link");
    expect(all.out.match(/^\d+: \w+:/gm)).toEqual(["2: p1:", "3: p2:"]); // the FIB's lo is index 1, and no port
    expect(await ctl("ip", "link", "show", "dev", "p9")).toMatchObject({ status: 2, err: 'Device "p9" does not exist.\n' });
    expect((await ctl("ip", "link", "set", "p1", "down")).err).toMatch(/not supported against a running router/);
  });

  it("adds, shows and deletes neighbours", async () => {
    expect((await ctl("ip", "neigh", "add", "10.201.2.7", "lladdr", "02:00:00:00:02:07", "dev", "p2")).status).toBe(0);
    const show = await ctl("ip", "neigh", "show", "dev", "p2");
    expect(show.out).toMatch(/^10\.201\.2\.7 lladdr 02:00:00:00:02:07 PERMANENT $/m);
    expect(show.out).toMatch(/^10\.201\.2\.2 lladdr 02:00:00:00:02:02 PERMANENT $/m);
    expect((await ctl("ip", "neigh", "show")).out).toMatch(/^10\.201\.2\.7 dev p2 lladdr 02:00:00:00:02:07 PERMANENT $/m);
    const again = await ctl("ip", "neigh", "add", "10.201.2.7", "lladdr", "02:00:00:00:02:08", "dev", "p2");
    expect(again.status).toBe(2);
    expect(again.err).toMatch(/File exists/);
    expect((await ctl("ip", "neigh", "replace", "10.201.2.7", "lladdr", "02:00:00:00:02:08", "dev", "p2")).status).toBe(0);
    expect((await ctl("ip", "neigh", "show", "10.201.2.7")).out).toBe("10.201.2.7 dev p2 lladdr 02:00:00:00:02:08 PERMANENT \n");
    expect((await ctl("ip", "neigh", "del", "10.201.2.7", "dev", "p2")).status).toBe(0);
    expect((await ctl("ip", "neigh", "show", "10.201.2.7")).out).toBe("");
  });

  it("writes and reads knobs, all or nothing", async () => {
    const w = await ctl("sysctl", "-w", "net.ipv4.route.gc_timeout=120", "net.ipv4.conf.p1.rp_filter=1");
    expect(w).toMatchObject({ status: 0, out: "net.ipv4.route.gc_timeout = 120\nnet.ipv4.conf.p1.rp_filter = 1\n" });
    expect((await ctl("sysctl", "-n", "net.ipv4.route.gc_timeout", "net.ipv4.conf.p1.rp_filter")).out).toBe("120\n1\n");
    const bad = await ctl("sysctl", "-w", "net.ipv4.route.gc_timeout=60", "net.ipv4.conf.p1.rp_filter=7");
    expect(bad.status).toBe(2);
    expect(bad.out).toBe("");
    expect(bad.err.trim().split("\n")).toHaveLength(1);
    expect((await ctl("sysctl", "net.ipv4.route.gc_timeout")).out).toBe("net.ipv4.route.gc_timeout = 120\n");
    const all = await ctl("sysctl", "-a");
    expect(all.out).toMatch(/^net\.ipv4\.route\.gc_elasticity = 8$/m);
    expect(all.out).toMatch(/^net\.ipv4\.conf\.p2\.rp_filter = 0$/m);
  });

  it("prints /proc/net/stat/rt_cache exactly as the statistics directory has it", async () => {
    const r = await ctl("cat", "/proc/net/stat/rt_cache");
    expect(r.status).toBe(0);
    expect(r.out).toBe(readFileSync(join(proc, "net", "stat", "rt_cache"), "latin1"));
    expect(r.out).toMatch(/^entries  in_hit in_slow_tot/);
    const n = await ctl("nstat", "-a", "-s", "IpForwDatagrams");
    expect(n.out).toMatch(/^IpForwDatagrams\s+20\s/m);
    const l = await ctl("lnstat", "-f", "rt_cache", "-c", "1", "-k", "in_slow_tot");
    expect(l.status).toBe(0);
    expect(l.out).toMatch(/in_slow_/);
  });

  it("refuses bad commands with one line, exit 2, and changes nothing", async () => {
    const before = (await ctl("ip", "route", "show", "table", "all")).out;
    for (const words of [
      ["ip", "route", "add", "10.9.0.0/16", "via"],
      ["ip", "route", "add", "10.9.0.0/16", "dev", "nosuch"],
      ["ip", "route", "del", "10.99.0.0/16"],
      ["ip", "neigh", "add", "10.201.2.9", "dev", "p2"],
      ["ip", "frob"],
      ["frobnicate"],
      ["sysctl", "net.ipv4.route.nosuch"],
      ["cat", "/etc/passwd"],
    ]) {
      const r = await ctl(...words);
      expect(r.status, words.join(" ")).toBe(2);
      expect(r.out, words.join(" ")).toBe("");
      expect(r.err.trim().split("\n"), words.join(" ")).toHaveLength(1);
    }
    expect((await ctl("ip", "route", "show", "table", "all")).out).toBe(before);
    const none = await wasmroute(["--control", join(dir, "nope.sock"), "ip", "route", "show"]);
    expect(none.status).toBe(2);
    expect(none.err).toMatch(/cannot reach the router/);
  });

  it("serves 20 concurrent clients", async () => {
    const rs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? ctl("ip", "route", "add", `10.50.${i}.0/24`, "via", "10.201.2.2") : ctl("ip", "-s", "route", "show", "cache"))),
    );
    for (const r of rs) expect(r.status).toBe(0);
    const show = (await ctl("ip", "route", "show")).out;
    for (let i = 0; i < 20; i += 2) expect(show).toMatch(new RegExp(`^10\\.50\\.${i}\\.0/24 via 10\\.201\\.2\\.2 dev p2 $`, "m"));
  }, 60_000);

  it("is unaffected by clients that hang up mid-request", async () => {
    const raw = (text: string, holdMs: number) =>
      new Promise<void>((resolve) => {
        const s = connect(sock);
        s.on("error", () => resolve());
        s.on("connect", () => {
          s.write(text);
          setTimeout(() => {
            s.destroy();
            resolve();
          }, holdMs);
        });
      });
    await raw('{"argv": ["ip", "route", "add", "10.60.0.0/16", "via", "10.201', 20); // half a request
    await raw(`${JSON.stringify({ argv: ["lnstat", "-i", "1"] })}\n`, 300); // a streaming command, left running
    await raw(`${JSON.stringify({ argv: ["ip", "route", "add", "10.61.0.0/16", "via", "10.201.2.2"] })}\n`, 0); // gone before the answer
    await raw("not json\n", 20);
    const show = await until(() => ctl("ip", "route", "show"), (r) => r.out.includes("10.61.0.0/16"));
    expect(show.status).toBe(0);
    expect(show.out).not.toMatch(/10\.60\.0\.0/);
    expect(show.out).toMatch(/^10\.61\.0\.0\/16 via 10\.201\.2\.2 dev p2 $/m); // a whole request is applied whole
    expect(router.exitCode).toBe(null);
  });

  it("streams a large route dump in pieces, with the whole dump's text and order", async () => {
    const file = join(dir, "many.txt");
    const prefixes = Array.from({ length: 10000 }, (_, i) => `100.${64 + (i >> 8)}.${i & 255}.0/24`); // ascending
    writeFileSync(file, `${prefixes.join("\n")}\n`);
    expect((await ctl("ip", "route", "load", file, "table", "300", "via", "10.201.2.2", "dev", "p2")).status).toBe(0);
    // The raw protocol, to see the pieces: {"stdout"} messages, then {"exit"}.
    const messages = await rawControlMessages(sock, ["ip", "route", "show", "table", "300"]);
    expect(messages.at(-1)).toEqual({ exit: 0 });
    const pieces = messages.filter((m) => m.stdout !== undefined).map((m) => m.stdout!);
    expect(pieces.length).toBe(3); // 10,000 routes, 4,096 a turn of the event loop
    expect(pieces.join("")).toBe(prefixes.map((p) => `${p} via 10.201.2.2 dev p2 \n`).join(""));
    expect((await ctl("ip", "route", "show", "table", "300")).out).toBe(pieces.join("")); // through the client too
  });

  it("removes its socket when it stops", async () => {
    const exited = new Promise((r) => router.once("exit", r));
    router.kill("SIGTERM");
    await exited;
    expect(router.exitCode).toBe(0);
    expect(existsSync(sock)).toBe(false);
  });
});
