/*
 * tap-write — frames per second written into a tap by host/io/native/uring.c, through io_uring and
 * through write(2) (uring_enable(0)), batch by batch, alternating, in one process. The tap's kernel side
 * is up with an address in its own wr- namespace; the frames (UDP to 198.18.0.x, no route there) are
 * dropped by that kernel's input path, so this measures the write and the kernel's receive, nothing else.
 * Run it with bench/probes/tap-write.sh (root), which builds it and makes and removes the namespace.
 *   tap-write TAP FRAMES BATCH...
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "probe-tap.h"
#include "../../host/io/native/uring.h"

static int never_lost(int err) {
  (void)err;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: tap-write TAP FRAMES BATCH...\n");
    return 2;
  }
  int fd = probe_tap_open(argv[1]);
  if (fd < 0) return 1;
  long total = atol(argv[2]);
  static uint8_t frames[256][64];
  uint8_t *ptrs[256];
  int32_t lens[256];
  for (int i = 0; i < 256; i++) {
    uint8_t *f = frames[i];
    memset(f, 0, 64);
    memcpy(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00", 14);
    uint8_t ip[20] = {0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0, 10, 99, 0, 2, 198, 18, 0, (uint8_t)i};
    unsigned s = 0;
    for (int k = 0; k < 20; k += 2) s += (unsigned)(ip[k] << 8 | ip[k + 1]);
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    s = ~s & 0xffff;
    ip[10] = (uint8_t)(s >> 8);
    ip[11] = (uint8_t)s;
    memcpy(f + 14, ip, 20);
    ptrs[i] = f;
    lens[i] = 60;
  }
  printf("{\"batches\": [");
  for (int a = 3; a < argc; a++) {
    int batch = atoi(argv[a]);
    if (batch < 1 || batch > 256) batch = 256;
    double us[2] = {0, 0};
    for (int round = 0; round < 3; round++) {
      for (int mode = 0; mode < 2; mode++) {
        uring_enable(mode == 0);
        double t0 = probe_now();
        for (long done = 0; done < total; done += batch)
          if (uring_write_frames(fd, ptrs, lens, batch, NULL, never_lost) != batch) {
            fprintf(stderr, "short write\n");
            return 1;
          }
        us[mode] += (probe_now() - t0) / (double)total * 1e6 / 3;
      }
    }
    printf("%s{\"batch\": %d, \"ioUringUsPerFrame\": %.3f, \"writeUsPerFrame\": %.3f}", a > 3 ? ", " : "", batch, us[0], us[1]);
  }
  printf("]}\n");
  return 0;
}
