// scripts/lib/echo-trace.ts: echoes and the tasks on the router's CPU, read from `perf script` lines of the
// shape perf prints for net:net_dev_start_xmit, net:netif_receive_skb and sched:sched_switch
// (profile-router.ts loaded).
import { describe, it, expect } from "vitest";
import { parsePerfScript, echoesOf, heldBy, wakeOf, packetEchoSteps, tapEchoSteps } from "../scripts/lib/echo-trace.ts";

const xmit = (comm: string, tid: number, cpu: number, t: string, dev: string, len: number) =>
  `${comm.padStart(16)} ${tid} [${String(cpu).padStart(3, "0")}] ${t}: net:net_dev_start_xmit: dev=${dev} queue_mapping=0 skbaddr=0xffff888105296900 vlan_tagged=0 vlan_proto=0x0000 vlan_tci=0x0000 protocol=0x0800 ip_summed=0 len=${len} data_len=0 network_offset=14 transport_offset_valid=1 transport_offset=34 tx_flags=0 gso_size=0 gso_segs=0 gso_type=0`;
const recv = (comm: string, tid: number, cpu: number, t: string, dev: string, len: number) =>
  `${comm.padStart(16)} ${tid} [${String(cpu).padStart(3, "0")}] ${t}: net:netif_receive_skb: dev=${dev} skbaddr=0xffff888105296900 len=${len}`;
const wake = (comm: string, tid: number, cpu: number, t: string, kind: "waking" | "wakeup", pid: number, target: number) =>
  `${comm.padStart(16)} ${tid} [${String(cpu).padStart(3, "0")}] ${t}: sched:sched_${kind}: comm=node pid=${pid} prio=120 target_cpu=${String(target).padStart(3, "0")}`;
const sw = (comm: string, tid: number, cpu: number, t: string, next: string, nextPid: number) =>
  `${comm.padStart(16)} ${tid} [${String(cpu).padStart(3, "0")}] ${t}:     sched:sched_switch: prev_comm=${comm} prev_pid=${tid} prev_prio=120 prev_state=R ==> next_comm=${next} next_pid=${nextPid} next_prio=120`;
const steps = packetEchoSteps({ h1: "wr-pl-p1h", toH2: "wr-pl-p2r", h2: "wr-pl-p2h", toH1: "wr-pl-p1r" });

// Two echoes: the first quick; the second's request waits while kdamond.0 holds CPU1, then the router runs.
const trace = [
  xmit("trafgen", 7, 0, "100.000000", "wr-pl-p1h", 60), // the load: not an echo
  xmit("ping", 9, 0, "100.000100", "wr-pl-p1h", 98),
  xmit("node", 5, 1, "100.000110", "wr-pl-p2r", 60), // a load frame forwarded in between
  xmit("node", 5, 1, "100.000120", "wr-pl-p2r", 98),
  recv("node", 5, 1, "100.000122", "wr-pl-p2h", 84), // h2's receive of it: not a step of this router's echo
  xmit("node", 5, 1, "100.000125", "wr-pl-p2h", 98),
  xmit("node", 5, 1, "100.000140", "wr-pl-p1r", 98),
  sw("node", 5, 1, "100.010000", "kdamond.0", 107),
  xmit("ping", 9, 0, "100.010100", "wr-pl-p1h", 98),
  sw("kdamond.0", 107, 1, "100.011100", "node", 5),
  xmit("node", 5, 1, "100.011300", "wr-pl-p2r", 98),
  xmit("node", 5, 1, "100.011305", "wr-pl-p2h", 98),
  xmit("node", 5, 1, "100.011320", "wr-pl-p1r", 98),
  xmit("ping", 9, 0, "100.020100", "wr-pl-p1h", 98), // an echo whose reply never came: left out
].join("\n");

describe("echo trace", () => {
  const { frames, wakes, switches } = parsePerfScript(trace + "\nperf: some line that is neither\n");

  it("reads frame events and switches, with their CPU, time, kind, device, length and next task", () => {
    expect(frames).toHaveLength(12);
    expect(frames[0]).toEqual({ cpu: 0, t: 100, kind: "xmit", dev: "wr-pl-p1h", len: 60 });
    expect(frames[4]).toEqual({ cpu: 1, t: 100.000122, kind: "recv", dev: "wr-pl-p2h", len: 84 });
    expect(switches).toEqual([
      { cpu: 1, t: 100.01, next: "kdamond.0", nextPid: 107 },
      { cpu: 1, t: 100.0111, next: "node", nextPid: 5 },
    ]);
  });

  it("puts each echo's four transmits together and times the router's part of the request and the reply", () => {
    const e = echoesOf(frames, steps);
    expect(e).toHaveLength(2);
    expect(e[0]!.requestUs).toBeCloseTo(20, 3);
    expect(e[0]!.replyUs).toBeCloseTo(15, 3);
    expect(e[0]!.totalUs).toBeCloseTo(40, 3);
    expect(e[1]!.requestUs).toBeCloseTo(1200, 3);
    expect([e[1]!.requestCpu, e[1]!.replyCpu]).toEqual([1, 1]);
    expect(e[1]!.t2).toBeCloseTo(100.011305, 9); // where the reply's wait starts
  });

  it("tells who held the router's CPU while a request waited", () => {
    const e = echoesOf(frames, steps)[1]!;
    const held = heldBy(switches, e.requestCpu, e.t0, e.t0 + e.requestUs / 1e6, (comm, pid) => (pid === 5 ? "router" : comm));
    expect(held.get("kdamond.0")).toBeCloseTo(1000, 3);
    expect(held.get("router")).toBeCloseTo(200, 3);
    expect(heldBy(switches, 0, e.t0, e.t0 + 0.001).size).toBe(0); // nothing switched on CPU0: unknown, not counted
    // the router was not asleep in that wait (kdamond.0 held its CPU): no wake-up to time
    expect(wakes).toEqual([]);
    expect(wakeOf(wakes, switches, 5, e.t0, e.t0 + e.requestUs / 1e6)).toBeUndefined();
  });

  it("times a TAP router's echo by the hosts' TAPs: its writes are receives there, 84 bytes without the Ethernet header", () => {
    const tap = [
      xmit("ping", 9, 0, "200.000100", "wr-pl-t1h", 98), // h1 sends the request on its TAP
      wake("ping", 9, 0, "200.000103", "waking", 77, 0), // another task's wake-up: not the router's
      wake("ping", 9, 0, "200.000105", "waking", 5, 1), // h1's TAP wakes the sleeping router, onto CPU1
      wake("swapper", 0, 1, "200.000140", "wakeup", 5, 1), // CPU1, halted, takes the wake-up
      sw("swapper", 0, 1, "200.000150", "node", 5), // and runs the router
      recv("node", 5, 1, "200.000130", "wr-pl-t1h", 84), // a frame in from h1's TAP the other way: not a step
      recv("node", 5, 1, "200.000150", "wr-pl-t2h", 98), // the wrong length for a receive: not the echo
      recv("node", 5, 1, "200.000160", "wr-pl-t2h", 84), // the router's write arrives at h2
      xmit("node", 5, 1, "200.000170", "wr-pl-t2h", 98), // h2's reply
      recv("node", 5, 1, "200.000200", "wr-pl-t1h", 84), // the router's write arrives at h1
    ].join("\n");
    const { frames, wakes, switches: sws } = parsePerfScript(tap);
    const e = echoesOf(frames, tapEchoSteps({ h1: "wr-pl-t1h", h2: "wr-pl-t2h" }));
    expect(e).toHaveLength(1);
    // the router slept: woken 5 µs after the request, its CPU took 35 µs to take the wake-up, it ran 10 µs later
    const w = wakeOf(wakes, sws, 5, e[0]!.t0, e[0]!.t0 + e[0]!.requestUs / 1e6)!;
    expect(w.wokenUs).toBeCloseTo(5, 3);
    expect(w.onCpuUs).toBeCloseTo(35, 3);
    expect(w.ranUs).toBeCloseTo(10, 3);
    expect([w.wakerCpu, w.targetCpu]).toEqual([0, 1]);
    expect(e[0]!.requestUs).toBeCloseTo(60, 3);
    expect(e[0]!.replyUs).toBeCloseTo(30, 3);
    expect(e[0]!.totalUs).toBeCloseTo(100, 3);
    expect([e[0]!.requestCpu, e[0]!.replyCpu]).toEqual([1, 1]);
  });
});
