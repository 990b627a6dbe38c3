// The router's log (host/router/logger.ts): text and JSON lines, and the rate limit of repeated
// alarms, which says how many lines it held back (as the kernel's "N callbacks suppressed").
import { describe, it, expect } from "vitest";
import { Logger } from "../host/router/logger.ts";

function rig(format: "text" | "json") {
  const lines: string[] = [];
  let now = 1_700_000_000_000;
  const log = new Logger(format, (l) => lines.push(l), () => now);
  return { lines, log, advance: (ms: number) => (now += ms) };
}

describe("Logger", () => {
  it("writes one JSON object per event with time, level, event and fields", () => {
    const { lines, log } = rig("json");
    log.log("warn", "emergency_rebuild", "Route hash chain too long! (emergency rebuild)", { count: 2 });
    expect(lines.length).toBe(1);
    const o = JSON.parse(lines[0]!);
    expect(o).toEqual({ time: "2023-11-14T22:13:20.000Z", level: "warn", event: "emergency_rebuild", msg: "Route hash chain too long! (emergency rebuild)", count: 2 });
  });

  it("writes text with the fields in parentheses, leaving out undefined ones", () => {
    const { lines, log } = rig("text");
    log.log("error", "leak_suspected", "route cache leak suspected", { held: 5, who: undefined });
    expect(lines).toEqual(["wasmroute: error: route cache leak suspected (held=5)"]);
  });

  it("rate-limits a repeated event and reports what it suppressed with the next line", () => {
    const { lines, log, advance } = rig("json");
    for (let i = 0; i < 4; i++) {
      log.limited("warn", "dst_cache_overflow", "dst cache overflow", { drops: i + 1 });
      advance(1000);
    }
    expect(lines.length).toBe(1); // 0 s logged; 1, 2, 3 s within the 5 s interval
    log.limited("warn", "neighbour_table_overflow", "Neighbour table overflow"); // another kind is not limited by it
    expect(lines.length).toBe(2);
    advance(2000);
    log.limited("warn", "dst_cache_overflow", "dst cache overflow", { drops: 9 });
    expect(lines.length).toBe(3);
    expect(JSON.parse(lines[2]!)).toMatchObject({ event: "dst_cache_overflow", drops: 9, suppressed: 3 });
    advance(6000);
    log.limited("warn", "dst_cache_overflow", "dst cache overflow", { drops: 1 });
    expect(JSON.parse(lines[3]!).suppressed).toBeUndefined(); // nothing held back since
  });
});
