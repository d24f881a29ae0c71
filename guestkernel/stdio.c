/*
 * Descriptors 0, 1 and 2: the job's standard streams over vsock. Data moves
 * between the job's buffers and the host without a copy in ring 0: the
 * device reads and writes the (validated) job memory itself.
 */
#include "fuzz.h"
#include "vfs.h"

#define RX_SEGS 11 /* what the vsock payload chain holds */

static enum gk_stream stream_of(const struct gk_file *f)
{
	return (enum gk_stream)(uintptr_t)f->priv;
}

static long stdin_readv(struct gk_file *f, const struct gk_iov *iov,
			unsigned n, uint64_t off)
{
	(void)off;
	/* One packet at most arrives per read. */
	struct gk_iov seg[RX_SEGS];
	unsigned k = 0;
	uint64_t room = AL_VSOCK_MAX_PAYLOAD;
	for (unsigned i = 0; i < n && k < RX_SEGS && room; i++) {
		uint64_t len = GK_MIN(iov[i].len, room);
		if (!len)
			continue;
		seg[k++] = (struct gk_iov){iov[i].base, len};
		room -= len;
	}
	return k ? vsock_recv(stream_of(f), seg, k, true) : 0;
}

static long stdout_writev(struct gk_file *f, const struct gk_iov *iov,
			  unsigned n, uint64_t off)
{
	(void)off;
	uint64_t total = 0;
	for (unsigned i = 0; i < n; i++)
		total += iov[i].len;
	if (!total || fuzz_drops_output())
		return (long)total;
	long r = vsock_send(stream_of(f), iov, n, total);
	if (r == -EPIPE)
		proc_raise(GK_SIGPIPE); /* returns unless it kills the job */
	return r;
}

/* A read waits for data, so stdin counts as readable for poll. */
static const struct gk_file_ops stdin_ops = {
	.readv = stdin_readv,
	.writev = file_bad_rw,
	.can_read = file_always_ready,
};

static const struct gk_file_ops stdout_ops = {
	.readv = file_bad_rw,
	.writev = stdout_writev,
	.can_write = file_always_ready,
};

static void install(long fd, const struct gk_file_ops *ops, uint32_t flags,
		    enum gk_stream s)
{
	struct gk_file *f = file_new(ops, flags);
	if (!f)
		gk_panic("no memory for standard stream %u", (uint64_t)fd);
	f->priv = (void *)(uintptr_t)s;
	f->stream_ino = (uint64_t)fd + 1;
	fd_install_at(f, fd, false);
}

void stdio_install(void)
{
	install(0, &stdin_ops, O_RDONLY, GK_STDIN);
	install(1, &stdout_ops, O_WRONLY, GK_STDOUT);
	install(2, &stdout_ops, O_WRONLY, GK_STDERR);
}
