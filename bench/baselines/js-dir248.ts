// Benchmark baseline: the strongest simple plain-JS IPv4 LPM, a DIR-24-8 table
// (DPDK rte_lpm layout) over typed arrays, built once from a route list.
//
// tbl24[addr >>> 8] holds either a next-hop value, or (TBL8_FLAG | group) pointing to a
// 256-entry tbl8 group indexed by the low address byte. Value 0 means "no route", so
// route values must be in 1..MAX_VALUE (next-hop ids). Flag is bit 30, not 31, so every
// entry stays a small integer (Smi) in V8 and the lookup loop stays monomorphic.

const TBL8_FLAG = 0x40000000;
const GROUP_MASK = 0x3fffffff;
/** Largest value a route may carry. */
export const MAX_VALUE = 0x3fffffff;

export class JsDir248 {
  readonly tbl24: Uint32Array;
  readonly tbl8: Uint32Array;
  /** Number of tbl8 groups allocated. */
  readonly groups: number;

  /**
   * Build from parallel arrays of routes. Host bits of addrs are ignored; for duplicate
   * prefixes the later entry wins. Values must be 1..MAX_VALUE.
   */
  constructor(addrs: Uint32Array, lens: Uint8Array, values: Uint32Array) {
    const n = addrs.length;
    if (lens.length !== n || values.length !== n) throw new RangeError('addrs, lens, values differ in length');
    const { tbl24, tbl8, groups } = build(addrs, lens, values);
    this.tbl24 = tbl24;
    this.tbl8 = tbl8;
    this.groups = groups;
  }

  /** Same as the constructor: build the table in one pass. */
  static build(addrs: Uint32Array, lens: Uint8Array, values: Uint32Array): JsDir248 {
    return new JsDir248(addrs, lens, values);
  }

  /** Value of the longest matching prefix, or 0 if no route covers addr. */
  lookup(addr: number): number {
    const e = this.tbl24[addr >>> 8];
    if ((e & TBL8_FLAG) === 0) return e;
    return this.tbl8[((e & GROUP_MASK) << 8) | (addr & 0xff)];
  }

  /** out[i] = lookup(keys[i]) for i < n. */
  lookupBatch(keys: Uint32Array, out: Uint32Array, n: number): void {
    const tbl24 = this.tbl24;
    const tbl8 = this.tbl8;
    for (let i = 0; i < n; i++) {
      const a = keys[i];
      const e = tbl24[a >>> 8];
      out[i] = (e & TBL8_FLAG) === 0 ? e : tbl8[((e & GROUP_MASK) << 8) | (a & 0xff)];
    }
  }

  /** Bytes held by the lookup tables. */
  get bytes(): number {
    return this.tbl24.byteLength + this.tbl8.byteLength;
  }
}

function build(
  addrs: Uint32Array,
  lens: Uint8Array,
  values: Uint32Array,
): { tbl24: Uint32Array; tbl8: Uint32Array; groups: number } {
  const n = addrs.length;

  // Stable counting sort of route indices by prefix length, ascending, so longer
  // prefixes paint over shorter ones and later duplicates over earlier ones.
  const counts = new Uint32Array(34);
  for (let i = 0; i < n; i++) {
    const len = lens[i];
    if (len > 32) throw new RangeError(`route ${i}: bad prefix length ${len}`);
    const v = values[i];
    if (v < 1 || v > MAX_VALUE) throw new RangeError(`route ${i}: value ${v} not in 1..${MAX_VALUE}`);
    counts[len + 1]++;
  }
  for (let l = 1; l < 34; l++) counts[l] += counts[l - 1];
  const order = new Uint32Array(n);
  const next = counts.slice(0, 33);
  for (let i = 0; i < n; i++) order[next[lens[i]]++] = i;
  const firstLong = counts[25]; // order[firstLong..] are the /25../32 routes

  // Exact tbl8 size: one group per distinct /24 that holds a longer prefix.
  const long24 = new Set<number>();
  for (let k = firstLong; k < n; k++) long24.add(addrs[order[k]] >>> 8);
  const groups = long24.size;
  if (groups > GROUP_MASK >>> 8) throw new RangeError('too many tbl8 groups');

  const tbl24 = new Uint32Array(1 << 24);
  const tbl8 = new Uint32Array(groups * 256);

  // /0../24: paint the covered tbl24 range directly (no tbl8 exists yet).
  for (let k = 0; k < firstLong; k++) {
    const i = order[k];
    const len = lens[i];
    const span = 1 << (24 - len);
    const start = (addrs[i] >>> 8) & ~(span - 1);
    tbl24.fill(values[i], start, start + span);
  }

  // /25../32: allocate a group on first use, inheriting the /24's current value,
  // then paint the covered slice of the group.
  let used = 0;
  for (let k = firstLong; k < n; k++) {
    const i = order[k];
    const a = addrs[i];
    const idx = a >>> 8;
    let e = tbl24[idx];
    if ((e & TBL8_FLAG) === 0) {
      tbl8.fill(e, used << 8, (used + 1) << 8);
      e = TBL8_FLAG | used;
      tbl24[idx] = e;
      used++;
    }
    const span = 1 << (32 - lens[i]);
    const start = ((e & GROUP_MASK) << 8) | (a & 0xff & ~(span - 1));
    tbl8.fill(values[i], start, start + span);
  }

  return { tbl24, tbl8, groups };
}
