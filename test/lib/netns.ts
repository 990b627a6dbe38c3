// Test topology helpers: network namespaces named wr-*, created for one test file and always removed.
import { execFileSync, spawnSync } from "node:child_process";

/** True when this process may create namespaces (root and iproute2 present). */
export function canUseNetns(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync("ip", ["-V"]).status === 0;
}

/** In CI every test that needs root must run: say so instead of skipping silently. */
export function requireNetnsInCi(): void {
  if (process.env.CI && !canUseNetns()) throw new Error("CI must run as root with iproute2 installed (netns tests)");
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
