/**
 * Loads the WebAssembly core (wasm/release.wasm, wasm/debug.wasm or wasm/checked.wasm, the build whose
 * memory accesses are bounds-checked: bounds.ts) with a typed view of its ABI.
 * No generated glue: one `WebAssembly.Instance`, exports called from monomorphic sites.
 * Memory can grow during control-plane calls, which detaches typed-array views: take views through
 * `u32()` / `i32()` after any call that may allocate.
 */
import { readFileSync, existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { boundsImports } from "./bounds.ts";

export interface CoreExports {
  memory: WebAssembly.Memory;
  abi_version(): number;
  mem_alloc(size: number): number;
  mem_free(p: number, size: number): void;
  mem_bytes_in_use(): number;
  mem_bytes_claimed(): number;
  mem_top(): number;
  fib_table_create(): number;
  fib_table_destroy(t: number): void;
  fib_table_bytes(t: number): number;
  fib_short_set(t: number, addr: number, len: number, result: number): number;
  fib_short_delete(t: number, addr: number, len: number, replResult: number, replLen: number): number;
  fib_route_put(t: number, addr: number, len: number, result: number): number;
  fib_rebuild(t: number, slot: number): number;
  fib_route_list_bytes(t: number): number;
  fib_check(t: number): number;
  fib_result_reserve(n: number): number;
  fib_result_set(id: number, type: number, nhFirst: number, nhCount: number, prefsrc: number): number;
  fib_nexthop_reserve(n: number): number;
  fib_nexthop_set(i: number, gateway: number, oif: number, upperBound: number, flags: number): number;
  fib_flow_hash(src: number, dst: number): number;
  fib_rules_reserve(n: number): number;
  fib_rules_commit(n: number): number;
  fib_lookup(t: number, dst: number): number;
  fib_lookup_batch(t: number, keys: number, out: number, n: number): void;
  fib_route(dst: number, src: number, iif: number, mark: number, tos: number): number;
  fib_route_batch(keys: number, out: number, n: number): void;
  cache_init(buckets: number, secret: number, seed: number, now: number): number;
  cache_set_param(id: number, v: number): number;
  cache_set_if(ifindex: number, flags: number): number;
  cache_tick(now: number): void;
  /** ms until cache_tick or dp_tick has something to do (0xffffffff: nothing); forgets core_wake_take's wake. */
  core_next_wake(now: number): number;
  /** ms until the earliest timer armed since the last ask (0xffffffff: none). */
  core_wake_take(now: number): number;
  cache_flush(value: number, now: number): void;
  cache_gc(now: number): number;
  cache_release(entry: number, holder: number): void;
  cache_holders(now: number): number;
  cache_input_batch(keys: number, out: number, n: number, now: number, takeRef: number): void;
  cache_output_batch(keys: number, out: number, n: number, now: number, takeRef: number): void;
  cache_hit_stages(keys: number, out: number, n: number, now: number, stage: number): void;
  cache_dump(out: number, max: number, cursor: number): number;
  cache_chain_length(i: number): number;
  cache_counters(): number;
  cache_events(): number;
  cache_allocated(): number;
  cache_hashed(): number;
  cache_garbage(): number;
  cache_garbage_oldest_age(now: number): number;
  cache_bytes(): number;
  cache_state(which: number): number;
  dp_parse_batch(buf: number, slot: number, lens: number, n: number, out: number): void;
  dp_decrement_ttl(frame: number): void;
  dp_icmp_error(f: number, len: number, type: number, code: number, mtu: number, macPtr: number, src: number, out: number): number;
  dp_icmp_forbidden(f: number, len: number): number;
  dp_icmp_echo_reply(f: number, len: number, macPtr: number, out: number): number;
  dp_error_allowed(state: number, now: number, costMs: number, burstMs: number): number;
  dp_error_init(state: number, now: number, burstMs: number): void;
  dp_redirect_allowed(state: number, now: number, loadMs: number, number: number, silenceMs: number): number;
}

export type BuildFlavor = "release" | "debug" | "checked";
export const BUILD_FLAVORS: readonly BuildFlavor[] = ["release", "debug", "checked"];

export const ABI_VERSION = 2;
/** Byte offset of the single-key fib_route() answer in the header below memoryBase. */
export const ROUTE1_OUT = 16;

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function wasmPath(flavor: BuildFlavor): string {
  return join(root, "wasm", `${flavor}.wasm`);
}

const modules = new Map<BuildFlavor, WebAssembly.Module>();

/** The compiled module of a build flavour (compiled once per process). */
export function coreModule(flavor: BuildFlavor = "release"): WebAssembly.Module {
  let m = modules.get(flavor);
  if (!m) {
    const path = wasmPath(flavor);
    if (!existsSync(path)) {
      // A fresh checkout: compile the core once, as `npm start` and `npm test` would.
      execFileSync(process.execPath, [join(root, "scripts", "build.mjs"), "--if-stale"], { stdio: ["ignore", "ignore", "inherit"] });
      if (!existsSync(path)) throw new Error(`wasmroute: ${path} is missing and could not be built; run "npm run build"`);
    }
    m = new WebAssembly.Module(readFileSync(path));
    modules.set(flavor, m);
  }
  return m;
}

/**
 * Listener of the core's GC probe (assembly/cache/gc-probe.ts): kind 0 rt_garbage_collect's sweep,
 * 1 rt_check_expire, 2 the dst garbage reaper; phase 0 begins, 1 ends with the work done.
 */
export type GcStepListener = (kind: number, phase: number, work: number) => void;

/** A fresh core instance (its own memory). */
export class Core {
  readonly x: CoreExports;
  /** Called at each GC step's start and end (host/cache/gc-step-timer.ts times them); none by default. */
  onGcStep: GcStepListener | undefined;
  private buf: ArrayBuffer;
  private u32v: Uint32Array;
  private i32v: Int32Array;

  /** A build flavour of wasm/, or a compiled module of another build of the core (bench/ab.ts compares two). */
  constructor(build: BuildFlavor | WebAssembly.Module = (process.env.WASMROUTE_CORE as BuildFlavor) || "release") {
    const module = build instanceof WebAssembly.Module ? build : coreModule(build);
    const gcProbe = { gc_step: (kind: number, phase: number, work: number) => this.onGcStep?.(kind, phase, work) };
    const inst = new WebAssembly.Instance(module, { ...boundsImports(module), env: gcProbe });
    this.x = inst.exports as unknown as CoreExports;
    if (this.x.abi_version() !== ABI_VERSION) {
      throw new Error(`wasmroute: core ABI ${this.x.abi_version()} does not match host ABI ${ABI_VERSION}; rebuild`);
    }
    this.buf = this.x.memory.buffer;
    this.u32v = new Uint32Array(this.buf);
    this.i32v = new Int32Array(this.buf);
  }

  private refresh(): void {
    if (this.x.memory.buffer !== this.buf) {
      this.buf = this.x.memory.buffer;
      this.u32v = new Uint32Array(this.buf);
      this.i32v = new Int32Array(this.buf);
    }
  }

  /** Current Uint32Array over all of linear memory. */
  u32(): Uint32Array {
    this.refresh();
    return this.u32v;
  }

  /** Current Int32Array over all of linear memory. */
  i32(): Int32Array {
    this.refresh();
    return this.i32v;
  }

  /** Allocates a block in the core's arena (for I/O areas); throws on ENOMEM. */
  alloc(bytes: number): number {
    const p = this.x.mem_alloc(bytes) >>> 0;
    if (p === 0) throw new Error(`wasmroute: core out of memory allocating ${bytes} bytes`);
    return p;
  }
}
