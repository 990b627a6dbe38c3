/**
 * `ip route …` grammar (iproute2 6.1, checked against the real `ip` on Linux): the words after
 * `route` become one command object. Parsing only: nothing here touches a FIB.
 *
 *   route add|append|replace|change [to] [TYPE] PREFIX [via ADDR] [dev NAME] [table ID]
 *         [metric|priority|preference N] [proto NAME|N] [scope NAME|N] [src ADDR] [onlink]
 *         [weight N] [nexthop via ADDR dev NAME [weight N] [onlink]]…
 *   route del|delete SELECTOR            (same words; only what is given is matched)
 *   route show|list [table ID|all] [[to|exact] PREFIX]     (`show cache` is refused)
 *   route get [to] ADDR [from ADDR] [iif NAME] [mark N] [tos N]
 *   route flush table ID|all
 *
 * Defaults are iproute2's: table main, but table local for local and broadcast routes; scope host
 * for local, link for broadcast and for a unicast route without a gateway (single-hop syntax), none
 * (global) otherwise; proto boot, which is stored as "no proto" because iproute2 never prints it.
 */
import type { AddMode, RouteSelector } from "../fib/fib.ts";
import { parseAddress, parsePrefix } from "../fib/ipv4.ts";
import { RouteType, TABLE_LOCAL, TABLE_MAIN, type Nexthop, type Route, type RouteQuery, type RouteTypeName } from "../fib/types.ts";
import { Seen, Words, parseNumber, parseProto, parseScope, parseTable, parseTos, q } from "./words.ts";

export type RouteCommand =
  | { op: "add"; mode: AddMode; route: Route }
  | { op: "del"; selector: RouteSelector }
  | { op: "show"; table: number | "all"; prefix?: { addr: number; len: number } }
  | { op: "get"; query: RouteQuery }
  | { op: "flush"; table: number | "all" }
  | { op: "load"; file: string; table: number; nexthops: Nexthop[] };

const ADD_MODES: Record<string, AddMode> = { add: "add", append: "append", replace: "replace", change: "change" };

/** Types that carry no next hop: the kernel refuses a gateway, device or multipath for them. */
const ERROR_TYPES = new Set<RouteTypeName>(["blackhole", "unreachable", "prohibit", "throw"]);

function isRouteType(w: string): w is RouteTypeName {
  return Object.hasOwn(RouteType, w);
}

/** The table iproute2 picks when none is given. */
export function defaultTable(type: RouteTypeName): number {
  return type === "local" || type === "broadcast" ? TABLE_LOCAL : TABLE_MAIN;
}

/** The scope iproute2 picks when none is given (undefined = global, not printed). */
export function defaultScope(type: RouteTypeName, hasGateway: boolean, multipath: boolean): string | undefined {
  if (type === "local") return "host";
  if (type === "broadcast") return "link";
  if (type === "unicast" && !hasGateway && !multipath) return "link";
  return undefined;
}

/** Parses the words after `route`. */
export function parseRouteCommand(words: readonly string[]): RouteCommand {
  const cmd = words[0] ?? "show";
  const rest = words.slice(1);
  const mode = Object.hasOwn(ADD_MODES, cmd) ? ADD_MODES[cmd] : undefined;
  if (mode) return { op: "add", mode, route: parseRouteAdd(rest, `route ${cmd}`) };
  switch (cmd) {
    case "load":
      return parseRouteLoad(rest);
    case "del":
    case "delete":
      return { op: "del", selector: parseRouteDel(rest, `route ${cmd}`) };
    case "show":
    case "list":
      return parseShow(new Words(rest, `route ${cmd}`));
    case "get":
      return { op: "get", query: parseGet(new Words(rest, "route get")) };
    case "flush":
      return parseFlush(new Words(rest, "route flush"));
    default:
      throw new Error(
        `unknown route command ${q(cmd)} (expected add, append, replace, change, del, show, get or flush)`,
      );
  }
}

// ── add / del ─────────────────────────────────────────────────────────────────

interface Spec {
  type?: RouteTypeName;
  prefix?: { addr: number; len: number };
  gateway?: number;
  dev?: string;
  table?: number;
  metric?: number;
  proto?: string;
  protoGiven: boolean;
  scope?: string;
  scopeGiven: boolean;
  src?: number;
  onlink: boolean;
  weight?: number;
  hops: Nexthop[];
  /** Single-hop words that were used (for error messages). */
  single: string[];
}

function parseSpec(words: readonly string[], what: string): Spec {
  const w = new Words(words, what);
  const seen = new Seen("route");
  const s: Spec = { onlink: false, protoGiven: false, scopeGiven: false, hops: [], single: [] };
  while (w.more()) {
    const word = w.next();
    switch (word) {
      case "via":
        seen.once(word);
        s.gateway = parseAddress(w.arg(word));
        s.single.push(word);
        break;
      case "dev":
      case "oif":
        seen.once(word, "dev");
        s.dev = w.arg(word);
        s.single.push(word);
        break;
      case "table":
        seen.once(word);
        s.table = parseTable(word, w.arg(word));
        break;
      case "metric":
      case "priority":
      case "preference":
        seen.once(word, "metric");
        s.metric = parseNumber(word, w.arg(word));
        break;
      case "proto":
      case "protocol":
        seen.once(word, "proto");
        s.proto = parseProto(word, w.arg(word));
        s.protoGiven = true;
        break;
      case "scope":
        seen.once(word);
        s.scope = parseScope(word, w.arg(word));
        s.scopeGiven = true;
        break;
      case "src":
        seen.once(word);
        s.src = parseAddress(w.arg(word));
        break;
      case "onlink":
        seen.once(word);
        s.onlink = true;
        s.single.push(word);
        break;
      case "weight":
        seen.once(word);
        s.weight = parseNumber(word, w.arg(word), 1, 256);
        s.single.push(word);
        break;
      case "nexthop":
        w.i--;
        parseNexthops(w, s.hops);
        break;
      default: {
        let text = word;
        if (word === "to") text = w.arg(word);
        if (isRouteType(text)) {
          if (s.prefix || s.type) throw new Error(`${q(text)} must come right before the prefix in "${what}"`);
          s.type = text;
          if (!w.more()) throw new Error(`missing prefix after ${q(text)} in "${what}"`);
          text = w.next();
        }
        if (!/^[0-9]/.test(text) && text !== "default") throw w.unknown(text);
        if (s.prefix) throw new Error(`duplicate prefix ${q(text)} in "${what}"`);
        s.prefix = parsePrefix(text);
      }
    }
  }
  if (!s.prefix) throw new Error(`missing prefix in "${what}"`);
  if (s.hops.length > 0 && s.single.length > 0) {
    throw new Error(`${q(s.single[0]!)} cannot be combined with "nexthop" in "${what}" (put it inside a nexthop)`);
  }
  return s;
}

/** After `nexthop`: only via, dev, weight, onlink until the next `nexthop` or the end of the line. */
function parseNexthops(w: Words, hops: Nexthop[]): void {
  while (w.more()) {
    const word = w.next();
    if (word !== "nexthop") throw new Error(`"nexthop" or end of line is expected instead of ${q(word)}`);
    if (!w.more()) throw new Error(`unexpected end of line after "nexthop"`);
    const seen = new Seen("nexthop");
    const nh: Nexthop = { gateway: 0, dev: "", weight: 1, onlink: false };
    while (w.more() && w.peek() !== "nexthop") {
      const k = w.next();
      switch (k) {
        case "via":
          seen.once(k);
          nh.gateway = parseAddress(w.arg(k));
          break;
        case "dev":
          seen.once(k);
          nh.dev = w.arg(k);
          break;
        case "weight":
          seen.once(k);
          nh.weight = parseNumber(k, w.arg(k), 1, 256);
          break;
        case "onlink":
          seen.once(k);
          nh.onlink = true;
          break;
        default:
          throw new Error(`"nexthop" or end of line is expected instead of ${q(k)}`);
      }
    }
    if (!seen.has("via") && !seen.has("dev")) throw new Error(`a "nexthop" needs "via ADDR" or "dev NAME"`);
    hops.push(nh);
  }
}

/** `route add|append|replace|change …` → the route, with iproute2's defaults filled in. */
export function parseRouteAdd(words: readonly string[], what = "route add"): Route {
  const s = parseSpec(words, what);
  const type = s.type ?? "unicast";
  if (ERROR_TYPES.has(type)) {
    const bad = s.hops.length > 0 ? "nexthop" : (s.single.find((x) => x !== "weight" && x !== "onlink") ?? s.single[0]);
    if (bad) throw new Error(`a ${type} route cannot have ${q(bad)} (no gateway, device or multipath for this route type)`);
  }
  const multipath = s.hops.length > 0;
  let nexthops: Nexthop[] = s.hops;
  if (!multipath && (s.gateway !== undefined || s.dev !== undefined || s.onlink || s.weight !== undefined)) {
    nexthops = [{ gateway: s.gateway ?? 0, dev: s.dev ?? "", weight: s.weight ?? 1, onlink: s.onlink }];
  }
  const route: Route = {
    prefix: s.prefix!.addr,
    len: s.prefix!.len,
    type,
    table: s.table ?? defaultTable(type),
    metric: s.metric ?? 0,
    nexthops,
  };
  if (s.proto !== undefined) route.proto = s.proto;
  const scope = s.scopeGiven ? s.scope : defaultScope(type, (s.gateway ?? 0) !== 0, multipath);
  if (scope !== undefined) route.scope = scope;
  if (s.src !== undefined) route.src = s.src;
  return route;
}

/** `route del …` → a selector: only the words given are matched (iproute2 leaves the rest unset). */
export function parseRouteDel(words: readonly string[], what = "route del"): RouteSelector {
  const s = parseSpec(words, what);
  for (const [given, word] of [
    [s.hops.length > 0, "nexthop"],
    [s.src !== undefined, "src"],
    [s.onlink, "onlink"],
    [s.weight !== undefined, "weight"],
  ] as const) {
    if (given) throw new Error(`${q(word)} is not supported in "${what}" (select by prefix, type, table, metric, via, dev, proto, scope)`);
  }
  const sel: RouteSelector = { prefix: s.prefix!.addr, len: s.prefix!.len, table: s.table ?? defaultTable(s.type ?? "unicast") };
  if (s.type !== undefined) sel.type = s.type;
  if (s.metric !== undefined) sel.metric = s.metric;
  if (s.gateway !== undefined) sel.gateway = s.gateway;
  if (s.dev !== undefined) sel.dev = s.dev;
  // `proto boot` is stored as "no proto", which a selector cannot ask for: it matches any proto.
  if (s.proto !== undefined) sel.proto = s.proto;
  if (s.scopeGiven && s.scope !== undefined) sel.scope = s.scope;
  return sel;
}

// ── show / get / flush ────────────────────────────────────────────────────────

function parseShow(w: Words): RouteCommand {
  let table: number | "all" = TABLE_MAIN;
  let prefix: { addr: number; len: number } | undefined;
  const seen = new Seen("route");
  while (w.more()) {
    const word = w.next();
    if (word === "cache") throw new Error("route show cache needs a running router (wasmroute run, issue #4); a routes file has no cache. The simulator shows one: wasmroute simulate --show-cache N");
    if (word === "table") {
      seen.once(word);
      const t = w.arg(word);
      table = t === "all" ? "all" : parseTable(word, t);
      continue;
    }
    let text = word;
    if (word === "to" || word === "exact") text = w.arg(word);
    else if (!/^[0-9]/.test(word) && word !== "default") throw w.unknown(word);
    seen.once("prefix", "prefix");
    prefix = parsePrefix(text);
  }
  return prefix ? { op: "show", table, prefix } : { op: "show", table };
}

function parseGet(w: Words): RouteQuery {
  const query: RouteQuery = { dst: 0, src: 0, iif: "", mark: 0, tos: 0 };
  const seen = new Seen("route");
  let haveDst = false;
  while (w.more()) {
    const word = w.next();
    switch (word) {
      case "from":
        seen.once(word);
        query.src = parseAddress(w.arg(word));
        break;
      case "iif":
        seen.once(word);
        query.iif = w.arg(word);
        break;
      case "mark":
        seen.once(word);
        query.mark = parseNumber(word, w.arg(word));
        break;
      case "tos":
      case "dsfield":
        seen.once(word, "tos");
        query.tos = parseTos(word, w.arg(word));
        break;
      default: {
        const text = word === "to" ? w.arg(word) : word;
        if (word !== "to" && !/^[0-9]/.test(word)) throw w.unknown(word);
        if (haveDst) throw new Error(`duplicate address ${q(text)} in "route get"`);
        query.dst = parseAddress(text);
        haveDst = true;
      }
    }
  }
  if (!haveDst) throw new Error(`missing address in "route get"`);
  return query;
}

function parseFlush(w: Words): RouteCommand {
  if (!w.more()) throw new Error(`"route flush" needs "table ID|all"`);
  const word = w.next();
  if (word !== "table") throw w.unknown(word);
  const t = w.arg(word);
  const table = t === "all" ? "all" : parseTable(word, t);
  if (w.more()) throw w.unknown(w.next());
  return { op: "flush", table };
}

/**
 * `route load FILE [table T] via GW dev DEV | nexthop via GW dev DEV …` (a wasmroute extension): a plain
 * CIDR list — one prefix a line, like a BGP table dump, `.gz` allowed — becomes unicast routes, prefix
 * addr/len taking hop number fmix32(addr ^ (len << 24)) mod (number of hops) of the hops given.
 */
function parseRouteLoad(words: readonly string[]): RouteCommand {
  const file = words[0];
  if (file === undefined) throw new Error(`"route load" needs a file of CIDRs`);
  // The hops and table use the route grammar, on a stand-in prefix.
  const r = parseRouteAdd(["default", ...words.slice(1)], "route load");
  if (r.type !== "unicast" || r.nexthops.length === 0) throw new Error(`"route load" needs next hops: via ADDR dev NAME, or nexthop … nexthop …`);
  if (r.metric || r.src !== undefined || r.proto !== undefined) throw new Error(`"route load" takes only a table and next hops`);
  return { op: "load", file, table: r.table, nexthops: r.nexthops };
}
