// Compiles assembly/ to wasm/release.wasm, wasm/debug.wasm and wasm/checked.wasm with the asc API.
// The checked build is the release build with the frame windows compiled in (asc --use
// WASMROUTE_CHECKED=1, assembly/dp/window.ts) and function names kept, then every memory access
// instrumented by scripts/bounds-instrument.mjs (issue #7: a build that asserts bounds).
// `--if-stale` skips the compile when every output is newer than every file in assembly/, asconfig.json
// and the instrumentation pass.
import { readdirSync, statSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";
import binaryen from "binaryen";
import { instrument } from "./bounds-instrument.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const targets = ["release", "debug", "checked"];
const outputs = targets.map((t) => join(root, "wasm", `${t}.wasm`));

function newestSource(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return t;
}

if (process.argv.includes("--if-stale") && outputs.every(existsSync)) {
  const inputs = ["asconfig.json", "scripts/bounds-instrument.mjs", "scripts/build.mjs"].map((f) => statSync(join(root, f)).mtimeMs);
  const src = Math.max(newestSource(join(root, "assembly")), ...inputs);
  if (outputs.every((o) => statSync(o).mtimeMs > src)) process.exit(0);
}
mkdirSync(join(root, "wasm"), { recursive: true });
const config = JSON.parse(readFileSync(join(root, "asconfig.json"), "utf8"));
for (const target of targets) {
  // The checked target's binary is caught here and instrumented before it is written.
  let binary;
  const io = target === "checked" ? { writeFile: (name, contents) => { if (name.endsWith(".wasm")) binary = contents; } } : {};
  const { error, stderr } = await asc.main(["--config", join(root, "asconfig.json"), "--target", target], io);
  if (error) {
    process.stderr.write(stderr.toString());
    console.error(`wasmroute: AssemblyScript build (${target}) failed: ${error.message}`);
    process.exit(1);
  }
  if (target === "checked") {
    try {
      const module = binaryen.readBinary(binary);
      module.setFeatures(binaryen.Features.All);
      const n = instrument(module, { memoryBase: config.options.memoryBase });
      writeFileSync(outputs[2], module.emitBinary());
      module.dispose();
      console.error(`wasmroute: checked build: ${n.load} loads, ${n.store} stores, ${n.copy} memory.copy, ${n.fill} memory.fill instrumented`);
    } catch (e) {
      console.error(`wasmroute: checked build failed: ${e.stack}`);
      process.exit(1);
    }
  }
}
console.error(`wasmroute: built ${targets.map((t) => `wasm/${t}.wasm`).join(", ")}`);
