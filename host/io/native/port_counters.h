/* port_counters — what a port lost on the way in, per fd (see port_counters.c). */
#ifndef WRIO_PORT_COUNTERS_H
#define WRIO_PORT_COUNTERS_H
#include <node_api.h>

/* Zeroes fd's counters (a new fd, or one being closed). */
void port_counters_reset(int fd);
/* Counts n frames of fd that arrived cut: longer than the room they were read into. */
void port_counters_cut(int fd, unsigned n);
/* Adds portCounters and netDevOpen to the addon's exports. */
void port_counters_register(napi_env env, napi_value exports);

#endif
