/* napi_exports — how each file of the addon adds its functions to the module's exports. */
#ifndef WRIO_NAPI_EXPORTS_H
#define WRIO_NAPI_EXPORTS_H
#include <node_api.h>
#include <stddef.h>

typedef struct {
  const char *name;
  napi_callback fn;
} export_fn;

static inline void export_functions(napi_env env, napi_value exports, const export_fn *fns, size_t n) {
  for (size_t i = 0; i < n; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
}

/* EXPORT_FUNCTIONS(env, exports, {"name", fn}, …) */
#define EXPORT_FUNCTIONS(env, exports, ...)                                        \
  do {                                                                             \
    static const export_fn fns_[] = {__VA_ARGS__};                                 \
    export_functions((env), (exports), fns_, sizeof fns_ / sizeof fns_[0]);        \
  } while (0)

#endif
