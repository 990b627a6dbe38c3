/**
 * The host side of the checked core (wasm/checked.wasm, issue #7): the two imports through which its
 * checks report a bad memory access, each turned into a thrown BoundsError with a precise message.
 *   wasmroute.bounds_fault: the whole-module layer (scripts/bounds-instrument.mjs) — a load, store,
 *     memory.copy or memory.fill outside the legal memory; the site number names function and kind.
 *   wasmroute.frame_fault: the frame layer (assembly/dp/window.ts) — an access outside the received
 *     frame's window or across a transmit block; the function is the first one on the wasm stack.
 * The release and debug cores import nothing.
 */

export class BoundsError extends Error {
  override name = "BoundsError";
}

interface SiteTable {
  functions: string[];
  memoryBase: number;
  header: [number, number];
  kinds: string[];
}

const hex = (n: number) => "0x" + n.toString(16);

/** The wasm function that called into the frame check (stack frames look like "at NAME (wasm://…)"). */
function wasmCaller(stack: string | undefined): string {
  for (const line of (stack ?? "").split("\n")) {
    const m = /^\s*at (\S+) \(wasm:\/\//.exec(line);
    if (m && !m[1]!.startsWith("assembly/dp/window/")) return m[1]!;
  }
  return "an unnamed function";
}

/** Imports for module: {} unless it is the checked core. */
export function boundsImports(module: WebAssembly.Module): WebAssembly.Imports {
  if (!WebAssembly.Module.imports(module).some((i) => i.module === "wasmroute")) return {}; // release, debug: only env.gc_step
  const section = WebAssembly.Module.customSections(module, "wasmroute.bounds")[0];
  if (!section) throw new Error("wasmroute: the core imports bounds checks but has no wasmroute.bounds section; rebuild");
  const sites = JSON.parse(new TextDecoder().decode(section)) as SiteTable;
  return {
    wasmroute: {
      bounds_fault(site: number, p: number, offset: number, size: number, top: number): void {
        const at = (p >>> 0) + (offset >>> 0);
        const fn = sites.functions[site >>> 3] ?? `function #${site >>> 3}`;
        throw new BoundsError(
          `wasmroute checked core: ${sites.kinds[site & 7]} of ${size >>> 0} bytes at ${hex(at)} in ${fn}: outside ` +
            `[${sites.header[0]}, ${sites.header[1]}) and [${hex(sites.memoryBase)}, heap top ${hex(top >>> 0)})`,
        );
      },
      frame_fault(kind: number, p: number, n: number, lo: number, hi: number): void {
        const what = `${kind & 1 ? "write" : "read"} of ${n >>> 0} bytes at ${hex(p >>> 0)}`;
        const where = kind & 2
          ? (lo === hi ? `crosses the transmit block starting at ${hex(lo >>> 0)}` : `is outside the transmit blocks handed out [${hex(lo >>> 0)}, ${hex(hi >>> 0)})`)
          : `is outside the received frame [${hex(lo >>> 0)}, ${hex(hi >>> 0)})`;
        throw new BoundsError(`wasmroute checked core: frame window: ${what} ${where}, in ${wasmCaller(new Error().stack)}`);
      },
    },
  };
}
