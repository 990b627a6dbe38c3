/**
 * The forwarding benchmark's topologies: h1 → R → h2 in wr-bf-* namespaces, three times over.
 *
 *   kernel   R is a namespace with ip_forward=1 and two veth pairs (the Linux router)
 *   tap      R is `wasmroute run` over two TAPs whose kernel sides live in h1 and h2
 *   packet   R is `wasmroute run` over AF_PACKET on the router ends of two veth pairs, inside an
 *            address-less namespace with ip_forward=0; the ports have MACs of their own (see build()).
 *            The ports are `offload on` (the default, PACKET_VNET_HDR): the hosts keep TSO/GSO, and
 *            TCP super-frames cross the router whole
 *   packet-nogso  the same with `offload off` ports: the hosts' TSO, GSO and GRO are off
 *
 * Every topology uses the same addresses and MACs, so one generated frame file drives all three:
 * h1 10.201.1.2 (02:77:00:00:01:02) — R 10.201.1.1 (02:77:00:00:01:01) / 10.201.2.1 (02:77:00:00:02:01)
 * — h2 10.201.2.2 (02:77:00:00:02:02). All neighbours are static (nud permanent), on the hosts and on
 * the router, so no ARP is in the measured path. The table's next hop is 10.201.2.3 (SINK_GATEWAY), a
 * neighbour on h2's segment whose MAC (02:77:00:00:02:03) no interface owns: h2 overhears the frames,
 * its interface counts them (rx_packets), and its IPv4 input drops them at once as PACKET_OTHERHOST —
 * no route lookup, no dst. (A blackhole in h2, the first sink, cost a dst allocated and freed through
 * RCU per frame, on whichever CPU the router sends from: about a third of a wasmroute router's CPU.)
 *
 * Everything created is registered in `Cleanup`, which removes it on the normal path, on an error, and
 * from process exit/signal handlers.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";
import { appendFileSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** tap, packet: the default ports (vnet headers, GSO super-frames whole); tap-nogso, packet-nogso: the same with `offload off`. */
export type RouterKind = "kernel" | "tap" | "tap-nogso" | "packet" | "packet-nogso";
const KIND_LETTER: Record<RouterKind, string> = { kernel: "k", tap: "t", "tap-nogso": "g", packet: "p", "packet-nogso": "n" };

export const MAC = {
  h1: "02:77:00:00:01:02",
  r1: "02:77:00:00:01:01",
  r2: "02:77:00:00:02:01",
  h2: "02:77:00:00:02:02",
  /** The AF_PACKET router's veth ends (the kernel's MACs there; wasmroute's ports are r1 and r2). */
  r1Kernel: "02:77:00:00:01:81",
  r2Kernel: "02:77:00:00:02:81",
  /** The table's next hop (SINK_GATEWAY): no interface has this MAC, h2 overhears and drops. */
  sink: "02:77:00:00:02:03",
} as const;

/** The next hop of every table route: a neighbour on h2's segment that h2 overhears (see above). */
export const SINK_GATEWAY = "10.201.2.3";

/** Runs a command, bounded in time; throws with its stderr on failure. */
export function sh(cmd: string, args: string[], timeoutMs = 20_000, input?: string): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs, input, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 8).join(" ")}${args.length > 8 ? " …" : ""}: ${(r.stderr || r.error?.message || `status ${r.status}`).trim()}`);
  return r.stdout;
}

/** Runs a command, bounded in time, without throwing. */
export function trySh(cmd: string, args: string[], timeoutMs = 20_000): { status: number; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs });
  return { status: r.status ?? -1, out: r.stdout ?? "", err: r.stderr ?? "" };
}

/**
 * Starts a command in a process group of its own, registered for cleanup. `ip netns exec NS timeout …
 * CMD` runs CMD as a child of `timeout`: a signal to the spawned process alone would leave CMD running
 * (a trafgen killed that way ran on for an hour), so the whole group is signalled (killOwned).
 */
export function spawnOwned(cmd: string, args: string[], opts: SpawnOptions): ChildProcess {
  const c = spawn(cmd, args, { ...opts, detached: true });
  cleanup.child(c);
  return c;
}

/** Signals c's whole process group (spawnOwned), or c alone when it has none. */
export function killOwned(c: ChildProcess, sig: NodeJS.Signals): void {
  if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
  try {
    process.kill(-c.pid, sig);
  } catch {
    c.kill(sig);
  }
}

/** Runs a command asynchronously (so several long loads can overlap), bounded in time. */
export function shAsync(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawnOwned(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    c.stdout!.on("data", (d) => (out += d));
    c.stderr!.on("data", (d) => (err += d));
    const t = setTimeout(() => killOwned(c, "SIGKILL"), timeoutMs);
    c.on("exit", (code, sig) => {
      clearTimeout(t);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.slice(0, 6).join(" ")}: ${sig ? `killed by ${sig} (time limit ${timeoutMs / 1000} s)` : `status ${code}`}: ${err.trim().slice(0, 400)}`));
    });
  });
}

/** What the benchmark created; removed by `run()` on every path out of the process. */
class Cleanup {
  private netns = new Set<string>();
  private children = new Set<ChildProcess>();
  private dirs = new Set<string>();
  private installed = false;

  install(): void {
    if (this.installed) return;
    this.installed = true;
    process.on("exit", () => this.run());
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      process.once(sig, () => {
        process.stderr.write(`bench forward: ${sig}, removing the namespaces\n`);
        this.run();
        process.exit(130);
      });
    }
  }
  ns(name: string): void {
    this.netns.add(name);
  }
  child(c: ChildProcess): void {
    this.children.add(c);
    c.once("exit", () => this.children.delete(c));
  }
  dir(d: string): void {
    this.dirs.add(d);
  }
  /** Synchronous, so it can run from an exit handler. */
  run(): void {
    for (const c of this.children) killOwned(c, "SIGKILL");
    this.children.clear();
    for (const n of this.netns) spawnSync("ip", ["netns", "del", n], { timeout: 10_000 });
    this.netns.clear();
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
    this.dirs.clear();
  }
}
export const cleanup = new Cleanup();

export function createNs(name: string): void {
  if (!name.startsWith("wr-bf-")) throw new Error(`benchmark namespaces are named wr-bf-*: ${name}`);
  spawnSync("ip", ["netns", "del", name], { timeout: 10_000 });
  cleanup.ns(name);
  sh("ip", ["netns", "add", name]);
  sh("ip", ["-n", name, "link", "set", "lo", "up"]);
}

const sysctlIn = (ns: string, kv: string) => sh("ip", ["netns", "exec", ns, "sysctl", "-qw", kv]);
const ethtool = (ns: string, dev: string, ...feat: string[]) => trySh("ip", ["netns", "exec", ns, "ethtool", "-K", dev, ...feat]);

export interface RoutesSpec {
  /** `route add …` argument strings (without the leading "route add"), e.g. "1.0.0.0/24 via 10.201.2.3". */
  lines: string[];
  /**
   * The same routes as one wasmroute config line, when they are a CIDR list with one next hop
   * (`route load FILE via GW`): the kernel router still gets `lines` through `ip -batch`.
   */
  load?: string;
}

/** One built topology. */
export class Topology {
  readonly kind: RouterKind;
  readonly h1: string;
  readonly h2: string;
  /** The router's namespace (kernel and packet). */
  readonly r: string | undefined;
  /** h1's and h2's interfaces. */
  readonly if1: string;
  readonly if2: string;
  /** The router's ends (kernel: veths in r; packet: veths in r; tap: undefined). */
  readonly r1: string | undefined;
  readonly r2: string | undefined;
  router: ChildProcess | undefined;
  /** The router is `wasmroute run` with a control socket (not the kernel, not another forwarder such as bench/probes/tap-mq). */
  controlled = false;
  routerOut = "";
  routerErr = "";
  readonly dir: string;
  /** A TAP topology (with or without offloads). */
  readonly isTap: boolean;
  /** An AF_PACKET topology (with or without offloads). */
  readonly isPacket: boolean;

  constructor(kind: RouterKind, tag: string) {
    this.kind = kind;
    this.isTap = kind === "tap" || kind === "tap-nogso";
    this.isPacket = kind === "packet" || kind === "packet-nogso";
    const k = KIND_LETTER[kind];
    this.h1 = `wr-bf-${tag}-${k}-h1`;
    this.h2 = `wr-bf-${tag}-${k}-h2`;
    this.r = this.isTap ? undefined : `wr-bf-${tag}-${k}-r`;
    this.if1 = `wr-${tag}-${k}1h`;
    this.if2 = `wr-${tag}-${k}2h`;
    this.r1 = this.isTap ? undefined : `wr-${tag}-${k}1r`;
    this.r2 = this.isTap ? undefined : `wr-${tag}-${k}2r`;
    this.dir = mkdtempSync(join(tmpdir(), `wr-bf-${kind}-`));
    cleanup.dir(this.dir);
  }

  get label(): string {
    return this.kind === "kernel" ? "kernel" : this.kind === "tap" ? "wasmroute TAP" : this.kind === "tap-nogso" ? "wasmroute TAP, offload off" : this.kind === "packet-nogso" ? "wasmroute AF_PACKET, offload off" : "wasmroute AF_PACKET";
  }

  /** Builds the topology and loads the routes; resolves once traffic can flow. */
  async build(routes: RoutesSpec, opts: { readyTimeoutMs: number; busyPoll?: boolean; nodeOptions?: string; routerArgs?: string[]; routerCpu?: number }): Promise<void> {
    createNs(this.h1);
    createNs(this.h2);
    if (this.r) createNs(this.r);
    if (!this.isTap) {
      // AF_PACKET: the router's veth ends keep MACs of their own and wasmroute's ports answer to MAC.r1/r2
      // (`address`, which makes the ends promiscuous), so the router namespace's IPv4 input drops every
      // frame at its first check (PACKET_OTHERHOST) instead of routing it to an error: the recommended setup.
      const packet = this.isPacket;
      sh("ip", ["link", "add", this.if1, "netns", this.h1, "address", MAC.h1, "type", "veth", "peer", "name", this.r1!, "netns", this.r!, "address", packet ? MAC.r1Kernel : MAC.r1]);
      sh("ip", ["link", "add", this.if2, "netns", this.h2, "address", MAC.h2, "type", "veth", "peer", "name", this.r2!, "netns", this.r!, "address", packet ? MAC.r2Kernel : MAC.r2]);
      sh("ip", ["-n", this.r!, "link", "set", this.r1!, "up"]);
      sh("ip", ["-n", this.r!, "link", "set", this.r2!, "up"]);
    }
    if (this.kind === "kernel") {
      const r = this.r!;
      sh("ip", ["-n", r, "addr", "add", "10.201.1.1/24", "dev", this.r1!]);
      sh("ip", ["-n", r, "addr", "add", "10.201.2.1/24", "dev", this.r2!]);
      sysctlIn(r, "net.ipv4.ip_forward=1");
      sysctlIn(r, "net.ipv4.conf.all.rp_filter=0");
      sh("ip", ["-n", r, "neigh", "replace", "10.201.1.2", "lladdr", MAC.h1, "dev", this.r1!, "nud", "permanent"]);
      sh("ip", ["-n", r, "neigh", "replace", "10.201.2.2", "lladdr", MAC.h2, "dev", this.r2!, "nud", "permanent"]);
      sh("ip", ["-n", r, "neigh", "replace", SINK_GATEWAY, "lladdr", MAC.sink, "dev", this.r2!, "nud", "permanent"]);
      this.setOffloads(false);
      const batch = join(this.dir, "routes.batch");
      writeFileSync(batch, routes.lines.map((l) => `route add ${l}\n`).join(""));
      await shAsync("ip", ["-n", r, "-batch", batch], 600_000);
    } else {
      if (this.isPacket) {
        const r = this.r!;
        sysctlIn(r, "net.ipv4.ip_forward=0");
        // `offload off` ports: frames the size of the MTU on the wire (no GSO super-frames); the router
        // finishes offloaded checksums. With the default `offload on` the hosts keep their offloads.
        if (this.kind === "packet-nogso") {
          ethtool(this.h1, this.if1, "tso", "off", "gso", "off", "gro", "off");
          ethtool(this.h2, this.if2, "tso", "off", "gso", "off", "gro", "off");
        }
        ethtool(r, this.r1!, "gro", "off");
        ethtool(r, this.r2!, "gro", "off");
      }
      const off = this.kind === "tap-nogso" || this.kind === "packet-nogso" ? " offload off" : "";
      const links = this.isTap
          ? [`link add p1 type tap kernel-name ${this.if1} netns ${this.h1} address ${MAC.r1}${off}`, `link add p2 type tap kernel-name ${this.if2} netns ${this.h2} address ${MAC.r2}${off}`]
          : [`link add p1 type packet dev ${this.r1} netns ${this.r} address ${MAC.r1}${off}`, `link add p2 type packet dev ${this.r2} netns ${this.r} address ${MAC.r2}${off}`];
      const config = [
        ...links,
        "addr add 10.201.1.1/24 dev p1",
        "addr add 10.201.2.1/24 dev p2",
        `neigh add 10.201.1.2 lladdr ${MAC.h1} dev p1 nud permanent`,
        `neigh add 10.201.2.2 lladdr ${MAC.h2} dev p2 nud permanent`,
        `neigh add ${SINK_GATEWAY} lladdr ${MAC.sink} dev p2 nud permanent`,
        ...(routes.load !== undefined ? [`route ${routes.load}`] : routes.lines.map((l) => `route add ${l}`)),
        "",
      ].join("\n");
      writeFileSync(join(this.dir, "router.conf"), config);
      await this.startRouter(opts.readyTimeoutMs, [...(opts.busyPoll ? ["--busy-poll"] : []), ...(opts.routerArgs ?? [])], opts.nodeOptions);
      // Every thread of the router on one CPU (its loop, libuv's and V8's helpers): a placement row.
      if (opts.routerCpu !== undefined) sh("taskset", ["-a", "-p", "-c", String(opts.routerCpu), String(this.pid)]);
      if (this.isTap) {
        sh("ip", ["-n", this.h1, "link", "set", this.if1, "address", MAC.h1]);
        sh("ip", ["-n", this.h2, "link", "set", this.if2, "address", MAC.h2]);
      }
    }
    this.configureHosts();
    // Host-side offloads: real ≤ MTU frames everywhere for TCP (the kernel-with-offloads figure turns them on).
    if (!this.isPacket) this.setOffloads(false);
  }

  /** h1's and h2's side: address, up, default route via the router, the router's MAC as a static neighbour. */
  configureHosts(): void {
    for (const [ns, ifn, a, gw, gwMac] of [
      [this.h1, this.if1, "10.201.1.2/24", "10.201.1.1", MAC.r1],
      [this.h2, this.if2, "10.201.2.2/24", "10.201.2.1", MAC.r2],
    ] as const) {
      sh("ip", ["-n", ns, "addr", "add", a, "dev", ifn]);
      sh("ip", ["-n", ns, "link", "set", ifn, "up"]);
      sh("ip", ["-n", ns, "route", "add", "default", "via", gw]);
      sh("ip", ["-n", ns, "neigh", "replace", gw, "lladdr", gwMac, "dev", ifn, "nud", "permanent"]);
    }
  }

  /**
   * Offloads on or off on every veth of the topology (kernel: all four; tap: nothing to change — an
   * offload TAP (IFF_VNET_HDR + TUNSETOFFLOAD) hands h1's TSO super-frames to the router whole, one with
   * `offload off` only ever carries ≤ MTU frames; packet: the same, set up in build()).
   */
  setOffloads(on: boolean): void {
    if (this.kind !== "kernel") return;
    const v = on ? "on" : "off";
    for (const [ns, dev] of [
      [this.h1, this.if1],
      [this.h2, this.if2],
      [this.r!, this.r1!],
      [this.r!, this.r2!],
    ] as const) {
      if (trySh("ip", ["-n", ns, "link", "show", dev]).status !== 0) continue;
      ethtool(ns, dev, "tso", v, "gso", v, "gro", v, "tx", v);
    }
  }

  private async startRouter(readyTimeoutMs: number, routerArgs: string[], nodeOptions: string | undefined): Promise<void> {
    const root = join(import.meta.dirname, "..", "..");
    const child = spawnOwned(
      process.execPath,
      [...(nodeOptions ? nodeOptions.split(/\s+/).filter(Boolean) : []), join(root, "bin", "wasmroute.mjs"), "run", "--config", join(this.dir, "router.conf"), "--proc-dir", join(this.dir, "proc"), "--name", `bf-${this.kind}-${process.pid}`, "--control", this.controlPath, ...routerArgs],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.router = child;
    this.controlled = true;
    child.stdout!.on("data", (d) => (this.routerOut = (this.routerOut + d).slice(-1_000_000)));
    child.stderr!.on("data", (d) => (this.routerErr = (this.routerErr + d).slice(-4000)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.label}: not ready in ${readyTimeoutMs / 1000} s: ${this.routerErr.trim()}`)), readyTimeoutMs);
      const check = () => {
        if (/\bready\b/.test(this.routerOut)) {
          clearTimeout(timer);
          child.stdout!.off("data", check);
          resolve();
        }
      };
      child.stdout!.on("data", check);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`${this.label}: router exited (${code}): ${this.routerErr.trim()}`));
      });
    });
  }

  /** The wasmroute router's control socket (`wasmroute --control PATH …`). */
  get controlPath(): string {
    return join(this.dir, "ctl.sock");
  }

  /** The router process's pid (wasmroute only). */
  get pid(): number | undefined {
    return this.router?.pid;
  }

  /** True while the router can forward (the kernel always; wasmroute while its process lives). */
  alive(): boolean {
    return this.kind === "kernel" || (this.router !== undefined && this.router.exitCode === null && this.router.signalCode === null);
  }

  /** Stops the router and removes the namespaces; appends the router's output to `logFile` when given. */
  async destroy(logFile?: string): Promise<void> {
    const c = this.router;
    if (c && c.exitCode === null && c.signalCode === null) {
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => killOwned(c, "SIGKILL"), 5000);
        c.once("exit", () => {
          clearTimeout(kill);
          resolve();
        });
        c.kill("SIGTERM");
      });
    }
    if (logFile && this.router) appendFileSync(logFile, `── ${this.label} ──\n${this.routerOut}${this.routerErr}\n`);
    for (const n of [this.h1, this.h2, this.r]) if (n) spawnSync("ip", ["netns", "del", n], { timeout: 10_000 });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
