/**
 * `ip rule …` grammar (iproute2 6.1): the words after `rule` become one command object.
 *
 *   rule add|del|delete [from PREFIX|all] [to PREFIX|all] [iif NAME] [tos N] [fwmark N[/MASK]]
 *        [priority|pref|order N] [lookup|table ID|NAME | [type] blackhole|unreachable|prohibit]
 *   rule show|list
 */
import type { RuleSelector } from "../fib/fib.ts";
import { parsePrefix } from "../fib/ipv4.ts";
import type { Rule, RuleAction } from "../fib/types.ts";
import { Seen, Words, parseNumber, parseTable, parseTos, q } from "./words.ts";

export type NewRule = Omit<Rule, "priority"> & { priority?: number };

export type RuleCommand = { op: "add"; rule: NewRule } | { op: "del"; selector: RuleSelector } | { op: "show" };

const ACTIONS = new Set<string>(["blackhole", "unreachable", "prohibit"]);

/** Parses the words after `rule`. */
export function parseRuleCommand(words: readonly string[]): RuleCommand {
  const cmd = words[0] ?? "show";
  const rest = words.slice(1);
  switch (cmd) {
    case "add":
      return { op: "add", rule: parseRuleAdd(rest) };
    case "del":
    case "delete":
      return { op: "del", selector: parseRuleDel(rest, `rule ${cmd}`) };
    case "show":
    case "list":
      if (rest.length > 0) throw new Error(`unknown word ${q(rest[0]!)} in rule command ("rule ${cmd}" takes no selectors)`);
      return { op: "show" };
    default:
      throw new Error(`unknown rule command ${q(cmd)} (expected add, del or show)`);
  }
}

interface RuleWords {
  priority?: number;
  src?: { addr: number; len: number };
  dst?: { addr: number; len: number };
  iif?: string;
  tos?: number;
  fwmark?: number;
  fwmask?: number;
  action?: RuleAction;
  table?: number;
}

function prefixOrAll(text: string): { addr: number; len: number } {
  return text === "all" ? { addr: 0, len: 0 } : parsePrefix(text);
}

function parseRuleWords(words: readonly string[], what: string): RuleWords {
  const w = new Words(words, what);
  const seen = new Seen("rule");
  const r: RuleWords = {};
  while (w.more()) {
    const word = w.next();
    switch (word) {
      case "from":
        seen.once(word);
        r.src = prefixOrAll(w.arg(word));
        break;
      case "to":
        seen.once(word);
        r.dst = prefixOrAll(w.arg(word));
        break;
      case "iif":
      case "dev":
        seen.once(word, "iif");
        r.iif = w.arg(word);
        break;
      case "tos":
      case "dsfield":
        seen.once(word, "tos");
        r.tos = parseTos(word, w.arg(word));
        break;
      case "fwmark": {
        seen.once(word);
        const text = w.arg(word);
        const slash = text.indexOf("/");
        r.fwmark = parseNumber(word, slash < 0 ? text : text.slice(0, slash));
        if (slash >= 0) r.fwmask = parseNumber("fwmark mask", text.slice(slash + 1));
        break;
      }
      case "priority":
      case "pref":
      case "preference":
      case "order":
        seen.once(word, "priority");
        r.priority = parseNumber(word, w.arg(word));
        break;
      case "lookup":
      case "table":
        seen.once(word, "lookup");
        r.table = parseTable(word, w.arg(word));
        break;
      default: {
        const action = word === "type" ? w.arg(word) : word;
        if (!ACTIONS.has(action)) {
          if (word === "type") throw new Error(`"type" value ${q(action)} is invalid (blackhole, unreachable or prohibit)`);
          throw w.unknown(word);
        }
        seen.once(action, "action");
        r.action = action as RuleAction;
      }
    }
  }
  if (r.action && r.table !== undefined) {
    throw new Error(`"lookup" cannot be combined with ${q(r.action)} in "${what}"`);
  }
  return r;
}

/** `rule add …`. A missing priority is left for the FIB to choose, as the kernel does. */
export function parseRuleAdd(words: readonly string[]): NewRule {
  const r = parseRuleWords(words, "rule add");
  if (!r.action && r.table === undefined) {
    throw new Error(`"rule add" needs "lookup TABLE" or an action (blackhole, unreachable, prohibit)`);
  }
  const tos = r.tos ?? 0;
  if (tos & 3) throw new Error(`"tos" 0x${tos.toString(16).padStart(2, "0")} is invalid: ECN bits must be 0`);
  if (tos & ~0x1e) throw new Error(`"tos" 0x${tos.toString(16).padStart(2, "0")} is invalid (rules take 0x00..0x1e)`);
  const fwmark = r.fwmark ?? 0;
  // The kernel's default mask: all ones when a mark is given, none for "fwmark 0".
  const fwmask = r.fwmask ?? (fwmark !== 0 ? 0xffffffff : 0);
  const rule: NewRule = {
    src: r.src?.addr ?? 0,
    srcLen: r.src?.len ?? 0,
    dst: r.dst?.addr ?? 0,
    dstLen: r.dst?.len ?? 0,
    iif: r.iif ?? "",
    tos,
    fwmark,
    fwmask,
    action: r.action ?? "lookup",
    table: r.table ?? 0,
  };
  if (r.priority !== undefined) rule.priority = r.priority;
  return rule;
}

/** `rule del …` → a selector of the words given ("from all" / "to all" select nothing, as in iproute2). */
export function parseRuleDel(words: readonly string[], what = "rule del"): RuleSelector {
  if (words.length === 0) throw new Error(`"${what}" requires arguments`);
  const r = parseRuleWords(words, what);
  const sel: RuleSelector = {};
  if (r.priority !== undefined) sel.priority = r.priority;
  if (r.src && r.src.len > 0) {
    sel.src = r.src.addr;
    sel.srcLen = r.src.len;
  }
  if (r.dst && r.dst.len > 0) {
    sel.dst = r.dst.addr;
    sel.dstLen = r.dst.len;
  }
  if (r.iif !== undefined) sel.iif = r.iif;
  if (r.tos !== undefined) sel.tos = r.tos;
  if (r.fwmark !== undefined) sel.fwmark = r.fwmark;
  if (r.fwmask !== undefined) sel.fwmask = r.fwmask;
  if (r.action !== undefined) sel.action = r.action;
  if (r.table !== undefined) sel.table = r.table;
  return sel;
}
