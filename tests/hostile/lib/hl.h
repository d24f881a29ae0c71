/*
 * The hostile test guests' shared library: just enough of a guest kernel to
 * boot on airlock's VMM (boot ABI of include/airlock/boot.h) and reach its
 * virtio-vsock device, so that each guest in tests/hostile/ can do its one
 * evil thing in a few lines. Nothing here is careful on purpose: the VMM
 * must survive whatever these guests do.
 *
 * Each guest defines hostile_main. When it returns, the guest halts with
 * nothing to wait for, which the VMM reports as an error (exit 125): a
 * guest that expected the VMM to stop it earlier shows up in the message.
 */
#ifndef HOSTILE_HL_H
#define HOSTILE_HL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "airlock/boot.h"
#include "airlock/proto.h"
#include "airlock/virtio.h"

#define HL_QSIZE 256u /* the VMM's largest queue */

void hostile_main(struct al_bootinfo *bi);

/* Halts for good: `hlt` with no wake-up time, again after every wake. */
void hl_halt(void) __attribute__((noreturn));
/* A self-check of the guest failed: ends the VM with a port I/O exit at
 * port 0xbad0 + code, which the test sees in airlock's message. */
void hl_fail(unsigned code) __attribute__((noreturn));
void hl_outb(uint16_t port, uint8_t v);
uint64_t hl_rand(void); /* xorshift, fixed seed: runs are reproducible */

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

/* virtio-mmio registers of the current device: the one in slot 0
 * (virtio-vsock) until hl_use_device picks the first of another kind. */
void hl_use_device(uint32_t device_id);
uint32_t hl_reg_read(uint32_t off);
void hl_reg_write(uint32_t off, uint32_t v);
/* Reset, ACKNOWLEDGE, DRIVER, VERSION_1, FEATURES_OK. */
void hl_virtio_init(void);
/* Programs queue q's size and ring addresses, without making it ready. */
void hl_queue_set(unsigned q, uint32_t num, uint64_t desc, uint64_t avail,
		  uint64_t used);
void hl_queue_ready(unsigned q);
void hl_driver_ok(void);
void hl_notify(unsigned q);

/* One split virtqueue whose rings the guest builds by hand. */
struct hl_vq {
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	volatile struct virtq_used *used;
	unsigned index;
};

/* Rings in the guest's own memory for queue q, set up and made ready. */
void hl_vq_setup(struct hl_vq *vq, unsigned q);
/* Makes chain `head` available (no notify). */
void hl_vq_publish(struct hl_vq *vq, uint16_t head);

/*
 * virtio-vsock with rings in guest memory: hl_vsock_up brings the device to
 * DRIVER_OK with RX and TX ready. hl_tx sends one packet (header, then
 * payload if len > 0) and notifies; hl_tx_post only publishes it.
 */
extern struct hl_vq hl_rx, hl_tx_q;
void hl_vsock_up(void);
void hl_hdr(struct virtio_vsock_hdr *h, uint32_t host_port, uint16_t op,
	    uint32_t len);
void hl_tx_post(const struct virtio_vsock_hdr *h, const void *payload,
		uint32_t len);
void hl_tx(const struct virtio_vsock_hdr *h, const void *payload,
	   uint32_t len);
void hl_connect(uint32_t host_port, uint32_t buf_alloc);
void hl_send(uint32_t host_port, const void *p, uint32_t len);
/* One control message (proto.h framing) on the control stream. */
void hl_send_msg(uint16_t type, const void *payload, uint32_t len);
/* Connects the control stream and says READY; the VMM then sends the job
 * and waits for its RESULT. */
void hl_ready(void);
/* Posts an RX buffer of len device-writable bytes. */
void hl_rx_post(void *buf, uint32_t len);
/* Copies the header of the next packet the device put in RX; 0 if none. */
int hl_rx_next(struct virtio_vsock_hdr *h);

#endif
