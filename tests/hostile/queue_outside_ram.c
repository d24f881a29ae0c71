/* A descriptor table far above guest RAM: refused when the queue is made
 * ready. */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	hl_virtio_init();
	hl_queue_set(VIRTIO_VSOCK_QUEUE_TX, HL_QSIZE, bi->mem_bytes + 0x10000,
		     AL_JOB_GPA, AL_JOB_GPA + 0x1000);
	hl_queue_ready(VIRTIO_VSOCK_QUEUE_TX);
}
