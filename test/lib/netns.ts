// Test topology helpers: network namespaces named wr-*, created for one test file and always removed.
import { execFileSync, spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** True when this process may create namespaces (root and iproute2 present). */
function canUseNetns(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync("ip", ["-V"]).status === 0;
}

/** The programs the live tests drive, and the Debian package of each (.ci/run installs them). */
const TOOL_PACKAGES = {
  tcpdump: "tcpdump", ping: "iputils-ping", traceroute: "traceroute", iperf3: "iperf3", ethtool: "ethtool",
  trafgen: "netsniff-ng", bird: "bird2", birdc: "bird2", cc: "gcc",
} as const;
export type LiveTool = keyof typeof TOOL_PACKAGES;

/** True when `name` is an executable file in a directory of PATH, where the tests' spawn looks for it. */
export function onPath(name: string): boolean {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter((d) => d !== "");
  return dirs.some((d) => {
    try {
      accessSync(join(d, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Whether a live suite (`suite`, named in the message) can run here: root, iproute2 and each of `tools`.
 * In CI a missing piece is an error, since every test must run there. Elsewhere the suite is skipped, and
 * one line on stderr says what it needs, so that a missing tool is not mistaken for a failing router.
 */
export function canRunLive(suite: string, tools: readonly LiveTool[] = []): boolean {
  const missing = canUseNetns() ? tools.filter((t) => !onPath(t)) : undefined;
  if (missing?.length === 0) return true;
  const needs = missing === undefined
    ? "root and iproute2 (network namespaces)"
    : `${missing.map((t) => `${t} (Debian package ${TOOL_PACKAGES[t]})`).join(", ")}; .ci/run installs ${missing.length === 1 ? "it" : "them"}`;
  if (process.env.CI) throw new Error(`CI must have what "${suite}" needs: ${needs}`);
  process.stderr.write(`skipped "${suite}": it needs ${needs}\n`);
  return false;
}

export function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", timeout: 10_000 });
}

/** Runs `ip -n NS …` and returns {out, err, status} without throwing. */
export function ipIn(ns: string, args: string[]): { out: string; err: string; status: number } {
  const r = spawnSync("ip", ["-n", ns, ...args], { encoding: "utf8", timeout: 10_000 });
  return { out: r.stdout, err: r.stderr, status: r.status ?? -1 };
}

/** Creates namespace `name` (removing a leftover of the same name first). */
export function createNetns(name: string): void {
  if (!name.startsWith("wr-")) throw new Error(`test namespaces must be named wr-*: ${name}`);
  spawnSync("ip", ["netns", "del", name]);
  ip("netns", "add", name);
}

export function deleteNetns(name: string): void {
  spawnSync("ip", ["netns", "del", name]);
}
