/*
 * File descriptors: each names one of the job's standard streams, carried
 * over vsock (0, 1 and 2 at start; dup makes more). Data moves between the job's own buffers and the host without a
 * copy in ring 0: the descriptors point at the (validated) user memory.
 * There is no file system yet: paths do not resolve.
 */
#include "sys.h"

#define MAX_RW 0x7ffff000ull /* Linux's MAX_RW_COUNT */
#define IOV_MAX 1024
#define RX_SEGS 11 /* what the vsock payload chain holds */

#define S_IFIFO 0010000u
#define AT_EMPTY_PATH 0x1000
#define POLLIN 0x1
#define POLLOUT 0x4
#define POLLNVAL 0x20
#define POLLRDNORM 0x40
#define POLLWRNORM 0x100

static bool fd_open(long fd)
{
	return proc_fd(fd) != GK_FD_NONE;
}

static bool fd_reads(long fd)
{
	return proc_fd(fd) == GK_FD_STDIN;
}

/* The stream behind a writable fd, or -1. */
static int out_stream(long fd)
{
	switch (proc_fd(fd)) {
	case GK_FD_STDOUT:
		return GK_STDOUT;
	case GK_FD_STDERR:
		return GK_STDERR;
	default:
		return -1;
	}
}

static long stream_write(int s, const struct gk_iov *iov, unsigned n,
			 uint64_t max)
{
	long r = vsock_send((enum gk_stream)s, iov, n, max);
	if (r == -EPIPE)
		proc_raise(GK_SIGPIPE); /* returns unless it kills the job */
	return r;
}

GK_SYSCALL(sys_write)
{
	int s = out_stream(a0);
	uint64_t len = GK_MIN((uint64_t)a2, MAX_RW);
	if (s < 0)
		return -EBADF;
	if (!len)
		return 0;
	if (!user_ok((uint64_t)a1, len, false))
		return -EFAULT;
	struct gk_iov iov = {(uint64_t)a1, len};
	return stream_write(s, &iov, 1, len);
}

/* Checks a user iovec array for reading from it; returns the total. */
static long check_out_iov(uint64_t uiov, long cnt)
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
		if (!user_ok(iov[i].base, iov[i].len, false))
			return -EFAULT;
	}
	return (long)total;
}

GK_SYSCALL(sys_writev)
{
	int s = out_stream(a0);
	if (s < 0)
		return -EBADF;
	long total = check_out_iov((uint64_t)a1, a2);
	if (total <= 0)
		return total;
	/* The job cannot change the array meanwhile: it is not running. */
	const struct gk_iov *iov = (const struct gk_iov *)(uintptr_t)a1;
	return stream_write(s, iov, (unsigned)a2,
			    GK_MIN((uint64_t)total, MAX_RW));
}

GK_SYSCALL(sys_read)
{
	if (!fd_reads(a0))
		return -EBADF;
	/* One packet at most arrives per read. */
	uint64_t len = GK_MIN((uint64_t)a2, (uint64_t)AL_VSOCK_MAX_PAYLOAD);
	if (!len)
		return 0;
	if (!user_ok((uint64_t)a1, len, true))
		return -EFAULT;
	struct gk_iov iov = {(uint64_t)a1, len};
	return vsock_recv(GK_STDIN, &iov, 1);
}

GK_SYSCALL(sys_readv)
{
	if (!fd_reads(a0))
		return -EBADF;
	if (a2 < 0 || a2 > IOV_MAX)
		return -EINVAL;
	if (!user_ok((uint64_t)a1, (uint64_t)a2 * sizeof(struct gk_iov), false))
		return -EFAULT;
	const struct gk_iov *uiov = (const struct gk_iov *)(uintptr_t)a1;
	struct gk_iov iov[RX_SEGS];
	unsigned n = 0;
	uint64_t room = AL_VSOCK_MAX_PAYLOAD;
	for (long i = 0; i < a2 && n < RX_SEGS && room; i++) {
		uint64_t len = GK_MIN(uiov[i].len, room);
		if (uiov[i].len > (uint64_t)INT64_MAX)
			return -EINVAL;
		if (!len)
			continue;
		if (!user_ok(uiov[i].base, len, true))
			return -EFAULT;
		iov[n++] = (struct gk_iov){uiov[i].base, len};
		room -= len;
	}
	if (!n)
		return 0;
	return vsock_recv(GK_STDIN, iov, n);
}

GK_SYSCALL(sys_close)
{
	if (!fd_open(a0))
		return -EBADF;
	gk_proc.fd[a0] = GK_FD_NONE;
	return 0;
}

/* The lowest free descriptor at or above min, or -EMFILE. */
static long fd_dup_from(long old, long min)
{
	for (long fd = min < 0 ? 0 : min; fd < GK_NFDS; fd++) {
		if (proc_fd(fd) == GK_FD_NONE) {
			gk_proc.fd[fd] = gk_proc.fd[old];
			return fd;
		}
	}
	return -24; /* EMFILE */
}

GK_SYSCALL(sys_dup)
{
	return fd_open(a0) ? fd_dup_from(a0, 0) : -EBADF;
}

GK_SYSCALL(sys_dup2)
{
	if (!fd_open(a0))
		return -EBADF;
	if (a1 < 0 || a1 >= GK_NFDS)
		return -EBADF;
	gk_proc.fd[a1] = gk_proc.fd[a0];
	return a1;
}

GK_SYSCALL(sys_dup3)
{
	if (a0 == a1 || (a2 & ~0x80000L /* O_CLOEXEC */))
		return -EINVAL;
	return sys_dup2(a0, a1, 0, 0, 0, 0);
}

/* A pipe-like stat for the standard streams, written in place. */
static long put_stat(long fd, uint64_t ubuf)
{
	if (!fd_open(fd))
		return -EBADF;
	if (!user_ok(ubuf, 144, true))
		return -EFAULT;
	uint64_t *st = (uint64_t *)(uintptr_t)ubuf;
	gk_zero(st, 144);
	st[0] = 0xc;                                /* st_dev */
	st[1] = (uint64_t)fd + 1;                   /* st_ino */
	st[2] = 1;                                  /* st_nlink */
	st[3] = (S_IFIFO | 0600) | (1000ull << 32); /* st_mode, st_uid */
	st[4] = 1000;                               /* st_gid */
	st[7] = AL_PAGE_SIZE;                       /* st_blksize */
	return 0;
}

GK_SYSCALL(sys_fstat)
{
	return put_stat(a0, (uint64_t)a1);
}

GK_SYSCALL(sys_newfstatat)
{
	/* AT_EMPTY_PATH may come with "" or, as Linux 6.11 allows, NULL. */
	bool empty = !a1 && (a3 & AT_EMPTY_PATH);
	if (!empty && !user_ok((uint64_t)a1, 1, false))
		return -EFAULT;
	empty = empty || *(const char *)(uintptr_t)a1 == 0;
	if (empty && (a3 & AT_EMPTY_PATH))
		return put_stat(a0, (uint64_t)a2);
	return -ENOENT; /* no file system yet */
}

GK_SYSCALL(sys_stat)
{
	return -ENOENT;
}

GK_SYSCALL(sys_lseek)
{
	return fd_open(a0) ? -ESPIPE : -EBADF;
}

GK_SYSCALL(sys_pread64)
{
	return fd_open(a0) ? -ESPIPE : -EBADF;
}

GK_SYSCALL(sys_ioctl)
{
	if (!fd_open(a0))
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

GK_SYSCALL(sys_fcntl)
{
	if (!fd_open(a0))
		return -EBADF;
	switch (a1) {
	case 0:    /* F_DUPFD */
	case 1030: /* F_DUPFD_CLOEXEC */
		return a2 < 0 || a2 >= GK_NFDS ? -EINVAL : fd_dup_from(a0, a2);
	case 1: /* F_GETFD */
	case 2: /* F_SETFD */
	case 4: /* F_SETFL */
		return 0;
	case 3: /* F_GETFL: O_RDONLY for stdin, O_WRONLY for the others */
		return fd_reads(a0) ? 0 : 1;
	default:
		return -EINVAL;
	}
}

/* Streams never block for poll: stdin counts as readable (a read waits
 * for data), stdout and stderr as writable. */
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
		int16_t re = 0;
		if (p[i].fd < 0)
			re = 0;
		else if (!fd_open(p[i].fd))
			re = POLLNVAL;
		else if (fd_reads(p[i].fd))
			re = p[i].events & (POLLIN | POLLRDNORM);
		else
			re = p[i].events & (POLLOUT | POLLWRNORM);
		p[i].revents = re;
		ready += re != 0;
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

GK_SYSCALL(sys_getcwd)
{
	if ((uint64_t)a1 < 2)
		return -ERANGE;
	if (!user_ok((uint64_t)a0, 2, true))
		return -EFAULT;
	char *buf = (char *)(uintptr_t)a0;
	buf[0] = '/';
	buf[1] = 0;
	return 2;
}

GK_SYSCALL(sys_readlink)
{
	return -ENOENT; /* /proc/self/exe included: no /proc */
}

GK_SYSCALL(sys_readlinkat)
{
	return -ENOENT;
}
