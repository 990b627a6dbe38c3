// check.ts — invariant audit of one table's lookup structure (BIRD's fib_check): run by tests after
// updates; returns 0 when sound, else a code naming the first broken invariant.
import { dirOf, shortOf, tableExists, tableBytesOf, PTR } from "./table";
import { plyBytes } from "./ply";
import { blockSize } from "../util/arena";
import { bucketOf, bucketCount, bucketRecord, bucketBytesOf, bucketBytesCounted } from "./bucket";

// Codes: 1 no table, 2 level-0 word ≠ short result, 3 ply default ≠ short result, 4 rank bytes wrong,
// 5 nRuns ≠ popcount(runBits), 6 run 0 not marked, 7 nChildren ≠ popcount(childBits),
// 8 children pointer inconsistent, 9 level-2 ply has children, 10 byte count mismatch, 11 INHERIT in level 0,
// 12 a /16's list holds a record outside it (or a bad length, a result 0, a host bit), 13 a level-0 word is a
// ply without routes longer than /16 in its list or the reverse (after every rebuild), 14 list bytes mismatch.
function checkPly(p: usize, level: u32): i32 {
  let kr: u32 = 0;
  let rr: u32 = 0;
  for (let w: u32 = 0; w < 4; w++) {
    if (<u32>load<u8>(p + 8 + w) != kr || <u32>load<u8>(p + 12 + w) != rr) return 4;
    kr += <u32>popcnt<u64>(load<u64>(p + 16 + (<usize>w << 3)));
    rr += <u32>popcnt<u64>(load<u64>(p + 48 + (<usize>w << 3)));
  }
  if (rr != <u32>load<u16>(p + 80)) return 5;
  if ((load<u64>(p + 48) & 1) == 0) return 6;
  if (kr != <u32>load<u16>(p + 82)) return 7;
  if ((kr == 0) != (load<u32>(p + 4) == 0)) return 8;
  if (level == 2 && kr != 0) return 9;
  return 0;
}

export function check(t: u32): i32 {
  if (!tableExists(t)) return 1;
  const shortArr = shortOf(t);
  const dir = dirOf(t);
  let bytes: usize = 2 * 65536 * 4;
  for (let i: usize = 0; i < 65536; i++) {
    const e = load<u32>(dir + (i << 2));
    const sres = load<u32>(shortArr + (i << 2)) & 0x00ffffff;
    const list = bucketOf(t, <u32>i);
    const nList = bucketCount(list);
    for (let k: u32 = 0; k < nList; k++) {
      const r = bucketRecord(list, k);
      const a = load<u32>(r);
      const len = load<u32>(r, 4);
      const res = load<u32>(r, 8);
      if (<usize>(a >>> 16) != i || len < 17 || len > 32 || res == 0 || res > 0x00ffffff || (a & ((<u32>1 << (32 - len)) - 1)) != 0) return 12;
    }
    if (((e & PTR) != 0) != (nList > 0)) return 13;
    if ((e & PTR) == 0) {
      if (e == 0xffffffff) return 11;
      if (e != sres) return 2;
      continue;
    }
    const p = <usize>(e & ~PTR);
    if (load<u32>(p) != sres) return 3;
    const c1 = checkPly(p, 1);
    if (c1 != 0) return c1;
    bytes += blockSize(plyBytes(p));
    const n = <usize>load<u16>(p + 82);
    const kids = <usize>load<u32>(p + 4);
    if (n > 0) bytes += blockSize(n << 2);
    for (let k: usize = 0; k < n; k++) {
      const c = <usize>load<u32>(kids + (k << 2));
      const c2 = checkPly(c, 2);
      if (c2 != 0) return c2;
      bytes += blockSize(plyBytes(c));
    }
  }
  if (<u32>bytes != tableBytesOf(t)) return 10;
  if (<u32>bucketBytesCounted(t) != bucketBytesOf(t)) return 14;
  return 0;
}

