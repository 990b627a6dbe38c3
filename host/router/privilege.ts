/**
 * `wasmroute run --user NAME[:GROUP]`: once the router has opened its ports, control socket, metrics
 * listener and statistics directory, it stops being root.
 *
 * What it keeps, and why (keptCapabilities):
 *   cap_net_raw    so that a SIGHUP reload can open an AF_PACKET port on an interface of the router's
 *                  own network namespace (socket(AF_PACKET) checks it when the socket is made).
 *   cap_net_admin  so that a reload can create a TAP (TUNSETIFF), but only when the user can open
 *                  /dev/net/tun at all (its mode, owner and group decide; 0600 root:root shuts it out,
 *                  and then the capability would be of no use and is not kept).
 * Nothing else: not cap_sys_admin, so a reload cannot enter another namespace (setns), and ip(8) runs
 * as a plain child without capabilities (no ambient set, no_new_privs), so it cannot move a tap to a
 * namespace or set promiscuous mode. Such links are refused by droppedLinkGuard with a one-line reason
 * before anything of the reload is applied. What a forwarding router already holds (open fds of taps and
 * packet sockets, the listening sockets) needs no capability.
 *
 * The drop itself is native (host/io/native/privilege.c): the bounding set cut to what is kept and
 * no_new_privs on every thread that takes signals (each does it in a signal handler), setgroups,
 * setresgid, setresuid with PR_SET_KEEPCAPS on the main thread only, capset, no ambient capabilities.
 * checkDropped then reads /proc/self/task/N/status of every thread and refuses any difference. The one
 * thread a signal cannot reach (Node's inspector start thread blocks them all and only ever waits on a
 * semaphore) is held to the rest: the user's ids and no capability at all.
 */
import { statSync } from "node:fs";
import { wrio } from "../io/wrio.ts";
import { capBit, capabilityNames, readTaskCredentials, type TaskCredentials } from "./capabilities.ts";
import type { ConfigLink } from "./config.ts";

/** `--user` as written: a name or a numeric id, and optionally a group the same way. */
export interface UserSpec {
  user: string | number;
  group?: string | number;
}

/** Who the router becomes. */
export interface TargetUser {
  /** The user's name ("uid N" when the id has no passwd entry). */
  name: string;
  uid: number;
  gid: number;
  /** The group's name as given, or its id. */
  groupName: string;
  /** Supplementary groups: the user's groups from the group database, or none. */
  groups: number[];
}

/** The signal privilege.c sends each thread to restrict itself (SIGRTMAX − 1 = 63 on Linux). */
export const RESTRICT_SIGNAL = 63;

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/;
const ID = /^\d{1,10}$/;

function idOrName(text: string, what: string, spec: string): string | number {
  if (ID.test(text)) {
    const n = Number(text);
    if (n > 0xfffffffe) throw new Error(`--user ${spec}: ${what} id ${text} is out of range`);
    return n;
  }
  if (!NAME.test(text)) throw new Error(`--user ${spec}: invalid ${what} name "${text}"`);
  return text;
}

/** Parses `NAME[:GROUP]` (either part numeric or a name). */
export function parseUserSpec(spec: string): UserSpec {
  const parts = spec.split(":");
  if (parts.length > 2 || parts[0] === "" || parts[1] === "") throw new Error(`--user wants NAME[:GROUP], got "${spec}"`);
  const user = idOrName(parts[0]!, "user", spec);
  return parts.length === 2 ? { user, group: idOrName(parts[1]!, "group", spec) } : { user };
}

/** Looks the user (and group) up in the system's databases (NSS). Throws a one-line error when unknown. */
export function resolveUser(spec: UserSpec): TargetUser {
  const w = wrio();
  const text = `${spec.user}${spec.group !== undefined ? `:${spec.group}` : ""}`;
  const pw = typeof spec.user === "number" ? w.lookupUid(spec.user) : w.lookupUser(spec.user);
  if (!pw && typeof spec.user === "string") throw new Error(`--user ${text}: no such user "${spec.user}"`);
  if (!pw && spec.group === undefined) throw new Error(`--user ${text}: uid ${spec.user} has no passwd entry; give its group too (--user ${spec.user}:GROUP)`);
  const uid = pw ? pw.uid : (spec.user as number);
  let gid: number;
  if (spec.group === undefined) gid = pw!.gid;
  else if (typeof spec.group === "number") gid = spec.group;
  else {
    const g = w.lookupGroup(spec.group);
    if (g === null) throw new Error(`--user ${text}: no such group "${spec.group}"`);
    gid = g;
  }
  if (uid === 0) throw new Error(`--user ${text}: that is root; name an unprivileged user`);
  const groups = pw ? [...new Set(w.groupList(pw.name, gid))].sort((a, b) => a - b) : [];
  return { name: pw?.name ?? `uid ${uid}`, uid, gid, groupName: String(spec.group ?? gid), groups };
}

/** Whether a file of this mode and owner can be opened for reading and writing by uid with these groups. */
export function canReadWrite(file: { mode: number; uid: number; gid: number }, uid: number, gids: readonly number[]): boolean {
  if (file.uid === uid) return (file.mode & 0o600) === 0o600;
  if (gids.includes(file.gid)) return (file.mode & 0o060) === 0o060;
  return (file.mode & 0o006) === 0o006;
}

/** Whether the user could open /dev/net/tun (false when it is missing). */
export function tunOpenable(u: TargetUser, path = "/dev/net/tun"): boolean {
  try {
    return canReadWrite(statSync(path), u.uid, [u.gid, ...u.groups]);
  } catch {
    return false;
  }
}

/**
 * The capabilities to keep after the drop: cap_net_raw (packet ports on reload), cap_net_admin when
 * /dev/net/tun is open to the user (taps on reload); only those the process holds now.
 */
export function keptCapabilities(held: bigint, tunIsOpenable: boolean): bigint {
  const want = capBit("cap_net_raw") | (tunIsOpenable ? capBit("cap_net_admin") : 0n);
  return want & held;
}

/** Why a reload may not add link l once the router runs as `who` with only `kept`; undefined = it may. */
export function droppedLinkGuard(kept: bigint, who: string): (l: ConfigLink) => string | undefined {
  const after = `after --user ${who}; restart wasmroute to add it`;
  return (l) => {
    if (l.kind === "pcap") return undefined;
    if (l.netns !== undefined) {
      return l.kind === "packet"
        ? `netns ${l.netns} needs cap_sys_admin (setns), dropped ${after}`
        : `netns ${l.netns} needs ip(8) with cap_net_admin to move the tap, dropped ${after}`;
    }
    if (l.kind === "tap" && !(kept & capBit("cap_net_admin"))) return `a tap needs cap_net_admin and /dev/net/tun, not kept ${after}`;
    if (l.kind === "packet" && !(kept & capBit("cap_net_raw"))) return `an AF_PACKET port needs cap_net_raw, not kept ${after}`;
    if (l.kind === "packet" && l.mac !== undefined) return `address on a packet link needs ip(8) with cap_net_admin (promiscuous mode), dropped ${after}`;
    return undefined;
  };
}

/** Whether a thread blocks the signal that restricts it (its bounding set and no_new_privs stay as they were). */
export function unreachableThread(t: TaskCredentials): boolean {
  return ((t.sigBlocked >> BigInt(RESTRICT_SIGNAL - 1)) & 1n) === 1n;
}

/** Differences between what every thread holds and what the drop promised (empty = as promised). */
export function checkDropped(tasks: readonly TaskCredentials[], mainTid: number, u: TargetUser, kept: bigint): string[] {
  const bad: string[] = [];
  const groups = [...u.groups].sort((a, b) => a - b).join(",");
  for (const t of tasks) {
    const main = t.tid === mainTid;
    const reached = main || !unreachableThread(t);
    const caps = main ? kept : 0n;
    const problems = [
      t.uids.every((x) => x === u.uid) ? "" : `uids ${t.uids.join(",")}`,
      t.gids.every((x) => x === u.gid) ? "" : `gids ${t.gids.join(",")}`,
      [...t.groups].sort((a, b) => a - b).join(",") === groups ? "" : `groups ${t.groups.join(",")}`,
      t.permitted === caps && t.effective === caps ? "" : `permitted/effective ${capabilityNames(t.permitted | t.effective).join(",") || "none"}`,
      t.inheritable === 0n && t.ambient === 0n ? "" : "inheritable or ambient capabilities",
      !reached || t.bounding === kept ? "" : `bounding set ${capabilityNames(t.bounding).join(",")}`,
      !reached || t.noNewPrivs ? "" : "no_new_privs unset",
    ].filter((p) => p !== "");
    if (problems.length > 0) bad.push(`thread ${t.tid}: ${problems.join(", ")}`);
  }
  return bad;
}

/** This process's permitted capabilities. */
export function heldCapabilities(): bigint {
  return readTaskCredentials("self").find((t) => t.tid === process.pid)!.permitted;
}

/**
 * Drops to u keeping `kept`, then checks every thread. Throws a one-line error; after a throw the
 * process may be half dropped and must exit without forwarding. Call it after the libuv thread pool
 * exists (any asynchronous fs call starts it), so that no pool thread is born later with the main
 * thread's capabilities.
 */
export function dropPrivileges(u: TargetUser, kept: bigint): { threads: number; unreachable: number } {
  wrio().uring(true); // the tap send ring, set up while still root (kernel.io_uring_disabled = 1 allows only that)
  const { unreachable, signal } = wrio().dropPrivileges(u.uid, u.gid, u.groups, Number(kept));
  if (signal !== RESTRICT_SIGNAL) throw new Error(`the addon restricted threads with signal ${signal}, not ${RESTRICT_SIGNAL}`);
  const tasks = readTaskCredentials("self");
  const bad = checkDropped(tasks, process.pid, u, kept);
  if (bad.length > 0) throw new Error(`dropping to ${u.name} left ${bad.join("; ")}`);
  return { threads: tasks.length, unreachable };
}
