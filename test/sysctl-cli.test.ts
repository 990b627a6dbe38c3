// `wasmroute sysctl` (host/cli/sysctl-command.ts): runSysctl with captured io and real files in a
// scratch directory, plus one spawn of the command as a user runs it.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSize, runSysctl } from "../host/cli/sysctl-command.ts";

const R = "net.ipv4.route.";
const root = join(dirname(fileURLToPath(import.meta.url)), "..");

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** runSysctl ARGS with captured output; every run sees 4 GiB of RAM unless it says otherwise. */
function sysctl(args: string[], stdin = ""): Run {
  let stdout = "";
  let stderr = "";
  const argv = args.includes("--ram") ? args : ["--ram", "4G", ...args];
  const status = runSysctl(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stdin: () => stdin });
  return { status, stdout, stderr };
}

/** A failed run: status 2, nothing on stdout, exactly one line on stderr; returns that line. */
function failure(r: Run): string {
  expect(r.status).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr.endsWith("\n")).toBe(true);
  expect(r.stderr.trimEnd()).not.toContain("\n");
  return r.stderr.trimEnd();
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "wasmroute-sysctl-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text?: string): string {
  const p = join(dir, name);
  if (text !== undefined) writeFileSync(p, text);
  return p;
}

const ALL_4G = [
  `${R}error_burst = 5000`,
  `${R}error_cost = 1000`,
  `${R}gc_elasticity = 8`,
  `${R}gc_interval = 60`,
  `${R}gc_min_interval = 0`,
  `${R}gc_min_interval_ms = 500`,
  `${R}gc_thresh = 131072`,
  `${R}gc_timeout = 300`,
  `${R}max_size = 2097152`,
  `${R}min_adv_mss = 256`,
  `${R}min_pmtu = 552`,
  `${R}mtu_expires = 600`,
  `${R}redirect_load = 20`,
  `${R}redirect_number = 9`,
  `${R}redirect_silence = 20480`,
  "net.ipv4.rt_cache_rebuild_count = 4",
  "rhash_entries = 0",
  "",
].join("\n");

describe("reading", () => {
  it("-a prints every value in sysctl -a order; -n and -N print values or names only", () => {
    expect(sysctl(["-a"])).toEqual({ status: 0, stdout: ALL_4G, stderr: "" });
    expect(sysctl(["-an"]).stdout.split("\n").slice(0, 2)).toEqual(["5000", "1000"]);
    expect(sysctl(["-a", "-N"]).stdout.split("\n")[0]).toBe(`${R}error_burst`);
  });

  it("reads names in order, with -n, and with slashes", () => {
    expect(sysctl([`${R}gc_thresh`, "net/ipv4/route/max_size"]).stdout).toBe(`${R}gc_thresh = 131072\n${R}max_size = 2097152\n`);
    expect(sysctl(["-n", `${R}gc_min_interval`, `${R}gc_min_interval_ms`]).stdout).toBe("0\n500\n");
    expect(sysctl(["--ram", "256M", "-n", `${R}gc_thresh`, `${R}max_size`]).stdout).toBe("2048\n32768\n");
    expect(sysctl(["--hz", "250", "-n", `${R}redirect_load`, `${R}redirect_silence`, `${R}error_cost`, `${R}error_burst`]).stdout).toBe("5\n5120\n250\n1250\n");
  });

  it("reading the write-only flush prints nothing, as sysctl(8) does", () => {
    expect(sysctl([`${R}flush`])).toEqual({ status: 0, stdout: "", stderr: "" });
    expect(sysctl(["-a"]).stdout).not.toContain("flush");
  });
});

describe("writing", () => {
  it("echoes `name = value` as given; -q is silent; a later read sees the write", () => {
    expect(sysctl(["-w", `${R}gc_timeout=0x10`, `${R}gc_interval = 7`])).toEqual({
      status: 0, stdout: `${R}gc_timeout = 0x10\n${R}gc_interval = 7\n`, stderr: "",
    });
    // Without -w an argument with "=" is a write and one without is a read (procps-ng).
    expect(sysctl([`${R}gc_timeout=0x10`, `${R}gc_timeout`]).stdout).toBe(`${R}gc_timeout = 0x10\n${R}gc_timeout = 16\n`);
    expect(sysctl(["-q", `${R}gc_elasticity=4`]).stdout).toBe("");
    expect(sysctl(["-n", `${R}flush=-1`]).stdout).toBe("-1\n");
    expect(sysctl(["--hz", "250", `${R}gc_min_interval_ms=501`, `${R}gc_min_interval_ms`]).stdout).toBe(
      `${R}gc_min_interval_ms = 501\n${R}gc_min_interval_ms = 504\n`,
    );
    expect(sysctl(["rhash_entries=1000", `${R}gc_thresh`, `${R}max_size`]).stdout).toBe(
      `rhash_entries = 1000\n${R}gc_thresh = 1024\n${R}max_size = 16384\n`,
    );
  });

  it("fails with one line and exit 2, printing nothing, on any bad argument", () => {
    expect(failure(sysctl([`${R}gc_timeout=5`, `${R}gc_thresh=lots`]))).toBe(`invalid value "lots" for ${R}gc_thresh: not an integer`);
    expect(failure(sysctl([`${R}gc_timeout`, `${R}nope`]))).toBe(`unknown sysctl "${R}nope"`);
    expect(failure(sysctl([`${R}nope=1`]))).toBe(`unknown sysctl "${R}nope"`);
    expect(failure(sysctl(["-w", `${R}gc_timeout`]))).toBe(`"${R}gc_timeout" must be of the form name=value`);
    expect(failure(sysctl([]))).toMatch(/^wasmroute sysctl: no variables specified \(usage: wasmroute sysctl /);
    expect(failure(sysctl(["-x"]))).toMatch(/^wasmroute sysctl: unknown option "-x" \(usage: /);
    expect(failure(sysctl(["-a", `${R}gc_timeout`]))).toMatch(/-a takes no names/);
    expect(failure(sysctl(["-N", "-q", `${R}gc_timeout`]))).toMatch(/-N and -q cannot coexist/);
    expect(failure(sysctl(["--hz", "300", "-a"]))).toMatch(/--hz must be one of 100, 250, 1000, got "300"/);
    expect(failure(sysctl(["--ram", "lots", "-a"]))).toMatch(/--ram must be a size/);
    expect(failure(sysctl(["-p"]))).toMatch(/-p needs a FILE/);
  });

  it("-e skips unknown names and exits 0", () => {
    expect(sysctl(["-e", `${R}nope`, `${R}nope=1`, `${R}gc_interval`])).toEqual({ status: 0, stdout: `${R}gc_interval = 60\n`, stderr: "" });
  });

  it("--help prints the usage", () => {
    expect(sysctl(["--help"]).stdout).toMatch(/^usage: wasmroute sysctl /);
  });
});

describe("--conf FILE as the persistent state", () => {
  it("reads the file first and rewrites the written name's line in place, keeping comments", () => {
    const conf = file("state.conf", `# tuned for the lab\n${R}gc_timeout=120\n\n; redirects\n${R}redirect_number = 3\n`);
    expect(sysctl(["--conf", conf, "-n", `${R}gc_timeout`, `${R}redirect_number`]).stdout).toBe("120\n3\n");
    expect(sysctl(["--conf", conf, `${R}gc_timeout=0x20`, `${R}gc_interval=30`]).stdout).toBe(`${R}gc_timeout = 0x20\n${R}gc_interval = 30\n`);
    expect(readFileSync(conf, "utf8")).toBe(
      `# tuned for the lab\n${R}gc_timeout = 32\n\n; redirects\n${R}redirect_number = 3\n${R}gc_interval = 30\n`,
    );
    expect(sysctl(["--conf", conf, "-n", `${R}gc_timeout`, `${R}gc_interval`]).stdout).toBe("32\n30\n");
  });

  it("writes one line for the two names of gc_min_interval, and never records flush", () => {
    const conf = file("alias.conf", `${R}gc_min_interval = 2\n`);
    sysctl(["--conf", conf, `${R}gc_min_interval_ms=750`, `${R}flush=1`]);
    expect(readFileSync(conf, "utf8")).toBe(`${R}gc_min_interval_ms = 750\n`);
  });

  it("a missing file is the default state and is created by the first write", () => {
    const conf = file("new.conf");
    expect(sysctl(["--conf", conf, "-a"]).stdout).toBe(ALL_4G);
    expect(existsSync(conf)).toBe(false);
    sysctl(["--conf", conf, "rhash_entries=2048"]);
    expect(readFileSync(conf, "utf8")).toBe("rhash_entries = 2048\n");
    expect(sysctl(["--conf", conf, "-n", `${R}gc_thresh`]).stdout).toBe("2048\n");
  });

  it("a bad state file is reported as FILE:LINE and nothing runs", () => {
    const conf = file("bad.conf", `${R}gc_timeout = 1\n${R}gc_interval = soon\n`);
    expect(failure(sysctl(["--conf", conf, `${R}gc_timeout=5`]))).toBe(`${conf}:2: invalid value "soon" for ${R}gc_interval: not an integer`);
    expect(readFileSync(conf, "utf8")).toBe(`${R}gc_timeout = 1\n${R}gc_interval = soon\n`);
  });

  it("a failed write leaves the file untouched", () => {
    const conf = file("keep.conf", `${R}gc_timeout = 1\n`);
    failure(sysctl(["--conf", conf, `${R}gc_interval=5`, `${R}gc_thresh=x`]));
    expect(readFileSync(conf, "utf8")).toBe(`${R}gc_timeout = 1\n`);
  });
});

describe("-p FILE (sysctl -p)", () => {
  it("applies a file, echoing each setting, and records it in --conf", () => {
    const load = file("load.conf", `# comment\n${R}gc_elasticity=4\n-${R}ignored_knob = 1\nnet/ipv4/route/mtu_expires = 60\n`);
    const conf = file("p-state.conf", `# state\n${R}gc_elasticity = 8\n`);
    expect(sysctl(["--conf", conf, "-p", load])).toEqual({
      status: 0, stdout: `${R}gc_elasticity = 4\n${R}mtu_expires = 60\n`, stderr: "",
    });
    expect(readFileSync(conf, "utf8")).toBe(`# state\n${R}gc_elasticity = 4\n${R}mtu_expires = 60\n`);
    // `-p` alone reloads the --conf file and leaves it as it is.
    expect(sysctl(["--conf", conf, "-p"]).stdout).toBe(`${R}gc_elasticity = 4\n${R}mtu_expires = 60\n`);
    expect(sysctl(["-q", `-p${load}`]).stdout).toBe("");
  });

  it("reads stdin for `-`, and is all-or-nothing across files with FILE:LINE errors", () => {
    expect(sysctl(["-p", "-"], `${R}gc_interval = 10\n`).stdout).toBe(`${R}gc_interval = 10\n`);
    expect(failure(sysctl(["-p", "-"], `\n${R}gc_interval = -\n`))).toBe(`<stdin>:2: invalid value "-" for ${R}gc_interval: not an integer`);
    const good = file("good.conf", `${R}gc_interval = 10\n`);
    const bad = file("bad-load.conf", `${R}gc_interval = 11\n${R}frobnicate = 1\n`);
    const conf = file("p-state2.conf", "");
    expect(failure(sysctl(["--conf", conf, "-p", good, bad]))).toBe(`${bad}:2: unknown sysctl "${R}frobnicate"`);
    expect(readFileSync(conf, "utf8")).toBe("");
    expect(sysctl(["-e", "-p", bad]).status).toBe(0);
    expect(failure(sysctl(["-p", join(dir, "absent.conf")]))).toMatch(/ENOENT/);
  });
});

describe("sizes", () => {
  it("parses --ram sizes in powers of 1024", () => {
    expect(parseSize("4G")).toBe(4 * 2 ** 30);
    expect(parseSize("512MiB")).toBe(512 * 2 ** 20);
    expect(parseSize("1073741824")).toBe(2 ** 30);
    expect(parseSize("16gb")).toBe(16 * 2 ** 30);
    expect(parseSize("0")).toBeUndefined();
    expect(parseSize("4X")).toBeUndefined();
  });
});

describe("as a user runs it", () => {
  it("node --import tsx host/cli/sysctl-command.ts: output and exit status", () => {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
    const script = join(root, "host", "cli", "sysctl-command.ts");
    const out = execFileSync(process.execPath, ["--import", tsx, script, "--ram", "16G", `${R}gc_thresh`, `${R}max_size`], {
      cwd: dir, encoding: "utf8",
    });
    expect(out).toBe(`${R}gc_thresh = 524288\n${R}max_size = 8388608\n`);
    let status = 0;
    let stderr = "";
    try {
      execFileSync(process.execPath, ["--import", tsx, script, `${R}nope`], { cwd: dir, encoding: "utf8", stdio: "pipe" });
    } catch (e) {
      ({ status, stderr } = e as { status: number; stderr: string });
    }
    expect([status, stderr]).toEqual([2, `unknown sysctl "${R}nope"\n`]);
  });
});
