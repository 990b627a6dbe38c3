/**
 * The text of /proc/net/arp for the router's neighbour table, as the kernel's arp_seq_show prints it
 * (net/ipv4/arp.c, arp_format_neigh_entry): a fixed header, then one line per entry except NOARP ones —
 * address, hardware type 0x1 (Ethernet), flags (0x2 ATF_COM for a valid entry, 0x6 with ATF_PERM for a
 * permanent one, 0x0 while incomplete or failed), the MAC in lower-case hex (zeros when unknown), the
 * mask "*" and the device.
 */
import { formatIPv4 } from "../fib/ipv4.ts";
import type { NeighEntry } from "./neigh-table.ts";

export const PROC_NET_ARP_HEADER = "IP address       HW type     Flags       HW address            Mask     Device\n";

const NUD_NOARP = 0x40;
const NUD_PERMANENT = 0x80;
const NUD_VALID = 0x02 | 0x04 | 0x08 | 0x10 | 0x40 | 0x80;

export function formatProcNetArp(entries: readonly NeighEntry[]): string {
  let s = PROC_NET_ARP_HEADER;
  for (const e of entries) {
    if (e.state & NUD_NOARP) continue;
    const flags = e.state & NUD_PERMANENT ? 0x6 : e.state & NUD_VALID ? 0x2 : 0;
    const mac = [...(e.lladdr ?? new Uint8Array(6))].map((b) => b.toString(16).padStart(2, "0")).join(":");
    s += `${formatIPv4(e.addr).padEnd(16)} 0x${(1).toString(16).padEnd(10)}0x${flags.toString(16).padEnd(10)}${mac.padEnd(17)}     ${"*".padEnd(8)} ${e.dev}\n`;
  }
  return s;
}
