// The two-port router the no-root tests start with `wasmroute run`: pcap ports p1 (h1's side) and p2
// (h2's side), static neighbours for both hosts, and 172.16.0.0/12 behind h2; frames from h1 to the router.
import { spawn, type ChildProcess } from "node:child_process";
import { expect } from "vitest";
import { parseMac } from "../../host/router/mac.ts";

export const PCAP_ROUTER_LINES = [
  "link add p1 type pcap address 02:77:00:00:01:01",
  "link add p2 type pcap address 02:77:00:00:02:01",
  "addr add 10.201.1.1/24 dev p1",
  "addr add 10.201.2.1/24 dev p2",
  "neigh add 10.201.2.2 lladdr 02:00:00:00:02:02 dev p2",
  "neigh add 10.201.1.2 lladdr 02:00:00:00:01:02 dev p1",
  "route add 172.16.0.0/12 via 10.201.2.2",
];

/** Ethernet addresses of frames h1 sends to the router's p1. */
export const H1_TO_ROUTER = { srcMac: parseMac("02:00:00:00:01:02"), dstMac: parseMac("02:77:00:00:01:01") };

/** A `wasmroute run` that a test started, and what it has printed so far (stdout and stderr together). */
export interface StartedRouter {
  child: ChildProcess;
  out(): string;
}

/** Starts `wasmroute run ARGS` and resolves once it prints "ready"; fails the test with its output if it does not. */
export async function startRouter(args: readonly string[], timeoutMs = 20_000): Promise<StartedRouter> {
  const child = spawn(process.execPath, ["--import", "tsx", "host/cli/main.ts", "run", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const end = Date.now() + timeoutMs;
  while (!out.includes("ready") && Date.now() < end && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  expect(out).toMatch(/ready/);
  return { child, out: () => out };
}

/** Stops a router started by startRouter (SIGTERM) and waits for it to exit. */
export async function stopRouter(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

/** Runs the real CLI (`wasmroute ARGS`) without blocking the test's event loop; resolves with its status and output. */
export function runCli(args: readonly string[], timeoutMs = 30_000): Promise<{ status: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ["--import", "tsx", "host/cli/main.ts", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    c.stdout.on("data", (d: Buffer) => (out += d.toString()));
    c.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => c.kill("SIGKILL"), timeoutMs);
    c.on("close", (code) => {
      clearTimeout(t);
      resolve({ status: code ?? -1, out, err });
    });
  });
}
