/*
 * tap_mshot — a tap's frames through one io_uring multishot read instead of one read(2) per frame. A tap
 * has no batch read, and every system call costs an entry into the kernel (this paravirtual machine's
 * most sampled symbol). IORING_OP_READ_MULTISHOT (Linux 6.7) stays armed on the tap and reads each frame
 * into a buffer from a ring of provided buffers. On a ring with IORING_SETUP_DEFER_TASKRUN those reads
 * run only inside the reader's own io_uring_enter(GETEVENTS), back to back while frames wait. So a batch
 * costs one system call, and the frames then sit in the buffers, one completion each.
 * `bash bench/probes/tap-read.sh` measured 0.20–0.31 µs per frame to drain 16–1,024 queued frames this way
 * against 1.39–1.47 µs with read(2) (BENCHMARKS.md).
 *
 * One ring per tap, owned by the thread that opens the tap, which must also read it (SINGLE_ISSUER):
 *
 *   | what                 | size                                   | notes                                     |
 *   |----------------------|----------------------------------------|-------------------------------------------|
 *   | submission queue     | 8 entries                              | only the (re)arming read goes through it  |
 *   | completion queue     | 2 × BUFS entries                       | at most one per buffer: never overflows   |
 *   | provided-buffer ring | BUFS × struct io_uring_buf (16 B)      | group 0; tail published after each batch  |
 *   | buffers              | BUFS × (room + 1) bytes                | buffer bid at bufs + bid × (room + 1)     |
 *
 * A completion without IORING_CQE_F_MORE ends the read (no buffer was free, or an error); it is armed
 * again at the next batch. WASMROUTE_NO_URING=1 or WASMROUTE_NO_MULTISHOT=1 in the environment, or a
 * kernel without the operation, leaves taps on read(2). Closing a tap first cancels its read and waits for
 * the read's last completion, so that nothing lands in the buffers after they are unmapped.
 */
#define _GNU_SOURCE
#include "tap_mshot.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/io_uring.h>

#define OP_READ_MULTISHOT 49 /* IORING_OP_READ_MULTISHOT; Debian 12's headers (6.1) predate it */
#define BUFS 256u            /* a power of two: the buffer ring's index is masked */
#define SQ_ENTRIES 8u
#define READER_FDS 4096
#define READ_TAG 1 /* user_data of the multishot read */
#define CANCEL_TAG 2

typedef struct {
  int ring;
  unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
  struct io_uring_sqe *sqes;
  struct io_uring_cqe *cqes;
  void *sq_map, *sqe_map;
  size_t sq_map_bytes, sqe_map_bytes;
  struct io_uring_buf_ring *br;
  uint8_t *bufs;
  size_t buf_bytes;
  unsigned short br_tail;
  int armed, held; /* held: the buffer of the frame handed out, −1 when none */
} reader;

static reader *readers[READER_FDS];

static int switched_off(void) {
  const char *a = getenv("WASMROUTE_NO_URING"), *b = getenv("WASMROUTE_NO_MULTISHOT");
  return (a && a[0] && strcmp(a, "0") != 0) || (b && b[0] && strcmp(b, "0") != 0);
}

static void free_reader(reader *r) {
  if (r->ring >= 0) close(r->ring); /* cancels the read */
  if (r->sq_map && r->sq_map != MAP_FAILED) munmap(r->sq_map, r->sq_map_bytes);
  if (r->sqe_map && r->sqe_map != MAP_FAILED) munmap(r->sqe_map, r->sqe_map_bytes);
  if (r->br && (void *)r->br != MAP_FAILED) munmap(r->br, BUFS * sizeof(struct io_uring_buf));
  if (r->bufs && (void *)r->bufs != MAP_FAILED) munmap(r->bufs, BUFS * r->buf_bytes);
  free(r);
}

static void give_back(reader *r, unsigned bid) {
  struct io_uring_buf *b = &r->br->bufs[r->br_tail & (BUFS - 1)];
  b->addr = (uint64_t)(uintptr_t)(r->bufs + (size_t)bid * r->buf_bytes);
  b->len = (uint32_t)r->buf_bytes;
  b->bid = (unsigned short)bid;
  r->br_tail++;
  __atomic_store_n(&r->br->tail, r->br_tail, __ATOMIC_RELEASE);
}

/* Queues the multishot read of fd; the next io_uring_enter submits it. */
static void queue_read(reader *r, int fd) {
  unsigned tail = *r->sq_tail, i = tail & *r->sq_mask;
  struct io_uring_sqe *s = &r->sqes[i];
  memset(s, 0, sizeof *s);
  s->opcode = OP_READ_MULTISHOT;
  s->fd = fd;
  s->flags = IOSQE_BUFFER_SELECT;
  s->buf_group = 0;
  s->user_data = READ_TAG;
  r->sq_array[i] = i;
  __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
}

static int enter(reader *r, unsigned submit) {
  long e;
  do e = syscall(__NR_io_uring_enter, r->ring, submit, 0, IORING_ENTER_GETEVENTS, NULL, 0);
  while (e < 0 && errno == EINTR);
  return e < 0 ? -errno : 0;
}

int tap_mshot_attach(int fd, size_t room) {
  if (fd < 0 || fd >= READER_FDS) return -EBADF;
  if (switched_off()) return -EPERM;
  reader *r = calloc(1, sizeof *r);
  if (!r) return -ENOMEM;
  r->ring = -1;
  r->held = -1;
  r->buf_bytes = room + 1;
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
  p.cq_entries = 2 * BUFS;
  r->ring = (int)syscall(__NR_io_uring_setup, SQ_ENTRIES, &p);
  int err = 0;
  if (r->ring < 0) {
    err = -errno;
    goto fail;
  }
  r->sq_map_bytes = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_bytes = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  if (cq_bytes > r->sq_map_bytes) r->sq_map_bytes = cq_bytes; /* one mapping: IORING_FEAT_SINGLE_MMAP, 5.4+ */
  r->sqe_map_bytes = p.sq_entries * sizeof(struct io_uring_sqe);
  r->sq_map = mmap(NULL, r->sq_map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->ring, IORING_OFF_SQ_RING);
  r->sqe_map = mmap(NULL, r->sqe_map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->ring, IORING_OFF_SQES);
  r->br = mmap(NULL, BUFS * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  r->bufs = mmap(NULL, BUFS * r->buf_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (r->sq_map == MAP_FAILED || r->sqe_map == MAP_FAILED || (void *)r->br == MAP_FAILED || (void *)r->bufs == MAP_FAILED) {
    err = -ENOMEM;
    goto fail;
  }
  uint8_t *sq = r->sq_map;
  r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
  r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
  r->sq_array = (unsigned *)(sq + p.sq_off.array);
  r->cq_head = (unsigned *)(sq + p.cq_off.head);
  r->cq_tail = (unsigned *)(sq + p.cq_off.tail);
  r->cq_mask = (unsigned *)(sq + p.cq_off.ring_mask);
  r->cqes = (struct io_uring_cqe *)(sq + p.cq_off.cqes);
  r->sqes = r->sqe_map;
  struct io_uring_buf_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (uint64_t)(uintptr_t)r->br;
  reg.ring_entries = BUFS;
  reg.bgid = 0;
  if (syscall(__NR_io_uring_register, r->ring, IORING_REGISTER_PBUF_RING, &reg, 1) < 0) {
    err = -errno;
    goto fail;
  }
  for (unsigned bid = 0; bid < BUFS; bid++) give_back(r, bid);
  /* Arm it now: a kernel without the operation answers at once with −EINVAL; on an empty tap the read
     waits on the tap's poll and nothing completes. */
  queue_read(r, fd);
  r->armed = 1;
  if ((err = enter(r, 1)) < 0) goto fail;
  unsigned head = *r->cq_head;
  if (head != __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) {
    struct io_uring_cqe *c = &r->cqes[head & *r->cq_mask];
    if (c->res < 0 && !(c->flags & IORING_CQE_F_BUFFER)) {
      err = c->res;
      goto fail;
    }
  }
  readers[fd] = r;
  return 0;
fail:
  free_reader(r);
  return err ? err : -EIO;
}

int tap_mshot_has(int fd) {
  return fd >= 0 && fd < READER_FDS && readers[fd] != NULL;
}

/* Cancels the armed read and waits (about 5 ms at most) for its last completion, so that no read can still
   land in the buffers once they are unmapped: 1 when it ended. */
static int cancel_read(reader *r) {
  if (!r->armed) return 1;
  unsigned tail = *r->sq_tail, i = tail & *r->sq_mask;
  struct io_uring_sqe *s = &r->sqes[i];
  memset(s, 0, sizeof *s);
  s->opcode = IORING_OP_ASYNC_CANCEL;
  s->fd = -1;
  s->cancel_flags = IORING_ASYNC_CANCEL_ANY;
  s->user_data = CANCEL_TAG;
  r->sq_array[i] = i;
  __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
  for (int round = 0; round < 50 && r->armed; round++) {
    if (round > 0) usleep(100);
    if (syscall(__NR_io_uring_enter, r->ring, round == 0 ? 1 : 0, 0, IORING_ENTER_GETEVENTS, NULL, 0) < 0 && errno != EINTR) break;
    unsigned head = *r->cq_head, end = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
    for (; head != end; head++) {
      struct io_uring_cqe *c = &r->cqes[head & *r->cq_mask];
      if (c->user_data == READ_TAG && !(c->flags & IORING_CQE_F_MORE)) r->armed = 0;
    }
    __atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
  }
  return !r->armed;
}

void tap_mshot_detach(int fd) {
  if (!tap_mshot_has(fd)) return;
  reader *r = readers[fd];
  readers[fd] = NULL;
  if (!cancel_read(r)) {
    /* the read did not end in time: keep its buffers mapped (they are not reused), drop the rest */
    r->bufs = NULL;
  }
  free_reader(r);
}

int tap_mshot_next(int fd, int *entered, const uint8_t **data, size_t *len) {
  reader *r = readers[fd];
  for (;;) {
    unsigned head = *r->cq_head;
    if (head != __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) {
      struct io_uring_cqe *c = &r->cqes[head & *r->cq_mask];
      int res = c->res;
      unsigned flags = c->flags;
      uint64_t tag = c->user_data;
      __atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
      if (tag != READ_TAG) continue;
      if (!(flags & IORING_CQE_F_MORE)) r->armed = 0;
      if (flags & IORING_CQE_F_BUFFER) {
        unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
        if (res > 0) {
          r->held = (int)bid;
          *data = r->bufs + (size_t)bid * r->buf_bytes;
          *len = (size_t)res;
          return 1;
        }
        give_back(r, bid);
      }
      /* out of buffers (they come back as frames are released) or nothing to read: armed again below */
      if (res < 0 && res != -ENOBUFS && res != -EAGAIN && res != -ECANCELED) return res;
      continue;
    }
    if (*entered) return 0;
    *entered = 1;
    unsigned submit = 0;
    if (!r->armed) {
      queue_read(r, fd);
      r->armed = 1;
      submit = 1;
    }
    int e = enter(r, submit);
    if (e < 0) return e;
  }
}

int tap_mshot_buffered(int fd) {
  if (!tap_mshot_has(fd)) return 0;
  reader *r = readers[fd];
  return *r->cq_head != __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
}

void tap_mshot_release(int fd) {
  reader *r = readers[fd];
  if (r->held < 0) return;
  give_back(r, (unsigned)r->held);
  r->held = -1;
}
