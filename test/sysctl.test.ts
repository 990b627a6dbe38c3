// Route-cache sysctls (host/cache/sysctl.ts) and sysctl.conf files (host/cache/sysctl-file.ts).
// Expected values come from /work/shared/docs/kernel-route-cache.md: §1.1 (sizing and its worked
// examples), §2 (names, handlers, units, defaults), §9.1, §9.2 and §9.6.
import { describe, expect, it } from "vitest";
import {
  DEFAULT_HASH_LIMIT, defaultBuckets, hashBuckets, hashScale, ROUTE_SYSCTLS, RouteSysctls, SysctlError,
} from "../host/cache/sysctl.ts";
import type { SysctlChange } from "../host/cache/sysctl.ts";
import {
  applySysctlConf, formatSysctlLines, parseSysctlConf, updateSysctlConf,
} from "../host/cache/sysctl-file.ts";
import { thrown } from "./lib/thrown.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const R = "net.ipv4.route.";

/** A 64-bit host with 4 GiB: 131072 buckets (§1.1 worked example). */
const make = (hz = 1000, totalRamBytes = 4 * GiB) => new RouteSysctls({ totalRamBytes, hz });

/** Message of the error `f` throws. */
describe("defaults (§2, §9.2) at HZ=1000", () => {
  const DEFAULTS: Record<string, string> = {
    [`${R}error_burst`]: "5000",
    [`${R}error_cost`]: "1000",
    [`${R}gc_elasticity`]: "8",
    [`${R}gc_interval`]: "60",
    [`${R}gc_min_interval`]: "0", // HZ/2 in whole seconds, truncated: "reads back 0"
    [`${R}gc_min_interval_ms`]: "500",
    [`${R}gc_thresh`]: "131072",
    [`${R}gc_timeout`]: "300",
    [`${R}max_size`]: "2097152",
    [`${R}min_adv_mss`]: "256",
    [`${R}min_pmtu`]: "552",
    [`${R}mtu_expires`]: "600",
    [`${R}redirect_load`]: "20",
    [`${R}redirect_number`]: "9",
    [`${R}redirect_silence`]: "20480",
    "net.ipv4.rt_cache_rebuild_count": "4",
    rhash_entries: "0",
  };

  it.each(Object.entries(DEFAULTS))("%s reads %s", (name, text) => {
    expect(make().get(name)).toBe(text);
  });

  it("list() is every readable knob, in sysctl -a (sorted) order, with the same texts", () => {
    const list = make().list();
    expect(list).toEqual(Object.entries(DEFAULTS).map(([name, value]) => ({ name, value })));
    const names = list.map((e) => e.name);
    expect(names).toEqual([...names].sort());
    expect(names).not.toContain(`${R}flush`);
    // The table holds exactly the brief's 16 route knobs, rt_cache_rebuild_count and rhash_entries.
    expect(ROUTE_SYSCTLS.map((s) => s.name)).toEqual([...names.slice(0, 2), `${R}flush`, ...names.slice(2)]);
  });

  it("holds everything in the core's units (ms for times)", () => {
    expect(make().params()).toEqual({
      buckets: 131072, rhashEntries: 0, gcThresh: 131072, maxSize: 2097152, gcElasticity: 8,
      gcMinIntervalMs: 500, gcTimeoutMs: 300_000, gcIntervalMs: 60_000, redirectLoadMs: 20, redirectNumber: 9,
      redirectSilenceMs: 20_480, errorCostMs: 1000, errorBurstMs: 5000, mtuExpiresMs: 600_000, minPmtu: 552,
      minAdvMss: 256, rtCacheRebuildCount: 4,
    });
  });
});

describe("HZ (§2 raw-jiffies table, §9.2 item 5)", () => {
  it.each([
    [1000, ["20", "20480", "1000", "5000"]],
    [250, ["5", "5120", "250", "1250"]],
    [100, ["2", "2048", "100", "500"]],
  ] as const)("at HZ=%i redirect_load, redirect_silence, error_cost, error_burst read %j", (hz, texts) => {
    const s = make(hz);
    expect(["redirect_load", "redirect_silence", "error_cost", "error_burst"].map((n) => s.get(R + n))).toEqual(texts);
    // The same times in ms whatever HZ is; seconds and ms views do not depend on HZ.
    const p = s.params();
    expect([p.redirectLoadMs, p.redirectSilenceMs, p.errorCostMs, p.errorBurstMs, p.gcMinIntervalMs]).toEqual([20, 20480, 1000, 5000, 500]);
    expect([s.get(`${R}gc_timeout`), s.get(`${R}gc_min_interval`), s.get(`${R}gc_min_interval_ms`)]).toEqual(["300", "0", "500"]);
  });

  it("a raw-jiffies write is HZ jiffies per second", () => {
    const s = make(250);
    s.set(`${R}error_cost`, "500");
    expect(s.params().errorCostMs).toBe(2000);
    expect(s.get(`${R}error_cost`)).toBe("500");
  });

  it("refuses HZ values whose jiffy is not a whole number of ms", () => {
    expect(() => new RouteSysctls({ hz: 300, totalRamBytes: GiB })).toThrow(/HZ must be one of 100, 250, 1000/);
  });
});

describe("round trip of every writable knob", () => {
  // [name, text written, the held value at HZ=1000, at HZ=250]
  const CASES: [string, string, number, number][] = [
    [`${R}error_burst`, "7", 7, 28],
    [`${R}error_cost`, "7", 7, 28],
    [`${R}gc_elasticity`, "7", 7, 7],
    [`${R}gc_interval`, "7", 7000, 7000],
    [`${R}gc_min_interval`, "7", 7000, 7000],
    [`${R}gc_min_interval_ms`, "700", 700, 700],
    [`${R}gc_thresh`, "7", 7, 7],
    [`${R}gc_timeout`, "7", 7000, 7000],
    [`${R}max_size`, "7", 7, 7],
    [`${R}min_adv_mss`, "7", 7, 7],
    [`${R}min_pmtu`, "7", 7, 7],
    [`${R}mtu_expires`, "7", 7000, 7000],
    [`${R}redirect_load`, "7", 7, 28],
    [`${R}redirect_number`, "7", 7, 7],
    [`${R}redirect_silence`, "7", 7, 28],
    ["net.ipv4.rt_cache_rebuild_count", "7", 7, 7],
    ["rhash_entries", "7", 7, 7],
  ];

  it.each(CASES)("%s = %s", (name, text, ms1000, ms250) => {
    for (const [hz, held] of [[1000, ms1000], [250, ms250]] as const) {
      const s = make(hz);
      s.set(name, text);
      expect(s.get(name)).toBe(text);
      const field = ROUTE_SYSCTLS.find((x) => x.name === name)!.field!;
      expect(s.params()[field]).toBe(held);
    }
  });

  it("covers every knob of the table except the write-only flush", () => {
    expect(CASES.map((c) => c[0]).sort()).toEqual(ROUTE_SYSCTLS.filter((s) => s.kind !== "flush").map((s) => s.name).sort());
  });

  it("accepts names with slashes, as sysctl(8) does", () => {
    const s = make();
    s.set("net/ipv4/route/gc_timeout", "5");
    expect(s.get("net/ipv4/route/gc_timeout")).toBe("5");
    expect(s.get(`${R}gc_timeout`)).toBe("5");
  });
});

describe("units and the gc_min_interval alias (§2)", () => {
  it("gc_min_interval and gc_min_interval_ms are one variable", () => {
    const s = make();
    s.set(`${R}gc_min_interval`, "2");
    expect(s.get(`${R}gc_min_interval_ms`)).toBe("2000");
    s.set(`${R}gc_min_interval_ms`, "1500");
    expect(s.get(`${R}gc_min_interval`)).toBe("1"); // truncated seconds
    expect(s.params().gcMinIntervalMs).toBe(1500);
    s.set(`${R}gc_min_interval_ms`, "999");
    expect(s.get(`${R}gc_min_interval`)).toBe("0");
  });

  it("a millisecond write rounds up to whole jiffies (msecs_to_jiffies)", () => {
    const s = make(250);
    s.set(`${R}gc_min_interval_ms`, "501");
    expect(s.get(`${R}gc_min_interval_ms`)).toBe("504");
    expect(s.params().gcMinIntervalMs).toBe(504);
    s.set(`${R}gc_min_interval_ms`, "1");
    expect(s.get(`${R}gc_min_interval_ms`)).toBe("4");
  });

  it("a negative millisecond value becomes MAX_JIFFY_OFFSET truncated to int: −2 jiffies, as on 64-bit 3.4", () => {
    const s = make();
    s.set(`${R}gc_min_interval_ms`, "-5");
    expect(s.get(`${R}gc_min_interval_ms`)).toBe("-2");
    expect(s.get(`${R}gc_min_interval`)).toBe("-0"); // sign and truncated magnitude printed apart
    expect(s.params().gcMinIntervalMs).toBe(-2);
    const t = make(250);
    t.set(`${R}gc_min_interval_ms`, "-5");
    expect(t.get(`${R}gc_min_interval_ms`)).toBe("-8");
  });

  it("accepts negative and zero values where the kernel's tables have no bounds", () => {
    const s = make();
    const writes: [string, string, keyof ReturnType<RouteSysctls["params"]>, number][] = [
      [`${R}gc_timeout`, "-1", "gcTimeoutMs", -1000],
      [`${R}gc_thresh`, "-1", "gcThresh", -1],
      [`${R}max_size`, "0", "maxSize", 0],
      [`${R}gc_elasticity`, "0", "gcElasticity", 0],
      [`${R}min_pmtu`, "0", "minPmtu", 0],
      [`${R}redirect_load`, "-3", "redirectLoadMs", -3],
      ["net.ipv4.rt_cache_rebuild_count", "-1", "rtCacheRebuildCount", -1], // caching off at once (§4.3)
    ];
    for (const [name, text, field, held] of writes) {
      s.set(name, text);
      expect(s.get(name)).toBe(text);
      expect(s.params()[field]).toBe(held);
    }
  });

  it("parses integers like proc_dointvec: blanks, C base 0 (hex, octal), a leading minus", () => {
    const s = make();
    const reads: [string, string][] = [["0x10", "16"], ["010", "8"], ["-0x10", "-16"], [" \t12\n", "12"], ["0", "0"], ["-0", "0"], ["0X1f", "31"]];
    for (const [text, back] of reads) {
      s.set(`${R}gc_elasticity`, text);
      expect(s.get(`${R}gc_elasticity`)).toBe(back);
    }
  });

  it("refuses what is not one integer", () => {
    const s = make();
    for (const [text, why] of [
      ["", "empty value"], ["  ", "empty value"], ["abc", "not an integer"], ["08", "not an integer"], ["+5", "not an integer"],
      ["1.5", "not an integer"], ["5 6", "not an integer"], ["12abc", "not an integer"], ["0x", "not an integer"],
      ["- 5", "not an integer"], ["300 # five minutes", "not an integer"], ["--5", "not an integer"],
    ]) {
      expect(thrown(() => s.set(`${R}gc_timeout`, text!))).toBe(`invalid value ${JSON.stringify(text)} for ${R}gc_timeout: ${why}`);
    }
    expect(s.get(`${R}gc_timeout`)).toBe("300");
  });

  it("refuses values that do not fit the kernel's int (3.4 would wrap them)", () => {
    const s = make();
    s.set(`${R}gc_thresh`, "2147483647");
    s.set(`${R}max_size`, "-2147483648");
    expect([s.get(`${R}gc_thresh`), s.get(`${R}max_size`)]).toEqual(["2147483647", "-2147483648"]);
    expect(thrown(() => s.set(`${R}gc_thresh`, "2147483648"))).toBe(
      `invalid value "2147483648" for ${R}gc_thresh: out of range (-2147483648..2147483647)`,
    );
    expect(thrown(() => s.set(`${R}gc_thresh`, "0x100000000"))).toMatch(/out of range/);
    // Seconds are stored as seconds × HZ jiffies.
    s.set(`${R}gc_timeout`, "2147483");
    expect(s.get(`${R}gc_timeout`)).toBe("2147483");
    expect(thrown(() => s.set(`${R}gc_timeout`, "2147484"))).toBe(
      `invalid value "2147484" for ${R}gc_timeout: out of range (-2147483..2147483 seconds at HZ=1000)`,
    );
    const t = make(100);
    t.set(`${R}gc_timeout`, "21474836");
    expect(t.get(`${R}gc_timeout`)).toBe("21474836");
  });
});

describe("sizing (§1.1, §9.1)", () => {
  // §1.1's worked examples: RAM, low memory, bucket size → scale, buckets, gc_thresh, max_size, 8×buckets.
  const ROWS: [string, number, number, number, 15 | 17, number, number, number, number][] = [
    ["128 MiB", 128 * MiB, 128 * MiB, 8, 17, 1024, 1024, 16384, 8192],
    ["256 MiB", 256 * MiB, 256 * MiB, 8, 17, 2048, 2048, 32768, 16384],
    ["1 GiB, 32-bit (~896 MiB lowmem)", GiB, 896 * MiB, 4, 15, 32768, 32768, 524288, 262144],
    ["4 GiB, 64-bit", 4 * GiB, 4 * GiB, 8, 15, 131072, 131072, 2097152, 1048576],
    ["16 GiB, 64-bit", 16 * GiB, 16 * GiB, 8, 15, 524288, 524288, 8388608, 4194304],
    ["64 GiB, 64-bit (512 Ki cap)", 64 * GiB, 64 * GiB, 8, 15, 524288, 524288, 8388608, 4194304],
  ];

  it.each(ROWS)("%s", (_label, ram, lowMem, bucketBytes, scale, buckets, gcThresh, maxSize, aggressive) => {
    expect(hashScale(ram)).toBe(scale);
    expect(defaultBuckets(ram, { lowMemBytes: lowMem, bucketBytes })).toBe(buckets);
    const s = new RouteSysctls({ totalRamBytes: ram, lowMemBytes: lowMem, bucketBytes });
    expect(s.buckets).toBe(buckets);
    expect(s.get(`${R}gc_thresh`)).toBe(String(gcThresh));
    expect(s.get(`${R}max_size`)).toBe(String(maxSize));
    const p = s.params();
    expect(p.gcElasticity * p.buckets).toBe(aggressive); // §9.1 item 3: the aggressive-GC line
  });

  it("switches scale at 128 Ki pages (512 MiB) and rounds to a power of two", () => {
    expect(hashScale(512 * MiB)).toBe(15);
    expect(hashScale(512 * MiB - 1)).toBe(17);
    expect(defaultBuckets(512 * MiB)).toBe(16384);
    expect(defaultBuckets(511 * MiB)).toBe(4096); // 511 MiB / 128 KiB = 4088 → 4096
    expect(defaultBuckets(3 * GiB)).toBe(131072); // 98304 → 131072
    expect(defaultBuckets(16 * MiB)).toBe(512); // 128 buckets would be under one page: 4096 / 8
    expect(defaultBuckets(1000 * GiB)).toBe(DEFAULT_HASH_LIMIT);
    for (const ram of [100 * MiB, 700 * MiB, 5 * GiB, 33 * GiB]) {
      const b = defaultBuckets(ram);
      expect(b & (b - 1)).toBe(0);
    }
  });

  it("rhash_entries is rounded up to a power of two, escapes the 512 Ki cap, not (RAM/16)/bucket size", () => {
    expect(hashBuckets(1000, 4 * GiB)).toBe(1024);
    expect(hashBuckets(1, 4 * GiB)).toBe(1);
    expect(hashBuckets(1 << 20, 4 * GiB)).toBe(1 << 20);
    expect(hashBuckets(2 ** 32 - 1, 128 * MiB)).toBe((128 * MiB) / 16 / 8);
    expect(hashBuckets(0, 4 * GiB)).toBe(131072);
  });

  it("gc_thresh and max_size follow the buckets until they are written", () => {
    const s = make();
    s.set("rhash_entries", "1000");
    expect([s.buckets, s.get(`${R}gc_thresh`), s.get(`${R}max_size`)]).toEqual([1024, "1024", "16384"]);
    s.set(`${R}gc_thresh`, "5000");
    s.set("rhash_entries", "0x800");
    expect([s.buckets, s.get(`${R}gc_thresh`), s.get(`${R}max_size`)]).toEqual([2048, "5000", "32768"]);
    s.set(`${R}max_size`, "10");
    s.set("rhash_entries", "0");
    expect([s.buckets, s.get(`${R}gc_thresh`), s.get(`${R}max_size`)]).toEqual([131072, "5000", "10"]);
  });

  it("rhash_entries is boot-time only: fixed once the cache exists", () => {
    const s = make();
    s.set("rhash_entries", "4096");
    s.markCacheCreated();
    expect(s.cacheCreated).toBe(true);
    expect(thrown(() => s.set("rhash_entries", "8192"))).toBe(
      `invalid value "8192" for rhash_entries: boot-time only, and the route cache already exists`,
    );
    s.set("rhash_entries", "4096"); // restating the boot value (a reloaded conf file) is no change
    expect(s.buckets).toBe(4096);
    expect(thrown(() => make().set("rhash_entries", "-1"))).toBe(`invalid value "-1" for rhash_entries: must not be negative`);
    expect(thrown(() => make().set("rhash_entries", "4294967296"))).toMatch(/out of range \(0\.\.4294967295\)/);
  });
});

describe("flush (§2 flush semantics, §9.4)", () => {
  it("is write-only: reading it fails with EINVAL, and it is not listed", () => {
    const s = make();
    expect(thrown(() => s.get(`${R}flush`))).toBe(`${R}flush is write-only: reading it fails with EINVAL (Invalid argument)`);
    expect(s.list().map((e) => e.name)).not.toContain(`${R}flush`);
  });

  it("tells the cache: ≥ 0 is a synchronous flush, < 0 a lazy invalidation; nothing is stored", () => {
    const s = make();
    const seen: SysctlChange[] = [];
    s.onChange((c) => seen.push(c));
    const before = s.list();
    for (const v of ["1", "0", "-1"]) s.set(`${R}flush`, v);
    expect(seen).toEqual([
      { kind: "flush", name: `${R}flush`, value: 1, lazy: false },
      { kind: "flush", name: `${R}flush`, value: 0, lazy: false },
      { kind: "flush", name: `${R}flush`, value: -1, lazy: true },
    ]);
    expect(s.list()).toEqual(before);
    expect(thrown(() => s.set(`${R}flush`, "now"))).toBe(`invalid value "now" for ${R}flush: not an integer`);
  });
});

describe("errors, onChange and all-or-nothing", () => {
  it("names an unknown sysctl", () => {
    const s = make();
    expect(thrown(() => s.get(`${R}secret_interval`))).toBe(`unknown sysctl "${R}secret_interval"`);
    expect(thrown(() => s.set("gc_thresh", "1"))).toBe(`unknown sysctl "gc_thresh"`);
    const e = (() => { try { s.set("x", "1"); } catch (err) { return err; } })();
    expect(e).toBeInstanceOf(SysctlError);
  });

  it("keeps error messages on one line", () => {
    expect(thrown(() => make().set(`${R}gc_timeout`, "1\n2"))).toBe(`invalid value "1\\n2" for ${R}gc_timeout: not an integer`);
  });

  it("reports every write with the new values in core units, and stops reporting after unsubscribe", () => {
    const s = make();
    const seen: SysctlChange[] = [];
    const off = s.onChange((c) => seen.push(c));
    s.set(`${R}gc_min_interval`, "1");
    s.set("rhash_entries", "64");
    off();
    s.set(`${R}gc_elasticity`, "4");
    expect(seen.map((c) => (c.kind === "set" ? [c.name, c.field, c.value] : c))).toEqual([
      [`${R}gc_min_interval`, "gcMinIntervalMs", 1000],
      ["rhash_entries", "rhashEntries", 64],
    ]);
    const last = seen[1]!;
    expect(last.kind === "set" && [last.params.buckets, last.params.gcThresh, last.params.maxSize]).toEqual([64, 64, 1024]);
  });

  it("setMany applies nothing and reports nothing when any entry fails", () => {
    const s = make();
    const seen: SysctlChange[] = [];
    s.onChange((c) => seen.push(c));
    const before = s.list();
    let err: unknown;
    try {
      s.setMany([
        { name: `${R}gc_timeout`, value: "5" },
        { name: "rhash_entries", value: "16" },
        { name: `${R}gc_elasticity`, value: "x" },
        { name: `${R}flush`, value: "1" },
      ]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SysctlError);
    expect((err as SysctlError).index).toBe(2);
    expect((err as SysctlError).message).toBe(`invalid value "x" for ${R}gc_elasticity: not an integer`);
    expect(s.list()).toEqual(before);
    expect(s.buckets).toBe(131072);
    expect(seen).toEqual([]);
  });

  it("setMany applies in order: a later write of the same variable wins", () => {
    const s = make();
    s.setMany([
      { name: `${R}gc_min_interval_ms`, value: "300" },
      { name: `${R}gc_min_interval`, value: "3" },
    ]);
    expect(s.params().gcMinIntervalMs).toBe(3000);
  });
});

describe("sysctl.conf files", () => {
  const CONF = [
    "# route cache tuning",
    "; old-style comment",
    "",
    `${R}gc_timeout = 120`,
    `  ${R}gc_elasticity=4  `,
    "net/ipv4/route/gc_min_interval_ms\t=\t250",
    `-${R}no_such_knob = 1`,
    "rhash_entries = 4096\r",
    "",
  ].join("\n");

  it("parses both forms, comments, blanks, slashes, `-name` and CRLF", () => {
    expect(parseSysctlConf(CONF, "t.conf")).toEqual([
      { line: 4, name: `${R}gc_timeout`, value: "120", optional: false },
      { line: 5, name: `${R}gc_elasticity`, value: "4", optional: false },
      { line: 6, name: `${R}gc_min_interval_ms`, value: "250", optional: false },
      { line: 7, name: `${R}no_such_knob`, value: "1", optional: true },
      { line: 8, name: "rhash_entries", value: "4096", optional: false },
    ]);
  });

  it("applies a file; a `-name` line with an unknown name is skipped", () => {
    const s = make();
    const applied = applySysctlConf(s, CONF, "t.conf");
    expect(applied.map((e) => e.line)).toEqual([4, 5, 6, 8]);
    expect([s.get(`${R}gc_timeout`), s.get(`${R}gc_elasticity`), s.get(`${R}gc_min_interval_ms`), s.get(`${R}gc_thresh`)]).toEqual(["120", "4", "250", "4096"]);
  });

  it("is all-or-nothing, with FILE:LINE: message errors", () => {
    const cases: [string, string][] = [
      [`${R}gc_timeout = 1\n${R}gc_thresh = many\n`, `t.conf:2: invalid value "many" for ${R}gc_thresh: not an integer`],
      [`${R}gc_timeout = 1\n\n${R}nope = 1\n`, `t.conf:3: unknown sysctl "${R}nope"`],
      [`${R}gc_timeout = 1\njust words\n`, `t.conf:2: invalid syntax: expected "name = value"`],
      [` = 5\n`, `t.conf:1: invalid syntax: missing name before "="`],
      [`${R}gc_timeout =\n`, `t.conf:1: invalid value "" for ${R}gc_timeout: empty value`],
      [`${R}gc_timeout = 1\n-${R}gc_thresh = x\n`, `t.conf:2: invalid value "x" for ${R}gc_thresh: not an integer`],
    ];
    for (const [text, message] of cases) {
      const s = make();
      const seen: SysctlChange[] = [];
      s.onChange((c) => seen.push(c));
      const before = s.list();
      expect(thrown(() => applySysctlConf(s, text, "t.conf"))).toBe(message);
      expect(s.list()).toEqual(before);
      expect(seen).toEqual([]);
    }
  });

  it("ignoreUnknown skips unknown names on any line (sysctl -e)", () => {
    const s = make();
    applySysctlConf(s, `${R}nope = 1\n${R}gc_timeout = 9\n`, "t.conf", { ignoreUnknown: true });
    expect(s.get(`${R}gc_timeout`)).toBe("9");
  });

  it("formats `name = value` lines as sysctl -a does, and the output loads back", () => {
    const s = make(1000, 256 * MiB);
    s.set(`${R}gc_timeout`, "30");
    const text = formatSysctlLines(s.list());
    expect(text.split("\n").slice(0, 3)).toEqual([`${R}error_burst = 5000`, `${R}error_cost = 1000`, `${R}gc_elasticity = 8`]);
    expect(text).toContain(`${R}gc_thresh = 2048\n`);
    expect(text.endsWith("rhash_entries = 0\n")).toBe(true);
    const t = make(1000, 256 * MiB);
    applySysctlConf(t, text, "dump.conf");
    expect(t.list()).toEqual(s.list());
  });

  it("updates the winning line in place, keeping comments, and appends otherwise", () => {
    const text = `# keep me\n${R}gc_timeout=120   \n; and me\n${R}gc_timeout = 200\n`;
    expect(updateSysctlConf(text, `${R}gc_timeout`, "60")).toBe(`# keep me\n${R}gc_timeout=120   \n; and me\n${R}gc_timeout = 60\n`);
    expect(updateSysctlConf(text, `${R}gc_timeout`, "200")).toBe(text); // already says so
    expect(updateSysctlConf(text, `${R}gc_interval`, "30")).toBe(`${text}${R}gc_interval = 30\n`);
    expect(updateSysctlConf("a = b", `${R}gc_interval`, "30")).toBe(`a = b\n${R}gc_interval = 30\n`);
    expect(updateSysctlConf("", `${R}gc_interval`, "30")).toBe(`${R}gc_interval = 30\n`);
    // Either name of gc_min_interval is the same line; indentation and `-` are kept; slashes are read.
    expect(updateSysctlConf(`  -net/ipv4/route/gc_min_interval = 1\n`, `${R}gc_min_interval_ms`, "250")).toBe(`  -${R}gc_min_interval_ms = 250\n`);
    // flush is an action, never state.
    expect(updateSysctlConf(text, `${R}flush`, "1")).toBe(text);
    expect(() => updateSysctlConf(text, "nope", "1")).toThrow(`unknown sysctl "nope"`);
  });
});
