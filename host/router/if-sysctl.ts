/**
 * The per-interface and neighbour sysctls of the router, with Linux's names, units, defaults and
 * all/default/device semantics (net/ipv4/devinet.c, include/linux/inetdevice.h, net/core/neighbour.c),
 * in the style of host/cache/sysctl.ts. Interfaces are the config's link names.
 *
 *   net.ipv4.ip_forward                               the same variable as conf.all.forwarding
 *   net.ipv4.conf.{all,default,IFNAME}.KNOB           KNOB in CONF_KNOBS (if-knobs.ts)
 *   net.ipv4.neigh.{default,IFNAME}.KNOB              KNOB in NEIGH_KNOBS (if-knobs.ts)
 *   net.ipv4.neigh.default.{gc_thresh1,gc_thresh2,gc_thresh3,gc_interval}   (table-wide)
 *
 * Semantics, as Linux:
 * - A device starts with a copy of `default` (conf and neigh).
 * - Writing conf.all.forwarding (or ip_forward) with a *different* value sets default.forwarding and every
 *   device's forwarding to it, and all.accept_redirects to its negation (inet_forward_change). A device's
 *   forwarding is its own flag afterwards; writing default.forwarding touches nothing else.
 * - Writing any other conf.default.KNOB copies the value to every device that has not had that KNOB
 *   written itself (devinet_copy_dflt_conf); the same holds for neigh.default.KNOB (neigh_copy_dflt_parms,
 *   Linux ≥ 3.14; in 3.4 a device kept the values it was created with).
 * - Effective values (effective()): forwarding = the device's own flag; rp_filter = max(all, dev);
 *   accept_local, src_valid_mark, send_redirects, log_martians = all || dev; accept_redirects =
 *   forwarding ? (all && dev) : (all || dev).
 *
 * Defaults are the kernel's, with one deliberate difference: wasmroute is a router, so it starts as a Linux
 * box does after `sysctl -w net.ipv4.ip_forward=1`: forwarding 1 in all, default and every device, and
 * therefore conf.all.accept_redirects 0 (constructor option `forwarding: false` gives the kernel's 0).
 * rp_filter starts at the kernel's 0 (distributions often set 1 or 2 in sysctl.conf).
 *
 * Values are parsed like proc_dointvec (blanks trimmed, optional "-", C base 0: "0x10" = 16, "010" = 8).
 * The kernel takes any int for the conf flags; here they are refused outside their meaningful range
 * (0..1, rp_filter 0..2), and negative neighbour values are refused as Linux ≥ 3.x does. Times are held
 * in milliseconds (HZ = 1000: seconds × 1000 and milliseconds must fit an int of jiffies).
 */
import { SysctlError, notifyListeners, parseCInteger } from "../cache/sysctl.ts";
import type { RouteSysctls } from "../cache/sysctl.ts";
import { formatSysctlLine } from "../cache/sysctl-file.ts";
import { CONF_KNOBS, NEIGH_KNOBS, NEIGH_TABLE_KNOBS, SKB_TRUESIZE_ETH_FRAME, heldToText, textToHeld, type ConfField, type IfKnob, type NeighField, type NeighTableField } from "./if-knobs.ts";
import { compareSysctlNames, sysctlName, sysctlPath } from "./sysctl-names.ts";


const CONF_BY_KEY = new Map(CONF_KNOBS.map((k) => [k.key, k]));
const NEIGH_BY_KEY = new Map(NEIGH_KNOBS.map((k) => [k.key, k]));
const TABLE_BY_KEY = new Map(NEIGH_TABLE_KNOBS.map((k) => [k.key, k]));

type Target =
  | { kind: "conf"; dir: string; knob: IfKnob<ConfField>; name: string }
  | { kind: "neigh"; dir: string; knob: IfKnob<NeighField>; name: string }
  | { kind: "table"; knob: IfKnob<NeighTableField>; name: string };

// ───────────────────────────── values ─────────────────────────────

interface ConfDir {
  values: Record<ConfField, number>;
  /** Knobs written on this directory itself (the kernel's cnf.state bits). */
  explicit: Set<ConfField>;
}

interface NeighDir {
  values: Record<NeighField, number>;
  explicit: Set<NeighField>;
}

interface State {
  conf: Map<string, ConfDir>; // "all", "default", devices
  neigh: Map<string, NeighDir>; // "default", devices
  table: Record<NeighTableField, number>;
}

function cloneState(s: State): State {
  const conf = new Map<string, ConfDir>();
  for (const [k, d] of s.conf) conf.set(k, { values: { ...d.values }, explicit: new Set(d.explicit) });
  const neigh = new Map<string, NeighDir>();
  for (const [k, d] of s.neigh) neigh.set(k, { values: { ...d.values }, explicit: new Set(d.explicit) });
  return { conf, neigh, table: { ...s.table } };
}

/** What a device does with its knobs (include/linux/inetdevice.h). */
export interface EffectiveConf {
  forwarding: boolean;
  /** 0 off, 1 strict, 2 loose: max(all, dev). */
  rpFilter: 0 | 1 | 2;
  acceptLocal: boolean;
  srcValidMark: boolean;
  sendRedirects: boolean;
  acceptRedirects: boolean;
  logMartians: boolean;
}

/** The neighbour parameters of one device (times in ms). */
export interface NeighDevParams {
  baseReachableTimeMs: number;
  retransTimeMs: number;
  delayFirstProbeTimeMs: number;
  gcStaleTimeMs: number;
  ucastSolicit: number;
  mcastSolicit: number;
  unresQlenBytes: number;
  /** unres_qlen as Linux derives it: unresQlenBytes / 2090. */
  unresQlen: number;
}

/** Everything the neighbour table reads. */
export interface NeighParams {
  gcThresh1: number;
  gcThresh2: number;
  gcThresh3: number;
  gcIntervalMs: number;
  /** net.ipv4.neigh.default.* (what a device without its own values uses). */
  defaults: NeighDevParams;
  /** Per device, by link name. */
  devices: Record<string, NeighDevParams>;
}

/** A successful write, after it took effect. */
export interface IfSysctlChange {
  /** Canonical name written. */
  name: string;
  value: string;
}

export interface IfSysctlsOptions {
  /** Start as a router (ip_forward = 1, the default) or as the kernel does (0). */
  forwarding?: boolean;
}

const DIR_NAMES = new Set(["all", "default"]);

function defaults<F extends string>(knobs: readonly IfKnob<F>[]): Record<F, number> {
  const r = {} as Record<F, number>;
  for (const k of knobs) r[k.field] = k.def;
  return r;
}

export class IfSysctls {
  private state: State;
  private readonly listeners: ((change: IfSysctlChange) => void)[] = [];

  /** `interfaces`: the config's link names, in order. */
  constructor(interfaces: readonly string[] = [], opts: IfSysctlsOptions = {}) {
    this.state = {
      conf: new Map([
        ["all", { values: defaults(CONF_KNOBS), explicit: new Set() }],
        ["default", { values: defaults(CONF_KNOBS), explicit: new Set() }],
      ]),
      neigh: new Map([["default", { values: defaults(NEIGH_KNOBS), explicit: new Set() }]]),
      table: defaults(NEIGH_TABLE_KNOBS),
    };
    for (const name of interfaces) this.addInterface(name);
    if (opts.forwarding ?? true) this.forwardChange(this.state, 1);
  }

  /** A new device: copies of conf.default and neigh.default, as Linux gives a new device. */
  addInterface(name: string): void {
    if (DIR_NAMES.has(name) || name === "" || name.includes("/")) throw new SysctlError(`invalid interface name ${JSON.stringify(name)} for sysctls`);
    if (this.state.conf.has(name)) throw new SysctlError(`interface ${JSON.stringify(name)} already has sysctls`);
    const c = this.state.conf.get("default")!;
    const n = this.state.neigh.get("default")!;
    this.state.conf.set(name, { values: { ...c.values }, explicit: new Set() });
    this.state.neigh.set(name, { values: { ...n.values }, explicit: new Set() });
  }

  /** A device gone (a reload removed its link): its conf and neigh knobs go with it, as in Linux. */
  removeInterface(name: string): void {
    if (DIR_NAMES.has(name)) return;
    this.state.conf.delete(name);
    this.state.neigh.delete(name);
  }

  /** The interfaces known, in the order added. */
  interfaces(): string[] {
    return [...this.state.conf.keys()].filter((k) => !DIR_NAMES.has(k));
  }

  /** An independent copy (for trying writes). */
  clone(): IfSysctls {
    const c = Object.create(IfSysctls.prototype) as IfSysctls;
    (c as unknown as { state: State }).state = cloneState(this.state);
    (c as unknown as { listeners: unknown[] }).listeners = [];
    return c;
  }

  /** True when `name` is one of these sysctls (with the current interfaces). */
  has(name: string): boolean {
    try {
      this.resolve(name);
      return true;
    } catch {
      return false;
    }
  }

  /** The canonical name of `name` (slashes and dots as sysctl(8) prints them); throws when unknown. */
  canonicalName(name: string): string {
    return this.resolve(name).name;
  }

  /** The /proc text of one knob. */
  get(name: string): string {
    return this.read(this.state, this.resolve(name));
  }

  /** Writes one knob as `sysctl -w NAME=VALUE` would. Throws SysctlError and changes nothing on error. */
  set(name: string, value: string): void {
    this.setMany([{ name, value }]);
  }

  /** Writes in order, all or nothing; the SysctlError's index says which entry failed. */
  setMany(settings: readonly { name: string; value: string }[]): void {
    const draft = cloneState(this.state);
    const changes: IfSysctlChange[] = [];
    settings.forEach((s, i) => {
      try {
        const t = this.resolve(s.name);
        this.write(draft, t, s.value);
        changes.push({ name: t.name, value: this.read(draft, t) });
      } catch (e) {
        if (e instanceof SysctlError) throw new SysctlError(e.message, i);
        throw e;
      }
    });
    this.state = draft;
    notifyListeners(this.listeners, changes);
  }

  /** Registers a listener for every successful write; returns a function that removes it. */
  onChange(listener: (change: IfSysctlChange) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** net.ipv4.ip_forward (= conf.all.forwarding) is on. */
  ipForward(): boolean {
    return this.state.conf.get("all")!.values.forwarding !== 0;
  }

  /** What device `dev` does (the IN_DEV_* macros). */
  effective(dev: string): EffectiveConf {
    const d = this.devConf(dev).values;
    const all = this.state.conf.get("all")!.values;
    const forwarding = d.forwarding !== 0;
    const or = (f: ConfField) => all[f] !== 0 || d[f] !== 0;
    return {
      forwarding,
      rpFilter: Math.max(all.rpFilter, d.rpFilter) as 0 | 1 | 2,
      acceptLocal: or("acceptLocal"),
      srcValidMark: or("srcValidMark"),
      sendRedirects: or("sendRedirects"),
      acceptRedirects: forwarding ? all.acceptRedirects !== 0 && d.acceptRedirects !== 0 : or("acceptRedirects"),
      logMartians: or("logMartians"),
    };
  }

  /** The neighbour parameters of one device. */
  neighDev(dev: string): NeighDevParams {
    const d = this.state.neigh.get(dev);
    if (!d || dev === "default") throw new SysctlError(`no interface ${JSON.stringify(dev)}`);
    return devParams(d.values);
  }

  /** Everything the neighbour table reads. */
  neighParams(): NeighParams {
    const devices: Record<string, NeighDevParams> = {};
    for (const [k, d] of this.state.neigh) if (k !== "default") devices[k] = devParams(d.values);
    return { ...this.state.table, defaults: devParams(this.state.neigh.get("default")!.values), devices };
  }

  /** Every knob with its value, in `sysctl -a` order. */
  list(): { name: string; value: string }[] {
    const out: { name: string; value: string }[] = [];
    const s = this.state;
    for (const dir of [...s.conf.keys()].sort(byteCompare)) {
      for (const k of CONF_KNOBS) out.push({ name: sysctlName(["net", "ipv4", "conf", dir, k.key]), value: heldToText(k, s.conf.get(dir)!.values[k.field]) });
    }
    out.push({ name: "net.ipv4.ip_forward", value: String(s.conf.get("all")!.values.forwarding) });
    for (const dir of [...s.neigh.keys()].sort(byteCompare)) {
      const entries: { key: string; value: string }[] = NEIGH_KNOBS.map((k) => ({ key: k.key, value: heldToText(k, s.neigh.get(dir)!.values[k.field]) }));
      if (dir === "default") for (const k of NEIGH_TABLE_KNOBS) entries.push({ key: k.key, value: heldToText(k, s.table[k.field]) });
      entries.sort((a, b) => byteCompare(a.key, b.key));
      for (const e of entries) out.push({ name: sysctlName(["net", "ipv4", "neigh", dir, e.key]), value: e.value });
    }
    return out;
  }

  // ── internals ──

  private devConf(dev: string): ConfDir {
    const d = this.state.conf.get(dev);
    if (!d || DIR_NAMES.has(dev)) throw new SysctlError(`no interface ${JSON.stringify(dev)}`);
    return d;
  }

  private unknown(name: string, why?: string): SysctlError {
    return new SysctlError(`unknown sysctl ${JSON.stringify(name)}${why ? ` (${why})` : ""}`);
  }

  private resolve(name: string): Target {
    const p = sysctlPath(name);
    if (p[0] !== "net" || p[1] !== "ipv4") throw this.unknown(name);
    if (p.length === 3 && p[2] === "ip_forward") return { kind: "conf", dir: "all", knob: CONF_BY_KEY.get("forwarding")!, name: "net.ipv4.ip_forward" };
    if (p.length !== 5 || (p[2] !== "conf" && p[2] !== "neigh")) throw this.unknown(name);
    const dir = p[3]!;
    const key = p[4]!;
    const canonical = sysctlName(p);
    const devs = this.interfaces();
    const devList = devs.length > 0 ? devs.join(", ") : "none";
    if (p[2] === "conf") {
      if (!this.state.conf.has(dir)) throw this.unknown(name, `no interface ${JSON.stringify(dir)}; conf directories: all, default, ${devList}`);
      const knob = CONF_BY_KEY.get(key);
      if (!knob) throw this.unknown(name, `net.ipv4.conf knobs: ${CONF_KNOBS.map((k) => k.key).join(", ")}`);
      return { kind: "conf", dir, knob, name: canonical };
    }
    if (!this.state.neigh.has(dir)) throw this.unknown(name, `no interface ${JSON.stringify(dir)}; neigh directories: default, ${devList}`);
    const knob = NEIGH_BY_KEY.get(key);
    if (knob) return { kind: "neigh", dir, knob, name: canonical };
    const tk = TABLE_BY_KEY.get(key);
    if (tk) {
      if (dir !== "default") throw this.unknown(name, `${key} is table-wide: net.ipv4.neigh.default.${key}`);
      return { kind: "table", knob: tk, name: canonical };
    }
    throw this.unknown(name, `net.ipv4.neigh knobs: ${[...NEIGH_KNOBS, ...NEIGH_TABLE_KNOBS].map((k) => k.key).join(", ")}`);
  }

  private read(s: State, t: Target): string {
    switch (t.kind) {
      case "conf":
        return heldToText(t.knob, s.conf.get(t.dir)!.values[t.knob.field]);
      case "neigh":
        return heldToText(t.knob, s.neigh.get(t.dir)!.values[t.knob.field]);
      case "table":
        return heldToText(t.knob, s.table[t.knob.field]);
    }
  }

  private parseValue(t: Target, text: string): number {
    const k = t.knob;
    const range = `allowed: ${k.min}..${k.max}${k.unit === "flag" || k.unit === "mode" ? "" : ` ${k.unit}`}`;
    const n = parseCInteger(text);
    if (typeof n === "string") throw new SysctlError(`invalid value ${JSON.stringify(text)} for ${t.name}: ${n} (${range})`);
    if (n < BigInt(k.min) || n > BigInt(k.max)) throw new SysctlError(`invalid value ${JSON.stringify(text)} for ${t.name}: out of range (${range})`);
    return textToHeld(k, Number(n));
  }

  private write(s: State, t: Target, text: string): void {
    const v = this.parseValue(t, text);
    switch (t.kind) {
      case "table":
        s.table[t.knob.field] = v;
        return;
      case "neigh": {
        const d = s.neigh.get(t.dir)!;
        d.values[t.knob.field] = v;
        d.explicit.add(t.knob.field);
        if (t.dir === "default") {
          for (const [k, dev] of s.neigh) if (k !== "default" && !dev.explicit.has(t.knob.field)) dev.values[t.knob.field] = v;
        }
        return;
      }
      case "conf": {
        const f = t.knob.field;
        if (f === "forwarding") {
          // devinet_sysctl_forward: only a change acts; all → inet_forward_change; default → itself only.
          const d = s.conf.get(t.dir)!;
          const old = d.values.forwarding;
          d.values.forwarding = v;
          if (v !== old && t.dir === "all") this.forwardChange(s, v);
          return;
        }
        // devinet_conf_proc: mark as set here; a default write reaches every device not set by hand.
        const d = s.conf.get(t.dir)!;
        d.values[f] = v;
        d.explicit.add(f);
        if (t.dir === "default") {
          for (const [k, dev] of s.conf) if (!DIR_NAMES.has(k) && !dev.explicit.has(f)) dev.values[f] = v;
        }
      }
    }
  }

  /** inet_forward_change(): all.forwarding is `on`. */
  private forwardChange(s: State, on: number): void {
    const all = s.conf.get("all")!;
    all.values.forwarding = on;
    all.values.acceptRedirects = on ? 0 : 1;
    s.conf.get("default")!.values.forwarding = on;
    for (const [k, dev] of s.conf) {
      if (DIR_NAMES.has(k)) continue;
      dev.values.forwarding = on;
      dev.explicit.add("forwarding");
    }
  }
}

function devParams(v: Record<NeighField, number>): NeighDevParams {
  return { ...v, unresQlen: Math.trunc(v.unresQlenBytes / SKB_TRUESIZE_ETH_FRAME) };
}

function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Every knob with its value as `sysctl -a` prints them (`name = value`), the interface and neighbour
 * knobs merged in readdir order with the route-cache ones when given.
 */
export function sysctlAllLines(ifs: IfSysctls, route?: RouteSysctls): string[] {
  const entries = [...ifs.list(), ...(route?.list() ?? [])];
  entries.sort((a, b) => compareSysctlNames(a.name, b.name));
  return entries.map((e) => formatSysctlLine(e.name, e.value));
}
