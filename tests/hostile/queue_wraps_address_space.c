/* A used ring whose end wraps past 2^64: the range check must not
 * overflow into a small, "valid" address. */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	(void)bi;
	hl_virtio_init();
	hl_queue_set(VIRTIO_VSOCK_QUEUE_TX, HL_QSIZE, AL_JOB_GPA,
		     AL_JOB_GPA + 0x1000, 0xfffffffffffff000ull);
	hl_queue_ready(VIRTIO_VSOCK_QUEUE_TX);
}
