// `wasmroute lnstat` (host/cache/lnstat.ts, spec §5.3) against iproute2's own lnstat.
//
// Byte-identical comparison: the same DIR/net/stat files are read by ours (`--proc DIR`) and by the
// real lnstat in a private mount namespace where DIR is bind-mounted over /proc
// (`unshare -m sh -c 'mount --bind DIR /proc && exec lnstat …'`). Root only; skipped elsewhere, but
// CI (root) must run them.
//
// Samples after the first (-c 2) need the file to change between two reads. lnstat prints and flushes
// a line, then sleeps `-i` seconds, then reads again. So:
// - ours gets an injected sleep that rewrites the file before returning (deterministic, no waiting);
// - for the real one the test watches its stdout and rewrites the file (in place: lnstat keeps the file
//   open, a rename would not be seen) as soon as the line of sample k has arrived, that is at the
//   start of its 1 s sleep. The next read comes ~1 s later, so the rewrite wins by ~1 s, not by luck.
//   Sample k is "arrived" when as many bytes as ours printed for samples 0..k have been received.
// The values are chosen so that the rate line shows what lnstat does: per-CPU sums in 64 bits, a sum
// that crosses 2^32, a counter that goes down (wraps to ~2^64), odd totals divided by 2.
import { describe, it, expect, afterAll } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, opendirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLnstat, type LnstatDeps } from "../host/cache/lnstat.ts";
import { RT_CACHE_FIELDS, formatRtCacheStat, newRtCacheCounters } from "../host/cache/stat.ts";

type Row = Partial<Record<keyof typeof RT_CACHE_FIELDS, number>>;

/** rt_cache text for worker rows; `entries` is the global count (put in worker 0's share). */
function rtCache(entries: number, rows: Row[]): string {
  return formatRtCacheStat(
    rows.map((r, w) => {
      const c = newRtCacheCounters();
      for (const [k, v] of Object.entries(r)) c[RT_CACHE_FIELDS[k as keyof typeof RT_CACHE_FIELDS]] = v;
      c[RT_CACHE_FIELDS.entries] = w === 0 ? entries : 0;
      return c;
    }),
  );
}

const ROW0: Row = {
  in_hit: 0xfffffff0, in_slow_tot: 0x3039, in_no_route: 7, in_brd: 0x65, in_martian_dst: 3, in_martian_src: 0x11,
  out_hit: 0xabcdef, out_slow_tot: 0x2710, out_slow_mc: 1, gc_total: 0x64, gc_ignored: 0x32, gc_goal_miss: 2,
  gc_dst_overflow: 1, in_hlist_search: 0x7fffffff, out_hlist_search: 0x1000,
};
const ROW1: Row = { in_hit: 0x21, in_slow_tot: 2, in_slow_mc: 5, in_brd: 0x10, out_hit: 0x99, out_slow_tot: 0x11, gc_goal_miss: 1, in_hlist_search: 0x80000000 };
/** Two CPUs, entries 0x1f4. */
const BASE = rtCache(0x1f4, [ROW0, ROW1]);
/** One second later: traffic on both CPUs, CPU 1's in_hit wrapped at 2^32 (so the 64-bit sum goes down
 * and lnstat shows 2^64 − 16), gc_goal_miss went down by 1 (2^64 − 1). */
const NEXT = rtCache(0x1f9, [
  { ...ROW0, in_hit: 0xfffffffe, in_slow_tot: 0x3049, out_hit: 0xabcdf9, gc_total: 0x65, gc_goal_miss: 1, in_hlist_search: 0x80000000 },
  { ...ROW1, in_hit: 0x3, in_slow_tot: 0x2 + 0x101, out_hit: 0x9b, gc_goal_miss: 1 },
]);

interface Scenario {
  /** Files of DIR/net/stat (name → content). */
  files: Record<string, string>;
  /** changes[k]: files rewritten after sample k was printed. */
  changes?: Record<string, string>[];
  args: string[];
  /** Build DIR/net/rt_cache_stat instead of DIR/net/stat (old-kernel fallback). */
  compat?: string;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function makeDir(s: Scenario): string {
  const dir = mkdtempSync(join(tmpdir(), "wr-lnstat-"));
  dirs.push(dir);
  if (s.compat !== undefined) {
    mkdirSync(join(dir, "net"));
    writeFileSync(join(dir, "net", "rt_cache_stat"), s.compat);
  } else {
    mkdirSync(join(dir, "net", "stat"), { recursive: true });
    for (const [name, text] of Object.entries(s.files)) writeFileSync(join(dir, "net", "stat", name), text);
  }
  return dir;
}

function apply(dir: string, change: Record<string, string> | undefined): void {
  for (const [name, text] of Object.entries(change ?? {})) writeFileSync(join(dir, "net", "stat", name), text);
}

interface Run {
  samples: string[];
  stdout: Buffer;
  stderr: string;
  status: number;
}

async function runOurs(s: Scenario, extra: LnstatDeps & { tick?: () => void } = {}): Promise<Run> {
  const dir = makeDir(s);
  const samples: string[] = [];
  let stderr = "";
  let k = 0;
  const status = await runLnstat(["--proc", dir, ...s.args], { stdout: (t) => samples.push(t), stderr: (t) => (stderr += t) }, {
    sleep: async () => {
      apply(dir, s.changes?.[k]);
      k++;
      extra.tick?.();
    },
    ...(extra.now ? { now: extra.now } : {}),
    ...(extra.argv0 ? { argv0: extra.argv0 } : {}),
  });
  return { samples, stdout: Buffer.from(samples.join(""), "latin1"), stderr: stderr.replaceAll(dir, "DIR"), status };
}

/** The real lnstat on a fresh copy of the scenario; rewrites follow the byte counts of `ours`. */
function runReal(s: Scenario, ours: Run): Promise<Run> {
  const dir = makeDir(s);
  const thresholds: number[] = [];
  let acc = 0;
  for (const t of ours.samples) thresholds.push((acc += Buffer.byteLength(t, "latin1")));
  return new Promise((resolve, reject) => {
    const child = spawn("unshare", ["-m", "sh", "-c", 'mount --bind "$0" /proc || exit 97; exec lnstat "$@"', dir, ...s.args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const chunks: Buffer[] = [];
    let got = 0;
    let k = 0;
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.stdout.on("data", (b: Buffer) => {
      chunks.push(b);
      got += b.length;
      for (; k < thresholds.length && got >= thresholds[k]!; k++) apply(dir, s.changes?.[k]);
    });
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString("latin1")));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 97) return reject(new Error(`mount --bind failed: ${stderr}`));
      resolve({ samples: [], stdout: Buffer.concat(chunks), stderr, status: code ?? 128 + (signal === "SIGFPE" ? 8 : 9) });
    });
  });
}

const isRoot = process.getuid?.() === 0;
const hasLnstat = spawnSync("lnstat", ["-h"]).error === undefined;
const canUnshare = isRoot && spawnSync("unshare", ["-m", "true"]).status === 0;
const canCompare = isRoot && hasLnstat && canUnshare;
if (process.env.CI && !canCompare) {
  throw new Error(`CI must run the lnstat comparison as root with iproute2's lnstat and unshare -m (root=${isRoot} lnstat=${hasLnstat} unshare=${canUnshare})`);
}
if (isRoot && !canCompare) console.warn(`lnstat comparison skipped: lnstat=${hasLnstat} unshare -m=${canUnshare}`);

async function expectSameAsIproute2(s: Scenario): Promise<Run> {
  const ours = await runOurs(s);
  const real = await runReal(s, ours);
  expect(ours.stdout.toString("latin1")).toBe(real.stdout.toString("latin1"));
  expect(ours.stdout.equals(real.stdout)).toBe(true);
  return ours;
}

const RT = { rt_cache: BASE };

/** Captured from iproute2 6.1 lnstat on BASE (and checked again below when root). */
const DEFAULT_HEADER =
  "rt_cache|rt_cache|rt_cache|rt_cache|rt_cache|rt_cache|rt_cache|rt_cache|rt_cache|rt_cache|rt_cache|rt_cache|rt_cache|rt_cache|rt_cache|rt_cache|rt_cache|\n" +
  " entries|  in_hit|in_slow_|in_slow_|in_no_ro|  in_brd|in_marti|in_marti| out_hit|out_slow|out_slow|gc_total|gc_ignor|gc_goal_|gc_dst_o|in_hlist|out_hlis|\n" +
  "        |        |     tot|      mc|     ute|        |  an_dst|  an_src|        |    _tot|     _mc|        |      ed|    miss| verflow| _search|t_search|\n";
const BASE_LINE =
  "     500|4294967313|   12347|       5|       7|     117|       3|      17|11259528|   10017|       1|     100|      50|       3|       1|4294967295|    4096|\n";
const NEXT_LINE =
  "     505|18446744073709551600|     273|       0|       0|       0|       0|       0|      12|       0|       0|       1|       0|18446744073709551615|       0|       1|       0|\n";

describe("lnstat (ours, no root needed)", () => {
  it("sums CPU rows, takes entries from the last row, divides by the interval (§5.3)", async () => {
    const r = await runOurs({ files: RT, args: ["-f", "rt_cache", "-c", "1", "-i", "1"] });
    expect(r.status).toBe(0);
    expect(r.stdout.toString("latin1")).toBe(DEFAULT_HEADER + BASE_LINE);
    const two = await runOurs({ files: RT, args: ["-f", "rt_cache", "-c", "1", "-i", "2", "-s", "0"] });
    expect(two.stdout.toString("latin1")).toBe(
      "     500|2147483656|    6173|       2|       3|      58|       1|       8| 5629764|    5008|       0|      50|      25|       1|       0|2147483647|    2048|\n",
    );
  });

  it("shows the rate against the previous read; a decrease (or a per-CPU 2^32 wrap) shows near 2^64", async () => {
    const r = await runOurs({ files: RT, changes: [{ rt_cache: NEXT }], args: ["-f", "rt_cache", "-c", "3", "-i", "1", "-s", "1"] });
    expect(r.samples).toEqual([DEFAULT_HEADER + BASE_LINE, NEXT_LINE, "     505|       0|       0|       0|       0|       0|       0|       0|       0|       0|       0|       0|       0|       0|       0|       0|       0|\n"]);
  });

  it("re-reads a file only when more than the interval has passed (time_after)", async () => {
    // A clock that stands still except for exactly 1 s per sleep: the second update comes exactly one
    // interval after the last read, which is not "after", so lnstat prints the old results again and
    // keeps the old "previous" values; the third update (2 s after the last read) reads NEXT.
    let t = 1_700_000_000_000_000;
    const r = await runOurs(
      { files: RT, changes: [{ rt_cache: NEXT }, {}], args: ["-f", "rt_cache", "-c", "3", "-i", "1", "-s", "0", "-k", "entries,in_hit"] },
      { now: () => t, tick: () => void (t += 1_000_000) },
    );
    expect(r.samples).toEqual(["     500|4294967313|\n", "     500|4294967313|\n", "     505|18446744073709551600|\n"]);
  });

  it("prints the header every 20 lines with -s 2, once with -s 1, never with -s 0", async () => {
    const args = ["-f", "rt_cache", "-c", "22", "-i", "1", "-k", "in_hit", "-w", "6"];
    const hdr = "rt_cac|\nin_hit|\n";
    const s2 = await runOurs({ files: RT, args: [...args, "-s", "2"] });
    expect(s2.samples.map((x) => x.startsWith(hdr))).toEqual(Array.from({ length: 22 }, (_, i) => i % 20 === 0));
    const s1 = await runOurs({ files: RT, args: [...args, "-s", "1"] });
    expect(s1.samples.map((x) => x.startsWith(hdr))).toEqual(Array.from({ length: 22 }, (_, i) => i === 0));
    const s0 = await runOurs({ files: RT, args: [...args, "-s", "0"] });
    expect(s0.samples.every((x) => !x.includes("rt_cac"))).toBe(true);
    expect(s0.samples[0]).toBe("4294967313|\n");
    expect(s0.samples[1]).toBe("     0|\n");
  });

  it("runs until stopped without -c (iproute2 6.1's default count 0)", async () => {
    let n = 0;
    const samples: string[] = [];
    const dir = makeDir({ files: RT, args: [] });
    const run = runLnstat(["--proc", dir, "-k", "entries", "-s", "0"], { stdout: (t) => samples.push(t), stderr: () => {} }, {
      sleep: async (s) => {
        expect(s).toBe(2); // default interval
        if (++n === 5) throw new Error("stop");
      },
    });
    await expect(run).rejects.toThrow("stop");
    expect(samples).toEqual(Array(5).fill("     500|\n"));
  });

  it("selects keys with -k (file:key too) and widths with -w (strtoul base 0, max 20)", async () => {
    const r = await runOurs({ files: RT, args: ["-c", "1", "-i", "1", "-k", "in_hit,rt_cache:entries,out_hlist_search", "-w", "3,0x10,010"] });
    expect(r.stdout.toString("latin1")).toBe(
      "rt_|        rt_cache|rt_cache|\n" + "in_|         entries|out_hlis|\n" + "hit|                |t_search|\n" + "4294967313|             500|    4096|\n",
    );
    const w = await runOurs({ files: RT, args: ["-c", "1", "-i", "1", "-k", "gc_dst_overflow", "-w", "25"] });
    expect(w.stdout.toString("latin1")).toBe(`${"rt_cache".padStart(20)}|\n${"gc_dst_overflow".padStart(20)}|\n${"1".padStart(20)}|\n`);
    const tall = await runOurs({ files: RT, args: ["-c", "1", "-i", "1", "-k", "out_hlist_search", "-w", "1"] });
    // At most 9 name lines (HDR_LINES 10): "out_hlist" of "out_hlist_search".
    expect(tall.stdout.toString("latin1")).toBe("r|\no|\nu|\nt|\n_|\nh|\nl|\ni|\ns|\nt|\n4096|\n");
  });

  it("reports unknown keys, -i 0 and an empty header like lnstat's exits", async () => {
    const u = await runOurs({ files: RT, args: ["-c", "1", "-k", "nope"] });
    expect(u).toMatchObject({ status: 1, stderr: "Field `nope' unknown\n" });
    expect(u.stdout.length).toBe(0);
    const z = await runOurs({ files: RT, args: ["-c", "1", "-i", "0"] });
    expect(z.status).toBe(136);
    expect(z.stdout.length).toBe(0);
    const blank = await runOurs({ files: { bad: "\n00000001\n" }, args: ["-c", "1"] });
    expect(blank.status).toBe(139);
    // An empty stat file makes lnstat drop every file: only newlines are printed.
    const empty = await runOurs({ files: { ...RT, empty: "" }, args: ["-c", "2", "-i", "1"] });
    expect(empty.stdout.toString("latin1")).toBe("\n\n");
  });

  it("reads lines in fgets chunks of 1022 bytes and parses fields with strtoul(…, 16)", async () => {
    const text = `x y z\n00000001${" ".repeat(1030)}00000002 00000003\n0x10 +20 -1\n`;
    const r = await runOurs({ files: { long: text }, args: ["-c", "1", "-i", "1", "-s", "0"] });
    // Row 1 is read as two rows: (1, 0, 0) and (2, 3, 0); row 2 is (0x10, 0x20, 2^64 − 1).
    expect(r.stdout.toString("latin1")).toBe("      16|      35|18446744073709551615|\n");
  });

  it("lists files in reverse readdir order, names cut to 32 bytes, > 32 fields means none", async () => {
    const files = {
      a_first: "one two\n00000001 00000002\n",
      many: `${Array.from({ length: 33 }, (_, i) => `f${i}`).join(" ")}\n${"00000001 ".repeat(33)}\n`,
      longname: `${"n".repeat(40)} b\n00000005 00000006\n`,
    };
    const dir = makeDir({ files, args: [] });
    const order: string[] = [];
    const d = opendirSync(join(dir, "net", "stat"));
    for (let e = d.readSync(); e !== null; e = d.readSync()) order.push(e.name);
    d.closeSync();
    let out = "";
    expect(await runLnstat(["--proc", dir, "-d"], { stdout: (t) => (out += t), stderr: () => {} })).toBe(0);
    const names: Record<string, string> = { a_first: "\t 1: one\n\t 2: two\n", many: "", longname: `\t 1: ${"n".repeat(32)}\n\t 2: b\n` };
    expect(out).toBe(order.reverse().map((n) => `${dir}/net/stat/${n}:\n${names[n]}`).join(""));
  });

  it("prints JSON values as unsigned int (modulo 2^32) with json_writer escaping", async () => {
    const r = await runOurs({ files: RT, changes: [{ rt_cache: NEXT }], args: ["-f", "rt_cache", "-c", "2", "-i", "1", "-j", "-k", "in_hit,entries,gc_goal_miss"] });
    expect(r.samples).toEqual(['{"in_hit":17,"entries":500,"gc_goal_miss":3}\n', '{"in_hit":4294967280,"entries":505,"gc_goal_miss":4294967295}\n']);
    const q = await runOurs({ files: { q: "it's a\"b c\\d\n1 2 3\n" }, args: ["-c", "1", "-i", "1", "-j"] });
    expect(q.stdout.toString("latin1")).toBe('{"it\'s":1,"a\\"b":2,"c\\\\d":3}\n');
  });

  it("parses options like getopt_long (clusters, =, prefixes, permutation) and prints the usage", async () => {
    const want = "     500|\n";
    for (const args of [["-c1", "-s0", "-kentries"], ["--cou", "1", "--subj=0", "--k", "entries"], ["x", "-c", "1", "y", "-s", "0", "-k", "entries"], ["-c", "1", "-s", "0", "-k", "entries", "--", "-x"]]) {
      const r = await runOurs({ files: RT, args });
      expect(r.stdout.toString("latin1"), args.join(" ")).toBe(want);
    }
    for (const args of [["-x"], ["--dump=1"], ["-c"], ["--nope"], ["--oneline"]]) {
      const r = await runOurs({ files: RT, args });
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toContain("Parameters:");
    }
    const h = await runOurs({ files: RT, args: ["-h"] });
    expect(h.status).toBe(0);
    expect(h.stderr).toMatch(/^lnstat Version 6\.1\.0\n/);
  });

  it("as rtstat implies -f rt_cache; without DIR/net/stat falls back to rt_cache_stat", async () => {
    const r = await runOurs({ files: { ...RT, other: "a b\n1 2\n" }, args: ["-c", "1", "-i", "1", "-s", "0"] }, { argv0: "rtstat" });
    expect(r.stdout.toString("latin1")).toBe(BASE_LINE);
    const c = await runOurs({ files: {}, compat: "00000001 00000002\n00000003 00000004\n", args: ["-c", "1", "-i", "1", "-k", "entries,in_hit"] });
    expect(c.stderr).toBe("Your kernel doesn't have lnstat support. Fallback to old rtstat-only operation\n");
    expect(c.stdout.toString("latin1")).toBe("rt_cache|rt_cache|\n entries|  in_hit|\n       3|       6|\n");
  });
});

describe.skipIf(!canCompare)("lnstat: byte-identical to iproute2's lnstat", () => {
  it("one sample, defaults (-f rt_cache -c 1 -i 1)", async () => {
    const r = await expectSameAsIproute2({ files: RT, args: ["-f", "rt_cache", "-c", "1", "-i", "1"] });
    expect(r.stdout.toString("latin1")).toBe(DEFAULT_HEADER + BASE_LINE);
  });

  it("-i 2 (truncating division)", async () => {
    await expectSameAsIproute2({ files: RT, args: ["-f", "rt_cache", "-c", "1", "-i", "2"] });
  });

  it("-k with file:key and -w per column", async () => {
    await expectSameAsIproute2({ files: RT, args: ["-f", "rt_cache", "-c", "1", "-i", "1", "-k", "in_hit,rt_cache:entries,out_hlist_search,gc_dst_overflow", "-w", "3,12"] });
    await expectSameAsIproute2({ files: RT, args: ["-f", "rt_cache", "-c", "1", "-i", "1", "-k", "in_slow_tot,gc_dst_overflow,out_hlist_search", "-w", "20"] });
    await expectSameAsIproute2({ files: RT, args: ["-f", "rt_cache", "-c", "1", "-i", "1", "-k", "out_hlist_search,entries", "-w", "1"] });
    await expectSameAsIproute2({ files: RT, args: ["-f", "rt_cache", "-c", "1", "-i", "1", "-w", "0x10,010,25,0"] });
  });

  for (const s of ["0", "1", "2"]) {
    it(`-s ${s} -c 2 with the file rewritten between the samples`, async () => {
      const r = await expectSameAsIproute2({ files: RT, changes: [{ rt_cache: NEXT }], args: ["-f", "rt_cache", "-c", "2", "-i", "1", "-s", s] });
      expect(r.samples[1]).toBe(NEXT_LINE);
    });
  }

  it("-j -c 2 (JSON, 32-bit values)", async () => {
    await expectSameAsIproute2({ files: RT, changes: [{ rt_cache: NEXT }], args: ["-f", "rt_cache", "-c", "2", "-i", "1", "-j"] });
  });

  it("every file of the directory, in lnstat's order, with a key found in two files", async () => {
    const files = { rt_cache: BASE, arp_cache: "entries  allocs destroys\n0000000a  00000003 00000001\n00000009  00000004 00000002\n", zz: "in_hit other\n00000007 0000000f\n" };
    await expectSameAsIproute2({ files, args: ["-c", "1", "-i", "1"] });
    await expectSameAsIproute2({ files, args: ["-c", "1", "-i", "1", "-k", "in_hit,rt_cache:in_hit,zz:in_hit,entries", "-f", "zz", "-f", "rt_cache"] });
    await expectSameAsIproute2({ files: { ...files, empty: "" }, args: ["-c", "1", "-i", "1"] });
  });

  it("-d (paths differ only by the directory)", async () => {
    const files = { rt_cache: BASE, zz: "in_hit other\n00000007 0000000f\n" };
    const ours = await runOurs({ files, args: ["-d"] });
    const real = await runReal({ files, args: ["-d"] }, ours);
    expect(ours.stdout.toString("latin1").replace(/^.*\/net\/stat\//gm, "/proc/net/stat/")).toBe(real.stdout.toString("latin1"));
  });

  it("old-kernel fallback to rt_cache_stat", async () => {
    const compat = "00000001 00000002 00000003\n00000004 00000005 00000006\n";
    await expectSameAsIproute2({ files: {}, compat, args: ["-c", "1", "-i", "1"] });
  });

  it.runIf(!!process.env.WR_LNSTAT_SLOW)("-s 2 and -s 1 over 22 lines (slow: 42 s)", async () => {
    for (const s of ["1", "2"]) {
      await expectSameAsIproute2({ files: RT, changes: [{ rt_cache: NEXT }], args: ["-f", "rt_cache", "-c", "22", "-i", "1", "-s", s, "-k", "in_hit", "-w", "6"] });
    }
  }, 120_000);
});
