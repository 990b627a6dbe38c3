/**
 * `wasmroute -n NAME COMMAND…` and `wasmroute --control PATH COMMAND…`: runs COMMAND in the running
 * router NAME through its control socket (host/router/control.ts has the protocol and the commands):
 *
 *   wasmroute -n edge ip route add 192.0.2.0/24 via 10.201.2.9
 *   wasmroute -n edge ip -s route show cache
 *   wasmroute -n edge ip neigh show
 *   wasmroute -n edge sysctl -w net.ipv4.route.gc_timeout=120
 *   wasmroute -n edge cat /proc/net/stat/rt_cache
 *   wasmroute -n edge nstat -a
 *   wasmroute -n edge lnstat -f rt_cache -c 5 -i 1
 *
 * NAME's socket is /run/wasmroute/NAME.sock; `--control PATH` names it directly. The router's output
 * goes to stdout and stderr as it arrives (byte for byte: the text is latin1), and the exit status is
 * the command's. A router that cannot be reached, or that hangs up before answering, is one line on
 * stderr and status 2. `ip route load FILE` is read by the router, so a relative FILE is made
 * absolute first. Closing our stdout (`| head`) ends the command with status 141, and the router
 * stops a streaming lnstat when we go.
 */
import { connect } from "node:net";
import { resolve } from "node:path";
import { defaultControlPath } from "../router/control.ts";

export const CONTROL_USAGE = "usage: wasmroute -n NAME | --control PATH  ip …|sysctl …|cat /proc/net/stat/rt_cache|nstat …|lnstat …";

export interface ControlClientIo {
  stdout: (bytes: Buffer) => void;
  stderr: (bytes: Buffer) => void;
}

const processIo: ControlClientIo = {
  stdout: (b) => void process.stdout.write(b),
  stderr: (b) => void process.stderr.write(b),
};

/** Splits `-n NAME …` / `--control PATH …` (also `--control=PATH`) into the socket path and the command words. */
export function parseControlArgs(argv: readonly string[]): { path: string; words: string[] } {
  let path: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-n" || a === "--name") {
      const v = argv[++i];
      if (v === undefined) throw new Error(`option ${a} needs a router name`);
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(v)) throw new Error(`invalid router name "${v}"`);
      path = defaultControlPath(v);
    } else if (a === "--control") {
      const v = argv[++i];
      if (v === undefined) throw new Error(`option ${a} needs a socket path`);
      path = v;
    } else if (a.startsWith("--control=")) {
      path = a.slice("--control=".length);
      if (path === "") throw new Error(`option --control needs a socket path`);
    } else break;
  }
  if (path === undefined) throw new Error("missing -n NAME or --control PATH");
  const words = argv.slice(i);
  if (words.length === 0) throw new Error("missing command (ip, sysctl, cat, nstat or lnstat)");
  // `ip route load FILE` is read by the router: a relative FILE is made absolute here, where the user is.
  const r = words.indexOf("route");
  if (words[0] === "ip" && r > 0 && words[r + 1] === "load" && words[r + 2] !== undefined) words[r + 2] = resolve(words[r + 2]!);
  return { path, words };
}

/** Sends one command to the socket at `path`; resolves to its exit status. */
export function sendControlCommand(path: string, words: readonly string[], io: ControlClientIo = processIo): Promise<number> {
  return new Promise((resolve) => {
    const sock = connect(path);
    // The pieces of a line not yet ended. One answer can be tens of megabytes (`ip route show` of a full
    // table) in thousands of chunks: each chunk is searched once, and a line is joined once.
    let pending: string[] = [];
    let done = false;
    const finish = (status: number, err?: string) => {
      if (done) return;
      done = true;
      if (err) io.stderr(Buffer.from(`${err}\n`));
      sock.destroy();
      resolve(status);
    };
    sock.setEncoding("utf8");
    sock.on("connect", () => sock.write(`${JSON.stringify({ argv: words })}\n`));
    sock.on("data", (chunk: string) => {
      let from = 0;
      for (;;) {
        const nl = chunk.indexOf("\n", from);
        if (nl < 0 || done) break;
        pending.push(chunk.slice(from, nl));
        const line = pending.length === 1 ? pending[0]! : pending.join("");
        pending = [];
        from = nl + 1;
        let m: { stdout?: string; stderr?: string; exit?: number };
        try {
          m = JSON.parse(line) as typeof m;
        } catch {
          finish(2, `wasmroute: bad answer from the router at ${path}`);
          return;
        }
        if (typeof m.stdout === "string") io.stdout(Buffer.from(m.stdout, "latin1"));
        if (typeof m.stderr === "string") io.stderr(Buffer.from(m.stderr, "latin1"));
        if (typeof m.exit === "number") finish(m.exit);
      }
      if (from < chunk.length && !done) pending.push(from === 0 ? chunk : chunk.slice(from));
    });
    sock.on("error", (e: NodeJS.ErrnoException) => {
      const hint = e.code === "ENOENT" || e.code === "ECONNREFUSED" ? " (is the router running? wasmroute run --name NAME / --control PATH)" : "";
      finish(2, `wasmroute: cannot reach the router at ${path}: ${e.code ?? e.message}${hint}`);
    });
    sock.on("close", () => finish(2, `wasmroute: the router at ${path} hung up before answering`));
  });
}

/** `wasmroute -n NAME …` / `wasmroute --control PATH …` on the process's stdio; resolves to the exit status. */
export async function runControlClient(argv: readonly string[]): Promise<number> {
  let parsed: { path: string; words: string[] };
  try {
    parsed = parseControlArgs(argv);
  } catch (e) {
    process.stderr.write(`wasmroute: ${(e as Error).message}\n${CONTROL_USAGE}\n`);
    return 2;
  }
  const onError = (e: NodeJS.ErrnoException): void => {
    if (e.code === "EPIPE") process.exit(141);
    throw e;
  };
  process.stdout.on("error", onError);
  try {
    return await sendControlCommand(parsed.path, parsed.words);
  } finally {
    process.stdout.off("error", onError);
  }
}
