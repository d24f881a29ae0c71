/*
 * The longest chain a guest can build: every descriptor of the largest
 * queue linked to the next, the last pointing one past the table (a chain
 * of 2^16 entries can only be built by revisiting, see descriptor_loop).
 * Each descriptor is a valid, tiny buffer, so only the chain bound stops it.
 */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	static uint8_t byte[HL_QSIZE];

	(void)bi;
	hl_vsock_up();
	for (unsigned i = 0; i < HL_QSIZE; i++)
		hl_tx_q.desc[i] = (struct virtq_desc){
		    .addr = (uint64_t)&byte[i],
		    .len = 1,
		    .flags = VIRTQ_DESC_F_NEXT,
		    .next = (uint16_t)(i + 1)};
	hl_vq_publish(&hl_tx_q, 0);
	hl_notify(VIRTIO_VSOCK_QUEUE_TX);
}
