/**
 * `npm run bench -- SUITE [--json] [options]`: runs one benchmark suite and prints a table, or with
 * --json the JSON document (the table then goes to stderr). Suites: lookup (the FIB, issue #2),
 * cache (the route cache, issue #3), dataplane (frames through dp_input, no devices), forward (root:
 * wasmroute against the kernel between network namespaces, issue #5), ab (the working tree's core against
 * another build of it, in one process).
 */
import { runLookupBench } from "./lookup.ts";
import { runCacheBench } from "./cache.ts";
import { runDataplaneBench } from "./dataplane.ts";
import { runForwardBench } from "./forward.ts";
import { runAbBench } from "./ab.ts";

const SUITES: Record<string, (args: string[]) => Promise<{ json: unknown; table: string }>> = {
  lookup: runLookupBench,
  cache: runCacheBench,
  dataplane: runDataplaneBench,
  forward: runForwardBench,
  ab: runAbBench,
};

const args = process.argv.slice(2);
const json = args.includes("--json");
const rest = args.filter((a) => a !== "--json");
const suite = rest.shift() ?? "lookup";
const run = SUITES[suite];
if (!run) {
  console.error(`bench: unknown suite "${suite}" (suites: ${Object.keys(SUITES).join(", ")})`);
  process.exit(2);
}
try {
  const { json: doc, table } = await run(rest);
  if (json) {
    process.stderr.write(table + "\n");
    process.stdout.write(JSON.stringify(doc, null, 2) + "\n");
  } else process.stdout.write(table + "\n");
} catch (e) {
  console.error(`bench ${suite}: ${(e as Error).message}`);
  process.exit(1);
}
