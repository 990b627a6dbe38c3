// `wasmroute run --sync-from-kernel main netns NS` fed by BIRD (#6), as a user runs it (root only):
//
//   h1 ──tap── wasmroute ──tap── h2 (203.0.113.5 on lo; BIRD A originates 203.0.113.0/24, next hop h2)
//                  ▲                │ veth 10.9.0.0/30, eBGP
//                  └── mirrors ─── ctl (BIRD B learns it and exports it into ctl's kernel table main)
//
// Before the session is up h1 cannot reach 203.0.113.5 (net unreachable from the router); once it is
// established the route appears in wasmroute and ping goes through; a SIGHUP reload leaves it; when A
// withdraws it, it goes again; stopping the router stops its monitor. A second case kills the router's
// `ip monitor` child and checks the resync, then kills the router and checks the monitor goes too. Every wait is bounded; BIRD, the router and the namespaces are removed in afterAll.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawn, spawnSync, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { canRunLive, createNetns, deleteNetns, ip } from "./lib/netns.ts";
import { parseConfig, formatConfig } from "../host/router/config.ts";

const run = canRunLive("kernel route sync", ["bird", "birdc", "ping"]) ? describe : describe.skip;

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a value, for at most `ms`; throws `what` after that. */
async function until<T>(what: string, ms: number, check: () => T | undefined, everyMs = 20): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A router and its namespaces; everything it starts is stopped by `stop()`. */
class Rig {
  readonly tag = `${(process.pid % 1000) + Math.floor(Math.random() * 9000)}`.padStart(4, "0").slice(-4);
  readonly h1 = `wr-sy-h1-${this.tag}`;
  readonly h2 = `wr-sy-h2-${this.tag}`;
  readonly ctl = `wr-sy-ctl-${this.tag}`;
  /** Made by start(), removed by stop(). */
  dir = "";
  get sock(): string {
    return join(this.dir, "router.sock");
  }
  get configPath(): string {
    return join(this.dir, "router.conf");
  }
  readonly children: ChildProcess[] = [];
  router: ChildProcess | undefined;
  stdout = "";
  stderr = "";
  /** More `wasmroute run` options. */
  readonly runArgs: string[];
  /** Mirror ctl's table main by a `sync from-kernel` config line instead of --sync-from-kernel. */
  readonly syncInConfig: boolean;

  constructor(runArgs: string[] = [], syncInConfig = false) {
    this.runArgs = runArgs;
    this.syncInConfig = syncInConfig;
  }

  config(extra: string[] = []): string {
    return [
      `link add p1 type tap kernel-name wr-sy-t1-${this.tag} netns ${this.h1} address 02:77:00:00:01:01`,
      `link add p2 type tap kernel-name wr-sy-t2-${this.tag} netns ${this.h2} address 02:77:00:00:02:01`,
      "addr add 10.201.1.1/24 dev p1",
      "addr add 10.201.2.1/24 dev p2",
      ...(this.syncInConfig ? [`sync from-kernel table main netns ${this.ctl}`] : []),
      ...extra,
      "",
    ].join("\n");
  }

  async start(): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), "wr-sy-"));
    for (const ns of [this.h1, this.h2, this.ctl]) {
      createNetns(ns);
      ip("-n", ns, "link", "set", "lo", "up");
    }
    writeFileSync(this.configPath, this.config());
    const child = spawn(process.execPath, [join(root, "bin", "wasmroute.mjs"), "run", "--config", this.configPath, "--name", `sy${this.tag}`, "--proc-dir", join(this.dir, "proc"), "--control", this.sock, ...(this.syncInConfig ? [] : ["--sync-from-kernel", "main", "netns", this.ctl]), ...this.runArgs], { stdio: ["ignore", "pipe", "pipe"] });
    this.router = child;
    child.stdout!.on("data", (d) => (this.stdout += d));
    child.stderr!.on("data", (d) => (this.stderr += d));
    await until(`the router's ready line (${this.stderr})`, 20_000, () => this.stdout.includes("ready") || (child.exitCode !== null ? (() => { throw new Error(`router exited: ${this.stderr}`); })() : undefined));
    for (const [ns, i, a] of [[this.h1, 1, "10.201.1.2/24"], [this.h2, 2, "10.201.2.2/24"]] as const) {
      ip("-n", ns, "addr", "add", a, "dev", `wr-sy-t${i}-${this.tag}`);
      ip("-n", ns, "link", "set", `wr-sy-t${i}-${this.tag}`, "up");
      ip("-n", ns, "route", "add", "default", "via", `10.201.${i}.1`);
    }
  }

  /** `wasmroute --control SOCK ip route` (table main). */
  routes(): string {
    return execFileSync(process.execPath, [join(root, "bin", "wasmroute.mjs"), "--control", this.sock, "ip", "route"], { encoding: "utf8", timeout: 10_000 });
  }

  /** One ping from h1, 1 s bound. */
  ping(dst: string): { ok: boolean; out: string } {
    const r = spawnSync("ip", ["netns", "exec", this.h1, "ping", "-n", "-c", "1", "-W", "1", dst], { encoding: "utf8", timeout: 5000 });
    return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
  }

  /** Starts a long-running command in ns (killed by stop()). */
  background(ns: string, cmd: string[]): ChildProcess {
    const c = spawn("ip", ["netns", "exec", ns, ...cmd], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    c.stderr!.on("data", (d) => (err = (err + d).slice(-2000)));
    c.on("exit", (code) => { if (code) this.stderr += `[${cmd[0]} in ${ns} exited ${code}: ${err}]`; });
    this.children.push(c);
    return c;
  }

  /** Sends SIGHUP after rewriting the config; resolves when the router logged the reload. */
  async reload(extra: string[]): Promise<void> {
    writeFileSync(this.configPath, this.config(extra));
    const before = this.stderr.length;
    this.router!.kill("SIGHUP");
    await until("the reload log line", 10_000, () => /config reload/.test(this.stderr.slice(before)));
  }

  async stop(): Promise<void> {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
    const r = this.router;
    if (r && r.exitCode === null && r.signalCode === null) {
      await new Promise<void>((resolve) => {
        const k = setTimeout(() => r.kill("SIGKILL"), 5000);
        r.once("exit", () => { clearTimeout(k); resolve(); });
        r.kill("SIGTERM");
      });
    }
    await sleep(100);
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    for (const ns of [this.h1, this.h2, this.ctl]) deleteNetns(ns);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

const TIMERS = "connect retry time 1; connect delay time 1; error wait time 1, 2; hold time 6; keepalive time 2;";

run("--sync-from-kernel fed by BIRD over BGP", () => {
  const rig = new Rig();
  const birdA = () => join(rig.dir, "a.ctl");
  const birdB = () => join(rig.dir, "b.ctl");
  const birdc = (sock: () => string, ...cmd: string[]) => spawnSync("birdc", ["-s", sock(), ...cmd], { encoding: "utf8", timeout: 5000 }).stdout ?? "";

  beforeAll(async () => {
    await rig.start();
    // h2 owns 203.0.113.5; A speaks BGP to ctl over a veth; ctl has an address in h2's subnet (a veth
    // pair of its own), so the next hop 10.201.2.2 that A announces is on-link there and the kernel takes the route.
    ip("-n", rig.h2, "addr", "add", "203.0.113.5/32", "dev", "lo");
    ip("link", "add", `wr-sy-va-${rig.tag}`, "netns", rig.h2, "type", "veth", "peer", "name", `wr-sy-vb-${rig.tag}`, "netns", rig.ctl);
    ip("-n", rig.h2, "addr", "add", "10.9.0.1/30", "dev", `wr-sy-va-${rig.tag}`);
    ip("-n", rig.h2, "link", "set", `wr-sy-va-${rig.tag}`, "up");
    ip("-n", rig.ctl, "addr", "add", "10.9.0.2/30", "dev", `wr-sy-vb-${rig.tag}`);
    ip("-n", rig.ctl, "link", "set", `wr-sy-vb-${rig.tag}`, "up");
    ip("-n", rig.ctl, "link", "add", `wr-sy-vc-${rig.tag}`, "type", "veth", "peer", "name", `wr-sy-vd-${rig.tag}`);
    ip("-n", rig.ctl, "addr", "add", "10.201.2.254/24", "dev", `wr-sy-vc-${rig.tag}`);
    ip("-n", rig.ctl, "link", "set", `wr-sy-vc-${rig.tag}`, "up");
    ip("-n", rig.ctl, "link", "set", `wr-sy-vd-${rig.tag}`, "up");
    writeFileSync(join(rig.dir, "a.conf"), [
      "router id 10.9.0.1;",
      "protocol device { scan time 1; }",
      "protocol static st { ipv4; route 203.0.113.0/24 unreachable; }",
      `protocol bgp b { local 10.9.0.1 as 65001; neighbor 10.9.0.2 as 65002; ${TIMERS} ipv4 { import none; export where proto = "st"; next hop address 10.201.2.2; }; }`,
      "",
    ].join("\n"));
    writeFileSync(join(rig.dir, "b.conf"), [
      "router id 10.9.0.2;",
      "protocol device { scan time 1; }",
      "protocol kernel { ipv4 { import none; export all; }; }",
      `protocol bgp a { local 10.9.0.2 as 65002; neighbor 10.9.0.1 as 65001; ${TIMERS} ipv4 { import all; export none; }; }`,
      "",
    ].join("\n"));
  }, 60_000);

  afterAll(async () => {
    await rig.stop();
  }, 30_000);

  it("mirrors what BIRD exports: traffic follows the route, a reload keeps it, a withdrawal removes it", async () => {
    // No route yet: the router answers net unreachable.
    expect(rig.routes()).not.toContain("203.0.113.0/24");
    const before = rig.ping("203.0.113.5");
    expect(before.ok).toBe(false);
    expect(before.out).toMatch(/From 10\.201\.1\.1 .*(Net Unreachable|Destination Net Unreachable)/i);

    rig.background(rig.h2, ["bird", "-f", "-c", join(rig.dir, "a.conf"), "-s", birdA(), "-P", join(rig.dir, "a.pid")]);
    rig.background(rig.ctl, ["bird", "-f", "-c", join(rig.dir, "b.conf"), "-s", birdB(), "-P", join(rig.dir, "b.pid")]);
    const established = await until("BGP Established", 30_000, () => (/\sa\s+BGP\s.*Established/.test(birdc(birdB, "show", "protocols")) ? Date.now() : undefined), 50);
    // Timed by ping (a failing one returns at once with net unreachable), not by the control client,
    // whose process start alone takes longer than the mirror.
    const inKernel = await until("the route in ctl's kernel table", 10_000, () => (ip("-n", rig.ctl, "route", "show", "203.0.113.0/24").includes("via 10.201.2.2") ? Date.now() : undefined), 5);
    const forwarded = await until("a ping through the new route", 10_000, () => (rig.ping("203.0.113.5").ok ? Date.now() : undefined), 0);
    const line = rig.routes().split("\n").find((l) => l.startsWith("203.0.113.0/24"));
    expect(line).toMatch(/^203\.0\.113\.0\/24 via 10\.201\.2\.2 dev p2 proto bird metric 32/);
    console.log(`kernel-sync: BGP established (seen by birdc, polled every 50 ms) → route in ctl's kernel ${inKernel - established} ms → first ping through wasmroute answered ${forwarded - established} ms`);

    // SIGHUP with a changed config: the mirrored route stays, and is not taken for a config route.
    await rig.reload(["route add 198.51.100.0/24 via 10.201.2.2"]);
    const afterReload = rig.routes();
    expect(afterReload).toMatch(/^203\.0\.113\.0\/24 via 10\.201\.2\.2 dev p2 proto bird metric 32/m);
    expect(afterReload).toContain("198.51.100.0/24 via 10.201.2.2 dev p2");
    expect(rig.ping("203.0.113.5").ok).toBe(true);

    // A withdraws: the route leaves ctl's kernel and wasmroute, and h1 gets net unreachable again.
    expect(birdc(birdA, "disable", "st")).toMatch(/disabled/);
    await until("the withdrawal in wasmroute", 30_000, () => !rig.routes().includes("203.0.113.0/24"));
    expect(ip("-n", rig.ctl, "route", "show", "203.0.113.0/24")).toBe("");
    const after = rig.ping("203.0.113.5");
    expect(after.ok).toBe(false);
    expect(after.out).toMatch(/Net Unreachable/i);
    expect(rig.stderr).not.toMatch(/kernel_sync_lost|kernel sync .* lost/);
    // Stopping the router (SIGTERM) stops its monitor.
    const monitor = spawnSync("ps", ["-o", "pid=,args=", "--ppid", String(rig.router!.pid)], { encoding: "utf8" }).stdout.trim();
    expect(monitor).toMatch(/ip -n wr-sy-ctl-\d+ -4 -o -d monitor route/);
    const r = rig.router!;
    await new Promise<void>((resolve) => { r.once("exit", () => resolve()); r.kill("SIGTERM"); });
    await until("the monitor gone", 10_000, () => spawnSync("kill", ["-0", monitor.split(/\s+/)[0]!]).status !== 0);
  }, 150_000);
});

run("sync from-kernel (config line) when its monitor dies", () => {
  const metricsPort = 20_000 + Math.floor(Math.random() * 20_000);
  const rig = new Rig(["--metrics", `127.0.0.1:${metricsPort}`], true);

  beforeAll(async () => {
    await rig.start();
    ip("-n", rig.ctl, "link", "add", `wr-sy-vc-${rig.tag}`, "type", "veth", "peer", "name", `wr-sy-vd-${rig.tag}`);
    ip("-n", rig.ctl, "addr", "add", "10.201.2.254/24", "dev", `wr-sy-vc-${rig.tag}`);
    ip("-n", rig.ctl, "link", "set", `wr-sy-vc-${rig.tag}`, "up");
    ip("-n", rig.ctl, "link", "set", `wr-sy-vd-${rig.tag}`, "up");
  }, 60_000);

  afterAll(async () => {
    await rig.stop();
  }, 30_000);

  it("logs the loss, retries, resyncs by diff, and leaves no child behind", async () => {
    ip("-n", rig.ctl, "route", "add", "192.0.2.0/26", "via", "10.201.2.2", "proto", "zebra", "metric", "20");
    ip("-n", rig.ctl, "route", "add", "192.0.2.64/26", "via", "10.201.2.2");
    await until("both routes mirrored", 30_000, () => rig.routes().includes("192.0.2.0/26") && rig.routes().includes("192.0.2.64/26"));
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain(`wasmroute_sync_routes{table="main",netns="${rig.ctl}"} 2`);
    expect(metrics).toContain(`wasmroute_sync_up{table="main",netns="${rig.ctl}"} 1`);
    const monitor = () => spawnSync("ps", ["-o", "pid=,args=", "--ppid", String(rig.router!.pid)], { encoding: "utf8" }).stdout.trim();
    const first = monitor();
    expect(first).toMatch(/ip -n wr-sy-ctl-\d+ -4 -o -d monitor route/);
    process.kill(Number(first.split(/\s+/)[0]), "SIGKILL");
    // While no monitor runs: one route goes, one comes, one changes.
    ip("-n", rig.ctl, "route", "del", "192.0.2.64/26");
    ip("-n", rig.ctl, "route", "add", "192.0.2.128/26", "via", "10.201.2.2");
    ip("-n", rig.ctl, "route", "replace", "192.0.2.0/26", "via", "10.201.2.3", "proto", "zebra", "metric", "20");
    await until("the loss in the log", 15_000, () => /kernel sync with kernel table main of netns wr-sy-ctl-\d+ lost \(ip monitor exited \(SIGKILL\)\); retrying in 1 s/.test(rig.stderr));
    await until("the resync", 30_000, () => /resynced with kernel table main.*added=1 replaced=1 removed=1/.test(rig.stderr));
    const routes = rig.routes();
    expect(routes).toContain("192.0.2.0/26 via 10.201.2.3 dev p2 proto zebra metric 20");
    expect(routes).toContain("192.0.2.128/26 via 10.201.2.2 dev p2");
    expect(routes).not.toContain("192.0.2.64/26");
    // Live again after the resync.
    ip("-n", rig.ctl, "route", "del", "192.0.2.128/26");
    await until("the delete after the resync", 20_000, () => !rig.routes().includes("192.0.2.128/26"));
    const second = monitor();
    expect(second).toMatch(/monitor route/);
    // A router killed without a chance to stop still takes its monitor with it (PR_SET_PDEATHSIG).
    const pid = Number(second.split(/\s+/)[0]);
    const r = rig.router!;
    await new Promise<void>((resolve) => { r.once("exit", () => resolve()); r.kill("SIGKILL"); });
    await until("the monitor gone", 10_000, () => spawnSync("kill", ["-0", String(pid)]).status !== 0);
  }, 120_000);
});

describe("--sync-from-kernel options and sync lines", () => {
  it("parses, writes back and refuses sync lines", () => {
    const base = "link add p1 type pcap\n";
    const c = parseConfig(`${base}sync from-kernel table main netns wr-rtd\nsync from-kernel table 100\n`, "r.conf");
    expect(c.syncs).toEqual([{ table: 254, netns: "wr-rtd", line: 2 }, { table: 100, netns: undefined, line: 3 }]);
    expect(formatConfig(c).slice(-2)).toEqual(["sync from-kernel table main netns wr-rtd", "sync from-kernel table 100"]);
    for (const [line, msg] of [
      ["sync from-kernel netns x", /^r\.conf:2: "sync from-kernel" needs "table TABLE"$/],
      ["sync to-kernel table main", /^r\.conf:2: expected "sync from-kernel table TABLE \[netns NS\]", got "sync to-kernel"$/],
      ["sync from-kernel table mian", /^r\.conf:2: /],
      ["sync from-kernel table main netns a/b", /^r\.conf:2: invalid netns name "a\/b"$/],
      ["sync from-kernel table main proto bird", /^r\.conf:2: unknown word "proto" in "sync from-kernel"/],
      ["sync from-kernel table main\nsync from-kernel table 254 netns y", /^r\.conf:3: table main is already mirrored \(line 2\): one source per table$/],
    ] as const) expect(() => parseConfig(`${base}${line}\n`, "r.conf"), line).toThrow(msg);
  });

  it("refuses, at start, a sync line whose namespace does not exist", () => {
    const dir = mkdtempSync(join(tmpdir(), "wr-sy-"));
    try {
      const conf = join(dir, "r.conf");
      writeFileSync(conf, "link add p1 type pcap\nsync from-kernel table main netns wr-sy-no-such-ns\n");
      const r = spawnSync(process.execPath, [join(root, "bin", "wasmroute.mjs"), "run", "--config", conf, "--control", "none", "--proc-dir", join(dir, "proc")], { encoding: "utf8", timeout: 20_000 });
      expect(r.status).toBe(2);
      expect(r.stderr.trim()).toBe(`${conf}:2: network namespace "wr-sy-no-such-ns" does not exist (see ip netns list)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  const runWith = (...args: string[]) => spawnSync(process.execPath, [join(root, "bin", "wasmroute.mjs"), "run", "--config", "/nonexistent.conf", ...args], { encoding: "utf8", timeout: 20_000 });
  it("refuses a bad table or a missing namespace with one clear line, before starting anything", () => {
    const cases: [string[], RegExp][] = [
      [["--sync-from-kernel", "main", "netns", "wr-sy-no-such-ns"], /^wasmroute run: --sync-from-kernel: network namespace "wr-sy-no-such-ns" does not exist \(see ip netns list\)$/m],
      [["--sync-from-kernel", "mian"], /^wasmroute run: --sync-from-kernel: "mian" is not a table \(a number, or main, default, local\)$/m],
      [["--sync-from-kernel", "main", "netns"], /^wasmroute run: --sync-from-kernel main: expected "netns NS", got "netns"$/m],
      [["--sync-from-kernel"], /^wasmroute run: option --sync-from-kernel needs a value$/m],
      [["--sync-from-kernel", "main", "--sync-from-kernel", "254"], /^wasmroute run: --sync-from-kernel: table 254 is given twice: one source per table$/m],
    ];
    for (const [args, message] of cases) {
      const r = runWith(...args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  }, 120_000);
});
