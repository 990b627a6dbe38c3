/*
 * port_counters — what a port lost on the way in, for `ip -s link` and the metrics, part of the wrio
 * addon (registered by wrio.c's init):
 *
 *   portCounters(fd)          -> [missed, cut]   since fd was opened:
 *                                  missed  a packet socket's frames that the kernel dropped for want of
 *                                          room (ring or receive buffer full: PACKET_STATISTICS
 *                                          tp_drops, which the kernel zeroes at each read, summed here);
 *                                          0 for a tap, whose losses its kernel side counts (netDevOpen)
 *                                  cut     frames longer than the room they were read into, handed on
 *                                          cut (recvBatch/recvPacked count them as they read)
 *   netDevOpen([netnsPath])   -> fd   /proc/net/dev of the namespace at netnsPath (or this one), opened
 *                                     there: a read at offset 0 gives that namespace's interface
 *                                     counters, where a tap's kernel side counts the frames it dropped
 *                                     because the router's queue was full (tx dropped).
 *
 * Counters per fd (up to COUNTER_FDS), plain 64-bit: only the JavaScript thread reads and writes them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_packet.h>
#include "netns.h"
#include "port_counters.h"
#include "throw_errno.h"
#include "napi_exports.h"

#define COUNTER_FDS 4096

static uint64_t cut_frames[COUNTER_FDS];
static uint64_t missed_frames[COUNTER_FDS];

void port_counters_reset(int fd) {
  if (fd < 0 || fd >= COUNTER_FDS) return;
  cut_frames[fd] = 0;
  missed_frames[fd] = 0;
}

void port_counters_cut(int fd, unsigned n) {
  if (fd >= 0 && fd < COUNTER_FDS) cut_frames[fd] += n;
}

static napi_value port_counters(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 || fd >= COUNTER_FDS) {
    napi_throw_type_error(env, NULL, "portCounters(fd): fd must be an open port's");
    return NULL;
  }
  struct tpacket_stats st;
  socklen_t len = sizeof st;
  /* a tap is no socket (ENOTSOCK) and a socket without a ring still counts tp_drops: both fine */
  if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) missed_frames[fd] += st.tp_drops;
  napi_value out, v;
  napi_create_array_with_length(env, 2, &out);
  napi_create_double(env, (double)missed_frames[fd], &v);
  napi_set_element(env, out, 0, v);
  napi_create_double(env, (double)cut_frames[fd], &v);
  napi_set_element(env, out, 1, v);
  return out;
}

static napi_value net_dev_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char nspath[256];
  size_t pn = 0;
  napi_valuetype t = napi_undefined;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= 1) napi_typeof(env, argv[0], &t);
  if (t != napi_undefined && (t != napi_string || napi_get_value_string_utf8(env, argv[0], nspath, sizeof nspath, &pn) != napi_ok || pn == 0 || pn >= sizeof nspath - 1)) {
    napi_throw_type_error(env, NULL, "netDevOpen([netnsPath]): netnsPath must be a path such as /run/netns/NS");
    return NULL;
  }
  int home = -1;
  if (t == napi_string) {
    int e = netns_enter(nspath, &home);
    if (e) return throw_errno(env, nspath, e);
  }
  /* /proc/thread-self/net is this thread's namespace's, and the file stays bound to it once open */
  int fd = open("/proc/thread-self/net/dev", O_RDONLY | O_CLOEXEC);
  int e = errno;
  if (home >= 0) netns_leave(home);
  if (fd < 0) return throw_errno(env, "open /proc/thread-self/net/dev", e);
  napi_value v;
  napi_create_int32(env, fd, &v);
  return v;
}

void port_counters_register(napi_env env, napi_value exports) {
  EXPORT_FUNCTIONS(env, exports, {"portCounters", port_counters}, {"netDevOpen", net_dev_open});
}
