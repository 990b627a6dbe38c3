// Issue #7, fuzzing: the data plane on random and mutated frames (scripts/fuzz.ts, a CI-sized run on
// the three core builds — release, debug, and checked, where every memory access and every frame access
// is bounds-checked: no trap, every frame a verdict, counters add up, memory bounded, one digest), and the control
// inputs — parseConfig, `wasmroute ip …` commands and batches, `wasmroute sysctl` — on random and
// mutated lines: one-line error or success, and nothing applied on error.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fuzz, formatSummary, checkSent, FUZZ_CONFIG, type FuzzOptions } from "../scripts/fuzz.ts";
import { parseConfig, ConfigError } from "../host/router/config.ts";
import { Fib } from "../host/fib/fib.ts";
import { runIpCommand } from "../host/cli/commands.ts";
import { runScript } from "../host/cli/script.ts";
import { runSysctl } from "../host/cli/sysctl-command.ts";
import { Router } from "../host/router/router.ts";
import { Logger } from "../host/router/logger.ts";

const digests = new Map<string, string>();
describe.each(["debug", "release", "checked"] as const)("data-plane fuzz (%s core)", (core) => {
  it("200,000 random and mutated frames: no trap, valid verdicts, counters add up, memory bounded", () => {
    const o: FuzzOptions = { frames: 200_000, seed: 7, core, batch: 256 };
    const r = fuzz(o);
    if (r.failures.length) console.error(formatSummary(o, r));
    expect(r.failures).toEqual([]);
    expect(r.frames).toBe(200_000);
    // the generator reaches the interesting paths, not only the parser's first checks
    for (const v of [0, 1, 2, 3, 16 + 3, 16 + 4, 16 + 7, 16 + 10, 16 + 11, 16 + 17, 16 + 21]) expect(r.verdicts.get(v) ?? 0).toBeGreaterThan(0);
    digests.set(core, r.digest);
  }, 60_000);
});

describe("data-plane fuzz, differential", () => {
  it("the three builds give the same verdicts and send the same frames for one seed (the checks change nothing)", () => {
    for (const core of ["debug", "release", "checked"] as const) if (!digests.has(core)) digests.set(core, fuzz({ frames: 200_000, seed: 7, core, batch: 256 }).digest);
    expect(digests.get("debug")).toBe(digests.get("release"));
    expect(digests.get("checked")).toBe(digests.get("release"));
  }, 90_000);

  it("a run is reproducible from its seed", () => {
    const a = fuzz({ frames: 20_000, seed: 99, core: "release", batch: 64 });
    const b = fuzz({ frames: 20_000, seed: 99, core: "release", batch: 64 });
    expect(a.digest).toBe(b.digest);
    expect(fuzz({ frames: 20_000, seed: 100, core: "release", batch: 64 }).digest).not.toBe(a.digest);
  });
});

describe("the sent-frame check itself", () => {
  it("refuses runts, bad IPv4 header checksums and headers beyond the frame", () => {
    expect(checkSent(new Uint8Array(13))).toMatch(/< 14/);
    const f = new Uint8Array(60);
    f[12] = 8;
    f[14] = 0x45;
    f[17] = 46;
    expect(checkSent(f)).toMatch(/checksum/);
    f[14] = 0x4f;
    expect(checkSent(f.subarray(0, 40))).toMatch(/beyond/);
  });
});

// ── control inputs ─────────────────────────────────────────────────────────────

const ROUTE_WORDS = ["route", "rule", "add", "del", "append", "replace", "change", "show", "get", "load", "flush", "via", "dev", "metric",
  "table", "nexthop", "weight", "blackhole", "unreachable", "prohibit", "local", "broadcast", "throw", "from", "to", "lookup", "priority",
  "iif", "tos", "fwmark", "mark", "eth0", "eth1", "p1", "lo", "10.0.0.0/8", "10.1.2.3", "0.0.0.0/0", "192.0.2.1", "300.1.1.1", "1.2.3.4/33",
  "255.255.255.255/32", "main", "local", "default", "100", "4294967295", "4294967296", "-1", "0x10", "", "onlink", "src", "proto", "scope"];
const CONFIG_WORDS = [...ROUTE_WORDS, "link", "addr", "neigh", "sysctl", "type", "pcap", "tap", "packet", "address", "mtu", "lladdr", "nud",
  "permanent", "02:77:00:00:01:01", "zz:zz", "9000", "67", "net.ipv4.route.gc_elasticity=8", "net.ipv4.ip_forward=1", "net.ipv4.conf.p1.rp_filter=2",
  "net.ipv4.route.max_size=-5", "net.ipv4.route.nonsense=1", "p2", "10.201.1.1/24", "10.201.1.2"];

/** FUZZ_SCALE=N multiplies the property runs of the control-input fuzzers (default 1). */
const SCALE = Math.max(1, Number(process.env.FUZZ_SCALE ?? 1) || 1);
const line = (words: readonly string[]) => fc.array(fc.constantFrom(...words), { minLength: 0, maxLength: 12 }).map((w) => w.join(" "));
const mutatedLine = (base: readonly string[], words: readonly string[]) =>
  fc.oneof(
    line(words),
    fc.tuple(fc.constantFrom(...base), fc.nat(200), fc.string({ maxLength: 4 })).map(([l, at, s]) => l.slice(0, at % (l.length + 1)) + s + l.slice(at % (l.length + 1))),
    fc.string({ maxLength: 40 }),
  );

const GOOD_CONFIG = FUZZ_CONFIG.trim().split("\n");
const GOOD_ROUTES = [
  "route add 10.0.0.0/8 via 192.0.2.1 dev eth1 metric 10",
  "route add blackhole 192.0.2.0/24",
  "route add 198.51.100.0/24 nexthop via 192.0.2.1 dev eth1 weight 2 nexthop via 192.0.2.9 dev eth2",
  "route add 10.1.0.0/16 via 192.0.2.7 dev eth3 table 100",
  "rule add from 10.1.0.0/16 lookup 100 priority 100",
];

function fibState(fib: Fib): string {
  const out: string[] = [];
  runIpCommand(fib, ["route", "show", "table", "all"], (l) => out.push(l));
  runIpCommand(fib, ["rule", "show"], (l) => out.push(l));
  return out.join("\n");
}

function oneLineError(e: unknown): string {
  const m = (e as Error).message;
  expect(m.length).toBeGreaterThan(0);
  expect(m).not.toMatch(/\n/);
  expect(e).not.toBeInstanceOf(RangeError); // not an internal failure
  expect(e).not.toBeInstanceOf(TypeError);
  expect((e as Error).name).not.toBe("RuntimeError"); // not a WebAssembly trap
  return m;
}

describe("control inputs, fuzzed", () => {
  it("parseConfig: a config with a random or mutated line parses or fails with one FILE:LINE: line", () => {
    fc.assert(
      fc.property(fc.nat(GOOD_CONFIG.length), mutatedLine(GOOD_CONFIG, CONFIG_WORDS), (at, bad) => {
        const lines = [...GOOD_CONFIG];
        lines.splice(at, 0, bad);
        try {
          parseConfig(lines.join("\n"), "fuzz.conf");
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
          expect(oneLineError(e)).toMatch(/^fuzz\.conf:\d+: /);
        }
      }),
      { numRuns: 3000 * SCALE },
    );
  });

  it("a config that parses starts a router (pcap links, no privileges): what the parser accepts, start applies", () => {
    fc.assert(
      fc.property(fc.nat(GOOD_CONFIG.length), mutatedLine(GOOD_CONFIG, CONFIG_WORDS), (at, bad) => {
        const lines = [...GOOD_CONFIG];
        lines.splice(at, 0, bad);
        let config;
        try {
          config = parseConfig(lines.join("\n"), "fuzz.conf");
        } catch {
          return;
        }
        if (config.links.some((l) => l.kind !== "pcap")) return; // TAP and AF_PACKET need privileges
        let router: Router | undefined;
        try {
          router = Router.start(config, { logger: new Logger("text", () => {}), buckets: 1024 });
          const out: string[] = [];
          runIpCommand(router.fib, ["route", "show", "table", "all"], (l) => out.push(l));
          expect(out.length).toBeGreaterThan(0);
        } catch (e) {
          throw new Error(`parseConfig accepted, Router.start refused: ${JSON.stringify(bad)}: ${(e as Error).message}`);
        } finally {
          router?.stop();
        }
      }),
      { numRuns: 300 * SCALE },
    );
  });

  it("wasmroute ip: a random command succeeds or fails with one line, and a failed command changes nothing", () => {
    const fib = new Fib();
    for (const l of GOOD_ROUTES) runIpCommand(fib, l.split(" "), () => {});
    fc.assert(
      fc.property(mutatedLine(GOOD_ROUTES, ROUTE_WORDS), (cmd) => {
        const before = fibState(fib);
        try {
          runIpCommand(fib, cmd.split(" ").filter((w) => w !== ""), () => {});
        } catch (e) {
          oneLineError(e);
          expect(fibState(fib)).toBe(before);
        }
      }),
      { numRuns: 3000 * SCALE },
    );
  });

  it("wasmroute ip -batch: a batch with a bad line applies nothing and names FILE:LINE", () => {
    fc.assert(
      fc.property(fc.array(mutatedLine(GOOD_ROUTES, ROUTE_WORDS), { minLength: 1, maxLength: 6 }), (lines) => {
        const fib = new Fib();
        for (const l of GOOD_ROUTES.slice(0, 2)) runIpCommand(fib, l.split(" "), () => {});
        const before = fibState(fib);
        try {
          runScript(fib, [...GOOD_ROUTES.slice(2), ...lines].join("\n"), "batch.txt", () => {});
        } catch (e) {
          expect(oneLineError(e)).toMatch(/^batch\.txt:\d+: /);
          expect(fibState(fib)).toBe(before);
        }
      }),
      { numRuns: 300 * SCALE },
    );
  });

  it("wasmroute ip --routes FILE (a real process): a refused command prints one line, exits 2 and leaves the file as it was", () => {
    const main = join(dirname(fileURLToPath(import.meta.url)), "..", "host", "cli", "main.ts");
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
    const dir = mkdtempSync(join(tmpdir(), "wr-fuzz-ip-"));
    try {
      const routes = join(dir, "routes.conf");
      const text = GOOD_ROUTES.join("\n") + "\n";
      writeFileSync(routes, text);
      fc.assert(
        fc.property(mutatedLine(GOOD_ROUTES, ROUTE_WORDS), (cmd) => {
          const words = cmd.split(" ").filter((w) => w !== "" && !w.startsWith("-") && !w.includes("/."));
          let status = 0, stderr = "";
          try {
            execFileSync(process.execPath, ["--import", tsx, main, "ip", "--routes", routes, ...words], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
          } catch (e) {
            const err = e as { status: number | null; stderr: string };
            status = err.status ?? -1;
            stderr = err.stderr;
          }
          if (status !== 0) {
            expect(status).toBe(2);
            expect(stderr.trimEnd().split("\n").filter((l) => !l.startsWith("usage:")).length).toBeLessThanOrEqual(2);
            expect(readFileSync(routes, "utf8")).toBe(text);
          } else writeFileSync(routes, text); // an accepted change: start the next case from the same file
          expect(readdirSync(dir)).toEqual(["routes.conf"]);
        }),
        { numRuns: 12 * SCALE },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("wasmroute sysctl: random arguments exit 0 or 2 with one line on stderr; a refused -w leaves the file as it was", () => {
    const dir = mkdtempSync(join(tmpdir(), "wr-fuzz-"));
    try {
      const conf = join(dir, "sysctl.conf");
      writeFileSync(conf, "net.ipv4.route.gc_elasticity = 8\n");
      const names = ["net.ipv4.route.gc_elasticity", "net.ipv4.route.max_size", "net.ipv4.route.gc_timeout", "net.ipv4.rt_cache_rebuild_count",
        "net.ipv4.route.rhash_entries", "net.ipv4.route.nope", "net.ipv4.ip_forward", "kernel.pid_max", "net.ipv4.route.flush"];
      const values = ["1", "0", "-1", "8", "4096", "1e9", "abc", "", "2147483648", "0x10", "1 2", "=", "4G"];
      const arg = fc.oneof(
        fc.tuple(fc.constantFrom(...names), fc.constantFrom(...values)).map(([n, v]) => `${n}=${v}`),
        fc.constantFrom(...names, "-w", "-a", "-n", "-N", "-q", "-e", "-p", "--ram", "--hz", "-x", "--", "4G", "100"),
        fc.string({ maxLength: 12 }),
      ).filter((a) => !a.startsWith("--c")); // only the scratch --conf: a -w must never write elsewhere
      fc.assert(
        fc.property(fc.array(arg, { maxLength: 5 }), fc.boolean(), (args, write) => {
          const before = readFileSync(conf, "utf8");
          const err: string[] = [];
          const argv = write ? ["--conf", conf, "-w", ...args] : ["--conf", conf, ...args];
          const rc = runSysctl(argv, { stdout: () => {}, stderr: (t) => err.push(t), stdin: () => "" });
          expect([0, 2]).toContain(rc);
          if (rc === 2) {
            const text = err.join("");
            expect(text.trimEnd().split("\n").length).toBe(1);
            expect(readFileSync(conf, "utf8")).toBe(before);
          }
          if (!existsSync(conf)) writeFileSync(conf, before);
        }),
        { numRuns: 500 * SCALE },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
