/**
 * The router's own addresses, as Linux's fib_add_ifaddr turns an `ip addr add` into routes: a `local`
 * route for the address in table local (scope host), a `broadcast` route for the subnet's broadcast
 * address (table local, scope link; not for /31 and /32), and the connected prefix in table main
 * (proto kernel, scope link, src the address; not for /32). The data plane also learns each address
 * (dp_addr_add): ARP answers for it and ICMP messages leave from it.
 */
import type { Route } from "../fib/types.ts";
import { TABLE_LOCAL, TABLE_MAIN } from "../fib/types.ts";
import { maskOf } from "../fib/ipv4.ts";

export interface InterfaceAddress {
  dev: string;
  addr: number;
  len: number;
  /** Broadcast address; undefined = the subnet's own (`broadcast +`). */
  broadcast?: number;
}

const hop = (dev: string) => [{ gateway: 0, dev, weight: 1, onlink: false }];

/** The routes the kernel adds for one interface address. */
export function addressRoutes(a: InterfaceAddress): Route[] {
  const mask = maskOf(a.len);
  const net = (a.addr & mask) >>> 0;
  const routes: Route[] = [
    { prefix: a.addr, len: 32, type: "local", table: TABLE_LOCAL, metric: 0, nexthops: hop(a.dev), proto: "kernel", scope: "host", src: a.addr },
  ];
  if (a.len < 31) {
    const brd = a.broadcast ?? (net | ~mask) >>> 0;
    routes.push({ prefix: brd, len: 32, type: "broadcast", table: TABLE_LOCAL, metric: 0, nexthops: hop(a.dev), proto: "kernel", scope: "link", src: a.addr });
  }
  if (a.len < 32) {
    routes.push({ prefix: net, len: a.len, type: "unicast", table: TABLE_MAIN, metric: 0, nexthops: hop(a.dev), proto: "kernel", scope: "link", src: a.addr });
  }
  return routes;
}
