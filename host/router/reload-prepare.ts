/**
 * What a reload (SIGHUP) works out before it touches the router: the new config parsed and checked, and its
 * diff against the config in effect. Both are pure, and for a full table they take about a second, so they
 * run in a worker thread (reload-worker.mjs) while the main thread goes on forwarding; the main thread then
 * applies the diff (Router.reload).
 *
 * Messages: main → worker { id, text, path, current }; worker → main { ready } once its modules are loaded,
 * then { id, next, diff } or { id, error } for each request.
 * Configs and diffs are plain data (typed arrays included), so they cross by structured clone.
 */
import { Worker, parentPort } from "node:worker_threads";
import { parseConfig, type RouterConfig } from "./config.ts";
import { diffConfig, type ConfigDiff } from "./config-diff.ts";

export interface PreparedReload {
  /** The config the diff was taken against (the caller's own object). */
  against: RouterConfig;
  next: RouterConfig;
  diff: ConfigDiff;
}

interface Request {
  id: number;
  text: string;
  path: string;
  current: RouterConfig;
}
type Reply = { id: number; next: RouterConfig; diff: ConfigDiff } | { id: number; error: string } | { ready: true };

/** The worker's side: answers every request, a bad config with its one-line error. */
export function serveReloads(): void {
  parentPort!.on("message", (q: Request) => {
    let reply: Reply;
    try {
      const next = parseConfig(q.text, q.path);
      reply = { id: q.id, next, diff: diffConfig(q.current, next) };
    } catch (e) {
      reply = { id: q.id, error: e instanceof Error ? e.message : String(e) };
    }
    parentPort!.postMessage(reply);
  });
  parentPort!.postMessage({ ready: true } satisfies Reply);
}

/** The main thread's side: one worker, started on the first reload (or by ready()), that never keeps the process alive. */
export class ReloadWorker {
  private worker: Worker | undefined;
  private loaded: Promise<void> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { current: RouterConfig; resolve: (p: PreparedReload) => void; reject: (e: Error) => void }>();

  /** The config in `text` (file `path`) parsed and diffed against `current`, off the main thread. */
  prepare(text: string, path: string, current: RouterConfig): Promise<PreparedReload> {
    const w = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { current, resolve, reject });
      w.postMessage({ id, text, path, current } satisfies Request);
    });
  }

  /**
   * Starts the worker and resolves once it has loaded every module it needs. After a privilege drop the
   * worker may not be able to read them (a checkout only root can enter), so `--user` waits for this first.
   */
  ready(): Promise<void> {
    this.start();
    return this.loaded!;
  }

  close(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // execArgv []: the entry registers tsx itself, whatever flags started this process.
    const w = new Worker(new URL("./reload-worker.mjs", import.meta.url), { execArgv: [] });
    w.unref();
    let loaded!: () => void;
    let failedToLoad!: (e: Error) => void;
    this.loaded = new Promise<void>((resolve, reject) => {
      loaded = resolve;
      failedToLoad = reject;
    });
    this.loaded.catch(() => {}); // a reload reports the failure; ready() callers see it too
    w.on("message", (r: Reply) => {
      if ("ready" in r) return loaded();
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if ("error" in r) p.reject(new Error(r.error));
      else p.resolve({ against: p.current, next: r.next, diff: r.diff });
    });
    const fail = (e: Error) => {
      failedToLoad(e);
      for (const p of this.pending.values()) p.reject(new Error(`reload worker failed: ${e.message}`));
      this.pending.clear();
      this.worker = undefined;
    };
    w.on("error", fail);
    w.on("exit", (code) => {
      if (this.worker === w) fail(new Error(`exited with code ${code}`));
    });
    this.worker = w;
    return w;
  }
}
