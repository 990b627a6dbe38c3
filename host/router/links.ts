/**
 * The router's ports as `ip -s -s link show` describes links (host/cli/format-link.ts prints them), for
 * `wasmroute ip [-s [-s]] link` against a running router and for the metrics. Where each counter comes
 * from:
 *
 *   | column            | what it counts here                                                         |
 *   |-------------------|-----------------------------------------------------------------------------|
 *   | RX bytes, packets | frames the router took from the device                                      |
 *   | RX errors, length | frames that arrived cut: longer than the room they were read into          |
 *   | RX dropped        | frames taken and then dropped by the core, any reason (nstat's WrDrop* say which) |
 *   | RX missed         | frames lost before the router could take them: an AF_PACKET port's full ring |
 *   |                   | or buffer (PACKET_STATISTICS), a tap's full queue (its kernel side's tx dropped) |
 *   | RX mcast          | frames to a multicast MAC (broadcast not included), as the kernel counts     |
 *   | TX bytes, packets | frames the device took (bytes: of the first `packets` of each batch, exact  |
 *   |                   | unless the device refused a frame in the middle of a batch)                 |
 *   | TX errors         | frames the device refused or had no room for                                |
 *   | TX transns        | carrier changes: 1 once the port's device failed (it is then DOWN)           |
 *
 * A port has no qdisc and no queue length of its own, so neither is printed. CRC, frame, FIFO, overrun,
 * carrier, collision, aborted, window and heartbeat errors do not exist for these devices: always 0.
 */
import type { LinkView } from "../cli/format-link.ts";
import { formatMac } from "./mac.ts";
import type { PortReport } from "./dataplane.ts";

/** ports: the data plane's (DataPlane.stats); mac and mtu of each by name; drops: the core's per-port drops by ifindex. */
export function linkViews(ports: readonly PortReport[], macOf: (name: string) => Uint8Array | undefined, mtuOf: (name: string) => number, drops: Uint32Array): LinkView[] {
  return [...ports]
    .sort((a, b) => a.ifindex - b.ifindex)
    .map((p) => {
      const mac = macOf(p.name);
      return {
        ifindex: p.ifindex,
        ifname: p.name,
        flags: p.failed ? ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP"] : ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
        mtu: mtuOf(p.name),
        operstate: p.failed ? "DOWN" : "UP",
        linkmode: "DEFAULT",
        group: "default",
        link_type: "ether",
        address: mac ? formatMac(mac) : "00:00:00:00:00:00",
        broadcast: "ff:ff:ff:ff:ff:ff",
        stats64: {
          rx: {
            bytes: p.stats.rxBytes,
            packets: p.stats.rxFrames,
            errors: p.losses.cut,
            dropped: drops[p.ifindex] ?? 0,
            over_errors: 0,
            multicast: p.stats.rxMulticast,
            length_errors: p.losses.cut,
            crc_errors: 0,
            frame_errors: 0,
            fifo_errors: 0,
            missed_errors: p.losses.missed,
          },
          tx: {
            bytes: p.stats.txBytes,
            packets: p.stats.txFrames,
            errors: p.stats.txErrors,
            dropped: 0,
            carrier_errors: 0,
            collisions: 0,
            aborted_errors: 0,
            fifo_errors: 0,
            window_errors: 0,
            heartbeat_errors: 0,
            carrier_changes: p.failed ? 1 : 0,
          },
        },
      };
    });
}
