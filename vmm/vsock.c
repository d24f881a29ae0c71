/*
 * virtio-vsock: the only channel between host and guest. Host CID 2, guest
 * CID 3, four streams the guest connects at boot (proto.h), and the
 * policy's host sockets, which the guest may connect to once each per job:
 * a proxy stream moves bytes between the guest and that socket, guest ->
 * host as stdout does, host -> guest as stdin does. The device
 * follows the rules proto.h promises the guest: on every notify and every
 * wake from hlt it consumes all TX chains first, then fills RX chains, one
 * packet per chain, payload only as far as the chain and the guest's credit
 * allow.
 *
 * Output is zero-copy where it can be: the payload goes from guest memory
 * straight to the host fd; only what the fd does not take right away is
 * buffered, within the credit the host granted, so the buffer is bounded
 * by AL_HOST_STREAM_BUF no matter what the guest does.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/vmm_impl.h"

#define HDR_SIZE sizeof(struct virtio_vsock_hdr)
#define BUF_CAP AL_HOST_STREAM_BUF
/* Tell the guest about freed credit once this much has accumulated, so a
 * busy writer rarely has to stop and ask. */
#define CREDIT_THRESHOLD (BUF_CAP / 2)

static const struct {
	uint32_t port;
	enum vs_kind kind;
	const char *name;
} own_streams[VS_NSTREAMS] = {
    {AL_PORT_CONTROL, VS_KIND_CONTROL, "control"},
    {AL_PORT_STDIN, VS_KIND_INPUT, "stdin"},
    {AL_PORT_STDOUT, VS_KIND_OUTPUT, "stdout"},
    {AL_PORT_STDERR, VS_KIND_OUTPUT, "stderr"},
};

/* Host fd -> guest. */
static bool carries_input(const struct vs_stream *s)
{
	return s->kind == VS_KIND_INPUT || s->kind == VS_KIND_PROXY;
}

/* Guest -> host fd. */
static bool carries_output(const struct vs_stream *s)
{
	return s->kind == VS_KIND_OUTPUT || s->kind == VS_KIND_PROXY;
}

static struct vsock *to_vsock(struct virtio_dev *d)
{
	return (struct vsock *)d; /* vdev is the first member */
}

static int fail(struct vsock *vs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct vsock *vs, const char *fmt, ...)
{
	char msg[VMM_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vmm_errf(vs->vdev.err, VMM_ERR_MAX, "virtio-vsock: %s", msg);
	return -1;
}

/* ---- credit ---- */

/* Payload bytes the guest can take on s right now. */
static uint32_t peer_credit(const struct vs_stream *s)
{
	uint32_t in_flight = s->tx_cnt - s->peer_fwd_cnt;

	return in_flight >= s->peer_buf_alloc ? 0
					      : s->peer_buf_alloc - in_flight;
}

static void maybe_credit(struct vs_stream *s)
{
	if (s->open && s->fwd_cnt - s->fwd_sent >= CREDIT_THRESHOLD)
		s->want_credit = true;
}

/* ---- host output ---- */

/* A proxy whose guest side will send nothing more: once its buffered bytes
 * are out, the service sees end of file. */
static void proxy_shut_host(struct vs_stream *s)
{
	bool guest_done =
	    !s->open || (s->peer_shut & VIRTIO_VSOCK_SHUTDOWN_SEND);

	if (s->kind != VS_KIND_PROXY || !s->used || s->host_shut ||
	    s->buf_len || s->fd < 0 || !guest_done)
		return;
	s->host_shut = true;
	shutdown(s->fd, s->open ? SHUT_WR : SHUT_RDWR);
}

/* The reader went away: the rest of this stream is dropped and the guest
 * learns it from an RST. */
static void reader_gone(struct vs_stream *s)
{
	s->stats->truncated = true;
	s->fwd_cnt += s->buf_len;
	s->buf_len = 0;
	if (s->open) {
		s->open = false;
		s->want_rst = true;
		s->want_credit = false;
	}
}

static int buffer_append(struct vsock *vs, struct vs_stream *s,
			 const struct iovec *v, unsigned n, size_t skip,
			 size_t len)
{
	if (!s->buf) {
		s->buf = malloc(BUF_CAP);
		if (!s->buf)
			return fail(vs, "out of memory for %s", s->name);
	}
	/* Cannot happen while the credit check holds; never overrun. */
	if (len > BUF_CAP - s->buf_len)
		return fail(vs, "%s buffer overrun", s->name);
	while (len > 0) {
		uint32_t tail = (s->buf_head + s->buf_len) % BUF_CAP;
		size_t k = BUF_CAP - tail;
		if (k > len)
			k = len;
		iov_from(v, n, skip, s->buf + tail, k);
		s->buf_len += (uint32_t)k;
		skip += k;
		len -= k;
	}
	return 0;
}

static int output(struct vsock *vs, struct vs_stream *s, const struct iovec *v,
		  unsigned n, uint32_t len)
{
	size_t done = 0;

	if (s->fd < 0 || s->stats->truncated) {
		s->fwd_cnt += len; /* nobody to give it to */
		return 0;
	}
	if (len > s->room) {
		/* Past the policy's cap: pass what fits, drop the rest and
		 * everything after it; the job itself goes on. */
		struct iovec fit[VQ_MAX_SIZE];
		uint32_t keep = (uint32_t)s->room;
		unsigned m = iov_slice(v, n, 0, keep, fit, VQ_MAX_SIZE);
		int rc = output(vs, s, fit, m, keep);
		s->stats->truncated = true;
		s->fwd_cnt += len - keep;
		return rc;
	}
	s->room -= len;
	/* Straight from guest memory, unless older bytes wait in line. */
	if (s->buf_len == 0) {
		ssize_t w = writev(s->fd, v, (int)n);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			reader_gone(s);
			s->fwd_cnt += len;
			return 0;
		}
		if (w > 0)
			done = (size_t)w;
		s->stats->bytes += done;
		s->fwd_cnt += (uint32_t)done;
	}
	if (done < len)
		return buffer_append(vs, s, v, n, done, len - done);
	return 0;
}

static void flush_stream(struct vs_stream *s)
{
	while (s->buf_len > 0 && s->fd >= 0) {
		struct iovec v[2];
		uint32_t first = BUF_CAP - s->buf_head;
		int cnt = 1;

		v[0].iov_base = s->buf + s->buf_head;
		v[0].iov_len = first < s->buf_len ? first : s->buf_len;
		if (first < s->buf_len) {
			v[1].iov_base = s->buf;
			v[1].iov_len = s->buf_len - first;
			cnt = 2;
		}
		ssize_t w = writev(s->fd, v, cnt);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (w < 0) {
			reader_gone(s);
			break;
		}
		if (w == 0)
			break;
		s->buf_head = (uint32_t)((s->buf_head + (size_t)w) % BUF_CAP);
		s->buf_len -= (uint32_t)w;
		s->fwd_cnt += (uint32_t)w;
		s->stats->bytes += (uint64_t)w;
	}
	maybe_credit(s);
	proxy_shut_host(s);
}

void vsock_flush(struct vsock *vs)
{
	for (int i = 0; i < VS_MAX; i++)
		if (carries_output(&vs->s[i]))
			flush_stream(&vs->s[i]);
}

/* Only the job's own output holds up the end of a run: what a service has
 * not taken by then is dropped with the VM. */
bool vsock_buffered(const struct vsock *vs)
{
	return (vs->s[VS_STDOUT].buf_len && vs->s[VS_STDOUT].fd >= 0) ||
	       (vs->s[VS_STDERR].buf_len && vs->s[VS_STDERR].fd >= 0);
}

void vsock_drop_buffered(struct vsock *vs)
{
	for (int i = 0; i < VS_MAX; i++) {
		struct vs_stream *s = &vs->s[i];
		if (!carries_output(s))
			continue;
		if (s->buf_len) {
			s->stats->truncated = true;
			s->fwd_cnt += s->buf_len;
			s->buf_len = 0;
		}
	}
}

/* ---- guest -> host packets ---- */

static void queue_rst(struct vsock *vs, const struct virtio_vsock_hdr *h)
{
	for (unsigned i = 0; i < vs->nrst; i++)
		if (vs->rst[i].src_port == h->dst_port &&
		    vs->rst[i].dst_port == h->src_port)
			return;
	/* A guest that provokes more RSTs than it reads loses some. */
	if (vs->nrst == VS_RST_MAX)
		return;
	vs->rst[vs->nrst].src_port = h->dst_port;
	vs->rst[vs->nrst].dst_port = h->src_port;
	vs->nrst++;
}

static struct vs_stream *stream_for_port(struct vsock *vs, uint32_t host_port)
{
	for (int i = 0; i < VS_MAX; i++)
		if (vs->s[i].host_port == host_port)
			return &vs->s[i];
	return NULL;
}

static void on_request(struct vsock *vs, struct vs_stream *s,
		       const struct virtio_vsock_hdr *h)
{
	/* Only airlock's own ports and the policy's reachable host sockets,
	 * each connected once. */
	if (!s || s->used || (s->kind == VS_KIND_PROXY && s->fd < 0)) {
		queue_rst(vs, h);
		return;
	}
	s->open = s->used = true;
	s->guest_port = h->src_port;
	s->peer_buf_alloc = h->buf_alloc;
	s->peer_fwd_cnt = h->fwd_cnt;
	s->tx_cnt = s->rx_cnt = 0;
	/* Output of a connection the guest reset may still be buffered: the
	 * new one starts that far behind (rx_cnt - fwd_cnt == buf_len), so
	 * the credit it is told leaves room for it. */
	s->fwd_cnt = s->fwd_sent = 0u - s->buf_len;
	s->peer_shut = 0;
	s->want_response = true;
}

static void close_stream(struct vs_stream *s)
{
	s->open = false;
	s->want_response = s->want_credit = false;
	proxy_shut_host(s);
}

static int on_data(struct vsock *vs, struct vs_stream *s,
		   const struct vq_chain *c, uint32_t len)
{
	struct iovec pay[VQ_MAX_SIZE];

	if (len == 0)
		return 0;
	if (s->kind == VS_KIND_INPUT)
		return fail(vs, "guest sent %u bytes on the %s stream", len,
			    s->name);
	/* Against the credit we announced (fwd_sent), not what we have
	 * freed since: the guest cannot know about that yet. Either way the
	 * buffer (rx_cnt - fwd_cnt) stays within BUF_CAP. */
	uint32_t in_flight = s->rx_cnt - s->fwd_sent;
	if (in_flight > BUF_CAP || len > BUF_CAP - in_flight)
		return fail(vs,
			    "guest overran its credit on the %s stream (%u "
			    "bytes in flight + %u sent, credit %u)",
			    s->name, in_flight, len, BUF_CAP);
	s->rx_cnt += len;
	unsigned n = iov_slice(c->iov, c->nr, HDR_SIZE, len, pay, VQ_MAX_SIZE);
	if (s->kind == VS_KIND_CONTROL) {
		char err[VMM_ERR_MAX];
		for (unsigned i = 0; i < n; i++)
			if (control_feed(vs->ctl, pay[i].iov_base,
					 pay[i].iov_len, err) < 0)
				return fail(vs, "control stream: %s", err);
		s->fwd_cnt += len;
	} else if (output(vs, s, pay, n, len) < 0) {
		return -1;
	}
	maybe_credit(s);
	return 0;
}

static int tx_packet(struct vsock *vs, const struct vq_chain *c)
{
	struct virtio_vsock_hdr h;

	if (c->rlen < HDR_SIZE)
		return fail(vs,
			    "TX chain of %llu readable bytes is shorter than a "
			    "packet header",
			    (unsigned long long)c->rlen);
	iov_from(c->iov, c->nr, 0, &h, HDR_SIZE);
	if (h.len > AL_VSOCK_MAX_PAYLOAD || h.len > c->rlen - HDR_SIZE)
		return fail(
		    vs,
		    "TX packet claims %u payload bytes; the chain holds "
		    "%llu (at most %u)",
		    h.len, (unsigned long long)(c->rlen - HDR_SIZE),
		    AL_VSOCK_MAX_PAYLOAD);
	/* Not from the guest to us: not ours to answer. */
	if (h.src_cid != AL_GUEST_CID || h.dst_cid != AL_HOST_CID)
		return 0;
	if (h.type != VIRTIO_VSOCK_TYPE_STREAM) {
		if (h.op != VIRTIO_VSOCK_OP_RST)
			queue_rst(vs, &h);
		return 0;
	}
	struct vs_stream *s = stream_for_port(vs, h.dst_port);
	if (h.op == VIRTIO_VSOCK_OP_REQUEST) {
		on_request(vs, s, &h);
		return 0;
	}
	if (!s || !s->open || s->guest_port != h.src_port) {
		if (h.op != VIRTIO_VSOCK_OP_RST)
			queue_rst(vs, &h); /* no such connection */
		return 0;
	}
	/* Every packet carries the sender's current credit. */
	s->peer_buf_alloc = h.buf_alloc;
	s->peer_fwd_cnt = h.fwd_cnt;
	switch (h.op) {
	case VIRTIO_VSOCK_OP_RW:
		return on_data(vs, s, c, h.len);
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		return 0;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		s->want_credit = true;
		return 0;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		s->peer_shut |= h.flags & (VIRTIO_VSOCK_SHUTDOWN_RCV |
					   VIRTIO_VSOCK_SHUTDOWN_SEND);
		if (s->peer_shut ==
		    (VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND)) {
			close_stream(s);
			s->want_rst = true; /* completes the close */
		}
		proxy_shut_host(s);
		return 0;
	case VIRTIO_VSOCK_OP_RST:
		close_stream(s);
		return 0;
	default: /* RESPONSE to nothing, unknown op */
		close_stream(s);
		s->want_rst = true;
		return 0;
	}
}

static int process_tx(struct vsock *vs)
{
	struct virtio_dev *d = &vs->vdev;
	struct virtq *q = &d->vq[VIRTIO_VSOCK_QUEUE_TX];
	char err[VMM_ERR_MAX];

	for (;;) {
		int r = vq_pop(d->gm, q, &vs->chain, err);
		if (r < 0)
			return fail(vs, "TX queue: %s", err);
		if (r == 0)
			return 0;
		r = tx_packet(vs, &vs->chain);
		if (vq_push(d->gm, q, vs->chain.head, 0, err) < 0)
			return fail(vs, "TX queue: %s", err);
		d->isr |= 1;
		if (r < 0)
			return -1;
	}
}

/* ---- host -> guest packets ---- */

/* The guest still wants input and the host may have some. */
static bool input_wanted(const struct vs_stream *s)
{
	return carries_input(s) && s->open && s->fd >= 0 && !s->eof &&
	       !(s->peer_shut & VIRTIO_VSOCK_SHUTDOWN_RCV);
}

/* ... and it did not just say "would block" in this pass. */
static bool input_readable(const struct vs_stream *s)
{
	return input_wanted(s) && !s->blocked;
}

/* The host side said all it will: the guest hears SHUTDOWN(SEND). */
static bool owes_shutdown(const struct vs_stream *s)
{
	return carries_input(s) && s->eof && !s->shutdown_sent;
}

static bool stream_pending(const struct vs_stream *s)
{
	if (s->want_response || s->want_rst)
		return true;
	if (!s->open)
		return false;
	if (s->want_credit)
		return true;
	if (owes_shutdown(s))
		return true;
	if (peer_credit(s) == 0)
		return false;
	return (s->out && s->out_off < s->out_len) || input_readable(s);
}

static bool rx_pending(const struct vsock *vs)
{
	if (vs->nrst)
		return true;
	for (int i = 0; i < VS_MAX; i++)
		if (stream_pending(&vs->s[i]))
			return true;
	return false;
}

static void make_hdr(struct vs_stream *s, struct virtio_vsock_hdr *h,
		     uint16_t op, uint32_t len)
{
	memset(h, 0, sizeof(*h));
	h->src_cid = AL_HOST_CID;
	h->dst_cid = AL_GUEST_CID;
	h->src_port = s->host_port;
	h->dst_port = s->guest_port;
	h->len = len;
	h->type = VIRTIO_VSOCK_TYPE_STREAM;
	h->op = op;
	h->buf_alloc = BUF_CAP;
	h->fwd_cnt = s->fwd_cnt;
	/* This packet tells the guest our credit. */
	s->fwd_sent = s->fwd_cnt;
	s->want_credit = false;
}

static uint32_t min3(uint32_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a;

	if (b < m)
		m = b;
	if (c < m)
		m = c;
	return (uint32_t)m;
}

/* A read from the host fd failed: stdin just ends; a proxy's service is
 * gone, so the guest's connection is reset. */
static void input_failed(struct vs_stream *s)
{
	s->eof = true;
	if (s->kind != VS_KIND_PROXY)
		return;
	s->shutdown_sent = true; /* the RST says more */
	close_stream(s);
	s->want_rst = true;
}

/* Payload for s into the chain after the header; 1 if a packet was made. */
static int stream_data(struct vs_stream *s, const struct iovec *w, unsigned nw,
		       uint32_t room, struct virtio_vsock_hdr *h)
{
	uint32_t credit = peer_credit(s);

	if (room == 0 || credit == 0)
		return 0;
	if (s->out && s->out_off < s->out_len) {
		uint32_t n = min3(room, credit, s->out_len - s->out_off);
		iov_to(w, nw, HDR_SIZE, s->out + s->out_off, n);
		s->out_off += n;
		s->tx_cnt += n;
		if (s->out_off == s->out_len) {
			free(s->out);
			s->out = NULL;
			s->out_len = s->out_off = 0;
		}
		make_hdr(s, h, VIRTIO_VSOCK_OP_RW, n);
		return 1;
	}
	if (!input_readable(s))
		return 0;
	struct iovec dst[VQ_MAX_SIZE];
	uint32_t want = min3(room, credit, AL_VSOCK_MAX_PAYLOAD);
	if (want > s->room)
		want = (uint32_t)s->room;
	unsigned m = iov_slice(w, nw, HDR_SIZE, want, dst, VQ_MAX_SIZE);
	/* Straight into the buffer the guest posted, no more than it
	 * granted. Past the policy's cap, input ends. */
	ssize_t r = want ? readv(s->fd, dst, (int)m) : 0;
	if (r > 0) {
		s->room -= (uint64_t)r;
		s->tx_cnt += (uint32_t)r;
		s->stats->bytes += (uint64_t)r;
		make_hdr(s, h, VIRTIO_VSOCK_OP_RW, (uint32_t)r);
		return 1;
	}
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		s->blocked = true;
	else if (r < 0)
		input_failed(s);
	else
		s->eof = true; /* end of input (or the policy's cap) */
	return 0;
}

/* Picks the next packet for an RX chain with `room` payload bytes. */
static int next_packet(struct vsock *vs, const struct iovec *w, unsigned nw,
		       uint32_t room, struct virtio_vsock_hdr *h)
{
	if (vs->nrst) {
		memset(h, 0, sizeof(*h));
		h->src_cid = AL_HOST_CID;
		h->dst_cid = AL_GUEST_CID;
		h->src_port = vs->rst[0].src_port;
		h->dst_port = vs->rst[0].dst_port;
		h->type = VIRTIO_VSOCK_TYPE_STREAM;
		h->op = VIRTIO_VSOCK_OP_RST;
		vs->nrst--;
		memmove(&vs->rst[0], &vs->rst[1],
			vs->nrst * sizeof(vs->rst[0]));
		return 1;
	}
	for (int i = 0; i < VS_MAX; i++) {
		struct vs_stream *s = &vs->s[i];
		if (s->want_response) {
			s->want_response = false;
			make_hdr(s, h, VIRTIO_VSOCK_OP_RESPONSE, 0);
			return 1;
		}
		if (s->want_rst) {
			s->want_rst = false;
			make_hdr(s, h, VIRTIO_VSOCK_OP_RST, 0);
			return 1;
		}
		if (!s->open)
			continue;
		if (stream_data(s, w, nw, room, h))
			return 1;
		if (owes_shutdown(s)) {
			s->shutdown_sent = true;
			make_hdr(s, h, VIRTIO_VSOCK_OP_SHUTDOWN, 0);
			h->flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
			return 1;
		}
		if (s->want_credit) {
			make_hdr(s, h, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0);
			return 1;
		}
	}
	return 0;
}

static int fill_rx(struct vsock *vs)
{
	struct virtio_dev *d = &vs->vdev;
	struct virtq *q = &d->vq[VIRTIO_VSOCK_QUEUE_RX];
	struct vq_chain *c = &vs->chain;
	char err[VMM_ERR_MAX];

	while (rx_pending(vs)) {
		int r = vq_pop(d->gm, q, c, err);
		if (r < 0)
			return fail(vs, "RX queue: %s", err);
		if (r == 0)
			return 0;
		if (c->wlen < HDR_SIZE)
			return fail(vs,
				    "RX chain of %llu writable bytes cannot "
				    "hold a packet header",
				    (unsigned long long)c->wlen);
		const struct iovec *w = c->iov + c->nr;
		uint32_t room = min3(AL_VSOCK_MAX_PAYLOAD, c->wlen - HDR_SIZE,
				     AL_VSOCK_MAX_PAYLOAD);
		struct virtio_vsock_hdr h;
		if (!next_packet(vs, w, c->nw, room, &h)) {
			vq_unpop(q); /* e.g. stdin would block */
			return 0;
		}
		iov_to(w, c->nw, 0, &h, HDR_SIZE);
		if (vq_push(d->gm, q, c->head, (uint32_t)HDR_SIZE + h.len,
			    err) < 0)
			return fail(vs, "RX queue: %s", err);
		d->isr |= 1;
		vs->rx_pushed++;
	}
	return 0;
}

int vsock_process(struct vsock *vs)
{
	if (!mmio_driver_ok(&vs->vdev))
		return 0;
	for (int i = 0; i < VS_MAX; i++)
		vs->s[i].blocked = false;
	if (process_tx(vs) < 0)
		return -1;
	return fill_rx(vs);
}

void vsock_on_halt(struct vsock *vs)
{
	for (int i = 0; i < VS_MAX; i++) {
		struct vs_stream *s = &vs->s[i];
		if (s->kind == VS_KIND_INPUT || !s->open ||
		    s->fwd_cnt == s->fwd_sent)
			continue;
		/* Only where the guest may be short of credit for a full
		 * packet: an update costs it a packet to process. */
		uint32_t seen = s->rx_cnt - s->fwd_sent;
		if (seen > BUF_CAP - AL_VSOCK_MAX_PAYLOAD)
			s->want_credit = true;
	}
}

void vsock_send_control(struct vsock *vs, uint8_t *msg, size_t len)
{
	struct vs_stream *s = &vs->s[VS_CONTROL];

	free(s->out);
	s->out = msg;
	s->out_len = len;
	s->out_off = 0;
}

unsigned vsock_poll_fds(struct vsock *vs, struct pollfd *fds)
{
	unsigned n = 0;
	bool rx_posted =
	    vq_pending(vs->vdev.gm, &vs->vdev.vq[VIRTIO_VSOCK_QUEUE_RX]) > 0;

	for (int i = 0; i < VS_MAX; i++) {
		struct vs_stream *s = &vs->s[i];
		short ev = 0;
		/* Input only where the guest could take it now. */
		if (input_wanted(s) && peer_credit(s) > 0 && rx_posted)
			ev |= POLLIN;
		if (carries_output(s) && s->buf_len && s->fd >= 0)
			ev |= POLLOUT;
		if (!ev)
			continue;
		fds[n].fd = s->fd;
		fds[n].events = ev;
		fds[n].revents = 0;
		n++;
	}
	return n;
}

void vsock_describe_wait(const struct vsock *vs, char *buf, size_t len)
{
	const struct vs_stream *c = &vs->s[VS_CONTROL];
	const struct vs_stream *in = &vs->s[VS_STDIN];
	int rx = vq_pending(vs->vdev.gm, &vs->vdev.vq[VIRTIO_VSOCK_QUEUE_RX]);

	snprintf(buf, len,
		 "driver %s, %d RX buffers posted; control %s, %zu bytes to "
		 "send, credit %u; stdin %s%s, credit %u",
		 mmio_driver_ok(&vs->vdev) ? "ready" : "not ready", rx,
		 c->open ? "open" : "closed", c->out_len - c->out_off,
		 peer_credit(c), in->open ? "open" : "closed",
		 in->eof ? " at EOF" : "", peer_credit(in));
}

/* ---- device model glue ---- */

static int vs_notify(struct virtio_dev *d, unsigned queue)
{
	(void)queue; /* any queue: the device rule is the same */
	return vsock_process(to_vsock(d));
}

static void vs_read_config(struct virtio_dev *d, uint32_t off, void *buf,
			   uint32_t len)
{
	struct virtio_vsock_config cfg = {.guest_cid = AL_GUEST_CID};

	(void)d;
	if (off >= sizeof(cfg))
		return;
	if (len > sizeof(cfg) - off)
		len = (uint32_t)(sizeof(cfg) - off);
	memcpy(buf, (uint8_t *)&cfg + off, len);
}

static void vs_reset(struct virtio_dev *d)
{
	struct vsock *vs = to_vsock(d);

	/* A driver reset ends every connection; the guest may connect
	 * again, but to each host socket only once per job. Host-side
	 * buffers and counters stay. */
	for (int i = 0; i < VS_MAX; i++) {
		struct vs_stream *s = &vs->s[i];
		close_stream(s);
		s->used = s->used && s->kind == VS_KIND_PROXY;
		s->want_response = s->want_credit = s->want_rst = false;
		s->shutdown_sent = false;
	}
	vs->nrst = 0;
}

void vsock_init(struct vsock *vs, const struct guest_mem *gm, uint64_t gpa,
		struct vmm_control *ctl, const struct vsock_fds *fds)
{
	memset(vs, 0, sizeof(*vs));
	mmio_init(&vs->vdev, gm, gpa);
	vs->vdev.device_id = VIRTIO_ID_VSOCK;
	vs->vdev.features = 0;
	vs->vdev.num_queues = 3;
	vs->vdev.notify = vs_notify;
	vs->vdev.read_config = vs_read_config;
	vs->vdev.reset = vs_reset;
	vs->ctl = ctl;
	for (int i = 0; i < VS_NSTREAMS; i++) {
		vs->s[i].host_port = own_streams[i].port;
		vs->s[i].kind = own_streams[i].kind;
		snprintf(vs->s[i].name, sizeof(vs->s[i].name), "%s",
			 own_streams[i].name);
	}
	vsock_attach(vs, fds);
}

/* Proxy slot i for the job: the port's socket, or nothing (host port 0,
 * which no REQUEST gets through to). The slot is fresh: a cold VM's was
 * zeroed, a warm VM's comes back from the pristine snapshot. */
static void attach_proxy(struct vsock *vs, unsigned i,
			 const struct vmm_vsock_port *p)
{
	struct vs_stream *s = &vs->s[VS_NSTREAMS + i];

	s->kind = VS_KIND_PROXY;
	s->host_port = p ? p->port : 0;
	s->fd = p ? p->fd : -1;
	snprintf(s->name, sizeof(s->name), "port %u", s->host_port);
	vs->proxy_stats[i] = (struct vmm_stream_stats){0};
	s->stats = &vs->proxy_stats[i];
	s->room = UINT64_MAX;
	s->open = s->used = s->eof = s->blocked = s->host_shut = false;
}

void vsock_attach(struct vsock *vs, const struct vsock_fds *fds)
{
	int fd[VS_NSTREAMS] = {-1, fds->in, fds->out, fds->err};
	struct vmm_stream_stats *st[VS_NSTREAMS] = {
	    &vs->ctl_stats, fds->in_stats, fds->out_stats, fds->err_stats};
	uint64_t room[VS_NSTREAMS] = {UINT64_MAX, fds->in_max, fds->out_max,
				      fds->err_max};
	for (int i = 0; i < VS_NSTREAMS; i++) {
		vs->s[i].fd = fd[i];
		vs->s[i].stats = st[i];
		vs->s[i].room = room[i];
		vs->s[i].blocked = false;
	}
	/* No stdin at all reads as empty. */
	vs->s[VS_STDIN].eof = fds->in < 0 && !fds->in_later;
	for (unsigned i = 0; i < VS_PROXY_MAX; i++)
		attach_proxy(vs, i, i < fds->nports ? &fds->ports[i] : NULL);
}

int vsock_save(const struct vsock *vs, struct vsock *snap, char *err)
{
	for (int i = 0; i < VS_MAX; i++) {
		if (vs->s[i].buf_len || vs->s[i].out) {
			vmm_errf(err, VMM_ERR_MAX,
				 "vsock: %s has bytes in flight at the "
				 "snapshot",
				 vs->s[i].name);
			return -1;
		}
	}
	*snap = *vs;
	for (int i = 0; i < VS_MAX; i++)
		snap->s[i].buf = NULL; /* the buffers stay the live device's */
	return 0;
}

void vsock_restore(struct vsock *vs, const struct vsock *snap)
{
	vsock_destroy(vs);
	*vs = *snap;
}

void vsock_destroy(struct vsock *vs)
{
	for (int i = 0; i < VS_MAX; i++) {
		free(vs->s[i].buf);
		free(vs->s[i].out);
		vs->s[i].buf = vs->s[i].out = NULL;
	}
}
