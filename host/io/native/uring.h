/* uring — batched writes to a tap through io_uring (see uring.c). */
#ifndef WRIO_URING_H
#define WRIO_URING_H
#include <stddef.h>
#include <stdint.h>

/* Per-frame virtio_net_hdr to write before each frame (an IFF_VNET_HDR tap): header k at headers + k·stride. */
struct uring_vnet {
  const uint8_t *headers;
  size_t stride;
  size_t bytes;
};

/*
 * Writes count frames to fd with one io_uring_enter per 256 frames (write(2) per frame for one or two
 * frames, and where io_uring cannot be used); with vnet, each frame goes as one writev of its header
 * and the frame. Returns the frames the device took; frames it refused with an error lost(err) calls
 * a lost frame are skipped; EAGAIN skips too (write(2): stops); another error returns -errno.
 */
int uring_write_frames(int fd, uint8_t *const *frames, const int32_t *lens, int count, const struct uring_vnet *vnet, int (*lost)(int err));

/* 1 when batched writes go through io_uring, 0 when they use write(2) (known after the first call). */
int uring_in_use(void);
/* Switches batched writes to write(2) (0) and back (1): for A/B measurements in one process. 1 also
   sets the ring up now if it was not yet (before a privilege drop, where io_uring_disabled = 1 would
   refuse an unprivileged process). */
void uring_enable(int on);
#endif
