/*
 * A send-mostly virtio-vsock driver: packets go out in two-descriptor
 * chains (header, payload). The VMM completes TX synchronously on the
 * notify, so chain slots are reused round-robin without waiting.
 */
#include "hl.h"

struct hl_vq hl_rx, hl_tx_q;

#define TX_SLOTS (HL_QSIZE / 2)
static struct virtio_vsock_hdr tx_hdr[TX_SLOTS];
static uint16_t rx_next, rx_seen;

void hl_vsock_up(void)
{
	rx_next = rx_seen = 0;
	hl_virtio_init();
	hl_vq_setup(&hl_rx, VIRTIO_VSOCK_QUEUE_RX);
	hl_vq_setup(&hl_tx_q, VIRTIO_VSOCK_QUEUE_TX);
	hl_driver_ok();
}

void hl_hdr(struct virtio_vsock_hdr *h, uint32_t host_port, uint16_t op,
	    uint32_t len)
{
	memset(h, 0, sizeof(*h));
	h->src_cid = AL_GUEST_CID;
	h->dst_cid = AL_HOST_CID;
	h->src_port = AL_GUEST_PORT(host_port);
	h->dst_port = host_port;
	h->len = len;
	h->type = VIRTIO_VSOCK_TYPE_STREAM;
	h->op = op;
}

void hl_tx_post(const struct virtio_vsock_hdr *h, const void *payload,
		uint32_t len)
{
	uint16_t slot = hl_tx_q.avail->idx % TX_SLOTS;
	struct virtq_desc *d = &hl_tx_q.desc[2 * slot];

	tx_hdr[slot] = *h;
	d[0] = (struct virtq_desc){.addr = (uint64_t)&tx_hdr[slot],
				   .len = sizeof(*h)};
	if (len) {
		d[0].flags = VIRTQ_DESC_F_NEXT;
		d[0].next = (uint16_t)(2 * slot + 1);
		d[1] = (struct virtq_desc){.addr = (uint64_t)payload,
					   .len = len};
	}
	hl_vq_publish(&hl_tx_q, (uint16_t)(2 * slot));
}

void hl_tx(const struct virtio_vsock_hdr *h, const void *payload,
	   uint32_t len)
{
	hl_tx_post(h, payload, len);
	hl_notify(VIRTIO_VSOCK_QUEUE_TX);
}

void hl_connect(uint32_t host_port, uint32_t buf_alloc)
{
	struct virtio_vsock_hdr h;
	hl_hdr(&h, host_port, VIRTIO_VSOCK_OP_REQUEST, 0);
	h.buf_alloc = buf_alloc;
	hl_tx(&h, NULL, 0);
}

void hl_send(uint32_t host_port, const void *p, uint32_t len)
{
	struct virtio_vsock_hdr h;
	hl_hdr(&h, host_port, VIRTIO_VSOCK_OP_RW, len);
	hl_tx(&h, p, len);
}

void hl_send_msg(uint16_t type, const void *payload, uint32_t len)
{
	static uint8_t buf[sizeof(struct al_msg_hdr) + 1024];
	struct al_msg_hdr m = {.magic = AL_MSG_MAGIC,
			       .version = AL_PROTO_VERSION,
			       .type = type,
			       .len = len};

	if (len > sizeof(buf) - sizeof(m))
		hl_fail(1);
	memcpy(buf, &m, sizeof(m));
	memcpy(buf + sizeof(m), payload, len);
	hl_send(AL_PORT_CONTROL, buf, (uint32_t)sizeof(m) + len);
}

void hl_ready(void)
{
	hl_vsock_up();
	hl_connect(AL_PORT_CONTROL, 0);
	hl_send_msg(AL_MSG_READY, NULL, 0);
}

void hl_rx_post(void *buf, uint32_t len)
{
	uint16_t i = rx_next++ % HL_QSIZE;
	hl_rx.desc[i] = (struct virtq_desc){
	    .addr = (uint64_t)buf, .len = len, .flags = VIRTQ_DESC_F_WRITE};
	hl_vq_publish(&hl_rx, i);
}

int hl_rx_next(struct virtio_vsock_hdr *h)
{
	if (hl_rx.used->idx == rx_seen)
		return 0;
	uint32_t id = hl_rx.used->ring[rx_seen++ % HL_QSIZE].id;
	memcpy(h, (const void *)hl_rx.desc[id % HL_QSIZE].addr, sizeof(*h));
	return 1;
}
