/**
 * Reads plain CIDR list files (one prefix a line, like a BGP table dump) into typed arrays.
 *
 * Format: one "A.B.C.D/LEN" (or bare address = /32, or "default") per line; blank lines and
 * comments from "#" to the end of the line are ignored; spaces, tabs and a CR at either end of a
 * line are ignored. Files ending in ".gz" or starting with the gzip magic bytes are gunzipped.
 * The first bad line aborts the read with a one-line `FILE:LINE: <what was wrong>` error.
 * Duplicates are not checked here (that is the loader's business).
 */

import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { parsePrefix, scanPrefix } from "./ipv4.ts";

export interface CidrList {
  addrs: Uint32Array; // network addresses, unsigned, host bits clear
  lens: Uint8Array; // prefix lengths 0..32
  lines: Uint32Array; // 1-based source line of each entry
}

const CR = 13;
const SPACE = 32;
const TAB = 9;
const HASH = 35;

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB || c === CR;
}

/**
 * Parses the text of a CIDR list.
 * @param fileName used only in error messages
 * @throws Error `FILE:LINE: <message>` (one line) for the first bad line
 */
export function parseCidrList(text: string, fileName: string): CidrList {
  let cap = 1024;
  let addrs = new Uint32Array(cap);
  let lens = new Uint8Array(cap);
  let lines = new Uint32Array(cap);
  let n = 0;
  let lineNo = 0;
  const size = text.length;
  let pos = 0;
  while (pos < size) {
    lineNo++;
    let eol = text.indexOf("\n", pos);
    if (eol < 0) eol = size;
    let start = pos;
    let end = eol;
    pos = eol + 1;
    // Trim, cut a comment, trim again. The common case (a bare CIDR) touches a few chars only.
    while (start < end && isBlank(text.charCodeAt(start))) start++;
    if (start === end || text.charCodeAt(start) === HASH) continue;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === HASH || c === SPACE || c === TAB || c === CR) {
        // Token ends here; the rest may only be blanks and an optional comment.
        let j = i;
        while (j < end && isBlank(text.charCodeAt(j))) j++;
        if (j < end && text.charCodeAt(j) !== HASH) {
          const got = text.slice(start, end).trim();
          throw new Error(`${fileName}:${lineNo}: expected one CIDR per line, got ${JSON.stringify(cut(got))}`);
        }
        end = i;
        break;
      }
    }
    let v = scanPrefix(text, start, end);
    if (v < 0) {
      // Slow path: "default", or an error to explain.
      try {
        const p = parsePrefix(text.slice(start, end));
        v = p.addr * 64 + p.len;
      } catch (e) {
        throw new Error(`${fileName}:${lineNo}: ${(e as Error).message}`);
      }
    }
    if (n === cap) {
      cap *= 2;
      addrs = grow(addrs, new Uint32Array(cap));
      lens = grow(lens, new Uint8Array(cap));
      lines = grow(lines, new Uint32Array(cap));
    }
    addrs[n] = Math.floor(v / 64);
    lens[n] = v % 64;
    lines[n] = lineNo;
    n++;
  }
  return { addrs: addrs.slice(0, n), lens: lens.slice(0, n), lines: lines.slice(0, n) };
}

/** Reads a CIDR list file (gzip by ".gz" extension or magic bytes) and parses it. */
export function readCidrListFile(path: string): CidrList {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "ENOENT" ? "no such file" : err.code === "EACCES" ? "permission denied" : err.code === "EISDIR" ? "is a directory" : err.message;
    throw new Error(`cannot read CIDR list ${path}: ${why}`);
  }
  if (path.endsWith(".gz") || (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new Error(`${path}: not a valid gzip file (${(e as Error).message})`);
    }
  }
  return parseCidrList(bytes.toString("utf8"), path);
}

function grow<T extends Uint32Array | Uint8Array>(old: T, bigger: T): T {
  bigger.set(old);
  return bigger;
}

function cut(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}
