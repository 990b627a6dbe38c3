/**
 * Linux capabilities as the kernel shows them: bit numbers and names (linux/capability.h), the hex
 * masks of /proc/PID/status (CapEff, CapPrm, …), and the credentials of every thread of a process
 * (/proc/PID/task/TID/status), which `wasmroute run --user` checks after dropping privileges.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Capability numbers (linux/capability.h), in order; a mask has bit n set for capability n. */
export const CAPABILITY_NAMES = [
  "cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid", "cap_kill", "cap_setgid",
  "cap_setuid", "cap_setpcap", "cap_linux_immutable", "cap_net_bind_service", "cap_net_broadcast", "cap_net_admin",
  "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner", "cap_sys_module", "cap_sys_rawio", "cap_sys_chroot", "cap_sys_ptrace",
  "cap_sys_pacct", "cap_sys_admin", "cap_sys_boot", "cap_sys_nice", "cap_sys_resource", "cap_sys_time",
  "cap_sys_tty_config", "cap_mknod", "cap_lease", "cap_audit_write", "cap_audit_control", "cap_setfcap",
  "cap_mac_override", "cap_mac_admin", "cap_syslog", "cap_wake_alarm", "cap_block_suspend", "cap_audit_read",
  "cap_perfmon", "cap_bpf", "cap_checkpoint_restore",
] as const;

export type CapabilityName = (typeof CAPABILITY_NAMES)[number];

/** The mask of one capability. */
export function capBit(name: CapabilityName): bigint {
  return 1n << BigInt(CAPABILITY_NAMES.indexOf(name));
}

/** The names in a mask, lowest bit first ("cap_41" for a bit newer than this list). */
export function capabilityNames(mask: bigint): string[] {
  const names: string[] = [];
  for (let n = 0; n < 64; n++) if ((mask >> BigInt(n)) & 1n) names.push(CAPABILITY_NAMES[n] ?? `cap_${n}`);
  return names;
}

/** A mask as /proc/PID/status shows it: 16 hex digits. */
export function formatCapMask(mask: bigint): string {
  return mask.toString(16).padStart(16, "0");
}

/** A 64-bit hex mask of /proc/PID/status (capabilities, signals). */
export function parseCapMask(hex: string): bigint {
  if (!/^[0-9a-f]{1,16}$/i.test(hex.trim())) throw new Error(`not a mask: "${hex}"`);
  return BigInt(`0x${hex.trim()}`);
}

/** One thread's credentials, from /proc/PID/task/TID/status. */
export interface TaskCredentials {
  tid: number;
  /** Real, effective, saved and filesystem ids. */
  uids: number[];
  gids: number[];
  groups: number[];
  inheritable: bigint;
  permitted: bigint;
  effective: bigint;
  bounding: bigint;
  ambient: bigint;
  noNewPrivs: boolean;
  /** SigBlk: bit n − 1 set when the thread blocks signal n. */
  sigBlocked: bigint;
}

/** Parses the text of a /proc/…/status file. */
export function parseTaskStatus(tid: number, text: string): TaskCredentials {
  const field = (k: string): string => {
    const m = new RegExp(`^${k}:[ \\t]*(.*)$`, "m").exec(text);
    if (!m) throw new Error(`/proc status of task ${tid}: no ${k}`);
    return m[1]!.trim();
  };
  const ids = (k: string) => (field(k) === "" ? [] : field(k).split(/\s+/).map(Number));
  return {
    tid,
    uids: ids("Uid"),
    gids: ids("Gid"),
    groups: ids("Groups"),
    inheritable: parseCapMask(field("CapInh")),
    permitted: parseCapMask(field("CapPrm")),
    effective: parseCapMask(field("CapEff")),
    bounding: parseCapMask(field("CapBnd")),
    ambient: parseCapMask(field("CapAmb")),
    noNewPrivs: field("NoNewPrivs") === "1",
    sigBlocked: parseCapMask(field("SigBlk")),
  };
}

/** The credentials of every thread of process pid ("self" for this one); the main thread first. */
export function readTaskCredentials(pid: number | "self"): TaskCredentials[] {
  const dir = `/proc/${pid}/task`;
  const tids = readdirSync(dir).map(Number).sort((a, b) => a - b);
  const out: TaskCredentials[] = [];
  for (const tid of tids) {
    try {
      out.push(parseTaskStatus(tid, readFileSync(`${dir}/${tid}/status`, "utf8")));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e; // a thread that ended meanwhile
    }
  }
  return out;
}
