/**
 * Ethernet (MAC) addresses as text: the one parser and the one formatter that config files, `ip neigh`,
 * the control socket, the device setup and the tools share.
 */
import { q } from "../cli/words.ts";

const MAC_RE = /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})$/;

/** Parses a MAC ("02:00:00:00:01:02"; one-digit bytes allowed, as iproute2) or throws a one-line Error
 *  naming `what` was wrong. */
export function parseMac(text: string, what = "MAC address"): Uint8Array {
  const m = MAC_RE.exec(text);
  if (!m) throw new Error(`invalid ${what} ${q(text)} (expected six hex bytes like 02:00:00:00:00:01)`);
  return Uint8Array.from(m.slice(1).map((h) => parseInt(h, 16)));
}

/** Formats the first six bytes as iproute2 prints a MAC: lower case, two digits a byte. */
export function formatMac(mac: ArrayLike<number>): string {
  return Array.from({ length: 6 }, (_, i) => (mac[i]! & 255).toString(16).padStart(2, "0")).join(":");
}
