// Compiles assembly/ to wasm/release.wasm and wasm/debug.wasm with the asc API.
// `--if-stale` skips the compile when both outputs are newer than every file in assembly/ and asconfig.json.
import { readdirSync, statSync, existsSync, mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outputs = ["wasm/release.wasm", "wasm/debug.wasm"].map((f) => join(root, f));

function newestSource(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return t;
}

if (process.argv.includes("--if-stale") && outputs.every(existsSync)) {
  const src = Math.max(newestSource(join(root, "assembly")), statSync(join(root, "asconfig.json")).mtimeMs);
  if (outputs.every((o) => statSync(o).mtimeMs > src)) process.exit(0);
}
mkdirSync(join(root, "wasm"), { recursive: true });
for (const target of ["release", "debug"]) {
  const { error, stderr } = await asc.main(["--config", join(root, "asconfig.json"), "--target", target], {});
  if (error) {
    process.stderr.write(stderr.toString());
    console.error(`wasmroute: AssemblyScript build (${target}) failed: ${error.message}`);
    process.exit(1);
  }
}
console.error("wasmroute: built wasm/release.wasm and wasm/debug.wasm");
