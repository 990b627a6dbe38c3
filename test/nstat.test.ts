// `wasmroute nstat` (host/cli/nstat-command.ts) against Debian's iproute2 nstat (6.1).
//
// Both read the same directory written by writeProcDir (host/router/proc-dir.ts): iproute2's nstat with
// PROC_ROOT=DIR (it opens $PROC_ROOT/net/netstat, net/snmp6, net/snmp, net/sctp/snmp), ours with
// --proc DIR. Each keeps its own history file (NSTAT_HISTORY in a temporary directory), started from
// the same bytes, so that a sequence of runs can be compared step by step: stdout, exit status, the
// history file afterwards, and stderr (with nstat's "nstat:" prefix read as ours).
// No root needed; CI must have iproute2's nstat.
import { describe, it, expect, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultHistoryPath, runNstat, NSTAT_DEFAULT_DIR } from "../host/cli/nstat-command.ts";
import { fnmatch } from "../host/cli/c-text.ts";
import { writeProcDir, type ProcSnapshot } from "../host/router/proc-dir.ts";
import { IPEXT_FIELDS, IP_FIELDS, SNMP_COUNT, UDP_FIELDS, snmpIndex } from "../host/router/snmp.ts";
import { newRtCacheCounters } from "../host/cache/stat.ts";

const tmp: string[] = [];
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "wr-nstat-"));
  tmp.push(d);
  return d;
}

const hasNstat = spawnSync("nstat", ["-V"]).error === undefined;
if (process.env.CI && !hasNstat) throw new Error("CI must compare wasmroute nstat with iproute2's nstat (apt-get install iproute2)");

type Counters = Partial<Record<string, bigint | number>>;

/** A counter array from "BlockField" names (IpForwDatagrams, IcmpMsgOutType3, WrDropNoRoute …). */
function counters(c: Counters): BigUint64Array {
  const v = new BigUint64Array(SNMP_COUNT);
  for (const [k, val] of Object.entries(c)) {
    const m = /^(IpExt|IcmpMsg|Icmp|Ip|Udp|TcpExt|WrDrop)(.+)$/.exec(k)!;
    v[snmpIndex(m[1] as "Ip", m[2]!)] = BigInt(val!);
  }
  return v;
}

function snap(c: Counters, forwarding: 1 | 2 = 1): ProcSnapshot {
  return { snmp: counters(c), forwarding, rtCache: [newRtCacheCounters()], arpCache: [new Array(13).fill(0)] };
}

/** A busy router: every block has non-zero counters; > 16 ICMP types; a value beyond 2^32. */
const S1: Counters = {
  IpInReceives: 5_000_000_123n, IpInHdrErrors: 3, IpForwDatagrams: 4_999_000_000n, IpInDelivers: 900, IpOutRequests: 850,
  IpOutNoRoutes: 2, IpFragOKs: 4, IpFragCreates: 8,
  IpExtInNoRoutes: 11, IpExtInOctets: 123456789012n, IpExtOutOctets: 98765432109n, IpExtInBcastPkts: 5, IpExtInNoECTPkts: 5_000_000_000n,
  IcmpInMsgs: 40, IcmpInDestUnreachs: 10, IcmpInEchos: 30, IcmpOutMsgs: 60, IcmpOutDestUnreachs: 20, IcmpOutTimeExcds: 10,
  IcmpOutEchoReps: 30, IcmpOutRateLimitHost: 6,
  UdpInDatagrams: 12, UdpNoPorts: 12,
  TcpExtIPReversePathFilter: 9,
  WrDropRunt: 1, WrDropNoRoute: 2, WrDropTtlExpired: 10, WrDropNeighFailed: 3, WrDropReason31: 1,
  ...Object.fromEntries(Array.from({ length: 18 }, (_, t) => [`IcmpMsgInType${t * 7}`, t + 1])),
  IcmpMsgOutType0: 30, IcmpMsgOutType3: 20, IcmpMsgOutType11: 10,
};
/** S1 later: most counters grew, two went down (a restart of that worker's counting, say), types came and went. */
const S2: Counters = {
  ...S1,
  IpInReceives: 5_000_001_123n, IpForwDatagrams: 4_999_000_900n, IpInDelivers: 1000, IpOutRequests: 950,
  IpExtInOctets: 123456889012n, IpExtOutOctets: 98765532109n, IpExtInNoECTPkts: 5_000_001_000n,
  IcmpInMsgs: 50, IcmpInEchos: 40, IcmpOutMsgs: 70, IcmpOutEchoReps: 40,
  IcmpMsgInType0: 0, IcmpMsgInType8: 4, IcmpMsgOutType0: 40,
  UdpNoPorts: 5, // went down: "(overflow)"
  WrDropTtlExpired: 12, WrDropNoRoute: 0,
};
/** Later still. */
const S3: Counters = { ...S2, IpInReceives: 5_000_002_000n, IpForwDatagrams: 4_999_001_700n, WrDropTtlExpired: 20, UdpNoPorts: 6 };

interface Result {
  stdout: string;
  stderr: string;
  status: number;
  history: string | undefined;
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of ["PROC_NET_SNMP", "PROC_NET_NETSTAT", "PROC_NET_SNMP6", "PROC_NET_SCTP_SNMP", "POSIXLY_CORRECT"]) delete env[k];
  return env;
}

function readHistory(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, "latin1") : undefined;
}

function runReal(dir: string, hist: string, args: string[]): Result {
  const r = spawnSync("nstat", args, { env: cleanEnv({ PROC_ROOT: dir, NSTAT_HISTORY: hist }), encoding: "latin1" });
  return { stdout: r.stdout, stderr: r.stderr.replaceAll(/^nstat: /gm, "wasmroute nstat: "), status: r.status ?? -1, history: readHistory(hist) };
}

function runOurs(dir: string, hist: string, args: string[]): Result {
  let stdout = "";
  let stderr = "";
  const status = runNstat(["--proc", dir, ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) }, { env: { NSTAT_HISTORY: hist } });
  return { stdout, stderr, status, history: readHistory(hist) };
}

interface Step {
  /** The counters the router shows during this run (undefined: leave the directory as it is). */
  state?: Counters;
  args: string[];
  /** Bytes put in the history file before this run (undefined: keep the previous run's). */
  history?: string;
  /** Set the history file's mtime (seconds since the epoch) before this run. */
  mtime?: number;
}

/** Runs the steps with both tools, each on its own directory and history; returns ours. */
function compare(steps: Step[]): Result[] {
  const realDir = tempDir();
  const ourDir = tempDir();
  const realHist = join(realDir, "history");
  const ourHist = join(ourDir, "history");
  const results: Result[] = [];
  for (const s of steps) {
    if (s.state) {
      writeProcDir(realDir, snap(s.state));
      writeProcDir(ourDir, snap(s.state));
    }
    if (s.history !== undefined) {
      writeFileSync(realHist, s.history, { mode: 0o600 });
      writeFileSync(ourHist, s.history, { mode: 0o600 });
    }
    if (s.mtime !== undefined) {
      utimesSync(realHist, s.mtime, s.mtime);
      utimesSync(ourHist, s.mtime, s.mtime);
    }
    const real = runReal(realDir, realHist, s.args);
    const ours = runOurs(ourDir, ourHist, s.args);
    expect({ args: s.args, ...ours }).toEqual({ args: s.args, ...real });
    results.push(ours);
  }
  return results;
}

describe.runIf(hasNstat)("wasmroute nstat against iproute2 nstat 6.1 (same files, same history)", () => {
  const OPTION_SETS: string[][] = [
    [], ["-a"], ["-z"], ["-s"], ["-n"], ["-r"], ["-j"], ["-j", "-p"], ["-a", "-z", "-j", "-p"], ["-azs"], ["--zeros", "--ignore"],
    ["--pr", "--js"], ["Ip*"], ["-z", "Icmp*Out*", "WrDrop[A-N]*"], ["Udp*", "-z"], ["IcmpMsg*Type?"], ["[!I]*"], ["\\Ip*", "*Octets"],
    ["-a", "NoSuchCounter"], ["-z", "-j", "Ip[[:upper:]]*Errors"], ["-z", "--", "WrDrop*"], ["-", "-z"],
  ];

  it.each(OPTION_SETS.map((a) => [a.join(" ") || "(no options)", a]))("first run: %s", (_name, args) => {
    const [r] = compare([{ state: S1, args: args as string[] }]);
    const a = args as string[];
    if (a.includes("-n")) expect(r!.stdout).toBe("");
    else expect(r!.stdout).toMatch(a.some((x) => x.startsWith("-j") || x.startsWith("--js")) ? /^\{/ : /^#kernel\n/);
    if (!a.some((x) => /^-\w*s|^--noupdate/.test(x))) expect(r!.history).toMatch(/^#kernel\n/);
  });

  it("second run shows the increases (decreases as overflow), for several option sets", () => {
    const seen: string[] = [];
    for (const second of [[], ["-z"], ["-j"], ["-j", "-p", "-z"], ["-a"], ["-s"], ["Icmp*"], ["-z", "Udp*"]]) {
      seen.push(compare([{ state: S1, args: [] }, { state: S2, args: second }, { args: [] }])[1]!.stdout);
    }
    expect(seen[0]).toContain("IpInReceives                    1000               0.0\n");
    expect(seen[1]).toContain("UdpNoPorts                      0                  0.0 (overflow)\n");
    expect(seen[2]).toContain('"IcmpMsgInType8":4,');
  });

  it("with patterns the unmatched counters keep their old history value, so their increase accumulates", () => {
    const r = compare([
      { state: S1, args: ["-n"] },
      { state: S2, args: ["Ip*"] },
      { state: S3, args: ["-z", "Icmp*", "Udp*"] },
      { args: [] },
      { args: ["-z"] },
    ]);
    expect(r[3]!.stdout).toContain("WrDropTtlExpired                10                 0.0\n");
  });

  it("-s keeps the history, -n only writes it, -r starts it again, -a -s leaves no history file", () => {
    compare([
      { state: S1, args: ["-s"] },
      { state: S2, args: ["-s", "-z"] },
      { args: ["-n"] },
      { state: S3, args: [] },
      { args: ["-r", "-z"] },
      { args: ["-r", "-a", "-s"] },
    ]);
    const dir = tempDir();
    writeProcDir(dir, snap(S1));
    const hist = join(dir, "h");
    expect(runOurs(dir, hist, ["-a", "-s"]).history).toBeUndefined();
    expect(runOurs(dir, hist, ["-s"]).history).toBe("");
    expect(statSync(hist).mode & 0o777).toBe(0o600);
  });

  it("a history of the other tool is read alike (same #kernel format, same rules)", () => {
    const realDir = tempDir();
    writeProcDir(realDir, snap(S1));
    const h = join(realDir, "h");
    runReal(realDir, h, []);
    const fromReal = readFileSync(h, "latin1");
    expect(fromReal.startsWith("#kernel\n")).toBe(true);
    compare([{ state: S2, history: fromReal, args: ["-z"] }]);
    const ourDir = tempDir();
    writeProcDir(ourDir, snap(S1));
    const h2 = join(ourDir, "h");
    runOurs(ourDir, h2, []);
    expect(readFileSync(h2, "latin1")).toBe(fromReal);
  });

  it("stale, source-only, aged-out and odd histories", () => {
    const entries = "IpInReceives 5 0.0\nIcmpMsgInType0 0\nUdpNoPorts 99 1.5\nIpForwarding 1\nIpDefaultTTL 64\n";
    expect(compare([{ state: S1, history: `#other\n${entries}`, args: [] }])[0]!.stderr).toBe("wasmroute nstat: history is stale, ignoring it.\n");
    compare([{ state: S1, history: "#other\n", args: [] }, { args: ["-j"] }]); // no entries: the source is kept
    compare([{ state: S1, history: `#kernel\n${entries}`, args: ["-z"] }]);
    const aged = compare([{ state: S1, history: `#kernel\n${entries}`, mtime: 1000, args: [] }]); // older than the uptime
    expect(aged[0]!.stderr).toBe("wasmroute nstat: history is aged out, resetting\n");
    compare([{ state: S1, history: `#kernel\n${entries}`, mtime: 1000, args: ["-a"] }]); // -a: no age check
    compare([{ state: S1, history: `#a\n#kernel\n${entries}`, args: [] }]);
    compare([{ state: S1, history: "#kernel\nIpInReceives\t7   \n  UdpNoPorts 1e3\nIpForwDatagrams -1\n", args: ["-z"] }]);
    compare([{ state: S1, history: `#kernel\nUdpNoPorts 1\nIpInReceives 5\n`, args: [] }]); // out of order: the cursor only goes forward
  });

  it("JSON prints values as C unsigned int (modulo 2^32), as nstat 6.1 does", () => {
    const [r] = compare([{ state: { IpInReceives: 5_000_000_000n, UdpNoPorts: (1n << 64n) - 1n }, args: ["-j"] }]);
    expect(r!.stdout).toBe('{"kernel":{"IpInReceives":705032704,"UdpNoPorts":4294967295}}\n');
  });

  it("an all-zero router, with and without -z", () => {
    compare([{ state: {}, args: [] }, { args: ["-z"] }, { args: ["-j", "-p"] }, { args: ["-a", "-j"] }]);
  });

  it("a directory without statistics: nstat's output, then exit 1 and a hint", () => {
    const dir = tempDir();
    const real = runReal(join(dir, "missing"), join(dir, "h1"), []);
    const ours = runOurs(join(dir, "missing"), join(dir, "h2"), []);
    expect(ours.stdout).toBe(real.stdout);
    expect(ours.stdout).toBe("#kernel\n");
    expect(ours.history).toBe(real.history);
    expect(ours.status).toBe(1);
    expect(ours.stderr).toMatch(/no statistics in .*missing/);
  });
});

describe("wasmroute nstat (ours alone)", () => {
  it("text layout: %-32s%-16llu%6.1f, deltas, overflow", () => {
    const dir = tempDir();
    const hist = join(dir, "h");
    writeProcDir(dir, snap({ IpInReceives: 10, UdpNoPorts: 7, IcmpMsgOutType255: 1 }));
    expect(runOurs(dir, hist, []).stdout).toBe(
      "#kernel\n" +
        "IpInReceives                    10                 0.0\n" +
        "IcmpMsgOutType255               1                  0.0\n" +
        "UdpNoPorts                      7                  0.0\n",
    );
    writeProcDir(dir, snap({ IpInReceives: 15, UdpNoPorts: 3, IcmpMsgOutType255: 1 }));
    const line = (name: string, v: number, tail = ""): string => `${name.padEnd(32)}${String(v).padEnd(16)}   0.0${tail}\n`;
    expect(runOurs(dir, hist, ["-z", "Ip*", "Udp*"]).stdout).toBe(
      "#kernel\n" +
        IP_FIELDS.map((f) => line(`Ip${f}`, f === "InReceives" ? 5 : 0)).join("") +
        UDP_FIELDS.map((f) => line(`Udp${f}`, 0, f === "NoPorts" ? " (overflow)" : "")).join("") +
        IPEXT_FIELDS.map((f) => line(`IpExt${f}`, 0)).join(""), // "Ip*" matches IpExt… too
    );
    // Without -z a counter that went down is not shown (its increase is 0); the history moved on.
    expect(runOurs(dir, hist, []).stdout).toBe("#kernel\n");
  });

  it("rows of -z in the kernel's order: snmp (Ip, Icmp, IcmpMsg, Udp) then netstat (TcpExt, IpExt, WrDrop)", () => {
    const dir = tempDir();
    writeProcDir(dir, snap({ IcmpMsgInType3: 1 }));
    const r = runOurs(dir, join(dir, "h"), ["-a", "-s", "-z"]);
    const names = r.stdout.split("\n").slice(1, -1).map((l) => l.split(" ")[0]);
    expect(names[0]).toBe("IpInReceives"); // IpForwarding and IpDefaultTTL are never shown
    expect(names).toContain("IcmpMsgInType3");
    expect(names.indexOf("UdpMemErrors")).toBeLessThan(names.indexOf("TcpExtIPReversePathFilter"));
    expect(names.indexOf("IpExtReasmOverlaps")).toBeLessThan(names.indexOf("WrDropRunt"));
    expect(names.at(-1)).toBe("WrDropReason31");
    expect(names.length).toBe(17 + 29 + 1 + 9 + 1 + 18 + 32);
    expect(names.some((n) => n!.startsWith("Tcp") && !n!.startsWith("TcpExt"))).toBe(false);
  });

  it("options: -h, -V, bad options, -d refused, -t checked", () => {
    const run = (args: string[]): Result => runOurs(tempDir(), join(tempDir(), "h"), args);
    const h = run(["-h"]);
    expect([h.status, h.stdout]).toEqual([0, ""]);
    expect(h.stderr).toContain("Usage: wasmroute nstat [--proc DIR]");
    expect(h.stderr).toContain(NSTAT_DEFAULT_DIR);
    expect(run(["-V"]).stdout).toMatch(/^nstat utility, wasmroute \(iproute2-6\.1\.0 nstat\)\n$/);
    for (const [args, msg] of [
      [["-x"], "invalid option -- 'x'"],
      [["--bogus"], "unrecognized option '--bogus'"],
      [["--no"], "option '--no' is ambiguous; possibilities: '--nooutput' '--noupdate'"],
      [["--zeros=1"], "option '--zeros' doesn't allow an argument"],
      [["--scan"], "option '--scan' requires an argument"],
      [["-t"], "option requires an argument -- 't'"],
      [["-t", "0"], "invalid time constant divisor"],
      [["-d", "5"], "daemon mode is not supported"],
      [["--proc"], "option '--proc' requires an argument"],
    ] as [string[], string][]) {
      const r = run(args);
      expect([args, r.status, r.stdout]).toEqual([args, 2, ""]);
      expect(r.stderr).toContain(msg);
    }
    expect(run(["-d", "0", "-t", "5"]).status).toBe(1); // no daemon: runs (on an empty directory)
  });

  it("the default history file is per user and per statistics directory", () => {
    const dir = tempDir();
    writeProcDir(dir, snap({ IpInReceives: 1 }));
    const path = defaultHistoryPath(dir, process.getuid?.() ?? 0);
    expect(path).toMatch(/^\/tmp\/\.wasmroute-nstat\.u\d+-[0-9a-f]{12}$/);
    expect(defaultHistoryPath(`${dir}/`, 0)).toBe(defaultHistoryPath(dir, 0));
    expect(defaultHistoryPath(join(dir, "x"), 0)).not.toBe(defaultHistoryPath(dir, 0));
    try {
      const r = runNstat(["--proc", dir], { stdout: () => {}, stderr: () => {} }, { env: {} });
      expect(r).toBe(0);
      expect(readFileSync(path, "latin1")).toBe("#kernel\nIpInReceives                    1                  0.0\n");
    } finally {
      rmSync(path, { force: true });
    }
  });

  it("fnmatch as glibc's with flags 0", () => {
    const cases: [string, string, boolean][] = [
      ["Ip*", "IpInReceives", true], ["Ip*", "IcmpInMsgs", false], ["*Errors", "IpInHdrErrors", true],
      ["Ip?n*", "IpInDelivers", true], ["[A-J]*", "IcmpInMsgs", true], ["[!I]*", "IcmpInMsgs", false],
      ["[^I]*", "UdpNoPorts", true], ["\\Ip*", "IpX", true], ["Ip[", "Ip[", true], ["*[[:digit:]]", "IcmpMsgInType3", true],
      ["[]a]", "]", true], ["*", "", true], ["?", "", false], ["a*b*c", "aXbYc", true], ["a*b*c", "aXbY", false],
    ];
    for (const [p, s, want] of cases) expect([p, s, fnmatch(p, s)]).toEqual([p, s, want]);
  });

  it("runs as a process (stdout bytes, exit status)", () => {
    const dir = tempDir();
    writeProcDir(dir, snap({ WrDropNoRoute: 3 }));
    const r = spawnSync(process.execPath, ["--import", "tsx", join(import.meta.dirname, "..", "host", "cli", "nstat-command.ts"), "--proc", dir, "-a", "-s"], {
      encoding: "latin1",
      env: cleanEnv({ NSTAT_HISTORY: join(dir, "h") }),
    });
    expect([r.status, r.stdout, r.stderr]).toEqual([0, "#kernel\nWrDropNoRoute                   3                  0.0\n", ""]);
  });
});
