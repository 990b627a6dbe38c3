/*
 * tap-mq — the ceiling of a TAP forwarder with one thread per queue (IFF_MULTI_QUEUE), the lift issue #5
 * names for the TAP row. It forwards between two taps the way wasmroute's TAP ports do, without a
 * route lookup: each thread owns queue k of both taps, waits in poll(2) on its input queue, reads frames
 * with read(2) until EAGAIN (at most 256), rewrites each one (Ethernet addresses, TTL − 1 with the
 * checksum fixed up as RFC 1624 does) and writes it to queue k of the output tap with write(2).
 * So it costs what wasmroute's TAP port costs in system calls, and nothing in user space.
 *
 * Run by bench/probes/tap-mq.ts (root), which builds the bench's TAP topology around it:
 *   tap-mq IN_TAP OUT_TAP QUEUES DST_MAC SRC_MAC [pin]
 * It creates both taps with QUEUES queues in the caller's namespace, prints "ready", and waits for a
 * line on stdin (the driver moves the taps into h1 and h2 meanwhile: attach before move, testbed.md).
 * Then it forwards until stdin closes or SIGTERM, and prints the frames each thread forwarded and how
 * many it dropped. With `pin`, thread k runs on CPU (k + 1) mod CPUs only: the first on CPU1, the
 * second beside the generator.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <linux/if_tun.h>

#define MAX_QUEUES 8
#define BATCH 256
#define FRAME 2048

static atomic_int stopping;
static uint8_t dst_mac[6], src_mac[6];

struct queue {
  int in, out;
  long forwarded, dropped;
  pthread_t thread;
};

static int parse_mac(const char *s, uint8_t *m) {
  return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6 ? 0 : -1;
}

static int tap_queue(const char *name) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
    fprintf(stderr, "tap-mq: %s: %s\n", name, strerror(errno));
    exit(1);
  }
  return fd;
}

/* TTL − 1 and the header checksum updated incrementally (RFC 1624: HC' = ~(~HC + ~m + m')). */
static int rewrite(uint8_t *f, ssize_t n) {
  if (n < 34 || f[12] != 0x08 || f[13] != 0x00 || f[22] <= 1) return -1;
  memcpy(f, dst_mac, 6);
  memcpy(f + 6, src_mac, 6);
  uint16_t old = (uint16_t)(f[22] << 8 | f[23]);
  f[22]--;
  uint16_t neu = (uint16_t)(f[22] << 8 | f[23]);
  uint32_t s = (uint16_t)~(f[24] << 8 | f[25]);
  s += (uint16_t)~old;
  s += neu;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  s = ~s & 0xffff;
  f[24] = (uint8_t)(s >> 8);
  f[25] = (uint8_t)s;
  return 0;
}

static void *forward(void *arg) {
  struct queue *q = arg;
  static _Thread_local uint8_t frames[BATCH][FRAME];
  ssize_t lens[BATCH];
  struct pollfd p = {.fd = q->in, .events = POLLIN};
  while (!atomic_load(&stopping)) {
    if (poll(&p, 1, 100) <= 0) continue;
    int n = 0;
    while (n < BATCH) {
      ssize_t r = read(q->in, frames[n], FRAME);
      if (r < 0) break;
      lens[n++] = r;
    }
    for (int i = 0; i < n; i++) {
      if (rewrite(frames[i], lens[i]) == 0 && write(q->out, frames[i], (size_t)lens[i]) == lens[i]) q->forwarded++;
      else q->dropped++;
    }
  }
  return NULL;
}

static void on_term(int sig) {
  (void)sig;
  atomic_store(&stopping, 1);
}

int main(int argc, char **argv) {
  if (argc != 6 && !(argc == 7 && strcmp(argv[6], "pin") == 0)) {
    fprintf(stderr, "usage: tap-mq IN_TAP OUT_TAP QUEUES DST_MAC SRC_MAC [pin]\n");
    return 2;
  }
  int nq = atoi(argv[3]);
  if (nq < 1 || nq > MAX_QUEUES || parse_mac(argv[4], dst_mac) || parse_mac(argv[5], src_mac)) {
    fprintf(stderr, "tap-mq: QUEUES is 1..%d, MACs are xx:xx:xx:xx:xx:xx\n", MAX_QUEUES);
    return 2;
  }
  static struct queue qs[MAX_QUEUES];
  for (int k = 0; k < nq; k++) {
    qs[k].in = tap_queue(argv[1]);
    qs[k].out = tap_queue(argv[2]);
  }
  printf("ready\n");
  fflush(stdout);
  char line[16];
  if (!fgets(line, sizeof line, stdin)) return 1;
  struct sigaction sa = {.sa_handler = on_term}; /* no SA_RESTART: a signal ends the fgets below */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  for (int k = 0; k < nq; k++) {
    pthread_create(&qs[k].thread, NULL, forward, &qs[k]);
    if (argc == 7) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET((int)((k + 1) % cpus), &set);
      pthread_setaffinity_np(qs[k].thread, sizeof set, &set);
    }
  }
  while (!atomic_load(&stopping) && fgets(line, sizeof line, stdin)) {
  }
  atomic_store(&stopping, 1);
  long dropped = 0;
  printf("{\"queues\":%d,\"forwarded\":[", nq);
  for (int k = 0; k < nq; k++) {
    pthread_join(qs[k].thread, NULL);
    printf("%s%ld", k ? "," : "", qs[k].forwarded);
    dropped += qs[k].dropped;
  }
  printf("],\"dropped\":%ld}\n", dropped); /* not IPv4, TTL ≤ 1, or the output queue refused it */
  return 0;
}
