// `ip [-s [-s]] link show` text (host/cli/format-link.ts) against iproute2's own: real veths in a wr-
// namespace, one of them sent 160,000 frames of 64,000 bytes (10.2 GB, so the bytes column grows to
// 11 digits), read by `ip -j -s -s link show` and handed to the formatter, which must print what
// `ip [-s [-s]] link show` prints, byte for byte. Plus one hand-worked table of wide columns (no root).
import { describe, it, expect, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { formatLinks, formatLinksJson, type LinkView } from "../host/cli/format-link.ts";
import { wrio } from "../host/io/wrio.ts";
import { canRunLive, createNetns, deleteNetns, ip } from "./lib/netns.ts";

const run = canRunLive("ip link against iproute2", []) ? describe : describe.skip;

describe("formatLinks", () => {
  it("widens a column to its widest number and keeps the others", () => {
    const zero = { errors: 0, dropped: 0, over_errors: 0, length_errors: 0, crc_errors: 0, frame_errors: 0, fifo_errors: 0, missed_errors: 0 };
    const view: LinkView = {
      ifindex: 7, ifname: "p1", flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"], mtu: 1500, operstate: "UP", linkmode: "DEFAULT", group: "default",
      link_type: "ether", address: "02:00:00:00:00:01", broadcast: "ff:ff:ff:ff:ff:ff",
      stats64: {
        rx: { ...zero, bytes: 5, packets: 123456789, multicast: 0, missed_errors: 12345678 },
        tx: { bytes: 0, packets: 0, errors: 0, dropped: 0, carrier_errors: 0, collisions: 0, aborted_errors: 0, fifo_errors: 0, window_errors: 0, heartbeat_errors: 0, carrier_changes: 3 },
      },
    };
    // packets: 9 digits, so that column is 9 wide; missed: 8 digits, 8 wide; the rest keep their headers' widths
    expect(formatLinks([view], 2)).toBe(
      "7: p1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP mode DEFAULT group default \n" +
        "    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n" +
        "    RX:  bytes   packets errors dropped   missed   mcast           \n" +
        "             5 123456789      0       0 12345678       0 \n" +
        "    RX errors:    length    crc   frame     fifo overrun\n" +
        "                       0      0       0        0       0 \n" +
        "    TX:  bytes   packets errors dropped  carrier collsns           \n" +
        "             0         0      0       0        0       0 \n" +
        "    TX errors:   aborted   fifo  window  heartbt transns\n" +
        "                       0      0       0        0       3 \n",
    );
    expect(formatLinks([view])).toBe("7: p1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP mode DEFAULT group default \n    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n");
  });
});

run("formatLinks against iproute2's ip link show", () => {
  const ns = `wr-fmt-${process.pid % 100000}`;
  afterAll(() => deleteNetns(ns));

  it("prints real veths' counters as iproute2 6.1 does, at -s levels 0, 1 and 2, with and without -o, and as -j JSON", () => {
    createNetns(ns);
    // quiet links: the JSON read first and the text read after must see the same counters, so no IPv6
    // housekeeping (router solicitations, MLD reports) may send a frame in between
    for (const k of ["all", "default"]) expect(spawnSync("ip", ["netns", "exec", ns, "sysctl", "-qw", `net.ipv6.conf.${k}.disable_ipv6=1`], { timeout: 5000 }).status).toBe(0);
    ip("-n", ns, "link", "add", "wr-fa", "mtu", "65000", "type", "veth", "peer", "name", "wr-fb", "mtu", "65000");
    ip("-n", ns, "link", "set", "wr-fa", "up");
    ip("-n", ns, "link", "set", "wr-fb", "up");
    const peer = (JSON.parse(ip("-n", ns, "-j", "link", "show", "wr-fb")) as { address: string }[])[0]!.address;
    // 64,000-byte frames to wr-fb's own MAC; not IPv4 that wr-fb's stack would answer (version 0): dropped there
    const size = 64_000;
    const batch = 16;
    const frames = new Uint8Array(size * batch);
    for (let i = 0; i < batch; i++) {
      frames.set(peer.split(":").map((h) => parseInt(h, 16)), i * size);
      frames[i * size + 12] = 0x08;
    }
    const lens = new Int32Array(batch).fill(size);
    const w = wrio();
    const fd = w.packetOpen("wr-fa", `/run/netns/${ns}`, 2048, false);
    let sent = 0;
    const t0 = Date.now();
    try {
      while (sent < 160_000 && Date.now() - t0 < 30_000) sent += w.sendBatch(fd, frames, 0, size, lens, batch);
    } finally {
      w.close(fd);
    }
    expect(sent).toBeGreaterThanOrEqual(160_000);
    const views = JSON.parse(ip("-n", ns, "-j", "-s", "-s", "link", "show")) as LinkView[];
    expect(String(views.find((v) => v.ifname === "wr-fb")!.stats64.rx.bytes).length).toBe(11);
    for (const level of [0, 1, 2]) {
      const json = ip("-n", ns, "-j", ...Array<string>(level).fill("-s"), "link", "show");
      expect(formatLinksJson(views, level), `-j, -s × ${level}`).toBe(json);
      for (const oneline of [false, true]) {
        const real = ip("-n", ns, ...(oneline ? ["-o"] : []), ...Array<string>(level).fill("-s"), "link", "show");
        expect(formatLinks(views, level, oneline), `-s × ${level}${oneline ? ", -o" : ""}`).toBe(real);
      }
    }
  }, 60_000);
});
