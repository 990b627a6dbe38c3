/**
 * `wasmroute lnstat …`: process glue around `runLnstat` (host/cache/lnstat.ts; spec §5.3).
 *
 * Standard output gets the exact bytes lnstat would print (the text is latin1, one char per byte).
 * A closed stdout (`wasmroute lnstat | head`) ends the command quietly with status 141, as SIGPIPE
 * ends iproute2's lnstat.
 *
 * Also runnable directly: `node --import tsx host/cli/lnstat-command.ts -f rt_cache -c 1`.
 */
import { pathToFileURL } from "node:url";
import { runLnstat, type LnstatDeps } from "../cache/lnstat.ts";

export const LNSTAT_USAGE =
  "usage: wasmroute lnstat [-c COUNT] [-i SECONDS] [-f FILE]... [-k [FILE:]KEY,...] [-s 0|1|2] [-w W[,W...]] [-d] [-j] [--proc DIR]";

/** Runs `wasmroute lnstat ARGV…` on the process's stdout/stderr; resolves to the exit status. */
export async function runLnstatCommand(argv: readonly string[], deps: LnstatDeps = {}): Promise<number> {
  const onError = (e: NodeJS.ErrnoException): void => {
    if (e.code === "EPIPE") process.exit(141);
    throw e;
  };
  process.stdout.on("error", onError);
  try {
    return await runLnstat(
      argv,
      {
        stdout: (t) => void process.stdout.write(Buffer.from(t, "latin1")),
        stderr: (t) => void process.stderr.write(t),
      },
      deps,
    );
  } finally {
    process.stdout.off("error", onError);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runLnstatCommand(process.argv.slice(2));
}
