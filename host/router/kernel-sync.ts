/**
 * `wasmroute run --sync-from-kernel TABLE [netns NS]` (#6): mirrors a kernel routing table of a network
 * namespace into the router's table of the same id, live, so that BIRD or FRR running in that namespace
 * feed the router.
 *
 * How: `ip [-n NS] -4 -o -d monitor route` runs as a child; once its netlink socket has joined the
 * route group (seen in /proc/PID/net/netlink), `ip -4 -o -d route show table T` takes the dump. Monitor
 * lines that arrive meanwhile are held, so nothing between the two is missed: the dump applies as one
 * transaction, then the held events in order (each carries the route's whole state, so replaying one
 * the dump already saw changes nothing). After that, the lines that arrive together (one read of the
 * pipe, one turn of the event loop) apply as one transaction (host/router/kernel-mirror.ts).
 *
 * When the monitor dies (or the dump fails), the loss is logged, the child is killed, and a new monitor
 * and dump follow after 1 s, 2 s, 4 s … (at most 30 s); the fresh dump is diffed against what is
 * mirrored, so a resync changes only what differs. Router.stop() kills the child, and the child gets
 * SIGTERM from the kernel (PR_SET_PDEATHSIG, through setpriv) if wasmroute dies without stopping.
 *
 * Not seen by this design: what the kernel removes without a netlink message (IPv4 routes through a
 * device that goes down are flushed silently; the daemon, which watches links, normally withdraws them
 * too, and the next resync catches the rest).
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import type { Router, RouteSource, RouteSlot } from "./router.ts";
import { RouteMirror, type CommitResult } from "./kernel-mirror.ts";
import { parseKernelRouteLine } from "./kernel-route.ts";
import { parseTable, tableName } from "../cli/words.ts";

export interface KernelSyncOptions {
  table: number;
  /** A named network namespace (`ip netns`); undefined: wasmroute's own. */
  netns?: string;
  /** First retry delay and its ceiling (ms). */
  retryMs?: number;
  maxRetryMs?: number;
}

const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

export type SyncState = "connecting" | "synced" | "retrying" | "stopped";

/** `--sync-from-kernel TABLE [netns NS]` words → options; throws a one-line Error. */
export function parseSyncOption(table: string | undefined, rest: readonly string[]): KernelSyncOptions {
  if (table === undefined) throw new Error(`--sync-from-kernel needs a table (a number, or main, default, local)`);
  let id: number;
  try {
    id = parseTable("--sync-from-kernel", table);
  } catch {
    throw new Error(`--sync-from-kernel: "${table}" is not a table (a number, or main, default, local)`);
  }
  if (rest.length === 0) return { table: id };
  const ns = rest[1];
  if (rest[0] !== "netns" || ns === undefined) throw new Error(`--sync-from-kernel ${table}: expected "netns NS", got "${rest.join(" ")}"`);
  if (!netnsExists(ns)) throw new Error(`--sync-from-kernel: ${noSuchNetns(ns)}`);
  return { table: id, netns: ns };
}

/** A network namespace of that name exists (`ip netns add` made it). */
export function netnsExists(ns: string): boolean {
  return /^[A-Za-z0-9_.-]{1,64}$/.test(ns) && existsSync(`/run/netns/${ns}`);
}

export function noSuchNetns(ns: string): string {
  return `network namespace "${ns}" does not exist (see ip netns list)`;
}

export class KernelSync implements RouteSource {
  readonly mirror: RouteMirror;
  readonly table: number;
  readonly netns: string | undefined;
  state: SyncState = "connecting";
  /** Resyncs after a lost monitor. */
  reconnects = 0;
  private readonly router: Router;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  private delay: number;
  private child: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Monitor lines not yet applied; `held` while the dump runs. */
  private pending: string[] = [];
  private held = true;
  private scheduled = false;
  private generation = 0;

  constructor(router: Router, o: KernelSyncOptions) {
    this.router = router;
    this.table = o.table;
    this.netns = o.netns;
    this.retryMs = o.retryMs ?? 1000;
    this.maxRetryMs = o.maxRetryMs ?? 30_000;
    this.delay = this.retryMs;
    this.mirror = new RouteMirror(router, router.log, this.describe());
  }

  /** Starts mirroring and registers with the router (stopped with it); resolves after the first sync or its failure. */
  static async start(router: Router, o: KernelSyncOptions): Promise<KernelSync> {
    const s = new KernelSync(router, o);
    router.routeSources.push(s);
    await s.connect();
    return s;
  }

  private isStopped(): boolean {
    return this.state === "stopped";
  }

  describe(): string {
    return `kernel table ${tableName(this.table)}${this.netns ? ` of netns ${this.netns}` : ""}`;
  }

  private ipArgs(...args: string[]): string[] {
    return [...(this.netns ? ["-n", this.netns] : []), "-4", "-o", "-d", ...args];
  }

  /** One monitor + dump cycle; on failure, schedules the next one. */
  private async connect(): Promise<void> {
    if (this.state === "stopped") return;
    const gen = ++this.generation;
    this.state = "connecting";
    this.held = true;
    this.pending = [];
    // setpriv (util-linux) execs ip with PR_SET_PDEATHSIG, so the monitor dies with wasmroute even when
    // wasmroute is killed without a chance to stop it.
    const argv = this.ipArgs("monitor", "route");
    const child = SETPRIV ? spawn(SETPRIV, ["--pdeathsig", "TERM", "--", "ip", ...argv], { stdio: ["ignore", "pipe", "pipe"] }) : spawn("ip", argv, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    let stderr = "";
    let partial = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop()!;
      for (const l of lines) if (l.trim() !== "") this.pending.push(l);
      if (!this.held) this.schedule();
    });
    child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-500)));
    const lost = (why: string) => {
      if (gen !== this.generation || this.isStopped()) return;
      this.lose(`${why}${stderr.trim() ? `: ${stderr.trim().replace(/\s*\n\s*/g, " ")}` : ""}`);
    };
    child.on("error", (e) => lost(`ip monitor failed (${e.message})`));
    child.on("exit", (code, signal) => lost(`ip monitor exited (${signal ?? `status ${code}`})`));
    try {
      await this.subscribed(child);
      const dump = await this.dump();
      if (gen !== this.generation || this.isStopped()) return;
      this.mirror.replaceAll(dump.split("\n").map((l) => parseKernelRouteLine(l, this.table)));
      const first = this.mirror.commit(); // the dump: one transaction
      this.held = false;
      const events = this.apply(); // then what arrived meanwhile, in order
      this.state = "synced";
      this.delay = this.retryMs;
      this.router.log.log("info", "kernel_sync", `kernel sync: ${this.reconnects > 0 ? "resynced" : "synced"} with ${this.describe()}: ${this.mirror.count} routes mirrored`, {
        added: first.added + events.added, replaced: first.replaced + events.replaced, removed: first.removed + events.removed, refused: first.refused + events.refused,
      });
    } catch (e) {
      lost((e as Error).message);
    }
  }

  /** Resolves once the monitor's netlink socket is bound to a multicast group (it hears every change from then on). */
  private async subscribed(child: ChildProcess): Promise<void> {
    const t0 = Date.now();
    while (Date.now() - t0 < 5000) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) throw new Error("ip monitor exited at start");
      try {
        // sk Eth Pid Groups …: a row of this process with a non-zero group mask.
        const rows = readFileSync(`/proc/${child.pid}/net/netlink`, "utf8").split("\n").slice(1);
        if (rows.some((r) => { const f = r.trim().split(/\s+/); return f[1] === "0" && f[2] === String(child.pid) && /[1-9a-f]/.test(f[3] ?? "0"); })) return;
      } catch {
        // not there yet (or already gone: the exit check above says which)
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error("ip monitor did not subscribe within 5 s");
  }

  private dump(): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile("ip", this.ipArgs("route", "show", "table", String(this.table)), { maxBuffer: 1 << 30, timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`ip route show failed: ${(stderr || err.message).trim().replace(/\s*\n\s*/g, " ")}`));
        else resolve(stdout);
      });
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.state === "synced") this.apply();
    });
  }

  /** The pending monitor lines, as one transaction. */
  private apply(): CommitResult {
    const lines = this.pending;
    this.pending = [];
    for (const l of lines) this.mirror.event(parseKernelRouteLine(l, this.table));
    const r = this.mirror.commit();
    if (r.mutated) {
      this.router.log.limited("info", "kernel_sync_batch", `kernel sync: ${this.mirror.count} routes mirrored from ${this.describe()}`, {
        added: r.added, replaced: r.replaced, removed: r.removed, refused: r.refused,
      }, 1000);
    }
    return r;
  }

  private lose(why: string): void {
    this.kill();
    this.state = "retrying";
    this.reconnects++;
    this.router.log.log("error", "kernel_sync_lost", `kernel sync with ${this.describe()} lost (${why}); retrying in ${this.delay / 1000} s, mirrored routes stay until the resync`, { retryMs: this.delay });
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, this.delay);
    this.delay = Math.min(this.delay * 2, this.maxRetryMs);
  }

  private kill(): void {
    this.generation++;
    const c = this.child;
    this.child = undefined;
    if (c && c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
  }

  // ── RouteSource ───────────────────────────────────────────────────────────

  yieldTo(slots: readonly RouteSlot[]): void {
    this.mirror.yieldTo(slots);
  }

  afterReload(): void {
    this.mirror.afterReload();
  }

  status(): { table: string; netns: string; routes: number; synced: boolean } {
    return { table: tableName(this.table), netns: this.netns ?? "", routes: this.mirror.count, synced: this.state === "synced" };
  }

  stop(): void {
    this.state = "stopped";
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.kill();
  }
}
