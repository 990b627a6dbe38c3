/**
 * The policy rules of the FIB (Linux's fib_rules for IPv4): the ordered list the control plane keeps,
 * checked and matched as `ip rule` does, and its encoding into the core's rule array, which
 * assembly/fib/rules.ts walks for every policy lookup. The list itself lives in Fib (fib.ts), which
 * snapshots it in its transactions.
 *
 * The core's rule record (40 bytes, RULE_WORDS u32 words a rule, in priority order) is drawn in
 * assembly/fib/rules.ts; encodeRules writes it.
 */
import type { Core } from "../core/load.ts";
import { FibError } from "./fib-error.ts";
import { maskOf } from "./ipv4.ts";
import { TABLE_DEFAULT, TABLE_LOCAL, TABLE_MAIN, type Rule, type RuleAction } from "./types.ts";

export interface RuleSelector {
  priority?: number;
  src?: number;
  srcLen?: number;
  dst?: number;
  dstLen?: number;
  iif?: string;
  tos?: number;
  fwmark?: number;
  fwmask?: number;
  action?: RuleAction;
  table?: number;
}

const RULE_WORDS = 10;
const ACTION_CODE: Record<RuleAction, number> = { lookup: 1, blackhole: 2, unreachable: 3, prohibit: 4 };

/** The three rules Linux starts with: local at 0, main at 32766, default at 32767. */
export function defaultRules(): Rule[] {
  const rule = (priority: number, table: number): Rule => ({
    priority, src: 0, srcLen: 0, dst: 0, dstLen: 0, iif: "", tos: 0, fwmark: 0, fwmask: 0, action: "lookup", table,
  });
  return [rule(0, TABLE_LOCAL), rule(32766, TABLE_MAIN), rule(32767, TABLE_DEFAULT)];
}

/**
 * Inserts r into list (priority order, after its equals) as `ip rule add` does: without a priority it
 * goes just before the second rule (the kernel's "priority of the first non-zero rule − 1"). Throws
 * FibError, leaving list as it was, for a bad prefix, a lookup without a table, or a rule that exists.
 */
export function insertRule(list: Rule[], r: Omit<Rule, "priority"> & { priority?: number }): Rule {
  const priority = r.priority ?? (list.length >= 2 && list[1]!.priority > 0 ? list[1]!.priority - 1 : 0);
  const rule: Rule = { ...r, priority };
  for (const [a, l] of [[rule.src, rule.srcLen], [rule.dst, rule.dstLen]] as const) {
    if (l < 0 || l > 32 || ((a & ~maskOf(l)) >>> 0) !== 0) throw new FibError(22, "Error: Invalid prefix for given prefix length.");
  }
  if (rule.action === "lookup" && !(rule.table >= 1 && rule.table <= 0xffffffff)) throw new FibError(22, "Error: Rule lookup needs a table.");
  if (list.some((x) => sameRule(x, rule))) throw new FibError(17);
  let at = list.findIndex((x) => x.priority > rule.priority);
  if (at < 0) at = list.length;
  list.splice(at, 0, rule);
  return rule;
}

/** Removes and returns the first rule of list that sel names (`ip rule del`); FibError ENOENT if none. */
export function removeRule(list: Rule[], sel: RuleSelector): Rule {
  const i = list.findIndex((r) => ruleMatches(r, sel));
  if (i < 0) throw new FibError(2);
  return list.splice(i, 1)[0]!;
}

/** Writes list into the core's rule array and commits it; tableCore: a table id's core index, if it exists. */
export function encodeRules(core: Core, list: readonly Rule[], tableCore: (id: number) => number | undefined, ifIndex: (name: string) => number): void {
  const x = core.x;
  const p = x.fib_rules_reserve(list.length) >>> 0;
  if (p === 0) throw new FibError(12, "wasmroute: core out of memory (rules)");
  const m = core.u32();
  list.forEach((r, i) => {
    const w = (p >>> 2) + i * RULE_WORDS;
    const tableIdx = r.action === "lookup" ? (tableCore(r.table) ?? 0xffff) : 0xffff;
    m[w] = r.priority;
    m[w + 1] = r.src;
    m[w + 2] = maskOf(r.srcLen);
    m[w + 3] = r.dst;
    m[w + 4] = maskOf(r.dstLen);
    m[w + 5] = r.iif ? ifIndex(r.iif) : 0;
    m[w + 6] = r.tos;
    m[w + 7] = r.fwmark;
    m[w + 8] = r.fwmask;
    m[w + 9] = (ACTION_CODE[r.action] | (tableIdx << 16)) >>> 0;
  });
  x.fib_rules_commit(list.length);
}

function sameRule(a: Rule, b: Rule): boolean {
  return (
    a.priority === b.priority && a.src === b.src && a.srcLen === b.srcLen && a.dst === b.dst && a.dstLen === b.dstLen &&
    a.iif === b.iif && a.tos === b.tos && a.fwmark === b.fwmark && a.fwmask === b.fwmask && a.action === b.action &&
    (a.action !== "lookup" || a.table === b.table)
  );
}

function ruleMatches(r: Rule, s: RuleSelector): boolean {
  return (
    (s.priority === undefined || r.priority === s.priority) &&
    (s.src === undefined || (r.src === s.src && r.srcLen === (s.srcLen ?? 32))) &&
    (s.dst === undefined || (r.dst === s.dst && r.dstLen === (s.dstLen ?? 32))) &&
    (s.iif === undefined || r.iif === s.iif) &&
    (s.tos === undefined || r.tos === s.tos) &&
    (s.fwmark === undefined || (r.fwmark === s.fwmark && (s.fwmask === undefined || r.fwmask === s.fwmask))) &&
    (s.action === undefined || r.action === s.action) &&
    (s.table === undefined || (r.action === "lookup" && r.table === s.table))
  );
}
