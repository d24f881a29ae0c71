/*
 * Resets the device while the host still holds its earlier output, then
 * connects again and uses all the credit the host announces, and no more.
 * A host that forgot what it still buffers would overrun its own buffer
 * (it did: "stdout buffer overrun"); the output must arrive whole.
 */
#include "hl.h"

#define CHUNK 50000u

static uint8_t text[CHUNK];
static uint8_t rx_buf[4][64];

/* Connects stdout; the credit its RESPONSE grants. */
static uint32_t connect_stdout(void)
{
	struct virtio_vsock_hdr h;
	for (int i = 0; i < 4; i++)
		hl_rx_post(rx_buf[i], sizeof(rx_buf[i]));
	hl_connect(AL_PORT_STDOUT, 0);
	while (hl_rx_next(&h))
		if (h.op == VIRTIO_VSOCK_OP_RESPONSE)
			return h.buf_alloc - (0u - h.fwd_cnt);
	hl_fail(5);
}

static void send_stdout(uint32_t n)
{
	for (uint32_t k; n > 0; n -= k) {
		k = n < CHUNK ? n : CHUNK;
		hl_send(AL_PORT_STDOUT, text, k);
	}
}

void hostile_main(struct al_bootinfo *bi)
{
	(void)bi;
	memset(text, 'r', sizeof(text));
	hl_vsock_up();
	uint32_t credit = connect_stdout();
	send_stdout(credit < 4 * CHUNK ? credit : 4 * CHUNK);
	hl_vsock_up(); /* starts with a reset */
	send_stdout(connect_stdout());
}
