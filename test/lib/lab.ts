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
  /** Port 1's kind (towards h1), and port 2's unless kind2 says otherwise. */
  kind: "tap" | "packet";
  kind2?: "tap" | "packet";
  /** Extra words for port 1's / port 2's `link add` line (e.g. "offload off"). */
  link1?: string;
  link2?: string;
  /** Namespace and interface name prefix (default "wr-"); the tag is shortened to keep names ≤ 15 characters. */
  prefix?: string;
  /** Run the router inside its own namespace (the lab's `r`) instead of the test's. */
  routerNetns?: boolean;
  /** More `wasmroute run` options (e.g. --user, --control). */
  routerArgs?: string[];
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
  readonly tag: string;
  readonly prefix: string;
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
    this.prefix = opts.prefix ?? "wr-";
    this.tag = `${process.pid % 100000}${Math.floor(Math.random() * 90 + 10)}`.slice(-Math.min(7, 15 - this.prefix.length - 3));
    this.h1 = `${this.prefix}h1-${this.tag}`;
    this.h2 = `${this.prefix}h2-${this.tag}`;
    this.r = `${this.prefix}r-${this.tag}`;
    this.if1 = this.name(1, this.kindOf(1) === "tap" ? "t" : "a");
    this.if2 = this.name(2, this.kindOf(2) === "tap" ? "t" : "a");
  }

  /** Port i's kind. */
  kindOf(i: 1 | 2): "tap" | "packet" {
    return i === 1 ? this.opts.kind : (this.opts.kind2 ?? this.opts.kind);
  }

  /** An interface name of this lab: letter + port number, e.g. wr-t1-TAG; for AF_PACKET ports, "a" is the host's veth end and "b" the router namespace's. */
  name(i: 1 | 2, letter: string): string {
    return this.ifName(letter, i);
  }

  /** An interface name of this lab: prefix, kind letter, number, tag (≤ 15 bytes). */
  ifName(letter: string, i: number): string {
    return `${this.prefix}${letter}${i}-${this.tag}`;
  }

  /** The router's config for this topology. */
  config(extra: string[] = this.opts.extra ?? []): string {
    const links = ([1, 2] as const).map((i) => {
      const words = [i === 2 && this.opts.mtu2 ? `mtu ${this.opts.mtu2}` : "", (i === 1 ? this.opts.link1 : this.opts.link2) ?? ""].filter(Boolean).join(" ");
      const tail = words ? ` ${words}` : "";
      return this.kindOf(i) === "tap"
        ? `link add p${i} type tap kernel-name ${i === 1 ? this.if1 : this.if2} netns ${i === 1 ? this.h1 : this.h2} address 02:77:00:00:0${i}:01${tail}`
        : `link add p${i} type packet dev ${this.name(i, "b")} netns ${this.r}${tail}`;
    });
    return [...links, "addr add 10.201.1.1/24 dev p1", "addr add 10.201.2.1/24 dev p2", ...extra, ""].join("\n");
  }

  /** Creates the namespaces, starts the router and configures the hosts; resolves when traffic can flow. */
  async start(): Promise<void> {
    createNetns(this.h1);
    createNetns(this.h2);
    if (this.kindOf(1) === "packet" || this.kindOf(2) === "packet" || this.opts.routerNetns) createNetns(this.r);
    if (this.kindOf(1) === "packet" || this.kindOf(2) === "packet") {
      ip("-n", this.r, "link", "set", "lo", "up");
      ip("netns", "exec", this.r, "sysctl", "-qw", "net.ipv4.ip_forward=0");
    }
    for (const i of [1, 2] as const) {
      if (this.kindOf(i) !== "packet") continue;
      const h = i === 1 ? this.h1 : this.h2;
      const a = this.name(i, "a");
      const b = this.name(i, "b");
      ip("link", "add", a, "netns", h, "type", "veth", "peer", "name", b, "netns", this.r);
      ip("-n", this.r, "link", "set", b, "up");
      // A port with `offload on` (the default) takes super-frames whole (PACKET_VNET_HDR), so its host keeps
      // TSO and GSO. With `offload off`: frames the size of the MTU on the wire (no GSO super-frames);
      // checksums may stay offloaded: the router finishes them (PACKET_AUXDATA).
      if (/\boffload off\b/.test((i === 1 ? this.opts.link1 : this.opts.link2) ?? "")) {
        spawnSync("ip", ["netns", "exec", h, "ethtool", "-K", a, "tso", "off", "gso", "off", "gro", "off"], { timeout: 5000 });
      }
      spawnSync("ip", ["netns", "exec", this.r, "ethtool", "-K", b, "gro", "off"], { timeout: 5000 });
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

  /** Sends `count` UDP datagrams of 18 bytes from inside ns to dst:9, as fast as Node sends them; the run's result. */
  udpFlood(ns: string, dst: string, count: number): Run {
    const script =
      "const d=require('dgram').createSocket('udp4');const b=Buffer.alloc(18);let i=0;const n=+process.argv[2];" +
      "const go=()=>{for(let k=0;k<100&&i<n;k++,i++)d.send(b,9,process.argv[1]);if(i<n)setImmediate(go);else setTimeout(()=>d.close(),100)};go();";
    return this.exec(ns, [process.execPath, "-e", script, dst, String(count)], 20_000);
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
