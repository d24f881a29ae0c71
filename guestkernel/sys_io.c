/*
 * Moving bytes through descriptors: read/write and their vector and
 * positioned forms, lseek, sendfile, poll. Streams (the vsock stdio) move
 * job memory straight to the device; files go through their inode.
 */
#include "sys.h"
#include "vfs.h"

#define MAX_RW 0x7ffff000ull /* Linux's MAX_RW_COUNT */
#define IOV_MAX 1024
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define SEEK_DATA 3
#define SEEK_HOLE 4
#define POLLIN 0x1
#define POLLOUT 0x4
#define POLLNVAL 0x20
#define POLLRDNORM 0x40
#define POLLWRNORM 0x100

/* The file behind fd if it is open for reading (writing: write). */
static long file_for(long fd, bool write, struct gk_file **out)
{
	struct gk_file *f = fd_file(fd);
	if (!f || !(write ? file_writable(f) : file_readable(f)))
		return -EBADF;
	*out = f;
	return 0;
}

/* Checks a job iovec array and every buffer in it (writable ones for a
 * read); returns the byte total. */
static long iov_check(uint64_t uiov, long cnt, bool for_read)
{
	if (cnt < 0 || cnt > IOV_MAX)
		return -EINVAL;
	if (!user_ok(uiov, (uint64_t)cnt * sizeof(struct gk_iov), false))
		return -EFAULT;
	const struct gk_iov *iov = (const struct gk_iov *)(uintptr_t)uiov;
	uint64_t total = 0;
	for (long i = 0; i < cnt; i++) {
		if (iov[i].len > (uint64_t)INT64_MAX - total)
			return -EINVAL;
		total += iov[i].len;
		if (!user_ok(iov[i].base, iov[i].len, for_read))
			return -EFAULT;
	}
	return (long)total;
}

/* Where a transfer starts: pos for pread/pwrite (-1: the file position,
 * or the end for an append). */
static long start_of(struct gk_file *f, long pos, bool write,
		     uint64_t *off)
{
	if (pos >= 0 && !f->ops->seekable)
		return -ESPIPE;
	if (pos == -1) {
		bool append = write && (f->flags & O_APPEND) && f->inode;
		*off = append ? f->inode->size : f->pos;
	} else {
		*off = (uint64_t)pos;
	}
	return 0;
}

/* The transfer itself; pos as for start_of. The job's iov array cannot
 * change meanwhile: the job is not running. */
static long transfer(long fd, const struct gk_iov *iov, unsigned n,
		     long pos, bool write)
{
	struct gk_file *f;
	uint64_t off;
	long r = file_for(fd, write, &f);
	if (!r)
		r = start_of(f, pos, write, &off);
	if (r)
		return r;
	r = write ? f->ops->writev(f, iov, n, off)
		  : f->ops->readv(f, iov, n, off);
	if (r > 0 && pos == -1 && f->ops->seekable)
		f->pos = off + (uint64_t)r;
	return r;
}

static long rw_one(long fd, uint64_t buf, uint64_t len, long pos,
		   bool write)
{
	if (pos < -1)
		return -EINVAL;
	len = GK_MIN(len, MAX_RW);
	if (!fd_file(fd))
		return -EBADF;
	if (!user_ok(buf, len, !write))
		return -EFAULT;
	struct gk_iov iov = {buf, len};
	return transfer(fd, &iov, 1, pos, write);
}

static long rw_vec(long fd, uint64_t uiov, long cnt, long pos, bool write)
{
	if (pos < -1)
		return -EINVAL;
	if (!fd_file(fd))
		return -EBADF;
	long total = iov_check(uiov, cnt, !write);
	if (total <= 0)
		return total;
	return transfer(fd, (const struct gk_iov *)(uintptr_t)uiov,
			(unsigned)cnt, pos, write);
}

GK_SYSCALL(sys_read)
{
	return rw_one(a0, (uint64_t)a1, (uint64_t)a2, -1, false);
}

GK_SYSCALL(sys_write)
{
	return rw_one(a0, (uint64_t)a1, (uint64_t)a2, -1, true);
}

GK_SYSCALL(sys_pread64)
{
	return a3 < 0 ? -EINVAL : rw_one(a0, (uint64_t)a1, (uint64_t)a2, a3,
					 false);
}

GK_SYSCALL(sys_pwrite64)
{
	return a3 < 0 ? -EINVAL : rw_one(a0, (uint64_t)a1, (uint64_t)a2, a3,
					 true);
}

GK_SYSCALL(sys_readv)
{
	return rw_vec(a0, (uint64_t)a1, a2, -1, false);
}

GK_SYSCALL(sys_writev)
{
	return rw_vec(a0, (uint64_t)a1, a2, -1, true);
}

GK_SYSCALL(sys_preadv)
{
	return a3 < 0 ? -EINVAL : rw_vec(a0, (uint64_t)a1, a2, a3, false);
}

GK_SYSCALL(sys_pwritev)
{
	return a3 < 0 ? -EINVAL : rw_vec(a0, (uint64_t)a1, a2, a3, true);
}

GK_SYSCALL(sys_lseek)
{
	struct gk_file *f = fd_file(a0);
	if (!f)
		return -EBADF;
	if (!f->ops->seekable)
		return -ESPIPE;
	uint64_t size = f->inode->size;
	int64_t base;
	switch ((int)a2) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)f->pos;
		break;
	case SEEK_END:
		base = (int64_t)size;
		break;
	case SEEK_DATA: /* the whole file counts as data */
	case SEEK_HOLE:
		if ((uint64_t)a1 >= size)
			return -ENXIO;
		f->pos = (int)a2 == SEEK_DATA ? (uint64_t)a1 : size;
		return (long)f->pos;
	default:
		return -EINVAL;
	}
	int64_t to;
	if (__builtin_add_overflow(base, (int64_t)a1, &to))
		return -EOVERFLOW;
	if (to < 0)
		return -EINVAL;
	f->pos = (uint64_t)to;
	return to;
}

/* sendfile: through a kernel buffer, a chunk at a time. */
static uint8_t bounce[16384];

GK_SYSCALL(sys_sendfile)
{
	struct gk_file *in, *out;
	long r = file_for(a1, false, &in);
	if (r || (r = file_for(a0, true, &out)))
		return r;
	if (!in->ops->seekable || (out->flags & O_APPEND))
		return -EINVAL;
	uint64_t *uoff = (uint64_t *)(uintptr_t)a2;
	if (uoff && !user_ok((uint64_t)a2, 8, true))
		return -EFAULT;
	uint64_t off = uoff ? *uoff : in->pos, left = GK_MIN((uint64_t)a3, MAX_RW);
	if ((int64_t)off < 0)
		return -EINVAL;
	uint64_t done = 0;
	while (done < left) {
		struct gk_iov iov = {(uint64_t)(uintptr_t)bounce,
				     GK_MIN(left - done, sizeof(bounce))};
		long got = in->ops->readv(in, &iov, 1, off + done);
		if (got <= 0) {
			r = got;
			break;
		}
		iov.len = (uint64_t)got;
		long put = transfer(a0, &iov, 1, -1, true);
		if (put <= 0) {
			r = put;
			break;
		}
		done += (uint64_t)put;
		if (put < got)
			break;
	}
	if (uoff)
		*uoff = off + done;
	else
		in->pos = off + done;
	return done ? (long)done : r;
}

GK_SYSCALL(sys_ioctl)
{
	if (!fd_file(a0))
		return -EBADF;
	switch ((unsigned long)a1) {
	case 0x5421: /* FIONBIO */
	case 0x5450: /* FIONCLEX */
	case 0x5451: /* FIOCLEX */
		return 0;
	default: /* TCGETS, TIOCGWINSZ, ...: not a terminal */
		return -ENOTTY;
	}
}

static int16_t poll_one(int32_t fd, int16_t events)
{
	struct gk_file *f = fd_file(fd);
	if (fd < 0)
		return 0;
	if (!f)
		return POLLNVAL;
	int16_t re = 0;
	if (f->ops->can_read && f->ops->can_read(f))
		re |= events & (POLLIN | POLLRDNORM);
	if (f->ops->can_write && f->ops->can_write(f))
		re |= events & (POLLOUT | POLLWRNORM);
	return re;
}

static long poll_fds(uint64_t ufds, uint64_t nfds)
{
	if (nfds > 1024)
		return -EINVAL;
	if (!user_ok(ufds, nfds * 8, true))
		return -EFAULT;
	struct {
		int32_t fd;
		int16_t events, revents;
	} *p = (void *)(uintptr_t)ufds;
	long ready = 0;
	for (uint64_t i = 0; i < nfds; i++) {
		p[i].revents = poll_one(p[i].fd, p[i].events);
		ready += p[i].revents != 0;
	}
	return ready;
}

/* Nothing ready: sleep out the timeout (UINT64_MAX: forever). */
static long poll_sleep(uint64_t timeout_ns)
{
	uint64_t now = time_monotonic_ns();
	uint64_t deadline = timeout_ns > UINT64_MAX - now ? UINT64_MAX
							  : now + timeout_ns;
	time_sleep_until(deadline);
	return 0;
}

GK_SYSCALL(sys_poll)
{
	long ready = poll_fds((uint64_t)a0, (uint64_t)a1);
	if (ready || !a2)
		return ready;
	int timeout_ms = (int)a2;
	return poll_sleep(timeout_ms < 0 ? UINT64_MAX
					 : (uint64_t)timeout_ms * 1000000);
}

GK_SYSCALL(sys_ppoll)
{
	uint64_t timeout = UINT64_MAX;
	if (a2) {
		long r = sys_timespec_ns((uint64_t)a2, &timeout);
		if (r)
			return r;
	}
	long ready = poll_fds((uint64_t)a0, (uint64_t)a1);
	if (ready || !timeout)
		return ready;
	return poll_sleep(timeout);
}
