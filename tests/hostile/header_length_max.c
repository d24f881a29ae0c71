/* A well-formed chain whose packet header claims 0xffffffff payload
 * bytes. */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	static uint8_t payload[64];
	struct virtio_vsock_hdr h;

	(void)bi;
	hl_vsock_up();
	hl_connect(AL_PORT_STDOUT, 0);
	hl_hdr(&h, AL_PORT_STDOUT, VIRTIO_VSOCK_OP_RW, 0xffffffffu);
	hl_tx(&h, payload, sizeof(payload));
}
