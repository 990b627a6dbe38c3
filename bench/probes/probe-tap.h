/* probe-tap.h — what the tap probes (tap-write.c, tap-read.c) share: attaching to a tap, and a clock. */
#ifndef PROBE_TAP_H
#define PROBE_TAP_H
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>

/* Attaches to the tap `name` (IFF_TAP | IFF_NO_PI, non-blocking): its fd, or -1 with the reason on stderr. */
static inline int probe_tap_open(const char *name) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
    perror(name);
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

/* Seconds on the monotonic clock. */
static inline double probe_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}
#endif
