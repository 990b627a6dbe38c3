/**
 * What a receive call costs at the N-API boundary, with nothing to receive: an empty AF_PACKET ring
 * read through `recvPacked` (10 arguments: the buffer, 4 typed arrays, 5 numbers, each checked per call)
 * against the same read through `recvArea` (the arrays bound once: host/io/native/area.c), and a one-argument
 * call into the addon (`packetRing`) as the floor. The poll loop makes one such call per port per pass
 * (BENCHMARKS.md, "Arrays bound once"). Median ns per call over the rounds, alternating.
 *
 *   node --import tsx bench/probes/bound-call.ts [--calls N] [--rounds R]   (root: a veth in a wr- namespace)
 */
import { FramePort } from "../../host/io/port.ts";
import { wrio } from "../../host/io/wrio.ts";
import { GSO_FRAME_BYTES } from "../../host/router/dataplane.ts";
import { cleanup, createNs, sh } from "../forward/topology.ts";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const calls = opt("--calls", 1_000_000);
const rounds = opt("--rounds", 5);
if (!Number.isInteger(calls) || calls < 1 || !Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write("bound-call: --calls N ≥ 1, --rounds R ≥ 1\n");
  process.exit(2);
}

const ns = `wr-bf-bc-${process.pid}`;
let port: FramePort | undefined;
try {
  createNs(ns);
  sh("ip", ["-n", ns, "link", "add", "wr-bc0", "type", "veth", "peer", "name", "wr-bc1"]);
  sh("ip", ["-n", ns, "link", "set", "wr-bc0", "up"]);
  port = FramePort.packet("wr-bc0", ns, undefined, true); // offload: packed reads, as the router's default ports
  const w = wrio();
  const max = 256;
  const buf = new WebAssembly.Memory({ initial: 64 }).buffer; // 4 MiB, like the core's memory
  const lens = new Int32Array(buf, 0, max), flags = new Uint8Array(buf, 1024, max), vnet = new Uint8Array(buf, 2048, max * 12);
  const offs = new Uint32Array(buf, 8192, max);
  const rx = 1 << 16, rxBytes = 2 * GSO_FRAME_BYTES;
  port.bindArea({ buf, rxOffset: rx, rxBytes, slot: 2048, frameMax: GSO_FRAME_BYTES, max, lens, flags, vnet, offs, txOffsets: new Uint32Array(buf, 10240, max), txLens: new Int32Array(buf, 11264, max), txVnet: new Uint8Array(buf, 12288, max * 12) });
  const fd = port.fd;
  const probes: Record<string, () => number> = {
    recvPacked: () => w.recvPacked(fd, buf, rx, rxBytes, GSO_FRAME_BYTES, max, lens, flags, vnet, offs),
    recvArea: () => port!.recvBound(),
    packetRing: () => (w.packetRing(fd) ? 0 : 1),
  };
  const ns_: Record<string, number[]> = { recvPacked: [], recvArea: [], packetRing: [] };
  for (let r = 0; r < rounds; r++) {
    for (const [name, f] of Object.entries(probes)) {
      let got = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) got += f();
      ns_[name]!.push(Number(process.hrtime.bigint() - t0) / calls);
      if (name !== "packetRing" && got !== 0) throw new Error(`bound-call: ${name} read ${got} frames from a quiet veth`);
    }
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
  const out = Object.fromEntries(Object.entries(ns_).map(([k, v]) => [`${k}NsPerCall`, Math.round(median(v) * 10) / 10]));
  process.stdout.write(JSON.stringify({ calls, rounds, ...out }) + "\n");
} finally {
  port?.close();
  cleanup.run();
}
