/**
 * Echoes through a router, read from a `perf script` of net:net_dev_start_xmit, net:netif_receive_skb and
 * sched:sched_switch (scripts/profile-router.ts loaded). An echo's frames are told from other traffic by their
 * length: ping's default 56-byte payload makes a 98-byte frame (84 bytes once a receive has taken the
 * Ethernet header off), and the bench's UDP frames are 60 bytes. Each echo is four frame events, in order:
 *
 *   |    | AF_PACKET router (transmits)        | TAP router                                         |
 *   | t0 | h1 sends the request on its veth    | h1 sends the request on its TAP                    |
 *   | t1 | the router sends it on towards h2   | it arrives at h2's TAP (the router's write)        |
 *   | t2 | h2 sends the reply on its veth      | h2 sends the reply on its TAP                      |
 *   | t3 | the router sends the reply on       | it arrives at h1's TAP (the router's write)        |
 *
 * A TAP router's writes are receives on the hosts' TAPs, run in the router's own system call, so they are
 * timed and placed (CPU) like an AF_PACKET router's transmits.
 *
 * t1 − t0 and t3 − t2 are the router's part. For an echo whose router part is long, heldBy tells which tasks
 * ran on the router's CPU (the CPU of its send) in the meantime: the router itself, or what kept it from
 * running; and wakeOf, from sched:sched_waking and sched:sched_wakeup, whether the router slept, and if so
 * how long its wake-up took: until something woke it, until the CPU it was woken onto ran the wake-up (a
 * halted vCPU must be brought back by the host first), and until it ran.
 */

/** A frame seen by a tracepoint: sent by a device (net_dev_start_xmit) or received (netif_receive_skb). */
export interface FrameEvent {
  t: number; // s
  cpu: number;
  kind: "xmit" | "recv";
  dev: string;
  len: number; // skb->len: a received frame's is without its 14-byte Ethernet header
}

export interface Switch {
  t: number; // s
  cpu: number;
  next: string; // comm of the task switched in
  nextPid: number; // its thread id (0: the CPU goes idle)
}

/** A wake-up: sched_waking (on the waker's CPU, as try_to_wake_up starts) or sched_wakeup (on the wakee's CPU, once it is runnable there). */
export interface Wake {
  t: number; // s
  cpu: number; // where the event ran
  kind: "waking" | "wakeup";
  pid: number; // the task woken
  targetCpu: number;
}

export interface Echo {
  t0: number; // s: h1 sent the request
  t2: number; // s: h2 sent the reply
  requestUs: number; // t1 − t0
  replyUs: number; // t3 − t2
  totalUs: number; // t3 − t0
  requestCpu: number; // where the router sent the request on
  replyCpu: number;
}

/** An echo's four steps (t0 … t3 above): the device and the kind of event of each. */
export type EchoSteps = readonly [EchoStep, EchoStep, EchoStep, EchoStep];
export interface EchoStep {
  dev: string;
  kind: "xmit" | "recv";
}

export const ECHO_FRAME_BYTES = 98;
const ETHERNET_HEADER_BYTES = 14;

/** An AF_PACKET router's echo: four transmits (h1's veth, the router's port towards h2, h2's veth, the router's port towards h1). */
export function packetEchoSteps(d: { h1: string; toH2: string; h2: string; toH1: string }): EchoSteps {
  return [{ dev: d.h1, kind: "xmit" }, { dev: d.toH2, kind: "xmit" }, { dev: d.h2, kind: "xmit" }, { dev: d.toH1, kind: "xmit" }];
}

/** A TAP router's echo: h1's TAP sends, h2's TAP receives (the router's write), h2's TAP sends, h1's TAP receives. */
export function tapEchoSteps(d: { h1: string; h2: string }): EchoSteps {
  return [{ dev: d.h1, kind: "xmit" }, { dev: d.h2, kind: "recv" }, { dev: d.h2, kind: "xmit" }, { dev: d.h1, kind: "recv" }];
}

const FRAME = /^\s*\S.*?\s+\d+\s+\[(\d+)\]\s+([\d.]+):\s+net:(net_dev_start_xmit|netif_receive_skb):\s+dev=(\S+)\s.*?\blen=(\d+)\b/;
const WAKE = /^\s*\S.*?\s+\d+\s+\[(\d+)\]\s+([\d.]+):\s+sched:sched_(waking|wakeup):.*\bpid=(\d+)\b.*\btarget_cpu=(\d+)/;
const SWITCH = /^\s*\S.*?\s+\d+\s+\[(\d+)\]\s+([\d.]+):\s+sched:sched_switch:.*==> next_comm=(.*?) next_pid=(\d+)/;

/** The frame events, wake-ups and context switches of `perf script -F comm,tid,cpu,time,event,trace` output, in its order. */
export function parsePerfScript(text: string): { frames: FrameEvent[]; wakes: Wake[]; switches: Switch[] } {
  const frames: FrameEvent[] = [];
  const wakes: Wake[] = [];
  const switches: Switch[] = [];
  for (const line of text.split("\n")) {
    const x = FRAME.exec(line);
    if (x) {
      frames.push({ cpu: Number(x[1]), t: Number(x[2]), kind: x[3] === "net_dev_start_xmit" ? "xmit" : "recv", dev: x[4]!, len: Number(x[5]) });
      continue;
    }
    const w = WAKE.exec(line);
    if (w) {
      wakes.push({ cpu: Number(w[1]), t: Number(w[2]), kind: w[3] as Wake["kind"], pid: Number(w[4]), targetCpu: Number(w[5]) });
      continue;
    }
    const s = SWITCH.exec(line);
    if (s) switches.push({ cpu: Number(s[1]), t: Number(s[2]), next: s[3]!, nextPid: Number(s[4]) });
  }
  return { frames, wakes, switches };
}

/** The echoes whose four steps are all in the trace, in order (frames in time order). */
export function echoesOf(frames: FrameEvent[], steps: EchoSteps): Echo[] {
  const echoes: Echo[] = [];
  let t: number[] = []; // the current echo's step times so far, in step order
  let cpus: number[] = [];
  const done = () => {
    if (t.length !== 4) return;
    const [t0, t1, t2, t3] = t as [number, number, number, number];
    echoes.push({ t0, t2, requestUs: (t1 - t0) * 1e6, replyUs: (t3 - t2) * 1e6, totalUs: (t3 - t0) * 1e6, requestCpu: cpus[1]!, replyCpu: cpus[3]! });
  };
  for (const f of frames) {
    if (f.len !== (f.kind === "xmit" ? ECHO_FRAME_BYTES : ECHO_FRAME_BYTES - ETHERNET_HEADER_BYTES)) continue;
    const k = steps.findIndex((s) => s.dev === f.dev && s.kind === f.kind);
    if (k === 0) {
      done();
      t = [f.t];
      cpus = [f.cpu];
    } else if (k > 0 && k === t.length) {
      t.push(f.t);
      cpus.push(f.cpu);
    }
  }
  done();
  return echoes;
}

/** µs each task ran on cpu between from and to (s), from the switches in time order, by label(comm, thread id). */
export function heldBy(switches: Switch[], cpu: number, from: number, to: number, label: (comm: string, pid: number) => string = (c) => c): Map<string, number> {
  const held = new Map<string, number>();
  let running: string | undefined;
  let last = from;
  const add = (who: string | undefined, us: number) => {
    if (who !== undefined && us > 0) held.set(who, (held.get(who) ?? 0) + us);
  };
  for (const s of switches) {
    if (s.cpu !== cpu) continue;
    if (s.t <= from) {
      running = label(s.next, s.nextPid);
      continue;
    }
    if (s.t > to) break;
    add(running, (s.t - last) * 1e6);
    last = s.t;
    running = label(s.next, s.nextPid);
  }
  add(running, (to - last) * 1e6);
  return held;
}

/** How a sleeping task's wake-up went, µs from the start of the window, and where. */
export interface WakeDelay {
  wokenUs: number; // until sched_waking: something (the frame's arrival) woke it
  onCpuUs: number; // sched_waking → sched_wakeup: until its target CPU ran the wake-up
  ranUs: number; // sched_wakeup → switched in there
  wakerCpu: number;
  targetCpu: number;
}

/**
 * The first wake-up of pid between from and to (s): how long until it was woken, until its target CPU took the
 * wake-up, and until it ran. undefined when it was not woken in the window (it was running, or already runnable)
 * or when the trace lacks a step.
 */
export function wakeOf(wakes: Wake[], switches: Switch[], pid: number, from: number, to: number): WakeDelay | undefined {
  const waking = wakes.find((w) => w.kind === "waking" && w.pid === pid && w.t >= from && w.t <= to);
  if (!waking) return undefined;
  const wakeup = wakes.find((w) => w.kind === "wakeup" && w.pid === pid && w.t >= waking.t);
  if (!wakeup) return undefined;
  const ran = switches.find((s) => s.nextPid === pid && s.cpu === wakeup.cpu && s.t >= wakeup.t);
  if (!ran) return undefined;
  return { wokenUs: (waking.t - from) * 1e6, onCpuUs: (wakeup.t - waking.t) * 1e6, ranUs: (ran.t - wakeup.t) * 1e6, wakerCpu: waking.cpu, targetCpu: waking.targetCpu };
}

