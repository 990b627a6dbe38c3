// The two-port router the no-root tests start with `wasmroute run`: pcap ports p1 (h1's side) and p2
// (h2's side), static neighbours for both hosts, and 172.16.0.0/12 behind h2; frames from h1 to the router.
import { parseMac } from "../../host/router/mac.ts";

export const PCAP_ROUTER_LINES = [
  "link add p1 type pcap address 02:77:00:00:01:01",
  "link add p2 type pcap address 02:77:00:00:02:01",
  "addr add 10.201.1.1/24 dev p1",
  "addr add 10.201.2.1/24 dev p2",
  "neigh add 10.201.2.2 lladdr 02:00:00:00:02:02 dev p2",
  "neigh add 10.201.1.2 lladdr 02:00:00:00:01:02 dev p1",
  "route add 172.16.0.0/12 via 10.201.2.2",
];

/** Ethernet addresses of frames h1 sends to the router's p1. */
export const H1_TO_ROUTER = { srcMac: parseMac("02:00:00:00:01:02"), dstMac: parseMac("02:77:00:00:01:01") };
