/**
 * Shared pieces of the `ip route` / `ip rule` grammar: a word cursor, number parsing and the name
 * tables of iproute2 (/etc/iproute2/rt_tables, rt_protos, rt_scopes as shipped with iproute2 6.1).
 *
 * Every error is a plain `Error` with a one-line message that quotes the offending word.
 */
import { TABLE_DEFAULT, TABLE_LOCAL, TABLE_MAIN } from "../fib/types.ts";

/** Quotes user input for an error message (JSON escaping keeps the message on one line). */
export function q(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}

/** A cursor over the words of one command. */
export class Words {
  readonly words: readonly string[];
  /** What the command is called in messages, e.g. `route add`. */
  readonly what: string;
  i = 0;

  constructor(words: readonly string[], what: string) {
    this.words = words;
    this.what = what;
  }

  more(): boolean {
    return this.i < this.words.length;
  }

  peek(): string | undefined {
    return this.words[this.i];
  }

  next(): string {
    return this.words[this.i++]!;
  }

  /** The argument of keyword `key` (the next word); throws when the line ends. */
  arg(key: string): string {
    const w = this.words[this.i];
    if (w === undefined) throw new Error(`missing argument after ${q(key)} in "${this.what}"`);
    this.i++;
    return w;
  }

  unknown(w: string): Error {
    return new Error(`unknown word ${q(w)} in ${this.what.split(" ")[0]} command`);
  }
}

/** Remembers which keywords were given, to refuse a second `dev`, `metric`, … */
export class Seen {
  private set = new Set<string>();
  private what: string;

  constructor(what: string) {
    this.what = what;
  }

  once(key: string, as: string = key): void {
    if (this.set.has(as)) throw new Error(`duplicate ${q(key)} in ${this.what} command`);
    this.set.add(as);
  }

  has(key: string): boolean {
    return this.set.has(key);
  }
}

const DEC = /^(?:0|[1-9][0-9]*)$/;
const HEX = /^0[xX][0-9a-fA-F]+$/;

/**
 * Parses an unsigned number as iproute2's get_u32 does, but stricter: decimal or 0x hex.
 * A leading zero is refused because iproute2 reads "010" as octal 8.
 */
export function parseNumber(key: string, text: string, min = 0, max = 0xffffffff): number {
  let v: number;
  if (DEC.test(text)) v = Number(text);
  else if (HEX.test(text)) v = parseInt(text.slice(2), 16);
  else if (/^0[0-9]+$/.test(text)) {
    throw new Error(`${q(key)} needs a number, got ${q(text)} (leading zeros are refused: iproute2 reads them as octal)`);
  } else throw new Error(`${q(key)} needs a number, got ${q(text)}`);
  if (!(v >= min && v <= max)) throw new Error(`${q(key)} value ${text} is out of range ${min}..${max}`);
  return v;
}

/**
 * Parses a TOS / dsfield byte. iproute2 (rtnl_dsfield_a2n) reads it as hexadecimal even without
 * "0x" ("tos 10" is 0x10). To never differ silently from iproute2 nor surprise someone who means
 * decimal, "0x.." and one-digit or letter-containing hex are accepted, and multi-digit decimal-looking
 * text is refused as ambiguous.
 */
export function parseTos(key: string, text: string): number {
  let v: number;
  if (HEX.test(text)) v = parseInt(text.slice(2), 16);
  else if (/^[0-9]$/.test(text) || /^(?=.*[a-fA-F])[0-9a-fA-F]{1,2}$/.test(text)) v = parseInt(text, 16);
  else if (/^[0-9]+$/.test(text)) {
    throw new Error(`${q(key)} value ${q(text)} is ambiguous: iproute2 reads it as hex 0x${text}; write it with 0x`);
  } else if (text === "default") v = 0;
  else throw new Error(`${q(key)} needs a hex number like 0x10, got ${q(text)}`);
  if (v > 255) throw new Error(`${q(key)} value ${text} is out of range 0x00..0xff`);
  return v;
}

/** Formats a number as C's "%#x": "0" for zero, "0x…" otherwise (how iproute2 prints marks). */
export function hexAlt(n: number): string {
  return n === 0 ? "0" : `0x${(n >>> 0).toString(16)}`;
}

// ── tables ────────────────────────────────────────────────────────────────────

const TABLE_NAMES: Record<string, number> = { local: TABLE_LOCAL, main: TABLE_MAIN, default: TABLE_DEFAULT };

/** `table ID|local|main|default`; 0 means main, as the kernel treats RT_TABLE_UNSPEC on add. */
export function parseTable(key: string, text: string): number {
  const named = TABLE_NAMES[text];
  if (named !== undefined) return named;
  const v = parseNumber(key, text);
  return v === 0 ? TABLE_MAIN : v;
}

/** Table id as iproute2 prints it (rtnl_rttable_n2a). */
export function tableName(id: number): string {
  switch (id) {
    case TABLE_LOCAL:
      return "local";
    case TABLE_MAIN:
      return "main";
    case TABLE_DEFAULT:
      return "default";
    default:
      return String(id);
  }
}

// ── protocols (rt_protos) ─────────────────────────────────────────────────────

const PROTOS: [number, string][] = [
  [0, "unspec"], [1, "redirect"], [2, "kernel"], [3, "boot"], [4, "static"], [8, "gated"], [9, "ra"],
  [10, "mrt"], [11, "zebra"], [12, "bird"], [13, "dnrouted"], [14, "xorp"], [15, "ntk"], [16, "dhcp"],
  [18, "keepalived"], [42, "babel"], [99, "openr"], [186, "bgp"], [187, "isis"], [188, "ospf"],
  [189, "rip"], [192, "eigrp"],
];
const PROTO_BY_NAME = new Map(PROTOS.map(([n, s]) => [s, n]));
const PROTO_BY_NUM = new Map(PROTOS);

/**
 * `proto NAME|N` → the name iproute2 prints back (numbers with a name become the name), or
 * undefined for "boot" (3): the default of `ip route add`, which iproute2 never prints.
 */
export function parseProto(key: string, text: string): string | undefined {
  const n = PROTO_BY_NAME.get(text) ?? (DEC.test(text) || HEX.test(text) ? parseNumber(key, text, 0, 255) : undefined);
  if (n === undefined) throw new Error(`${q(key)} value ${q(text)} is invalid (a name from rt_protos or 0..255)`);
  return n === 3 ? undefined : (PROTO_BY_NUM.get(n) ?? String(n));
}

// ── scopes (rt_scopes) ────────────────────────────────────────────────────────

const SCOPES: [number, string][] = [[0, "global"], [200, "site"], [253, "link"], [254, "host"], [255, "nowhere"]];
const SCOPE_BY_NAME = new Map(SCOPES.map(([n, s]) => [s, n]));
const SCOPE_BY_NUM = new Map(SCOPES);

/**
 * `scope NAME|N` → the printed name, or undefined for global (0, RT_SCOPE_UNIVERSE), which
 * iproute2 does not print.
 */
export function parseScope(key: string, text: string): string | undefined {
  const n = SCOPE_BY_NAME.get(text) ?? (DEC.test(text) || HEX.test(text) ? parseNumber(key, text, 0, 255) : undefined);
  if (n === undefined) throw new Error(`${q(key)} value ${q(text)} is invalid (host, link, site, global, nowhere or 0..255)`);
  return n === 0 ? undefined : (SCOPE_BY_NUM.get(n) ?? String(n));
}
