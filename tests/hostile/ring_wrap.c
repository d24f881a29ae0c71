/*
 * Drives the TX ring index through 2^16 and past it (harmless packets
 * the device ignores), then jumps it 500 entries ahead of the device. The
 * wrap is legal and must pass; the jump must be caught, and the message
 * says by how much, which shows the wrap itself was not the problem.
 */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	static struct virtio_vsock_hdr h;

	(void)bi;
	hl_vsock_up();
	hl_hdr(&h, AL_PORT_CONTROL, VIRTIO_VSOCK_OP_RW, 0);
	h.src_cid = 99; /* not from the guest: the device drops it */
	hl_tx_q.desc[0] = (struct virtq_desc){.addr = (uint64_t)&h,
					      .len = sizeof(h)};
	for (unsigned round = 0; round < 0x10000 / HL_QSIZE + 1; round++) {
		for (unsigned i = 0; i < HL_QSIZE; i++)
			hl_vq_publish(&hl_tx_q, 0);
		hl_notify(VIRTIO_VSOCK_QUEUE_TX);
	}
	if (hl_tx_q.used->idx != hl_tx_q.avail->idx)
		hl_fail(2); /* the device lost count across the wrap */
	hl_tx_q.avail->idx += 500;
	hl_notify(VIRTIO_VSOCK_QUEUE_TX);
}
