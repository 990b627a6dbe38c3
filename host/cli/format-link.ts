/**
 * `ip [-s [-s]] [-o|-j] link show` text and JSON, as iproute2 6.1 prints them. The input has the shape of iproute2's own
 * JSON (`ip -j -s -s link show`), so the test can hand this formatter what the real `ip` read of real
 * interfaces and want the real `ip`'s text back, byte for byte (test/format-link.test.ts). The router
 * fills the same shape for its ports (host/router/links.ts).
 *
 * The statistics table (iproute2 ip/ipaddress.c, print_stats64): seven columns, each as wide as its
 * widest header or number; a number is printed right-aligned to its column's width, and a space.
 */

export interface LinkRxStats {
  bytes: number;
  packets: number;
  errors: number;
  dropped: number;
  over_errors: number;
  multicast: number;
  compressed?: number;
  length_errors: number;
  crc_errors: number;
  frame_errors: number;
  fifo_errors: number;
  missed_errors: number;
}

export interface LinkTxStats {
  bytes: number;
  packets: number;
  errors: number;
  dropped: number;
  carrier_errors: number;
  collisions: number;
  compressed?: number;
  aborted_errors: number;
  fifo_errors: number;
  window_errors: number;
  heartbeat_errors: number;
  carrier_changes: number;
}

/** One link as `ip -j -s -s link show` describes it (the fields this formatter prints). */
export interface LinkView {
  ifindex: number;
  ifname: string;
  /** The peer's name (a veth in the same namespace): printed as NAME@PEER. */
  link?: string;
  flags: string[];
  mtu: number;
  qdisc?: string;
  operstate: string;
  linkmode: string;
  group: string;
  txqlen?: number;
  link_type: string;
  address: string;
  broadcast: string;
  stats64: { rx: LinkRxStats; tx: LinkTxStats };
}

/** Column widths start at these headers' lengths: "*X errors:", "packets", "errors", "dropped", "heartbt", "overrun", "compressed". */
const MIN_COLS = [10, 7, 6, 7, 7, 7, 10];

function sizeColumns(cols: number[], values: readonly number[]): void {
  values.forEach((v, i) => {
    cols[i] = Math.max(cols[i]!, String(v).length);
  });
}

/** A number right-aligned to width, and a space (iproute2's print_num without -h). */
const num = (width: number, v: number): string => `${String(v).padStart(width)} `;
/** A header right-aligned to width (printf's %*s). */
const head = (width: number, s: string): string => s.padStart(Math.max(width, 0));

function statsText(s: { rx: LinkRxStats; tx: LinkTxStats }, level: number): string {
  const { rx, tx } = s;
  const cols = [...MIN_COLS];
  sizeColumns(cols, [rx.bytes, rx.packets, rx.errors, rx.dropped, rx.missed_errors, rx.multicast, rx.compressed ?? 0]);
  if (level > 1) sizeColumns(cols, [0, rx.length_errors, rx.crc_errors, rx.frame_errors, rx.fifo_errors, rx.over_errors]);
  sizeColumns(cols, [tx.bytes, tx.packets, tx.errors, tx.dropped, tx.carrier_errors, tx.collisions, tx.compressed ?? 0]);
  if (level > 1) sizeColumns(cols, [0, tx.aborted_errors, tx.fifo_errors, tx.window_errors, tx.heartbeat_errors, tx.carrier_changes]);
  const [c0, c1, c2, c3, c4, c5, c6] = cols as [number, number, number, number, number, number, number];
  let out = `    RX: ${head(c0 - 4, "bytes")} ${head(c1, "packets")} ${head(c2, "errors")} ${head(c3, "dropped")} ${head(c4, "missed")} ${head(c5, "mcast")} ${head(c6, rx.compressed ? "compressed" : "")}\n`;
  out += `    ${num(c0, rx.bytes)}${num(c1, rx.packets)}${num(c2, rx.errors)}${num(c3, rx.dropped)}${num(c4, rx.missed_errors)}${num(c5, rx.multicast)}${rx.compressed ? num(c6, rx.compressed) : ""}\n`;
  if (level > 1) {
    out += `    RX errors:${head(c0 - 10, "")} ${head(c1, "length")} ${head(c2, "crc")} ${head(c3, "frame")} ${head(c4, "fifo")} ${head(c5, "overrun")}\n`;
    out += `    ${" ".repeat(c0)} ${num(c1, rx.length_errors)}${num(c2, rx.crc_errors)}${num(c3, rx.frame_errors)}${num(c4, rx.fifo_errors)}${num(c5, rx.over_errors)}\n`;
  }
  out += `    TX: ${head(c0 - 4, "bytes")} ${head(c1, "packets")} ${head(c2, "errors")} ${head(c3, "dropped")} ${head(c4, "carrier")} ${head(c5, "collsns")} ${head(c6, tx.compressed ? "compressed" : "")}\n`;
  out += `    ${num(c0, tx.bytes)}${num(c1, tx.packets)}${num(c2, tx.errors)}${num(c3, tx.dropped)}${num(c4, tx.carrier_errors)}${num(c5, tx.collisions)}${tx.compressed ? num(c6, tx.compressed) : ""}\n`;
  if (level > 1) {
    out += `    TX errors:${head(c0 - 10, "")} ${head(c1, "aborted")} ${head(c2, "fifo")} ${head(c3, "window")} ${head(c4, "heartbt")} ${head(c5, "transns")}\n`;
    out += `    ${" ".repeat(c0)} ${num(c1, tx.aborted_errors)}${num(c2, tx.fifo_errors)}${num(c3, tx.window_errors)}${num(c4, tx.heartbeat_errors)}${num(c5, tx.carrier_changes)}\n`;
  }
  return out;
}

/** `ip link show` for these links; stats: the number of -s given (0, 1, or 2 and more); oneline: -o (a link per line, "\\" between its lines). */
export function formatLinks(links: readonly LinkView[], stats = 0, oneline = false): string {
  let out = "";
  for (const l of links) {
    let text = `${l.ifindex}: ${l.ifname}${l.link !== undefined ? `@${l.link}` : ""}: <${l.flags.join(",")}> mtu ${l.mtu} `;
    if (l.qdisc !== undefined) text += `qdisc ${l.qdisc} `;
    text += `state ${l.operstate} mode ${l.linkmode} group ${l.group} `;
    if (l.txqlen !== undefined) text += `qlen ${l.txqlen}`;
    text += `\n    link/${l.link_type} ${l.address} brd ${l.broadcast}\n`;
    if (stats > 0) text += statsText(l.stats64, stats);
    out += oneline ? `${text.slice(0, -1).replaceAll("\n", "\\")}\n` : text;
  }
  return out;
}

const RX_KEYS: readonly (keyof LinkRxStats)[] = ["bytes", "packets", "errors", "dropped", "over_errors", "multicast"];
const RX_ERROR_KEYS: readonly (keyof LinkRxStats)[] = ["length_errors", "crc_errors", "frame_errors", "fifo_errors", "missed_errors"];
const TX_KEYS: readonly (keyof LinkTxStats)[] = ["bytes", "packets", "errors", "dropped", "carrier_errors", "collisions"];
const TX_ERROR_KEYS: readonly (keyof LinkTxStats)[] = ["aborted_errors", "fifo_errors", "window_errors", "heartbeat_errors", "carrier_changes"];

/** The keys of `from` in this order; `compressed` only when not 0, as iproute2 prints it (after the first group). */
function pick<T extends object>(from: T, first: readonly (keyof T)[], more: readonly (keyof T)[] | undefined): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of first) o[k as string] = from[k];
  const compressed = (from as { compressed?: number }).compressed;
  if (compressed) o.compressed = compressed;
  for (const k of more ?? []) o[k as string] = from[k];
  return o;
}

/** `ip -j [-s [-s]] link show` for these links: iproute2's JSON, its keys in its order, on one line. */
export function formatLinksJson(links: readonly LinkView[], stats = 0): string {
  const out = links.map((l) => {
    const o: Record<string, unknown> = { ifindex: l.ifindex };
    if (l.link !== undefined) o.link = l.link;
    Object.assign(o, { ifname: l.ifname, flags: l.flags, mtu: l.mtu });
    if (l.qdisc !== undefined) o.qdisc = l.qdisc;
    Object.assign(o, { operstate: l.operstate, linkmode: l.linkmode, group: l.group });
    if (l.txqlen !== undefined) o.txqlen = l.txqlen;
    Object.assign(o, { link_type: l.link_type, address: l.address, broadcast: l.broadcast });
    if (stats > 0) {
      o.stats64 = {
        rx: pick(l.stats64.rx, RX_KEYS, stats > 1 ? RX_ERROR_KEYS : undefined),
        tx: pick(l.stats64.tx, TX_KEYS, stats > 1 ? TX_ERROR_KEYS : undefined),
      };
    }
    return o;
  });
  return `${JSON.stringify(out)}\n`;
}
