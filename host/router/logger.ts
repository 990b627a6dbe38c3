/**
 * The router's log: one line per event on stderr (or any sink), as text or as JSON (`--log-format
 * json`) for alarms and state changes — dst cache overflow, leak suspicion, emergency rebuild, caching
 * disabled, neighbour table overflow, configuration reloads. Repeated events are rate-limited per kind,
 * as the kernel's net_ratelimit() limits "dst cache overflow".
 */
export type LogFormat = "text" | "json";
export type LogLevel = "info" | "warn" | "error";

export interface LogFields {
  [key: string]: string | number | boolean | undefined;
}

export class Logger {
  private readonly last = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();
  private readonly format: LogFormat;
  private readonly sink: (line: string) => void;
  private readonly clock: () => number;

  constructor(format: LogFormat = "text", sink: (line: string) => void = (l) => process.stderr.write(`${l}\n`), clock: () => number = Date.now) {
    this.format = format;
    this.sink = sink;
    this.clock = clock;
  }

  log(level: LogLevel, event: string, msg: string, fields: LogFields = {}): void {
    if (this.format === "json") {
      this.sink(JSON.stringify({ time: new Date(this.clock()).toISOString(), level, event, msg, ...fields }));
      return;
    }
    const extra = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    this.sink(`wasmroute: ${level}: ${msg}${extra ? ` (${extra})` : ""}`);
  }

  /** Logs event at most once per intervalMs; the count of suppressed repeats goes with the next line. */
  limited(level: LogLevel, event: string, msg: string, fields: LogFields = {}, intervalMs = 5000): void {
    const now = this.clock();
    const last = this.last.get(event);
    if (last !== undefined && now - last < intervalMs) {
      this.suppressed.set(event, (this.suppressed.get(event) ?? 0) + 1);
      return;
    }
    this.last.set(event, now);
    const suppressed = this.suppressed.get(event);
    this.suppressed.delete(event);
    this.log(level, event, msg, suppressed ? { ...fields, suppressed } : fields);
  }
}
