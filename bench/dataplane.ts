/**
 * The data-plane pipeline benchmark (issue #4/#5): frames per second through `dp_input` in one process,
 * with no device in the way — what the core costs per frame before any syscall. A router with pcap ports
 * (host/router), the real table via h2 (or `--table none`), a static neighbour for h2, and 60-byte UDP
 * frames (18 bytes of payload, as testbed.md's generator) from h1 to 1, 1,000 or 100,000 destinations
 * spread over the table, 256 frames per call. Every batch is first copied into the receive area from
 * compact templates (as recv would write it; the pipeline rewrites frames in place), and that copy is
 * timed alone too, so the core's share is the difference.
 */
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Router } from "../host/router/router.ts";
import { parseConfig } from "../host/router/config.ts";
import { Logger } from "../host/router/logger.ts";
import { readCidrListFile } from "../host/fib/cidr-list.ts";
import { udpDatagram } from "../host/sim/frames.ts";
import { parseMac } from "../host/router/mac.ts";

const here = dirname(fileURLToPath(import.meta.url));
const TABLE = join(here, "data", "bgp-ipv4-2024-01.txt.gz");
const BATCH = 256;

const CONFIG = `
link add p1 type pcap address 02:77:00:00:01:01
link add p2 type pcap address 02:77:00:00:02:01
addr add 10.201.1.1/24 dev p1
addr add 10.201.2.1/24 dev p2
neigh add 10.201.2.2 lladdr 02:00:00:00:02:02 dev p2
`;

interface Row {
  flows: number;
  frames: number;
  mpps: number;
  nsPerFrame: number;
  copyNsPerFrame: number;
  forwarded: number;
}

export async function runDataplaneBench(args: string[]): Promise<{ json: unknown; table: string }> {
  const quick = args.includes("--quick");
  const noTable = args.includes("--table") && args[args.indexOf("--table") + 1] === "none";
  let clock = 1;
  const router = Router.start(parseConfig(CONFIG, "<bench>"), { clock: () => clock, logger: new Logger("text", () => {}), slots: BATCH });
  try {
    let dsts: number[];
    const mixes = quick ? [1, 1000] : [1, 1000, 100_000];
    const maxFlows = Math.max(...mixes);
    if (noTable) {
      router.fib.addRoute({ prefix: 0xac100000, len: 12, type: "unicast", table: 254, metric: 0, nexthops: [{ gateway: 0x0ac90202, dev: "p2", weight: 1, onlink: false }] });
      dsts = Array.from({ length: maxFlows }, (_, i) => (0xac100000 + i * 7) >>> 0);
    } else {
      const list = readCidrListFile(TABLE);
      router.fib.loadCidrList(list.addrs, list.lens, { table: 254, nexthops: [{ gateway: 0x0ac90202, dev: "p2", weight: 1, onlink: false }] });
      const step = Math.floor(list.addrs.length / maxFlows);
      // The first host of each chosen prefix (a /32 is its own address).
      dsts = Array.from({ length: maxFlows }, (_, i) => (list.addrs[i * step]! + (list.lens[i * step]! < 32 ? 1 : 0)) >>> 0);
    }
    router.cache.set("gcThresh", 1 << 20);
    router.cache.set("maxSize", 1 << 22);
    const h = { srcMac: parseMac("02:00:00:00:01:02"), dstMac: parseMac("02:77:00:00:01:01") };
    const dp = router.dp;
    const x = dp.x;
    const iif = router.ports.get("p1")!.ifindex;
    const area = dp.rxArea;
    const slot = dp.slotBytes;
    const rows: Row[] = [];
    for (const flows of mixes) {
      const templates = dsts.slice(0, flows).map((d, i) => udpDatagram(h, 0x0ac90102, d, 1024 + (i & 0x7fff), 9, 18));
      const frameLen = templates[0]!.length;
      let next = 0;
      const fill = () => {
        const mem = new Uint8Array(router.fib.core.x.memory.buffer);
        const lens = new Int32Array(router.fib.core.x.memory.buffer, area.lens, BATCH);
        for (let i = 0; i < BATCH; i++) {
          mem.set(templates[next]!, area.buf + i * slot);
          lens[i] = frameLen;
          if (++next === flows) next = 0;
        }
      };
      // Warm-up: every flow once through the slow path, then a round of hits.
      for (let f = 0; f < flows * 2 + BATCH; f += BATCH) {
        fill();
        x.dp_input(iif, BATCH, clock);
      }
      const target = quick ? 2_000_000 : 10_000_000;
      const batches = Math.ceil(target / BATCH);
      const snmpFwd = () => Number(new BigUint64Array(router.fib.core.x.memory.buffer, x.dp_snmp(), 4)[3]);
      const fwd0 = snmpFwd();
      let t0 = performance.now();
      for (let b = 0; b < batches; b++) {
        fill();
        x.dp_input(iif, BATCH, clock);
        if ((b & 255) === 0) clock += 1;
      }
      const total = performance.now() - t0;
      const forwarded = snmpFwd() - fwd0;
      t0 = performance.now();
      for (let b = 0; b < batches; b++) fill();
      const copy = performance.now() - t0;
      const frames = batches * BATCH;
      rows.push({ flows, frames, mpps: frames / total / 1e3, nsPerFrame: (total * 1e6) / frames, copyNsPerFrame: (copy * 1e6) / frames, forwarded });
    }
    const table = [
      `data plane, ${BATCH} frames per dp_input call, 60-byte UDP frames, ${noTable ? "one route" : "full table"}`,
      "flows     | Mpps  | ns/frame (incl. copy) | copy ns/frame | forwarded",
      ...rows.map((r) => `${String(r.flows).padEnd(9)} | ${r.mpps.toFixed(2).padStart(5)} | ${r.nsPerFrame.toFixed(0).padStart(21)} | ${r.copyNsPerFrame.toFixed(0).padStart(13)} | ${r.forwarded}/${r.frames}`),
    ].join("\n");
    return { json: { suite: "dataplane", batch: BATCH, table: noTable ? "none" : "bgp-ipv4-2024-01", rows }, table };
  } finally {
    router.stop();
  }
}
