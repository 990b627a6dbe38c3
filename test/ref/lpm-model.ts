// Reference model for IPv4 longest-prefix match: deliberately naive (33 per-length maps,
// scanned /32 down to /0) so differential tests can trust it without proof.

/** Network mask for a prefix length 0..32, as an unsigned 32-bit number. */
export function maskOf(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

export class RefLpm<V> {
  private readonly byLen: Map<number, V>[] = [];

  constructor() {
    for (let len = 0; len <= 32; len++) this.byLen.push(new Map<number, V>());
  }

  private static check(len: number): void {
    if (!Number.isInteger(len) || len < 0 || len > 32) throw new RangeError(`bad prefix length ${len}`);
  }

  /** Insert or replace the route addr/len (host bits are ignored). */
  set(addr: number, len: number, value: V): void {
    RefLpm.check(len);
    this.byLen[len].set((addr & maskOf(len)) >>> 0, value);
  }

  /** Remove the route addr/len; true if it existed. */
  delete(addr: number, len: number): boolean {
    RefLpm.check(len);
    return this.byLen[len].delete((addr & maskOf(len)) >>> 0);
  }

  /** Exact-match read of the route addr/len. */
  get(addr: number, len: number): V | undefined {
    RefLpm.check(len);
    return this.byLen[len].get((addr & maskOf(len)) >>> 0);
  }

  /** Longest prefix containing addr, or undefined if none. */
  lookup(addr: number): { len: number; value: V } | undefined {
    for (let len = 32; len >= 0; len--) {
      const m = this.byLen[len];
      const key = (addr & maskOf(len)) >>> 0;
      if (m.has(key)) return { len, value: m.get(key) as V };
    }
    return undefined;
  }

  /** Number of routes stored. */
  get size(): number {
    let n = 0;
    for (const m of this.byLen) n += m.size;
    return n;
  }
}
