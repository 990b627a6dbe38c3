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
}

export interface Run {
  status: number;
  out: string;
  err: string;
}

export class Lab {
  readonly tag = `${process.pid % 100000}${Math.floor(Math.random() * 90 + 10)}`.slice(-7);
  readonly h1 = `wr-h1-${this.tag}`;
  readonly h2 = `wr-h2-${this.tag}`;
  readonly r = `wr-r-${this.tag}`;
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
    this.if1 = opts.kind === "tap" ? `wr-t1-${this.tag}` : `wr-a1-${this.tag}`;
    this.if2 = opts.kind === "tap" ? `wr-t2-${this.tag}` : `wr-a2-${this.tag}`;
  }

  /** The router's config for this topology. */
  config(extra: string[] = this.opts.extra ?? []): string {
    const mtu2 = this.opts.mtu2 ? ` mtu ${this.opts.mtu2}` : "";
    const links =
      this.opts.kind === "tap"
        ? [
            `link add p1 type tap kernel-name ${this.if1} netns ${this.h1} address 02:77:00:00:01:01`,
            `link add p2 type tap kernel-name ${this.if2} netns ${this.h2} address 02:77:00:00:02:01${mtu2}`,
          ]
        : [`link add p1 type packet dev wr-b1-${this.tag} netns ${this.r}`, `link add p2 type packet dev wr-b2-${this.tag} netns ${this.r}${mtu2}`];
    return [...links, "addr add 10.201.1.1/24 dev p1", "addr add 10.201.2.1/24 dev p2", ...extra, ""].join("\n");
  }

  /** Creates the namespaces, starts the router and configures the hosts; resolves when traffic can flow. */
  async start(): Promise<void> {
    createNetns(this.h1);
    createNetns(this.h2);
    if (this.opts.kind === "packet") {
      createNetns(this.r);
      ip("-n", this.r, "link", "set", "lo", "up");
      ip("netns", "exec", this.r, "sysctl", "-qw", "net.ipv4.ip_forward=0");
      for (const i of [1, 2]) {
        const h = i === 1 ? this.h1 : this.h2;
        ip("link", "add", `wr-a${i}-${this.tag}`, "netns", h, "type", "veth", "peer", "name", `wr-b${i}-${this.tag}`, "netns", this.r);
        ip("-n", this.r, "link", "set", `wr-b${i}-${this.tag}`, "up");
        // Frames the size of the MTU on the wire (no GSO super-frames); checksums may stay offloaded:
        // the router finishes them (PACKET_AUXDATA).
        spawnSync("ip", ["netns", "exec", h, "ethtool", "-K", `wr-a${i}-${this.tag}`, "tso", "off", "gso", "off", "gro", "off"], { timeout: 5000 });
        spawnSync("ip", ["netns", "exec", this.r, "ethtool", "-K", `wr-b${i}-${this.tag}`, "gro", "off"], { timeout: 5000 });
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
    const child = spawn(process.execPath, [join(root, "bin", "wasmroute.mjs"), "run", "--config", this.configPath, "--proc-dir", this.procDir, "--name", `lab${this.tag}`, ...(this.opts.busyPoll ? ["--busy-poll"] : [])], {
      stdio: ["ignore", "pipe", "pipe"],
    });
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
