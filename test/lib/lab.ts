// A router under test, as a user runs it: `wasmroute run --config FILE` in a child process between
// two hosts in wr- namespaces, over TAPs (the router creates them and moves their kernel sides into the
// hosts' namespaces) or over veths with AF_PACKET (the router's ends live in a wr- namespace with no
// addresses and ip_forward 0). Every run is bounded in time; stop() kills the router and removes the
// namespaces, also after a failure.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createNetns, deleteNetns, ip } from "./netns.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface LabOptions {
  kind: "tap" | "packet";
  /** Extra config lines for the router (routes, sysctls …). */
  extra?: string[];
  /** MTU of the router's port towards h2. */
  mtu2?: number;
  /** Run the router with --busy-poll (poll the ports in a loop instead of waiting for readiness). */
  busyPoll?: boolean;
  /** Prefix of the lab's namespace and interface names (default "wr-"; a branch's own, e.g. "wr-pv-"). */
  prefix?: string;
  /** Run the router inside its own namespace (the lab's `r`) instead of the test's. */
  routerNetns?: boolean;
  /** More `wasmroute run` options (e.g. --user, --control). */
  routerArgs?: string[];
}

export interface Run {
  status: number;
  out: string;
  err: string;
}

export class Lab {
  readonly tag = `${process.pid % 100000}${Math.floor(Math.random() * 90 + 10)}`.slice(-7);
  readonly h1: string;
  readonly h2: string;
  readonly r: string;
  readonly dir = mkdtempSync(join(tmpdir(), "wr-lab-"));
  readonly configPath = join(this.dir, "router.conf");
  readonly procDir = join(this.dir, "proc");
  readonly if1: string;
  readonly if2: string;
  router: ChildProcess | undefined;
  stderr = "";
  stdout = "";
  readonly opts: LabOptions;

  constructor(opts: LabOptions) {
    this.opts = opts;
    const p = opts.prefix ?? "wr-";
    this.h1 = `${p}h1-${this.tag}`;
    this.h2 = `${p}h2-${this.tag}`;
    this.r = `${p}r-${this.tag}`;
    this.ifName = (kind, i) => `${p}${kind}${i}-${this.tag.slice(-(15 - p.length - 3))}`; // at most 15 bytes
    this.if1 = this.ifName(opts.kind === "tap" ? "t" : "a", 1);
    this.if2 = this.ifName(opts.kind === "tap" ? "t" : "a", 2);
  }

  /** An interface name of this lab: prefix, kind letter, number, tag (shortened to fit 15 bytes). */
  readonly ifName: (kind: string, i: number) => string;

  /** The router's config for this topology. */
  config(extra: string[] = this.opts.extra ?? []): string {
    const mtu2 = this.opts.mtu2 ? ` mtu ${this.opts.mtu2}` : "";
    const links =
      this.opts.kind === "tap"
        ? [
            `link add p1 type tap kernel-name ${this.if1} netns ${this.h1} address 02:77:00:00:01:01`,
            `link add p2 type tap kernel-name ${this.if2} netns ${this.h2} address 02:77:00:00:02:01${mtu2}`,
          ]
        : [`link add p1 type packet dev ${this.ifName("b", 1)} netns ${this.r}`, `link add p2 type packet dev ${this.ifName("b", 2)} netns ${this.r}${mtu2}`];
    return [...links, "addr add 10.201.1.1/24 dev p1", "addr add 10.201.2.1/24 dev p2", ...extra, ""].join("\n");
  }

  /** Creates the namespaces, starts the router and configures the hosts; resolves when traffic can flow. */
  async start(): Promise<void> {
    createNetns(this.h1);
    createNetns(this.h2);
    if (this.opts.kind === "packet" || this.opts.routerNetns) createNetns(this.r);
    if (this.opts.kind === "packet") {
      ip("-n", this.r, "link", "set", "lo", "up");
      ip("netns", "exec", this.r, "sysctl", "-qw", "net.ipv4.ip_forward=0");
      for (const i of [1, 2]) {
        const h = i === 1 ? this.h1 : this.h2;
        ip("link", "add", this.ifName("a", i), "netns", h, "type", "veth", "peer", "name", this.ifName("b", i), "netns", this.r);
        ip("-n", this.r, "link", "set", this.ifName("b", i), "up");
        // Frames the size of the MTU on the wire (no GSO super-frames); checksums may stay offloaded:
        // the router finishes them (PACKET_AUXDATA).
        spawnSync("ip", ["netns", "exec", h, "ethtool", "-K", this.ifName("a", i), "tso", "off", "gso", "off", "gro", "off"], { timeout: 5000 });
        spawnSync("ip", ["netns", "exec", this.r, "ethtool", "-K", this.ifName("b", i), "gro", "off"], { timeout: 5000 });
      }
    }
    writeFileSync(this.configPath, this.config());
    await this.startRouter();
    for (const [ns, ifn, a, gw] of [
      [this.h1, this.if1, "10.201.1.2/24", "10.201.1.1"],
      [this.h2, this.if2, "10.201.2.2/24", "10.201.2.1"],
    ] as const) {
      ip("-n", ns, "link", "set", "lo", "up");
      ip("-n", ns, "addr", "add", a, "dev", ifn);
      ip("-n", ns, "link", "set", ifn, "up");
      ip("-n", ns, "route", "add", "default", "via", gw);
    }
  }

  /** Starts `wasmroute run` on the config file; resolves at its "ready" line. */
  async startRouter(): Promise<void> {
    const argv = [process.execPath, join(root, "bin", "wasmroute.mjs"), "run", "--config", this.configPath, "--proc-dir", this.procDir, "--name", `lab${this.tag}`, ...(this.opts.busyPoll ? ["--busy-poll"] : []), ...(this.opts.routerArgs ?? [])];
    // `ip netns exec` execs the router in place: the child's pid is the router's.
    const [cmd, ...args] = this.opts.routerNetns ? ["ip", "netns", "exec", this.r, ...argv] : argv;
    const child = spawn(cmd!, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.router = child;
    child.stdout!.on("data", (d) => (this.stdout += d));
    child.stderr!.on("data", (d) => (this.stderr += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`router not ready in 20 s: ${this.stderr}`)), 20_000);
      const check = () => {
        if (this.stdout.includes("ready")) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on("data", check);
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`router exited (${code}) before ready: ${this.stderr.trim()}`));
      });
    });
  }

  /** Runs a command inside namespace ns, bounded in time. */
  exec(ns: string, cmd: string[], timeoutMs = 15_000): Run {
    const r = spawnSync("ip", ["netns", "exec", ns, ...cmd], { encoding: "utf8", timeout: timeoutMs });
    return { status: r.status ?? -1, out: r.stdout ?? "", err: r.stderr ?? "" };
  }

  /** Starts a command inside ns in the background (tcpdump, iperf3 -s). */
  background(ns: string, cmd: string[]): ChildProcess {
    return spawn("ip", ["netns", "exec", ns, ...cmd], { stdio: ["ignore", "pipe", "pipe"] });
  }

  /** One file of the router's statistics directory (e.g. "net/stat/rt_cache"). */
  stat(file: string): string {
    return readFileSync(join(this.procDir, file), "utf8");
  }

  /** Sends SIGHUP after replacing the config; resolves when the router logged the reload. */
  async reload(extra: string[]): Promise<string> {
    writeFileSync(this.configPath, this.config(extra));
    const before = this.stderr.length;
    this.router!.kill("SIGHUP");
    const t0 = Date.now();
    while (Date.now() - t0 < 10_000) {
      const tail = this.stderr.slice(before);
      if (/reload/.test(tail)) return tail;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no reload logged: ${this.stderr.slice(before)}`);
  }

  /** Stops the router (SIGTERM, then SIGKILL) and removes everything this lab created. */
  async stop(): Promise<number | null> {
    let code: number | null = null;
    const child = this.router;
    if (child && child.exitCode === null && child.signalCode === null) {
      code = await new Promise<number | null>((resolve) => {
        const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
        child.once("exit", (c) => {
          clearTimeout(kill);
          resolve(c);
        });
        child.kill("SIGTERM");
      });
    } else if (child) code = child.exitCode;
    deleteNetns(this.h1);
    deleteNetns(this.h2);
    deleteNetns(this.r);
    rmSync(this.dir, { recursive: true, force: true });
    return code;
  }
}
