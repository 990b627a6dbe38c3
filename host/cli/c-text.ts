/**
 * The C library and iproute2 pieces that the iproute2 ports need byte for byte (host/cli/nstat-command.ts,
 * host/cache/lnstat.ts): isspace(3) in the C locale, strtoul(3), sscanf's %u, %llu and %lf, strtok(3),
 * C strings, getline and fgets line splitting, fnmatch(3) with flags 0, and iproute2's json_writer
 * (lib/json_writer.c). Nothing here knows about counters.
 */

/** glibc isspace() in the C locale. */
export function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

const ULL_MAX = (1n << 64n) - 1n;

function digitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x5a) return c - 0x41 + 10;
  return 99;
}

/**
 * glibc strtoul(s + start, &end, base) on a 64-bit machine: leading white space, a sign (negation is
 * modulo 2^64), "0x" for base 0/16, leading "0" = octal for base 0, saturation at ULONG_MAX. With no
 * digits the value is 0 and `end` is `start` (or points at the "x" of a bare "0x").
 */
export function cStrtoul(s: string, start: number, base: 0 | 10 | 16): { value: bigint; end: number } {
  let p = start;
  while (p < s.length && isSpace(s.charCodeAt(p))) p++;
  let neg = false;
  if (s[p] === "+" || s[p] === "-") {
    neg = s[p] === "-";
    p++;
  }
  let b: number = base;
  let hexPrefixAt = -1;
  if (s[p] === "0" && (b === 0 || b === 16) && (s[p + 1] === "x" || s[p + 1] === "X")) {
    hexPrefixAt = p;
    p += 2;
    b = 16;
  } else if (b === 0) b = s[p] === "0" ? 8 : 10;
  const digits = p;
  let v = 0n;
  let overflow = false;
  const bb = BigInt(b);
  while (p < s.length) {
    const d = digitValue(s.charCodeAt(p));
    if (d >= b) break;
    if (!overflow) {
      v = v * bb + BigInt(d);
      if (v > ULL_MAX) overflow = true;
    }
    p++;
  }
  if (p === digits) return { value: 0n, end: hexPrefixAt >= 0 ? hexPrefixAt + 1 : start };
  if (overflow) return { value: ULL_MAX, end: p };
  return { value: neg ? BigInt.asUintN(64, -v) : v, end: p };
}

/** sscanf(s, "%u", &int): the new value as a C int, or undefined when nothing matched (unchanged). */
export function scanUnsignedToInt(s: string): number | undefined {
  const r = cStrtoul(s, 0, 10);
  if (r.end === 0) return undefined;
  return Number(BigInt.asIntN(32, r.value));
}

/** strtok(s, delims) over the whole string: the non-empty tokens. */
export function strtok(s: string, delims: string): string[] {
  const out: string[] = [];
  let tok = "";
  for (const ch of s) {
    if (delims.includes(ch)) {
      if (tok) out.push(tok);
      tok = "";
    } else tok += ch;
  }
  if (tok) out.push(tok);
  return out;
}

/** A C string ends at its first NUL byte. */
export function cString(s: string): string {
  const z = s.indexOf("\0");
  return z < 0 ? s : s.slice(0, z);
}

/** sscanf(s + at, "%llu"): the value and the index after it, or undefined when no number is there. */
export function scanUll(s: string, at: number): { value: bigint; end: number } | undefined {
  const r = cStrtoul(s, at, 10); // %llu converts as strtoull(…, 10) does
  return r.end === at ? undefined : r;
}

/** Whether sscanf's %lg would convert something at s + at (strtod's syntax, roughly). */
export function scansDouble(s: string, at: number): boolean {
  let p = at;
  while (p < s.length && isSpace(s.charCodeAt(p))) p++;
  return /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?|inf(?:inity)?|nan)/i.test(s.slice(p));
}

/** The lines of a file as getline(3) returns them (each with its "\n", the last one maybe without). */
export function getlines(text: string): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < text.length) {
    const nl = text.indexOf("\n", at);
    const end = nl < 0 ? text.length : nl + 1;
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
}

/** The successive results of `fgets(buf, size, fp)` until EOF: lines, each cut into pieces of at most size − 1 chars. */
export function fgetsChunks(text: string, size: number): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf("\n", pos);
    let end = nl < 0 ? text.length : nl + 1;
    if (end - pos > size - 1) end = pos + size - 1;
    out.push(text.slice(pos, end));
    pos = end;
  }
  return out;
}

const CHAR_CLASSES: Record<string, (c: number) => boolean> = {
  alpha: (c) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a),
  digit: (c) => c >= 0x30 && c <= 0x39,
  alnum: (c) => CHAR_CLASSES.alpha!(c) || CHAR_CLASSES.digit!(c),
  upper: (c) => c >= 0x41 && c <= 0x5a,
  lower: (c) => c >= 0x61 && c <= 0x7a,
  space: isSpace,
  blank: (c) => c === 0x20 || c === 0x09,
  punct: (c) => c > 0x20 && c < 0x7f && !CHAR_CLASSES.alnum!(c),
  xdigit: (c) => CHAR_CLASSES.digit!(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66),
  cntrl: (c) => c < 0x20 || c === 0x7f,
  print: (c) => c >= 0x20 && c < 0x7f,
  graph: (c) => c > 0x20 && c < 0x7f,
};

/**
 * A bracket expression at pattern[at] ("[" included): whether it matches c, and the index after it;
 * undefined when the bracket is not closed (then "[" is an ordinary character, as in glibc).
 */
function bracket(pattern: string, at: number, c: string): { ok: boolean; next: number } | undefined {
  let p = at + 1;
  let negate = false;
  if (pattern[p] === "!" || pattern[p] === "^") {
    negate = true;
    p++;
  }
  let matched = false;
  let first = true;
  const code = c.charCodeAt(0);
  while (p < pattern.length) {
    let ch = pattern[p]!;
    if (ch === "]" && !first) return { ok: matched !== negate, next: p + 1 };
    first = false;
    if (ch === "[" && pattern[p + 1] === ":") {
      const close = pattern.indexOf(":]", p + 2);
      const cls = close >= 0 ? CHAR_CLASSES[pattern.slice(p + 2, close)] : undefined;
      if (cls) {
        if (cls(code)) matched = true;
        p = close + 2;
        continue;
      }
    }
    if (ch === "\\" && p + 1 < pattern.length) {
      p++;
      ch = pattern[p]!;
    }
    const lo = ch;
    p++;
    if (pattern[p] === "-" && p + 1 < pattern.length && pattern[p + 1] !== "]") {
      let hi = pattern[p + 1]!;
      p += 2;
      if (hi === "\\" && p < pattern.length) hi = pattern[p++]!;
      if (code >= lo.charCodeAt(0) && code <= hi.charCodeAt(0)) matched = true;
      continue;
    }
    if (c === lo) matched = true;
  }
  return undefined;
}

/** fnmatch(pattern, s, 0): *, ?, [...] (with ! or ^, ranges, [:class:]), backslash escapes. */
export function fnmatch(pattern: string, s: string): boolean {
  const go = (pi: number, si: number): boolean => {
    while (pi < pattern.length) {
      const pc = pattern[pi]!;
      if (pc === "*") {
        while (pattern[pi] === "*") pi++;
        if (pi === pattern.length) return true;
        for (let k = si; k <= s.length; k++) if (go(pi, k)) return true;
        return false;
      }
      if (si >= s.length) return false;
      if (pc === "?") {
        pi++;
        si++;
        continue;
      }
      if (pc === "[") {
        const b = bracket(pattern, pi, s[si]!);
        if (b !== undefined) {
          if (!b.ok) return false;
          pi = b.next;
          si++;
          continue;
        }
      }
      let lit = pc;
      if (pc === "\\" && pi + 1 < pattern.length) lit = pattern[++pi]!;
      if (lit !== s[si]) return false;
      pi++;
      si++;
    }
    return si === s.length;
  };
  return go(0, 0);
}

/** A string as iproute2's jsonw_puts() writes it: quoted, with its escapes. */
export function jsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    switch (ch) {
      case "\t": out += "\\t"; break;
      case "\n": out += "\\n"; break;
      case "\r": out += "\\r"; break;
      case "\f": out += "\\f"; break;
      case "\b": out += "\\b"; break;
      case "\\": out += "\\\\"; break;
      case '"': out += '\\"'; break;
      default: out += ch;
    }
  }
  return `${out}"`;
}

/** iproute2's json_writer (lib/json_writer.c), enough for nstat. */
export class JsonWriter {
  out = "";
  private depth = 0;
  private pretty = false;
  private sep = "";

  setPretty(on: boolean): void {
    this.pretty = on;
  }
  private indent(): void {
    for (let i = 0; i < this.depth; i++) this.out += "    ";
  }
  private eol(): void {
    if (!this.pretty) return;
    this.out += "\n";
    this.indent();
  }
  private eor(): void {
    if (this.sep !== "") this.out += this.sep;
    this.sep = ",";
  }
  private puts(s: string): void {
    this.out += jsonString(s);
  }
  startObject(): void {
    this.eor();
    this.out += "{";
    this.depth++;
    this.sep = "";
  }
  endObject(): void {
    this.depth--;
    if (this.sep !== "") this.eol();
    this.out += "}";
    this.sep = ",";
  }
  name(n: string): void {
    this.eor();
    this.eol();
    this.sep = "";
    this.puts(n);
    this.out += ":";
    if (this.pretty) this.out += " ";
  }
  /** jsonw_uint_field: the value as a C unsigned int. */
  uintField(n: string, v: bigint): void {
    this.name(n);
    this.eor();
    this.out += BigInt.asUintN(32, v).toString();
  }
  /** jsonw_destroy. */
  finish(): string {
    return `${this.out}\n`;
  }
}
