/* tap_mshot — a tap's frames through one io_uring multishot read (see tap_mshot.c). */
#ifndef WRIO_TAP_MSHOT_H
#define WRIO_TAP_MSHOT_H
#include <stddef.h>
#include <stdint.h>

/* Sets up the multishot read of tap fd, into buffers of room + 1 bytes (the extra byte tells a frame
   longer than room). 0, or -errno when it cannot be used here (the tap is then read with read(2)). */
int tap_mshot_attach(int fd, size_t room);
/* 1 when fd's frames come through its multishot read. */
int tap_mshot_has(int fd);
/* Stops fd's multishot read and frees its ring and buffers (before fd is closed). */
void tap_mshot_detach(int fd);
/* The next frame the read took: 1 with *data and *len (the bytes read, a vnet header first on an
   IFF_VNET_HDR tap; more than room means the frame was longer), 0 when none is waiting, -errno when
   the read failed. Enters the kernel at most once per *entered (start each batch with 0). The frame's
   buffer is the reader's again at tap_mshot_release, which must come before the next call. */
int tap_mshot_next(int fd, int *entered, const uint8_t **data, size_t *len);
void tap_mshot_release(int fd);
/* 1 when frames the read took are waiting in fd's completions. The tap's own readiness (poll, epoll) no
   longer shows them: they left its queue. */
int tap_mshot_buffered(int fd);
#endif
