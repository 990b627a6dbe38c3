/*
 * privilege — dropping root after the router has opened its devices (`wasmroute run --user`), part of
 * the wrio addon (registered by wrio.c's init through privilege_register).
 *
 *   lookupUser(name)            -> {name, uid, gid} | null          getpwnam_r (NSS, like id(1))
 *   lookupUid(uid)              -> {name, uid, gid} | null          getpwuid_r
 *   lookupGroup(name)           -> gid | null                       getgrnam_r
 *   groupList(name, gid)        -> [gid, ...]                       getgrouplist: the user's groups
 *   dropPrivileges(uid, gid, groups, keepMask) -> {unreachable, signal}   see below; throws "step: strerror";
 *                                                   unreachable: threads that block the signal sent
 *
 * Why native code: credentials and capabilities are per thread in Linux. glibc's setresuid/setresgid/
 * setgroups broadcast the change to every thread (its SIGSETXID handshake), and a thread whose uids all
 * leave 0 loses its permitted and effective capabilities unless that thread set PR_SET_KEEPCAPS.
 * Node's process.setuid therefore drops every capability, and keeping some needs prctl/capset here, on
 * the JavaScript (main) thread, which is the thread that opens devices:
 *
 *   1. Every other thread, while all are still root: the bounding set cut to keepMask (PR_CAPBSET_DROP)
 *      and PR_SET_NO_NEW_PRIVS. Both are per thread and only a thread can set its own, so each thread
 *      is sent a real-time signal (tgkill) whose handler does it and acknowledges. A thread that blocks
 *      the signal cannot be reached: Node's inspector start thread blocks every signal and sleeps on a
 *      semaphore for its whole life. It is left as it is and counted in the result; it still loses its
 *      capabilities and its uids in step 4, and it never runs an exec.
 *      (The other way, an allow-all seccomp filter installed with SECCOMP_FILTER_FLAG_TSYNC, which
 *      copies no_new_privs to every thread, puts every system call of the router on the kernel's slow
 *      entry path: 100–250 ns more per getppid() here, against a TAP port's two system calls a frame.)
 *   2. The same for this thread: PR_CAPBSET_DROP (every process it starts inherits the bounding set)
 *      and PR_SET_NO_NEW_PRIVS.
 *   3. PR_SET_KEEPCAPS on this thread only: the setresuid below keeps its permitted set; every other
 *      thread (libuv pool, V8 platform) loses all of its capabilities.
 *   4. setgroups, setresgid, setresuid (glibc: on every thread).
 *   5. capset: permitted = effective = keepMask, inheritable = 0.
 *   6. PR_SET_KEEPCAPS back to 0, PR_CAP_AMBIENT_CLEAR_ALL.
 *
 * A failure half-way leaves the process half dropped: the caller must exit at once (run-command.ts
 * does). The caller verifies the result in /proc/self/task/N/status for every thread.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include "throw_errno.h"
#include "napi_exports.h"
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#define MAX_GROUPS 1024

void privilege_register(napi_env env, napi_value exports);

static napi_value null_value(napi_env env) {
  napi_value v;
  napi_get_null(env, &v);
  return v;
}

static int arg_string(napi_env env, napi_value v, char *out, size_t size) {
  size_t n;
  return napi_get_value_string_utf8(env, v, out, size, &n) == napi_ok && n < size - 1;
}

static napi_value user_object(napi_env env, const struct passwd *pw) {
  napi_value o, name, uid, gid;
  napi_create_object(env, &o);
  napi_create_string_utf8(env, pw->pw_name, NAPI_AUTO_LENGTH, &name);
  napi_create_uint32(env, pw->pw_uid, &uid);
  napi_create_uint32(env, pw->pw_gid, &gid);
  napi_set_named_property(env, o, "name", name);
  napi_set_named_property(env, o, "uid", uid);
  napi_set_named_property(env, o, "gid", gid);
  return o;
}

/* lookupUser(name) / lookupUid(uid): the passwd entry, or null when there is none. */
static napi_value lookup_user(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char name[256], buf[16384];
  struct passwd pw, *res = NULL;
  int rc;
  napi_valuetype t;
  napi_typeof(env, argv[0], &t);
  if (t == napi_number) {
    uint32_t uid;
    napi_get_value_uint32(env, argv[0], &uid);
    rc = getpwuid_r(uid, &pw, buf, sizeof buf, &res);
  } else {
    if (!arg_string(env, argv[0], name, sizeof name)) return throw_errno(env, "lookupUser: name", EINVAL);
    rc = getpwnam_r(name, &pw, buf, sizeof buf, &res);
  }
  if (rc != 0 && rc != ENOENT && rc != ESRCH) return throw_errno(env, "getpwnam", rc);
  return res ? user_object(env, res) : null_value(env);
}

/* lookupGroup(name): the group's id, or null. */
static napi_value lookup_group(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char name[256], buf[65536];
  if (!arg_string(env, argv[0], name, sizeof name)) return throw_errno(env, "lookupGroup: name", EINVAL);
  struct group gr, *res = NULL;
  int rc = getgrnam_r(name, &gr, buf, sizeof buf, &res);
  if (rc != 0 && rc != ENOENT && rc != ESRCH) return throw_errno(env, "getgrnam", rc);
  if (!res) return null_value(env);
  napi_value v;
  napi_create_uint32(env, res->gr_gid, &v);
  return v;
}

/* groupList(name, gid): every group the user is in, gid included (getgrouplist). */
static napi_value group_list(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char name[256];
  uint32_t gid;
  if (!arg_string(env, argv[0], name, sizeof name) || napi_get_value_uint32(env, argv[1], &gid) != napi_ok) return throw_errno(env, "groupList", EINVAL);
  gid_t groups[MAX_GROUPS];
  int n = MAX_GROUPS;
  if (getgrouplist(name, gid, groups, &n) < 0) return throw_errno(env, "getgrouplist", ERANGE);
  napi_value arr;
  napi_create_array_with_length(env, n, &arr);
  for (int i = 0; i < n; i++) {
    napi_value v;
    napi_create_uint32(env, groups[i], &v);
    napi_set_element(env, arr, i, v);
  }
  return arr;
}

/* Cuts the calling thread's bounding set to keep and sets its no_new_privs. Async-signal-safe. */
static int restrict_thread(uint64_t keep) {
  for (int cap = 0; cap < 64; cap++) {
    if (keep & (UINT64_C(1) << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno == EINVAL) break; /* past the kernel's last capability */
      return errno;
    }
  }
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? errno : 0;
}

static uint64_t signal_keep;
static int signal_done, signal_failed;

static void on_restrict_signal(int sig) {
  int saved = errno;
  __atomic_add_fetch(restrict_thread(signal_keep) == 0 ? &signal_done : &signal_failed, 1, __ATOMIC_SEQ_CST);
  errno = saved;
}

/* Whether thread tid blocks signal sig (its SigBlk line in /proc). */
static int blocks_signal(pid_t tid, int sig) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  unsigned long long mask = 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "SigBlk: %llx", &mask) == 1) break;
  fclose(f);
  return (mask >> (sig - 1)) & 1;
}

/* Step 1: every other thread restricts itself from a signal handler. *unreachable: threads that block it. */
static int restrict_other_threads(uint64_t keep, int *unreachable, const char **step) {
  int sig = SIGRTMAX - 1;
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_restrict_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  *step = "sigaction(SIGRTMAX-1)";
  if (sigaction(sig, NULL, &old) < 0) return errno;
  if (old.sa_handler != SIG_DFL) return EBUSY; /* someone else uses it */
  signal_keep = keep;
  signal_done = signal_failed = 0;
  if (sigaction(sig, &sa, NULL) < 0) return errno;
  pid_t self = (pid_t)syscall(SYS_gettid), pid = getpid();
  int sent = 0, err = 0;
  *unreachable = 0;
  DIR *d = opendir("/proc/self/task");
  *step = "/proc/self/task";
  if (!d) err = errno;
  for (struct dirent *e; !err && (e = readdir(d));) {
    pid_t tid = (pid_t)atoi(e->d_name);
    if (tid <= 0 || tid == self) continue;
    if (blocks_signal(tid, sig)) {
      (*unreachable)++;
      continue;
    }
    if (syscall(SYS_tgkill, pid, tid, sig) == 0) sent++;
    else if (errno != ESRCH) err = errno; /* ESRCH: the thread ended meanwhile */
  }
  if (d) closedir(d);
  /* Wait for every handler (at most 2 s). */
  struct timespec ms = {0, 1000000};
  for (int i = 0; i < 2000 && __atomic_load_n(&signal_done, __ATOMIC_SEQ_CST) + __atomic_load_n(&signal_failed, __ATOMIC_SEQ_CST) < sent; i++) nanosleep(&ms, NULL);
  int done = __atomic_load_n(&signal_done, __ATOMIC_SEQ_CST), failed = __atomic_load_n(&signal_failed, __ATOMIC_SEQ_CST);
  if (!err && failed > 0) *step = "a thread's PR_CAPBSET_DROP/PR_SET_NO_NEW_PRIVS", err = EPERM;
  if (!err && done < sent) *step = "threads answering the restrict signal", err = ETIMEDOUT;
  /* Only now put the old disposition back: a late signal must not kill the process. */
  if (!err) sigaction(sig, &old, NULL);
  return err;
}

/* The drop itself (steps 1–6 above). Returns 0, or an errno with *step naming what failed. */
static int drop(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups, uint64_t keep, int *unreachable, const char **step) {
  int err = restrict_other_threads(keep, unreachable, step);
  if (err) return err;
  *step = "prctl(PR_CAPBSET_DROP/PR_SET_NO_NEW_PRIVS)";
  if ((err = restrict_thread(keep))) return err;
  *step = "prctl(PR_SET_KEEPCAPS)";
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return errno;
  *step = "setgroups";
  if (setgroups(ngroups, groups) < 0) return errno;
  *step = "setresgid";
  if (setresgid(gid, gid, gid) < 0) return errno;
  *step = "setresuid";
  if (setresuid(uid, uid, uid) < 0) return errno;
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  data[0].permitted = data[0].effective = (uint32_t)keep;
  data[1].permitted = data[1].effective = (uint32_t)(keep >> 32);
  *step = "capset";
  if (syscall(SYS_capset, &hdr, data) < 0) return errno;
  *step = "prctl(PR_SET_KEEPCAPS, 0)";
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return errno;
  *step = "prctl(PR_CAP_AMBIENT_CLEAR_ALL)";
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) return errno;
  return 0;
}

/* dropPrivileges(uid, gid, groups: number[], keepMask: number) */
static napi_value drop_privileges(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t uid, gid, n;
  int64_t keep;
  bool is_array = false;
  if (argc < 4 || napi_get_value_uint32(env, argv[0], &uid) != napi_ok || napi_get_value_uint32(env, argv[1], &gid) != napi_ok ||
      napi_is_array(env, argv[2], &is_array) != napi_ok || !is_array || napi_get_value_int64(env, argv[3], &keep) != napi_ok || keep < 0)
    return throw_errno(env, "dropPrivileges(uid, gid, groups, keepMask)", EINVAL);
  napi_get_array_length(env, argv[2], &n);
  if (n > MAX_GROUPS) return throw_errno(env, "dropPrivileges: groups", E2BIG);
  gid_t groups[MAX_GROUPS];
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    uint32_t g;
    napi_get_element(env, argv[2], i, &v);
    if (napi_get_value_uint32(env, v, &g) != napi_ok) return throw_errno(env, "dropPrivileges: groups", EINVAL);
    groups[i] = g;
  }
  const char *step = "";
  int unreachable = 0;
  int err = drop(uid, gid, groups, n, (uint64_t)keep, &unreachable, &step);
  if (err) return throw_errno(env, step, err);
  napi_value o, v;
  napi_create_object(env, &o);
  napi_create_int32(env, unreachable, &v);
  napi_set_named_property(env, o, "unreachable", v);
  napi_create_int32(env, SIGRTMAX - 1, &v);
  napi_set_named_property(env, o, "signal", v);
  return o;
}

void privilege_register(napi_env env, napi_value exports) {
  EXPORT_FUNCTIONS(env, exports, {"lookupUser", lookup_user}, {"lookupUid", lookup_user}, {"lookupGroup", lookup_group}, {"groupList", group_list},
                   {"dropPrivileges", drop_privileges});
}
