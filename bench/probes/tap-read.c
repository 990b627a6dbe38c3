/*
 * tap-read — what reading frames from a tap costs per frame: read(2) until EAGAIN, one system call per
 * frame, against host/io/native/tap_mshot.c, the addon's own reader (one io_uring multishot read, its
 * reads run inside one io_uring_enter per batch). Two taps in one wr- namespace, one read each way. Each
 * round has the kernel queue BATCH frames on a tap (UDP datagrams from a socket in the namespace to a
 * static neighbour behind the tap), then times draining them into 2 KiB slots; the two ways alternate.
 * Run it with bench/probes/tap-read.sh (root), which builds it and makes and removes the namespace.
 *   tap-read TAP_MULTISHOT TAP_READ FRAMES BATCH...      prints JSON
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "probe-tap.h"
#include "../../host/io/native/tap_mshot.h"

#define SLOT 2048
#define MAX_BATCH 1024

/* The multishot way: the frames the reader took, copied into slots (as wrio.c's batch read does). */
static int mshot_drain(int fd, uint8_t *slots, int max) {
  int entered = 0, n = 0;
  const uint8_t *data;
  size_t len;
  while (n < max) {
    int r = tap_mshot_next(fd, &entered, &data, &len);
    if (r < 0) return r;
    if (r == 0) break;
    memcpy(slots + (size_t)n * SLOT, data, len < SLOT ? len : SLOT);
    tap_mshot_release(fd);
    n++;
  }
  return n;
}

/* read(2) until EAGAIN, as the router reads a tap without the multishot read. */
static int read_drain(int fd, uint8_t *slots, int max) {
  int n = 0;
  while (n < max) {
    ssize_t r = read(fd, slots + (size_t)n * SLOT, SLOT);
    if (r < 0) return errno == EAGAIN ? n : -errno;
    n++;
  }
  return n;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: tap-read TAP_MULTISHOT TAP_READ FRAMES BATCH...\n");
    return 2;
  }
  int fds[2] = {probe_tap_open(argv[1]), probe_tap_open(argv[2])};
  if (fds[0] < 0 || fds[1] < 0) return 1;
  int r = tap_mshot_attach(fds[0], SLOT);
  if (r < 0) {
    fprintf(stderr, "multishot read: %s\n", strerror(-r));
    return 1;
  }
  int sock = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to[2] = {{.sin_family = AF_INET, .sin_port = htons(9)}, {.sin_family = AF_INET, .sin_port = htons(9)}};
  inet_pton(AF_INET, "10.99.0.2", &to[0].sin_addr); /* behind the first tap */
  inet_pton(AF_INET, "10.98.0.2", &to[1].sin_addr); /* behind the second */
  static uint8_t payload[18]; /* 60-byte frames */
  static struct iovec iov = {payload, sizeof payload};
  static struct mmsghdr msgs[2][MAX_BATCH];
  for (int w = 0; w < 2; w++)
    for (int i = 0; i < MAX_BATCH; i++) {
      msgs[w][i].msg_hdr.msg_name = &to[w];
      msgs[w][i].msg_hdr.msg_namelen = sizeof to[w];
      msgs[w][i].msg_hdr.msg_iov = &iov;
      msgs[w][i].msg_hdr.msg_iovlen = 1;
    }
  static uint8_t slots[(size_t)MAX_BATCH * SLOT];
  /* A tap's carrier comes up when the probe attaches, and its queue discipline some time after (linkwatch):
     until then the kernel drops what it sends there. Send one datagram at a time until one arrives. */
  for (int w = 0; w < 2; w++) {
    int got = 0;
    for (int tries = 0; tries < 200 && got == 0; tries++) {
      if (sendmmsg(sock, msgs[w], 1, 0) != 1) {
        perror("sendmmsg");
        return 1;
      }
      usleep(10000);
      got = w == 0 ? mshot_drain(fds[0], slots, MAX_BATCH) : read_drain(fds[1], slots, MAX_BATCH);
      if (got < 0) {
        fprintf(stderr, "%s: %s\n", w == 0 ? "multishot read" : "read", strerror(-got));
        return 1;
      }
    }
    if (got == 0) {
      fprintf(stderr, "%s: nothing arrived in 2 s\n", argv[1 + w]);
      return 1;
    }
  }
  long total = atol(argv[3]);
  printf("{\"batches\": [");
  for (int a = 4; a < argc; a++) {
    int batch = atoi(argv[a]);
    if (batch < 1 || batch > MAX_BATCH) batch = MAX_BATCH;
    double secs[2] = {0, 0};
    long frames[2] = {0, 0};
    for (long done = 0; done < total; done += batch) {
      for (int w = 0; w < 2; w++) {
        int sent = sendmmsg(sock, msgs[w], (unsigned)batch, 0);
        if (sent != batch) {
          fprintf(stderr, "sendmmsg: %d of %d (%s)\n", sent, batch, sent < 0 ? strerror(errno) : "short");
          return 1;
        }
        int got = 0;
        double t0 = probe_now();
        for (int idle = 0; got < batch && idle < 1000000;) {
          int n = w == 0 ? mshot_drain(fds[0], slots, MAX_BATCH) : read_drain(fds[1], slots, MAX_BATCH);
          if (n < 0) {
            fprintf(stderr, "%s: %s\n", w == 0 ? "multishot read" : "read", strerror(-n));
            return 1;
          }
          got += n;
          idle = n ? 0 : idle + 1;
        }
        secs[w] += probe_now() - t0;
        frames[w] += got;
        if (got != batch) {
          fprintf(stderr, "%s: took %d of %d frames\n", argv[1 + w], got, batch);
          return 1;
        }
      }
    }
    printf("%s{\"batch\": %d, \"multishotUsPerFrame\": %.3f, \"readUsPerFrame\": %.3f}", a > 4 ? ", " : "", batch,
           secs[0] / (double)frames[0] * 1e6, secs[1] / (double)frames[1] * 1e6);
  }
  printf("]}\n");
  tap_mshot_detach(fds[0]);
  return 0;
}
