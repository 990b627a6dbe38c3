/*
 * packet_ring.c — the receive ring of a packet port (PACKET_RX_RING, TPACKET_V2), so that a batch of
 * frames is taken without a system call: the kernel writes each frame into a slot of a ring shared with
 * this process and flips the slot's status to TP_STATUS_USER; the reader copies the frame out and gives
 * the slot back (TP_STATUS_KERNEL). recvmmsg, the fallback, costs a system call per batch and a socket
 * buffer per frame, and the socket's 212 KB receive buffer holds only about 270 small frames.
 *
 * Why TPACKET_V2 and not V3: V3 hands a block to user space only when the block is full or its retire
 * timer (≥ 1 ms) fires, which a router's ping would wait for at low rates; V2 hands over every frame at
 * once. testbed.md measured a V3 ring 14 % above recvmmsg in C.
 *
 * Ring layout (one mapping per port, RING_BLOCKS blocks of RING_BLOCK_BYTES, frames never straddle blocks;
 * 30 slots a block for 2048-byte frames, 7 for a 9000-byte MTU):
 *
 *   | offset in a frame slot      | what                                                           |
 *   |-----------------------------|----------------------------------------------------------------|
 *   | 0                           | struct tpacket2_hdr: tp_status, tp_len, tp_snaplen, tp_mac, …  |
 *   | 32                          | struct sockaddr_ll (unused here)                               |
 *   | tp_mac (66 for Ethernet)    | the frame, tp_snaplen bytes (tp_len on the wire)               |
 *
 * Frame slot i is at block (i / per_block) × RING_BLOCK_BYTES + (i % per_block) × frame_size.
 * tp_status bits read per frame: TP_STATUS_CSUMNOTREADY (the sender left the checksum to offload)
 * and TP_STATUS_CSUM_VALID (the kernel verified it), as PACKET_AUXDATA reports them to recvmmsg.
 * A frame longer than its slot arrives cut (tp_snaplen < tp_len) and is reported at its cut length, as
 * recvmmsg into a slot does. WASMROUTE_NO_RING=1 in the environment leaves ports on recvmmsg (A/B runs).
 *
 * With PACKET_VNET_HDR (an `offload on` port, set before the ring), tpacket_rcv writes the frame's
 * struct virtio_net_hdr (10 bytes) just before it, at tp_mac − 10, and frames may be GSO super-frames
 * of up to 64 KiB. The slots stay sized for the link's MTU, so the ring holds as many frames as a
 * plain port's (1,920 of 1,514 bytes); a 64 KiB slot for every frame would hold 240 in 16 MiB. A
 * frame longer than its slot takes the kernel's other way (PACKET_COPY_THRESH, set here): tpacket_rcv
 * queues the whole frame on the socket's receive queue before it hands the slot over, cut and marked
 * TP_STATUS_COPY, so the queue holds exactly the frames of the COPY slots, in ring order.
 * packet_ring_recv_packed reads such a frame with recvmsg (its vnet header first, as PACKET_VNET_HDR
 * gives it) where the slot stands, and packs the frames as an offload tap's read does. When the
 * receive buffer (8 MiB on an offload port) is full, the kernel marks no COPY and the frame stays cut.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include "packet_ring.h"

#define RING_BLOCK_BYTES (1u << 16)
#define RING_BLOCKS 64u
#define RING_BIG_BLOCK_BYTES (1u << 20) /* for slots over RING_BLOCK_BYTES (a jumbo MTU) */
#define RING_BIG_BLOCKS 16u
#define RING_FDS 4096
#define VNET_HDR_BYTES sizeof(struct virtio_net_hdr)

typedef struct {
  uint8_t *map;
  size_t map_bytes;
  unsigned block_bytes, frame_size, per_block, frames, head;
} packet_ring;

static packet_ring *rings[RING_FDS];

int packet_ring_disabled(void) {
  const char *off = getenv("WASMROUTE_NO_RING");
  return off && off[0] && strcmp(off, "0") != 0;
}

int packet_ring_attach(int fd, unsigned frame_bytes, int vnet) {
  if (fd < 0 || fd >= RING_FDS) return EBADF;
  int version = TPACKET_V2, one = 1;
  if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0) return errno;
  if (vnet && setsockopt(fd, SOL_PACKET, PACKET_COPY_THRESH, &one, sizeof one) < 0) return errno;
  /* the slot: header and sockaddr_ll (TPACKET2_HDRLEN, aligned), 16 bytes of MAC room, the vnet header, the frame */
  unsigned frame_size = (unsigned)TPACKET_ALIGN(TPACKET2_HDRLEN + 16 + (vnet ? (unsigned)VNET_HDR_BYTES : 0) + frame_bytes);
  unsigned block_bytes = frame_size > RING_BLOCK_BYTES ? RING_BIG_BLOCK_BYTES : RING_BLOCK_BYTES;
  unsigned blocks = frame_size > RING_BLOCK_BYTES ? RING_BIG_BLOCKS : RING_BLOCKS;
  if (frame_size > block_bytes) return EINVAL;
  unsigned per_block = block_bytes / frame_size;
  struct tpacket_req req = {
    .tp_block_size = block_bytes,
    .tp_block_nr = blocks,
    .tp_frame_size = frame_size,
    .tp_frame_nr = per_block * blocks,
  };
  if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) return errno;
  size_t bytes = (size_t)block_bytes * blocks;
  void *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  packet_ring *r = map == MAP_FAILED ? NULL : calloc(1, sizeof *r);
  if (!r) {
    /* Take the ring down again: with a ring set and not mapped, recvmmsg would never see a frame. */
    int err = map == MAP_FAILED ? errno : ENOMEM;
    struct tpacket_req none = {0};
    if (map != MAP_FAILED) munmap(map, bytes);
    setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &none, sizeof none);
    return err;
  }
  r->map = map;
  r->map_bytes = bytes;
  r->block_bytes = block_bytes;
  r->frame_size = frame_size;
  r->per_block = per_block;
  r->frames = per_block * blocks;
  rings[fd] = r;
  return 0;
}

int packet_ring_has(int fd) {
  return fd >= 0 && fd < RING_FDS && rings[fd] != NULL;
}

void packet_ring_detach(int fd) {
  if (!packet_ring_has(fd)) return;
  munmap(rings[fd]->map, rings[fd]->map_bytes);
  free(rings[fd]);
  rings[fd] = NULL;
}

static inline struct tpacket2_hdr *slot_at(const packet_ring *r, unsigned i) {
  return (struct tpacket2_hdr *)(r->map + (size_t)(i / r->per_block) * r->block_bytes + (size_t)(i % r->per_block) * r->frame_size);
}

/* The slot at the ring's head if the kernel has handed it over (its status then in *status), else NULL. */
static inline struct tpacket2_hdr *head_slot(const packet_ring *r, uint32_t *status) {
  struct tpacket2_hdr *h = slot_at(r, r->head);
  *status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
  return (*status & TP_STATUS_USER) ? h : NULL;
}

/* Gives the head slot back to the kernel and moves the head on. */
static inline void release_head(packet_ring *r, struct tpacket2_hdr *h) {
  __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
  r->head = r->head + 1 == r->frames ? 0 : r->head + 1;
}

int packet_ring_recv(int fd, uint8_t *dst, int slot, int max, int32_t *lens, uint8_t *flags, unsigned *cut) {
  packet_ring *r = rings[fd];
  int n = 0;
  uint32_t status;
  struct tpacket2_hdr *h;
  while (n < max && (h = head_slot(r, &status)) != NULL) {
    uint32_t len = h->tp_snaplen < (uint32_t)slot ? h->tp_snaplen : (uint32_t)slot;
    if (len < h->tp_len) ++*cut;
    memcpy(dst + (size_t)n * (size_t)slot, (uint8_t *)h + h->tp_mac, len);
    lens[n] = (int32_t)len;
    if (flags) flags[n] = (uint8_t)(((status & TP_STATUS_CSUMNOTREADY) ? 1 : 0) | ((status & TP_STATUS_CSUM_VALID) ? 2 : 0));
    release_head(r, h);
    n++;
  }
  return n;
}

/* The whole frame of a TP_STATUS_COPY slot from the socket's receive queue: its vnet header into hdr,
   the frame (up to frame_max bytes) into dst. Its length, or -1 (nothing queued, or a short read). */
static ssize_t recv_copied(int fd, uint8_t *hdr, uint8_t *dst, size_t frame_max) {
  struct iovec iov[2] = {{hdr, VNET_HDR_BYTES}, {dst, frame_max}};
  struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
  ssize_t got = recvmsg(fd, &msg, MSG_DONTWAIT);
  if (got < (ssize_t)VNET_HDR_BYTES || (msg.msg_flags & MSG_TRUNC)) return -1;
  return got - (ssize_t)VNET_HDR_BYTES;
}

int packet_ring_recv_packed(int fd, uint8_t *dst, int bytes, int frame_max, int max, int32_t *lens, uint8_t *flags, uint8_t *vnet, int vnet_stride, uint32_t *offs, unsigned *cut) {
  packet_ring *r = rings[fd];
  size_t used = 0;
  int n = 0;
  uint32_t status;
  struct tpacket2_hdr *h;
  while (n < max && used + (size_t)frame_max <= (size_t)bytes && (h = head_slot(r, &status)) != NULL) {
    uint8_t *hdr = vnet + (size_t)n * (size_t)vnet_stride;
    memset(hdr + VNET_HDR_BYTES, 0, (size_t)vnet_stride - VNET_HDR_BYTES);
    ssize_t whole = (status & TP_STATUS_COPY) ? recv_copied(fd, hdr, dst + used, (size_t)frame_max) : -1;
    uint32_t len;
    if (whole >= 0) {
      len = (uint32_t)whole;
    } else { /* the frame in its slot (cut if the kernel could not queue it whole) */
      len = h->tp_snaplen < (uint32_t)frame_max ? h->tp_snaplen : (uint32_t)frame_max;
      if (len < h->tp_len) ++*cut;
      uint8_t *frame = (uint8_t *)h + h->tp_mac;
      memcpy(dst + used, frame, len);
      memcpy(hdr, frame - VNET_HDR_BYTES, VNET_HDR_BYTES);
    }
    flags[n] = (hdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) ? 1 : 0; /* the data plane finishes it or sends it on partial */
    offs[n] = (uint32_t)used;
    lens[n] = (int32_t)len;
    release_head(r, h);
    used += ((size_t)len + 63) & ~(size_t)63;
    n++;
  }
  return n;
}
