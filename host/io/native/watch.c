/*
 * watch — readiness of a port's fd through the libuv loop (uv_poll), so the host never busy-spins; part of
 * the wrio addon (registered by wrio.c's init through watch_register):
 *
 *   watch(fd, callback)          -> handle; callback(status) on the loop thread whenever fd is readable
 *   watchPause(handle, paused)   stops or restarts a watch's callbacks without closing it (the fd leaves
 *                                the epoll set while paused)
 *   unwatch(handle)              stops it for good and frees it once libuv has closed it
 *
 * One uv_poll per watched fd. The callback is held by a reference until unwatch.
 */
#include <node_api.h>
#include <uv.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include "throw_errno.h"
#include "napi_exports.h"

void watch_register(napi_env env, napi_value exports);

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context ctx;
  int stopped;
} watcher;

static void on_poll(uv_poll_t *p, int status, int events) {
  watcher *w = (watcher *)p->data;
  (void)events;
  if (w->stopped) return;
  napi_handle_scope scope;
  napi_open_handle_scope(w->env, &scope);
  napi_value cb, global, arg, result;
  napi_get_reference_value(w->env, w->callback, &cb);
  napi_get_global(w->env, &global);
  napi_create_int32(w->env, status, &arg);
  napi_make_callback(w->env, w->ctx, global, cb, 1, &arg, &result);
  napi_close_handle_scope(w->env, scope);
}

static void on_closed(uv_handle_t *h) {
  free(h->data);
}

static napi_value watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  napi_valuetype t;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "watch(fd, callback)");
    return NULL;
  }
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  watcher *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, "watch", ENOMEM);
  w->env = env;
  w->poll.data = w;
  napi_create_reference(env, argv[1], 1, &w->callback);
  napi_value name;
  napi_create_string_utf8(env, "wrio.watch", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->ctx);
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r == 0) r = uv_poll_start(&w->poll, UV_READABLE, on_poll);
  if (r != 0) {
    napi_delete_reference(env, w->callback);
    napi_async_destroy(env, w->ctx);
    free(w);
    char msg[128];
    snprintf(msg, sizeof msg, "uv_poll: %s", uv_strerror(r));
    napi_throw_error(env, NULL, msg);
    return NULL;
  }
  napi_value handle;
  napi_create_external(env, w, NULL, NULL, &handle);
  return handle;
}

static napi_value unwatch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  watcher *w = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&w) != napi_ok || !w) {
    napi_throw_type_error(env, NULL, "unwatch(handle)");
    return NULL;
  }
  if (w->stopped) return NULL;
  w->stopped = 1;
  uv_poll_stop(&w->poll);
  napi_delete_reference(env, w->callback);
  napi_async_destroy(env, w->ctx);
  uv_close((uv_handle_t *)&w->poll, on_closed);
  return NULL;
}

/* watchPause(handle, paused): stops (epoll_ctl DEL at once, uv__platform_invalidate_fd) or restarts (ADD
   at the loop's next poll, level-triggered: frames already waiting report at once) the callbacks of a
   watch without closing it. While the fd sits in an epoll set, every frame the kernel queues for it
   runs ep_poll_callback on the CPU that queued it (the sender's), under an irq-saving lock: the data
   plane pauses its watches while its poll loop reads the ports anyway. */
static napi_value watch_pause(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  watcher *w = NULL;
  bool paused = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_external(env, argv[0], (void **)&w) != napi_ok || !w || napi_get_value_bool(env, argv[1], &paused) != napi_ok) {
    napi_throw_type_error(env, NULL, "watchPause(handle, paused)");
    return NULL;
  }
  if (w->stopped) return NULL;
  int r = paused ? uv_poll_stop(&w->poll) : uv_poll_start(&w->poll, UV_READABLE, on_poll);
  if (r != 0) {
    char msg[128];
    snprintf(msg, sizeof msg, "uv_poll: %s", uv_strerror(r));
    napi_throw_error(env, NULL, msg);
  }
  return NULL;
}

void watch_register(napi_env env, napi_value exports) {
  EXPORT_FUNCTIONS(env, exports, {"watch", watch}, {"unwatch", unwatch}, {"watchPause", watch_pause});
}
