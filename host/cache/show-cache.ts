/**
 * `ip [-s] route show cache` text for route cache entries, in the format of iproute2 of the 3.x era
 * (`print_route` in ip/iproute.c, source IPR3 of the spec), and the `ip_dst_cache` line of
 * /proc/slabinfo for the allocated count.
 *
 * Spec: /work/shared/docs/kernel-route-cache.md §1.4 (entry contents), §1.5 (RTCF flags and their names),
 * §1.6 (what the kernel's rt_fill_info sends and what iproute2 prints), §7.4 (allocated vs listed).
 *
 * An entry is printed as (items only when present, §1.6 print order):
 *   [TYPE ]DST [from SRC ][tos TOS ][via GW ][dev DEV ][ src PREFSRC ][notify ][ mark M][realm(s) R ]
 *   "\n    cache "[<flag,…> ][ expires Nsec][ error E][ users R][ used U][ age Asec][ ipid 0xNNNN]
 *   [ ts 0xT tsage Nsec][ METRICS…][ iif IIF]"\n"
 * The users/used/age items only with `-s`. With `-o` a backslash replaces the newline before "cache".
 */
import { formatIPv4 } from "../fib/ipv4.ts";

/** RTCF_* flag values (§1.5, K34h include/linux/in_route.h): the high 16 bits exported in rtm_flags. */
export const RTCF = Object.freeze({
  NOTIFY: 0x00010000,
  DIRECTDST: 0x00020000,
  REDIRECTED: 0x00040000,
  TPROXY: 0x00080000,
  FAST: 0x00200000,
  MASQ: 0x00400000,
  SNAT: 0x00800000,
  DOREDIRECT: 0x01000000,
  DIRECTSRC: 0x04000000,
  DNAT: 0x08000000,
  BROADCAST: 0x10000000,
  MULTICAST: 0x20000000,
  REJECT: 0x40000000,
  LOCAL: 0x80000000,
} as const);

/** The names iproute2 prints, in its order (§1.5; `PRTFL` in print_route). RTCF_EQUALIZE is not
 * defined by in_route.h, so iproute2's `#ifdef RTCF_EQUALIZE` entry is never compiled in. */
const FLAG_NAMES: readonly (readonly [number, string])[] = [
  [RTCF.LOCAL, "local"],
  [RTCF.REJECT, "reject"],
  [RTCF.MULTICAST, "mc"],
  [RTCF.BROADCAST, "brd"],
  [RTCF.DNAT, "dst-nat"],
  [RTCF.SNAT, "src-nat"],
  [RTCF.MASQ, "masq"],
  [RTCF.DIRECTDST, "dst-direct"],
  [RTCF.DIRECTSRC, "src-direct"],
  [RTCF.REDIRECTED, "redirected"],
  [RTCF.DOREDIRECT, "redirect"],
  [RTCF.FAST, "fastroute"],
  [RTCF.NOTIFY, "notify"],
  [RTCF.TPROXY, "proxy"],
];

/** rtm_type of a cache entry (§1.4 `rt_type`; the names are iproute2's `rtnl_rtntype_n2a`). */
export type CacheRouteType =
  | "unicast"
  | "local"
  | "broadcast"
  | "anycast"
  | "multicast"
  | "blackhole"
  | "unreachable"
  | "prohibit"
  | "throw"
  | "nat";

/** RTAX_* metric names, in RTAX order (2 = mtu … 14 = initrwnd, the 3.x set) as iproute2 prints them. */
export const METRIC_NAMES = [
  "mtu",
  "window",
  "rtt",
  "rttvar",
  "ssthresh",
  "cwnd",
  "advmss",
  "reordering",
  "hoplimit",
  "initcwnd",
  "features",
  "rto_min",
  "initrwnd",
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/**
 * Raw RTA_METRICS values as the kernel sends them (only nonzero ones are sent, so 0 prints nothing):
 * rtt in 1/8 ms (printed raw/8), rttvar in 1/4 ms (raw/4), rto_min in ms, the others plain numbers.
 * In 2.6.x every entry carries mtu, advmss and hoplimit (§1.4); in 3.x metrics come from the route or
 * the inet_peer (learned PMTU, TCP metrics).
 */
export type CacheMetrics = Partial<Record<MetricName, number>>;

/**
 * What `ip route show cache` needs of one cache entry: the rt_fill_info message of §1.6, in our terms.
 * Addresses are IPv4 as unsigned 32-bit integers (as in host/fib); times in milliseconds.
 */
export interface CacheEntryView {
  /** rtm_type = rt_type. Printed as a word unless "unicast". */
  type: CacheRouteType;
  /** RTA_DST = rt_dst (resolved destination; always a /32). */
  dst: number;
  /** RTA_SRC = rt_key_src, the source of the key; 0 (output route without source) prints nothing. */
  src: number;
  /** rtm_tos = rt_key_tos (the key TOS); 0 prints nothing, others as `tos NAME` (rt_dsfield) or 0xNN. */
  tos: number;
  /** rt_gateway: the kernel sends RTA_GATEWAY (printed `via`) only when it differs from rt_dst. */
  gateway: number;
  /** RTA_OIF = dst.dev: the output device ("lo" for local, broadcast, unreachable, multicast input). */
  dev: string;
  /** RTA_PREFSRC (§1.6): input routes rt_spec_dst; output routes rt_src when it differs from
   * rt_key_src. Printed ` src ADDR ` (iproute2's spacing). Undefined = not sent. */
  prefsrc?: number;
  /** RTA_MARK = rt_mark, sent when nonzero. */
  mark?: number;
  /** RTA_FLOW = dst.tclassid (realms: from << 16 | to), sent when nonzero. */
  realms?: number;
  /** rt_flags: the RTCF_* bits (§1.5). Low 16 bits are not exported and are ignored. */
  flags: number;
  /** RTA_IIF = rt_iif, input routes only: the input interface name. */
  iif?: string;
  /** Output routes: the oif of the key (rt_oif). Not sent by rt_fill_info, so never printed; kept so a
   * view can say which key it came from. */
  oif?: string;
  /** rta_clntref = dst.__refcnt: printed as ` users N` with -s when nonzero. */
  refcnt: number;
  /** rta_used = dst.__use: ` used N` with -s when nonzero. */
  use: number;
  /** now − dst.lastuse, ms. Sent as clock_t (1/100 s, floor); with -s printed ` age Nsec` (whole seconds)
   * when the clock_t value is nonzero, so 10 ms..999 ms print ` age 0sec` and < 10 ms nothing. */
  lastuseAgeMs: number;
  /** rta_error = dst.error, a positive errno for negative entries (101 ENETUNREACH, 113 EHOSTUNREACH,
   * 13 EACCES, 22 EINVAL); 0 = none. */
  error: number;
  /** rta_expires: PMTU expiry remaining, ms (3.4: peer pmtu_expires − now, 0 when past; 2.6: dst.expires
   * − now). Same clock_t conversion as the age: ` expires Nsec` when nonzero. */
  expiresMs: number;
  /** rta_id: the peer's IP id counter & 0xffff (3.x); ` ipid 0x%04x` when nonzero. */
  ipid?: number;
  /** rta_ts and rta_tsage (s): the peer's TCP timestamp; printed when either is nonzero. */
  ts?: number;
  tsage?: number;
  /** RTA_METRICS (see CacheMetrics). */
  metrics?: CacheMetrics;
  /** RTAX_LOCK bits, as the names of the locked metrics (` mtu lock 1400`). */
  lockedMetrics?: readonly MetricName[];
}

export interface ShowCacheOptions {
  /** `ip -s`: add users/used/age. */
  stats?: boolean;
  /** `ip -o`: one line per entry ("\" instead of the newline before "cache"). */
  oneline?: boolean;
  /** TOS names (/etc/iproute2/rt_dsfield). Default: the file shipped with iproute2 3.x (lowdelay 0x10,
   * throughput 0x08, reliability 0x04, mincost 0x02, …); today's file has only DSCP names. */
  dsfield?: ReadonlyMap<number, string>;
  /** Realm names (/etc/iproute2/rt_realms). Default: 0 = "cosmos", as the shipped file says. */
  realmNames?: ReadonlyMap<number, string>;
}

/** USER_HZ: the unit of rta_lastuse/rta_expires (clock_t), and iproute2's `hz` (sysconf(_SC_CLK_TCK)). */
export const USER_HZ = 100;

/** /etc/iproute2/rt_dsfield as shipped with iproute2 3.x. */
export const RT_DSFIELD_3X: ReadonlyMap<number, string> = new Map([
  [0x00, "default"],
  [0x10, "lowdelay"],
  [0x08, "throughput"],
  [0x04, "reliability"],
  [0x02, "mincost"],
  [0x20, "priority"],
  [0x40, "immediate"],
  [0x60, "flash"],
  [0x80, "flash-override"],
  [0xa0, "critical"],
  [0xc0, "internet"],
  [0xe0, "network"],
  [0x28, "AF11"],
  [0x30, "AF12"],
  [0x38, "AF13"],
  [0x48, "AF21"],
  [0x50, "AF22"],
  [0x58, "AF23"],
  [0x68, "AF31"],
  [0x70, "AF32"],
  [0x78, "AF33"],
  [0x88, "AF41"],
  [0x90, "AF42"],
  [0x98, "AF43"],
]);

const RT_REALMS_DEFAULT: ReadonlyMap<number, string> = new Map([[0, "cosmos"]]);

/** The `<flag,…> ` piece of the cache line, exactly as iproute2 prints it ("" without flags). */
export function formatCacheFlags(rtFlags: number): string {
  let flags = (rtFlags & ~0xffff) >>> 0;
  let out = "";
  let first = true;
  for (const [bit, name] of FLAG_NAMES) {
    if (!(flags & bit)) continue;
    flags = (flags & ~bit) >>> 0;
    out += `${first ? "<" : ""}${name}${flags ? "," : "> "}`;
    first = false;
  }
  if (flags) out += `${first ? "<" : ""}${flags.toString(16)}> `;
  return out;
}

/** ms → clock_t ticks as jiffies_to_clock_t does (HZ = 1000: one jiffy per ms; truncation). */
function clockTicks(ms: number): number {
  return Math.trunc((ms * USER_HZ) / 1000);
}

/** C `int / int`: truncation toward zero. */
function cdiv(a: number, b: number): number {
  return Math.trunc(a / b);
}

/**
 * printf("%g", x): 6 significant digits, round-half-even on the exact binary value (glibc), trailing
 * zeros removed, exponent style below 1e-4 and from 1e6 on.
 */
export function formatG(x: number, precision = 6): string {
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : x < 0 ? "-inf" : "inf";
  const sign = x < 0 ? "-" : "";
  // Exact value as num/den.
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, Math.abs(x));
  const hi = dv.getUint32(0);
  const lo = dv.getUint32(4);
  const bexp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e2: number;
  if (bexp === 0) e2 = -1074;
  else {
    mant |= 1n << 52n;
    e2 = bexp - 1075;
  }
  const num = e2 >= 0 ? mant << BigInt(e2) : mant;
  const den = e2 >= 0 ? 1n : 1n << BigInt(-e2);
  const P = precision === 0 ? 1 : precision;
  // Decimal exponent X with 10^X <= num/den < 10^(X+1).
  let X = Math.floor(Math.log10(Math.abs(x)));
  const pow10 = (k: number): bigint => 10n ** BigInt(k);
  const ge = (k: number): boolean => (k >= 0 ? num >= pow10(k) * den : num * pow10(-k) >= den);
  while (!ge(X)) X--;
  while (ge(X + 1)) X++;
  // q = round_half_even(x * 10^(P-1-X)).
  const s = P - 1 - X;
  const n2 = s >= 0 ? num * pow10(s) : num;
  const d2 = s >= 0 ? den : den * pow10(-s);
  let q = n2 / d2;
  const r2 = (n2 % d2) * 2n;
  if (r2 > d2 || (r2 === d2 && q % 2n === 1n)) q++;
  if (q === pow10(P)) {
    q = pow10(P - 1);
    X++;
  }
  const digits = q.toString();
  const strip = (t: string): string => (t.includes(".") ? t.replace(/0+$/, "").replace(/\.$/, "") : t);
  if (X < -4 || X >= P) {
    const m = strip(`${digits[0]}.${digits.slice(1)}`);
    const ex = Math.abs(X).toString().padStart(2, "0");
    return `${sign}${m}e${X < 0 ? "-" : "+"}${ex}`;
  }
  let fixed: string;
  if (X >= 0) fixed = `${digits.slice(0, X + 1)}.${digits.slice(X + 1)}`;
  else fixed = `0.${"0".repeat(-X - 1)}${digits}`;
  return sign + strip(fixed);
}

function metricText(name: MetricName, raw: number, locked: boolean): string {
  let out = ` ${name}${locked ? " lock" : ""}`;
  let val = raw >>> 0;
  switch (name) {
    case "hoplimit":
      if ((val | 0) === -1) val = 0;
      return `${out} ${val}`;
    case "rtt":
    case "rttvar":
    case "rto_min":
      if (name === "rtt") val = Math.floor(val / 8);
      else if (name === "rttvar") val = Math.floor(val / 4);
      out += val >= 1000 ? ` ${formatG(val / 1e3)}s` : ` ${val}ms`;
      return out;
    default:
      return `${out} ${val}`;
  }
}

function realmName(id: number, names: ReadonlyMap<number, string>): string {
  return (id < 256 ? names.get(id) : undefined) ?? String(id);
}

/** One entry as `ip [-s] [-o] route show cache` prints it, newline included. */
export function formatCacheEntry(e: CacheEntryView, opts: ShowCacheOptions = {}): string {
  const dsfield = opts.dsfield ?? RT_DSFIELD_3X;
  let s = "";
  if (e.type !== "unicast") s += `${e.type} `;
  s += `${formatIPv4(e.dst)} `;
  if (e.src !== 0) s += `from ${formatIPv4(e.src)} `;
  if (e.tos !== 0) s += `tos ${dsfield.get(e.tos) ?? `0x${e.tos.toString(16).padStart(2, "0")}`} `;
  if (e.gateway !== e.dst) s += `via ${formatIPv4(e.gateway)} `;
  s += `dev ${e.dev} `;
  if (e.prefsrc !== undefined) s += ` src ${formatIPv4(e.prefsrc)} `;
  // rtm_flags gets RTM_F_NOTIFY when RTCF_NOTIFY is set (rt_fill_info), printed here as well.
  if (e.flags & RTCF.NOTIFY) s += "notify ";
  if (e.mark) {
    const m = e.mark >>> 0;
    s += m >= 16 ? ` mark 0x${m.toString(16)}` : ` mark ${m}`;
  }
  if (e.realms) {
    const names = opts.realmNames ?? RT_REALMS_DEFAULT;
    const from = (e.realms >>> 16) & 0xffff;
    const to = e.realms & 0xffff;
    s += `realm${from ? "s" : ""} `;
    if (from) s += `${realmName(from, names)}/`;
    s += `${realmName(to, names)} `;
  }
  s += `${opts.oneline ? "\\" : "\n"}    cache `;
  s += formatCacheFlags(e.flags);
  const expires = clockTicks(e.expiresMs);
  if (expires !== 0) s += ` expires ${cdiv(expires, USER_HZ)}sec`;
  if (e.error !== 0) s += ` error ${e.error | 0}`;
  if (opts.stats) {
    if (e.refcnt) s += ` users ${e.refcnt | 0}`;
    if (e.use) s += ` used ${e.use | 0}`;
    const age = clockTicks(e.lastuseAgeMs) >>> 0;
    if (age !== 0) s += ` age ${Math.floor(age / USER_HZ)}sec`;
  }
  if (e.ipid) s += ` ipid 0x${(e.ipid & 0xffff).toString(16).padStart(4, "0")}`;
  if (e.ts || e.tsage) s += ` ts 0x${((e.ts ?? 0) >>> 0).toString(16)} tsage ${(e.tsage ?? 0) | 0}sec`;
  if (e.metrics) {
    const locked = new Set(e.lockedMetrics ?? []);
    for (const name of METRIC_NAMES) {
      const v = e.metrics[name];
      if (v) s += metricText(name, v, locked.has(name));
    }
  }
  if (e.iif !== undefined) s += ` iif ${e.iif}`;
  return `${s}\n`;
}

/** The whole listing: the entries in the order given (the kernel walks bucket by bucket). */
export function formatRouteCache(entries: Iterable<CacheEntryView>, opts: ShowCacheOptions = {}): string {
  let out = "";
  for (const e of entries) out += formatCacheEntry(e, opts);
  return out;
}

// ---------------------------------------------------------------------------------------------
// /proc/slabinfo (§7.4)

/**
 * The object size we report for `ip_dst_cache`: 256 bytes, i.e. sizeof(struct rtable) of a 3.x x86-64
 * kernel rounded up to the cache-line alignment the slab is created with (SLAB_HWCACHE_ALIGN), the
 * figure §7.6e uses ("8 M × 256 B"). It is a model of the kernel's footprint, not our own entry size.
 */
export const IP_DST_CACHE_OBJSIZE = 256;
/** Objects per slab and pages per slab: one 4 KiB page of 256-byte objects (SLUB, order 0). */
export const IP_DST_CACHE_OBJS_PER_SLAB = 16;
export const IP_DST_CACHE_PAGES_PER_SLAB = 1;

/** The two header lines of /proc/slabinfo version 2.1 (SLUB, or SLAB without statistics). */
export const SLABINFO_HEADER =
  "slabinfo - version: 2.1\n" +
  "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n";

function cpad(v: number, w: number): string {
  return String(v).padStart(w);
}

/** One /proc/slabinfo 2.1 row, in the order of its columns. */
export interface SlabinfoRow {
  name: string;
  activeObjs: number;
  numObjs: number;
  objSize: number;
  objPerSlab: number;
  pagesPerSlab: number;
  limit: number;
  batchcount: number;
  sharedFactor: number;
  activeSlabs: number;
  numSlabs: number;
  sharedAvail: number;
}

/**
 * A /proc/slabinfo 2.1 row exactly as the kernel prints it (mm/slab.c, mm/slub.c `s_show`):
 * `"%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu\n"`.
 */
export function formatSlabinfoLine(r: SlabinfoRow): string {
  return (
    `${r.name.padEnd(17)} ${cpad(r.activeObjs, 6)} ${cpad(r.numObjs, 6)} ${cpad(r.objSize, 6)}` +
    ` ${cpad(r.objPerSlab, 4)} ${cpad(r.pagesPerSlab, 4)}` +
    ` : tunables ${cpad(r.limit, 4)} ${cpad(r.batchcount, 4)} ${cpad(r.sharedFactor, 4)}` +
    ` : slabdata ${cpad(r.activeSlabs, 6)} ${cpad(r.numSlabs, 6)} ${cpad(r.sharedAvail, 6)}\n`
  );
}

/**
 * The `ip_dst_cache` line of /proc/slabinfo for `allocated` entries (the allocated count of §7.4,
 * `/proc/net/stat/rt_cache` field 1, not the listed count), as SLUB prints it: objsize 256, 16 objects
 * and 1 page per slab, tunables 0 0 0, active_slabs = num_slabs, sharedavail 0. `slabs` defaults to
 * fully packed slabs, ceil(allocated / 16); a real allocator keeps partly used slabs, so pass the
 * number of slabs if you model them. num_objs = 16 × slabs.
 */
export function formatDstSlabinfo(allocated: number, slabs = Math.ceil(allocated / IP_DST_CACHE_OBJS_PER_SLAB)): string {
  if (!Number.isInteger(allocated) || allocated < 0) throw new RangeError(`allocated count must be a non-negative integer: ${allocated}`);
  if (!Number.isInteger(slabs) || slabs * IP_DST_CACHE_OBJS_PER_SLAB < allocated) {
    throw new RangeError(`${slabs} slabs cannot hold ${allocated} objects`);
  }
  return formatSlabinfoLine({
    name: "ip_dst_cache",
    activeObjs: allocated,
    numObjs: slabs * IP_DST_CACHE_OBJS_PER_SLAB,
    objSize: IP_DST_CACHE_OBJSIZE,
    objPerSlab: IP_DST_CACHE_OBJS_PER_SLAB,
    pagesPerSlab: IP_DST_CACHE_PAGES_PER_SLAB,
    limit: 0,
    batchcount: 0,
    sharedFactor: 0,
    activeSlabs: slabs,
    numSlabs: slabs,
    sharedAvail: 0,
  });
}
