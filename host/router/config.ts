/**
 * The configuration file of `wasmroute run --config FILE`: one directive a line, iproute2-flavoured.
 * Blank lines and comments (from a word starting with "#" to the end of the line) are skipped, and a
 * leading `ip` word is allowed.
 *
 *   link add NAME type tap [kernel-name IFNAME] [netns NS] [address MAC] [mtu N] [offload on|off]
 *   link add NAME type packet dev IFNAME [netns NS] [address MAC] [mtu N] [offload on|off]
 *   link add NAME type pcap [address MAC] [mtu N] [offload on|off]  (no device: --pcap-in / --capture only;
 *                                                          offload on: it takes GSO super-frames whole, as an offload tap)
 *   addr|address add ADDR[/LEN] dev NAME [broadcast|brd ADDR|+]
 *   neigh|neighbor|neighbour add|replace ADDR lladdr MAC dev NAME [nud permanent|noarp|reachable|stale]
 *   route add|append|replace …                             (host/cli/parse-route.ts)
 *   route load FILE [table T] via GW dev DEV | nexthop …   a CIDR list as unicast routes (FILE relative to
 *                                                          this file's directory; read again on reload)
 *   rule add …                                             (host/cli/parse-rule.ts)
 *   sysctl [-w] NAME=VALUE                                 ("NAME = VALUE" spacing too)
 *   sync from-kernel table TABLE [netns NS]                 mirror a kernel table (host/router/kernel-sync.ts)
 *
 * The file is checked as a whole and rejected on the first error, as `FILE:LINE: message` on one line
 * (ConfigError): nothing of a bad file is used. Besides the grammar:
 * - link names: 1..15 of [A-Za-z0-9_.-], not "lo", "all", "default", "." or ".."; no duplicates; a tap's
 *   kernel-name (default: the link name) and a packet link's (netns, dev) are used once;
 *   netns: [A-Za-z0-9_.-]{1,64}; MAC: unicast and not all zeros (none = generated later); mtu 68..65535.
 * - addr, neigh and route `dev` (every nexthop's too) name a link declared on an earlier line; routes may
 *   also use `lo`, which always exists. A rule's `iif` may name any interface (Linux keeps such a rule
 *   inactive until the interface appears).
 * - an address is used once in the whole file; `neigh add` of an entry already given is refused
 *   ("File exists"), `neigh replace` supersedes it.
 * - sysctl names and values are checked by the registries (host/cache/sysctl.ts for net.ipv4.route.* and
 *   net.ipv4.rt_cache_rebuild_count, host/router/if-sysctl.ts for the rest); conf/neigh knobs of an
 *   interface need the link declared earlier.
 * - routes and rules are replayed on a model of the FIB (config-model.ts), in the order the router applies
 *   them (every address's kernel routes first, then routes, then rules), so what the FIB would refuse at
 *   start (File exists, a gateway without a connected route) is reported with its line.
 */
import type { AddMode, RouteSelector } from "../fib/fib.ts";
import { formatIPv4, parseAddress, scanIPv4 } from "../fib/ipv4.ts";
import { dirname, resolve } from "node:path";
import { readCidrListFile } from "../fib/cidr-list.ts";
import { TABLE_MAIN, type Route } from "../fib/types.ts";
import { formatRouteSpec } from "../cli/format.ts";
import { parseNeighCommand, neighText, type NeighEntry } from "../cli/parse-neigh.ts";
import { formatMac, parseMac } from "./mac.ts";
import { parseRouteCommand } from "../cli/parse-route.ts";
import { parseRuleCommand, type NewRule } from "../cli/parse-rule.ts";
import { splitCommandLine } from "../cli/script.ts";
import { Seen, Words, parseNumber, parseTable, q, tableName } from "../cli/words.ts";
import { canonicalSysctlName, RouteSysctls } from "../cache/sysctl.ts";
import type { InterfaceAddress } from "./addresses.ts";
import { buildRouteModel, buildRuleModel } from "./config-model.ts";
import { IfSysctls } from "./if-sysctl.ts";
import { sysctlPath } from "./sysctl-names.ts";

export type LinkKind = "tap" | "packet" | "pcap";

export interface ConfigLink {
  name: string;
  kind: LinkKind;
  /** A tap's kernel-side name (given, or the link name); undefined for other kinds. */
  kernelName: string | undefined;
  netns: string | undefined;
  /** A packet link's interface. */
  dev: string | undefined;
  /** Six bytes; undefined = generated later (or the interface's own for a packet link). */
  mac: Uint8Array | undefined;
  mtu: number;
  /** Vnet header offloads (GSO super-frames, partial checksums): a tap's or packet link's on unless `offload off`, a pcap link's off unless `offload on`. */
  offload: boolean;
  line: number;
}

export interface ConfigAddr extends InterfaceAddress {
  /** Broadcast address; undefined = the subnet's own (no `broadcast`, or `broadcast +`). */
  broadcast: number | undefined;
  line: number;
}

export interface ConfigNeigh extends NeighEntry {
  line: number;
}

export interface ConfigRoute {
  mode: AddMode;
  /** For a `route load` line, the routes' shape: prefix 0/0 stands in, the hops are the pool (expandLoad). */
  route: Route;
  /** The words after `route` as written. */
  words: string[];
  line: number;
  /** A `route load FILE` line: the file's prefixes, read when the config is read (a reload reads it again). */
  load?: ConfigLoad;
}

export interface ConfigLoad {
  /** Absolute; a relative FILE is taken from the config file's directory. */
  file: string;
  addrs: Uint32Array;
  lens: Uint8Array;
}

export interface ConfigRule {
  rule: NewRule;
  /** The words after `rule` as written. */
  words: string[];
  line: number;
}

export interface ConfigSysctl {
  /** Canonical name (dots, as sysctl(8) prints it). */
  name: string;
  /** The value text as written (blanks trimmed). */
  value: string;
  line: number;
}

export interface ConfigSync {
  table: number;
  /** A named network namespace; undefined: wasmroute's own. Its existence is checked at start. */
  netns: string | undefined;
  line: number;
}

export interface RouterConfig {
  fileName: string;
  links: ConfigLink[];
  addrs: ConfigAddr[];
  /** The neighbours in effect: a `replace` of an earlier entry takes its place at the replace's line. */
  neighs: ConfigNeigh[];
  routes: ConfigRoute[];
  rules: ConfigRule[];
  sysctls: ConfigSysctl[];
  /** `sync from-kernel` lines: kernel tables mirrored live (the same as --sync-from-kernel). */
  syncs: ConfigSync[];
}

/** A rejected config: `FILE:LINE: message` on one line. */
export class ConfigError extends Error {
  readonly file: string;
  readonly line: number;
  /** The message without the `FILE:LINE: ` prefix. */
  readonly reason: string;
  constructor(file: string, line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = "ConfigError";
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}

const DIRECTIVES = `expected link, addr, neigh, route, rule, sysctl or sync`;
const LINK_NAME_RE = /^[A-Za-z0-9_.-]+$/;
const NETNS_RE = /^[A-Za-z0-9_.-]{1,64}$/;
/** What Interfaces (host/fib/interfaces.ts) accepts as a name. */
const IFACE_RE = /^[A-Za-z0-9_.:@-]{1,15}$/;

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, " ");
}

/** Splits one line into words; undefined for a blank or comment-only line (a leading `ip` is dropped). */
export const configWords = splitCommandLine;

// ── parsing ──────────────────────────────────────────────────────────────────

/** Parses and checks a config text; throws ConfigError (`FILE:LINE: message`) on the first error. */
export function parseConfig(text: string, fileName: string): RouterConfig {
  const p = new Parser(fileName);
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const words = configWords(lines[i]!);
    if (!words) continue;
    p.at(i + 1, () => p.directive(words));
  }
  const c = p.config;
  // Replays routes and rules on the FIB model, as Router.start applies them.
  buildRouteModel(c, (line, f) => p.at(line, f), { recordOps: false, expandLoads: false }); // errors only
  buildRuleModel(c, (line, f) => p.at(line, f));
  return c;
}

class Parser {
  readonly config: RouterConfig;
  private readonly links = new Map<string, ConfigLink>();
  private readonly addrByIp = new Map<number, ConfigAddr>();
  private readonly neighByKey = new Map<string, ConfigNeigh>();
  private readonly ifSysctls = new IfSysctls();
  private routeSysctls: RouteSysctls | undefined;

  constructor(fileName: string) {
    this.config = { fileName, links: [], addrs: [], neighs: [], routes: [], rules: [], sysctls: [], syncs: [] };
  }

  private line = 0;

  /** Runs `f` for line `line`, turning any failure into a ConfigError. */
  at<T>(line: number, f: () => T): T {
    this.line = line;
    try {
      return f();
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      throw new ConfigError(this.config.fileName, line, oneLine(msg) || "invalid line");
    }
  }

  directive(words: string[]): void {
    const object = words[0]!;
    const rest = words.slice(1);
    switch (object) {
      case "link":
        return this.link(rest);
      case "addr":
      case "address":
        return this.addr(rest, object);
      case "neigh":
      case "neighbor":
      case "neighbour":
        return this.neigh(rest, object);
      case "route":
        return this.route(rest);
      case "rule":
        return this.rule(rest);
      case "sysctl":
        return this.sysctl(rest);
      case "sync":
        return this.sync(rest);
      default:
        throw new Error(`unknown directive ${q(object)} (${DIRECTIVES})`);
    }
  }

  private onlyAdd(object: string, cmd: string | undefined, allowed: readonly string[]): void {
    const names = allowed.map((a) => `"${object} ${a}"`);
    const list = names.length > 1 ? `${names.slice(0, -1).join(", ")} or ${names.at(-1)}` : names[0]!;
    if (cmd === undefined) throw new Error(`"${object}" needs a command (a config file takes ${list})`);
    if (!allowed.includes(cmd)) throw new Error(`${q(`${object} ${cmd}`)} is not allowed in a config file (only ${list})`);
  }

  /** A link declared on an earlier line. */
  private knownLink(dev: string, what: string): ConfigLink {
    const l = this.links.get(dev);
    if (!l) throw new Error(`unknown device ${q(dev)} in ${what} (declare it with "link add" on an earlier line)`);
    return l;
  }

  // ── link ──

  private link(words: string[]): void {
    this.onlyAdd("link", words[0], ["add"]);
    const w = new Words(words.slice(1), "link add");
    if (w.peek() === "name") w.next();
    if (!w.more()) throw new Error(`"link add" needs a link name`);
    const name = w.next();
    checkLinkName(name);
    const first = this.links.get(name);
    if (first) throw new Error(`duplicate link ${q(name)} (first declared on line ${first.line})`);
    const seen = new Seen("link");
    let kind: LinkKind | undefined;
    let kernelName: string | undefined;
    let netns: string | undefined;
    let dev: string | undefined;
    let mac: Uint8Array | undefined;
    let mtu = 1500;
    let offload: boolean | undefined;
    while (w.more()) {
      const word = w.next();
      switch (word) {
        case "type": {
          seen.once(word);
          const t = w.arg(word);
          if (t !== "tap" && t !== "packet" && t !== "pcap") throw new Error(`unknown link type ${q(t)} (expected tap, packet or pcap)`);
          kind = t;
          break;
        }
        case "kernel-name":
          seen.once(word);
          kernelName = checkIfName(w.arg(word), "kernel-name");
          break;
        case "netns":
          seen.once(word);
          netns = w.arg(word);
          if (!NETNS_RE.test(netns) || netns === "." || netns === "..") {
            throw new Error(`invalid netns name ${q(netns)} (1..64 of letters, digits, "_", "." and "-")`);
          }
          break;
        case "dev":
          seen.once(word);
          dev = checkIfName(w.arg(word), "dev");
          break;
        case "address":
          seen.once(word);
          mac = portMac(w.arg(word));
          break;
        case "mtu":
          seen.once(word);
          mtu = parseNumber(word, w.arg(word), 68, 65535);
          break;
        case "offload": {
          seen.once(word);
          const v = w.arg(word);
          if (v !== "on" && v !== "off") throw new Error(`"offload" takes on or off, not ${q(v)}`);
          offload = v === "on";
          break;
        }
        default:
          throw new Error(`unknown word ${q(word)} in link command (type, kernel-name, netns, dev, address, mtu, offload)`);
      }
    }
    if (kind === undefined) throw new Error(`"link add ${name}" needs "type tap|packet|pcap"`);
    if (kind !== "tap" && kernelName !== undefined) throw new Error(`"kernel-name" is only for a tap link`);
    if (kind !== "packet" && dev !== undefined) {
      throw new Error(`"dev" is only for a packet link (${kind === "tap" ? "a tap creates its own interface: use kernel-name" : "a pcap link has no device"})`);
    }
    if (kind === "packet" && dev === undefined) throw new Error(`a packet link needs "dev IFNAME" (the interface to bind)`);
    if (kind === "pcap" && netns !== undefined) throw new Error(`"netns" is not for a pcap link (it has no device)`);
    if (kind === "tap") kernelName ??= name;
    for (const l of this.links.values()) {
      if (kind === "tap" && l.kind === "tap" && l.kernelName === kernelName) {
        throw new Error(`tap interface ${q(kernelName!)} is already used by link ${q(l.name)} (line ${l.line}); give a different kernel-name`);
      }
      if (kind === "packet" && l.kind === "packet" && l.dev === dev && l.netns === netns) {
        throw new Error(`interface ${q(dev!)}${netns ? ` in netns ${q(netns)}` : ""} is already bound by link ${q(l.name)} (line ${l.line})`);
      }
    }
    const link: ConfigLink = { name, kind, kernelName, netns, dev, mac, mtu, offload: kind === "pcap" ? offload === true : offload !== false, line: this.line };
    this.ifSysctls.addInterface(name);
    this.links.set(name, link);
    this.config.links.push(link);
  }

  // ── addr ──

  private addr(words: string[], object: string): void {
    this.onlyAdd(object, words[0], ["add"]);
    const what = `${object} add`;
    const w = new Words(words.slice(1), what);
    const seen = new Seen("address");
    let a: { addr: number; len: number } | undefined;
    let dev: string | undefined;
    let broadcast: number | undefined;
    while (w.more()) {
      const word = w.next();
      switch (word) {
        case "dev":
          seen.once(word);
          dev = w.arg(word);
          break;
        case "broadcast":
        case "brd": {
          seen.once(word, "broadcast");
          const b = w.arg(word);
          if (b === "-") throw new Error(`"${word} -" is not supported (give an address or "+")`);
          broadcast = b === "+" ? undefined : parseAddress(b);
          break;
        }
        default: {
          const text = word === "local" ? w.arg(word) : word;
          if (word !== "local" && !/^[0-9]/.test(word)) throw new Error(`unknown word ${q(word)} in address command (ADDR/LEN, dev, broadcast)`);
          if (a) throw new Error(`duplicate address ${q(text)} in "${what}"`);
          a = parseInterfaceAddress(text);
        }
      }
    }
    if (!a) throw new Error(`missing address in "${what}"`);
    if (dev === undefined) throw new Error(`"${what}" needs "dev NAME"`);
    this.knownLink(dev, `"${what}"`);
    const dup = this.addrByIp.get(a.addr);
    if (dup) throw new Error(`address ${formatIPv4(a.addr)} is already on ${dup.dev} (line ${dup.line})`);
    const entry: ConfigAddr = { dev, addr: a.addr, len: a.len, broadcast, line: this.line };
    this.addrByIp.set(a.addr, entry);
    this.config.addrs.push(entry);
  }

  // ── neigh ──

  private neigh(words: string[], object: string): void {
    this.onlyAdd(object, words[0], ["add", "replace"]);
    const cmd = parseNeighCommand(words);
    if (cmd.op !== "add" && cmd.op !== "replace") throw new Error(`unreachable neigh op`);
    const n = cmd.neigh;
    this.knownLink(n.dev, `"${object} ${cmd.op}"`);
    const key = `${n.dev}|${n.addr}`;
    const old = this.neighByKey.get(key);
    if (old && cmd.op === "add") {
      throw new Error(`RTNETLINK answers: File exists (neighbour ${formatIPv4(n.addr)} dev ${n.dev} is on line ${old.line}; use "neigh replace")`);
    }
    const entry: ConfigNeigh = { ...n, line: this.line };
    if (old) this.config.neighs.splice(this.config.neighs.indexOf(old), 1);
    this.neighByKey.set(key, entry);
    this.config.neighs.push(entry);
  }

  // ── route / rule ──

  private route(words: string[]): void {
    this.onlyAdd("route", words[0], ["add", "append", "replace", "load"]);
    const cmd = parseRouteCommand(words);
    if (cmd.op === "load") {
      for (const nh of cmd.nexthops) if (nh.dev !== "" && nh.dev !== "lo") this.knownLink(nh.dev, `"route load"`);
      const file = resolve(dirname(this.config.fileName), cmd.file);
      const list = readCidrListFile(file); // FILE:LINE: … of the list, after this line's own number
      const route: Route = { prefix: 0, len: 0, type: "unicast", table: cmd.table, metric: 0, nexthops: cmd.nexthops };
      this.config.routes.push({ mode: "add", route, words: [...words], line: this.line, load: { file, addrs: list.addrs, lens: list.lens } });
      return;
    }
    if (cmd.op !== "add") throw new Error(`unreachable route op`);
    for (const nh of cmd.route.nexthops) {
      if (nh.dev !== "" && nh.dev !== "lo") this.knownLink(nh.dev, `"route ${cmd.mode}"`);
    }
    this.config.routes.push({ mode: cmd.mode, route: cmd.route, words: [...words], line: this.line });
  }

  private rule(words: string[]): void {
    this.onlyAdd("rule", words[0], ["add"]);
    const cmd = parseRuleCommand(words);
    if (cmd.op !== "add") throw new Error(`unreachable rule op`);
    if (cmd.rule.iif !== "" && !IFACE_RE.test(cmd.rule.iif)) throw new Error(`invalid interface name ${q(cmd.rule.iif)} in "rule add"`);
    this.config.rules.push({ rule: cmd.rule, words: [...words], line: this.line });
  }

  // ── sysctl ──

  private sysctl(words: string[]): void {
    let rest = words;
    if (rest[0] === "-w") rest = rest.slice(1);
    if (rest[0]?.startsWith("-") && !rest[0].includes("=")) {
      throw new Error(`sysctl option ${q(rest[0])} is not allowed in a config file (write "sysctl [-w] NAME=VALUE")`);
    }
    const text = rest.join(" ");
    const eq = text.indexOf("=");
    if (eq < 0) throw new Error(`"sysctl" needs NAME=VALUE${text ? `, got ${q(text)}` : ""}`);
    const name = text.slice(0, eq).trim();
    const value = text.slice(eq + 1).trim();
    if (name === "") throw new Error(`missing sysctl name before "="`);
    if (value === "") throw new Error(`missing value for sysctl ${q(name)}`);
    const path = sysctlPath(name);
    if (path[0] === "rhash_entries") throw new Error(`"rhash_entries" is a boot parameter, not a sysctl: the route cache is sized when the router starts`);
    const routeName = canonicalSysctlName(name);
    let canonical: string;
    if (routeName !== undefined || (path[0] === "net" && path[1] === "ipv4" && path[2] === "route")) {
      this.routeSysctls ??= new RouteSysctls();
      this.routeSysctls.set(name, value); // throws `unknown sysctl` / `invalid value` (SysctlError)
      canonical = routeName!;
    } else {
      this.ifSysctls.set(name, value);
      canonical = this.ifSysctls.canonicalName(name);
    }
    this.config.sysctls.push({ name: canonical, value, line: this.line });
  }

  // ── sync ──

  private sync(words: string[]): void {
    if (words[0] !== "from-kernel") throw new Error(`expected "sync from-kernel table TABLE [netns NS]"${words[0] ? `, got ${q(`sync ${words[0]}`)}` : ""}`);
    const w = new Words(words.slice(1), "sync from-kernel");
    const seen = new Seen("sync from-kernel");
    let table: number | undefined;
    let netns: string | undefined;
    while (w.more()) {
      const word = w.next();
      if (word === "table") {
        seen.once(word);
        table = parseTable(word, w.arg(word));
      } else if (word === "netns") {
        seen.once(word);
        netns = w.arg(word);
        if (!NETNS_RE.test(netns)) throw new Error(`invalid netns name ${q(netns)}`);
      } else throw new Error(`unknown word ${q(word)} in "sync from-kernel" (table TABLE [netns NS])`);
    }
    if (table === undefined) throw new Error(`"sync from-kernel" needs "table TABLE"`);
    const first = this.config.syncs.find((x) => x.table === table);
    if (first) throw new Error(`table ${tableName(table)} is already mirrored (line ${first.line}): one source per table`);
    this.config.syncs.push({ table, netns, line: this.line });
  }
}

/** A `sync` line as the config writes it. */
export function syncText(s: Pick<ConfigSync, "table" | "netns">): string {
  return `sync from-kernel table ${tableName(s.table)}${s.netns !== undefined ? ` netns ${s.netns}` : ""}`;
}

function checkLinkName(name: string): void {
  if (name.length > 15) throw new Error(`invalid link name ${q(name)}: longer than 15 characters`);
  if (!LINK_NAME_RE.test(name)) throw new Error(`invalid link name ${q(name)}: only letters, digits, "_", "." and "-"`);
  if (name === "lo") throw new Error(`invalid link name "lo": that is the loopback interface`);
  if (name === "all" || name === "default") throw new Error(`invalid link name ${q(name)}: it would collide with net.ipv4.conf.${name}`);
  if (name === "." || name === "..") throw new Error(`invalid link name ${q(name)}`);
}

/** A Linux interface name (dev_valid_name): 1..15 bytes, not "." or "..", no "/", ":" or blanks. */
function checkIfName(name: string, key: string): string {
  if (name.length > 15 || name === "." || name === ".." || /[/:\s]/.test(name) || Buffer.byteLength(name) > 15) {
    throw new Error(`invalid interface name ${q(name)} after ${q(key)} (1..15 characters, no "/", ":" or blanks)`);
  }
  return name;
}

/** A port's own MAC: well-formed, unicast, not all zeros. */
function portMac(text: string): Uint8Array {
  const mac = parseMac(text);
  if (mac.every((b) => b === 0)) throw new Error(`invalid MAC address ${q(text)}: all zeros`);
  if (mac[0]! & 1) throw new Error(`invalid MAC address ${q(text)}: multicast (the first byte is odd); a port needs a unicast address`);
  return mac;
}

/** ADDR[/LEN] of an interface address: host bits allowed, unicast, not 0.0.0.0 or loopback. */
function parseInterfaceAddress(text: string): { addr: number; len: number } {
  const slash = text.indexOf("/");
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const addr = scanIPv4(addrText, 0, addrText.length);
  if (addr < 0) throw new Error(`invalid IPv4 address ${q(addrText)}${slash < 0 ? "" : ` in ${q(text)}`}`);
  let len = 32;
  if (slash >= 0) {
    const l = text.slice(slash + 1);
    if (!/^(?:[0-9]|[1-9][0-9])$/.test(l) || Number(l) > 32) throw new Error(`invalid prefix length ${q(l)} in ${q(text)} (0..32)`);
    len = Number(l);
  }
  if (addr === 0) throw new Error(`invalid interface address ${q(text)}: 0.0.0.0`);
  if (addr >>> 24 === 127) throw new Error(`invalid interface address ${q(text)}: loopback (127.0.0.0/8)`);
  if (addr >>> 28 >= 0xe) throw new Error(`invalid interface address ${q(text)}: not a unicast address`);
  return { addr, len };
}

// ── canonical text ───────────────────────────────────────────────────────────

/** A selector that picks exactly this stored route (all the fields a selector can match on). */
export function routeSelectorOf(r: Route): RouteSelector {
  const sel: RouteSelector = { prefix: r.prefix, len: r.len, table: r.table, type: r.type, metric: r.metric };
  const nh = r.nexthops[0];
  if (nh) {
    sel.gateway = nh.gateway;
    if (nh.dev) sel.dev = nh.dev;
  }
  if (r.proto !== undefined) sel.proto = r.proto;
  if (r.scope !== undefined) sel.scope = r.scope;
  return sel;
}

/** The config as text, one canonical directive a line (parsing it back gives the same config). */
export function formatConfig(c: RouterConfig): string[] {
  const out: string[] = [];
  for (const l of c.links) {
    let s = `link add ${l.name} type ${l.kind}`;
    if (l.kind === "tap" && l.kernelName !== undefined && l.kernelName !== l.name) s += ` kernel-name ${l.kernelName}`;
    if (l.kind === "packet") s += ` dev ${l.dev}`;
    if (l.netns !== undefined) s += ` netns ${l.netns}`;
    if (l.mac) s += ` address ${formatMac(l.mac)}`;
    if (l.mtu !== 1500) s += ` mtu ${l.mtu}`;
    if (l.kind !== "pcap" && !l.offload) s += " offload off";
    if (l.kind === "pcap" && l.offload) s += " offload on";
    out.push(s);
  }
  for (const a of c.addrs) out.push(addrText(a));
  for (const n of c.neighs) out.push(neighText("add", n));
  for (const r of c.routes) out.push(r.load ? loadText(r) : `route ${r.mode} ${formatRouteSpec(r.route)}`);
  for (const r of c.rules) out.push(`rule ${r.words.join(" ")}`);
  for (const s of c.sysctls) out.push(`sysctl ${s.name}=${s.value}`);
  for (const s of c.syncs) out.push(syncText(s));
  return out;
}

/** A `route load` line with its file made absolute. */
function loadText(r: ConfigRoute): string {
  const t = r.route.table !== TABLE_MAIN ? ` table ${tableName(r.route.table)}` : "";
  const hops = r.route.nexthops.map((h) => `nexthop via ${formatIPv4(h.gateway)}${h.dev ? ` dev ${h.dev}` : ""}${h.onlink ? " onlink" : ""}${h.weight !== 1 ? ` weight ${h.weight}` : ""}`);
  return `route load ${r.load!.file}${t} ${hops.join(" ")}`;
}

export function addrText(a: { addr: number; len: number; dev: string; broadcast?: number | undefined }): string {
  return `addr add ${formatIPv4(a.addr)}/${a.len} dev ${a.dev}${a.broadcast !== undefined ? ` broadcast ${formatIPv4(a.broadcast)}` : ""}`;
}
