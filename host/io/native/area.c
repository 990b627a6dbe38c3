/*
 * area — a receive area and a transmit list bound once, so that a batch call takes an fd and counts
 * instead of arrays. recvPacked takes 10 arguments, and an empty read of a receive ring cost 183 ns
 * through it against 43 ns through recvArea; the poll loop reads every port once a pass and sends once
 * an output batch, and when the router keeps up a batch is a few frames (BENCHMARKS.md, "Arrays bound
 * once").
 *
 *   areaBind(buf, rxOffset, rxBytes, slot, frameMax, max, lens, flags, vnet, offs, txOffsets, txLens, txVnet)
 *                        -> area   buf: an ArrayBuffer (the core's memory); every array a view into it.
 *                                  The receive area is recvBatch's and recvPacked's: max slots of slot
 *                                  bytes, or rxBytes packed while frameMax fits, at buf + rxOffset.
 *   recvArea(area, fd, packed)       -> n      recvBatch (packed false) or recvPacked (true, with vnet).
 *   sendArea(area, fd, start, n, withVnet) -> sent   sendList of the list's entries start … start+n-1.
 *
 * An area holds a reference to its buffer. When the memory grows, the old buffer is detached (or the
 * memory moved): recvArea and sendArea then throw instead of touching it, and the caller binds anew.
 *
 * | field            | what                                                  |
 * |------------------|-------------------------------------------------------|
 * | buf_ref, base, len | the ArrayBuffer as bound; checked on every call      |
 * | rx, rx_bytes     | the receive area (base + rxOffset), its bytes          |
 * | slot, frame_max, max | slot bytes, the largest packed frame, frames a batch |
 * | lens, flags, vnet, offs | per-frame arrays of the receive area            |
 * | tx_offs, tx_lens, tx_count | the transmit list (dp_tx_result's arrays)     |
 * | tx_vnet, tx_vnet_count | its vnet headers (VNET_STRIDE bytes each)         |
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include "frames.h"
#include "throw_errno.h"
#include "napi_exports.h"

typedef struct {
  napi_ref buf_ref;
  uint8_t *base;
  size_t len;
  uint8_t *rx;
  int32_t rx_bytes, slot, frame_max, max;
  int32_t *lens;
  uint8_t *flags, *vnet;
  uint32_t *offs;
  const uint32_t *tx_offs;
  const int32_t *tx_lens;
  size_t tx_count;
  const uint8_t *tx_vnet;
  size_t tx_vnet_count;
} area_t;

static void area_free(napi_env env, void *data, void *hint) {
  area_t *a = data;
  napi_delete_reference(env, a->buf_ref);
  free(a);
}

/* A typed array lying inside [base, base + len): its data and byte length; 0 if not. */
static int view_in(napi_env env, napi_value v, const uint8_t *base, size_t len, uint8_t **data, size_t *bytes) {
  return typed_bytes(env, v, data, bytes) && *data >= base && *data + *bytes <= base + len;
}

static napi_value area_bind(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  const char *usage = "areaBind(buf, rxOffset, rxBytes, slot, frameMax, max, lens, flags, vnet, offs, txOffsets, txLens, txVnet): ";
  bool is_ab = false;
  if (argc == 13) napi_is_arraybuffer(env, argv[0], &is_ab);
  void *base;
  size_t len;
  if (!is_ab || napi_get_arraybuffer_info(env, argv[0], &base, &len) != napi_ok || len == 0) {
    char m[200];
    snprintf(m, sizeof m, "%sbuf must be an ArrayBuffer with bytes", usage);
    napi_throw_type_error(env, NULL, m);
    return NULL;
  }
  int32_t v[5];
  for (int i = 0; i < 5; i++) {
    if (napi_get_value_int32(env, argv[1 + i], &v[i]) != napi_ok || v[i] < 0 || (i > 0 && v[i] == 0)) {
      char m[200];
      snprintf(m, sizeof m, "%sargument %d must be a count", usage, 2 + i);
      napi_throw_range_error(env, NULL, m);
      return NULL;
    }
  }
  int32_t rx_off = v[0], rx_bytes = v[1], slot = v[2], frame_max = v[3], max = v[4];
  uint8_t *arr[7];
  size_t bytes[7];
  for (int i = 0; i < 7; i++) {
    if (!view_in(env, argv[6 + i], base, len, &arr[i], &bytes[i])) {
      char m[200];
      snprintf(m, sizeof m, "%sargument %d must be a typed array inside buf", usage, 7 + i);
      napi_throw_range_error(env, NULL, m);
      return NULL;
    }
  }
  size_t m = (size_t)max;
  if ((size_t)rx_off + (size_t)rx_bytes > len || (size_t)rx_off + (size_t)slot * m > len || (size_t)frame_max > (size_t)rx_bytes ||
      bytes[0] < m * 4 || bytes[1] < m || bytes[2] < m * VNET_STRIDE || bytes[3] < m * 4) {
    char msg[200];
    snprintf(msg, sizeof msg, "%sthe receive area or its arrays are out of bounds", usage);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  area_t *a = calloc(1, sizeof *a);
  if (!a) return throw_errno(env, "areaBind", ENOMEM);
  a->base = base;
  a->len = len;
  a->rx = a->base + rx_off;
  a->rx_bytes = rx_bytes;
  a->slot = slot;
  a->frame_max = frame_max;
  a->max = max;
  a->lens = (int32_t *)arr[0];
  a->flags = arr[1];
  a->vnet = arr[2];
  a->offs = (uint32_t *)arr[3];
  a->tx_offs = (const uint32_t *)arr[4];
  a->tx_lens = (const int32_t *)arr[5];
  a->tx_count = (bytes[4] < bytes[5] ? bytes[4] : bytes[5]) / 4;
  a->tx_vnet = arr[6];
  a->tx_vnet_count = bytes[6] / VNET_STRIDE;
  napi_value ext;
  if (napi_create_reference(env, argv[0], 1, &a->buf_ref) != napi_ok || napi_create_external(env, a, area_free, NULL, &ext) != napi_ok) {
    free(a);
    return throw_errno(env, "areaBind", ENOMEM);
  }
  return ext;
}

/* The area in v if its buffer is still the one bound (not detached by a grown memory, not moved). */
static area_t *area_arg(napi_env env, napi_value v) {
  area_t *a = NULL;
  napi_value b;
  void *d = NULL;
  size_t len = 0;
  if (napi_get_value_external(env, v, (void **)&a) != napi_ok || !a) {
    napi_throw_type_error(env, NULL, "area: not an area from areaBind");
    return NULL;
  }
  if (napi_get_reference_value(env, a->buf_ref, &b) != napi_ok || !b || napi_get_arraybuffer_info(env, b, &d, &len) != napi_ok ||
      d != a->base || len < a->len) {
    napi_throw_error(env, NULL, "area: its memory grew or moved since areaBind; bind it again");
    return NULL;
  }
  return a;
}

/* The call's want arguments into argv, and its area (the first), or NULL with an error thrown. */
static area_t *area_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *usage) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != want) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  return area_arg(env, argv[0]);
}

/* recvArea(area, fd, packed) -> n */
static napi_value recv_area(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  area_t *a = area_args(env, info, 3, argv, "recvArea(area, fd, packed)");
  if (!a) return NULL;
  int32_t fd;
  bool packed;
  if (napi_get_value_int32(env, argv[1], &fd) != napi_ok || napi_get_value_bool(env, argv[2], &packed) != napi_ok) {
    napi_throw_type_error(env, NULL, "recvArea(area, fd, packed): fd a number, packed a boolean");
    return NULL;
  }
  const char *what = "";
  int r = packed ? frames_recv_packed(fd, a->rx, a->rx_bytes, a->frame_max, a->max, a->lens, a->flags, a->vnet, a->offs, &what)
                 : frames_recv_slots(fd, a->rx, a->slot, a->max, a->lens, a->flags, &what);
  return count_or_throw(env, r, what);
}

/* sendArea(area, fd, start, n, withVnet) -> sent */
static napi_value send_area(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  area_t *a = area_args(env, info, 5, argv, "sendArea(area, fd, start, n, withVnet)");
  if (!a) return NULL;
  int32_t fd, start, count;
  bool with_vnet;
  if (napi_get_value_int32(env, argv[1], &fd) != napi_ok || napi_get_value_int32(env, argv[2], &start) != napi_ok ||
      napi_get_value_int32(env, argv[3], &count) != napi_ok || napi_get_value_bool(env, argv[4], &with_vnet) != napi_ok ||
      start < 0 || count < 0 || (size_t)start + (size_t)count > a->tx_count || (with_vnet && (size_t)start + (size_t)count > a->tx_vnet_count)) {
    napi_throw_range_error(env, NULL, "sendArea(area, fd, start, n, withVnet): entries out of the list");
    return NULL;
  }
  return send_list_frames(env, fd, a->base, a->len, a->tx_offs + start, a->tx_lens + start, count, with_vnet ? a->tx_vnet + (size_t)start * VNET_STRIDE : NULL, "sendArea");
}

void area_register(napi_env env, napi_value exports) {
  EXPORT_FUNCTIONS(env, exports, {"areaBind", area_bind}, {"recvArea", recv_area}, {"sendArea", send_area});
}
