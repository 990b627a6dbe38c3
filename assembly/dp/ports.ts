// ports.ts — the router's ports as the data plane knows them: per ifindex its MAC and MTU, and the
// router's own IPv4 addresses (ifindex, address, prefix length). ARP answers for these addresses,
// locally generated packets take their source from them, and frames addressed to another MAC are
// not ours (PACKET_OTHERHOST). The host writes all of it (dp_port_set, dp_addr_*).
//
// Port record, 16 bytes per ifindex < MAX_PORTS
// ┌─────┬────────┬───────────────────────────────────────────────┐
// │  +0 │ u8[6]  │ MAC                                           │
// │  +6 │ u16    │ MTU (IPv4 bytes; 0 = no such port)            │
// │  +8 │ u32    │ flags (PORT_UP, PORT_SEND_REDIRECTS,          │
// │     │        │ PORT_OFFLOAD)                                 │
// │ +12 │ u32    │ primary address (first added; 0 = none)       │
// └─────┴────────┴───────────────────────────────────────────────┘
// Address record, 12 bytes, MAX_ADDRS of them: +0 u32 ifindex, +4 u32 address, +8 u32 prefix length.

export const MAX_PORTS: u32 = 256;
export const MAX_ADDRS: u32 = 1024;
export const PORT_UP: u32 = 1;
export const PORT_SEND_REDIRECTS: u32 = 2; // net.ipv4.conf.IF.send_redirects
/** An offload TAP: frames come and go with a vnet header; TCPv4 GSO super-frames and partial checksums both ways. */
export const PORT_OFFLOAD: u32 = 4;
const PORT_BYTES: u32 = 16;
const ports: usize = memory.data(<i32>(MAX_PORTS * PORT_BYTES));
const addrs: usize = memory.data(<i32>(MAX_ADDRS * 12));
let nAddrs: u32 = 0;

// @ts-ignore: decorator
@inline function rec(ifindex: u32): usize {
  return ports + <usize>ifindex * PORT_BYTES;
}

/** Sets port ifindex: MAC (6 bytes at macPtr), MTU (0 removes the port), flags. */
export function portSet(ifindex: u32, macPtr: usize, mtu: u32, flags: u32): i32 {
  if (ifindex == 0 || ifindex >= MAX_PORTS || mtu > 65535 || (mtu != 0 && mtu < 68)) return -22;
  const r = rec(ifindex);
  memory.copy(r, macPtr, 6);
  store<u16>(r, <u16>mtu, 6);
  store<u32>(r, flags, 8);
  return 0;
}

/** The port's MAC (6 bytes), or 0 when ifindex is not a port. */
export function portMac(ifindex: u32): usize {
  if (ifindex >= MAX_PORTS || load<u16>(rec(ifindex), 6) == 0) return 0;
  return rec(ifindex);
}

export function portMtu(ifindex: u32): u32 {
  return ifindex < MAX_PORTS ? <u32>load<u16>(rec(ifindex), 6) : 0;
}

export function portFlags(ifindex: u32): u32 {
  return ifindex < MAX_PORTS ? load<u32>(rec(ifindex), 8) : 0;
}

export function portUp(ifindex: u32): bool {
  return ifindex < MAX_PORTS && load<u16>(rec(ifindex), 6) != 0 && (load<u32>(rec(ifindex), 8) & PORT_UP) != 0;
}

/** The first address added on ifindex (0 = none). */
export function portPrimary(ifindex: u32): u32 {
  return ifindex < MAX_PORTS ? load<u32>(rec(ifindex), 12) : 0;
}

/** Adds an address of ours; -17 if it is already there, -28 when the table is full. */
export function addrAdd(ifindex: u32, addr: u32, plen: u32): i32 {
  if (ifindex == 0 || ifindex >= MAX_PORTS || plen > 32) return -22;
  for (let i: u32 = 0; i < nAddrs; i++) {
    const a = addrs + <usize>i * 12;
    if (load<u32>(a) == ifindex && load<u32>(a, 4) == addr) return -17;
  }
  if (nAddrs >= MAX_ADDRS) return -28;
  const a = addrs + <usize>nAddrs * 12;
  store<u32>(a, ifindex);
  store<u32>(a, addr, 4);
  store<u32>(a, plen, 8);
  nAddrs++;
  if (load<u32>(rec(ifindex), 12) == 0) store<u32>(rec(ifindex), addr, 12);
  return 0;
}

/** Forgets every address (the host re-adds them all when the configuration changes). */
export function addrClear(): void {
  nAddrs = 0;
  for (let i: u32 = 0; i < MAX_PORTS; i++) store<u32>(rec(i), 0, 12);
}

/** The address is one of the router's own, on any port (arp_ignore 0 answers for all of them). */
export function isLocalAddr(ip: u32): bool {
  for (let i: u32 = 0; i < nAddrs; i++) if (load<u32>(addrs + <usize>i * 12, 4) == ip) return true;
  return false;
}

/**
 * The source address to use on ifindex towards ip: an address of that port whose subnet holds ip,
 * else the port's primary address, else any address of ours (0 when the router has none).
 */
export function addrFor(ifindex: u32, ip: u32): u32 {
  for (let i: u32 = 0; i < nAddrs; i++) {
    const a = addrs + <usize>i * 12;
    if (load<u32>(a) != ifindex) continue;
    const plen = load<u32>(a, 8);
    const mask: u32 = plen == 0 ? 0 : <u32>(0xffffffff << (32 - plen));
    if (((load<u32>(a, 4) ^ ip) & mask) == 0) return load<u32>(a, 4);
  }
  const p = portPrimary(ifindex);
  if (p != 0 || nAddrs == 0) return p;
  return load<u32>(addrs, 4);
}
