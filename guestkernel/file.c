/*
 * Open files and the descriptor table. A file on an inode reads and writes
 * through the inode's operations at the file position; streams and pipes
 * bring their own operations.
 */
#include "kmem.h"
#include "vfs.h"

/* Descriptors are ints in Linux: upper bits of the register are noise. */
struct gk_file *fd_file(long fd)
{
	int n = (int)fd;
	return n >= 0 && n < GK_NFDS ? gk_proc.files[n] : NULL;
}

/* For an open descriptor (fd_file(fd) != NULL) only. */
bool fd_cloexec(long fd)
{
	unsigned n = (unsigned)(int)fd;
	return gk_proc.cloexec[n / 64] >> (n % 64) & 1;
}

void fd_set_cloexec(long fd, bool on)
{
	unsigned n = (unsigned)(int)fd;
	uint64_t bit = 1ull << (n % 64);
	gk_proc.cloexec[n / 64] = on ? gk_proc.cloexec[n / 64] | bit
				     : gk_proc.cloexec[n / 64] & ~bit;
}

long fd_install_at(struct gk_file *f, long fd, bool cloexec)
{
	struct gk_file *old = gk_proc.files[fd];
	gk_proc.files[fd] = f;
	fd_set_cloexec(fd, cloexec);
	if (old)
		file_put(old);
	return fd;
}

long fd_install(struct gk_file *f, long min, bool cloexec)
{
	for (long fd = min; fd < GK_NFDS; fd++)
		if (!gk_proc.files[fd])
			return fd_install_at(f, fd, cloexec);
	file_put(f);
	return -EMFILE;
}

long fd_close(long fd)
{
	struct gk_file *f = fd_file(fd);
	if (!f)
		return -EBADF;
	gk_proc.files[(int)fd] = NULL;
	file_put(f);
	return 0;
}

struct gk_file *file_new(const struct gk_file_ops *ops, uint32_t flags)
{
	struct gk_file *f = kmalloc(sizeof(*f));
	if (!f)
		return NULL;
	f->ops = ops;
	f->flags = flags;
	f->refs = 1;
	return f;
}

struct gk_file *file_get(struct gk_file *f)
{
	f->refs++;
	return f;
}

void file_put(struct gk_file *f)
{
	if (--f->refs)
		return;
	if (f->ops->release)
		f->ops->release(f);
	inode_put(f->inode);
	kfree(f);
}

bool file_readable(const struct gk_file *f)
{
	return (f->flags & O_ACCMODE) != O_WRONLY && !(f->flags & O_PATH);
}

bool file_writable(const struct gk_file *f)
{
	return (f->flags & O_ACCMODE) != O_RDONLY && !(f->flags & O_PATH);
}

typedef long (*inode_io)(struct gk_inode *in, uint64_t addr, uint64_t len,
			 uint64_t off);

/* Moves data segment by segment, stopping at the first short transfer. */
static long inode_rw(struct gk_inode *in, inode_io io,
		     const struct gk_iov *iov, unsigned n, uint64_t off)
{
	uint64_t done = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!iov[i].len)
			continue;
		long r = io(in, iov[i].base, iov[i].len, off + done);
		if (r < 0)
			return done ? (long)done : r;
		done += (uint64_t)r;
		if ((uint64_t)r < iov[i].len)
			break;
	}
	return (long)done;
}

static long inode_readv(struct gk_file *f, const struct gk_iov *iov,
			unsigned n, uint64_t off)
{
	struct gk_inode *in = f->inode;
	if (S_ISDIR(in->mode))
		return -EISDIR;
	if (!in->ops->read)
		return -EINVAL;
	long r = inode_rw(in, in->ops->read, iov, n, off);
	if (r > 0)
		in->atime = time_realtime_ns();
	return r;
}

static long inode_writev(struct gk_file *f, const struct gk_iov *iov,
			 unsigned n, uint64_t off)
{
	struct gk_inode *in = f->inode;
	if (!in->ops->write)
		return in->read_only ? -EROFS : -EINVAL;
	long r = inode_rw(in, in->ops->write, iov, n, off);
	if (r > 0)
		inode_touch(in, true);
	return r;
}

bool file_always_ready(struct gk_file *f)
{
	(void)f;
	return true;
}

long file_bad_rw(struct gk_file *f, const struct gk_iov *iov, unsigned n,
		 uint64_t off)
{
	(void)f, (void)iov, (void)n, (void)off;
	return -EBADF;
}

static const struct gk_file_ops inode_fops = {
	.readv = inode_readv,
	.writev = inode_writev,
	.can_read = file_always_ready,
	.can_write = file_always_ready,
	.seekable = true,
};

long file_open_inode(struct gk_inode *in, uint32_t flags,
		     struct gk_file **out)
{
	if (in->ops->open && !(flags & O_PATH))
		return in->ops->open(in, out);
	struct gk_file *f = file_new(&inode_fops, flags);
	if (!f)
		return -ENOMEM;
	f->inode = inode_get(in);
	*out = f;
	return 0;
}
