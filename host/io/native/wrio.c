/*
 * wrio — wasmroute's device I/O addon (N-API, C): opens TAP devices and moves Ethernet frames between
 * them and a caller's buffer (typically the WebAssembly core's linear memory) in batches. Readiness
 * through the libuv loop is watch.c's, what a port lost port_counters.c's, the --user drop privilege.c's.
 *
 *   tapOpen(name[, offload])                   -> fd   TUNSETIFF(IFF_TAP | IFF_NO_PI), non-blocking. offload
 *                                                      true: also IFF_VNET_HDR (TUNSETVNETHDRSZ 10, a struct
 *                                                      virtio_net_hdr before every frame, both ways) and
 *                                                      TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN):
 *                                                      the kernel side may hand over and take TCPv4 GSO
 *                                                      super-frames and unfinished checksums.
 *   packetOpen(ifname[, netnsPath[, frameBytes[, offload]]]) -> fd  AF_PACKET bound to one interface
 *                                                      (inside the network namespace at netnsPath if given,
 *                                                      e.g. /run/netns/NS), PACKET_IGNORE_OUTGOING set;
 *                                                      bound only once set up, so it never holds frames
 *                                                      of other interfaces or from before its ring.
 *                                                      Frames are read from a PACKET_RX_RING
 *                                                      (packet_ring.c) where one can be set up,
 *                                                      whole up to frameBytes (default 2048). offload true:
 *                                                      PACKET_VNET_HDR (a virtio_net_hdr with every frame,
 *                                                      both ways, as an offload tap): read with recvPacked;
 *                                                      a super-frame longer than a ring slot arrives
 *                                                      whole through the socket's queue (PACKET_COPY_THRESH).
 *                                                      Attach BEFORE moving the kernel side into another
 *                                                      netns: TUNSETIFF looks the name up in the caller's
 *                                                      netns and silently creates a new tap if it is gone.
 *   recvBatch(fd, buf, offset, slot, max, lens[, flags]) -> n   up to max frames, frame i at offset + i*slot,
 *                                                      its length in lens[i]; stops at EAGAIN (read on a
 *                                                      tap, one recvmmsg on a packet socket). flags (a
 *                                                      Uint8Array), on a packet socket: bit 0 = checksum
 *                                                      not ready (offloaded: the data plane must finish it),
 *                                                      bit 1 = checksum already verified (PACKET_AUXDATA).
 *   recvPacked(fd, buf, offset, bytes, frameMax, max, lens, flags, vnet, offs) -> n   an offload tap or
 *                                                      packet socket (or a plain tap, vnet undefined): frames
 *                                                      packed one after another (64-byte aligned) into
 *                                                      bytes at buf + offset, read while frameMax bytes
 *                                                      still fit: frame i at offset + offs[i], length lens[i],
 *                                                      its virtio_net_hdr (if vnet) at vnet + i·VNET_STRIDE
 *                                                      (readv), flags[i] bit 0 when it says NEEDS_CSUM.
 *                                                      Small frames fill a batch, super-frames take room.
 *   sendBatch(fd, buf, offset, slot, lens, n)  -> sent frames written (stops at EAGAIN; write or sendmmsg).
 *   sendList(fd, buf, offsets, lens, start, n) -> sent  frames anywhere in buf: frame k at buf + offsets[start+k]
 *                                                      (a Uint32Array), length lens[start+k]. A frame the
 *                                                      device refuses (down: EIO/ENETDOWN, ENOBUFS) is
 *                                                      skipped and not counted; EAGAIN stops the send.
 *   sendList(..., vnet)                                on an offload port: frame k goes out with the 10-byte
 *                                                      virtio_net_hdr at vnet + (start+k)·VNET_STRIDE in
 *                                                      front (a tap: one writev per frame; a packet socket:
 *                                                      two iovecs per message of one sendmmsg).
 * Offloads: a tap without IFF_VNET_HDR gets whole, checksummed frames. A packet socket on a veth sees
 * frames whose checksum the sender left to "hardware": PACKET_AUXDATA reports them per frame (flags),
 * or turn TX checksum offload off on such ports (testbed.md §4.4).
 * A tap takes one frame per write: a batch for a tap goes out with one io_uring_enter (uring.c), or
 * with write(2) per frame where io_uring is unavailable or WASMROUTE_NO_URING=1. A tap's frames come in
 * through one io_uring multishot read, a batch per io_uring_enter (tap_mshot.c), or with read(2) per
 * frame where the kernel lacks it (before 6.7), or with WASMROUTE_NO_URING=1 or WASMROUTE_NO_MULTISHOT=1.
 *   portCounters(fd), netDevOpen([netnsPath])         what a port lost on the way in (port_counters.c).
 *   uring([enable])                            -> whether tap batches use io_uring (known after the first
 *                                                      batch); enable false/true switches it (A/B runs).
 *   packetRing(fd)                             -> whether a packet port reads through its receive ring
 *                                                      (none with WASMROUTE_NO_RING=1; then recvmmsg).
 *   tapMultishot(fd)                           -> whether a tap is read through its multishot read.
 *   tapBuffered(fd)                            -> whether frames that read took wait to be received.
 *   watch(fd, callback), watchPause(handle, paused), unwatch(handle)   readiness (watch.c).
 *   areaBind(...), recvArea(area, fd, packed), sendArea(area, fd, start, n, withVnet)   the same reads and
 *                                                      writes with the arrays bound once (area.c).
 *   close(fd)
 * buf is an ArrayBuffer or a typed array; lens an Int32Array/Uint32Array. Errors throw "what: strerror".
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <sys/uio.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include "uring.h"
#include "packet_ring.h"
#include "tap_mshot.h"
#include "netns.h"
#include "port_counters.h"
#include "throw_errno.h"
#include "frames.h"
#include "napi_exports.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif
/* The largest frame a packet port's receive ring takes whole, unless packetOpen is told (the data
   plane's receive slot: 2048, more for a link with a larger MTU). Frames larger than a ring block
   holds (64 KiB) get no ring: such a port reads with recvmmsg into the slot. */
#define RING_FRAME_BYTES 2048
#define RING_FRAME_MAX (1 << 20)
#define VNET_BYTES ((int)sizeof(struct virtio_net_hdr))
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1

/* What each fd this module opened is (FD_TAP, FD_PACKET), so a batch needs no fstat; 0: not known. */
#define FD_KINDS 4096
enum { FD_UNKNOWN = 0, FD_TAP = 1, FD_PACKET = 2 };
static unsigned char fd_kind[FD_KINDS];

static void remember_fd(int fd, int kind) {
  if (fd >= 0 && fd < FD_KINDS) fd_kind[fd] = (unsigned char)kind;
  port_counters_reset(fd);
}

/* Whether fd is a socket (packet port) rather than a tap character device. */
static int is_socket(int fd) {
  if (fd >= 0 && fd < FD_KINDS && fd_kind[fd] != FD_UNKNOWN) return fd_kind[fd] == FD_PACKET;
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

static napi_value num(napi_env env, int64_t n) {
  napi_value v;
  napi_create_int64(env, n, &v);
  return v;
}

static int arg_i32(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok;
}

/* Bytes of a typed array (frames.h). */
int typed_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) return 0;
  napi_typedarray_type t;
  size_t n, off;
  void *d;
  napi_value ab;
  napi_get_typedarray_info(env, v, &t, &n, &d, &ab, &off);
  size_t el = 1;
  if (t == napi_int16_array || t == napi_uint16_array) el = 2;
  if (t == napi_int32_array || t == napi_uint32_array || t == napi_float32_array) el = 4;
  if (t == napi_float64_array || t == napi_bigint64_array || t == napi_biguint64_array) el = 8;
  *data = d;
  *len = n * el;
  return 1;
}

/* Bytes of an ArrayBuffer or typed array. */
static int arg_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is = false;
  napi_is_arraybuffer(env, v, &is);
  if (!is) return typed_bytes(env, v, data, len);
  void *d;
  napi_get_arraybuffer_info(env, v, &d, len);
  *data = d;
  return 1;
}

static napi_value tap_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char name[IFNAMSIZ + 1];
  size_t n = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &n) != napi_ok || n == 0 || n >= IFNAMSIZ) {
    napi_throw_type_error(env, NULL, "tapOpen(name[, offload]): name must be 1..15 characters");
    return NULL;
  }
  bool offload = false;
  if (argc >= 2) napi_get_value_bool(env, argv[1], &offload);
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, "open /dev/net/tun", errno);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
  memcpy(ifr.ifr_name, name, n);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "TUNSETIFF", e);
  }
  if (offload) {
    int hdr = VNET_BYTES;
    const char *what = NULL;
    if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) what = "TUNSETVNETHDRSZ";
    else if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN)) < 0) what = "TUNSETOFFLOAD";
    if (what) {
      int e = errno;
      close(fd);
      return throw_errno(env, what, e);
    }
  }
  /* Frames through one multishot read (tap_mshot.c) where the kernel has it; read(2) otherwise. Room for a
     whole GSO super-frame (65,535 + 14 bytes, rounded up to 64) behind its header, or for a jumbo frame. */
  tap_mshot_attach(fd, offload ? (size_t)VNET_BYTES + 65600 : 16384);
  remember_fd(fd, FD_TAP);
  return num(env, fd);
}

/* Socket buffers for an offload packet port: the default (about 200 KiB) holds only three 64 KiB
   super-frames. A full send buffer stops a batch. The receive buffer holds the super-frames that do
   not fit a ring slot (packet_ring.c: when it is full they arrive cut), or every frame where the ring
   cannot be set up (full: dropped, and TCP retransmits; BENCHMARKS.md). Root may go past
   rmem_max/wmem_max. */
#define OFFLOAD_SOCK_BUF (8 << 20)
static bool packet_buffers(int fd) {
  int size = OFFLOAD_SOCK_BUF;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) < 0) return false;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size) < 0) return false;
  return true;
}

static napi_value packet_open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  char name[IFNAMSIZ + 1], nspath[256];
  size_t n = 0, pn = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &n) != napi_ok || n == 0 || n >= IFNAMSIZ) {
    napi_throw_type_error(env, NULL, "packetOpen(ifname[, netnsPath[, frameBytes]]): ifname must be 1..15 characters");
    return NULL;
  }
  napi_valuetype t = napi_undefined;
  if (argc >= 2) napi_typeof(env, argv[1], &t);
  if (t == napi_string && (napi_get_value_string_utf8(env, argv[1], nspath, sizeof nspath, &pn) != napi_ok || pn == 0)) {
    napi_throw_type_error(env, NULL, "packetOpen: netnsPath must be a path such as /run/netns/NS");
    return NULL;
  }
  int32_t frame_bytes = RING_FRAME_BYTES;
  napi_valuetype ft = napi_undefined;
  if (argc >= 3) napi_typeof(env, argv[2], &ft);
  if (ft != napi_undefined && (!arg_i32(env, argv[2], &frame_bytes) || frame_bytes < 64 || frame_bytes > RING_FRAME_MAX)) {
    napi_throw_range_error(env, NULL, "packetOpen: frameBytes must be 64..1048576");
    return NULL;
  }
  bool offload = false;
  if (argc >= 4) napi_get_value_bool(env, argv[3], &offload); /* not a boolean: stays false */
  /* Enter the namespace on this thread only, make and bind the socket there, come back. */
  int home = -1;
  if (t == napi_string) {
    int e = netns_enter(nspath, &home);
    if (e) return throw_errno(env, nspath, e);
  }
  int err = 0;
  const char *what = "";
  /* Protocol 0: the socket takes no frame until bind names the protocol and the interface, after the
     ring is in place. Opened with ETH_P_ALL, it would queue frames of every interface until bind, and
     frames queued before the ring would sit ahead of the super-frames that an offload ring's COPY slots
     stand for (packet_ring.c). */
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = errno;
    what = "socket(AF_PACKET)";
  } else {
    unsigned idx = if_nametoindex(name);
    struct sockaddr_ll sll;
    int one = 1;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = (int)idx;
    if (idx == 0) {
      err = errno ? errno : ENODEV;
      what = name;
    } else if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0) {
      err = errno;
      what = "PACKET_IGNORE_OUTGOING";
    } else if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0) {
      err = errno;
      what = "PACKET_AUXDATA";
    } else if (offload && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0) {
      err = errno;
      what = "PACKET_VNET_HDR";
    } else if (offload && !packet_buffers(fd)) {
      err = errno;
      what = "SO_RCVBUF/SO_SNDBUF";
    } else {
      /* no ring (an errno): the port stays on recvmmsg (offload: on readv, as an offload tap) */
      if (!packet_ring_disabled()) packet_ring_attach(fd, (unsigned)frame_bytes, offload);
      if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        err = errno;
        what = "bind";
        packet_ring_detach(fd);
      }
    }
    if (err) close(fd);
  }
  if (home >= 0) netns_leave(home);
  if (err) return throw_errno(env, what, err);
  remember_fd(fd, FD_PACKET);
  return num(env, fd);
}

/* Reads one frame (with its vnet header into hdr if hdr) from a tap, or from a packet socket with
   PACKET_VNET_HDR, into frame (room bytes): length, -1 errno. A frame longer than room is handed on
   cut at room and counted (port_counters.c). */
static ssize_t tap_read(int fd, uint8_t *hdr, uint8_t *frame, size_t room) {
  uint8_t spill; /* a byte past room: a frame that reaches it was longer than room */
  struct iovec v[3];
  int n = 0;
  if (hdr) v[n++] = (struct iovec){hdr, VNET_BYTES};
  v[n++] = (struct iovec){frame, room};
  v[n++] = (struct iovec){&spill, 1};
  ssize_t r = readv(fd, v, n);
  if (r < 0) return r;
  if (hdr) r = r < VNET_BYTES ? 0 : r - VNET_BYTES;
  if ((size_t)r > room) { /* the tap copied what fitted and dropped the rest */
    port_counters_cut(fd, 1);
    r = (ssize_t)room;
  }
  return r;
}

/* Reads up to max frames of fd into slots of `slot` bytes at dst (recvBatch's layout): how many, or
   -errno with *what naming the call that failed. */
int frames_recv_slots(int fd, uint8_t *dst, int slot, int max, int32_t *lens, uint8_t *flags, const char **what) {
  if (is_socket(fd)) {
    if (packet_ring_has(fd)) {
      unsigned cut = 0;
      int got = packet_ring_recv(fd, dst, slot, max, lens, flags, &cut);
      if (cut) port_counters_cut(fd, cut);
      return got;
    }
    struct mmsghdr msgs[MAX_BATCH];
    struct iovec iov[MAX_BATCH];
    /* room for one struct tpacket_auxdata control message per frame */
    char ctl[MAX_BATCH][CMSG_SPACE(sizeof(struct tpacket_auxdata))];
    int want = max < MAX_BATCH ? max : MAX_BATCH;
    memset(msgs, 0, sizeof(struct mmsghdr) * (size_t)want);
    for (int k = 0; k < want; k++) {
      iov[k].iov_base = dst + (size_t)k * slot;
      iov[k].iov_len = (size_t)slot;
      msgs[k].msg_hdr.msg_iov = &iov[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
      msgs[k].msg_hdr.msg_control = ctl[k];
      msgs[k].msg_hdr.msg_controllen = sizeof ctl[k];
    }
    int r;
    do r = recvmmsg(fd, msgs, (unsigned)want, MSG_DONTWAIT, NULL); while (r < 0 && errno == EINTR);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      *what = "recvmmsg";
      return -errno;
    }
    for (int k = 0; k < r; k++) {
      lens[k] = (int32_t)(msgs[k].msg_len < (unsigned)slot ? msgs[k].msg_len : (unsigned)slot);
      if (msgs[k].msg_hdr.msg_flags & MSG_TRUNC) port_counters_cut(fd, 1);
      if (!flags) continue;
      flags[k] = 0;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[k].msg_hdr); c; c = CMSG_NXTHDR(&msgs[k].msg_hdr, c)) {
        if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
        struct tpacket_auxdata aux;
        memcpy(&aux, CMSG_DATA(c), sizeof aux);
        if (aux.tp_status & TP_STATUS_CSUMNOTREADY) flags[k] |= 1;
        if (aux.tp_status & TP_STATUS_CSUM_VALID) flags[k] |= 2;
      }
    }
    return r;
  }
  if (flags) memset(flags, 0, (size_t)max); /* a tap without vnet headers hands over finished frames */
  int i = 0;
  if (tap_mshot_has(fd)) {
    int entered = 0;
    unsigned cut = 0;
    const uint8_t *data;
    size_t len;
    while (i < max) {
      int r = tap_mshot_next(fd, &entered, &data, &len);
      if (r < 0) {
        *what = "io_uring read";
        return r;
      }
      if (r == 0) break;
      if (len > (size_t)slot) { /* longer than its slot: handed on cut, and counted */
        cut++;
        len = (size_t)slot;
      }
      memcpy(dst + (size_t)i * slot, data, len);
      tap_mshot_release(fd);
      lens[i++] = (int32_t)len;
    }
    if (cut) port_counters_cut(fd, cut);
    return i;
  }
  while (i < max) {
    ssize_t r = tap_read(fd, NULL, dst + (size_t)i * slot, (size_t)slot);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      *what = "read";
      return -errno;
    }
    lens[i++] = (int32_t)r;
  }
  return i;
}

/* Reads frames of fd packed into bytes at dst while frame_max still fits (recvPacked's layout), each
   with its vnet header if vnet: how many, or -errno with *what naming the call that failed. */
int frames_recv_packed(int fd, uint8_t *dst, int bytes, int frame_max, int max, int32_t *lens, uint8_t *flags, uint8_t *vnet, uint32_t *offs, const char **what) {
  if (vnet && is_socket(fd) && packet_ring_has(fd)) {
    unsigned cut = 0;
    int got = packet_ring_recv_packed(fd, dst, bytes, frame_max, max, lens, flags, vnet, VNET_STRIDE, offs, &cut);
    if (cut) port_counters_cut(fd, cut);
    return got;
  }
  size_t used = 0;
  int i = 0;
  if (!is_socket(fd) && tap_mshot_has(fd)) {
    int entered = 0;
    unsigned cut = 0;
    const uint8_t *data;
    size_t len;
    while (i < max && used + (size_t)frame_max <= (size_t)bytes) {
      int r = tap_mshot_next(fd, &entered, &data, &len);
      if (r < 0) {
        *what = "io_uring read";
        return r;
      }
      if (r == 0) break;
      uint8_t *hdr = vnet ? vnet + (size_t)i * VNET_STRIDE : NULL;
      if (hdr) { /* the header the tap put in front of the frame */
        size_t h = len < (size_t)VNET_BYTES ? len : (size_t)VNET_BYTES;
        memset(hdr, 0, VNET_BYTES);
        memcpy(hdr, data, h);
        data += h;
        len -= h;
      }
      if (len > (size_t)frame_max) {
        cut++;
        len = (size_t)frame_max;
      }
      memcpy(dst + used, data, len);
      tap_mshot_release(fd);
      flags[i] = hdr && (hdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) ? 1 : 0;
      offs[i] = (uint32_t)used;
      lens[i++] = (int32_t)len;
      used += (len + 63) & ~(size_t)63;
    }
    if (cut) port_counters_cut(fd, cut);
    return i;
  }
  while (i < max && used + (size_t)frame_max <= (size_t)bytes) {
    uint8_t *hdr = vnet ? vnet + (size_t)i * VNET_STRIDE : NULL;
    ssize_t r = tap_read(fd, hdr, dst + used, (size_t)frame_max);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      *what = "read";
      return -errno;
    }
    flags[i] = hdr && (hdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) ? 1 : 0;
    offs[i] = (uint32_t)used;
    lens[i++] = (int32_t)r;
    used += ((size_t)r + 63) & ~(size_t)63;
  }
  return i;
}

/* frames.h: a frame count, or the error a frames_* call returned, thrown. */
napi_value count_or_throw(napi_env env, int r, const char *what) {
  return r < 0 ? throw_errno(env, what, -r) : num(env, r);
}

/* An optional typed-array argument argv[i]: absent or undefined gives *data NULL; otherwise it must hold at
   least min bytes. 0, with nothing thrown, when it is neither. */
static int arg_optional_bytes(napi_env env, size_t argc, napi_value *argv, size_t i, size_t min, uint8_t **data) {
  *data = NULL;
  napi_valuetype t = napi_undefined;
  if (argc > i) napi_typeof(env, argv[i], &t);
  if (t == napi_undefined) return 1;
  size_t len;
  return arg_bytes(env, argv[i], data, &len) && len >= min;
}

/* n frames in fixed slots, as recvBatch and sendBatch take them: frame i at buf + offset + i·slot, its length
   in lens[i] (i32). 0, with nothing thrown, when an argument is missing or of the wrong type, or the buffers do
   not hold n slots and n lengths. */
typedef struct {
  uint8_t *first;
  int32_t slot;
  int32_t *lens;
} slot_batch;

static int arg_slot_batch(napi_env env, napi_value vbuf, napi_value voffset, napi_value vslot, napi_value vlens, int32_t n, slot_batch *b) {
  uint8_t *buf, *lensb;
  size_t buflen, lenslen;
  int32_t offset;
  if (!arg_bytes(env, vbuf, &buf, &buflen) || !arg_i32(env, voffset, &offset) || !arg_i32(env, vslot, &b->slot) ||
      !arg_bytes(env, vlens, &lensb, &lenslen))
    return 0;
  if (offset < 0 || b->slot <= 0 || n < 0 || (size_t)offset + (size_t)b->slot * (size_t)n > buflen || lenslen < (size_t)n * 4) return 0;
  b->first = buf + offset;
  b->lens = (int32_t *)lensb;
  return 1;
}

/* recvBatch(fd, buf, offset, slot, max, lens[, flags]) */
static napi_value recv_batch(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd, max;
  slot_batch b;
  if (argc < 6 || !arg_i32(env, argv[0], &fd) || !arg_i32(env, argv[4], &max) || !arg_slot_batch(env, argv[1], argv[2], argv[3], argv[5], max, &b)) {
    napi_throw_range_error(env, NULL, "recvBatch(fd, buf, offset, slot, max, lens): area out of bounds");
    return NULL;
  }
  uint8_t *flags;
  if (!arg_optional_bytes(env, argc, argv, 6, (size_t)max, &flags)) {
    napi_throw_range_error(env, NULL, "recvBatch: flags must hold max bytes");
    return NULL;
  }
  const char *what = "";
  return count_or_throw(env, frames_recv_slots(fd, b.first, b.slot, max, b.lens, flags, &what), what);
}

/* recvPacked(fd, buf, offset, bytes, frameMax, max, lens, flags, vnet, offs) */
static napi_value recv_packed(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd, offset, bytes, frameMax, max;
  uint8_t *buf, *lensb, *flags, *offsb, *vnet;
  size_t buflen, lenslen, flagslen, offslen;
  if (argc < 10 || !arg_i32(env, argv[0], &fd) || !arg_bytes(env, argv[1], &buf, &buflen) || !arg_i32(env, argv[2], &offset) ||
      !arg_i32(env, argv[3], &bytes) || !arg_i32(env, argv[4], &frameMax) || !arg_i32(env, argv[5], &max) ||
      !arg_bytes(env, argv[6], &lensb, &lenslen) || !arg_bytes(env, argv[7], &flags, &flagslen) ||
      !arg_bytes(env, argv[9], &offsb, &offslen) || max < 0 || !arg_optional_bytes(env, argc, argv, 8, (size_t)max * VNET_STRIDE, &vnet) ||
      offset < 0 || bytes <= 0 || frameMax <= 0 || (size_t)offset + (size_t)bytes > buflen || lenslen < (size_t)max * 4 ||
      flagslen < (size_t)max || offslen < (size_t)max * 4) {
    napi_throw_range_error(env, NULL, "recvPacked(fd, buf, offset, bytes, frameMax, max, lens, flags, vnet, offs): area out of bounds");
    return NULL;
  }
  const char *what = "";
  return count_or_throw(env, frames_recv_packed(fd, buf + offset, bytes, frameMax, max, (int32_t *)lensb, flags, vnet, (uint32_t *)offsb, &what), what);
}

/* A device that is down or a full queue loses the frame, not the router: these errors skip one frame. */
static int frame_lost(int err) {
  return err == EIO || err == ENOBUFS || err == ENETDOWN || err == ENXIO || err == EMSGSIZE || err == ENODEV;
}

/* Sends count frames (frames.h). */
int send_frames(int fd, uint8_t **frames, const int32_t *lens, int count, const uint8_t *vnet) {
  int sent = 0;
  if (is_socket(fd)) {
    int done = 0;
    while (done < count) {
      struct mmsghdr msgs[MAX_BATCH];
      struct iovec iov[MAX_BATCH][2]; /* with PACKET_VNET_HDR: the header, then the frame */
      int want = count - done < MAX_BATCH ? count - done : MAX_BATCH;
      memset(msgs, 0, sizeof(struct mmsghdr) * (size_t)want);
      for (int k = 0; k < want; k++) {
        struct iovec *v = iov[k];
        if (vnet) {
          v->iov_base = (void *)(vnet + (size_t)(done + k) * VNET_STRIDE);
          v->iov_len = VNET_BYTES;
          v++;
        }
        v->iov_base = frames[done + k];
        v->iov_len = (size_t)lens[done + k];
        msgs[k].msg_hdr.msg_iov = iov[k];
        msgs[k].msg_hdr.msg_iovlen = vnet ? 2 : 1;
      }
      int r;
      do r = sendmmsg(fd, msgs, (unsigned)want, MSG_DONTWAIT); while (r < 0 && errno == EINTR);
      if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (frame_lost(errno)) { done++; continue; }
        return -errno;
      }
      if (r == 0) break;
      sent += r;
      done += r;
    }
    return sent;
  }
  /* a tap: one frame per write, the batch through io_uring (uring.c) */
  if (!vnet) return uring_write_frames(fd, frames, lens, count, NULL, frame_lost);
  struct uring_vnet v = {vnet, VNET_STRIDE, VNET_BYTES};
  return uring_write_frames(fd, frames, lens, count, &v, frame_lost);
}

/* sendBatch(fd, buf, offset, slot, lens, n) */
static napi_value send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd, count;
  slot_batch b;
  if (argc < 6 || !arg_i32(env, argv[0], &fd) || !arg_i32(env, argv[5], &count) || count > 65536 ||
      !arg_slot_batch(env, argv[1], argv[2], argv[3], argv[4], count, &b)) {
    napi_throw_range_error(env, NULL, "sendBatch(fd, buf, offset, slot, lens, n): area out of bounds");
    return NULL;
  }
  int32_t *lens = b.lens;
  uint8_t **frames = malloc(sizeof(uint8_t *) * (size_t)(count ? count : 1));
  if (!frames) return throw_errno(env, "sendBatch", ENOMEM);
  for (int k = 0; k < count; k++) {
    if (lens[k] < 0 || lens[k] > b.slot) {
      free(frames);
      napi_throw_range_error(env, NULL, "sendBatch: a frame length exceeds its slot");
      return NULL;
    }
    frames[k] = b.first + (size_t)k * b.slot;
  }
  int r = send_frames(fd, frames, lens, count, NULL);
  free(frames);
  if (r < 0) return throw_errno(env, "send", -r);
  return num(env, r);
}

/* sendList(fd, buf, offsets, lens, start, n[, vnet]): frames at buf + offsets[start + k], lengths lens[start + k]. */
static napi_value send_list(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd, start, count;
  uint8_t *buf, *offb, *lensb;
  size_t buflen, offlen, lenslen;
  if (argc < 6 || !arg_i32(env, argv[0], &fd) || !arg_bytes(env, argv[1], &buf, &buflen) || !arg_bytes(env, argv[2], &offb, &offlen) ||
      !arg_bytes(env, argv[3], &lensb, &lenslen) || !arg_i32(env, argv[4], &start) || !arg_i32(env, argv[5], &count) ||
      start < 0 || count < 0 || count > 65536 || offlen < ((size_t)start + (size_t)count) * 4 || lenslen < ((size_t)start + (size_t)count) * 4) {
    napi_throw_range_error(env, NULL, "sendList(fd, buf, offsets, lens, start, n): list out of bounds");
    return NULL;
  }
  uint8_t *vnet;
  if (!arg_optional_bytes(env, argc, argv, 6, ((size_t)start + (size_t)count) * VNET_STRIDE, &vnet)) {
    napi_throw_range_error(env, NULL, "sendList: vnet must hold (start + n) × 12 bytes");
    return NULL;
  }
  if (vnet) vnet += (size_t)start * VNET_STRIDE;
  return send_list_frames(env, fd, buf, buflen, (const uint32_t *)offb + start, (const int32_t *)lensb + start, count, vnet, "sendList");
}

/* frames.h: the frames at base + offs[k] (lens[k] bytes), each inside base's len bytes, sent. */
napi_value send_list_frames(napi_env env, int fd, uint8_t *base, size_t len, const uint32_t *offs, const int32_t *lens, int count, const uint8_t *vnet, const char *what) {
  uint8_t *stack[MAX_BATCH];
  uint8_t **frames = count <= MAX_BATCH ? stack : malloc(sizeof(uint8_t *) * (size_t)count);
  if (!frames) return throw_errno(env, what, ENOMEM);
  for (int k = 0; k < count; k++) {
    if (lens[k] < 0 || (size_t)offs[k] + (size_t)lens[k] > len) {
      if (frames != stack) free(frames);
      char m[128];
      snprintf(m, sizeof m, "%s: a frame lies outside the buffer", what);
      napi_throw_range_error(env, NULL, m);
      return NULL;
    }
    frames[k] = base + offs[k];
  }
  int r = send_frames(fd, frames, lens, count, vnet);
  if (frames != stack) free(frames);
  return count_or_throw(env, r, "send");
}

/* uring([enable]) -> true when tap writes go through io_uring (after the first batch), false otherwise. */
static napi_value uring(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= 1) {
    bool on;
    if (napi_get_value_bool(env, argv[0], &on) != napi_ok) {
      napi_throw_type_error(env, NULL, "uring(enable): enable must be a boolean");
      return NULL;
    }
    uring_enable(on);
  }
  napi_value v;
  napi_get_boolean(env, uring_in_use() != 0, &v);
  return v;
}

/* fd -> has(fd) as a boolean: tapMultishot and packetRing. */
static napi_value fd_predicate(napi_env env, napi_callback_info info, int (*has)(int)) {
  size_t argc = 1;
  napi_value argv[1], v;
  int32_t fd = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= 1) arg_i32(env, argv[0], &fd);
  napi_get_boolean(env, has(fd), &v);
  return v;
}

/* tapMultishot(fd) -> whether a tap is read through its io_uring multishot read (tap_mshot.c) */
static napi_value tap_multishot(napi_env env, napi_callback_info info) {
  return fd_predicate(env, info, tap_mshot_has);
}

/* tapBuffered(fd) -> whether frames a tap's multishot read took wait in its completions, where the tap's
   readiness does not show them */
static napi_value tap_buffered(napi_env env, napi_callback_info info) {
  return fd_predicate(env, info, tap_mshot_buffered);
}

/* packetRing(fd) -> whether a packet port reads through its receive ring (packet_ring.c) */
static napi_value packet_ring(napi_env env, napi_callback_info info) {
  return fd_predicate(env, info, packet_ring_has);
}

static napi_value close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || !arg_i32(env, argv[0], &fd)) {
    napi_throw_type_error(env, NULL, "close(fd)");
    return NULL;
  }
  remember_fd(fd, FD_UNKNOWN); /* and its counters zeroed */
  packet_ring_detach(fd);
  tap_mshot_detach(fd);
  if (close(fd) < 0) return throw_errno(env, "close", errno);
  return NULL;
}

void privilege_register(napi_env env, napi_value exports); /* privilege.c: --user */
void watch_register(napi_env env, napi_value exports);     /* watch.c: readiness */
void area_register(napi_env env, napi_value exports);      /* area.c: bound areas */

NAPI_MODULE_INIT() {
  EXPORT_FUNCTIONS(env, exports,
                   {"tapOpen", tap_open}, {"packetOpen", packet_open}, {"recvBatch", recv_batch}, {"recvPacked", recv_packed}, {"sendBatch", send_batch}, {"sendList", send_list},
                   {"close", close_fd}, {"uring", uring}, {"packetRing", packet_ring}, {"tapMultishot", tap_multishot}, {"tapBuffered", tap_buffered});
  privilege_register(env, exports);
  port_counters_register(env, exports);
  watch_register(env, exports);
  area_register(env, exports);
  return exports;
}
