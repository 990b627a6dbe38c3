/**
 * The mirrored part of the FIB (#6, `--sync-from-kernel`): what the kernel table holds (`desired`, fed by
 * a dump and by monitor events, host/router/kernel-route.ts) against what this mirror has put into
 * wasmroute's FIB (`applied`). `commit` reconciles the keys that changed since the last commit in one
 * FIB transaction through the `ip route` grammar (host/cli/commands.ts), followed by the lazy cache
 * flush the router does after every FIB change; a fresh dump (`replaceAll`) marks every key, so a
 * resync after a lost monitor changes only what differs.
 *
 * Mirrored routes are told from config and control-socket routes by key (table, prefix, metric): a
 * kernel route whose key the FIB already holds for someone else is not mirrored (logged), and a SIGHUP
 * reload that adds a config route at a mirrored key takes it over (`yieldTo`); the kernel route comes
 * back when the config route goes (`afterReload`). A route the FIB refuses (a gateway that none of
 * wasmroute's connected routes reaches) is logged and left out whole; the rest of the batch applies.
 */
import type { Fib } from "../fib/fib.ts";
import { routeMatches } from "../fib/fib.ts";
import type { Route } from "../fib/types.ts";
import { runIpCommand } from "../cli/commands.ts";
import { routeDelText, formatDst } from "../cli/format.ts";
import { routeSelectorOf } from "./config.ts";
import { keyOfRoute, routeKey, type KernelLine } from "./kernel-route.ts";
import type { RouteSlot } from "./router.ts";
import type { Logger } from "./logger.ts";

/** A kernel route as wasmroute mirrors it: the words of `ip route replace WORDS` and the route they give. */
interface Mirrored {
  words: string[];
  route: Route;
}

/** What the kernel holds at a key: a route to mirror, or one that cannot be (with why). */
type Wanted = Mirrored | { reason: string; prefix: string };

/** What one commit changed. */
export interface CommitResult {
  mutated: boolean;
  added: number;
  replaced: number;
  removed: number;
  /** Routes of the kernel table not mirrored: inexpressible, refused by the FIB, or a key held by the config. */
  refused: number;
}

/** Where mirrored routes go: the router's FIB and its change path (one transaction, then the lazy flush). */
export interface FibTarget {
  readonly fib: Fib;
  changeFib<T extends { mutated: boolean }>(fn: () => T): T;
}

export class RouteMirror {
  private readonly desired = new Map<string, Wanted>();
  private readonly applied = new Map<string, Mirrored>();
  private readonly dirty = new Set<string>();
  /** Mirrored routes a reload took over, until `afterReload` sees whether it kept them out. */
  private readonly yielded = new Map<string, Mirrored>();
  /** The reason last logged for a key not mirrored: a resync does not repeat it. */
  private readonly reported = new Map<string, string>();
  private readonly target: FibTarget;
  private readonly log: Logger;
  /** Names the source in log lines, e.g. "kernel table main of netns wr-ctl". */
  private readonly source: string;

  constructor(target: FibTarget, log: Logger, source: string) {
    this.target = target;
    this.log = log;
    this.source = source;
  }

  /** Routes mirrored into the FIB now. */
  get count(): number {
    return this.applied.size;
  }

  /** Routes of the kernel table (mirrored or not). */
  get kernelCount(): number {
    return this.desired.size;
  }

  /** One parsed monitor line (an add, a replace or a delete), in the order the kernel sent it. */
  event(l: KernelLine): void {
    if (l.kind === "ignore") return;
    this.dirty.add(l.key);
    if (l.deleted) this.desired.delete(l.key);
    else this.desired.set(l.key, l.kind === "route" ? { words: l.words, route: l.route } : { reason: l.reason, prefix: l.prefix });
  }

  /** A full dump of the table: it becomes what the kernel holds, and every key is reconciled. */
  replaceAll(lines: readonly KernelLine[]): void {
    for (const k of this.desired.keys()) this.dirty.add(k);
    for (const k of this.applied.keys()) this.dirty.add(k);
    this.desired.clear();
    for (const l of lines) if (l.kind !== "ignore" && !l.deleted) this.event(l);
  }

  /** Reconciles every key changed since the last commit: one FIB transaction. */
  commit(): CommitResult {
    const r: CommitResult = { mutated: false, added: 0, replaced: 0, removed: 0, refused: 0 };
    if (this.dirty.size === 0) return r;
    const keys = [...this.dirty];
    this.dirty.clear();
    return this.target.changeFib(() => {
      for (const k of keys) this.reconcile(k, r);
      r.mutated = r.added + r.replaced + r.removed > 0;
      return r;
    });
  }

  private reconcile(key: string, r: CommitResult): void {
    const want = this.desired.get(key);
    const have = this.applied.get(key);
    if (want && "reason" in want) {
      this.refuse(key, `${want.prefix}: ${want.reason}`);
      r.refused++;
    } else if (want) {
      if (have && sameWords(have.words, want.words)) return;
      if (!have && this.heldByOthers(want.route)) {
        this.refuse(key, `${formatDst(want.route.prefix, want.route.len)} metric ${want.route.metric}: the FIB holds a route of the config or the control socket there`);
        r.refused++;
        return;
      }
      // Every step of `route replace` that can refuse (parsing, the gateway check) runs before it
      // changes anything, so a refusal here leaves the transaction's other changes intact.
      try {
        runIpCommand(this.target.fib, ["route", "replace", ...want.words], noOutput);
        this.applied.set(key, want);
        this.reported.delete(key);
        if (have) r.replaced++;
        else r.added++;
        return;
      } catch (e) {
        this.refuse(key, `${want.words.join(" ")}: ${oneLine(e)}`);
        r.refused++;
      }
    }
    // Nothing (expressible) at this key in the kernel any more: the mirrored route goes.
    if (!want) this.reported.delete(key);
    if (have && this.remove(key, have)) r.removed++;
  }

  private remove(key: string, have: Mirrored): boolean {
    this.applied.delete(key);
    try {
      runIpCommand(this.target.fib, routeDelText(routeSelectorOf(have.route)).split(" "), noOutput);
      return true;
    } catch (e) {
      // Someone replaced or deleted it through the control socket: it is no longer ours.
      this.log.log("warn", "kernel_sync_lost_route", `kernel sync: mirrored route ${formatDst(have.route.prefix, have.route.len)} was already changed in the FIB: ${oneLine(e)}`);
      return false;
    }
  }

  /** The FIB has a route at the key of `route` that this mirror did not put there. */
  private heldByOthers(route: Route): boolean {
    return this.target.fib.routesAt(route.table, route.prefix, route.len).some((x) => x.metric === route.metric);
  }

  private refuse(key: string, what: string): void {
    if (this.reported.get(key) === what) return;
    this.reported.set(key, what);
    this.log.log("warn", "kernel_sync_skip", `kernel sync from ${this.source}: not mirrored: ${what}`);
  }

  /**
   * Inside a reload's FIB transaction, before the config's routes are added: gives up the mirrored
   * routes at their keys (the config wins). `afterReload` must follow, whether the reload applied or not.
   */
  yieldTo(slots: readonly RouteSlot[]): void {
    for (const s of slots) {
      const keys = s.metric !== undefined ? [keyOfRoute({ ...s, metric: s.metric })] : [...this.applied.keys()].filter((k) => k.startsWith(routeKey(s.table, s.prefix, s.len, 0).replace(/\|0$/, "|")));
      for (const key of keys) {
        const have = this.applied.get(key);
        if (!have) continue;
        this.applied.delete(key);
        runIpCommand(this.target.fib, routeDelText(routeSelectorOf(have.route)).split(" "), noOutput);
        this.yielded.set(key, have);
      }
    }
  }

  /** After a reload: takes back yielded routes a refused reload restored, then reconciles every key. */
  afterReload(): CommitResult {
    for (const [key, have] of this.yielded) {
      const sel = routeSelectorOf(have.route);
      if (this.target.fib.routesAt(have.route.table, have.route.prefix, have.route.len).some((x) => routeMatches(x, sel) && x.proto === have.route.proto)) {
        this.applied.set(key, have);
      }
    }
    this.yielded.clear();
    for (const k of this.desired.keys()) this.dirty.add(k);
    return this.commit();
  }

  /** Every mirrored route, as `route replace` words (tests, diagnostics). */
  mirrored(): string[][] {
    return [...this.applied.values()].map((m) => m.words);
  }
}

const noOutput = (): void => {};

function sameWords(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((w, i) => w === b[i]);
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, " ");
}
