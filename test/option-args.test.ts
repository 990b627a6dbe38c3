import { describe, expect, it } from "vitest";
import { OptionArgs } from "../host/cli/option-args.ts";

/** Walks argv the way run and lab do, returning what each option took. */
function walk(argv: string[]): string[] {
  const args = new OptionArgs(argv);
  const seen: string[] = [];
  for (const a of args) {
    if (a === "--flag") seen.push("flag");
    else if (a === "--name") seen.push(`name=${args.value()}`);
    else if (a === "--n") seen.push(`n=${args.count(1, 10)}`);
    else if (a === "--sync") seen.push(`sync=${args.value()}${args.peek() === "netns" ? `:${args.take(2).join(" ")}` : ""}`);
    else throw new Error(`unknown option "${a}"`);
  }
  return seen;
}

describe("OptionArgs (the option cursor of wasmroute run and lab)", () => {
  it("gives each option, with its argument taken by value()", () => {
    expect(walk(["--flag", "--name", "r1", "--n", "7", "--flag"])).toEqual(["flag", "name=r1", "n=7", "flag"]);
    expect(walk([])).toEqual([]);
  });

  it("peeks at and takes following words, fewer where the line ends", () => {
    expect(walk(["--sync", "main", "netns", "ns1", "--flag"])).toEqual(["sync=main:netns ns1", "flag"]);
    expect(walk(["--sync", "main", "netns"])).toEqual(["sync=main:netns"]);
    expect(walk(["--sync", "main", "--flag"])).toEqual(["sync=main", "flag"]);
  });

  it("names the option whose value is missing or out of range", () => {
    expect(() => walk(["--flag", "--name"])).toThrow(/^option --name needs a value$/);
    expect(() => walk(["--n", "11"])).toThrow(/^--n wants a whole number from 1 to 10, got "11"$/);
    expect(() => walk(["--n", "x"])).toThrow(/^--n wants a whole number from 1 to 10, got "x"$/);
    expect(() => walk(["--n"])).toThrow(/^option --n needs a value$/);
    expect(() => walk(["--bogus"])).toThrow(/^unknown option "--bogus"$/);
  });
});
