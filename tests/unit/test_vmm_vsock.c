/*
 * virtio-mmio + virtio-vsock + control stream, driven by a fake guest
 * driver that lives in a plain memfd-backed guest_mem. No /dev/kvm.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/vmm_impl.h"

#define QN 16u
#define SLOT 0x12000ull /* per-chain buffer: header + 64 KiB + slack */
#define HDR sizeof(struct virtio_vsock_hdr)

struct fq {
	uint64_t desc, avail, used, bufs;
	uint16_t avail_idx, used_seen;
};

static struct guest_mem gm;
static struct vmm_control ctl;
static struct vsock *vs;
static struct vmm_stream_stats st_in, st_out, st_err;
static struct fq q[3];
static char err[VMM_ERR_MAX];
static int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1},
	   err_pipe[2] = {-1, -1};
/* The host sockets of the policy: port 5000 on a socketpair whose other
 * end (svc[1]) plays the service; port 5001 could not be reached. */
#define SVC_PORT 5000u
#define DOWN_PORT 5001u
static int svc[2] = {-1, -1};
static struct vmm_vsock_port ports[2];

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0;
	cr_assert_eq(mmio_access(&vs->vdev, off, &v, 4, false), 0);
	return v;
}

static int wr(uint64_t off, uint32_t v)
{
	return mmio_access(&vs->vdev, off, &v, 4, true);
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void setup_queues(void)
{
	for (unsigned i = 0; i < 3; i++) {
		uint64_t base = 0x10000ull + i * 0x4000ull;
		q[i].desc = base;
		q[i].avail = base + 0x1000;
		q[i].used = base + 0x2000;
		q[i].bufs = 0x100000ull + i * QN * SLOT;
		q[i].avail_idx = q[i].used_seen = 0;
		cr_assert_eq(wr(VIRTIO_MMIO_QUEUE_SEL, i), 0);
		cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), VQ_MAX_SIZE);
		cr_assert_eq(wr(VIRTIO_MMIO_QUEUE_NUM, QN), 0);
		cr_assert_eq(
		    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q[i].desc), 0);
		cr_assert_eq(wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0), 0);
		cr_assert_eq(
		    wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)q[i].avail), 0);
		cr_assert_eq(
		    wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)q[i].used), 0);
		cr_assert_eq(wr(VIRTIO_MMIO_QUEUE_READY, 1), 0, "%s",
			     vs->vdev.err);
	}
}

static void driver_init(void)
{
	cr_assert_eq(rd(VIRTIO_MMIO_MAGIC), VIRTIO_MMIO_MAGIC_VALUE);
	cr_assert_eq(rd(VIRTIO_MMIO_VERSION), 2);
	cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_VSOCK);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), 1); /* VERSION_1 */
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
				   VIRTIO_STATUS_DRIVER |
				   VIRTIO_STATUS_FEATURES_OK);
	cr_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	setup_queues();
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	cr_assert(mmio_driver_ok(&vs->vdev));
}

/* The test's pipes and service as the job's streams, stdout capped. */
static struct vsock_fds streams(uint64_t stdout_cap)
{
	return (struct vsock_fds){in_pipe[0], out_pipe[1], err_pipe[1],
				  &st_in,     &st_out,	   &st_err,
				  UINT64_MAX, stdout_cap,  UINT64_MAX,
				  ports,      2,	   false};
}

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(gm_create(&gm, 8 << 20, err), 0, "%s", err);
	cr_assert_eq(pipe(in_pipe), 0);
	cr_assert_eq(pipe(out_pipe), 0);
	cr_assert_eq(pipe(err_pipe), 0);
	nonblock(in_pipe[0]);
	nonblock(out_pipe[1]);
	nonblock(out_pipe[0]);
	nonblock(err_pipe[1]);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, svc), 0);
	nonblock(svc[0]);
	nonblock(svc[1]);
	ports[0] = (struct vmm_vsock_port){SVC_PORT, svc[0]};
	ports[1] = (struct vmm_vsock_port){DOWN_PORT, -1};
	memset(&st_in, 0, sizeof(st_in));
	memset(&st_out, 0, sizeof(st_out));
	memset(&st_err, 0, sizeof(st_err));
	control_init(&ctl, false);
	vs = calloc(1, sizeof(*vs));
	struct vsock_fds f = streams(UINT64_MAX);
	vsock_init(vs, &gm, AL_MMIO_GPA, &ctl, &f);
	driver_init();
}

static void closefd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void teardown(void)
{
	vsock_destroy(vs);
	free(vs);
	gm_destroy(&gm);
	for (int i = 0; i < 2; i++) {
		closefd(&in_pipe[i]);
		closefd(&out_pipe[i]);
		closefd(&err_pipe[i]);
		closefd(&svc[i]);
	}
}

TestSuite(vmm_vsock, .init = setup, .fini = teardown);

/* ---- fake driver ---- */

static void set_desc(struct fq *f, uint16_t i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	struct virtq_desc d = {addr, len, flags, next};
	cr_assert_eq(gm_write(&gm, f->desc + 16ull * i, &d, sizeof(d)), 0);
}

static void offer(struct fq *f, uint16_t head)
{
	gm_write(&gm, f->avail + 4 + 2ull * (f->avail_idx % QN), &head, 2);
	f->avail_idx++;
	gm_write(&gm, f->avail + 2, &f->avail_idx, 2);
}

static int notify(unsigned queue)
{
	return wr(VIRTIO_MMIO_QUEUE_NOTIFY, queue);
}

static struct virtio_vsock_hdr mkhdr(uint32_t host_port, uint16_t op,
				     uint32_t len, uint32_t buf_alloc,
				     uint32_t fwd_cnt)
{
	struct virtio_vsock_hdr h;
	memset(&h, 0, sizeof(h));
	h.src_cid = AL_GUEST_CID;
	h.dst_cid = AL_HOST_CID;
	h.src_port = AL_GUEST_PORT(host_port);
	h.dst_port = host_port;
	h.len = len;
	h.type = VIRTIO_VSOCK_TYPE_STREAM;
	h.op = op;
	h.buf_alloc = buf_alloc;
	h.fwd_cnt = fwd_cnt;
	return h;
}

/* Queues one TX packet (header descriptor + payload descriptor). */
static void tx_put(const struct virtio_vsock_hdr *h, const void *payload,
		   uint32_t len)
{
	struct fq *f = &q[VIRTIO_VSOCK_QUEUE_TX];
	uint16_t slot = (uint16_t)(f->avail_idx % (QN / 2));
	uint16_t d0 = (uint16_t)(2 * slot), d1 = (uint16_t)(2 * slot + 1);
	uint64_t buf = f->bufs + slot * SLOT;

	gm_write(&gm, buf, h, HDR);
	if (len) {
		gm_write(&gm, buf + 0x100, payload, len);
		set_desc(f, d0, buf, HDR, VIRTQ_DESC_F_NEXT, d1);
		set_desc(f, d1, buf + 0x100, len, 0, 0);
	} else {
		set_desc(f, d0, buf, HDR, 0, 0);
	}
	offer(f, d0);
}

static int tx(const struct virtio_vsock_hdr *h, const void *payload,
	      uint32_t len)
{
	tx_put(h, payload, len);
	return notify(VIRTIO_VSOCK_QUEUE_TX);
}

static void rx_post(uint32_t len)
{
	struct fq *f = &q[VIRTIO_VSOCK_QUEUE_RX];
	uint16_t slot = (uint16_t)(f->avail_idx % QN);
	set_desc(f, slot, f->bufs + slot * SLOT, len, VIRTQ_DESC_F_WRITE, 0);
	offer(f, slot);
}

/* Next packet the device put in RX; false if none. */
static bool rx_get(struct virtio_vsock_hdr *h, void *payload, uint32_t max)
{
	struct fq *f = &q[VIRTIO_VSOCK_QUEUE_RX];
	uint16_t used;
	struct virtq_used_elem e;

	gm_read(&gm, f->used + 2, &used, 2);
	if (used == f->used_seen)
		return false;
	gm_read(&gm, f->used + 4 + 8ull * (f->used_seen % QN), &e, sizeof(e));
	f->used_seen++;
	uint64_t buf = f->bufs + e.id * SLOT;
	gm_read(&gm, buf, h, HDR);
	cr_assert_eq(e.len, HDR + h->len);
	if (payload && h->len) {
		cr_assert_leq(h->len, max);
		gm_read(&gm, buf + HDR, payload, h->len);
	}
	return true;
}

static void guest_connect(uint32_t port, uint32_t buf_alloc)
{
	struct virtio_vsock_hdr h =
	    mkhdr(port, VIRTIO_VSOCK_OP_REQUEST, 0, buf_alloc, 0);
	rx_post(4096);
	cr_assert_eq(tx(&h, NULL, 0), 0, "%s", vs->vdev.err);
	struct virtio_vsock_hdr r;
	cr_assert(rx_get(&r, NULL, 0));
	cr_assert_eq(r.op, VIRTIO_VSOCK_OP_RESPONSE);
	cr_assert_eq(r.src_port, port);
	cr_assert_eq(r.dst_port, AL_GUEST_PORT(port));
	cr_assert_eq(r.src_cid, AL_HOST_CID);
	cr_assert_eq(r.dst_cid, AL_GUEST_CID);
	cr_assert_eq(r.buf_alloc, AL_HOST_STREAM_BUF);
}

/* ---- transport ---- */

Test(vmm_vsock, config_space_holds_guest_cid)
{
	uint64_t cid = 0;
	cr_assert_eq(mmio_access(&vs->vdev, VIRTIO_MMIO_CONFIG, &cid, 8, false),
		     0);
	cr_assert_eq(cid, AL_GUEST_CID);
	uint32_t hi = 0xffffffff;
	cr_assert_eq(
	    mmio_access(&vs->vdev, VIRTIO_MMIO_CONFIG + 4, &hi, 4, false), 0);
	cr_assert_eq(hi, 0);
	cr_assert_eq(
	    mmio_access(&vs->vdev, VIRTIO_MMIO_CONFIG + 0x800, &hi, 4, false),
	    0);
	cr_assert_eq(hi, 0);
}

Test(vmm_vsock, features_without_version_1_are_refused)
{
	wr(VIRTIO_MMIO_STATUS, 0); /* reset */
	cr_assert_eq(rd(VIRTIO_MMIO_STATUS), 0);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
				   VIRTIO_STATUS_DRIVER |
				   VIRTIO_STATUS_FEATURES_OK);
	cr_assert_not(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	/* nor features we never offered */
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 3);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
				   VIRTIO_STATUS_DRIVER |
				   VIRTIO_STATUS_FEATURES_OK);
	cr_assert_not(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	wr(VIRTIO_MMIO_STATUS, 0xf);
	cr_assert_not(mmio_driver_ok(&vs->vdev));
}

Test(vmm_vsock, bad_register_accesses_are_flagged)
{
	uint16_t h = 1;
	cr_assert_eq(mmio_access(&vs->vdev, VIRTIO_MMIO_STATUS, &h, 2, true),
		     -1);
	cr_assert_eq(wr(0x0f0, 1), -1); /* unknown */
	cr_assert(strstr(vs->vdev.err, "unknown"), "%s", vs->vdev.err);
	cr_assert_eq(wr(VIRTIO_MMIO_MAGIC, 1), -1); /* read-only */
	cr_assert_eq(wr(0x0fe, 1), -1);		    /* misaligned */
	uint64_t v;
	cr_assert_eq(mmio_access(&vs->vdev, 0xffc, &v, 8, false), -1);
	cr_assert_eq(mmio_access(&vs->vdev, 0x1000, &v, 4, false), -1);
	cr_assert_eq(rd(0x0f0), 0); /* unknown reads are harmless */
}

Test(vmm_vsock, queue_outside_ram_needs_reset)
{
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 16);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 1); /* 4 GiB: past RAM */
	cr_assert_eq(wr(VIRTIO_MMIO_QUEUE_READY, 1), -1);
	cr_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 100); /* not a power of two */
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	cr_assert_eq(wr(VIRTIO_MMIO_QUEUE_READY, 1), -1);
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	wr(VIRTIO_MMIO_QUEUE_SEL, 7); /* no such queue */
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	cr_assert_eq(wr(VIRTIO_MMIO_QUEUE_READY, 1), -1);
}

/* ---- connections ---- */

Test(vmm_vsock, connect_all_four_streams)
{
	guest_connect(AL_PORT_CONTROL, 4096);
	guest_connect(AL_PORT_STDIN, 0);
	guest_connect(AL_PORT_STDOUT, 0);
	guest_connect(AL_PORT_STDERR, 0);
}

Test(vmm_vsock, request_to_other_port_gets_rst)
{
	struct virtio_vsock_hdr h =
	    mkhdr(1234, VIRTIO_VSOCK_OP_REQUEST, 0, 0, 0);
	rx_post(4096);
	cr_assert_eq(tx(&h, NULL, 0), 0);
	struct virtio_vsock_hdr r;
	cr_assert(rx_get(&r, NULL, 0));
	cr_assert_eq(r.op, VIRTIO_VSOCK_OP_RST);
	cr_assert_eq(r.src_port, 1234);
	cr_assert_eq(r.dst_port, AL_GUEST_PORT(1234));
}

Test(vmm_vsock, second_request_gets_rst)
{
	guest_connect(AL_PORT_STDOUT, 0);
	struct virtio_vsock_hdr h =
	    mkhdr(AL_PORT_STDOUT, VIRTIO_VSOCK_OP_REQUEST, 0, 0, 0);
	rx_post(4096);
	cr_assert_eq(tx(&h, NULL, 0), 0);
	struct virtio_vsock_hdr r;
	cr_assert(rx_get(&r, NULL, 0));
	cr_assert_eq(r.op, VIRTIO_VSOCK_OP_RST);
}

Test(vmm_vsock, packet_for_unknown_connection_gets_rst)
{
	struct virtio_vsock_hdr h =
	    mkhdr(AL_PORT_STDOUT, VIRTIO_VSOCK_OP_RW, 5, 0, 0);
	rx_post(4096);
	cr_assert_eq(tx(&h, "hello", 5), 0);
	struct virtio_vsock_hdr r;
	cr_assert(rx_get(&r, NULL, 0));
	cr_assert_eq(r.op, VIRTIO_VSOCK_OP_RST);
	cr_assert_eq(st_out.bytes, 0);
	/* from the wrong guest port on a live connection: also unknown */
	guest_connect(AL_PORT_STDOUT, 0);
	h.src_port = 5555;
	rx_post(4096);
	cr_assert_eq(tx(&h, "hello", 5), 0);
	cr_assert(rx_get(&r, NULL, 0));
	cr_assert_eq(r.op, VIRTIO_VSOCK_OP_RST);
	cr_assert_eq(r.dst_port, 5555);
	/* an RST for an unknown connection is not answered */
	h.op = VIRTIO_VSOCK_OP_RST;
	h.len = 0;
	rx_post(4096);
	cr_assert_eq(tx(&h, NULL, 0), 0);
	cr_assert_not(rx_get(&r, NULL, 0));
}

Test(vmm_vsock, packets_from_wrong_cid_are_dropped)
{
	struct virtio_vsock_hdr h =
	    mkhdr(AL_PORT_CONTROL, VIRTIO_VSOCK_OP_REQUEST, 0, 0, 0);
	h.src_cid = 7;
	rx_post(4096);
	cr_assert_eq(tx(&h, NULL, 0), 0);
	struct virtio_vsock_hdr r;
	cr_assert_not(rx_get(&r, NULL, 0));
}

/* ---- output ---- */

static void fill_pattern(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 31 + seed) ^ (i >> 8));
}

static size_t drain(int fd, uint8_t *dst, size_t max)
{
	size_t got = 0;
	for (;;) {
		ssize_t n = read(fd, dst + got, max - got);
		if (n <= 0)
			return got;
		got += (size_t)n;
	}
}

Test(vmm_vsock, stdout_reaches_pipe_byte_exact)
{
	static uint8_t data[3 * 60000], got[sizeof(data) + 10];
	fill_pattern(data, sizeof(data), 5);
	fcntl(out_pipe[1], F_SETPIPE_SZ, 1 << 20);
	guest_connect(AL_PORT_STDOUT, 0);
	for (int i = 0; i < 3; i++) {
		struct virtio_vsock_hdr h =
		    mkhdr(AL_PORT_STDOUT, VIRTIO_VSOCK_OP_RW, 60000, 0, 0);
		cr_assert_eq(tx(&h, data + i * 60000, 60000), 0, "%s",
			     vs->vdev.err);
	}
	cr_assert_eq(drain(out_pipe[0], got, sizeof(got)), sizeof(data));
	cr_assert_arr_eq(got, data, sizeof(data));
	cr_assert_eq(st_out.bytes, sizeof(data));
	cr_assert_not(st_out.truncated);
}

/* A device reset leaves output buffered on the host: a new connection is
 * told only the credit the buffer has room for, and may use all of it. */
Test(vmm_vsock, reconnect_after_reset_gets_the_credit_left)
{
	static uint8_t data[60000];
	fill_pattern(data, sizeof(data), 9);
	guest_connect(AL_PORT_STDOUT, 0);
	for (int i = 0; i < 3; i++) {
		struct virtio_vsock_hdr h = mkhdr(
		    AL_PORT_STDOUT, VIRTIO_VSOCK_OP_RW, sizeof(data), 0, 0);
		cr_assert_eq(tx(&h, data, sizeof(data)), 0, "%s", vs->vdev.err);
	}
	uint32_t buffered = vs->s[VS_STDOUT].buf_len;
	cr_assert_gt(buffered, 0, "the pipe took everything");
	wr(VIRTIO_MMIO_STATUS, 0);
	driver_init();
	struct virtio_vsock_hdr h =
	    mkhdr(AL_PORT_STDOUT, VIRTIO_VSOCK_OP_REQUEST, 0, 0, 0);
	rx_post(4096);
	cr_assert_eq(tx(&h, NULL, 0), 0, "%s", vs->vdev.err);
	struct virtio_vsock_hdr r;
	cr_assert(rx_get(&r, NULL, 0));
	cr_assert_eq(r.op, VIRTIO_VSOCK_OP_RESPONSE);
	uint32_t credit = r.buf_alloc - (0u - r.fwd_cnt);
	cr_assert_eq(credit, AL_HOST_STREAM_BUF - buffered);
	for (uint32_t sent = 0; sent < credit;) {
		uint32_t n = credit - sent < sizeof(data) ? credit - sent
							  : sizeof(data);
		h = mkhdr(AL_PORT_STDOUT, VIRTIO_VSOCK_OP_RW, n, 0, 0);
		cr_assert_eq(tx(&h, data, n), 0, "%s", vs->vdev.err);
		sent += n;
	}
}

/* The policy's stdout_bytes: the first bytes pass exactly, the rest is
 * dropped without ending the job (no RST), and the stream says truncated. */
Test(vmm_vsock, stdout_cap_passes_exactly_the_cap)
{
	static uint8_t data[3 * 60000], got[sizeof(data)];
	struct vsock_fds capped = streams(100000);
	vsock_attach(vs, &capped);
	fill_pattern(data, sizeof(data), 3);
	fcntl(out_pipe[1], F_SETPIPE_SZ, 1 << 20);
	guest_connect(AL_PORT_STDOUT, 0);
	rx_post(4096);
	for (int i = 0; i < 3; i++) {
		struct virtio_vsock_hdr h =
		    mkhdr(AL_PORT_STDOUT, VIRTIO_VSOCK_OP_RW, 60000, 0, 0);
		cr_assert_eq(tx(&h, data + i * 60000, 60000), 0, "%s",
			     vs->vdev.err);
	}
	cr_assert_eq(drain(out_pipe[0], got, sizeof(got)), 100000);
	cr_assert_arr_eq(got, data, 100000);
	cr_assert_eq(st_out.bytes, 100000);
	cr_assert(st_out.truncated);
	struct virtio_vsock_hdr r;
	while (rx_get(&r, NULL, 0))
		cr_assert_neq(r.op, VIRTIO_VSOCK_OP_RST);
}

Test(vmm_vsock, stdout_buffers_when_pipe_is_full_and_updates_credit)
{
	static uint8_t data[200000], got[sizeof(data)];
	fill_pattern(data, sizeof(data), 9);
	int sz = fcntl(out_pipe[1], F_SETPIPE_SZ, 4096);
	cr_assert_geq(sz, 4096);
	guest_connect(AL_PORT_STDOUT, 0);
	uint32_t sent = 0;
	while (sent < sizeof(data)) {
		uint32_t n =
		    sizeof(data) - sent > 50000 ? 50000 : sizeof(data) - sent;
		struct virtio_vsock_hdr h =
		    mkhdr(AL_PORT_STDOUT, VIRTIO_VSOCK_OP_RW, n, 0, 0);
		cr_assert_eq(tx(&h, data + sent, n), 0, "%s", vs->vdev.err);
		sent += n;
	}
	/* the pipe took a little, the rest waits on the host */
	cr_assert(vsock_buffered(vs));
	cr_assert_lt(st_out.bytes, sizeof(data));
	struct pollfd pfd[VSOCK_POLL_MAX];
	cr_assert_eq(vsock_poll_fds(vs, pfd), 1);
	cr_assert_eq(pfd[0].fd, out_pipe[1]);
	cr_assert_eq(pfd[0].events, POLLOUT);
	size_t have = 0;
	while (have < sizeof(data)) {
		size_t n = drain(out_pipe[0], got + have, sizeof(got) - have);
		have += n;
		vsock_flush(vs);
		if (n == 0 && !vsock_buffered(vs))
			break;
	}
	cr_assert_eq(have, sizeof(data));
	cr_assert_arr_eq(got, data, sizeof(data));
	cr_assert_eq(st_out.bytes, sizeof(data));
	/* having drained more than half the credit, the device tells the
	 * guest so in the next RX buffer */
	rx_post(4096);
	cr_assert_eq(vsock_process(vs), 0);
	struct virtio_vsock_hdr r;
	cr_assert(rx_get(&r, NULL, 0));
	cr_assert_eq(r.op, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	cr_assert_eq(r.fwd_cnt, sizeof(data));
}

Test(vmm_vsock, credit_request_is_answered)
{
	guest_connect(AL_PORT_STDERR, 0);
	struct virtio_vsock_hdr h =
	    mkhdr(AL_PORT_STDERR, VIRTIO_VSOCK_OP_RW, 3, 0, 0);
	cr_assert_eq(tx(&h, "abc", 3), 0);
	h = mkhdr(AL_PORT_STDERR, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 0, 0, 0);
	rx_post(4096);
	cr_assert_eq(tx(&h, NULL, 0), 0);
	struct virtio_vsock_hdr r;
	cr_assert(rx_get(&r, NULL, 0));
	cr_assert_eq(r.op, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	cr_assert_eq(r.fwd_cnt, 3);
	cr_assert_eq(r.buf_alloc, AL_HOST_STREAM_BUF);
	char got[8];
	cr_assert_eq(read(err_pipe[0], got, sizeof(got)), 3);
	cr_assert_eq(st_err.bytes, 3);
}

Test(vmm_vsock, credit_violation_ends_the_vm)
{
	static uint8_t data[AL_VSOCK_MAX_PAYLOAD];
	fcntl(out_pipe[1], F_SETPIPE_SZ, 4096);
	guest_connect(AL_PORT_STDOUT, 0);
	int rc = 0;
	uint32_t sent = 0;
	/* the reader never reads: after 256 KiB the guest is out of credit */
	for (int i = 0; i < 5 && rc == 0; i++) {
		struct virtio_vsock_hdr h = mkhdr(
		    AL_PORT_STDOUT, VIRTIO_VSOCK_OP_RW, sizeof(data), 0, 0);
		rc = tx(&h, data, sizeof(data));
		if (rc == 0)
			sent += sizeof(data);
	}
	cr_assert_eq(rc, -1);
	cr_assert_eq(sent, AL_HOST_STREAM_BUF);
	cr_assert(strstr(vs->vdev.err, "credit"), "%s", vs->vdev.err);
}

Test(vmm_vsock, oversized_or_lying_packets_end_the_vm)
{
	guest_connect(AL_PORT_STDOUT, 0);
	struct virtio_vsock_hdr h = mkhdr(AL_PORT_STDOUT, VIRTIO_VSOCK_OP_RW,
					  AL_VSOCK_MAX_PAYLOAD + 1, 0, 0);
	cr_assert_eq(tx(&h, "x", 1), -1);
	cr_assert(strstr(vs->vdev.err, "payload"), "%s", vs->vdev.err);
}

Test(vmm_vsock, header_longer_than_chain_ends_the_vm)
{
	struct fq *f = &q[VIRTIO_VSOCK_QUEUE_TX];
	set_desc(f, 0, f->bufs, 10, 0, 0);
	offer(f, 0);
	cr_assert_eq(notify(VIRTIO_VSOCK_QUEUE_TX), -1);
	cr_assert(strstr(vs->vdev.err, "shorter than a packet header"), "%s",
		  vs->vdev.err);
}

Test(vmm_vsock, looping_tx_chain_ends_the_vm)
{
	struct fq *f = &q[VIRTIO_VSOCK_QUEUE_TX];
	set_desc(f, 0, f->bufs, 64, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, 1, f->bufs, 64, VIRTQ_DESC_F_NEXT, 0);
	offer(f, 0);
	cr_assert_eq(notify(VIRTIO_VSOCK_QUEUE_TX), -1);
}

Test(vmm_vsock, rx_chain_too_small_ends_the_vm)
{
	struct virtio_vsock_hdr h =
	    mkhdr(1234, VIRTIO_VSOCK_OP_REQUEST, 0, 0, 0);
	rx_post(20);
	cr_assert_eq(tx(&h, NULL, 0), -1);
	cr_assert(strstr(vs->vdev.err, "RX chain"), "%s", vs->vdev.err);
}

Test(vmm_vsock, dead_reader_truncates_and_resets)
{
	closefd(&out_pipe[0]);
	guest_connect(AL_PORT_STDOUT, 0);
	struct virtio_vsock_hdr h =
	    mkhdr(AL_PORT_STDOUT, VIRTIO_VSOCK_OP_RW, 5, 0, 0);
	rx_post(4096);
	cr_assert_eq(tx(&h, "hello", 5), 0, "%s", vs->vdev.err);
	cr_assert(st_out.truncated);
	struct virtio_vsock_hdr r;
	cr_assert(rx_get(&r, NULL, 0));
	cr_assert_eq(r.op, VIRTIO_VSOCK_OP_RST);
	cr_assert_eq(r.src_port, AL_PORT_STDOUT);
}

/* ---- input ---- */

Test(vmm_vsock, stdin_respects_guest_credit)
{
	static uint8_t data[1000], got[1000];
	struct virtio_vsock_hdr r;
	fill_pattern(data, sizeof(data), 1);
	cr_assert_eq(write(in_pipe[1], data, sizeof(data)), sizeof(data));

	guest_connect(AL_PORT_STDIN, 100);
	/* the RX chain is big, the credit is not */
	rx_post(8192);
	cr_assert_eq(vsock_process(vs), 0);
	cr_assert(rx_get(&r, got, sizeof(got)));
	cr_assert_eq(r.op, VIRTIO_VSOCK_OP_RW);
	cr_assert_eq(r.len, 100);
	cr_assert_arr_eq(got, data, 100);
	cr_assert_eq(st_in.bytes, 100);

	/* no credit left: the next buffer stays unused, nothing to poll */
	rx_post(8192);
	cr_assert_eq(vsock_process(vs), 0);
	cr_assert_not(rx_get(&r, NULL, 0));
	struct pollfd pfd[VSOCK_POLL_MAX];
	cr_assert_eq(vsock_poll_fds(vs, pfd), 0);

	/* more credit: the rest arrives, in the buffer already posted */
	struct virtio_vsock_hdr h =
	    mkhdr(AL_PORT_STDIN, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 5000, 100);
	cr_assert_eq(tx(&h, NULL, 0), 0);
	cr_assert(rx_get(&r, got + 100, sizeof(got) - 100));
	cr_assert_eq(r.op, VIRTIO_VSOCK_OP_RW);
	cr_assert_eq(r.len, 900);
	cr_assert_arr_eq(got, data, sizeof(data));

	/* pipe empty but open: wait for it */
	rx_post(8192);
	cr_assert_eq(vsock_process(vs), 0);
	cr_assert_not(rx_get(&r, NULL, 0));
	cr_assert_eq(vsock_poll_fds(vs, pfd), 1);
	cr_assert_eq(pfd[0].fd, in_pipe[0]);

	/* EOF becomes SHUTDOWN(SEND) */
	closefd(&in_pipe[1]);
	cr_assert_eq(vsock_process(vs), 0);
	cr_assert(rx_get(&r, NULL, 0));
	cr_assert_eq(r.op, VIRTIO_VSOCK_OP_SHUTDOWN);
	cr_assert_eq(r.flags, VIRTIO_VSOCK_SHUTDOWN_SEND);
	cr_assert_eq(st_in.bytes, 1000);
}

Test(vmm_vsock, guest_data_on_stdin_ends_the_vm)
{
	guest_connect(AL_PORT_STDIN, 0);
	struct virtio_vsock_hdr h =
	    mkhdr(AL_PORT_STDIN, VIRTIO_VSOCK_OP_RW, 2, 0, 0);
	cr_assert_eq(tx(&h, "hi", 2), -1);
}

/* ---- control stream ---- */

/* ---- host sockets (vsock.connect) ---- */

static struct virtio_vsock_hdr rx_next(void *payload, uint32_t max)
{
	struct virtio_vsock_hdr r;
	cr_assert(rx_get(&r, payload, max), "no packet from the device");
	return r;
}

static void expect_rst_for(uint32_t port)
{
	struct virtio_vsock_hdr h =
	    mkhdr(port, VIRTIO_VSOCK_OP_REQUEST, 0, 0, 0);
	rx_post(4096);
	cr_assert_eq(tx(&h, NULL, 0), 0, "%s", vs->vdev.err);
	struct virtio_vsock_hdr r = rx_next(NULL, 0);
	cr_assert_eq(r.op, VIRTIO_VSOCK_OP_RST, "port %u: op %u", port, r.op);
	cr_assert_eq(r.src_port, port);
}

Test(vmm_vsock, proxy_carries_bytes_both_ways)
{
	char buf[64];
	guest_connect(SVC_PORT, 0);
	struct virtio_vsock_hdr h =
	    mkhdr(SVC_PORT, VIRTIO_VSOCK_OP_RW, 5, 0, 0);
	cr_assert_eq(tx(&h, "ping\n", 5), 0, "%s", vs->vdev.err);
	cr_assert_eq(read(svc[1], buf, sizeof(buf)), 5);
	cr_assert_arr_eq(buf, "ping\n", 5);

	/* The reply waits in the socket until the guest grants credit. */
	cr_assert_eq(write(svc[1], "pong\n", 5), 5);
	rx_post(8192);
	cr_assert_eq(vsock_process(vs), 0);
	cr_assert_not(rx_get(&h, NULL, 0));
	struct pollfd pfd[VSOCK_POLL_MAX];
	cr_assert_eq(vsock_poll_fds(vs, pfd), 0);
	h = mkhdr(SVC_PORT, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 3, 0);
	cr_assert_eq(tx(&h, NULL, 0), 0);
	struct virtio_vsock_hdr r = rx_next(buf, sizeof(buf));
	cr_assert_eq(r.op, VIRTIO_VSOCK_OP_RW);
	cr_assert_eq(r.len, 3, "only what the guest granted");
	cr_assert_arr_eq(buf, "pon", 3);
	h = mkhdr(SVC_PORT, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 100, 3);
	rx_post(8192);
	cr_assert_eq(tx(&h, NULL, 0), 0);
	r = rx_next(buf, sizeof(buf));
	cr_assert_eq(r.len, 2);
	cr_assert_arr_eq(buf, "g\n", 2);

	/* Nothing more yet: the run loop waits for the socket. */
	rx_post(8192);
	cr_assert_eq(vsock_process(vs), 0);
	cr_assert_eq(vsock_poll_fds(vs, pfd), 1);
	cr_assert_eq(pfd[0].fd, svc[0]);
	cr_assert_eq(pfd[0].events, POLLIN);
}

Test(vmm_vsock, proxy_port_connects_once_and_unmapped_ports_reset)
{
	guest_connect(SVC_PORT, 0);
	expect_rst_for(SVC_PORT);  /* a second connection */
	expect_rst_for(DOWN_PORT); /* mapped, but not reachable */
	expect_rst_for(5002);	   /* not in the policy */
	expect_rst_for(0);	   /* what empty slots hold */
}

Test(vmm_vsock, proxy_end_of_file_both_ways)
{
	char buf[16];
	guest_connect(SVC_PORT, 100);
	/* guest SHUTDOWN(SEND): the service reads end of file */
	struct virtio_vsock_hdr h =
	    mkhdr(SVC_PORT, VIRTIO_VSOCK_OP_SHUTDOWN, 0, 100, 0);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
	cr_assert_eq(tx(&h, NULL, 0), 0);
	cr_assert_eq(read(svc[1], buf, sizeof(buf)), 0);
	/* the service closes: the guest hears SHUTDOWN(SEND) */
	closefd(&svc[1]);
	rx_post(8192);
	cr_assert_eq(vsock_process(vs), 0);
	struct virtio_vsock_hdr r = rx_next(NULL, 0);
	cr_assert_eq(r.op, VIRTIO_VSOCK_OP_SHUTDOWN);
	cr_assert_eq(r.flags, VIRTIO_VSOCK_SHUTDOWN_SEND);
	/* the guest closes too: RST completes it */
	h.flags = VIRTIO_VSOCK_SHUTDOWN_SEND | VIRTIO_VSOCK_SHUTDOWN_RCV;
	rx_post(8192);
	cr_assert_eq(tx(&h, NULL, 0), 0);
	r = rx_next(NULL, 0);
	cr_assert_eq(r.op, VIRTIO_VSOCK_OP_RST);
}

Test(vmm_vsock, proxy_service_gone_resets_the_guest)
{
	closefd(&svc[1]);
	guest_connect(SVC_PORT, 0);
	struct virtio_vsock_hdr h =
	    mkhdr(SVC_PORT, VIRTIO_VSOCK_OP_RW, 5, 0, 0);
	rx_post(4096);
	cr_assert_eq(tx(&h, "hello", 5), 0, "%s", vs->vdev.err);
	struct virtio_vsock_hdr r = rx_next(NULL, 0);
	cr_assert_eq(r.op, VIRTIO_VSOCK_OP_RST);
	cr_assert_eq(r.src_port, SVC_PORT);
	/* what follows on that connection is refused too */
	rx_post(4096);
	cr_assert_eq(tx(&h, "hello", 5), 0, "%s", vs->vdev.err);
	cr_assert_eq(rx_next(NULL, 0).op, VIRTIO_VSOCK_OP_RST);
}

Test(vmm_vsock, guest_reset_shuts_the_service_socket)
{
	char buf[16];
	guest_connect(SVC_PORT, 0);
	struct virtio_vsock_hdr h =
	    mkhdr(SVC_PORT, VIRTIO_VSOCK_OP_RST, 0, 0, 0);
	cr_assert_eq(tx(&h, NULL, 0), 0);
	cr_assert_eq(read(svc[1], buf, sizeof(buf)), 0);
	cr_assert_eq(write(svc[1], "x", 1), -1, "shut for reading too");
}

Test(vmm_vsock, proxy_credit_violation_ends_the_vm)
{
	static uint8_t big[AL_VSOCK_MAX_PAYLOAD];
	guest_connect(SVC_PORT, 0);
	/* the service reads nothing; the guest sends past its credit */
	int rc = 0;
	for (int i = 0; i < 6 && rc == 0; i++) {
		struct virtio_vsock_hdr h = mkhdr(
		    SVC_PORT, VIRTIO_VSOCK_OP_RW, sizeof(big), 0, 0);
		rc = tx(&h, big, sizeof(big));
	}
	cr_assert_eq(rc, -1);
	cr_assert(strstr(vs->vdev.err, "port 5000"), "%s", vs->vdev.err);
}

Test(vmm_vsock, attach_gives_every_job_its_own_connections)
{
	guest_connect(SVC_PORT, 0);
	struct vsock_fds f = {in_pipe[0], out_pipe[1], err_pipe[1],
			      &st_in,	  &st_out,     &st_err,
			      UINT64_MAX, UINT64_MAX,  UINT64_MAX,
			      ports,	  1,	       false};
	vsock_attach(vs, &f);
	guest_connect(SVC_PORT, 0);
	f.nports = 0;
	vsock_attach(vs, &f);
	expect_rst_for(SVC_PORT);
}

static int ctl_send(uint16_t type, const void *payload, uint32_t len,
		    uint32_t magic)
{
	uint8_t buf[512];
	struct al_msg_hdr m = {magic, AL_PROTO_VERSION, type, len, 0};
	memcpy(buf, &m, sizeof(m));
	if (len)
		memcpy(buf + sizeof(m), payload, len);
	struct virtio_vsock_hdr h = mkhdr(AL_PORT_CONTROL, VIRTIO_VSOCK_OP_RW,
					  (uint32_t)sizeof(m) + len, 65536, 0);
	return tx(&h, buf, (uint32_t)sizeof(m) + len);
}

Test(vmm_vsock, ready_then_job_then_result)
{
	guest_connect(AL_PORT_CONTROL, 0);
	cr_assert_eq(ctl_send(AL_MSG_READY, NULL, 0, AL_MSG_MAGIC), 0, "%s",
		     vs->vdev.err);
	cr_assert_eq(ctl.state, CTL_READY);

	char *argv[] = {"prog", "a b", NULL}, *envp[] = {"X=1", NULL};
	struct vmm_job_image img = {.load_bias = 0x400000};
	uint8_t *msg;
	size_t len;
	cr_assert_eq(
	    control_build_job(argv, envp, &img, 176, 1 << 20, NULL, 0, &msg, &len, err),
	    0, "%s", err);
	cr_assert_eq(len,
		     sizeof(struct al_msg_hdr) + sizeof(struct al_job) + 13);
	vsock_send_control(vs, msg, len);
	ctl.state = CTL_RUNNING;
	/* the guest's credit (65536 from its last packet) covers it */
	rx_post(8192);
	cr_assert_eq(vsock_process(vs), 0);
	struct virtio_vsock_hdr r;
	uint8_t got[8192];
	cr_assert(rx_get(&r, got, sizeof(got)));
	cr_assert_eq(r.op, VIRTIO_VSOCK_OP_RW);
	cr_assert_eq(r.len, len);
	struct al_msg_hdr mh;
	struct al_job j;
	memcpy(&mh, got, sizeof(mh));
	memcpy(&j, got + sizeof(mh), sizeof(j));
	cr_assert_eq(mh.magic, AL_MSG_MAGIC);
	cr_assert_eq(mh.type, AL_MSG_JOB);
	cr_assert_eq(mh.len, sizeof(j) + 13);
	cr_assert_eq(j.argc, 2);
	cr_assert_eq(j.envc, 1);
	cr_assert_eq(j.load_bias, 0x400000);
	cr_assert_eq(j.hdr_len, 176);
	cr_assert_eq(j.stack_bytes, 1 << 20);
	cr_assert_arr_eq(got + sizeof(mh) + sizeof(j), "prog\0a b\0X=1\0", 13);

	struct al_result_msg res = {AL_EXIT_CODE, 42, 0, 0, 17};
	cr_assert_eq(ctl_send(AL_MSG_RESULT, &res, sizeof(res), AL_MSG_MAGIC),
		     0, "%s", vs->vdev.err);
	cr_assert_eq(ctl.state, CTL_DONE);
	cr_assert_eq(ctl.result.value, 42);
	cr_assert_eq(ctl.result.syscalls, 17);
}

Test(vmm_vsock, job_waits_for_guest_credit)
{
	guest_connect(AL_PORT_CONTROL, 0); /* no credit granted */
	uint8_t *msg = malloc(100);
	memset(msg, 7, 100);
	vsock_send_control(vs, msg, 100);
	rx_post(8192);
	cr_assert_eq(vsock_process(vs), 0);
	struct virtio_vsock_hdr r;
	cr_assert_not(rx_get(&r, NULL, 0));
	/* 40 bytes of credit: 40 bytes, then the rest after more credit */
	struct virtio_vsock_hdr h =
	    mkhdr(AL_PORT_CONTROL, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 40, 0);
	cr_assert_eq(tx(&h, NULL, 0), 0);
	cr_assert(rx_get(&r, NULL, 0));
	cr_assert_eq(r.len, 40);
	rx_post(8192);
	h = mkhdr(AL_PORT_CONTROL, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 1000, 40);
	cr_assert_eq(tx(&h, NULL, 0), 0);
	cr_assert(rx_get(&r, NULL, 0));
	cr_assert_eq(r.len, 60);
}

Test(vmm_vsock, control_split_across_packets)
{
	guest_connect(AL_PORT_CONTROL, 0);
	struct al_msg_hdr m = {AL_MSG_MAGIC, AL_PROTO_VERSION, AL_MSG_READY, 0,
			       0};
	for (unsigned i = 0; i < sizeof(m); i++) {
		struct virtio_vsock_hdr h =
		    mkhdr(AL_PORT_CONTROL, VIRTIO_VSOCK_OP_RW, 1, 0, 0);
		cr_assert_eq(tx(&h, (uint8_t *)&m + i, 1), 0);
	}
	cr_assert_eq(ctl.state, CTL_READY);
}

Test(vmm_vsock, malformed_control_messages_are_rejected)
{
	guest_connect(AL_PORT_CONTROL, 0);
	cr_assert_eq(ctl_send(AL_MSG_READY, NULL, 0, 0xdeadbeef), -1);
	cr_assert(strstr(vs->vdev.err, "magic"), "%s", vs->vdev.err);
}

Test(vmm_vsock, control_message_length_is_bounded)
{
	struct vmm_control c;
	struct al_msg_hdr m = {AL_MSG_MAGIC, AL_PROTO_VERSION,
			       AL_MSG_EXEC_ERROR, 0x7fffffff, 0};
	control_init(&c, false);
	c.state = CTL_RUNNING;
	cr_assert_eq(control_feed(&c, (uint8_t *)&m, sizeof(m), err), -1);
	m.len = AL_EXEC_ERROR_MAX + 1;
	control_init(&c, false);
	cr_assert_eq(control_feed(&c, (uint8_t *)&m, sizeof(m), err), -1);
	m.type = AL_MSG_READY;
	m.len = 4;
	control_init(&c, false);
	cr_assert_eq(control_feed(&c, (uint8_t *)&m, sizeof(m), err), -1);
	m.type = AL_MSG_JOB; /* host -> guest only */
	m.len = 0;
	control_init(&c, false);
	cr_assert_eq(control_feed(&c, (uint8_t *)&m, sizeof(m), err), -1);
	m.type = 99;
	control_init(&c, false);
	cr_assert_eq(control_feed(&c, (uint8_t *)&m, sizeof(m), err), -1);
	m.type = AL_MSG_READY;
	m.version = 2;
	control_init(&c, false);
	cr_assert_eq(control_feed(&c, (uint8_t *)&m, sizeof(m), err), -1);
}

static int feed_msg(struct vmm_control *c, uint16_t type, const void *p,
		    uint32_t len)
{
	uint8_t buf[600];
	struct al_msg_hdr m = {AL_MSG_MAGIC, AL_PROTO_VERSION, type, len, 0};
	memcpy(buf, &m, sizeof(m));
	memcpy(buf + sizeof(m), p, len);
	return control_feed(c, buf, sizeof(m) + len, err);
}

Test(vmm_vsock, result_values_are_checked)
{
	struct vmm_control c;
	struct al_result_msg r = {AL_EXIT_CODE, 0, 0, 0, 0};

	control_init(&c, false);
	cr_assert_eq(feed_msg(&c, AL_MSG_RESULT, &r, sizeof(r)),
		     -1); /* early */
	cr_assert(strstr(err, "before the job"), "%s", err);
	uint32_t bad[][2] = {{AL_EXIT_CODE, 256},
			     {AL_EXIT_SIGNAL, 0},
			     {AL_EXIT_SIGNAL, 65},
			     {9, 1}};
	for (unsigned i = 0; i < 4; i++) {
		control_init(&c, false);
		c.state = CTL_RUNNING;
		r.kind = bad[i][0];
		r.value = bad[i][1];
		cr_assert_eq(feed_msg(&c, AL_MSG_RESULT, &r, sizeof(r)), -1);
	}
	control_init(&c, false);
	c.state = CTL_RUNNING;
	r.kind = AL_EXIT_SIGNAL;
	r.value = 11;
	cr_assert_eq(feed_msg(&c, AL_MSG_RESULT, &r, sizeof(r)), 0, "%s", err);
	cr_assert_eq(c.state, CTL_DONE);
	/* wrong size for its type */
	control_init(&c, false);
	c.state = CTL_RUNNING;
	cr_assert_eq(feed_msg(&c, AL_MSG_RESULT, &r, sizeof(r) - 1), -1);
}

Test(vmm_vsock, exec_error_text_is_sanitized)
{
	struct vmm_control c;
	control_init(&c, false);
	c.state = CTL_RUNNING;
	cr_assert_eq(feed_msg(&c, AL_MSG_EXEC_ERROR, "bad\x1b[31m\n\xff!", 11),
		     0, "%s", err);
	cr_assert(c.exec_error);
	cr_assert_str_eq(c.exec_msg, "bad?[31m?"
				     "?!");
	cr_assert_eq(c.state, CTL_DONE);
}

Test(vmm_vsock, drive_error_keeps_the_index_apart_from_the_text)
{
	struct vmm_control c;
	control_init(&c, false);
	c.state = CTL_RUNNING;
	cr_assert_eq(feed_msg(&c, AL_MSG_DRIVE_ERROR, "\xff" "bad\x1b!", 6), 0,
		     "%s", err);
	cr_assert(c.exec_error);
	cr_assert_eq(c.drive_error, 256, "1 + the guest's index");
	cr_assert_str_eq(c.exec_msg, "bad?!");
	/* an index and no text */
	control_init(&c, false);
	c.state = CTL_RUNNING;
	cr_assert_eq(feed_msg(&c, AL_MSG_DRIVE_ERROR, "\x01", 1), -1);
	cr_assert(strstr(err, "DRIVE_ERROR"), "%s", err);
}

Test(vmm_vsock, second_ready_is_rejected)
{
	struct vmm_control c;
	control_init(&c, false);
	cr_assert_eq(feed_msg(&c, AL_MSG_READY, "", 0), 0);
	cr_assert_eq(feed_msg(&c, AL_MSG_READY, "", 0), -1);
}

Test(vmm_vsock, enosys_is_named_once, .init = NULL, .fini = NULL)
{
	struct vmm_control c;
	struct al_enosys_msg m = {.nr = 999999};
	control_init(&c, true);
	c.state = CTL_RUNNING;
	for (int i = 0; i < 40; i++)
		cr_assert_eq(feed_msg(&c, AL_MSG_ENOSYS, &m, sizeof(m)), 0);
	m.nr = 0;
	cr_assert_eq(feed_msg(&c, AL_MSG_ENOSYS, &m, sizeof(m)), 0);
	cr_assert_eq(feed_msg(&c, AL_MSG_ENOSYS, &m, sizeof(m)), 0);
	cr_assert(c.enosys_seen[0] & 1);
	cr_assert_str_eq(syscall_name(0), "read");
	cr_assert_str_eq(syscall_name(60), "exit");
	cr_assert_str_eq(syscall_name(231), "exit_group");
	cr_assert_null(syscall_name(100000));
}

/* --verbose: a refused syscall is named as the policy's doing, an
 * unimplemented one as the kernel's lack, each once. */
Test(vmm_vsock, refused_and_unimplemented_are_told_apart,
     .init = cr_redirect_stderr, .fini = NULL)
{
	struct vmm_control c;
	struct al_enosys_msg m = {.nr = 39, .refused = 1};
	control_init(&c, true);
	c.state = CTL_RUNNING;
	cr_assert_eq(feed_msg(&c, AL_MSG_ENOSYS, &m, sizeof(m)), 0);
	cr_assert_eq(feed_msg(&c, AL_MSG_ENOSYS, &m, sizeof(m)), 0);
	m = (struct al_enosys_msg){.nr = 334};
	cr_assert_eq(feed_msg(&c, AL_MSG_ENOSYS, &m, sizeof(m)), 0);
	fflush(stderr);
	cr_assert_stderr_eq_str(
	    "airlock: the policy refused the job's syscall 39 (getpid)\n"
	    "airlock: job used unimplemented syscall 334 (rseq)\n");
}

Test(vmm_vsock, argument_list_too_long, .init = NULL, .fini = NULL)
{
	static char big[70000];
	char *argv[] = {"prog", big, big, big, big, NULL}, *envp[] = {NULL};
	uint32_t count, bytes;
	memset(big, 'a', sizeof(big) - 1);
	cr_assert_eq(control_check_args(argv, envp, &count, &bytes, err), -1);
	cr_assert(strstr(err, "argument list too long"), "%s", err);
	argv[3] = NULL;
	cr_assert_eq(control_check_args(argv, envp, &count, &bytes, err), 0);
	cr_assert_eq(count, 3);
	cr_assert_eq(bytes, 5 + 2 * sizeof(big));
}
