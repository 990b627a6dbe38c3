/*
 * netns — a step of this thread run inside another network namespace: a socket or a /proc/net file
 * opened there stays bound to that namespace after the thread has come back. setns(CLONE_NEWNET) moves
 * only the calling thread, so the rest of the process never sees the switch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>
#include "netns.h"

int netns_enter(const char *path, int *home) {
  int h = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (h < 0) return errno;
  int there = open(path, O_RDONLY | O_CLOEXEC);
  if (there < 0 || setns(there, CLONE_NEWNET) < 0) {
    int e = errno;
    if (there >= 0) close(there);
    close(h);
    return e;
  }
  close(there);
  *home = h;
  return 0;
}

void netns_leave(int home) {
  if (setns(home, CLONE_NEWNET) < 0) abort();
  close(home);
}
