/**
 * What changes between two configurations (SIGHUP reload): the steps that take a router started from
 * `old` to the state a router started from `next` would have, as far as the control plane goes. The
 * runtime decides what it can apply live (link changes need a restart).
 *
 * - Routes: both configs are replayed on the FIB model (config-model.ts routeReplay: address kernel routes, then
 *   the route lines in file order with their add/append/replace semantics). A `route load` line's prefixes
 *   stay listed without objects on both sides, and only those that differ (or that other lines touch) become
 *   groups (sameGroups), so a full table reloads without expanding its list. A (table, prefix, len) whose
 *   final routes differ — compared by origin and canonical text (formatRouteSpec of the stored route, so
 *   a gateway that now resolves to another device counts as a change), in the FIB's order — is rebuilt:
 *   routesDel selects each old config route of it; routesAdd then replays every route line of the new
 *   config for it, in file order with its own mode and its normalised route (devices resolved). From the
 *   same starting point (the prefix's kernel route, if any) that gives exactly what a fresh start gives,
 *   equal metrics, replaced and duplicate entries included, and the additions do not depend on the order
 *   of other prefixes. A kernel route the old config had replaced is re-added first (mode "replace", no
 *   words) unless addresses changed. routesDel selects each route exactly (deleting them in order is
 *   simulated: the FIB removes the first match); when a config route cannot be told from the prefix's
 *   kernel route by a selector (same type, metric and first hop, only `src` or later hops differ), the
 *   prefix is emptied with bare {prefix, len, table} selectors and its kernel route re-added instead.
 *   Address kernel routes are otherwise the runtime's: addrsChanged / addrsAdded / addrsRemoved say when
 *   they move. Apply routesDel before re-adding kernel routes: a kernel route re-added with "replace"
 *   while an old config route of the same metric is still there would replace that route instead.
 * - Rules: the rule lists with the priorities the FIB gives (a rule without `priority` gets one from its
 *   position) are compared by ruleAddText; a deleted rule is selected exactly, an added one carries its
 *   priority.
 * - Neighbours: by (dev, address); a changed entry is deleted and added again.
 * - Sysctls: both configs are applied to fresh registries and the resulting values compared; `sysctls`
 *   are the writes (canonical names) that take the old values to the new ones, in an order that
 *   respects Linux's propagation (all.forwarding first, then all, default, then devices). A write of
 *   net.ipv4.route.flush is an action, not state, and is never repeated by a reload.
 *
 * Order is deterministic: deletions before additions, each in file order.
 */
import { routeMatches, type RouteSelector, type RuleSelector } from "../fib/fib.ts";
import type { Route, Rule } from "../fib/types.ts";
import { formatRouteSpec, routeAddText, routeDelText, ruleAddText, ruleDelText } from "../cli/format.ts";
import { neighText } from "../cli/parse-neigh.ts";
import { formatMac } from "./mac.ts";
import { formatIPv4 } from "../fib/ipv4.ts";
import { assignNexthop } from "../fib/nexthop-rule.ts";
import { RouteSysctls } from "../cache/sysctl.ts";
import { IfSysctls } from "./if-sysctl.ts";
import { sysctlPath } from "./sysctl-names.ts";
import {
  addrText, routeSelectorOf,
  type ConfigAddr, type ConfigLink, type ConfigNeigh, type ConfigRoute, type ConfigRule, type RouterConfig,
} from "./config.ts";
import { RouteModel, routeReplay, ruleModel, type LoadLine, type ModelGroup, type ModelOp } from "./config-model.ts";

export interface LinkChange {
  old: ConfigLink;
  next: ConfigLink;
  /** What differs, e.g. "mtu 1500 → 9000". */
  changes: string[];
}

export interface ConfigDiff {
  /** Routes to delete, each selecting exactly one stored route (apply before routesAdd). */
  routesDel: RouteSelector[];
  /** Routes to add (mode "append", normalised routes). */
  routesAdd: ConfigRoute[];
  /** Rules to delete, exact selectors (apply before rulesAdd). */
  rulesDel: RuleSelector[];
  /** Rules to add, each with its priority. */
  rulesAdd: ConfigRule[];
  neighsDel: ConfigNeigh[];
  neighsAdd: ConfigNeigh[];
  /** Writes, in order. */
  sysctls: { name: string; value: string }[];
  /** One line per link added, removed or changed (empty when the links are the same). */
  links: string[];
  linksAdded: ConfigLink[];
  linksRemoved: ConfigLink[];
  linksChanged: LinkChange[];
  addrsAdded: ConfigAddr[];
  addrsRemoved: ConfigAddr[];
  /** Some address was added or removed (its kernel routes move with it). */
  addrsChanged: boolean;
}

export function diffConfig(old: RouterConfig, next: RouterConfig): ConfigDiff {
  const links = diffLinks(old.links, next.links);
  const addrs = diffAddrs(old.addrs, next.addrs);
  const routes = diffRoutes(old, next, addrs.addrsChanged);
  const rules = diffRules(old, next);
  const neighs = diffNeighs(old.neighs, next.neighs);
  return {
    ...routes,
    ...rules,
    ...neighs,
    sysctls: [...diffRouteSysctls(old, next), ...diffIfSysctls(old, next)],
    ...links,
    ...addrs,
  };
}

/** True when applying the diff would change nothing. */
export function isEmptyDiff(d: ConfigDiff): boolean {
  return (
    d.routesDel.length + d.routesAdd.length + d.rulesDel.length + d.rulesAdd.length + d.neighsDel.length +
      d.neighsAdd.length + d.sysctls.length + d.links.length + d.addrsAdded.length + d.addrsRemoved.length === 0
  );
}

/** The diff as text, one step a line in the order to apply (for logs and tests). */
export function diffLines(d: ConfigDiff): string[] {
  return [
    ...d.links.map((l) => `# ${l}`),
    ...d.addrsRemoved.map((a) => addrText(a).replace(/^addr add/, "addr del")),
    ...d.addrsAdded.map((a) => addrText(a)),
    ...d.routesDel.map(routeDelText),
    ...d.routesAdd.map((r) => routeAddText(r.mode, r.route)),
    ...d.rulesDel.map(ruleSelectorText),
    ...d.rulesAdd.map((r) => ruleAddText(r.rule as Rule)),
    ...d.neighsDel.map((n) => neighText("del", n)),
    ...d.neighsAdd.map((n) => neighText("replace", n)),
    ...d.sysctls.map((s) => `sysctl ${s.name}=${s.value}`),
  ];
}

/** `rule del …` of a selector: an exact one (every field given) reads like the rule itself. */
function ruleSelectorText(s: RuleSelector): string {
  const exact =
    s.priority !== undefined && s.src !== undefined && s.srcLen !== undefined && s.dst !== undefined && s.dstLen !== undefined &&
    s.iif !== undefined && s.tos !== undefined && s.fwmark !== undefined && s.fwmask !== undefined && s.action !== undefined;
  if (!exact) return ruleDelText(s);
  const r: Rule = {
    priority: s.priority!, src: s.src!, srcLen: s.srcLen!, dst: s.dst!, dstLen: s.dstLen!, iif: s.iif!, tos: s.tos!,
    fwmark: s.fwmark!, fwmask: s.fwmask!, action: s.action!, table: s.table ?? 0,
  };
  return ruleAddText(r).replace(/^rule add/, "rule del");
}

// ── links and addresses ──────────────────────────────────────────────────────

function linkFields(l: ConfigLink): [string, string][] {
  return [
    ["type", l.kind],
    ["kernel-name", l.kernelName ?? "-"],
    ["dev", l.dev ?? "-"],
    ["netns", l.netns ?? "-"],
    ["address", l.mac ? formatMac(l.mac) : "auto"],
    ["mtu", String(l.mtu)],
    ["offload", l.offload ? "on" : "off"],
  ];
}

function diffLinks(old: ConfigLink[], next: ConfigLink[]): Pick<ConfigDiff, "links" | "linksAdded" | "linksRemoved" | "linksChanged"> {
  const oldBy = new Map(old.map((l) => [l.name, l]));
  const nextBy = new Map(next.map((l) => [l.name, l]));
  const linksRemoved = old.filter((l) => !nextBy.has(l.name));
  const linksAdded = next.filter((l) => !oldBy.has(l.name));
  const linksChanged: LinkChange[] = [];
  for (const n of next) {
    const o = oldBy.get(n.name);
    if (!o) continue;
    const a = linkFields(o);
    const b = linkFields(n);
    const changes = a.flatMap(([k, v], i) => (v !== b[i]![1] ? [`${k} ${v} → ${b[i]![1]}`] : []));
    if (changes.length > 0) linksChanged.push({ old: o, next: n, changes });
  }
  const links = [
    ...linksRemoved.map((l) => `link ${l.name} removed`),
    ...linksAdded.map((l) => `link ${l.name} added`),
    ...linksChanged.map((c) => `link ${c.next.name} changed (${c.changes.join(", ")})`),
  ];
  return { links, linksAdded, linksRemoved, linksChanged };
}

function addrKey(a: ConfigAddr): string {
  return addrText(a);
}

function diffAddrs(old: ConfigAddr[], next: ConfigAddr[]): Pick<ConfigDiff, "addrsAdded" | "addrsRemoved" | "addrsChanged"> {
  const oldKeys = new Set(old.map(addrKey));
  const nextKeys = new Set(next.map(addrKey));
  const addrsRemoved = old.filter((a) => !nextKeys.has(addrKey(a)));
  const addrsAdded = next.filter((a) => !oldKeys.has(addrKey(a)));
  return { addrsAdded, addrsRemoved, addrsChanged: addrsAdded.length + addrsRemoved.length > 0 };
}

// ── routes ───────────────────────────────────────────────────────────────────

/** A group's entries as text: origin and canonical route, in the FIB's order. */
function groupText(g: ModelGroup | undefined): string {
  return g ? g.entries.map((e) => `${e.source ? "route" : "kernel"} ${formatRouteSpec(e.route)}`).join("\n") : "";
}

/** How many optional fields a selector pins: the more specific ones are deleted first. */
function specificity(s: RouteSelector): number {
  return (s.proto !== undefined ? 1 : 0) + (s.scope !== undefined ? 1 : 0) + (s.dev !== undefined ? 1 : 0);
}


/**
 * Exact selectors for the config routes of `g`, if deleting them one by one (the FIB removes the first
 * match) takes exactly those routes; undefined when one would take a kernel route instead.
 */
function exactDeletes(g: ModelGroup): RouteSelector[] | undefined {
  const sels = g.entries.filter((e) => e.source).map((e) => routeSelectorOf(e.route));
  // Stable: more specific selectors first, so a looser one cannot take their route.
  sels.sort((x, y) => specificity(y) - specificity(x));
  const live = [...g.entries];
  for (const s of sels) {
    const i = live.findIndex((e) => routeMatches(e.route, s));
    if (i < 0 || !live[i]!.source) return undefined;
    live.splice(i, 1);
  }
  return sels;
}

function diffRoutes(old: RouterConfig, next: RouterConfig, addrsChanged: boolean): Pick<ConfigDiff, "routesDel" | "routesAdd"> {
  const a = routeReplay(old);
  const b = routeReplay(next);
  sameGroups(a.model, b.model);
  const aBy = new Map(a.model.groups.map((g) => [g.key, g]));
  const bBy = new Map(b.model.groups.map((g) => [g.key, g]));
  const bBase = new Map(b.base.map((g) => [g.key, g]));
  const firstLine = (g: ModelGroup | undefined) => Math.min(...(g?.entries.filter((e) => e.source).map((e) => e.line) ?? []), Infinity);
  const changed: { key: string; line: number }[] = [];
  for (const key of new Set([...aBy.keys(), ...bBy.keys()])) {
    // Groups of kernel routes only are the runtime's (address changes).
    const ga = aBy.get(key);
    const gb = bBy.get(key);
    if (!ga?.entries.some((e) => e.source) && !gb?.entries.some((e) => e.source)) continue;
    if (groupText(ga) !== groupText(gb)) changed.push({ key, line: Math.min(firstLine(ga), firstLine(gb)) });
  }
  changed.sort((x, y) => x.line - y.line || (x.key < y.key ? -1 : 1));
  const changedKeys = new Set(changed.map((c) => c.key));
  const routesDel: RouteSelector[] = [];
  const routesAdd: ConfigRoute[] = [];
  for (const { key } of changed) {
    const g = aBy.get(key);
    if (!g) continue;
    const kernel = bBase.get(key)?.entries[0];
    const exact = exactDeletes(g);
    if (exact || addrsChanged) {
      routesDel.push(...(exact ?? g.entries.filter((e) => e.source).map((e) => routeSelectorOf(e.route))));
      // A kernel route the old config's routes had replaced comes back first (when addresses changed,
      // the runtime re-adds every kernel route itself).
      if (!addrsChanged && kernel && !g.entries.some((e) => !e.source)) {
        routesAdd.push({ mode: "replace", route: kernel.route, words: [], line: kernel.line });
      }
    } else {
      // A config route that cannot be told from the prefix's kernel route by a selector (same type,
      // metric and first hop; only src or later hops differ): empty the prefix, then re-add its kernel route.
      for (let i = 0; i < g.entries.length; i++) routesDel.push({ prefix: g.prefix, len: g.len, table: g.table });
      if (kernel) routesAdd.push({ mode: "replace", route: kernel.route, words: [], line: kernel.line });
    }
  }
  // The new config's route lines of those prefixes, replayed in file order with their own modes: this
  // rebuilds exactly what a fresh start builds, equal metrics, replaced and duplicate entries included.
  // A `route load` line's prefix is its own op, at the line's place.
  const ops: ModelOp[] = b.ops.filter((op) => changedKeys.has(op.key));
  for (const { key } of changed) {
    const g = (aBy.get(key) ?? bBy.get(key))!;
    const line = b.model.listedBy(g.table, g.len, g.prefix);
    if (line) ops.push(RouteModel.loadOp(line, g.table, g.len, g.prefix));
  }
  ops.sort((x, y) => x.source.line - y.source.line); // stable: each line's ops keep their order
  for (const op of ops) routesAdd.push({ mode: op.mode, route: op.route, words: op.source.words, line: op.source.line });
  return { routesDel, routesAdd };
}

/**
 * Makes both models hold a group for the same prefixes, wherever either has one or their `route load` lines
 * differ on it. A prefix that both list with the same route stays a plain listed prefix on both sides: it
 * is unchanged, so the diff never makes its objects (a full table reloads without expanding its list).
 */
export function sameGroups(a: RouteModel, b: RouteModel): void {
  for (const g of b.groups.slice()) a.groupAt(g.table, g.len, g.prefix);
  for (const g of a.groups.slice()) b.groupAt(g.table, g.len, g.prefix);
  const differ: [number, number, number][] = [];
  const templates = new Map<LoadLine, string>();
  a.forEachListedOnly((table, len, prefix, la) => {
    const lb = b.listedBy(table, len, prefix); // b has no group for it either (above)
    if (!lb || !sameLoadRoute(la, lb, prefix, len, templates)) differ.push([table, len, prefix]);
  });
  b.forEachListedOnly((table, len, prefix) => {
    if (!a.listedBy(table, len, prefix)) differ.push([table, len, prefix]);
  });
  for (const [table, len, prefix] of differ) {
    a.groupAt(table, len, prefix);
    b.groupAt(table, len, prefix);
  }
}

/** Whether two load lines give prefix/len the same route: the same line apart from its hops, and the same hop. */
function sameLoadRoute(la: LoadLine, lb: LoadLine, prefix: number, len: number, templates: Map<LoadLine, string>): boolean {
  if (loadTemplate(la, templates) !== loadTemplate(lb, templates)) return false;
  const ha = la.hops[assignNexthop(prefix, len, la.hops.length)]!;
  const hb = lb.hops[assignNexthop(prefix, len, lb.hops.length)]!;
  return ha.gateway === hb.gateway && ha.dev === hb.dev && ha.weight === hb.weight && ha.onlink === hb.onlink;
}

/** A load line's route without prefix and hops, as text (once per line: a closure per prefix would cost more than the test). */
function loadTemplate(l: LoadLine, templates: Map<LoadLine, string>): string {
  let t = templates.get(l);
  if (t === undefined) templates.set(l, (t = formatRouteSpec({ ...l.source.route, prefix: 0, len: 0, nexthops: [] })));
  return t;
}

// ── rules ────────────────────────────────────────────────────────────────────

function exactRuleSelector(r: Rule): RuleSelector {
  const sel: RuleSelector = {
    priority: r.priority, src: r.src, srcLen: r.srcLen, dst: r.dst, dstLen: r.dstLen, iif: r.iif, tos: r.tos,
    fwmark: r.fwmark, fwmask: r.fwmask, action: r.action,
  };
  if (r.action === "lookup") sel.table = r.table;
  return sel;
}

function diffRules(old: RouterConfig, next: RouterConfig): Pick<ConfigDiff, "rulesDel" | "rulesAdd"> {
  const a = ruleModel(old).filter((m) => m.source !== undefined);
  const b = ruleModel(next).filter((m) => m.source !== undefined);
  const aKeys = new Set(a.map((m) => ruleAddText(m.rule)));
  const bKeys = new Set(b.map((m) => ruleAddText(m.rule)));
  const byLine = (x: { source: ConfigRule | undefined }, y: { source: ConfigRule | undefined }) => x.source!.line - y.source!.line;
  const rulesDel = a.filter((m) => !bKeys.has(ruleAddText(m.rule))).sort(byLine).map((m) => exactRuleSelector(m.rule));
  const rulesAdd = b
    .filter((m) => !aKeys.has(ruleAddText(m.rule)))
    .sort(byLine)
    .map((m) => ({ rule: { ...m.rule }, words: m.source!.words, line: m.source!.line }));
  return { rulesDel, rulesAdd };
}

// ── neighbours ───────────────────────────────────────────────────────────────

function diffNeighs(old: ConfigNeigh[], next: ConfigNeigh[]): Pick<ConfigDiff, "neighsDel" | "neighsAdd"> {
  const key = (n: ConfigNeigh) => `${n.dev}|${formatIPv4(n.addr)}`;
  const value = (n: ConfigNeigh) => `${formatMac(n.lladdr)} ${n.nud}`;
  const oldBy = new Map(old.map((n) => [key(n), n]));
  const nextBy = new Map(next.map((n) => [key(n), n]));
  const neighsDel = old.filter((n) => {
    const m = nextBy.get(key(n));
    return !m || value(m) !== value(n);
  });
  const neighsAdd = next.filter((n) => {
    const o = oldBy.get(key(n));
    return !o || value(o) !== value(n);
  });
  return { neighsDel, neighsAdd };
}

// ── sysctls ──────────────────────────────────────────────────────────────────

function isRouteSysctl(name: string): boolean {
  const p = sysctlPath(name);
  return (p[2] === "route" || p[2] === "rt_cache_rebuild_count") && p[0] === "net" && p[1] === "ipv4";
}

function diffRouteSysctls(old: RouterConfig, next: RouterConfig): { name: string; value: string }[] {
  const live = new RouteSysctls();
  const target = new RouteSysctls();
  for (const s of old.sysctls) if (isRouteSysctl(s.name)) live.set(s.name, s.value);
  for (const s of next.sysctls) if (isRouteSysctl(s.name)) target.set(s.name, s.value);
  const writes: { name: string; value: string }[] = [];
  for (const { name, value } of target.list()) {
    // gc_min_interval is the seconds view of gc_min_interval_ms (same variable): write only the latter.
    if (name === "rhash_entries" || name === "net.ipv4.route.gc_min_interval") continue;
    if (live.get(name) === value) continue;
    live.set(name, value);
    writes.push({ name, value });
  }
  return writes;
}

function diffIfSysctls(old: RouterConfig, next: RouterConfig): { name: string; value: string }[] {
  const live = new IfSysctls(old.links.map((l) => l.name));
  for (const s of old.sysctls) if (!isRouteSysctl(s.name)) live.set(s.name, s.value);
  const target = new IfSysctls(next.links.map((l) => l.name));
  for (const s of next.sysctls) if (!isRouteSysctl(s.name)) target.set(s.name, s.value);
  const have = new Set(live.interfaces());
  for (const l of next.links) if (!have.has(l.name)) live.addInterface(l.name);
  // Writes that propagate go first: all.forwarding, then all, default (copied to devices), devices.
  const rank = (name: string): number => {
    const p = sysctlPath(name);
    if (name === "net.ipv4.conf.all.forwarding") return 0;
    if (p[3] === "all") return 1;
    if (p[3] === "default") return 2;
    return 3;
  };
  const entries = target
    .list()
    .filter((e) => e.name !== "net.ipv4.ip_forward")
    .map((e, i) => ({ ...e, i }))
    .sort((x, y) => rank(x.name) - rank(y.name) || x.i - y.i);
  const writes: { name: string; value: string }[] = [];
  for (const { name, value } of entries) {
    if (live.get(name) === value) continue;
    live.set(name, value);
    writes.push({ name, value });
  }
  return writes;
}
