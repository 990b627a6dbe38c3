// /proc/net/stat/rt_cache text (spec §5.1): exact layout, widths, the global `entries` column, and
// format/parse round trips.
import { describe, it, expect } from "vitest";
import {
  RT_CACHE_FIELDS,
  RT_CACHE_FIELD_NAMES,
  RT_CACHE_NFIELDS,
  RT_CACHE_STAT_HEADER,
  formatRtCacheStat,
  newRtCacheCounters,
  parseRtCacheRows,
  parseRtCacheStat,
  rtCacheEntries,
  type RtCacheCounters,
} from "../host/cache/stat.ts";

function counters(values: Partial<Record<keyof typeof RT_CACHE_FIELDS, number>>): RtCacheCounters {
  const c = newRtCacheCounters();
  for (const [k, v] of Object.entries(values)) c[RT_CACHE_FIELDS[k as keyof typeof RT_CACHE_FIELDS]] = v;
  return c;
}

describe("rt_cache counters", () => {
  it("has the kernel's 17 names in order (§5.1)", () => {
    expect(RT_CACHE_NFIELDS).toBe(17);
    expect(RT_CACHE_FIELD_NAMES.join(" ")).toBe(
      "entries in_hit in_slow_tot in_slow_mc in_no_route in_brd in_martian_dst in_martian_src out_hit out_slow_tot out_slow_mc gc_total gc_ignored gc_goal_miss gc_dst_overflow in_hlist_search out_hlist_search",
    );
    RT_CACHE_FIELD_NAMES.forEach((n, i) => expect(RT_CACHE_FIELDS[n]).toBe(i));
    expect(newRtCacheCounters()).toEqual(new Uint32Array(17));
  });

  it("prints the header with the kernel's double spaces", () => {
    expect(RT_CACHE_STAT_HEADER).toBe(
      "entries  in_hit in_slow_tot in_slow_mc in_no_route in_brd in_martian_dst in_martian_src  out_hit out_slow_tot out_slow_mc  gc_total gc_ignored gc_goal_miss gc_dst_overflow in_hlist_search out_hlist_search\n",
    );
  });

  it("formats one row per worker, %08x, two spaces after fields 1 and 8, trailing space", () => {
    const w0 = counters({ entries: 5, in_hit: 0x579509, in_slow_tot: 0x2044f, in_brd: 0x1e53, in_martian_src: 0x18, out_hit: 0x6f8ff, out_slow_tot: 0x2620, out_slow_mc: 1, in_hlist_search: 0xba0b, out_hlist_search: 0x92 });
    const w1 = counters({ entries: 0x9f, in_slow_tot: 2, in_brd: 1, out_hit: 0x6f479, out_slow_tot: 0x27b4, out_hlist_search: 8 });
    expect(formatRtCacheStat([w0, w1])).toBe(
      RT_CACHE_STAT_HEADER +
        "000000a4  00579509 0002044f 00000000 00000000 00001e53 00000000 00000018  0006f8ff 00002620 00000001 00000000 00000000 00000000 00000000 0000ba0b 00000092 \n" +
        "000000a4  00000000 00000002 00000000 00000000 00000001 00000000 00000000  0006f479 000027b4 00000000 00000000 00000000 00000000 00000000 00000000 00000008 \n",
    );
  });

  it("keeps widths at 8 for the largest values and wraps entries modulo 2^32", () => {
    const all = new Uint32Array(17).fill(0xffffffff);
    const w1 = counters({ entries: 2, in_hit: 0x80000000, gc_dst_overflow: 0x10000000 });
    const text = formatRtCacheStat([all, w1]);
    const rows = text.split("\n").slice(1, -1);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toHaveLength(17 * 8 + 16 + 2 + 1);
      expect(row).toMatch(/^[0-9a-f]{8}  ([0-9a-f]{8} ){7} ([0-9a-f]{8} ){9}$/);
    }
    // 0xffffffff + 2 = 1 (mod 2^32): a worker's share may be "negative" (more frees than allocations).
    expect(rows[0]).toBe(`00000001  ${"ffffffff ".repeat(7)} ${"ffffffff ".repeat(9)}`);
    expect(rows[1]).toBe("00000001  80000000 00000000 00000000 00000000 00000000 00000000 00000000  00000000 00000000 00000000 00000000 00000000 00000000 10000000 00000000 00000000 ");
    expect(rtCacheEntries([all, w1])).toBe(1);
  });

  it("prints the same global entries on every row (§5.1 field 1)", () => {
    const ws = [counters({ entries: 10 }), counters({ entries: 3 }), counters({ entries: 0xffffffff }), counters({})];
    const rows = formatRtCacheStat(ws).split("\n").slice(1, -1);
    expect(rows).toHaveLength(4);
    for (const r of rows) expect(r.slice(0, 8)).toBe("0000000c");
  });

  it("prints only the header without workers, rejects malformed counters", () => {
    expect(formatRtCacheStat([])).toBe(RT_CACHE_STAT_HEADER);
    expect(() => formatRtCacheStat([new Uint32Array(16)])).toThrow(RangeError);
    expect(() => formatRtCacheStat([new Int32Array(17) as unknown as Uint32Array])).toThrow(RangeError);
  });

  it("round-trips format → parse → format for random counters and 1..8 workers", () => {
    let seed = 0x12345678;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    for (let n = 1; n <= 8; n++) {
      const ws = Array.from({ length: n }, () => {
        const c = newRtCacheCounters();
        for (let f = 0; f < 17; f++) c[f] = rnd() >>> (rnd() % 32);
        return c;
      });
      const text = formatRtCacheStat(ws);
      const parsed = parseRtCacheStat(text);
      expect(parsed).toHaveLength(n);
      expect(formatRtCacheStat(parsed)).toBe(text);
      // Per-worker counters come back exactly; the entries share is folded into worker 0.
      parsed.forEach((p, w) => {
        expect(Array.from(p.subarray(1))).toEqual(Array.from(ws[w]!.subarray(1)));
        expect(p[0]).toBe(w === 0 ? rtCacheEntries(ws) : 0);
      });
      // Raw rows: every row shows the global count.
      for (const r of parseRtCacheRows(text)) expect(r[0]).toBe(rtCacheEntries(ws));
    }
  });

  it("parses the column-aligned layout of newer kernels, refuses bad text", () => {
    const modern =
      "entries  in_hit   in_slow_tot in_slow_mc in_no_route in_brd   in_martian_dst in_martian_src out_hit  out_slow_tot out_slow_mc gc_total gc_ignored gc_goal_miss gc_dst_overflow in_hlist_search out_hlist_search\n" +
      "00000005 00000000 000007f6    00000000   00000718    00000175 00000000       00000000       00000000 0000000a     00000001    00000000 00000000   00000000     00000000        00000000        00000000\n";
    const rows = parseRtCacheRows(modern);
    expect(rows).toHaveLength(1);
    expect(rows[0]![RT_CACHE_FIELDS.in_slow_tot]).toBe(0x7f6);
    expect(rows[0]![RT_CACHE_FIELDS.in_no_route]).toBe(0x718);
    expect(() => parseRtCacheRows("entries in_hit\n00000001 00000002\n")).toThrow(/field names/);
    expect(() => parseRtCacheRows(`${RT_CACHE_STAT_HEADER}00000001\n`)).toThrow(/line 2/);
    expect(() => parseRtCacheRows(`${RT_CACHE_STAT_HEADER}${"0000000G ".repeat(17)}\n`)).toThrow(/line 2/);
    const two = formatRtCacheStat([counters({ entries: 1 }), counters({})]).split("\n");
    two[2] = `00000002${two[2]!.slice(8)}`;
    expect(() => parseRtCacheStat(two.join("\n"))).toThrow(/entries 00000002 differs/);
    expect(parseRtCacheRows(two.join("\n"))[1]![0]).toBe(2);
  });
});
