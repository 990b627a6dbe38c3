/**
 * Echoes through a router, read from a `perf script` of net:net_dev_start_xmit and sched:sched_switch
 * (scripts/profile-router.ts loaded). An echo's frames are told from other traffic by their length: ping's
 * default 56-byte payload makes a 98-byte frame, and the bench's UDP frames are 60 bytes. Each echo is four
 * transmits, in order:
 *
 *   | t0 | h1 sends the request        | on h1's interface |
 *   | t1 | the router sends it on       | on the router's port towards h2 |
 *   | t2 | h2 sends the reply           | on h2's interface |
 *   | t3 | the router sends the reply on | on the router's port towards h1 |
 *
 * t1 − t0 and t3 − t2 are the router's part. For an echo whose router part is long, heldBy tells which tasks
 * ran on the router's CPU (the CPU of its transmit) in the meantime: the router itself, or what kept it from
 * running.
 */

export interface Xmit {
  t: number; // s
  cpu: number;
  dev: string;
  len: number;
}

export interface Switch {
  t: number; // s
  cpu: number;
  next: string; // comm of the task switched in
  nextPid: number; // its thread id (0: the CPU goes idle)
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

export interface EchoDevices {
  h1: string;
  toH2: string;
  h2: string;
  toH1: string;
}

export const ECHO_FRAME_BYTES = 98;

const XMIT = /^\s*\S.*?\s+\d+\s+\[(\d+)\]\s+([\d.]+):\s+net:net_dev_start_xmit:\s+dev=(\S+)\s.*?\blen=(\d+)\b/;
const SWITCH = /^\s*\S.*?\s+\d+\s+\[(\d+)\]\s+([\d.]+):\s+sched:sched_switch:.*==> next_comm=(.*?) next_pid=(\d+)/;

/** The transmits and context switches of `perf script -F comm,tid,cpu,time,event,trace` output. */
export function parsePerfScript(text: string): { xmits: Xmit[]; switches: Switch[] } {
  const xmits: Xmit[] = [];
  const switches: Switch[] = [];
  for (const line of text.split("\n")) {
    const x = XMIT.exec(line);
    if (x) {
      xmits.push({ cpu: Number(x[1]), t: Number(x[2]), dev: x[3]!, len: Number(x[4]) });
      continue;
    }
    const s = SWITCH.exec(line);
    if (s) switches.push({ cpu: Number(s[1]), t: Number(s[2]), next: s[3]!, nextPid: Number(s[4]) });
  }
  return { xmits, switches };
}

/** The echoes whose four transmits are all in the trace, in order. */
export function echoesOf(xmits: Xmit[], devs: EchoDevices): Echo[] {
  const echoes: Echo[] = [];
  let t: number[] = []; // the current echo's transmit times so far, in step order
  let cpus: number[] = [];
  const done = () => {
    if (t.length !== 4) return;
    const [t0, t1, t2, t3] = t as [number, number, number, number];
    echoes.push({ t0, t2, requestUs: (t1 - t0) * 1e6, replyUs: (t3 - t2) * 1e6, totalUs: (t3 - t0) * 1e6, requestCpu: cpus[1]!, replyCpu: cpus[3]! });
  };
  const step = [devs.h1, devs.toH2, devs.h2, devs.toH1];
  for (const x of xmits) {
    if (x.len !== ECHO_FRAME_BYTES) continue;
    const k = step.indexOf(x.dev);
    if (k === 0) {
      done();
      t = [x.t];
      cpus = [x.cpu];
    } else if (k > 0 && k === t.length) {
      t.push(x.t);
      cpus.push(x.cpu);
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
