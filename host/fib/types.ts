/**
 * Route, nexthop and rule records of the control plane (what `ip route` / `ip rule` speak about).
 * Numbers follow Linux: RTN_* route types, table ids (local 255, main 254, default 253), errnos.
 */

/** Linux RTN_* values (include/uapi/linux/rtnetlink.h). */
export const RouteType = {
  unicast: 1,
  local: 2,
  broadcast: 3,
  blackhole: 6,
  unreachable: 7,
  prohibit: 8,
  throw: 9,
} as const;
export type RouteTypeName = keyof typeof RouteType;

export const TABLE_LOCAL = 255;
export const TABLE_MAIN = 254;
export const TABLE_DEFAULT = 253;

/** One hop of a route: gateway (0 = directly connected) and output interface name. */
export interface Nexthop {
  gateway: number; // IPv4 as unsigned 32-bit integer; 0 when on-link
  dev: string; // interface name; "" when not given (blackhole etc.)
  weight: number; // 1..256, as iproute2
  onlink: boolean;
}

export interface Route {
  prefix: number; // network address, unsigned 32-bit, host bits clear
  len: number; // 0..32
  type: RouteTypeName;
  table: number; // 1..2^32-1
  metric: number; // lower wins; 0 default (iproute2 prints it only when non-zero)
  nexthops: Nexthop[]; // empty for blackhole/unreachable/prohibit/throw; >1 = multipath
  proto?: string; // "boot", "static", "kernel", … as given (printed back)
  scope?: string; // "link", "host", "global" … as given (printed back)
  src?: number; // preferred source address
}

/** ip rule actions. */
export type RuleAction = "lookup" | "blackhole" | "unreachable" | "prohibit";

export interface Rule {
  priority: number; // 0..2^32-1
  src: number; // selector "from PREFIX"; srcLen 0 = all
  srcLen: number;
  dst: number; // selector "to PREFIX"; dstLen 0 = all
  dstLen: number;
  iif: string; // "" = any
  tos: number; // 0 = any
  fwmark: number; // with fwmask; fwmask 0 = no mark selector
  fwmask: number;
  action: RuleAction;
  table: number; // for "lookup"
}

/** A route query: `ip route get ADDR [from ADDR] [iif NAME] [mark N] [tos T]`. */
export interface RouteQuery {
  dst: number;
  src: number; // 0 when not given
  iif: string; // "" when not given (locally generated)
  mark: number;
  tos: number;
}

/** Answer of one query: the route found (or the error), and the chosen hop. */
export interface RouteAnswer {
  /** 0 on success, otherwise a negative Linux errno (-101 ENETUNREACH, -113 EHOSTUNREACH, -22 EINVAL, -13 EACCES). */
  error: number;
  type: RouteTypeName | "none";
  table: number; // table that answered (0 when a rule action or no route answered)
  route?: Route; // the best route of the matched prefix
  nexthop?: Nexthop; // chosen hop (multipath: by flow hash)
}
