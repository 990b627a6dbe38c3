// rules.ts — policy routing: the `ip rule` list and the policy lookup (fib_rules_lookup + fib4_rule_*).
//
// Rules are evaluated in the order the host wrote them (ascending priority). For each rule whose
// selectors all match: `lookup T` looks in table T and stops on any route except `throw` (a miss or a
// missing table goes on to the next rule, -EAGAIN in Linux); blackhole/unreachable/prohibit stop with
// -EINVAL/-ENETUNREACH/-EACCES. A route of type blackhole/unreachable/prohibit stops with its own errno
// (-EINVAL/-EHOSTUNREACH/-EACCES, fib_props). Nothing matched: -ENETUNREACH (ESRCH on the input path).
//
// Rule record, 40 bytes
// ┌─────┬─────┬────────────────────────────────────────┐
// │  +0 │ u32 │ priority (informational; list is sorted) │
// │  +4 │ u32 │ from: address   +8 u32 mask           │
// │ +12 │ u32 │ to:   address  +16 u32 mask           │
// │ +20 │ u32 │ iif index (0 = any)                   │
// │ +24 │ u32 │ tos (0 = any)                         │
// │ +28 │ u32 │ fwmark  +32 u32 fwmask (0 = any)      │
// │ +36 │ u16 │ action: 1 lookup 2 blackhole 3 unreachable 4 prohibit │
// │ +38 │ u16 │ table index for lookup (0xffff = no such table) │
// └─────┴─────┴────────────────────────────────────────┘
// Policy key, 20 bytes: dst, src, iif, mark, tos (u32 each).
// Answer, 16 bytes: result id, table index (0xffffffff none), next hop index (0xffffffff none), errno (i32).
import { alloc, free } from "../util/arena";
import { dirOf, tableExists, lookupIn } from "./table";
import { resultType, selectNexthop, TYPE_BLACKHOLE, TYPE_UNREACHABLE, TYPE_PROHIBIT, TYPE_THROW } from "./nexthop";

export const RULE_BYTES: u32 = 40;
export const KEY_BYTES: u32 = 20;
export const ANSWER_BYTES: u32 = 16;
const ACT_LOOKUP: u16 = 1;
const ACT_BLACKHOLE: u16 = 2;
const ACT_UNREACHABLE: u16 = 3;
const ACT_PROHIBIT: u16 = 4;
const NONE: u32 = 0xffffffff;

let rules: usize = 0;
let ruleCount: u32 = 0;
let rulesCap: u32 = 0;
let pending: usize = 0;
let pendingCap: u32 = 0;

/** A block for n rule records the host fills before rulesCommit(n); 0 on ENOMEM. */
export function rulesReserve(n: u32): usize {
  if (pending != 0) free(pending, <usize>pendingCap * RULE_BYTES);
  pending = alloc(<usize>max<u32>(n, 1) * RULE_BYTES);
  pendingCap = max<u32>(n, 1);
  return pending;
}

/** Publishes the reserved list as the rule list (one word swap), then frees the old list. */
export function rulesCommit(n: u32): i32 {
  if (pending == 0 || n > pendingCap) return -22;
  const old = rules;
  const oldCap = rulesCap;
  rules = pending;
  rulesCap = pendingCap;
  ruleCount = n;
  pending = 0;
  pendingCap = 0;
  if (old != 0) free(old, <usize>oldCap * RULE_BYTES);
  return 0;
}

/** Routes one key; writes the answer at out and returns its errno. */
export function routeOne(dst: u32, src: u32, iif: u32, mark: u32, tos: u32, out: usize): i32 {
  let err: i32 = -101;
  let result: u32 = 0;
  let table: u32 = NONE;
  let nh: u32 = NONE;
  for (let i: u32 = 0; i < ruleCount; i++) {
    const r = rules + <usize>i * RULE_BYTES;
    if (((src ^ load<u32>(r, 4)) & load<u32>(r, 8)) != 0) continue;
    if (((dst ^ load<u32>(r, 12)) & load<u32>(r, 16)) != 0) continue;
    const riif = load<u32>(r, 20);
    if (riif != 0 && riif != iif) continue;
    const rtos = load<u32>(r, 24);
    if (rtos != 0 && rtos != tos) continue;
    if (((mark ^ load<u32>(r, 28)) & load<u32>(r, 32)) != 0) continue;
    const action = load<u16>(r, 36);
    if (action == ACT_LOOKUP) {
      const t = <u32>load<u16>(r, 38);
      if (!tableExists(t)) continue;
      const res = lookupIn(dirOf(t), dst);
      if (res == 0) continue;
      const type = resultType(res);
      if (type == TYPE_THROW) continue;
      result = res;
      table = t;
      if (type == TYPE_BLACKHOLE) err = -22;
      else if (type == TYPE_UNREACHABLE) err = -113;
      else if (type == TYPE_PROHIBIT) err = -13;
      else {
        err = 0;
        nh = selectNexthop(res, src, dst);
      }
      break;
    }
    if (action == ACT_BLACKHOLE) err = -22;
    else if (action == ACT_UNREACHABLE) err = -101;
    else if (action == ACT_PROHIBIT) err = -13;
    else continue; // unknown action: skip, as the kernel does with FR_ACT_NOP
    break;
  }
  store<u32>(out, result);
  store<u32>(out, table, 4);
  store<u32>(out, nh, 8);
  store<i32>(out, err, 12);
  return err;
}

export function routeBatch(keys: usize, out: usize, n: u32): void {
  for (let i: u32 = 0; i < n; i++) {
    const k = keys + <usize>i * KEY_BYTES;
    routeOne(load<u32>(k), load<u32>(k, 4), load<u32>(k, 8), load<u32>(k, 12), load<u32>(k, 16), out + <usize>i * ANSWER_BYTES);
  }
}
