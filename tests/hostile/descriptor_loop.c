/* Descriptor 0 -> 1 -> 0 -> ...: a walk that never ends unless bounded. */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	static struct virtio_vsock_hdr h;

	(void)bi;
	hl_vsock_up();
	hl_hdr(&h, AL_PORT_CONTROL, VIRTIO_VSOCK_OP_REQUEST, 0);
	hl_tx_q.desc[0] = (struct virtq_desc){.addr = (uint64_t)&h,
					      .len = sizeof(h),
					      .flags = VIRTQ_DESC_F_NEXT,
					      .next = 1};
	hl_tx_q.desc[1] = (struct virtq_desc){
	    .addr = (uint64_t)&h, .len = 8, .flags = VIRTQ_DESC_F_NEXT};
	hl_vq_publish(&hl_tx_q, 0);
	hl_notify(VIRTIO_VSOCK_QUEUE_TX);
}
