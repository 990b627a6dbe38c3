/**
 * One line of `ip -4 -o -d route show` or `ip -4 -o -d monitor route` (iproute2 6.1, whose
 * `ip -json monitor` still prints text) → what wasmroute mirrors of it (#6, `--sync-from-kernel`).
 *
 *   [Deleted ]TYPE PREFIX [tos T] [via ADDR] [dev IF] table T proto P scope S [src A] [metric N] [FLAGS]
 *       [\ nexthop via ADDR dev IF weight W [FLAGS]]…
 *
 * Kept: the prefix, the type (unicast, blackhole, unreachable, prohibit, throw), the metric, the table,
 * the proto, the gateways and their weights (ECMP). Dropped: `dev` (the daemon namespace's devices mean
 * nothing to wasmroute: a gateway resolves through wasmroute's own connected routes, as `ip route add
 * … via GW` without `dev` does), `src`, `scope` (wasmroute's grammar defaults it), and flags such as
 * onlink, linkdown, dead. The result is the words of wasmroute's own `ip route` grammar, parsed by it
 * (host/cli/parse-route.ts), so a mirrored route is exactly what `wasmroute -n NAME ip route replace …`
 * with the same words would add.
 *
 * Ignored without a word: the namespace's own addresses (local, broadcast, multicast, anycast types),
 * connected routes (`proto kernel`), other tables, and IPv6 lines. Skipped with a one-line reason: what
 * wasmroute cannot express (a route through a device only, nexthop objects, a TOS key, per-route
 * metrics such as mtu, an unknown attribute). A skipped route is never half-mirrored.
 */
import type { Route } from "../fib/types.ts";
import { parseRouteAdd } from "../cli/parse-route.ts";
import { parseIPv4 } from "../fib/ipv4.ts";
import { TABLE_MAIN } from "../fib/types.ts";
import { parseTable } from "../cli/words.ts";

/** A route's identity in an IPv4 kernel table, as the kernel keys it (tos aside): table, prefix, metric. */
export function routeKey(table: number, prefix: number, len: number, metric: number): string {
  return `${table === 0 ? TABLE_MAIN : table}|${prefix >>> 0}/${len}|${metric >>> 0}`;
}

export function keyOfRoute(r: Pick<Route, "table" | "prefix" | "len" | "metric">): string {
  return routeKey(r.table, r.prefix, r.len, r.metric);
}

/** What one line says. */
export type KernelLine =
  /** A route to mirror: its key, the words of `wasmroute ip route replace WORDS`, and the parsed route. */
  | { kind: "route"; deleted: boolean; key: string; words: string[]; route: Route }
  /** A route of the table that wasmroute cannot express: nothing of it is mirrored. */
  | { kind: "skip"; deleted: boolean; key: string; prefix: string; reason: string }
  /** Not a route of the table to mirror (another table, a local address, a connected route, IPv6, noise). */
  | { kind: "ignore" };

const MIRRORED_TYPES = new Set(["unicast", "blackhole", "unreachable", "prohibit", "throw"]);
const ADDRESS_TYPES = new Set(["local", "broadcast", "multicast", "anycast"]);
const KNOWN_TYPES = new Set([...MIRRORED_TYPES, ...ADDRESS_TYPES, "nat", "xresolve"]);
/** Flags iproute2 prints after a route or a hop; none changes what wasmroute would do. */
const FLAGS = new Set(["onlink", "linkdown", "dead", "pervasive", "offload", "trap", "notify", "rt_offload", "rt_trap", "rt_offload_failed", "unresolved"]);
/** Per-route metrics (RTA_METRICS) that wasmroute has no place for. */
const ROUTE_METRICS = new Set(["mtu", "advmss", "rtt", "rttvar", "reordering", "window", "cwnd", "initcwnd", "initrwnd", "ssthresh", "realms", "rto_min", "features", "quickack", "congctl", "hoplimit", "fastopen_no_cookie"]);

const IGNORE: KernelLine = { kind: "ignore" };

/**
 * Parses one line for table `table` (a number; main is 254). Never throws: a line it cannot read at
 * all is ignored when it names no IPv4 prefix, and skipped with its reason otherwise.
 */
export function parseKernelRouteLine(line: string, table: number): KernelLine {
  const w = line.split(/\s+/).filter((t) => t !== "" && t !== "\\");
  let i = 0;
  const deleted = w[0] === "Deleted";
  if (deleted) i++;
  let type = "unicast";
  if (w[i] !== undefined && KNOWN_TYPES.has(w[i]!)) type = w[i++]!;
  const dst = w[i++];
  if (dst === undefined) return IGNORE;
  const prefix = dst === "default" ? "0.0.0.0/0" : dst.includes("/") ? dst : `${dst}/32`;
  const slash = prefix.indexOf("/");
  const addr = parseIPv4(prefix.slice(0, slash));
  const len = Number(prefix.slice(slash + 1));
  if (addr === undefined || !/^\d{1,2}$/.test(prefix.slice(slash + 1)) || len > 32) return IGNORE; // IPv6, "Flushed …", noise

  // First pass: the key fields, so that even a route we cannot express has an identity.
  let lineTable = TABLE_MAIN;
  let metric = 0;
  let proto = "boot";
  let tableText = "main";
  for (let k = i; k + 1 < w.length; k++) {
    if (w[k] === "table") tableText = w[k + 1]!;
    else if (w[k] === "metric") metric = Number(w[k + 1]);
    else if (w[k] === "proto") proto = w[k + 1]!;
  }
  try {
    lineTable = parseTable("table", tableText);
  } catch {
    return IGNORE; // a table name from the namespace's rt_tables: not the table asked for by number
  }
  if (lineTable !== table) return IGNORE;
  if (ADDRESS_TYPES.has(type) || proto === "kernel") return IGNORE;
  const key = routeKey(lineTable, addr, len, Number.isInteger(metric) ? metric : 0);
  const skip = (reason: string): KernelLine => ({ kind: "skip", deleted, key, prefix, reason });
  if (!MIRRORED_TYPES.has(type)) return skip(`route type ${type} is not supported`);

  // Second pass: build wasmroute's words.
  const words: string[] = [type, prefix];
  const hops: string[] = [];
  const single: string[] = [];
  let multipath = false;
  let hasDev = false;
  for (let k = i; k < w.length; k++) {
    const t = w[k]!;
    const arg = w[k + 1];
    switch (t) {
      case "via":
        if (arg === "inet" || arg === "inet6") return skip(`a gateway of another family (via ${arg}) is not supported`);
        if (arg === undefined || parseIPv4(arg) === undefined) return skip(`bad gateway "${arg ?? ""}"`);
        (multipath ? hops : single).push("via", arg);
        k++;
        break;
      case "weight":
        if (arg === undefined) return skip(`weight without a value`);
        (multipath ? hops : single).push("weight", arg);
        k++;
        break;
      case "nexthop":
        multipath = true;
        hops.push("nexthop");
        break;
      case "dev":
        hasDev = true;
        k++;
        break;
      case "table":
        words.push("table", String(lineTable));
        k++;
        break;
      case "metric":
        words.push("metric", arg ?? "");
        k++;
        break;
      case "proto":
        if (arg !== "boot") words.push("proto", arg ?? "");
        k++;
        break;
      case "src":
      case "scope":
      case "expires":
      case "pref":
      case "cache":
        k++;
        break;
      case "tos":
      case "dsfield":
        if (arg !== "0" && arg !== "0x00" && arg !== "default") return skip(`a route keyed by TOS (tos ${arg}) is not supported`);
        k++;
        break;
      case "nhid":
        return skip(`nexthop objects (nhid ${arg}) are not supported`);
      case "encap":
        return skip(`encapsulation (encap ${arg}) is not supported`);
      default:
        if (FLAGS.has(t)) break;
        if (ROUTE_METRICS.has(t)) return skip(`per-route ${t} is not supported`);
        return skip(`unknown attribute "${t}"`);
    }
  }
  if (multipath) {
    if (single.length > 0) return skip(`a gateway both before and inside "nexthop"`);
    words.push(...hops);
  } else words.push(...single);
  if (type === "unicast") {
    if (!multipath && !single.includes("via")) return skip(hasDev ? "a route through a device only (no gateway) cannot be mirrored: the device is the namespace's" : "a unicast route without a gateway");
    if (multipath && hops.filter((h) => h === "via").length !== hops.filter((h) => h === "nexthop").length) return skip("a multipath hop through a device only (no gateway)");
  }
  let route: Route;
  try {
    route = parseRouteAdd(words, "kernel route");
  } catch (e) {
    return skip((e as Error).message);
  }
  if (keyOfRoute(route) !== key) return skip(`inconsistent key (metric ${metric})`);
  return { kind: "route", deleted, key, words, route };
}
