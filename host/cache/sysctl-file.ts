/**
 * sysctl.conf files for the route-cache sysctls (host/cache/sysctl.ts): parsing, all-or-nothing
 * application with `FILE:LINE: message` errors, in-place updates, and `sysctl -a` style formatting.
 *
 * The format is procps-ng's (sysctl.c `parse_setting_line`):
 * - `name = value` or `name=value`; blanks around the name and the value are dropped; the first "="
 *   separates them, so the value is everything after it.
 * - Lines whose first non-blank character is `#` or `;` are comments; blank lines are skipped.
 *   There are no trailing comments: `x = 5 # five` hands "5 # five" to the value check, which refuses it
 *   (a 3.4 kernel would take the 5 and then fail the rest of the write).
 * - `-name = value`: procps's "ignore failure" form; an unknown name on such a line is skipped.
 * - Names may use "/" instead of "." (`net/ipv4/route/gc_timeout`), as sysctl(8) accepts.
 * Unlike procps, which warns "invalid syntax, continuing..." and carries on, a malformed line is an error
 * here, and nothing from the file is applied. procps's globs and `-name` exclusion lines are not supported.
 */
import { canonicalSysctlName, SysctlError, sysctlInfo } from "./sysctl.ts";
import type { RouteSysctls } from "./sysctl.ts";

export interface SysctlConfEntry {
  /** 1-based line number. */
  line: number;
  /** The name with "/" turned into "." (not validated). */
  name: string;
  /** The value text, blanks trimmed (not validated). */
  value: string;
  /** Written as `-name = value`: an unknown name is skipped rather than an error. */
  optional: boolean;
}

const BLANKS = /^[ \t\v\f\r]+|[ \t\v\f\r]+$/g;
const trim = (s: string): string => s.replace(BLANKS, "");

type ParsedLine =
  | { kind: "skip" }
  | { kind: "setting"; indent: string; optional: boolean; name: string; value: string }
  | { kind: "error"; message: string };

function parseLine(raw: string): ParsedLine {
  const t = trim(raw);
  if (t === "" || t.startsWith("#") || t.startsWith(";")) return { kind: "skip" };
  const eq = t.indexOf("=");
  if (eq < 0) {
    return t.startsWith("-")
      ? { kind: "error", message: `exclusion lines ("-name" without a value) are not supported` }
      : { kind: "error", message: `invalid syntax: expected "name = value"` };
  }
  let key = trim(t.slice(0, eq));
  const optional = key.startsWith("-");
  if (optional) key = trim(key.slice(1));
  if (key === "") return { kind: "error", message: `invalid syntax: missing name before "="` };
  const indent = /^[ \t]*/.exec(raw)![0];
  return { kind: "setting", indent, optional, name: key.replaceAll("/", "."), value: trim(t.slice(eq + 1)) };
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, " ");
}

/** Splits a sysctl.conf text into its settings; throws `FILE:LINE: message` on a malformed line. */
export function parseSysctlConf(text: string, fileName: string): SysctlConfEntry[] {
  const entries: SysctlConfEntry[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const p = parseLine(lines[i]!);
    if (p.kind === "error") throw new SysctlError(`${fileName}:${i + 1}: ${p.message}`);
    if (p.kind === "setting") entries.push({ line: i + 1, name: p.name, value: p.value, optional: p.optional });
  }
  return entries;
}

export interface ApplyOptions {
  /** Skip unknown names on every line, as `sysctl -e` does. */
  ignoreUnknown?: boolean;
}

/**
 * Parses and applies a sysctl.conf text, all or nothing: on any error (`FILE:LINE: message`, the first
 * bad line in file order) no value has changed and no onChange listener was called. Returns the entries
 * applied, with canonical names (unknown names skipped under `-name` or ignoreUnknown are left out).
 */
export function applySysctlConf(sysctls: RouteSysctls, text: string, fileName: string, opts: ApplyOptions = {}): SysctlConfEntry[] {
  const applied: SysctlConfEntry[] = [];
  for (const e of parseSysctlConf(text, fileName)) {
    const name = canonicalSysctlName(e.name);
    if (name === undefined && (e.optional || opts.ignoreUnknown)) continue;
    applied.push({ ...e, name: name ?? e.name });
  }
  try {
    sysctls.setMany(applied.map((e) => ({ name: e.name, value: e.value })));
  } catch (err) {
    if (err instanceof SysctlError && err.index !== undefined) {
      throw new SysctlError(`${fileName}:${applied[err.index]!.line}: ${oneLine(err.message)}`);
    }
    throw err;
  }
  return applied;
}

/** One line as `sysctl -a` prints it: `name = value`. */
export function formatSysctlLine(name: string, value: string): string {
  return `${name} = ${value}`;
}

/** `sysctl -a` output (or a sysctl.conf body) for these entries, one `name = value` line each. */
export function formatSysctlLines(entries: readonly { name: string; value: string }[]): string {
  return entries.map((e) => `${formatSysctlLine(e.name, e.value)}\n`).join("");
}

/**
 * Records `name = value` in a sysctl.conf text, keeping everything else (comments, blank lines, order).
 *
 * The line rewritten is the *last* one that sets the same value: that line is the one that wins when the
 * file is replayed, so rewriting it is enough. The two names of one variable (gc_min_interval and
 * gc_min_interval_ms, §2) count as the same value, and the rewritten line takes the name just written.
 * A line that already says the same value is left as it is. Without such a line, one is appended.
 * `flush` is an action, not state, and is never recorded (the text comes back unchanged).
 */
export function updateSysctlConf(text: string, name: string, value: string): string {
  const info = sysctlInfo(name);
  if (info === undefined) throw new SysctlError(`unknown sysctl ${JSON.stringify(name)}`);
  if (info.field === undefined) return text;
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const p = parseLine(lines[i]!);
    if (p.kind !== "setting" || sysctlInfo(p.name)?.field !== info.field) continue;
    if (p.name === info.name && p.value === value) return text;
    lines[i] = `${p.indent}${p.optional ? "-" : ""}${formatSysctlLine(info.name, value)}`;
    return lines.join("\n");
  }
  const sep = text === "" || text.endsWith("\n") ? "" : "\n";
  return `${text}${sep}${formatSysctlLine(info.name, value)}\n`;
}
