// `wasmroute run --user`: the router drops root after opening its ports, as a user runs it. The router
// runs in its own wr-pv- namespace between two hosts over TAPs, as nobody; the test reads every thread's
// credentials from /proc, pings through it, drives its control socket as root, watches its statistics
// directory, and reloads it with SIGHUP: a route, an AF_PACKET port in its own namespace (cap_net_raw
// kept), a TAP (kept cap_net_admin only when nobody can open /dev/net/tun) and a port in another
// namespace (refused, nothing applied). Bad --user values fail in one line before forwarding. Root only.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { canRunLive, createNetns, deleteNetns, ip } from "./lib/netns.ts";
import { Lab } from "./lib/lab.ts";
import { capBit, readTaskCredentials } from "../host/router/capabilities.ts";
import { unreachableThread } from "../host/router/privilege.ts";

const asRoot = canRunLive("wasmroute run --user nobody", ["ping", "ethtool"]) ? describe : describe.skip;
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "bin", "wasmroute.mjs");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NOBODY = 65534;

/** What the router should keep: cap_net_raw, and cap_net_admin only if nobody may open /dev/net/tun. */
function expectedKept(): bigint {
  let tunForAll = false;
  try {
    tunForAll = (statSync("/dev/net/tun").mode & 0o006) === 0o006; // nobody is neither its owner nor in its group
  } catch {
    // no tun device: taps cannot be made by anyone
  }
  return capBit("cap_net_raw") | (tunForAll ? capBit("cap_net_admin") : 0n);
}

/**
 * Whether user nobody can read this checkout, and so start wasmroute at all: a clone under a 0700
 * directory (`mktemp -d`) is root's alone. The router itself reads its code as root and drops later.
 */
function nobodyCanReadCheckout(): boolean {
  const files = [cli, join(root, "node_modules", "tsx", "package.json"), join(root, "host", "cli", "main.ts")];
  return spawnSync("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "sh", "-c", 'for f; do test -r "$f" || exit 1; done', "sh", ...files], { timeout: 10_000 }).status === 0;
}

function wasmroute(args: string[], opts: { asUser?: number } = {}) {
  const argv = opts.asUser !== undefined ? ["setpriv", `--reuid=${opts.asUser}`, `--regid=${opts.asUser}`, "--clear-groups", process.execPath, cli, ...args] : [process.execPath, cli, ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 30_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

asRoot("wasmroute run --user nobody: h1 — router as nobody — h2", () => {
  const routerArgs = ["--user", "nobody", "--log-format", "json"];
  const lab = new Lab({ kind: "tap", prefix: "wr-pv-", routerNetns: true, routerArgs });
  const control = join(lab.dir, "control.sock");
  routerArgs.push("--control", control);
  const h3 = `wr-pv-h3-${lab.tag}`;
  const c1 = lab.ifName("c", 1); // the router's side of a veth added by a reload
  const c2 = lab.ifName("c", 2);
  const kept = expectedKept();
  const ctl = (...args: string[]) => wasmroute(["--control", control, ...args]);

  beforeAll(async () => {
    chmodSync(lab.dir, 0o755); // nobody re-reads the config on SIGHUP and rewrites the statistics inside
    await lab.start();
  }, 60_000);
  afterAll(async () => {
    await lab.stop();
    deleteNetns(h3);
  });

  /** The router's one privileges_dropped log line. */
  const dropLine = () => {
    const lines = lab.stderr.split("\n").filter((l) => l.includes('"privileges_dropped"'));
    expect(lines).toHaveLength(1);
    return JSON.parse(lines[0]!);
  };

  /** Every thread of the router, from /proc, against what the drop promised. */
  const expectDropped = () => {
    const pid = lab.router!.pid!;
    const tasks = readTaskCredentials(pid);
    expect(tasks.length).toBeGreaterThan(3); // V8 and libuv threads too
    for (const t of tasks) {
      expect(t.uids).toEqual([NOBODY, NOBODY, NOBODY, NOBODY]);
      expect(t.gids).toEqual([NOBODY, NOBODY, NOBODY, NOBODY]);
      expect(t.groups).toEqual([NOBODY]);
      const caps = t.tid === pid ? kept : 0n;
      expect([t.tid, t.permitted, t.effective, t.inheritable, t.ambient]).toEqual([t.tid, caps, caps, 0n, 0n]);
    }
    // Node's inspector start thread blocks every signal: it alone keeps its bounding set and no_new_privs 0,
    // and the log line counts it.
    const reached = tasks.filter((t) => t.tid === pid || !unreachableThread(t));
    expect(tasks.length - reached.length).toBe(dropLine().unrestricted);
    for (const t of reached) expect([t.tid, t.bounding, t.noNewPrivs]).toEqual([t.tid, kept, true]);
  };

  it("logs one line saying whom it runs as and what it kept", () => {
    const e = dropLine();
    expect(e).toMatchObject({ level: "info", user: "nobody", uid: NOBODY, gid: NOBODY, groups: String(NOBODY) });
    expect(e.kept).toBe(kept & capBit("cap_net_admin") ? "cap_net_admin,cap_net_raw" : "cap_net_raw");
    expect(e.threads).toBeGreaterThan(3);
    expect(e.unrestricted).toBeLessThanOrEqual(1); // Node's inspector start thread, if this Node has one
  });

  it("runs every thread as nobody: the main thread holds exactly the kept set, the others nothing; bounding set and no_new_privs on all that take signals", () => {
    expectDropped();
  });

  it("still forwards: ping h1 → h2 through the router", () => {
    expect(lab.exec(lab.h1, ["ping", "-c", "3", "-i", "0.2", "-W", "2", "10.201.2.2"]).out).toMatch(/3 packets transmitted, 3 received/);
  });

  it("hands its control socket to nobody, mode 0600, and answers root on it", () => {
    const st = statSync(control);
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([NOBODY, NOBODY, 0o600]);
    const r = ctl("ip", "route");
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/^10\.201\.2\.0\/24 dev p2 proto kernel scope link src 10\.201\.2\.1/m);
    // the port counters are still read as nobody: the tap's kernel-side file was opened before the drop
    const link = ctl("ip", "-s", "link", "show", "dev", "p1");
    expect(link.status, link.err).toBe(0);
    const rx = link.out.split("\n")[3]!.trim().split(/\s+/).map(Number);
    expect(rx[1]).toBeGreaterThanOrEqual(3); // the pings
    expect(rx[4]).toBe(0); // nothing missed
  });

  it("keeps rewriting its statistics directory as nobody", async () => {
    const snmp = join(lab.procDir, "net", "snmp");
    const before = readFileSync(snmp, "utf8");
    expect(lab.exec(lab.h1, ["ping", "-c", "2", "-i", "0.2", "-W", "2", "10.201.2.2"]).out).toMatch(/2 received/);
    await sleep(1500);
    const after = readFileSync(snmp, "utf8");
    expect(after).not.toBe(before); // forwarded datagrams counted
    expect(statSync(snmp).uid).toBe(NOBODY);
    expect(statSync(join(lab.procDir, "net", "stat", "rt_cache")).uid).toBe(NOBODY);
    expect(statSync(lab.procDir).uid).toBe(0); // a --proc-dir the user named stays its owner's: only net/ is handed over
  });

  it("applies a SIGHUP that adds a route", async () => {
    const tail = await lab.reload(["route add 198.51.100.0/24 via 10.201.2.2"]);
    expect(tail).toMatch(/"config_reload"/);
    expect(ctl("ip", "route", "get", "198.51.100.7").out).toMatch(/198\.51\.100\.7 via 10\.201\.2\.2 dev p2/);
  });

  it("opens an AF_PACKET port added by SIGHUP in its own namespace (cap_net_raw kept) and forwards through it", async () => {
    createNetns(h3);
    ip("link", "add", c1, "netns", lab.r, "type", "veth", "peer", "name", c2, "netns", h3);
    ip("-n", lab.r, "link", "set", c1, "up");
    ip("-n", h3, "link", "set", "lo", "up");
    ip("-n", h3, "addr", "add", "10.201.3.2/24", "dev", c2);
    ip("-n", h3, "link", "set", c2, "up");
    ip("-n", h3, "route", "add", "default", "via", "10.201.3.1");
    const tail = await lab.reload(["route add 198.51.100.0/24 via 10.201.2.2", `link add p3 type packet dev ${c1}`, "addr add 10.201.3.1/24 dev p3"]);
    expect(tail).toMatch(/"config_reload"/);
    expect(lab.exec(h3, ["ping", "-c", "2", "-i", "0.2", "-W", "2", "10.201.3.1"]).out).toMatch(/2 received/);
    expect(lab.exec(h3, ["ping", "-c", "2", "-i", "0.2", "-W", "2", "10.201.1.2"]).out).toMatch(/2 received/);
  });

  it("refuses a SIGHUP that adds a port in another namespace (no cap_sys_admin): one line, nothing applied", async () => {
    const base = ["route add 198.51.100.0/24 via 10.201.2.2", `link add p3 type packet dev ${c1}`, "addr add 10.201.3.1/24 dev p3"];
    const tail = await lab.reload([...base, "route add 203.0.113.0/24 via 10.201.2.2", `link add p4 type packet dev ${c2} netns ${h3}`]);
    const failed = tail.split("\n").filter((l) => l.includes('"config_reload_failed"'));
    expect(failed).toHaveLength(1);
    expect(JSON.parse(failed[0]!).msg).toMatch(/router\.conf:\d+: link p4: netns wr-pv-h3-\d+ needs cap_sys_admin \(setns\), dropped after --user nobody; restart wasmroute to add it; nothing was reloaded/);
    expect(ctl("ip", "route").out).not.toMatch(/203\.0\.113/);
  });

  it("adds a TAP on SIGHUP only if it kept cap_net_admin (nobody can open /dev/net/tun); else one line, nothing applied", async () => {
    const base = ["route add 198.51.100.0/24 via 10.201.2.2", `link add p3 type packet dev ${c1}`, "addr add 10.201.3.1/24 dev p3"];
    const tap = lab.ifName("x", 1);
    const tail = await lab.reload([...base, "route add 203.0.113.0/24 via 10.201.2.2", `link add p5 type tap kernel-name ${tap}`]);
    const inRouterNs = spawnSync("ip", ["-n", lab.r, "link", "show", tap], { encoding: "utf8" }).status === 0;
    if (kept & capBit("cap_net_admin")) {
      expect(tail).toMatch(/"config_reload"/);
      expect(inRouterNs).toBe(true);
      expect(ctl("ip", "route").out).toMatch(/^203\.0\.113\.0\/24 via 10\.201\.2\.2/m);
    } else {
      expect(JSON.parse(tail.split("\n").find((l) => l.includes('"config_reload_failed"'))!).msg).toMatch(
        /router\.conf:\d+: link p5: a tap needs cap_net_admin and \/dev\/net\/tun, not kept after --user nobody; restart wasmroute to add it; nothing was reloaded/,
      );
      expect(inRouterNs).toBe(false);
      expect(ctl("ip", "route").out).not.toMatch(/203\.0\.113/);
    }
  });

  it("closes a port a SIGHUP removes", async () => {
    const tail = await lab.reload(["route add 198.51.100.0/24 via 10.201.2.2"]);
    expect(tail).toMatch(/"config_reload"/);
    expect(ctl("ip", "route").out).not.toMatch(/10\.201\.3\.0/);
    expect(lab.exec(h3, ["ping", "-c", "1", "-W", "1", "10.201.3.1"]).out).toMatch(/0 received/);
    expect(lab.exec(lab.h1, ["ping", "-c", "2", "-i", "0.2", "-W", "2", "10.201.2.2"]).out).toMatch(/2 received/);
  });

  it("has still no thread with more than it kept after the reloads, and stops cleanly on SIGTERM", async () => {
    expectDropped();
    expect(await lab.stop()).toBe(0);
  });
});

asRoot("wasmroute run --user: refusals, one line each, before forwarding", () => {
  const dir = mkdtempSync(join(tmpdir(), "wr-pv-bad-"));
  const conf = join(dir, "router.conf");
  beforeAll(() => {
    chmodSync(dir, 0o755);
    writeFileSync(conf, "link add p1 type pcap\naddr add 10.201.1.1/24 dev p1\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const start = (user: string, extra: string[] = []) => wasmroute(["run", "--config", conf, "--control", "none", "--proc-dir", join(dir, "proc"), "--user", user, ...extra]);

  it.each([
    ["wr-pv-nosuch", 'wasmroute run: --user wr-pv-nosuch: no such user "wr-pv-nosuch"'],
    ["nobody:wr-pv-nosuch", 'wasmroute run: --user nobody:wr-pv-nosuch: no such group "wr-pv-nosuch"'],
    ["4000000000", "wasmroute run: --user 4000000000: uid 4000000000 has no passwd entry; give its group too (--user 4000000000:GROUP)"],
    ["root", "wasmroute run: --user root: that is root; name an unprivileged user"],
  ])("--user %s", (user, line) => {
    const r = start(user);
    expect(r.status).toBe(2);
    expect(r.err).toBe(`${line}\n`);
    expect(r.out).not.toMatch(/ready/);
  });

  it("a malformed --user is an option error", () => {
    const r = start("nobody:");
    expect(r.status).toBe(2);
    expect(r.err.split("\n")[0]).toBe('wasmroute run: --user wants NAME[:GROUP], got "nobody:"');
  });

  // Started as nobody, so it needs a checkout nobody can read (CI's clone is; a clone under `mktemp -d` is not).
  it.skipIf(!nobodyCanReadCheckout())("needs root", () => {
    const r = wasmroute(["run", "--config", conf, "--control", "none", "--proc-dir", join(dir, "proc-u"), "--user", "nobody"], { asUser: NOBODY });
    expect(r.status).toBe(2);
    expect(r.err).toBe(`wasmroute run: --user needs root (running as uid ${NOBODY})\n`);
  });

  it("a statistics directory nobody cannot reach stops it after the drop, before forwarding", () => {
    const hidden = mkdtempSync(join(tmpdir(), "wr-pv-hidden-")); // 0700 root: nobody cannot enter it
    try {
      const r = wasmroute(["run", "--config", conf, "--control", "none", "--proc-dir", join(hidden, "proc"), "--user", "nobody"]);
      expect(r.status).toBe(2);
      expect(r.err.trim().split("\n")).toHaveLength(1);
      expect(r.err).toMatch(/^wasmroute run: --user nobody: the statistics directory .*wr-pv-hidden-.*\/proc is not writable by that user: EACCES/);
      expect(r.out).not.toMatch(/ready/);
    } finally {
      rmSync(hidden, { recursive: true, force: true });
    }
  });
});
