/**
 * Runs a file of `ip` commands (a routes file or an `-batch` file) all-or-nothing.
 *
 * One command a line, optionally starting with `ip`; blank lines and comments (from a word starting
 * with "#" to the end of the line) are skipped. Everything runs inside one FIB transaction and the
 * output is held back until the last line has succeeded: a bad line applies nothing, prints nothing,
 * and fails with a one-line `FILE:LINE: message`.
 */
import type { Fib } from "../fib/fib.ts";
import { runIpCommand } from "./commands.ts";

export interface ScriptResult {
  /** Canonical lines of the commands that changed the FIB, in order. */
  canonical: string[];
}

/** Splits one line into words; undefined for a blank or comment-only line. */
export function splitCommandLine(line: string): string[] | undefined {
  const words: string[] = [];
  for (const w of line.split(/[ \t\r\f\v]+/)) {
    if (w === "") continue;
    if (w.startsWith("#")) break;
    words.push(w);
  }
  if (words[0] === "ip") words.shift();
  return words.length > 0 ? words : undefined;
}

export function runScript(fib: Fib, text: string, fileName: string, out: (line: string) => void): ScriptResult {
  const held: string[] = [];
  const canonical: string[] = [];
  const lines = text.split("\n");
  let failure: Error | undefined;
  try {
    fib.transaction(() => {
      for (let i = 0; i < lines.length; i++) {
        const words = splitCommandLine(lines[i]!);
        if (!words) continue;
        try {
          const r = runIpCommand(fib, words, (l) => held.push(l));
          if (r.canonical !== undefined) canonical.push(r.canonical);
        } catch (e) {
          const msg = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, " ");
          failure = new Error(`${fileName}:${i + 1}: ${msg}`);
          throw failure;
        }
      }
    });
  } catch (e) {
    throw failure ?? e;
  }
  for (const l of held) out(l);
  return { canonical };
}
