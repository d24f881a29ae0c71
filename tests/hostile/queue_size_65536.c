/* A queue of 2^16 entries, beyond both the register and the device's
 * largest queue. */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	(void)bi;
	hl_virtio_init();
	hl_queue_set(VIRTIO_VSOCK_QUEUE_TX, 0x10000, AL_JOB_GPA,
		     AL_JOB_GPA + 0x100000, AL_JOB_GPA + 0x200000);
	hl_queue_ready(VIRTIO_VSOCK_QUEUE_TX);
}
