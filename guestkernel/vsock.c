/*
 * The virtio-vsock driver: four streams to the host (proto.h) and the job's
 * sockets (sock.c), zero-copy in both directions, credit-based flow
 * control, polling only. A connection is an index into conns[]: the four
 * streams first, then one slot per socket.
 *
 * TX: a packet is a chain [header in kernel memory, payload descriptors
 * pointing straight at the bytes to send]. Packets are batched and sent with
 * one QueueNotify; the device consumes every TX chain before the notify
 * returns, so after a flush the whole descriptor table is free again.
 *
 * RX: descriptors 0-3 are header-only "catcher" chains for packets without
 * payload (RESPONSE, CREDIT_UPDATE, SHUTDOWN, RST); descriptor 4 heads the
 * one payload chain, whose buffers are where the bytes must land (a kernel
 * buffer for the job message, the job's own buffer for stdin). The host gets
 * credit only for that chain (proto.h), so its payload cannot land anywhere
 * else; a partly used grant is withdrawn at the head of the next exit.
 */
#include "virtq.h"

#define HDR_SIZE ((uint32_t)sizeof(struct virtio_vsock_hdr))
#define RX_CATCHERS 4
#define RX_PAYLOAD_HEAD RX_CATCHERS
#define RX_MAX_SEGS (GK_VQ_SIZE - RX_CATCHERS - 1)
#define EVQ_BUFS 4

/* A socket's local port: SOCK_PORT_BASE + slot + GK_NSOCKS * generation,
 * new for every connect, so that late packets of an earlier connection in
 * the same slot match nothing; the slot is found by one division. */
#define SOCK_PORT_BASE 0x40000000u
#define NCONNS (GK_NSTREAMS + GK_NSOCKS)

struct conn {
	uint32_t port;	/* host port */
	uint32_t local; /* our port */
	uint32_t generation;
	bool in_use; /* a socket slot: allocated (the streams always are) */
	uint32_t peer_buf_alloc, peer_fwd_cnt;
	uint32_t tx_cnt;    /* payload bytes sent */
	uint32_t rx_cnt;    /* payload bytes received: our fwd_cnt */
	uint32_t grant_end; /* the host may send until rx_cnt reaches this */
	uint32_t peer_shut; /* VIRTIO_VSOCK_SHUTDOWN_* the host sent */
	bool connected, reset, owe_update;
};

#define STREAM_CONN(p)                                                         \
	{.port = (p), .local = AL_GUEST_PORT(p), .in_use = true}
static struct conn conns[NCONNS] = {
	STREAM_CONN(AL_PORT_CONTROL),
	STREAM_CONN(AL_PORT_STDIN),
	STREAM_CONN(AL_PORT_STDOUT),
	STREAM_CONN(AL_PORT_STDERR),
};
/* One past the last slot in use: the loops over connections stop there
 * (ring 0 pays per instruction), so a job without sockets pays nothing. */
static unsigned conns_end = GK_NSTREAMS;

static struct gk_vq_mem vq_mem[3] __attribute__((aligned(4096)));
static struct gk_vq rxq, txq, evq;
static uint64_t ev_bufs[EVQ_BUFS];

/* The TX batch being built. */
static struct virtio_vsock_hdr tx_hdr[GK_VQ_SIZE];
static uint16_t tx_heads[GK_VQ_SIZE];
static unsigned tx_ndesc, tx_npkt;

/* RX state. */
static struct virtio_vsock_hdr rx_hdr[RX_CATCHERS + 1];
static bool catcher_posted[RX_CATCHERS];
static struct {
	bool posted, done;
	uint8_t stream;
	uint32_t cap, got;
	unsigned nseg;
	struct gk_iov seg[RX_MAX_SEGS];
} rxp;

/* A queued control message (vsock_queue_msg). */
static struct {
	struct al_msg_hdr hdr;
	uint8_t payload[64];
} queued_msg;

static bool conn_eof(const struct conn *c)
{
	return c->reset || (c->peer_shut & VIRTIO_VSOCK_SHUTDOWN_SEND);
}

static bool conn_send_closed(const struct conn *c)
{
	return c->reset || (c->peer_shut & VIRTIO_VSOCK_SHUTDOWN_RCV);
}

/* Payload bytes the host lets us send now. */
static uint32_t conn_credit(const struct conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;
	return in_flight >= c->peer_buf_alloc ? 0
					      : c->peer_buf_alloc - in_flight;
}

/* Credit we gave that no posted buffer backs any more. */
static bool conn_stale_grant(const struct conn *c)
{
	bool backed = rxp.posted && &conns[rxp.stream] == c;
	return c->grant_end != c->rx_cnt && !backed && !conn_eof(c);
}

/* ---- TX ---------------------------------------------------------------- */

static unsigned tx_room(void)
{
	return GK_VQ_SIZE - tx_ndesc;
}

/* Starts a packet: its header descriptor, credit fields filled in. */
static struct virtio_vsock_hdr *tx_packet_raw(struct conn *c, uint16_t op)
{
	if (tx_room() < 1)
		gk_panic("vsock: TX batch overflow");
	struct virtio_vsock_hdr *h = &tx_hdr[tx_npkt];
	h->src_cid = AL_GUEST_CID;
	h->dst_cid = AL_HOST_CID;
	h->src_port = c->local;
	h->dst_port = c->port;
	h->len = 0;
	h->type = VIRTIO_VSOCK_TYPE_STREAM;
	h->op = op;
	h->flags = 0;
	h->buf_alloc = c->grant_end - c->rx_cnt;
	h->fwd_cnt = c->rx_cnt;
	c->owe_update = false; /* every header tells our credit */
	uint16_t d = (uint16_t)tx_ndesc++;
	vq_mem[1].desc[d] = (struct virtq_desc){(uint64_t)(uintptr_t)h,
						HDR_SIZE, 0, 0};
	tx_heads[tx_npkt++] = d;
	return h;
}

/* Queues credit updates that must reach the host before anything else in
 * this exit: withdrawn grants and answers to CREDIT_REQUEST. */
static void tx_settle(void)
{
	for (unsigned i = 0; i < conns_end; i++) {
		struct conn *c = &conns[i];
		if (!c->in_use)
			continue;
		if (conn_stale_grant(c))
			c->grant_end = c->rx_cnt;
		else if (!c->owe_update)
			continue;
		tx_packet_raw(c, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	}
}

static bool settle_needed(void)
{
	for (unsigned i = 0; i < conns_end; i++)
		if (conns[i].in_use &&
		    (conn_stale_grant(&conns[i]) || conns[i].owe_update))
			return true;
	return false;
}

static struct virtio_vsock_hdr *tx_packet(struct conn *c, uint16_t op)
{
	if (tx_npkt == 0)
		tx_settle();
	return tx_packet_raw(c, op);
}

/* Appends a payload buffer to the packet being built. */
static void tx_payload(struct virtio_vsock_hdr *h, uint64_t addr, uint32_t len)
{
	struct virtq_desc *desc = vq_mem[1].desc;
	uint16_t d = (uint16_t)tx_ndesc++;
	desc[d] = (struct virtq_desc){addr, len, 0, 0};
	desc[d - 1].flags = VIRTQ_DESC_F_NEXT;
	desc[d - 1].next = d;
	h->len += len;
}

static void rx_poll(void);

/* Sends the batch: one exit, after which the device has consumed it. */
static void tx_flush(void)
{
	if (!tx_npkt)
		return;
	for (unsigned i = 0; i < tx_npkt; i++)
		vq_publish(&txq, tx_heads[i]);
	vq_notify(&txq);
	uint32_t id, len;
	unsigned used = 0;
	while (vq_next_used(&txq, &id, &len))
		used++;
	if (used != tx_npkt)
		gk_panic("vsock: device consumed %u of %u TX packets",
			 (uint64_t)used, (uint64_t)tx_npkt);
	tx_ndesc = tx_npkt = 0;
	rx_poll();
}

/* ---- RX ---------------------------------------------------------------- */

static void rx_post_catcher(void)
{
	for (uint16_t i = 0; i < RX_CATCHERS; i++) {
		if (catcher_posted[i])
			continue;
		vq_mem[0].desc[i] = (struct virtq_desc){
			(uint64_t)(uintptr_t)&rx_hdr[i], HDR_SIZE,
			VIRTQ_DESC_F_WRITE, 0};
		catcher_posted[i] = true;
		vq_publish(&rxq, i);
		return;
	}
}

static bool catchers_posted(void)
{
	for (unsigned i = 0; i < RX_CATCHERS; i++)
		if (catcher_posted[i])
			return true;
	return false;
}

static void rx_ensure_catcher(void)
{
	if (!catchers_posted())
		rx_post_catcher();
}

/* Posts the payload chain: header, then rxp.seg[] (device-writable). */
static void rx_post_payload(void)
{
	struct virtq_desc *desc = vq_mem[0].desc;
	uint16_t d = RX_PAYLOAD_HEAD;
	desc[d] = (struct virtq_desc){(uint64_t)(uintptr_t)&rx_hdr[d],
				      HDR_SIZE,
				      VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
				      (uint16_t)(d + 1)};
	for (unsigned i = 0; i < rxp.nseg; i++) {
		d++;
		bool last = i + 1 == rxp.nseg;
		desc[d] = (struct virtq_desc){
			rxp.seg[i].base, (uint32_t)rxp.seg[i].len,
			(uint16_t)(VIRTQ_DESC_F_WRITE |
				   (last ? 0 : VIRTQ_DESC_F_NEXT)),
			(uint16_t)(last ? 0 : d + 1)};
	}
	rxp.posted = true;
	rxp.done = false;
	vq_publish(&rxq, RX_PAYLOAD_HEAD);
}

static struct conn *conn_of(const struct virtio_vsock_hdr *h)
{
	if (h->src_cid != AL_HOST_CID || h->dst_cid != AL_GUEST_CID ||
	    h->type != VIRTIO_VSOCK_TYPE_STREAM)
		return 0;
	uint32_t i = h->src_port - AL_PORT_CONTROL;
	if (i >= GK_NSTREAMS || h->dst_port != AL_GUEST_PORT(h->src_port))
		i = GK_NSTREAMS + (h->dst_port - SOCK_PORT_BASE) % GK_NSOCKS;
	struct conn *c = &conns[i];
	return c->in_use && c->port == h->src_port && c->local == h->dst_port
		   ? c
		   : 0;
}

static void rx_data(struct conn *c, const struct virtio_vsock_hdr *h,
		    bool in_payload_chain, uint32_t used_len)
{
	if (h->len == 0)
		return;
	if (!in_payload_chain)
		gk_panic("vsock: %u bytes for port %x arrived without a buffer",
			 (uint64_t)h->len, (uint64_t)c->port);
	if (c != &conns[rxp.stream] || h->len > rxp.cap ||
	    used_len < HDR_SIZE + h->len)
		gk_panic("vsock: bad RW packet for port %x (%u bytes, "
			 "buffer %u for port %x)",
			 (uint64_t)c->port, (uint64_t)h->len,
			 (uint64_t)rxp.cap, (uint64_t)conns[rxp.stream].port);
	c->rx_cnt += h->len;
	rxp.got = h->len;
}

static void rx_handle(uint32_t id, uint32_t len)
{
	bool payload_chain = id == RX_PAYLOAD_HEAD;
	if (id < RX_CATCHERS)
		catcher_posted[id] = false;
	else if (payload_chain) {
		rxp.posted = false;
		rxp.done = true;
		rxp.got = 0;
	} else {
		gk_panic("vsock: device used unknown RX descriptor %u",
			 (uint64_t)id);
	}
	const struct virtio_vsock_hdr *h = &rx_hdr[id];
	if (len < HDR_SIZE)
		gk_panic("vsock: RX packet of %u bytes", (uint64_t)len);
	struct conn *c = conn_of(h);
	if (!c)
		return; /* not one of our streams */
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RW:
		rx_data(c, h, payload_chain, len);
		break;
	case VIRTIO_VSOCK_OP_RESPONSE:
		c->connected = true;
		break;
	case VIRTIO_VSOCK_OP_RST:
		c->reset = true;
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		c->peer_shut |= h->flags;
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->owe_update = true;
		break;
	default: /* CREDIT_UPDATE: the fields above were all of it */
		break;
	}
}

static void rx_poll(void)
{
	uint32_t id, len;
	while (vq_next_used(&rxq, &id, &len))
		rx_handle(id, len);
}

/* ---- waiting ------------------------------------------------------------ */

void vsock_wait(uint64_t ns)
{
	if (tx_npkt || settle_needed()) {
		if (!tx_npkt)
			tx_settle();
		tx_flush();
	}
	pf_halt(ns);
	rx_poll();
}

/* ---- streams ------------------------------------------------------------ */

bool vsock_at_eof(unsigned conn)
{
	return conn_eof(&conns[conn]);
}

/* Waits until the host lets c send again, or will never. */
static void wait_for_credit(struct conn *c)
{
	tx_packet(c, VIRTIO_VSOCK_OP_CREDIT_REQUEST);
	rx_ensure_catcher();
	tx_flush();
	while (!conn_credit(c) && !conn_send_closed(c)) {
		rx_ensure_catcher();
		vsock_wait(0);
	}
}

/* Skips empty iovecs at the cursor. */
static void iov_skip_empty(const struct gk_iov *iov, unsigned n, unsigned *i)
{
	while (*i < n && iov[*i].len == 0)
		(*i)++;
}

long vsock_send(unsigned conn, const struct gk_iov *iov, unsigned n,
		uint64_t max)
{
	struct conn *c = &conns[conn];
	uint64_t sent = 0, off = 0;
	unsigned i = 0;
	iov_skip_empty(iov, n, &i);
	while (i < n && sent < max) {
		if (conn_send_closed(c))
			return sent ? (long)sent : -EPIPE;
		uint32_t credit = conn_credit(c);
		if (!credit) {
			wait_for_credit(c);
			continue;
		}
		/* Fill one batch: packets of up to 64 KiB within credit. */
		while (i < n && sent < max && credit && tx_room() >= 3) {
			struct virtio_vsock_hdr *h =
				tx_packet(c, VIRTIO_VSOCK_OP_RW);
			uint64_t room = GK_MIN((uint64_t)credit,
					       (uint64_t)AL_VSOCK_MAX_PAYLOAD);
			room = GK_MIN(room, max - sent);
			while (i < n && h->len < room && tx_room() >= 1) {
				uint64_t take = GK_MIN(iov[i].len - off,
						       room - h->len);
				tx_payload(h, iov[i].base + off,
					   (uint32_t)take);
				off += take;
				if (off == iov[i].len) {
					off = 0;
					i++;
					iov_skip_empty(iov, n, &i);
				}
			}
			c->tx_cnt += h->len;
			credit -= h->len;
			sent += h->len;
		}
		tx_flush();
	}
	return (long)sent;
}

/* Builds the payload chain's segments from iov, at most one packet's worth. */
static uint32_t rx_set_segments(unsigned conn, const struct gk_iov *iov,
				unsigned n)
{
	uint32_t cap = 0;
	rxp.nseg = 0;
	for (unsigned i = 0; i < n && rxp.nseg < RX_MAX_SEGS; i++) {
		uint64_t len = GK_MIN(iov[i].len,
				      (uint64_t)(AL_VSOCK_MAX_PAYLOAD - cap));
		if (!len)
			continue;
		rxp.seg[rxp.nseg++] = (struct gk_iov){iov[i].base, len};
		cap += (uint32_t)len;
		if (cap == AL_VSOCK_MAX_PAYLOAD)
			break;
	}
	rxp.stream = (uint8_t)conn;
	rxp.cap = cap;
	return cap;
}

/* The device fills RX chains in order and leaves a header-only chain at the
 * head when it has only data: a catcher posted before the payload chain
 * would starve it. Waits normally consume their catcher, but one may be
 * left, or a payload chain of a connection that ended: each CREDIT_REQUEST
 * on the control stream makes the host use up one of them. */
static void rx_settle(void)
{
	for (unsigned round = 0; rxp.posted || catchers_posted(); round++) {
		if (round == RX_CATCHERS + 1)
			gk_panic("vsock: the host leaves RX buffers unused");
		tx_packet(&conns[GK_CONTROL], VIRTIO_VSOCK_OP_CREDIT_REQUEST);
		tx_flush();
	}
}

/* Nothing came for c and the caller will not wait: the grant is withdrawn
 * (in one exit, whose TX the device takes before it fills RX, so nothing
 * can land meanwhile). The chain stays posted for rx_settle. */
static long rx_withdraw(struct conn *c)
{
	c->grant_end = c->rx_cnt;
	tx_packet(c, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	tx_flush();
	return -EAGAIN;
}

long vsock_recv(unsigned conn, const struct gk_iov *iov, unsigned n, bool wait)
{
	struct conn *c = &conns[conn];
	if (conn_eof(c))
		return 0;
	rx_settle();
	uint32_t cap = rx_set_segments(conn, iov, n);
	if (!cap)
		return 0;
	/* Post the buffer and grant exactly its size, one exit for both (the
	 * device takes the grant from TX before it fills RX). Posted first,
	 * so that the new grant does not look stale to tx_settle. */
	rx_post_payload();
	c->grant_end = c->rx_cnt + cap;
	tx_packet(c, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	tx_flush();
	for (;;) {
		if (rxp.done) {
			rxp.done = false;
			if (rxp.got)
				return rxp.got; /* a shortfall is withdrawn
						   at the next exit */
			if (conn_eof(c))
				return 0;
			rx_post_payload(); /* a packet without data took it */
		}
		if (conn_eof(c))
			return 0; /* the chain stays posted: nothing more
				     can arrive for it */
		if (!wait)
			return rx_withdraw(c);
		vsock_wait(0);
	}
}

/* ---- sockets ------------------------------------------------------------- */

long vsock_conn_alloc(void)
{
	for (unsigned i = GK_NSTREAMS; i < NCONNS; i++) {
		struct conn *c = &conns[i];
		if (c->in_use)
			continue;
		*c = (struct conn){.generation = c->generation, .in_use = true};
		conns_end = GK_MAX(conns_end, i + 1);
		return (long)i;
	}
	return -ENFILE;
}

long vsock_connect(unsigned conn, uint32_t port)
{
	struct conn *c = &conns[conn];
	uint32_t gen = c->generation + 1;
	*c = (struct conn){
		.port = port,
		.local = SOCK_PORT_BASE + (conn - GK_NSTREAMS) + GK_NSOCKS * gen,
		.generation = gen,
		.in_use = true,
	};
	/* The host answers in the same exit, unless another packet takes
	 * the catcher first. */
	rx_ensure_catcher();
	tx_packet(c, VIRTIO_VSOCK_OP_REQUEST);
	tx_flush();
	while (!c->connected && !c->reset) {
		rx_ensure_catcher();
		vsock_wait(0);
	}
	return c->reset ? -ECONNRESET : 0;
}

void vsock_shutdown(unsigned conn, uint32_t flags)
{
	struct conn *c = &conns[conn];
	if (!c->connected || c->reset)
		return;
	struct virtio_vsock_hdr *h = tx_packet(c, VIRTIO_VSOCK_OP_SHUTDOWN);
	h->flags = flags;
	tx_flush();
}

uint32_t vsock_local_port(unsigned conn)
{
	return conns[conn].local;
}

void vsock_conn_free(unsigned conn)
{
	vsock_shutdown(conn,
		       VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND);
	conns[conn].in_use = false;
	while (conns_end > GK_NSTREAMS && !conns[conns_end - 1].in_use)
		conns_end--;
}

/* ---- control messages ---------------------------------------------------- */

static struct al_msg_hdr msg_hdr(uint16_t type, uint32_t len)
{
	return (struct al_msg_hdr){.magic = AL_MSG_MAGIC,
				   .version = AL_PROTO_VERSION,
				   .type = type,
				   .len = len};
}

void vsock_send_msg(uint16_t type, const void *payload, uint32_t len)
{
	static struct al_msg_hdr hdr;
	hdr = msg_hdr(type, len);
	struct gk_iov iov[2] = {{(uint64_t)(uintptr_t)&hdr, sizeof(hdr)},
				{(uint64_t)(uintptr_t)payload, len}};
	uint64_t total = sizeof(hdr) + (uint64_t)len;
	if (vsock_send(GK_CONTROL, iov, 2, total) != (long)total)
		gk_panic("control stream closed by the host");
}

void vsock_queue_msg(uint16_t type, const void *payload, uint32_t len)
{
	struct conn *c = &conns[GK_CONTROL];
	uint32_t total = (uint32_t)sizeof(struct al_msg_hdr) + len;
	if (len > sizeof(queued_msg.payload) || conn_credit(c) < total ||
	    conn_send_closed(c) || tx_room() < 4) {
		vsock_send_msg(type, payload, len);
		return;
	}
	queued_msg.hdr = msg_hdr(type, len);
	gk_copy(queued_msg.payload, payload, len);
	struct virtio_vsock_hdr *h = tx_packet(c, VIRTIO_VSOCK_OP_RW);
	tx_payload(h, (uint64_t)(uintptr_t)&queued_msg, total);
	c->tx_cnt += total;
}

/* ---- device set-up -------------------------------------------------------- */

static uint64_t find_device(void)
{
	for (uint32_t i = 0; i < GK_BI->mmio_count; i++) {
		uint64_t m = virtio_slot(i, VIRTIO_ID_VSOCK);
		if (m)
			return m;
	}
	gk_panic("no virtio-vsock device in the boot block");
}

static void device_init(uint64_t m)
{
	uint32_t got;
	const char *why = virtio_start(m, 0, &got);

	if (why)
		gk_panic("virtio-vsock at %x: %s", m, why);
	vq_setup(&rxq, &vq_mem[0], m, VIRTIO_VSOCK_QUEUE_RX);
	vq_setup(&txq, &vq_mem[1], m, VIRTIO_VSOCK_QUEUE_TX);
	vq_setup(&evq, &vq_mem[2], m, VIRTIO_VSOCK_QUEUE_EVENT);
	virtio_driver_ok(m);
}

/* The event queue only carries transport resets, which we never expect;
 * it gets buffers because the specification asks for them. */
static void post_event_buffers(void)
{
	for (uint16_t i = 0; i < EVQ_BUFS; i++) {
		vq_mem[2].desc[i] = (struct virtq_desc){
			(uint64_t)(uintptr_t)&ev_bufs[i], sizeof(ev_bufs[i]),
			VIRTQ_DESC_F_WRITE, 0};
		vq_publish(&evq, i);
	}
}

/* All four REQUESTs in one notify, four catchers for the RESPONSEs. */
static void connect_streams(void)
{
	for (unsigned i = 0; i < GK_NSTREAMS; i++)
		rx_post_catcher();
	for (unsigned i = 0; i < GK_NSTREAMS; i++)
		tx_packet(&conns[i], VIRTIO_VSOCK_OP_REQUEST);
	tx_flush();
	for (;;) {
		unsigned up = 0;
		for (unsigned i = 0; i < GK_NSTREAMS; i++) {
			if (conns[i].reset)
				gk_panic("host refused vsock port %x",
					 (uint64_t)conns[i].port);
			up += conns[i].connected;
		}
		if (up == GK_NSTREAMS)
			return;
		rx_ensure_catcher();
		vsock_wait(0);
	}
}

void vsock_init(void)
{
	device_init(find_device());
	post_event_buffers();
	connect_streams();
}
