/**
 * The live control socket of a running router (#6): a unix stream socket, mode 0600, by default
 * /run/wasmroute/NAME.sock (`wasmroute run --control PATH`), through which `wasmroute -n NAME …` runs
 * the CLI's commands against the router itself.
 *
 * Protocol: line-delimited JSON, UTF-8, one object per line.
 *
 *   client → server   {"argv": ["ip", "-s", "route", "show", "cache"]}
 *   server → client   {"stdout": "TEXT"}   zero or more, in order (TEXT is latin1: one char per byte)
 *                     {"stderr": "TEXT"}   zero or more
 *                     {"exit": N}          last: the exit status (0 ok, 2 refused or bad input, …)
 *
 * A connection may send several requests; they run one after the other, each answered up to its
 * {"exit"} line. A request line longer than 64 KiB, or one that is not such an object, is answered
 * with one error line and exit 2, and the connection is closed.
 *
 * Commands (the words after `wasmroute -n NAME`, i.e. what `wasmroute` would get):
 *
 *   ip [-s]… [-o] route add|append|replace|change|prepend|del|show|get|flush|load …   (host/cli/commands.ts)
 *   ip rule add|del|show …
 *   ip [-s] route show|list cache [PREFIX]      host/cache/show-cache.ts over router.cache.entryDump(), sent in pieces
 *   ip route flush cache                        lazy flush (genid bump), as `ip route flush cache` writes -1
 *   ip [-s [-s]] [-o|-j] link [show [dev] NAME]  the ports, as iproute2 prints links (host/router/links.ts:
 *                                               bytes, packets, drops, missed, cut frames)
 *   ip [-s] neigh add|replace|change|del|show|flush …                (host/cli/parse-neigh.ts)
 *   sysctl [-n|-N] [-q] [-e] [-w] NAME[=VALUE]… | -a    route-cache, interface and neighbour knobs
 *   cat /proc/net/stat/rt_cache                 the statistics directory's file, refreshed first
 *       (also /proc/net/stat/arp_cache, /proc/net/snmp, /proc/net/netstat, /proc/net/arp)
 *   nstat [OPTIONS] [PATTERN…]                  iproute2's nstat on the router's statistics directory
 *   lnstat [OPTIONS]                            iproute2's lnstat on it, streamed; stops when the client goes
 *
 * Atomicity: every command but lnstat runs synchronously in one turn of the event loop, so two clients
 * never interleave inside a command and the data plane never sees half of one. A route or rule change
 * is one FIB transaction (a refused one changes nothing) followed by a lazy cache flush; a sysctl
 * command validates every write before making any. Output is held until the command has finished, so
 * a refused command prints only its one error line. A client that disconnects mid-command changes
 * nothing about this: the command completes (or is refused) as a whole and its answer is dropped;
 * a running lnstat is stopped at its next sleep.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Router } from "./router.ts";
import { runIpCommand } from "../cli/commands.ts";
import { parseRouteCommand } from "../cli/parse-route.ts";
import { formatRoute } from "../cli/format.ts";
import { parseNeighCommand, neighFilterStates, type NudName } from "../cli/parse-neigh.ts";
import { formatNeigh, NUD } from "./neigh-table.ts";
import { formatCacheEntry, type ShowCacheOptions } from "../cache/show-cache.ts";
import { formatLinks, formatLinksJson, type LinkView } from "../cli/format-link.ts";
import { formatRtCacheStat } from "../cache/stat.ts";
import { canonicalSysctlName, sysctlInfo } from "../cache/sysctl.ts";
import { sysctlAllLines } from "./if-sysctl.ts";
import { runNstat } from "../cli/nstat-command.ts";
import { runLnstat } from "../cache/lnstat.ts";
import { parsePrefix, maskOf } from "../fib/ipv4.ts";

/** Where a router named NAME listens unless `--control PATH` says otherwise. */
export function defaultControlPath(name: string): string {
  return join("/run/wasmroute", `${name}.sock`);
}

/** The largest request line accepted. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** Routes `ip route show` formats between two turns of the event loop (about 10 ms of work). */
const ROUTES_PER_TURN = 4096;

/** One answer message. */
export type ControlMessage = { stdout: string } | { stderr: string } | { exit: number };

/** What a command writes; `closed` is true once the client has gone. */
interface Out {
  stdout(text: string): void;
  stderr(text: string): void;
  readonly closed: boolean;
  /** Set by a command that changed the router: logged as a `control_change` event when it succeeds. */
  changed?: boolean;
}

class CommandError extends Error {}

const oneLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, " ");

/** The /proc files `cat` can show, relative to the statistics directory. */
const CAT_FILES: Record<string, string> = {
  "/proc/net/stat/rt_cache": "net/stat/rt_cache",
  "/proc/net/stat/arp_cache": "net/stat/arp_cache",
  "/proc/net/snmp": "net/snmp",
  "/proc/net/netstat": "net/netstat",
  "/proc/net/arp": "net/arp",
};

const NUD_BITS: Record<NudName, number> = {
  permanent: NUD.PERMANENT, noarp: NUD.NOARP, reachable: NUD.REACHABLE, stale: NUD.STALE,
  incomplete: NUD.INCOMPLETE, delay: NUD.DELAY, probe: NUD.PROBE, failed: NUD.FAILED, none: NUD.NONE,
};

export class ControlServer {
  readonly path: string;
  private readonly router: Router;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(router: Router, path: string) {
    this.router = router;
    this.path = path;
  }

  /**
   * Listens on `path` (mode 0600; its directory is created). A stale socket left by a dead router is
   * replaced; one a live process still answers on is refused.
   */
  static async start(router: Router, path: string): Promise<ControlServer> {
    const c = new ControlServer(router, path);
    mkdirSync(dirname(path), { recursive: true });
    if (existsSync(path)) {
      if (!lstatSync(path).isSocket()) throw new Error(`control socket ${path}: exists and is not a socket`);
      if (await answers(path)) throw new Error(`control socket ${path}: another router is listening there`);
      unlinkSync(path);
    }
    const server = createServer((s) => c.accept(s));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        // bind(2) happens inside listen() for a path: the umask makes the socket 0600 from its birth,
        // and is put back at once so that no other file of the process is created under it.
        const oldMask = process.umask(0o177);
        try {
          server.listen(path, () => {
            server.off("error", reject);
            resolve();
          });
        } finally {
          process.umask(oldMask);
        }
      });
    } catch (e) {
      throw new Error(`control socket ${path}: ${oneLine(e)}`);
    }
    chmodSync(path, 0o600);
    server.on("error", (e) => router.log.log("error", "control_error", `control socket: ${oneLine(e)}`));
    c.server = server;
    return c;
  }

  /** Stops listening, drops the clients and removes the socket file. */
  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    this.sockets.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }

  private accept(sock: Socket): void {
    this.sockets.add(sock);
    let buf = "";
    let busy: Promise<void> = Promise.resolve();
    let closed = false;
    const send = (m: ControlMessage): void => {
      if (closed || sock.destroyed || !sock.writable) return;
      sock.write(`${JSON.stringify(m)}\n`);
    };
    const out: Out = {
      stdout: (t) => send({ stdout: t }),
      stderr: (t) => send({ stderr: t }),
      get closed() {
        return closed;
      },
    };
    const gone = (): void => {
      closed = true;
      this.sockets.delete(sock);
    };
    sock.setEncoding("utf8");
    sock.on("error", gone); // EPIPE, ECONNRESET: the client went away; nothing to undo
    sock.on("close", gone);
    sock.on("end", () => {
      // The client half-closed: answer what it sent, then close our side.
      void busy.then(() => sock.end());
    });
    sock.on("data", (chunk: string) => {
      buf += chunk;
      for (;;) {
        const nl = buf.indexOf("\n");
        if (nl < 0) break;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim() === "") continue;
        busy = busy.then(() => this.serve(line, out, send));
      }
      if (buf.length > MAX_REQUEST_BYTES) {
        buf = "";
        busy = busy.then(() => {
          send({ stderr: `wasmroute: control request longer than ${MAX_REQUEST_BYTES} bytes\n` });
          send({ exit: 2 });
          sock.end();
        });
      }
    });
  }

  /** Runs one request line. A whole request runs whole even when its client has already gone. */
  private async serve(line: string, out: Out, send: (m: ControlMessage) => void): Promise<void> {
    let argv: string[];
    try {
      const req = JSON.parse(line) as { argv?: unknown };
      if (!req || !Array.isArray(req.argv) || !req.argv.every((w) => typeof w === "string")) throw new Error("bad request");
      argv = req.argv as string[];
    } catch {
      send({ stderr: `wasmroute: bad control request (expected {"argv": ["word", ...]})\n` });
      send({ exit: 2 });
      return;
    }
    let status: number;
    const req: Out = { stdout: out.stdout, stderr: out.stderr, get closed() { return out.closed; }, changed: false };
    try {
      status = await this.run(argv, req);
      if (req.changed) this.router.log.log("info", "control_change", `control: ${argv.join(" ")}`, { argv: argv.join(" ") });
    } catch (e) {
      out.stderr(`${oneLine(e)}\n`);
      status = 2;
    }
    this.router.dp.timersChanged(); // a neighbour's timer or held frames, a cache flush's reaper
    send({ exit: status });
  }

  /** Runs one command; resolves to its exit status. Throws (one line) when it is refused. */
  async run(argv: readonly string[], out: Out): Promise<number> {
    const [cmd, ...rest] = argv;
    switch (cmd) {
      case "ip":
        return this.ip(rest, out);
      case "sysctl":
        return this.sysctl(rest, out);
      case "cat":
        return this.cat(rest, out);
      case "nstat":
        return this.nstat(rest, out);
      case "lnstat":
        return this.lnstat(rest, out);
      case undefined:
        throw new CommandError("wasmroute: missing command (ip, sysctl, cat, nstat or lnstat)");
      default:
        throw new CommandError(`wasmroute: unknown command "${cmd}" for a running router (ip, sysctl, cat, nstat or lnstat)`);
    }
  }

  // ── ip ────────────────────────────────────────────────────────────────────

  /**
   * Sends an answer a piece at a time, giving the event loop a turn between pieces, so that a long answer
   * (a full table's `ip route show`, about 2 s of formatting, or a cache of millions of entries) never holds
   * the ports for long. Stops making pieces when the client goes.
   */
  private async sendPieces(pieces: Iterable<string>, out: Out): Promise<number> {
    for (const text of pieces) {
      if (text) out.stdout(text);
      if (out.closed) return 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return 0;
  }

  /** `ip route show [table T|all]`, ROUTES_PER_TURN routes a piece (Fib.routeDump). */
  private *routeShowPieces(table: number | "all"): Generator<string> {
    const showTable = table === "all";
    let text = "";
    let n = 0;
    for (const r of this.router.fib.routeDump(table)) {
      for (const line of formatRoute(r, { showTable })) text += `${line}\n`;
      if (++n % ROUTES_PER_TURN === 0) {
        yield text;
        text = "";
      }
    }
    if (text) yield text;
  }

  /** `ip route show cache [PREFIX]`, a piece of the cache at a time (RouteCache.entryDump, 4,096 entries). */
  private *cacheShowPieces(p: { addr: number; len: number } | undefined, opts: ShowCacheOptions): Generator<string> {
    const mask = p ? maskOf(p.len) : 0;
    for (const piece of this.router.cache.entryDump(() => this.router.clockMs())) {
      let text = "";
      for (const e of piece) if (!p || ((e.dst & mask) >>> 0) === p.addr) text += formatCacheEntry(e, opts);
      yield text;
    }
  }

  private ip(argv: readonly string[], out: Out): number | Promise<number> {
    let stats = 0;
    let oneline = false;
    let json = false;
    let i = 0;
    for (; i < argv.length && argv[i]!.startsWith("-"); i++) {
      const o = argv[i]!.replace(/^--?/, "-");
      if (o === "-s" || o === "-stats" || o === "-statistics") stats++;
      else if (o === "-o" || o === "-oneline") oneline = true;
      else if (o === "-j" || o === "-json") json = true;
      else if (o === "-4") continue;
      else throw new CommandError(`wasmroute: unknown ip option "${argv[i]}" (-s, -o, -j or -4 against a running router)`);
    }
    const words = argv.slice(i);
    const object = words[0];
    if (json && object !== "link") throw new CommandError(`wasmroute: -j (JSON) is for "ip link" against a running router`);
    const lines: string[] = [];
    if (object === "route" && (words[1] === "show" || words[1] === "list") && words[2] === "cache") {
      if (words.length > 4) throw new CommandError(`wasmroute: "ip route show cache" takes at most one prefix, got "${words.slice(4).join(" ")}"`);
      const p = words[3] !== undefined ? parsePrefix(words[3]) : undefined;
      return this.sendPieces(this.cacheShowPieces(p, { stats: stats > 0, oneline }), out);
    }
    if (object === "link") {
      const links = this.selectLinks(words.slice(1));
      const text = json ? formatLinksJson(links, stats) : formatLinks(links, stats, oneline);
      if (text) out.stdout(text);
      return 0;
    }
    if (object === "route" && words[1] === "flush" && words[2] === "cache") {
      if (words.length > 3) throw new CommandError(`wasmroute: "ip route flush cache" takes no arguments`);
      this.router.cache.flush(-1, this.router.clockMs());
      out.changed = true;
      return 0;
    }
    if (object === "route" && (words.length === 1 || words[1] === "show" || words[1] === "list")) {
      const cmd = parseRouteCommand(words.slice(1));
      if (cmd.op === "show" && !cmd.prefix) return this.sendPieces(this.routeShowPieces(cmd.table), out);
    }
    if (object === "route" || object === "rule") {
      this.checkDevices(words);
      out.changed = this.router.changeFib(() => runIpCommand(this.router.fib, words, (l) => lines.push(l))).mutated;
    } else if (object === "neigh" || object === "neighbor" || object === "neighbour") {
      this.neigh(words.slice(1), stats > 0, lines, out);
    } else if (object === undefined) {
      throw new CommandError(`wasmroute: missing "link …", "route …", "rule …" or "neigh …"`);
    } else {
      throw new CommandError(`unknown object "${object}": expected "link", "route", "rule" or "neigh"`);
    }
    if (lines.length > 0) out.stdout(lines.map((l) => `${l}\n`).join(""));
    return 0;
  }

  /** `link [show|list] [[dev] NAME]`: the ports named (all if none), as iproute2 takes the words. */
  private selectLinks(words: readonly string[]): LinkView[] {
    let w = [...words];
    if (w[0] === "show" || w[0] === "list" || w[0] === "lst") w = w.slice(1);
    else if (w.length > 0) throw new CommandError(`wasmroute: "ip link ${w[0]}" is not supported against a running router (ip link show [dev NAME]; links are set in the config)`);
    if (w[0] === "dev") w = w.slice(1);
    if (w.length > 1) throw new CommandError(`wasmroute: "ip link show" takes at most one device, got "${w.join(" ")}"`);
    const links = this.router.links();
    if (w.length === 0) return links;
    const found = links.filter((l) => l.ifname === w[0]);
    if (found.length === 0) throw new CommandError(`Device "${w[0]}" does not exist.`);
    return found;
  }

  /** The router's links (plus any name the FIB already knows, such as lo). */
  private knownDevice(name: string): boolean {
    return this.router.ifSysctls.interfaces().includes(name) || this.router.fib.ifaces.find(name) !== undefined;
  }

  /** `dev`/`oif`/`iif` must name a link of this router, as the kernel wants an existing device. */
  private checkDevices(words: readonly string[]): void {
    for (let k = 0; k + 1 < words.length; k++) {
      const w = words[k];
      if ((w === "dev" || w === "oif" || w === "iif") && !this.knownDevice(words[k + 1]!)) throw new CommandError(`Cannot find device "${words[k + 1]}"`);
    }
  }

  private neigh(words: readonly string[], stats: boolean, lines: string[], out: Out): void {
    const cmd = parseNeighCommand(words);
    const nt = this.router.neigh;
    const where = (addr: number, dev: string) => nt.list().find((e) => e.addr === addr && e.dev === dev);
    switch (cmd.op) {
      case "add":
      case "replace":
      case "change": {
        const n = cmd.neigh;
        if (!this.knownDevice(n.dev)) throw new CommandError(`Cannot find device "${n.dev}"`);
        const existing = where(n.addr, n.dev);
        if (cmd.op === "add" && existing) throw new CommandError(`RTNETLINK answers: File exists`);
        if (cmd.op === "change" && !existing) throw new CommandError(`RTNETLINK answers: No such file or directory`);
        nt.add({ dev: n.dev, addr: n.addr, lladdr: n.lladdr, nud: n.nud });
        out.changed = true;
        return;
      }
      case "del":
        if (!this.knownDevice(cmd.dev)) throw new CommandError(`Cannot find device "${cmd.dev}"`);
        if (!nt.del({ dev: cmd.dev, addr: cmd.addr })) throw new CommandError(`RTNETLINK answers: No such file or directory`);
        out.changed = true;
        return;
      case "show":
      case "flush": {
        if (cmd.dev !== undefined && !this.knownDevice(cmd.dev)) throw new CommandError(`Cannot find device "${cmd.dev}"`);
        // iproute2's default view hides NOARP and state-less entries; `nud all` shows them.
        const names = cmd.op === "show" && cmd.nud === undefined ? neighFilterStates(cmd).filter((n) => n !== "noarp" && n !== "none") : neighFilterStates(cmd);
        const wanted = names.reduce((m, n) => m | NUD_BITS[n], 0);
        const wantNone = names.includes("none");
        const p = cmd.prefix;
        const selected = nt.list().filter(
          (e) =>
            (cmd.dev === undefined || e.dev === cmd.dev) &&
            (!p || ((e.addr & maskOf(p.len)) >>> 0) === p.addr) &&
            (e.state === 0 ? wantNone : (e.state & wanted) !== 0),
        );
        if (cmd.op === "show") {
          for (const e of selected) lines.push(formatNeigh(e, { showDev: cmd.dev === undefined, stats }));
        } else {
          for (const e of selected) nt.del({ dev: e.dev, addr: e.addr });
          out.changed ||= selected.length > 0;
          if (stats) lines.push(selected.length === 0 ? "Nothing to flush." : `\n*** Round 1, deleting ${selected.length} entries ***\n*** Flush is complete after 1 round ***`);
        }
        return;
      }
    }
  }

  // ── sysctl ──────────────────────────────────────────────────────────────────

  /**
   * sysctl(8) on the router's knobs: `-a`, reads, and writes (`NAME=VALUE`, or every argument with -w),
   * with -n, -N, -q, -e. The writes of one command are validated together and applied together; reads
   * then see the values after the whole command.
   */
  private sysctl(argv: readonly string[], out: Out): number {
    let all = false, write = false, valuesOnly = false, namesOnly = false, quiet = false, ignore = false;
    const args: string[] = [];
    for (const a of argv) {
      if (a.startsWith("-") && a.length > 1 && !args.length) {
        for (const c of a.slice(1)) {
          if (c === "a" || c === "A" || c === "X") all = true;
          else if (c === "w") write = true;
          else if (c === "n") valuesOnly = true;
          else if (c === "N") namesOnly = true;
          else if (c === "q") quiet = true;
          else if (c === "e") ignore = true;
          else if (c === "p" || c === "f") throw new CommandError(`wasmroute sysctl: -p is not available against a running router (send NAME=VALUE words)`);
          else throw new CommandError(`wasmroute sysctl: unknown option "-${c}"`);
        }
      } else args.push(a);
    }
    if (all && args.length > 0) throw new CommandError("wasmroute sysctl: -a takes no names");
    if (!all && args.length === 0) throw new CommandError("wasmroute sysctl: no variables specified");
    const show = (name: string, value: string) => (namesOnly ? name : valuesOnly ? value : `${name} = ${value}`);
    const lines: string[] = [];
    if (all) {
      for (const l of sysctlAllLines(this.router.ifSysctls, this.router.routeSysctls)) {
        const eq = l.indexOf(" = ");
        lines.push(eq < 0 ? l : show(l.slice(0, eq), l.slice(eq + 3)));
      }
    } else {
      const steps: { name: string; value?: string }[] = [];
      for (const arg of args) {
        const eq = arg.indexOf("=");
        if (write && eq < 0) throw new CommandError(`${JSON.stringify(arg)} must be of the form name=value`);
        const key = (eq < 0 ? arg : arg.slice(0, eq)).trim();
        const name = this.canonical(key);
        if (name === undefined) {
          if (ignore) continue;
          throw new CommandError(`unknown sysctl ${JSON.stringify(key)}`);
        }
        steps.push({ name, value: eq < 0 ? undefined : arg.slice(eq + 1).trim() });
      }
      const writes = steps.filter((s) => s.value !== undefined) as { name: string; value: string }[];
      if (writes.length > 0) {
        this.router.writeSysctls(writes);
        out.changed = true;
      }
      for (const s of steps) {
        if (s.value !== undefined) {
          if (!quiet) lines.push(show(s.name, s.value));
        } else if (sysctlInfo(s.name)?.kind !== "flush") {
          lines.push(show(s.name, this.readSysctl(s.name)));
        }
      }
    }
    if (lines.length > 0) out.stdout(lines.map((l) => `${l}\n`).join(""));
    return 0;
  }

  private canonical(key: string): string | undefined {
    const route = canonicalSysctlName(key);
    if (route !== undefined) return route;
    try {
      return this.router.ifSysctls.canonicalName(key);
    } catch {
      return undefined;
    }
  }

  private readSysctl(name: string): string {
    return canonicalSysctlName(name) !== undefined ? this.router.routeSysctls.get(name) : this.router.ifSysctls.get(name);
  }

  // ── statistics ──────────────────────────────────────────────────────────────

  private procDir(what: string): string {
    const dir = this.router.procDir;
    if (dir === undefined) throw new CommandError(`wasmroute: ${what}: this router keeps no statistics directory`);
    this.router.writeStats(); // what follows sees the counters of now, not of the last second
    return dir;
  }

  private cat(argv: readonly string[], out: Out): number {
    if (argv.length === 0) throw new CommandError(`wasmroute cat: which file? (${Object.keys(CAT_FILES).join(", ")})`);
    const texts: string[] = [];
    for (const f of argv) {
      const rel = CAT_FILES[f];
      if (rel === undefined) throw new CommandError(`wasmroute cat: ${f}: not one of ${Object.keys(CAT_FILES).join(", ")}`);
      if (this.router.procDir === undefined && f === "/proc/net/stat/rt_cache") texts.push(formatRtCacheStat([this.router.cache.counters()]));
      else texts.push(readFileSync(join(this.procDir("cat"), rel), "latin1"));
    }
    out.stdout(texts.join(""));
    return 0;
  }

  private nstat(argv: readonly string[], out: Out): number {
    if (argv.some((a) => a === "--proc" || a.startsWith("--proc="))) throw new CommandError("wasmroute nstat: --proc cannot be used with -n (the router's own statistics are read)");
    const dir = this.procDir("nstat");
    // Output is held so that the answer is complete or absent.
    let o = "", e = "";
    const status = runNstat(["--proc", dir, ...argv], { stdout: (t) => (o += t), stderr: (t) => (e += t) });
    if (o) out.stdout(o);
    if (e) out.stderr(e);
    return status;
  }

  private async lnstat(argv: readonly string[], out: Out): Promise<number> {
    if (argv.some((a) => a === "--proc" || a.startsWith("--proc="))) throw new CommandError("wasmroute lnstat: --proc cannot be used with -n (the router's own statistics are read)");
    const dir = this.procDir("lnstat");
    const gone = new Error("client gone");
    const sleep = (s: number) =>
      new Promise<void>((resolve, reject) => {
        if (out.closed) return reject(gone);
        const t = setInterval(() => {
          if (out.closed) {
            clearInterval(t);
            reject(gone);
          }
        }, 100);
        setTimeout(() => {
          clearInterval(t);
          if (out.closed) reject(gone);
          else resolve();
        }, s * 1000);
      });
    try {
      return await runLnstat(["--proc", dir, ...argv], { stdout: (t) => out.stdout(t), stderr: (t) => out.stderr(t) }, { sleep });
    } catch (e) {
      if (e === gone) return 141;
      throw e;
    }
  }
}

/** True when something accepts a connection on the unix socket `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
