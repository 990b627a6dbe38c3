/* netns — running a step of this thread inside another network namespace (see netns.c). */
#ifndef WRIO_NETNS_H
#define WRIO_NETNS_H

/* Moves this thread into the network namespace at path (e.g. /run/netns/NS); *home gets a handle on the
   one it left. 0, or an errno (the thread has not moved). */
int netns_enter(const char *path, int *home);
/* Moves this thread back (home from netns_enter) and closes the handle. Aborts if it cannot: a thread
   left in the wrong namespace must not go on. */
void netns_leave(int home);

#endif
