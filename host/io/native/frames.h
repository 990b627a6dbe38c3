/* frames — wrio.c's batch reads and writes, shared with area.c (bound areas). */
#ifndef WRIO_FRAMES_H
#define WRIO_FRAMES_H
#include <stddef.h>
#include <stdint.h>
#include <node_api.h>

/* Frames per recvmmsg/sendmmsg call. */
#define MAX_BATCH 1024
/* Bytes per frame in a vnet-header array (the 10-byte struct virtio_net_hdr, padded to 12). */
#define VNET_STRIDE 12

/* Up to max frames of fd into slots of slot bytes at dst: how many, or -errno (*what: the call). */
int frames_recv_slots(int fd, uint8_t *dst, int slot, int max, int32_t *lens, uint8_t *flags, const char **what);
/* Frames of fd packed (64-byte aligned) into bytes at dst while frame_max fits, vnet headers into vnet
   if given: how many, or -errno (*what: the call). */
int frames_recv_packed(int fd, uint8_t *dst, int bytes, int frame_max, int max, int32_t *lens, uint8_t *flags, uint8_t *vnet, uint32_t *offs, const char **what);
/* Sends count frames (frames[k], lens[k], vnet headers at vnet + k·VNET_STRIDE if vnet): how many went,
   -errno on a hard error; a frame the device refuses is skipped, EAGAIN stops. */
int send_frames(int fd, uint8_t **frames, const int32_t *lens, int count, const uint8_t *vnet);
/* The frame count r as a JavaScript number, or, if r is -errno, an Error "what: strerror" thrown. */
napi_value count_or_throw(napi_env env, int r, const char *what);
/* Sends the count frames at base + offs[k] (lens[k] bytes, vnet headers at vnet + k·VNET_STRIDE if vnet);
   a frame outside base's len bytes throws "what: a frame lies outside the buffer" and sends nothing. */
napi_value send_list_frames(napi_env env, int fd, uint8_t *base, size_t len, const uint32_t *offs, const int32_t *lens, int count, const uint8_t *vnet, const char *what);
/* A typed array's data and byte length; 0 if v is not one. */
int typed_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len);

#endif
