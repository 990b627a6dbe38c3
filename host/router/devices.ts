/**
 * Opening a router port's device, as `link add` in the config asks:
 *   type tap     create (or attach to) the TAP whose kernel side is KERNEL-NAME, then, with `netns NS`,
 *                move that kernel side into NS. The order matters: attaching by name after the move would
 *                silently create a new, empty tap in our namespace (testbed.md §4.2).
 *   type packet  AF_PACKET on the existing interface DEV (inside NS if given). The router port's MAC is
 *                the interface's own unless `address` says otherwise; then the interface is put in
 *                promiscuous mode so frames to that MAC reach the socket.
 *   type pcap    no device: frames come from `--pcap-in`, and leave only into `--capture`.
 * Everything a port opened is released by close(); a failure half-way closes what was opened.
 */
import { execFileSync } from "node:child_process";
import { FramePort } from "../io/port.ts";
import { formatMac, parseMac } from "./mac.ts";
import { PcapDevice, type FrameDevice } from "./dataplane.ts";

export interface LinkSpec {
  name: string;
  kind: "tap" | "packet" | "pcap";
  kernelName?: string;
  netns?: string;
  dev?: string;
  mac?: Uint8Array;
  /** Vnet header offloads on a tap or packet port (default false here; the config turns it on for taps). */
  offload?: boolean;
  /** The link's MTU (default 1500): a packet port's receive ring takes frames of that size whole. */
  mtu?: number;
}

function ip(args: string[]): string {
  try {
    return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(" ")}: ${(err.stderr || err.message).trim().split("\n")[0]}`);
  }
}

/** Bytes of a receive slot for frames of a link with this MTU: the Ethernet header added, 64-byte lines, at least 2048. */
export function frameSlotBytes(mtu: number): number {
  return Math.max(2048, (mtu + 14 + 63) & ~63);
}

/** A locally administered, stable MAC for a port that was given none: 02:77:72 + a hash of the name. */
export function generatedMac(name: string): Uint8Array {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(name)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return Uint8Array.of(0x02, 0x77, 0x72, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff);
}

export interface OpenedPort {
  device: FrameDevice;
  mac: Uint8Array;
  /** What the port did to the system, for the log. */
  note: string;
}

/** Opens the device of one link. */
export function openLink(l: LinkSpec): OpenedPort {
  if (l.kind === "pcap") return { device: new PcapDevice(l.offload ?? false), mac: l.mac ?? generatedMac(l.name), note: l.offload ? "pcap only (offload: GSO, checksum)" : "pcap only" };
  if (l.kind === "tap") {
    const kname = l.kernelName ?? l.name;
    const port = FramePort.tap(kname, l.offload ?? false);
    try {
      if (l.netns) ip(["link", "set", kname, "netns", l.netns]);
      port.countKernelSide(kname, l.netns ? `/run/netns/${l.netns}` : undefined);
    } catch (e) {
      port.close();
      throw e;
    }
    return { device: port, mac: l.mac ?? generatedMac(l.name), note: `tap ${kname}${port.offload ? " (offload: GSO, checksum)" : ""}${l.netns ? ` in netns ${l.netns}` : ""}` };
  }
  const dev = l.dev!;
  const nsArgs = l.netns ? ["-n", l.netns] : [];
  const info = JSON.parse(ip([...nsArgs, "-j", "link", "show", "dev", dev])) as { address?: string }[];
  const own = info[0]?.address ? parseMac(info[0].address) : undefined;
  const mac = l.mac ?? own;
  if (!mac) throw new Error(`interface ${dev} has no MAC address`);
  const port = FramePort.packet(dev, l.netns, frameSlotBytes(l.mtu ?? 1500), l.offload);
  try {
    if (own && formatMac(own) !== formatMac(mac)) ip([...nsArgs, "link", "set", "dev", dev, "promisc", "on"]);
  } catch (e) {
    port.close();
    throw e;
  }
  return { device: port, mac, note: `AF_PACKET on ${dev}${port.offload ? " (offload: GSO, checksum)" : ""}${l.netns ? ` in netns ${l.netns}` : ""}` };
}
