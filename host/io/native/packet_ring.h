/* packet_ring.c: the PACKET_RX_RING (TPACKET_V2) receive path of a packet port. */
#ifndef WASMROUTE_PACKET_RING_H
#define WASMROUTE_PACKET_RING_H
#include <stdint.h>

/* Whether WASMROUTE_NO_RING asks for recvmmsg instead of rings. */
int packet_ring_disabled(void);
/* Sets a TPACKET_V2 receive ring up on packet socket fd, for frames up to frame_bytes (vnet: the socket
   has PACKET_VNET_HDR, each slot also holds the header): 0, or an errno. */
int packet_ring_attach(int fd, unsigned frame_bytes, int vnet);
/* Whether fd reads through a ring. */
int packet_ring_has(int fd);
/* Unmaps fd's ring (before fd is closed). */
void packet_ring_detach(int fd);
/* Up to max frames from fd's ring: frame i copied to dst + i·slot (cut to slot), lens[i], flags[i] if flags.
   *cut grows by the frames handed on cut (longer than their ring slot or than slot). */
int packet_ring_recv(int fd, uint8_t *dst, int slot, int max, int32_t *lens, uint8_t *flags, unsigned *cut);
/* A vnet ring's frames packed as recvPacked packs them (64-byte aligned, while frame_max still fits in
   bytes): frame i at dst + offs[i], its header at vnet + i·vnet_stride, flags[i] bit 0 = NEEDS_CSUM.
   *cut grows by the frames handed on cut (not queued whole: the receive buffer was full). */
int packet_ring_recv_packed(int fd, uint8_t *dst, int bytes, int frame_max, int max, int32_t *lens, uint8_t *flags, uint8_t *vnet, int vnet_stride, uint32_t *offs, unsigned *cut);

#endif
