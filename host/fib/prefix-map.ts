/**
 * An index from a prefix's address (one prefix length per index) to a route set's id: open addressing
 * with linear probing in a power-of-two table, and backward-shift deletion, so a delete leaves no tombstone.
 *
 * Why not a JavaScript Map: V8's Map keeps a deleted entry's slot until the whole table is rehashed, so
 * route churn on a full table's /24 map (half a million prefixes) can rehash all of it every few thousand
 * updates; and a Map entry costs 30-odd bytes of heap, this 11–21 (8 a slot, grown at 3/4 full; BENCHMARKS
 * "A packed RIB").
 *
 *   keys  Int32Array(cap)   the address of each slot, as an int32
 *   ids   Int32Array(cap)   the set id of each slot; 0 = empty (ids start at 1)
 */
export class PrefixMap {
  private keys = new Int32Array(16);
  private ids = new Int32Array(16);
  private shift = 28; // 32 − log2(capacity)
  private count = 0;

  get size(): number {
    return this.count;
  }

  // Fibonacci hashing: the top bits of addr × 2^32/φ, so prefixes that differ only in high bits spread too.
  private home(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> this.shift;
  }

  /** The id stored for addr, 0 when none. */
  get(addr: number): number {
    const key = addr | 0;
    const mask = this.keys.length - 1;
    for (let i = this.home(key); ; i = (i + 1) & mask) {
      const id = this.ids[i]!;
      if (id === 0 || this.keys[i] === key) return id;
    }
  }

  /** Stores id (≥ 1) for addr, replacing any. */
  set(addr: number, id: number): void {
    const key = addr | 0;
    const mask = this.keys.length - 1;
    let i = this.home(key);
    for (; this.ids[i] !== 0; i = (i + 1) & mask) {
      if (this.keys[i] === key) {
        this.ids[i] = id;
        return;
      }
    }
    this.keys[i] = key;
    this.ids[i] = id;
    if (++this.count * 4 > this.keys.length * 3) this.grow();
  }

  /** Removes addr's entry; whether there was one. */
  delete(addr: number): boolean {
    const key = addr | 0;
    const mask = this.keys.length - 1;
    let i = this.home(key);
    for (; ; i = (i + 1) & mask) {
      if (this.ids[i] === 0) return false;
      if (this.keys[i] === key) break;
    }
    // Backward shift: move each later entry of the run whose home does not lie in (i, j] into the hole.
    for (let j = (i + 1) & mask; this.ids[j] !== 0; j = (j + 1) & mask) {
      const h = this.home(this.keys[j]!);
      const stays = i <= j ? i < h && h <= j : i < h || h <= j;
      if (stays) continue;
      this.keys[i] = this.keys[j]!;
      this.ids[i] = this.ids[j]!;
      i = j;
    }
    this.ids[i] = 0;
    this.count--;
    return true;
  }

  /** Calls f for every (address, id), in table order. */
  forEach(f: (addr: number, id: number) => void): void {
    for (let i = 0; i < this.ids.length; i++) if (this.ids[i] !== 0) f(this.keys[i]! >>> 0, this.ids[i]!);
  }

  /** Heap bytes of the two arrays. */
  get bytes(): number {
    return this.keys.byteLength + this.ids.byteLength;
  }

  private grow(): void {
    const keys = this.keys;
    const ids = this.ids;
    this.keys = new Int32Array(keys.length * 2);
    this.ids = new Int32Array(keys.length * 2);
    this.shift--;
    const mask = this.keys.length - 1;
    for (let k = 0; k < keys.length; k++) {
      if (ids[k] === 0) continue;
      let i = this.home(keys[k]!);
      while (this.ids[i] !== 0) i = (i + 1) & mask;
      this.keys[i] = keys[k]!;
      this.ids[i] = ids[k]!;
    }
  }
}
