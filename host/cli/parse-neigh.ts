/**
 * `ip neigh …` grammar, the subset of iproute2 6.1 a router with static neighbours needs: the words
 * after `neigh` (or `neighbor` / `neighbour`) become one command object. Parsing only.
 *
 *   neigh add|replace|change [to] ADDR lladdr MAC dev NAME [nud permanent|noarp|reachable|stale]
 *   neigh del|delete [to] ADDR dev NAME            (lladdr and nud are accepted and ignored, as iproute2)
 *   neigh show|list [[to] PREFIX] [dev NAME] [nud STATE]…
 *   neigh flush [[to] PREFIX] [dev NAME] [nud STATE]…   (at least one selector: "Flush requires arguments.")
 *
 * Defaults are iproute2's: `nud permanent` for add/replace/change; `show` lists every state; `flush`
 * without `nud` spares permanent and noarp entries; `nud all` selects every state (for flush: all but
 * noarp). Several `nud` words select the union. An empty command is `show`.
 *
 * The words are keyword/value pairs in any order, as iproute2 takes them. MAC text is iproute2's
 * ll_addr_a2n: six bytes of one or two hex digits separated by ":".
 */
import { formatIPv4, parseAddress, parsePrefix } from "../fib/ipv4.ts";
import { formatMac, parseMac } from "../router/mac.ts";
import { Seen, Words, q } from "./words.ts";

/** The states a static entry can be given. */
export type NudState = "permanent" | "noarp" | "reachable" | "stale";
/** Every NUD state name iproute2 knows (include/uapi/linux/neighbour.h), as a show/flush filter. */
export type NudName = NudState | "incomplete" | "delay" | "probe" | "failed" | "none";

export const NUD_STATES: readonly NudState[] = ["permanent", "noarp", "reachable", "stale"];
export const NUD_NAMES: readonly NudName[] = ["permanent", "noarp", "reachable", "stale", "incomplete", "delay", "probe", "failed", "none"];

/** A neighbour entry as `neigh add` states it. */
export interface NeighEntry {
  addr: number;
  /** The link-layer address: six bytes. */
  lladdr: Uint8Array;
  dev: string;
  nud: NudState;
}

export type NeighCommand =
  | { op: "add" | "replace" | "change"; neigh: NeighEntry }
  | { op: "del"; addr: number; dev: string }
  | {
      op: "show" | "flush";
      prefix?: { addr: number; len: number };
      dev?: string;
      /** The states selected (union); undefined = the default (see neighFilterStates). */
      nud?: NudName[];
    };

function isNudName(w: string): w is NudName {
  return (NUD_NAMES as readonly string[]).includes(w);
}

function isNudState(w: string): w is NudState {
  return (NUD_STATES as readonly string[]).includes(w);
}

/** An address a neighbour entry can be made for: not 0.0.0.0, multicast, class E or limited broadcast. */
function checkNeighAddress(text: string): number {
  const a = parseAddress(text);
  if (a === 0) throw new Error(`invalid neighbour address ${q(text)}: 0.0.0.0`);
  if (a >>> 28 >= 0xe) throw new Error(`invalid neighbour address ${q(text)}: not a unicast address`);
  return a;
}

/** Parses the words after `neigh`. Throws an Error with a one-line message naming the bad word. */
export function parseNeighCommand(words: readonly string[]): NeighCommand {
  const cmd = words[0] ?? "show";
  const rest = words.slice(1);
  switch (cmd) {
    case "add":
    case "replace":
    case "change":
      return { op: cmd, neigh: parseEntry(new Words(rest, `neigh ${cmd}`)) };
    case "del":
    case "delete":
      return parseDel(new Words(rest, `neigh ${cmd}`));
    case "show":
    case "list":
      return parseFilter(new Words(rest, `neigh ${cmd}`), "show");
    case "flush":
      return parseFilter(new Words(rest, "neigh flush"), "flush");
    default:
      throw new Error(`unknown neigh command ${q(cmd)} (expected add, replace, change, del, show or flush)`);
  }
}

interface EntryWords {
  addr?: number;
  lladdr?: Uint8Array;
  dev?: string;
  nud?: NudState;
}

/** Reads ADDR, lladdr, dev, nud in any order. `forDel`: lladdr and nud are checked and ignored. */
function entryWords(w: Words, forDel: boolean): EntryWords {
  const seen = new Seen("neigh");
  const e: EntryWords = {};
  while (w.more()) {
    const word = w.next();
    switch (word) {
      case "lladdr":
        seen.once(word);
        e.lladdr = parseMac(w.arg(word), "lladdr");
        break;
      case "dev":
        seen.once(word);
        e.dev = w.arg(word);
        break;
      case "nud": {
        seen.once(word);
        const s = w.arg(word);
        if (!isNudState(s)) {
          if (isNudName(s) && !forDel) throw new Error(`"nud ${s}" cannot be set by hand in "${w.what}" (permanent, noarp, reachable or stale)`);
          if (!isNudName(s)) throw new Error(`"nud" value ${q(s)} is invalid (permanent, noarp, reachable or stale)`);
        } else e.nud = s;
        break;
      }
      case "proxy":
        throw new Error(`proxy entries are not supported in "${w.what}"`);
      default: {
        const text = word === "to" ? w.arg(word) : word;
        if (word !== "to" && !/^[0-9]/.test(word)) throw w.unknown(word);
        seen.once("address", "address");
        e.addr = checkNeighAddress(text);
      }
    }
  }
  if (e.addr === undefined) throw new Error(`missing address in "${w.what}"`);
  if (e.dev === undefined) throw new Error(`"${w.what}" needs "dev NAME" (device and destination are required)`);
  return e;
}

function parseEntry(w: Words): NeighEntry {
  const e = entryWords(w, false);
  if (e.lladdr === undefined) throw new Error(`"${w.what}" needs "lladdr MAC" (a static entry needs the link-layer address)`);
  return { addr: e.addr!, lladdr: e.lladdr, dev: e.dev!, nud: e.nud ?? "permanent" };
}

function parseDel(w: Words): NeighCommand {
  const e = entryWords(w, true);
  return { op: "del", addr: e.addr!, dev: e.dev! };
}

function parseFilter(w: Words, op: "show" | "flush"): NeighCommand {
  const seen = new Seen("neigh");
  const cmd: { op: "show" | "flush"; prefix?: { addr: number; len: number }; dev?: string; nud?: NudName[] } = { op };
  while (w.more()) {
    const word = w.next();
    switch (word) {
      case "dev":
        seen.once(word);
        cmd.dev = w.arg(word);
        break;
      case "nud": {
        const s = w.arg(word);
        const states: NudName[] = s === "all" ? (op === "flush" ? NUD_NAMES.filter((n) => n !== "noarp") : [...NUD_NAMES]) : [];
        if (s !== "all") {
          if (!isNudName(s)) throw new Error(`"nud" value ${q(s)} is invalid (${NUD_NAMES.join(", ")} or all)`);
          states.push(s);
        }
        cmd.nud = [...new Set([...(cmd.nud ?? []), ...states])];
        break;
      }
      default: {
        const text = word === "to" ? w.arg(word) : word;
        if (word !== "to" && !/^[0-9]/.test(word)) throw w.unknown(word);
        seen.once("prefix", "prefix");
        cmd.prefix = parsePrefix(text);
      }
    }
  }
  if (op === "flush" && cmd.dev === undefined && cmd.nud === undefined && cmd.prefix === undefined) {
    throw new Error(`"neigh flush" requires arguments (dev NAME, nud STATE or a prefix)`);
  }
  return cmd;
}

/** The states a show/flush command selects, with iproute2's defaults filled in. */
export function neighFilterStates(cmd: { op: "show" | "flush"; nud?: NudName[] }): NudName[] {
  if (cmd.nud !== undefined) return cmd.nud;
  return cmd.op === "flush" ? NUD_NAMES.filter((n) => n !== "permanent" && n !== "noarp") : [...NUD_NAMES];
}

/** Canonical command text of an entry: `neigh OP ADDR lladdr MAC dev NAME nud STATE`. */
export function neighText(op: "add" | "replace" | "change" | "del", n: NeighEntry): string {
  if (op === "del") return `neigh del ${formatIPv4(n.addr)} dev ${n.dev}`;
  return `neigh ${op} ${formatIPv4(n.addr)} lladdr ${formatMac(n.lladdr)} dev ${n.dev} nud ${n.nud}`;
}
