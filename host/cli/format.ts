/**
 * Text output in iproute2 6.1's exact format (`ip route show`, `ip rule show`), our one-line
 * `ip route get` answer, and the canonical command text persisted in a routes file.
 *
 * Route lines end in a space, as iproute2 prints them (every field is printed as "word value ").
 */
import type { AddMode, RouteSelector, RuleSelector } from "../fib/fib.ts";
import { formatIPv4 } from "../fib/ipv4.ts";
import { TABLE_MAIN, type Nexthop, type Route, type RouteAnswer, type RouteQuery, type Rule } from "../fib/types.ts";
import { defaultScope, defaultTable } from "./parse-route.ts";
import { hexAlt, tableName } from "./words.ts";

/** A destination as iproute2 prints it: "default" for 0/0, bare address for /32, else CIDR. */
export function formatDst(addr: number, len: number): string {
  if (len === 0) return "default";
  return len === 32 ? formatIPv4(addr) : `${formatIPv4(addr)}/${len}`;
}

/** A selector prefix of `ip rule`: "all" for /0. */
function formatRulePrefix(addr: number, len: number): string {
  if (len === 0) return "all";
  return len === 32 ? formatIPv4(addr) : `${formatIPv4(addr)}/${len}`;
}

export interface RouteFormatOptions {
  /** Listing `table all`: print `table T` for routes outside main. */
  showTable?: boolean;
}

/**
 * One route as `ip route show` prints it: one line, or for multipath a header line and one
 * "\tnexthop …" line per hop.
 */
export function formatRoute(r: Route, opts: RouteFormatOptions = {}): string[] {
  let head = r.type === "unicast" ? "" : `${r.type} `;
  head += `${formatDst(r.prefix, r.len)} `;
  const single = r.nexthops.length <= 1 ? r.nexthops[0] : undefined;
  if (single) {
    if (single.gateway) head += `via ${formatIPv4(single.gateway)} `;
    if (single.dev) head += `dev ${single.dev} `;
  }
  if (opts.showTable && r.table !== TABLE_MAIN) head += `table ${tableName(r.table)} `;
  if (r.proto !== undefined) head += `proto ${r.proto} `;
  if (r.scope !== undefined) head += `scope ${r.scope} `;
  if (r.src !== undefined) head += `src ${formatIPv4(r.src)} `;
  if (r.metric) head += `metric ${r.metric} `;
  if (single?.onlink) head += "onlink ";
  if (r.nexthops.length <= 1) return [head];
  return [head, ...r.nexthops.map((nh) => `\t${formatHop(nh)}`)];
}

function formatHop(nh: Nexthop): string {
  let s = "nexthop ";
  if (nh.gateway) s += `via ${formatIPv4(nh.gateway)} `;
  if (nh.dev) s += `dev ${nh.dev} `;
  s += `weight ${nh.weight} `;
  if (nh.onlink) s += "onlink ";
  return s;
}

/** One rule as `ip rule show` prints it. */
export function formatRule(r: Rule): string {
  let s = `${r.priority}:\tfrom ${formatRulePrefix(r.src, r.srcLen)}`;
  if (r.dstLen) s += ` to ${formatRulePrefix(r.dst, r.dstLen)}`;
  if (r.tos) s += ` tos 0x${r.tos.toString(16).padStart(2, "0")}`;
  if (r.fwmark || r.fwmask) {
    s += ` fwmark ${hexAlt(r.fwmark)}`;
    if (r.fwmask >>> 0 !== 0xffffffff) s += `/${hexAlt(r.fwmask)}`;
  }
  if (r.iif) s += ` iif ${r.iif}`;
  s += r.action === "lookup" ? ` lookup ${tableName(r.table)}` : ` ${r.action}`;
  return s;
}

/** A mark as iproute2 prints it in `ip route get`: decimal below 16, hex from 16 on. */
function formatMark(mark: number): string {
  return mark >= 16 ? `0x${(mark >>> 0).toString(16)}` : String(mark);
}

const ERROR_TYPES = new Set(["blackhole", "unreachable", "prohibit"]);
/** The route type behind a lookup error (a rule action answers without a route). */
const TYPE_OF_ERRNO: Record<number, string> = { [-22]: "blackhole", [-113]: "unreachable", [-13]: "prohibit" };

/**
 * One `ip route get` answer on one line:
 * - success: `[local |broadcast ]DST[ from SRC][ via GW] dev DEV[ table T][ mark N][ iif IIF]`
 *   (local answers are delivered through `lo`, as the kernel prints them);
 * - a blackhole / unreachable / prohibit route or rule: `TYPE DST[ from SRC][ table T][ iif IIF]`;
 * - no route at all: `unreachable DST`. The kernel answers "RTNETLINK answers: Network is
 *   unreachable" there; we print the negative route instead, as a 3.x kernel's input route did.
 */
export function formatAnswer(q: RouteQuery, a: RouteAnswer): string {
  const dst = formatIPv4(q.dst);
  const from = q.src ? ` from ${formatIPv4(q.src)}` : "";
  const table = a.table && a.table !== TABLE_MAIN ? ` table ${tableName(a.table)}` : "";
  const iif = q.iif ? ` iif ${q.iif}` : "";
  const ok = a.error === 0 && (a.type === "unicast" || a.type === "local" || a.type === "broadcast");
  if (!ok) {
    const type = ERROR_TYPES.has(a.type) ? a.type : TYPE_OF_ERRNO[a.error];
    return type ? `${type} ${dst}${from}${table}${iif}` : `unreachable ${dst}`;
  }
  let s = a.type === "unicast" ? dst : `${a.type} ${dst}`;
  s += from;
  const nh = a.nexthop;
  if (nh?.gateway) s += ` via ${formatIPv4(nh.gateway)}`;
  const dev = a.type === "local" ? "lo" : nh?.dev;
  if (dev) s += ` dev ${dev}`;
  s += table;
  if (q.mark) s += ` mark ${formatMark(q.mark)}`;
  return s + iif;
}

// ── canonical command text ───────────────────────────────────────────────────

/**
 * The route as `ip route` command words (no leading `route add`): every field that differs from
 * what the parser would default to, so parsing the text back gives the same route.
 */
export function formatRouteSpec(r: Route): string {
  const parts: string[] = [];
  if (r.type !== "unicast") parts.push(r.type);
  parts.push(formatDst(r.prefix, r.len));
  const multipath = r.nexthops.length > 1;
  const single = multipath ? undefined : r.nexthops[0];
  if (single) {
    if (single.gateway) parts.push("via", formatIPv4(single.gateway));
    if (single.dev) parts.push("dev", single.dev);
    if (single.weight !== 1) parts.push("weight", String(single.weight));
    if (single.onlink) parts.push("onlink");
  }
  if (r.table !== defaultTable(r.type)) parts.push("table", tableName(r.table));
  if (r.proto !== undefined) parts.push("proto", r.proto);
  const scope = defaultScope(r.type, (single?.gateway ?? 0) !== 0, multipath);
  if (r.scope !== scope) parts.push("scope", r.scope ?? "global");
  if (r.src !== undefined) parts.push("src", formatIPv4(r.src));
  if (r.metric) parts.push("metric", String(r.metric));
  if (multipath) {
    for (const nh of r.nexthops) {
      parts.push("nexthop");
      if (nh.gateway) parts.push("via", formatIPv4(nh.gateway));
      if (nh.dev) parts.push("dev", nh.dev);
      if (nh.weight !== 1) parts.push("weight", String(nh.weight));
      if (nh.onlink) parts.push("onlink");
    }
  }
  return parts.join(" ");
}

export function routeAddText(mode: AddMode, r: Route): string {
  return `route ${mode} ${formatRouteSpec(r)}`;
}

export function routeDelText(s: RouteSelector): string {
  const parts = ["route", "del"];
  if (s.type !== undefined) parts.push(s.type);
  parts.push(formatDst(s.prefix, s.len));
  if (s.gateway !== undefined) parts.push("via", formatIPv4(s.gateway));
  if (s.dev !== undefined) parts.push("dev", s.dev);
  if (s.table !== defaultTable(s.type ?? "unicast")) parts.push("table", tableName(s.table));
  if (s.proto !== undefined) parts.push("proto", s.proto);
  if (s.scope !== undefined) parts.push("scope", s.scope);
  if (s.metric !== undefined) parts.push("metric", String(s.metric));
  return parts.join(" ");
}

function tosText(tos: number): string {
  return `0x${tos.toString(16).padStart(2, "0")}`;
}

/** Canonical `rule add` line of a rule as the FIB stored it (with its priority). */
export function ruleAddText(r: Rule): string {
  const parts = ["rule", "add"];
  if (r.srcLen) parts.push("from", formatRulePrefix(r.src, r.srcLen));
  if (r.dstLen) parts.push("to", formatRulePrefix(r.dst, r.dstLen));
  if (r.iif) parts.push("iif", r.iif);
  if (r.tos) parts.push("tos", tosText(r.tos));
  if (r.fwmark || r.fwmask) {
    const defaultMask = r.fwmark ? 0xffffffff : 0;
    parts.push("fwmark", r.fwmask >>> 0 === defaultMask ? hexAlt(r.fwmark) : `${hexAlt(r.fwmark)}/${hexAlt(r.fwmask)}`);
  }
  if (r.action === "lookup") parts.push("lookup", tableName(r.table));
  else parts.push(r.action);
  parts.push("priority", String(r.priority));
  return parts.join(" ");
}

/** Canonical `rule del` line: exactly the selector words that were given. */
export function ruleDelText(s: RuleSelector): string {
  const parts = ["rule", "del"];
  if (s.src !== undefined) parts.push("from", formatRulePrefix(s.src, s.srcLen ?? 32));
  if (s.dst !== undefined) parts.push("to", formatRulePrefix(s.dst, s.dstLen ?? 32));
  if (s.iif !== undefined) parts.push("iif", s.iif);
  if (s.tos !== undefined) parts.push("tos", tosText(s.tos));
  if (s.fwmark !== undefined) parts.push("fwmark", s.fwmask === undefined ? hexAlt(s.fwmark) : `${hexAlt(s.fwmark)}/${hexAlt(s.fwmask)}`);
  if (s.table !== undefined) parts.push("lookup", tableName(s.table));
  if (s.action !== undefined && s.action !== "lookup") parts.push(s.action);
  if (s.priority !== undefined) parts.push("priority", String(s.priority));
  if (parts.length === 2) parts.push("from", "all"); // selects the first rule, like iproute2's
  return parts.join(" ");
}
