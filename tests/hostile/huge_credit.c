/*
 * Claims 4 GiB of receive credit on stdin (and a forward count from the
 * future), then posts three small receive buffers between canaries. The
 * device may fill each buffer but not a byte more, whatever the credit
 * says; a trampled canary is reported as port 0xbad3.
 */
#include "hl.h"

#define BUF 512
#define CANARY 0xa5

static uint8_t area[3][BUF + 64];

void hostile_main(struct al_bootinfo *bi)
{
	struct virtio_vsock_hdr h;

	(void)bi;
	memset(area, CANARY, sizeof(area));
	hl_vsock_up();
	for (int i = 0; i < 3; i++)
		hl_rx_post(area[i], BUF);
	hl_hdr(&h, AL_PORT_STDIN, VIRTIO_VSOCK_OP_REQUEST, 0);
	h.buf_alloc = 0xffffffffu;
	h.fwd_cnt = 0x80000000u;
	hl_tx(&h, NULL, 0);
	h.op = VIRTIO_VSOCK_OP_CREDIT_UPDATE;
	hl_tx(&h, NULL, 0);
	/* Let the device fill the buffers from stdin. */
	for (int i = 0; i < 20 && hl_rx.used->idx < 3; i++) {
		bi->wake_after_ns = 1000000;
		__asm__ volatile("hlt");
	}
	for (int i = 0; i < 3; i++)
		for (int k = BUF; k < BUF + 64; k++)
			if (area[i][k] != CANARY)
				hl_fail(3);
	for (int i = 0; i < 3; i++)
		if (hl_rx.used->ring[i].len > BUF)
			hl_fail(4);
}
