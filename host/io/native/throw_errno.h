/* throw_errno — the addon's one way to fail a call: a JavaScript Error "what: strerror(err)". */
#ifndef WRIO_THROW_ERRNO_H
#define WRIO_THROW_ERRNO_H
#include <node_api.h>
#include <stdio.h>
#include <string.h>

static inline napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[512];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

#endif
