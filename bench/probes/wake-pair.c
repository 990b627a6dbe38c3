/*
 * wake-pair — what one wake-up round trip costs on this machine, with no network and no router: process A
 * (pinned to CPU0) writes a byte into a pipe, process B, asleep in read(2), wakes and writes it back, and
 * A times the round trip, sleeping GAP µs before each. It is the smallest piece of an echo through a
 * userspace router: ping's frame wakes the router, the router's reply wakes ping (BENCHMARKS.md, "An idle
 * echo's floor"). Three placements of B, taken in turn within each round so that drift hits all alike:
 *   same      B on CPU0 too: both wake-ups are local, no inter-processor interrupt
 *   other     B on CPU1: each wake-up is an interrupt to a CPU that has gone idle (halted)
 *   spinning  B on CPU1, and each CPU also runs a SCHED_IDLE busy loop, so neither halts while it waits;
 *             the wake-ups are still cross-CPU interrupts
 * Run it with bench/probes/wake-pair.sh, which builds it.
 *   wake-pair ECHOES ROUNDS GAP_US...      prints JSON (µs: p10, median, p90 per placement and gap)
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define MAX_SAMPLES 100000
enum { SAME, OTHER, SPINNING, PLACEMENTS };
static const char *const names[PLACEMENTS] = {"same", "other", "spinning"};

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void pin(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  if (sched_setaffinity(0, sizeof s, &s) != 0) {
    perror("wake-pair: sched_setaffinity");
    _exit(1);
  }
}

/* A SCHED_IDLE busy loop on cpu: it runs only when nothing else wants the CPU, so the CPU never halts. */
static pid_t spinner(int cpu) {
  pid_t p = fork();
  if (p == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives the probe */
    pin(cpu);
    struct sched_param sp = {0};
    sched_setscheduler(0, SCHED_IDLE, &sp);
    for (volatile unsigned long i = 0;; i++) {
    }
  }
  return p;
}

/* B: echoes each byte back until its pipe closes. */
static pid_t partner(int cpu, int in[2], int out[2]) {
  pid_t p = fork();
  if (p == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    close(in[1]);
    close(out[0]);
    pin(cpu);
    char c;
    while (read(in[0], &c, 1) == 1)
      if (write(out[1], &c, 1) != 1) break;
    _exit(0);
  }
  close(in[0]);
  close(out[1]);
  return p;
}

/* echoes round trips with B placed as asked, gap µs apart; each round trip's µs appended to samples. */
static int measure(int placement, int echoes, int gap, double *samples) {
  pid_t spin[2] = {0, 0};
  if (placement == SPINNING) { /* before the pipes, which they must not hold open */
    spin[0] = spinner(0);
    spin[1] = spinner(1);
  }
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) return -1;
  pid_t b = partner(placement == SAME ? 0 : 1, in, out);
  char c = 'x';
  int ok = 0;
  for (int i = 0; i < echoes; i++) {
    usleep((useconds_t)gap);
    double t = now_us();
    if (write(in[1], &c, 1) != 1 || read(out[0], &c, 1) != 1) break;
    samples[ok++] = now_us() - t;
  }
  close(in[1]);
  close(out[0]);
  waitpid(b, NULL, 0);
  for (int k = 0; k < 2; k++)
    if (spin[k] > 0) {
      kill(spin[k], SIGKILL);
      waitpid(spin[k], NULL, 0);
    }
  return ok == echoes ? ok : -1;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: wake-pair ECHOES ROUNDS GAP_US...\n");
    return 2;
  }
  int echoes = atoi(argv[1]), rounds = atoi(argv[2]), gaps = argc - 3;
  if (echoes < 10 || rounds < 1 || (long)echoes * rounds > MAX_SAMPLES) {
    fprintf(stderr, "wake-pair: ECHOES must be at least 10, ROUNDS at least 1, and ECHOES × ROUNDS at most %d\n", MAX_SAMPLES);
    return 2;
  }
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
    fprintf(stderr, "wake-pair: needs two CPUs (CPU0 and CPU1)\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN); /* a partner that could not start makes the write fail, not kill the probe */
  pin(0);
  static double samples[PLACEMENTS][MAX_SAMPLES];
  printf("{\"echoes\":%d,\"rounds\":%d,\"gaps\":[", echoes, rounds);
  for (int g = 0; g < gaps; g++) {
    int gap = atoi(argv[3 + g]);
    if (gap < 0 || gap > 1000000) {
      fprintf(stderr, "wake-pair: GAP_US %s is not 0..1000000\n", argv[3 + g]);
      return 2;
    }
    for (int r = 0; r < rounds; r++)
      for (int p = 0; p < PLACEMENTS; p++)
        if (measure(p, echoes, gap, samples[p] + (size_t)r * echoes) < 0) {
          fprintf(stderr, "wake-pair: the %s round trip failed\n", names[p]);
          return 1;
        }
    int n = echoes * rounds;
    printf("%s{\"gapUs\":%d", g ? "," : "", gap);
    for (int p = 0; p < PLACEMENTS; p++) {
      qsort(samples[p], (size_t)n, sizeof samples[p][0], by_value);
      printf(",\"%s\":{\"p10\":%.1f,\"median\":%.1f,\"p90\":%.1f}", names[p], samples[p][n / 10], samples[p][n / 2], samples[p][n * 9 / 10]);
    }
    printf("}");
  }
  printf("]}\n");
  return 0;
}
