// The `wasmroute ip …` command line, run as a user runs it: a real node process in a scratch
// directory, a routes file as the state, -batch files and stdin. Each spawn costs ~0.5 s, so the
// queries of a case are batched into one process with `-batch -`.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const main = join(root, "host", "cli", "main.ts");
// `--import tsx` resolves from the working directory; the scratch directory has no node_modules.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `wasmroute ARGS` in `cwd`, with `input` on stdin. */
function wasmroute(cwd: string, args: string[], input = ""): Run {
  try {
    const stdout = execFileSync(process.execPath, ["--import", tsx, main, ...args], {
      cwd,
      input,
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
    });
    return { status: 0, stdout, stderr: "" };
  } catch (e) {
    const err = e as { status: number | null; stdout: string; stderr: string };
    return { status: err.status ?? -1, stdout: err.stdout, stderr: err.stderr };
  }
}

const EXAMPLE = [
  "# the issue's example",
  "route add 10.0.0.0/8 via 192.0.2.1 dev eth1 metric 10",
  "route add blackhole 192.0.2.0/24",
  "",
  "route add 198.51.100.0/24 nexthop via 192.0.2.1 dev eth1 weight 2 nexthop via 192.0.2.9 dev eth2",
  "rule add from 10.1.0.0/16 lookup 100 priority 100",
  "ip route add 10.1.0.0/16 via 192.0.2.7 dev eth3 table 100   # policy table",
  "",
].join("\n");

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "wasmroute-cli-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh routes file in the scratch directory holding `text`. */
function routesFile(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

describe("wasmroute ip", () => {
  it("loads a routes file and answers route get, route show and rule show (batched from stdin)", () => {
    const f = routesFile("example.routes", EXAMPLE);
    const r = wasmroute(dir, ["ip", "--routes", f, "-batch", "-"], [
      "route get 10.2.3.4",
      "route get 10.1.2.3",
      "route get 10.1.2.3 from 10.1.0.5",
      "route get 10.1.2.3 from 10.1.0.5 iif eth1",
      "route get 10.200.0.1 from 10.1.0.5 iif eth1 mark 0x20",
      "route get 10.2.3.4 mark 7",
      "route get 192.0.2.77",
      "route get 192.0.2.77 from 10.1.0.5 iif eth1",
      "route get 198.51.100.1",
      "route get 203.0.113.1",
      "ip route show",
      "route show table all",
      "route show table 100",
      "rule show",
    ].join("\n"));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      "10.2.3.4 via 192.0.2.1 dev eth1",
      "10.1.2.3 via 192.0.2.1 dev eth1",
      "10.1.2.3 from 10.1.0.5 via 192.0.2.7 dev eth3 table 100",
      "10.1.2.3 from 10.1.0.5 via 192.0.2.7 dev eth3 table 100 iif eth1",
      "10.200.0.1 from 10.1.0.5 via 192.0.2.1 dev eth1 mark 0x20 iif eth1",
      "10.2.3.4 via 192.0.2.1 dev eth1 mark 7",
      "blackhole 192.0.2.77",
      "blackhole 192.0.2.77 from 10.1.0.5 iif eth1",
      expect.stringMatching(/^198\.51\.100\.1 via 192\.0\.2\.(1 dev eth1|9 dev eth2)$/),
      "unreachable 203.0.113.1",
      "10.0.0.0/8 via 192.0.2.1 dev eth1 metric 10 ",
      "blackhole 192.0.2.0/24 ",
      "198.51.100.0/24 ",
      "\tnexthop via 192.0.2.1 dev eth1 weight 2 ",
      "\tnexthop via 192.0.2.9 dev eth2 weight 1 ",
      "10.1.0.0/16 via 192.0.2.7 dev eth3 table 100 ",
      "10.0.0.0/8 via 192.0.2.1 dev eth1 metric 10 ",
      "blackhole 192.0.2.0/24 ",
      "198.51.100.0/24 ",
      "\tnexthop via 192.0.2.1 dev eth1 weight 2 ",
      "\tnexthop via 192.0.2.9 dev eth2 weight 1 ",
      "10.1.0.0/16 via 192.0.2.7 dev eth3 ",
      "0:\tfrom all lookup local",
      "100:\tfrom 10.1.0.0/16 lookup 100",
      "32766:\tfrom all lookup main",
      "32767:\tfrom all lookup default",
      "",
    ]);
    // Queries do not touch the state.
    expect(readFileSync(join(dir, f), "utf8")).toBe(EXAMPLE);
  });

  it("persists changes as canonical lines: the routes file is the state", () => {
    const f = "state.routes"; // does not exist yet: empty state
    let r = wasmroute(dir, ["ip", "--routes", f, "route", "add", "10.0.0.0/8", "metric", "0x10", "dev", "eth1", "via", "192.0.2.1"]);
    expect([r.status, r.stdout, r.stderr]).toEqual([0, "", ""]);
    r = wasmroute(dir, ["--core", "debug", "ip", "--routes", f, "-batch", "-"], [
      "route add local 192.0.2.5 dev eth1",
      "rule add fwmark 7 prohibit",
      "route get 10.0.0.1 mark 7",
      "route get 10.0.0.1",
      "route get 192.0.2.5",
    ].join("\n"));
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toBe("prohibit 10.0.0.1\n10.0.0.1 via 192.0.2.1 dev eth1\nlocal 192.0.2.5 dev lo table local\n");
    r = wasmroute(dir, ["ip", "--routes", f, "rule", "del", "fwmark", "7"]);
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, f), "utf8")).toBe(
      [
        "route add 10.0.0.0/8 via 192.0.2.1 dev eth1 metric 16",
        "route add local 192.0.2.5 dev eth1",
        "rule add fwmark 0x7 prohibit priority 32765",
        "rule del fwmark 0x7",
        "",
      ].join("\n"),
    );
  });

  it("refuses a bad line in the middle of the routes file: one error line, nothing applied", () => {
    const text = `${EXAMPLE}route add 10.9.0.0/16 viaa 192.0.2.1 dev eth1\nroute add 10.8.0.0/16 dev eth1\n`;
    const f = routesFile("bad.routes", text);
    const r = wasmroute(dir, ["ip", "--routes", f, "route", "add", "10.7.0.0/16", "dev", "eth1"]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`bad.routes:8: unknown word "viaa" in route command\n`);
    expect(readFileSync(join(dir, f), "utf8")).toBe(text);
  });

  it("applies a -batch file all-or-nothing: a refused line prints nothing and appends nothing", () => {
    const f = routesFile("batch.routes", EXAMPLE);
    const b = routesFile("changes.batch", [
      "route add 10.5.0.0/16 dev eth1",
      "route show",
      "route add 10.0.0.0/8 via 192.0.2.3 dev eth1 metric 10 # same metric: File exists",
      "route add 10.6.0.0/16 dev eth1",
    ].join("\n"));
    let r = wasmroute(dir, ["ip", "--routes", f, "-batch", b]);
    expect(r).toEqual({ status: 2, stdout: "", stderr: "changes.batch:3: RTNETLINK answers: File exists\n" });
    expect(readFileSync(join(dir, f), "utf8")).toBe(EXAMPLE);
    // The same batch without the bad line is applied, and appended to the routes file.
    writeFileSync(join(dir, b), "route add 10.5.0.0/16 dev eth1\nroute del blackhole 192.0.2.0/24\nroute show\n");
    r = wasmroute(dir, ["ip", "--routes", f, "-batch", b]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      "10.0.0.0/8 via 192.0.2.1 dev eth1 metric 10 \n10.5.0.0/16 dev eth1 scope link \n198.51.100.0/24 \n" +
        "\tnexthop via 192.0.2.1 dev eth1 weight 2 \n\tnexthop via 192.0.2.9 dev eth2 weight 1 \n",
    );
    expect(readFileSync(join(dir, f), "utf8")).toBe(`${EXAMPLE}route add 10.5.0.0/16 dev eth1\nroute del blackhole 192.0.2.0/24\n`);
  });

  it("exits 2 with one line on stderr for a bad command, and with a usage line for bad usage", () => {
    const r = wasmroute(dir, ["ip", "route", "add", "10.0.0.0/8", "dev", "eth1", "metric", "x"]);
    expect(r).toEqual({ status: 2, stdout: "", stderr: `"metric" needs a number, got "x"\n` });
    const u = wasmroute(dir, ["ip", "-force", "-batch", "-"]);
    expect(u.status).toBe(2);
    expect(u.stderr).toMatch(/^wasmroute: -force is not supported: a batch is applied all-or-nothing\nusage: wasmroute .*\n$/);
    expect(existsSync(join(dir, "-"))).toBe(false);
  });

  it("loads a plain CIDR list with `route load`, hops by the stated rule; a bad list applies nothing", () => {
    const cidrs = ["203.0.113.0/24", "198.51.100.0/24", "# comment", "192.0.2.128/25", "10.0.0.0/8"];
    writeFileSync(join(dir, "table.txt"), cidrs.join("\n") + "\n");
    const f = routesFile("load.routes", "route load table.txt nexthop via 10.0.0.1 dev eth0 nexthop via 10.0.0.2 dev eth1\n");
    const r = wasmroute(dir, ["ip", "--routes", f, "route", "show"]);
    expect(r.stderr).toBe("");
    // hop = fmix32(addr ^ (len << 24)) mod 2, written out here for each prefix
    const fmix32 = (h: number) => {
      h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16;
      return h >>> 0;
    };
    const hop = (a: number, len: number) => (fmix32((a ^ (len << 24)) >>> 0) % 2 === 0 ? "via 10.0.0.1 dev eth0" : "via 10.0.0.2 dev eth1");
    expect(r.stdout).toBe(
      [`10.0.0.0/8 ${hop(0x0a000000, 8)} `, `192.0.2.128/25 ${hop(0xc0000280, 25)} `, `198.51.100.0/24 ${hop(0xc6336400, 24)} `,
        `203.0.113.0/24 ${hop(0xcb007100, 24)} `, ""].join("\n"),
    );
    writeFileSync(join(dir, "bad.txt"), "10.0.0.0/8\n1.2.3.4/33\n");
    const before = readFileSync(join(dir, f), "utf8");
    const b = wasmroute(dir, ["ip", "--routes", f, "route", "load", "bad.txt", "via", "10.0.0.1", "dev", "eth0", "table", "7"]);
    expect(b.status).toBe(2);
    expect(b.stderr).toBe(`${join(dir, "bad.txt")}:2: invalid prefix length "33" in "1.2.3.4/33" (0..32)\n`);
    expect(readFileSync(join(dir, f), "utf8")).toBe(before);
  });
});
