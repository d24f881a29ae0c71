/*
 * Packets of every kind for connections that do not exist, far more than
 * the device has room to answer, while the guest reads none of the RSTs.
 */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	static uint8_t payload[256];
	struct virtio_vsock_hdr h;

	(void)bi;
	hl_vsock_up();
	for (unsigned i = 0; i < 20000; i++) {
		uint64_t r = hl_rand();
		uint32_t port = (uint32_t)r;
		hl_hdr(&h, port, (uint16_t)(1 + (r >> 32) % 7),
		       (uint32_t)(r >> 40) % sizeof(payload));
		h.src_port = (uint32_t)(r >> 16);
		h.type = (r >> 56) & 1 ? VIRTIO_VSOCK_TYPE_STREAM : 2;
		hl_tx_post(&h, payload, h.len);
		if (i % 64 == 63)
			hl_notify(VIRTIO_VSOCK_QUEUE_TX);
	}
	hl_notify(VIRTIO_VSOCK_QUEUE_TX);
}
