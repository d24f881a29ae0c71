/*
 * Pipes within the one process: a ring of PIPE_PAGES kernel pages. With a
 * single thread nothing else can drain a full pipe or fill an empty one,
 * so where Linux would block forever the job waits (in `hlt`) until the
 * wall-clock limit ends it, as it would on Linux; O_NONBLOCK gets EAGAIN.
 */
#include "kmem.h"
#include "vfs.h"

#define PIPE_PAGES 16
#define PIPE_BYTES (PIPE_PAGES * AL_PAGE_SIZE) /* Linux's 64 KiB */

struct pipe {
	uint8_t *page[PIPE_PAGES];
	uint64_t head, tail; /* bytes written and read, ever */
	bool reader, writer; /* ends still open */
};

static uint64_t next_pipe_ino = 1u << 20;

/* Copies n bytes between the ring at byte pos and addr. */
static void ring_copy(struct pipe *p, uint64_t pos, uint64_t addr,
		      uint64_t n, bool into_ring)
{
	while (n) {
		uint64_t at = pos % PIPE_BYTES, in_page = at % AL_PAGE_SIZE;
		uint64_t k = GK_MIN(n, AL_PAGE_SIZE - in_page);
		uint8_t *ring = p->page[at / AL_PAGE_SIZE] + in_page;
		void *user = (void *)(uintptr_t)addr;
		if (into_ring)
			gk_copy(ring, user, k);
		else
			gk_copy(user, ring, k);
		pos += k;
		addr += k;
		n -= k;
	}
}

static GK_NORETURN void block_forever(void)
{
	for (;;)
		time_sleep_until(UINT64_MAX);
}

static long pipe_readv(struct gk_file *f, const struct gk_iov *iov,
		       unsigned n, uint64_t off)
{
	(void)off;
	struct pipe *p = f->priv;
	if (p->head == p->tail) {
		if (!p->writer)
			return 0;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		block_forever();
	}
	uint64_t done = 0;
	for (unsigned i = 0; i < n && p->tail < p->head; i++) {
		uint64_t k = GK_MIN(iov[i].len, p->head - p->tail);
		ring_copy(p, p->tail, iov[i].base, k, false);
		p->tail += k;
		done += k;
	}
	return (long)done;
}

static long pipe_writev(struct gk_file *f, const struct gk_iov *iov,
			unsigned n, uint64_t off)
{
	(void)off;
	struct pipe *p = f->priv;
	if (!p->reader) {
		proc_raise(GK_SIGPIPE);
		return -EPIPE;
	}
	uint64_t room = PIPE_BYTES - (p->head - p->tail), done = 0;
	for (unsigned i = 0; i < n && room; i++) {
		uint64_t k = GK_MIN(iov[i].len, room);
		ring_copy(p, p->head, iov[i].base, k, true);
		p->head += k;
		room -= k;
		done += k;
	}
	if (done || !n)
		return (long)done;
	if (f->flags & O_NONBLOCK)
		return -EAGAIN;
	block_forever();
}

static bool pipe_can_read(struct gk_file *f)
{
	struct pipe *p = f->priv;
	return p->head != p->tail || !p->writer;
}

static bool pipe_can_write(struct gk_file *f)
{
	struct pipe *p = f->priv;
	return p->head - p->tail < PIPE_BYTES || !p->reader;
}

static void pipe_free(struct pipe *p)
{
	for (unsigned i = 0; i < PIPE_PAGES; i++)
		if (p->page[i])
			kpage_free(p->page[i]);
	kfree(p);
}

static void pipe_release(struct gk_file *f)
{
	struct pipe *p = f->priv;
	if (file_readable(f))
		p->reader = false;
	else
		p->writer = false;
	if (!p->reader && !p->writer)
		pipe_free(p);
}

static const struct gk_file_ops pipe_ops = {
	.readv = pipe_readv,
	.writev = pipe_writev,
	.can_read = pipe_can_read,
	.can_write = pipe_can_write,
	.release = pipe_release,
};

static struct gk_file *pipe_end(struct pipe *p, uint32_t flags)
{
	struct gk_file *f = file_new(&pipe_ops, flags);
	if (f) {
		f->priv = p;
		f->stream_ino = next_pipe_ino;
	}
	return f;
}

long pipe_create(struct gk_file **rd, struct gk_file **wr)
{
	struct pipe *p = kmalloc(sizeof(*p));
	if (!p)
		return -ENFILE;
	for (unsigned i = 0; i < PIPE_PAGES; i++)
		if (!(p->page[i] = kpage_alloc())) {
			pipe_free(p);
			return -ENFILE;
		}
	p->reader = p->writer = true;
	*rd = pipe_end(p, O_RDONLY);
	*wr = pipe_end(p, O_WRONLY);
	next_pipe_ino++;
	if (!*rd || !*wr) {
		/* file_new failed: undo by hand, no release ran yet */
		kfree(*rd);
		kfree(*wr);
		pipe_free(p);
		return -ENFILE;
	}
	return 0;
}
