/**
 * The route-cache sysctls of a Linux 3.4 kernel (spec: /work/shared/docs/kernel-route-cache.md, §2) and
 * the `rhash_entries=` boot parameter; the boot-time hash sizing they derive from (§1.1, §9.1) is
 * hash-sizing.ts's.
 *
 * Every value is held in the core's units: counts and bytes as plain numbers, times in milliseconds
 * (the core's clock is host-supplied ms). `get` and `set` speak the text of `/proc/sys/...`, whose unit
 * depends on the kernel handler (§2 "Units trap"):
 *
 * | name (net.ipv4.route.…)   | /proc text in                         | held as | default (§2, §9.2) |
 * |---------------------------|---------------------------------------|---------|--------------------|
 * | error_burst               | raw jiffies (proc_dointvec)           | ms      | 5·HZ = 5000 ms     |
 * | error_cost                | raw jiffies                           | ms      | HZ = 1000 ms       |
 * | flush                     | write-only integer                    | –       | –                  |
 * | gc_elasticity             | count                                 | count   | 8                  |
 * | gc_interval               | seconds (proc_dointvec_jiffies)       | ms      | 60 s               |
 * | gc_min_interval           | seconds, truncated: reads 0           | ms      | HZ/2 = 500 ms      |
 * | gc_min_interval_ms        | milliseconds (proc_dointvec_ms_jiffies), same variable | ms | 500  |
 * | gc_thresh                 | count                                 | count   | buckets            |
 * | gc_timeout                | seconds                               | ms      | 300 s              |
 * | max_size                  | count                                 | count   | 16 × buckets       |
 * | min_adv_mss               | bytes                                 | bytes   | 256                |
 * | min_pmtu                  | bytes                                 | bytes   | 552                |
 * | mtu_expires               | seconds                               | ms      | 600 s              |
 * | redirect_load             | raw jiffies                           | ms      | HZ/50 = 20 ms      |
 * | redirect_number           | count                                 | count   | 9                  |
 * | redirect_silence          | raw jiffies                           | ms      | (HZ/50)<<10 = 20480 ms |
 * | net.ipv4.rt_cache_rebuild_count | count                           | count   | 4                  |
 * | rhash_entries (boot only) | buckets requested, 0 = compute        | count   | 0                  |
 *
 * HZ is a constructor option (100, 250 or 1000; default 1000, where raw jiffies equal ms and the table in
 * §2 applies verbatim). HZ=300 is refused: its jiffy is not a whole number of milliseconds.
 * secret_interval (≤ 2.6.34), min_delay and max_delay (≤ 2.6.24) are not 3.4 sysctls and are unknown here.
 *
 * Parsing follows 3.4's proc_dointvec (kernel/sysctl.c `proc_get_long`): surrounding blanks are ignored,
 * an optional "-", then an integer in C base 0, so "0x10" is 16 and "010" is 8 (octal) exactly as the
 * kernel reads them. Where 3.4 silently wraps a value that does not fit a 32-bit int, this module
 * refuses it instead ("out of range"). The kernel's tables carry no minimum or maximum (no extra1/extra2
 * in route.c's ipv4_route_table), so negative and zero values are accepted for every knob, and the notes
 * in ROUTE_SYSCTLS say what the cache does with them per §2/§3.
 */
import { totalmem } from "node:os";
import { hashBuckets, type SizingOptions } from "./hash-sizing.ts";

export { DEFAULT_HASH_LIMIT, PAGE_BYTES, defaultBuckets, hashBuckets, hashScale, type SizingOptions } from "./hash-sizing.ts";

// ───────────────────────────── the table (§2) ─────────────────────────────

/** Every value the cache reads, in the core's units (ms for times). */
export interface RouteCacheParams {
  /** Hash buckets: from rhash_entries and the RAM size (§1.1). Not a sysctl; fixed once the cache exists. */
  buckets: number;
  /** rhash_entries boot parameter as given (0 = compute). */
  rhashEntries: number;
  gcThresh: number;
  maxSize: number;
  gcElasticity: number;
  gcMinIntervalMs: number;
  gcTimeoutMs: number;
  gcIntervalMs: number;
  redirectLoadMs: number;
  redirectNumber: number;
  redirectSilenceMs: number;
  errorCostMs: number;
  errorBurstMs: number;
  mtuExpiresMs: number;
  minPmtu: number;
  minAdvMss: number;
  rtCacheRebuildCount: number;
}

/** A settable field of RouteCacheParams. */
export type ParamField = Exclude<keyof RouteCacheParams, "buckets">;

/**
 * How the /proc text maps to the held value:
 * - `int`: proc_dointvec on a count or byte size; text = value.
 * - `jiffies`: proc_dointvec on a jiffies variable; text = raw jiffies (HZ-dependent).
 * - `seconds`: proc_dointvec_jiffies; text = whole seconds, truncated toward zero.
 * - `ms`: proc_dointvec_ms_jiffies; text = milliseconds (a write rounds up to whole jiffies).
 * - `flush`: ipv4_sysctl_rtcache_flush, write-only (mode 0200).
 * - `boot`: the rhash_entries= boot parameter (not under /proc/sys).
 */
export type SysctlKind = "int" | "jiffies" | "seconds" | "ms" | "flush" | "boot";

export interface SysctlInfo {
  /** Full name as sysctl(8) prints it. */
  readonly name: string;
  readonly kind: SysctlKind;
  /** Unit of the /proc text. */
  readonly shownIn: "count" | "bytes" | "jiffies" | "seconds" | "milliseconds" | "buckets" | "write-only";
  /** The RouteCacheParams field it sets (undefined for flush). */
  readonly field: ParamField | undefined;
  /** The kernel variable behind it (§2). */
  readonly kernelVariable: string;
  /** What it does and what odd values mean (§2, §3). */
  readonly note: string;
}

const R = "net.ipv4.route.";

/**
 * All knobs in `sysctl -a` order: sorted by name, which is the order readdir of /proc/sys gives on the
 * rbtree-based sysctl of 3.4+ kernels and therefore the order procps-ng's `sysctl -a` prints. `flush` is in
 * the table but never listed (procps skips entries without the owner-read bit). rhash_entries is not a
 * sysctl at all; it is listed last (its name sorts after "net.") so that `-a` shows the sizing input.
 */
export const ROUTE_SYSCTLS: readonly SysctlInfo[] = [
  {
    name: `${R}error_burst`, kind: "jiffies", shownIn: "jiffies", field: "errorBurstMs", kernelVariable: "ip_rt_error_burst",
    note: "Depth of the ICMP-unreachable token bucket (§2 ip_error): 5·HZ = 5 ICMPs at the default cost. A burst below error_cost means no ICMP is ever sent.",
  },
  {
    name: `${R}error_cost`, kind: "jiffies", shownIn: "jiffies", field: "errorCostMs", kernelVariable: "ip_rt_error_cost",
    note: "Tokens one ICMP unreachable costs (§2 ip_error, §9.6: burst 5 then 1/s). 0 (with a non-negative burst): every error is answered.",
  },
  {
    name: `${R}flush`, kind: "flush", shownIn: "write-only", field: undefined, kernelVariable: "– (rt_cache_flush(net, value))",
    note: "Write-only (mode 0200). Writing ≥ 0 invalidates (genid += 1..256) and flushes synchronously; < 0 only invalidates, entries are reaped lazily (§2 flush semantics, §9.4). Reading it fails with EINVAL in the handler (§2).",
  },
  {
    name: `${R}gc_elasticity`, kind: "int", shownIn: "count", field: "gcElasticity", kernelVariable: "ip_rt_gc_elasticity",
    note: "Aggressive-GC line = elasticity × buckets (§3.2, §9.1); chains keep ≤ elasticity+1 entries after an insert (§4.2); floor of rt_chain_length_max (§4.1). 0 or negative puts every GC run in the aggressive regime and evicts a candidate on every insert.",
  },
  {
    name: `${R}gc_interval`, kind: "seconds", shownIn: "seconds", field: "gcIntervalMs", kernelVariable: "ip_rt_gc_interval",
    note: "Period of the rt_check_expire worker (§4.1). The kernel hands it to schedule_delayed_work as an unsigned delay: 0 reschedules at once, negative is a huge delay.",
  },
  {
    name: `${R}gc_min_interval`, kind: "seconds", shownIn: "seconds", field: "gcMinIntervalMs", kernelVariable: "ip_rt_gc_min_interval",
    note: "Deprecated seconds view of gc_min_interval_ms (same variable). Whole seconds, truncated: the 500 ms default reads 0 (§2, §9.2).",
  },
  {
    name: `${R}gc_min_interval_ms`, kind: "ms", shownIn: "milliseconds", field: "gcMinIntervalMs", kernelVariable: "ip_rt_gc_min_interval",
    note: "GC rate gate and the +step of `expire` after a successful pass (§3.2, §9.3). 0: no gate. route.c compares it as unsigned long, so a negative value gates every GC call below max_size.",
  },
  {
    name: `${R}gc_thresh`, kind: "int", shownIn: "count", field: "gcThresh", kernelVariable: "ipv4_dst_ops.gc_thresh",
    note: "dst_alloc runs the GC when entries > gc_thresh; equilibrium floor; below it `expire` resets (§2, §3.1). Default = buckets (§1.1). 0 or negative: the GC runs on every allocation once any entry exists.",
  },
  {
    name: `${R}gc_timeout`, kind: "seconds", shownIn: "seconds", field: "gcTimeoutMs", kernelVariable: "ip_rt_gc_timeout",
    note: "Initial and maximum `expire`, age limit of the periodic scan, full-scan period (§2, §4.1). ≤ 1 jiffy: the periodic scan skips its division and visits every bucket each run.",
  },
  {
    name: `${R}max_size`, kind: "int", shownIn: "count", field: "maxSize", kernelVariable: "ip_rt_max_size",
    note: "Hard cap: the GC reports failure (allocation fails, \"dst cache overflow\") only at/above it, and it defeats the min-interval gate (§2, §3.2). Default = 16 × buckets (§1.1). ≤ 0: the GC is never gated and fails (ENOBUFS) whenever it misses its goal.",
  },
  {
    name: `${R}min_adv_mss`, kind: "int", shownIn: "bytes", field: "minAdvMss", kernelVariable: "ip_rt_min_advmss",
    note: "Floor of the default advmss (device MTU − 40) (§2).",
  },
  {
    name: `${R}min_pmtu`, kind: "int", shownIn: "bytes", field: "minPmtu", kernelVariable: "ip_rt_min_pmtu",
    note: "Floor for a learned path MTU (§2 PMTU): 512+20+20 = 552. 3.4 accepts any value here, even below 68.",
  },
  {
    name: `${R}mtu_expires`, kind: "seconds", shownIn: "seconds", field: "mtuExpiresMs", kernelVariable: "ip_rt_mtu_expires",
    note: "Lifetime of a learned PMTU (§2): 600 s.",
  },
  {
    name: `${R}redirect_load`, kind: "jiffies", shownIn: "jiffies", field: "redirectLoadMs", kernelVariable: "ip_rt_redirect_load",
    note: "Base back-off between ICMP redirects; gaps are redirect_load << tokens (§2 redirect sender, §9.6).",
  },
  {
    name: `${R}redirect_number`, kind: "int", shownIn: "count", field: "redirectNumber", kernelVariable: "ip_rt_redirect_number",
    note: "Redirects sent before giving up (§2): 9. ≤ 0: no redirect is ever sent.",
  },
  {
    name: `${R}redirect_silence`, kind: "jiffies", shownIn: "jiffies", field: "redirectSilenceMs", kernelVariable: "ip_rt_redirect_silence",
    note: "Quiet time that resets the redirect algorithm (§2): (HZ/50) << 10 = 20.48 s.",
  },
  {
    name: "net.ipv4.rt_cache_rebuild_count", kind: "int", shownIn: "count", field: "rtCacheRebuildCount", kernelVariable: "net->ipv4.sysctl_rt_cache_rebuild_count",
    note: "Caching stays on while emergency rebuilds ≤ this (rt_caching, §2, §4.2, §4.3). 0: off after the first rebuild; negative (the advised −1): off at once.",
  },
  {
    name: "rhash_entries", kind: "boot", shownIn: "buckets", field: "rhashEntries", kernelVariable: "rhash_entries (boot parameter)",
    note: "Hash size request, rounded up to a power of two; 0 = size from RAM (§1.1). Boot-time only: settable until the cache exists.",
  },
];

const BY_NAME = new Map<string, SysctlInfo>(ROUTE_SYSCTLS.map((s) => [s.name, s]));

/** The full dotted name for `name` ("net/ipv4/route/x" is accepted as sysctl(8) does), or undefined. */
export function canonicalSysctlName(name: string): string | undefined {
  const n = name.trim().replaceAll("/", ".");
  return BY_NAME.has(n) ? n : undefined;
}

/** The table row of a sysctl, or undefined for an unknown name. */
export function sysctlInfo(name: string): SysctlInfo | undefined {
  const n = canonicalSysctlName(name);
  return n === undefined ? undefined : BY_NAME.get(n);
}

// ───────────────────────────── values ─────────────────────────────

/** An unknown name or an invalid value; `index` is the position in a setMany batch. */
export class SysctlError extends Error {
  index: number | undefined;
  constructor(message: string, index?: number) {
    super(message);
    this.name = "SysctlError";
    this.index = index;
  }
}

/** Kernel HZ values whose jiffy is a whole number of milliseconds. */
export const SUPPORTED_HZ: readonly number[] = [100, 250, 1000];

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
/**
 * msecs_to_jiffies() of a negative ms value is MAX_JIFFY_OFFSET = (LONG_MAX >> 1) − 1 ("infinite"),
 * which proc_dointvec_ms_jiffies stores into an int: on a 64-bit kernel that truncates to −2 jiffies.
 */
const NEGATIVE_MS_JIFFIES = -2;

/**
 * Parses the text the way 3.4's proc_get_long does (blanks trimmed, an optional "-", C base 0); returns
 * the integer or why not. The interface knobs (host/router/if-sysctl.ts) are read with it too.
 */
export function parseCInteger(text: string): bigint | string {
  const t = text.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, "");
  if (t === "") return "empty value";
  const m = /^(-?)(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*))$/.exec(t);
  if (!m) return "not an integer";
  const mag = m[2] !== undefined ? BigInt(`0x${m[2]}`) : m[3] !== undefined ? BigInt(`0o${m[3]}`) : BigInt(m[4]!);
  return m[1] === "-" ? -mag : mag;
}

function inInt(n: bigint): boolean {
  return n >= BigInt(INT_MIN) && n <= BigInt(INT_MAX);
}

interface State {
  values: Record<ParamField, number>;
  /** gc_thresh / max_size were written; otherwise they follow the buckets (§1.1). */
  explicitGcThresh: boolean;
  explicitMaxSize: boolean;
}

/** A change the cache is told about, after it took effect. */
export type SysctlChange =
  | {
      kind: "set";
      /** The name written (either alias of gc_min_interval). */
      name: string;
      field: ParamField;
      /** The new value of `field` in the core's units. */
      value: number;
      /** All values after the change (gc_thresh/max_size may have moved with rhash_entries). */
      params: Readonly<RouteCacheParams>;
    }
  | {
      kind: "flush";
      name: string;
      /** The integer written: ≥ 0 synchronous flush, < 0 lazy invalidation (§2). */
      value: number;
      lazy: boolean;
    };

export interface RouteSysctlsOptions {
  /** RAM the §1.1 sizing sees. Default: os.totalmem(). */
  totalRamBytes?: number;
  lowMemBytes?: number;
  bucketBytes?: number;
  /** Kernel HZ whose raw-jiffies text is emulated: 100, 250 or 1000 (default). */
  hz?: number;
}

export class RouteSysctls {
  readonly hz: number;
  readonly totalRamBytes: number;
  private readonly sizing: SizingOptions;
  private readonly msPerJiffy: number;
  private state: State;
  private created = false;
  private readonly listeners: ((change: SysctlChange) => void)[] = [];

  constructor(opts: RouteSysctlsOptions = {}) {
    const hz = opts.hz ?? 1000;
    if (!SUPPORTED_HZ.includes(hz)) throw new RangeError(`HZ must be one of ${SUPPORTED_HZ.join(", ")}, got ${hz}`);
    this.hz = hz;
    this.msPerJiffy = 1000 / hz;
    this.totalRamBytes = opts.totalRamBytes ?? totalmem();
    this.sizing = { lowMemBytes: opts.lowMemBytes, bucketBytes: opts.bucketBytes };
    hashBuckets(0, this.totalRamBytes, this.sizing); // validates the sizing inputs now
    const j = (jiffies: number): number => jiffies * this.msPerJiffy;
    // The static initialisers of route.c (3.4), in jiffies as the kernel writes them (§2).
    this.state = {
      values: {
        rhashEntries: 0,
        gcThresh: 0,
        maxSize: 0,
        gcElasticity: 8,
        gcMinIntervalMs: j(Math.floor(hz / 2)),
        gcTimeoutMs: j(300 * hz),
        gcIntervalMs: j(60 * hz),
        redirectLoadMs: j(Math.floor(hz / 50)),
        redirectNumber: 9,
        redirectSilenceMs: j(Math.floor(hz / 50) << (9 + 1)),
        errorCostMs: j(hz),
        errorBurstMs: j(5 * hz),
        mtuExpiresMs: j(10 * 60 * hz),
        minPmtu: 512 + 20 + 20,
        minAdvMss: 256,
        rtCacheRebuildCount: 4,
      },
      explicitGcThresh: false,
      explicitMaxSize: false,
    };
  }

  /** Hash buckets: fixed once the cache exists, since rhash_entries then is (§1.1). */
  get buckets(): number {
    return this.bucketsOf(this.state);
  }

  /** True after markCacheCreated(): rhash_entries can no longer change. */
  get cacheCreated(): boolean {
    return this.created;
  }

  /** Called by the cache when it allocates its hash table; from then on rhash_entries is read-only. */
  markCacheCreated(): void {
    this.created = true;
  }

  /** All values in the core's units. */
  params(): RouteCacheParams {
    return this.paramsOf(this.state);
  }

  /** The text `cat /proc/sys/<name with dots as slashes>` prints, without the newline. */
  get(name: string): string {
    const info = this.lookup(name);
    if (info.kind === "flush") {
      // §2: mode 0200 and the handler returns EINVAL for reads. (Through /proc the mode check comes
      // first, so cat reports "Permission denied"; sysctl(8) skips the entry silently.)
      throw new SysctlError(`${info.name} is write-only: reading it fails with EINVAL (Invalid argument)`);
    }
    return this.format(info, this.paramsOf(this.state)[info.field!]);
  }

  /** Writes `text` as `echo text > /proc/sys/...` would. Throws SysctlError and changes nothing on error. */
  set(name: string, text: string): void {
    this.setMany([{ name, value: text }]);
  }

  /**
   * Applies writes in order, all or nothing: on the first error nothing has changed, no listener has
   * been called, and the SysctlError's index says which entry failed. Listeners then hear every write.
   */
  setMany(settings: readonly { name: string; value: string }[]): void {
    const draft: State = { ...this.state, values: { ...this.state.values } };
    const changes: SysctlChange[] = [];
    settings.forEach((s, i) => {
      try {
        changes.push(this.apply(draft, s.name, s.value));
      } catch (e) {
        if (e instanceof SysctlError) throw new SysctlError(e.message, i);
        throw e;
      }
    });
    this.state = draft;
    this.notify(changes);
  }

  /** Every readable value in `sysctl -a` order (flush, being write-only, is not listed). */
  list(): { name: string; value: string }[] {
    const p = this.paramsOf(this.state);
    return ROUTE_SYSCTLS.filter((s) => s.kind !== "flush").map((s) => ({ name: s.name, value: this.format(s, p[s.field!]) }));
  }

  /** Registers a listener for every successful write; returns a function that removes it. */
  onChange(listener: (change: SysctlChange) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  // ── internals ──

  private lookup(name: string): SysctlInfo {
    const n = canonicalSysctlName(name);
    if (n === undefined) throw new SysctlError(`unknown sysctl ${JSON.stringify(name)}`);
    return BY_NAME.get(n)!;
  }

  private bucketsOf(s: State): number {
    return hashBuckets(s.values.rhashEntries, this.totalRamBytes, this.sizing);
  }

  private paramsOf(s: State): RouteCacheParams {
    const buckets = this.bucketsOf(s);
    return {
      ...s.values,
      buckets,
      // §1.1: ipv4_dst_ops.gc_thresh = buckets, ip_rt_max_size = 16 × buckets, unless written since.
      gcThresh: s.explicitGcThresh ? s.values.gcThresh : buckets,
      maxSize: s.explicitMaxSize ? s.values.maxSize : 16 * buckets,
    };
  }

  /** Held value → /proc text. The sign is printed apart from the magnitude, as proc_put_long does. */
  private format(info: SysctlInfo, value: number): string {
    switch (info.kind) {
      case "int":
      case "boot":
        return String(value);
      case "jiffies":
        return String(value / this.msPerJiffy);
      case "seconds": {
        // proc_dointvec_jiffies: |jiffies| / HZ truncated, so −0.5 s would print "-0" like the kernel.
        const jiffies = value / this.msPerJiffy;
        return `${jiffies < 0 ? "-" : ""}${Math.floor(Math.abs(jiffies) / this.hz)}`;
      }
      case "ms": {
        // proc_dointvec_ms_jiffies: jiffies_to_msecs(|jiffies|).
        const jiffies = value / this.msPerJiffy;
        return `${jiffies < 0 ? "-" : ""}${Math.abs(jiffies) * this.msPerJiffy}`;
      }
      case "flush":
        throw new Error("unreachable: flush has no value");
    }
  }

  private invalid(info: SysctlInfo, text: string, why: string): SysctlError {
    return new SysctlError(`invalid value ${JSON.stringify(text)} for ${info.name}: ${why}`);
  }

  /** Validates and applies one write to `draft`; returns the change to announce. */
  private apply(draft: State, name: string, text: string): SysctlChange {
    const info = this.lookup(name);
    const n = parseCInteger(text);
    if (typeof n === "string") throw this.invalid(info, text, n);

    if (info.kind === "boot") {
      // The kernel's simple_strtoul takes no sign (and ignores trailing junk, which we refuse).
      if (n < 0n) throw this.invalid(info, text, "must not be negative");
      if (n > 0xffffffffn) throw this.invalid(info, text, "out of range (0..4294967295)");
      const v = Number(n);
      if (this.created && v !== draft.values.rhashEntries) {
        throw this.invalid(info, text, "boot-time only, and the route cache already exists");
      }
      draft.values.rhashEntries = v;
      return this.setChange(draft, info, "rhashEntries");
    }

    if (!inInt(n)) throw this.invalid(info, text, `out of range (${INT_MIN}..${INT_MAX})`);
    const v = Number(n);
    if (info.kind === "flush") return { kind: "flush", name: info.name, value: v, lazy: v < 0 };

    const field = info.field!;
    let held: number;
    switch (info.kind) {
      case "int":
        held = v;
        break;
      case "jiffies":
        held = v * this.msPerJiffy;
        break;
      case "seconds": {
        // 3.4 stores seconds × HZ into the int with no overflow check; refuse what would wrap.
        const jiffies = v * this.hz;
        if (jiffies < INT_MIN || jiffies > INT_MAX) {
          const lim = Math.floor(INT_MAX / this.hz);
          throw this.invalid(info, text, `out of range (-${lim}..${lim} seconds at HZ=${this.hz})`);
        }
        held = v * 1000;
        break;
      }
      case "ms":
        // msecs_to_jiffies rounds up to whole jiffies (HZ=250: 501 → 126 jiffies → reads 504). A negative
        // value means "infinite" (MAX_JIFFY_OFFSET), which lands in the int as −2 jiffies on 64-bit; we
        // store what such a kernel stores, so it reads back as −2·(1000/HZ).
        held = (v < 0 ? NEGATIVE_MS_JIFFIES : Math.ceil(v / this.msPerJiffy)) * this.msPerJiffy;
        break;
      default:
        throw new Error(`unreachable kind ${info.kind}`);
    }
    draft.values[field] = held;
    if (field === "gcThresh") draft.explicitGcThresh = true;
    if (field === "maxSize") draft.explicitMaxSize = true;
    return this.setChange(draft, info, field);
  }

  private setChange(draft: State, info: SysctlInfo, field: ParamField): SysctlChange {
    const params = this.paramsOf(draft);
    return { kind: "set", name: info.name, field, value: params[field], params };
  }

  private notify(changes: SysctlChange[]): void {
    notifyListeners(this.listeners, changes);
  }
}

/**
 * Tells every listener of every change that took effect. A listener that throws does not stop the
 * others; the first error is rethrown once all have been told.
 */
export function notifyListeners<C>(listeners: readonly ((change: C) => void)[], changes: readonly C[]): void {
  let failure: unknown;
  for (const c of changes) {
    for (const l of [...listeners]) {
      try {
        l(c);
      } catch (e) {
        failure ??= e;
      }
    }
  }
  if (failure !== undefined) throw failure;
}
