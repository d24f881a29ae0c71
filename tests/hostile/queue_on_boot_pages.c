/*
 * Rings on the boot pages, overlapping each other: the descriptor table is
 * the IDT page and the used ring lies on top of it, so the device's own
 * used-ring write turns descriptor 0 into a zero-length header. The VMM may
 * write only guest RAM, and must refuse the chain it then finds.
 */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	(void)bi;
	static struct virtio_vsock_hdr h;
	struct virtq_desc *desc = (struct virtq_desc *)AL_IDT_GPA;
	struct virtq_avail *avail = (struct virtq_avail *)(AL_BOOTINFO_GPA + 0x800);

	hl_virtio_init();
	hl_queue_set(VIRTIO_VSOCK_QUEUE_TX, 16, AL_IDT_GPA,
		     AL_BOOTINFO_GPA + 0x800, AL_IDT_GPA);
	hl_queue_ready(VIRTIO_VSOCK_QUEUE_TX);
	hl_driver_ok();
	hl_hdr(&h, 12345, VIRTIO_VSOCK_OP_RST, 0);
	desc[0] = (struct virtq_desc){.addr = (uint64_t)&h, .len = sizeof(h)};
	/* The second time round, descriptor 0 is what the device's used-ring
	 * write made of it. */
	for (int round = 0; round < 2; round++) {
		avail->ring[avail->idx % 16] = 0;
		avail->idx++;
		hl_notify(VIRTIO_VSOCK_QUEUE_TX);
	}
}
