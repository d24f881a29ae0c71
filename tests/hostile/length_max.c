/* A descriptor of 0xffffffff bytes: address + length must be checked
 * without overflow, and no length may size a host allocation. */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	(void)bi;
	hl_vsock_up();
	hl_tx_q.desc[0] = (struct virtq_desc){.addr = AL_JOB_GPA,
					      .len = 0xffffffffu};
	hl_vq_publish(&hl_tx_q, 0);
	hl_notify(VIRTIO_VSOCK_QUEUE_TX);
}
