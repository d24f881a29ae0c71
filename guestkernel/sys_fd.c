/*
 * The descriptor table from the job's side: close, dup*, fcntl, pipes, and
 * the calls that act on an open file as a whole (ftruncate, fsync, fchdir,
 * getdents64).
 */
#include "sys.h"
#include "vfs.h"

#define F_DUPFD 0
#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define F_GETLK 5
#define F_SETLK 6
#define F_SETLKW 7
#define F_UNLCK 2
#define F_DUPFD_CLOEXEC 1030
#define FD_CLOEXEC 1
#define MAX_RW_BYTES 0x7ffff000ull
/* What F_SETFL may change. */
#define SETFL_MASK (O_APPEND | O_NONBLOCK)

GK_SYSCALL(sys_close)
{
	return fd_close(a0);
}

GK_SYSCALL(sys_dup)
{
	struct gk_file *f = fd_file(a0);
	return f ? fd_install(file_get(f), 0, false) : -EBADF;
}

static long dup_to(long old, long new, bool cloexec)
{
	struct gk_file *f = fd_file(old);
	int n = (int)new;
	if (!f || n < 0 || n >= GK_NFDS)
		return -EBADF;
	return fd_install_at(file_get(f), n, cloexec);
}

GK_SYSCALL(sys_dup2)
{
	if ((int)a0 == (int)a1)
		return fd_file(a0) ? (int)a1 : -EBADF;
	return dup_to(a0, a1, false);
}

GK_SYSCALL(sys_dup3)
{
	if ((int)a0 == (int)a1 || ((int)a2 & ~O_CLOEXEC))
		return -EINVAL;
	return dup_to(a0, a1, a2 & O_CLOEXEC);
}

/* One process: every lock is granted, and no other holder ever shows. */
static long record_lock(long cmd, uint64_t uflock)
{
	if (!user_ok(uflock, 32, true)) /* struct flock */
		return -EFAULT;
	if ((int)cmd == F_GETLK)
		*(int16_t *)(uintptr_t)uflock = F_UNLCK; /* l_type */
	return 0;
}

GK_SYSCALL(sys_fcntl)
{
	struct gk_file *f = fd_file(a0);
	if (!f)
		return -EBADF;
	switch ((int)a1) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if ((int)a2 < 0 || (int)a2 >= GK_NFDS)
			return -EINVAL;
		return fd_install(file_get(f), (int)a2,
				  (int)a1 == F_DUPFD_CLOEXEC);
	case F_GETFD:
		return fd_cloexec(a0) ? FD_CLOEXEC : 0;
	case F_SETFD:
		fd_set_cloexec(a0, a2 & FD_CLOEXEC);
		return 0;
	case F_GETFL:
		return f->flags & ~(uint32_t)O_CLOEXEC;
	case F_SETFL:
		f->flags = (f->flags & ~(uint32_t)SETFL_MASK) |
			   ((uint32_t)a2 & SETFL_MASK);
		return 0;
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
		return record_lock(a1, (uint64_t)a2);
	default:
		return -EINVAL;
	}
}

GK_SYSCALL(sys_pipe2)
{
	a1 = (int)a1;
	if (a1 & ~(long)(O_CLOEXEC | O_NONBLOCK))
		return -EINVAL;
	if (!user_ok((uint64_t)a0, 8, true))
		return -EFAULT;
	struct gk_file *rd, *wr;
	long r = pipe_create(&rd, &wr);
	if (r)
		return r;
	rd->flags |= (uint32_t)a1 & O_NONBLOCK;
	wr->flags |= (uint32_t)a1 & O_NONBLOCK;
	bool cloexec = a1 & O_CLOEXEC;
	long fr = fd_install(rd, 0, cloexec);
	if (fr < 0) {
		file_put(wr);
		return fr;
	}
	long fw = fd_install(wr, 0, cloexec);
	if (fw < 0) {
		fd_close(fr);
		return fw;
	}
	int32_t *fds = (int32_t *)(uintptr_t)a0;
	fds[0] = (int32_t)fr;
	fds[1] = (int32_t)fw;
	return 0;
}

GK_SYSCALL(sys_pipe)
{
	return sys_pipe2(a0, 0, 0, 0, 0, 0);
}

/* Shared by ftruncate and truncate. */
long sys_truncate_inode(struct gk_inode *in, long size)
{
	if (size < 0)
		return -EINVAL;
	if (S_ISDIR(in->mode))
		return -EISDIR;
	if (in->read_only)
		return -EROFS;
	if (!S_ISREG(in->mode) || !in->ops->truncate)
		return -EINVAL;
	return in->ops->truncate(in, (uint64_t)size);
}

GK_SYSCALL(sys_ftruncate)
{
	struct gk_file *f = fd_file(a0);
	if (!f)
		return -EBADF;
	if (!f->inode || !file_writable(f))
		return -EINVAL;
	return sys_truncate_inode(f->inode, a1);
}

/* As record locks: nobody else to conflict with. */
GK_SYSCALL(sys_flock)
{
	return fd_file(a0) ? 0 : -EBADF;
}

/* Everything is in memory (or read-only): nothing to flush. */
GK_SYSCALL(sys_fsync)
{
	return fd_file(a0) ? 0 : -EBADF;
}

GK_SYSCALL(sys_fchdir)
{
	struct gk_file *f = fd_file(a0);
	if (!f)
		return -EBADF;
	if (!f->inode || !S_ISDIR(f->inode->mode))
		return -ENOTDIR;
	long r = vfs_permission(f->inode, MAY_EXEC);
	if (r)
		return r;
	inode_put(gk_proc.cwd);
	gk_proc.cwd = inode_get(f->inode);
	return 0;
}

/* ---- getdents64 ------------------------------------------------------------ */

struct dirent_buf {
	uint8_t *at;
	uint64_t room, used;
	bool full; /* an entry did not fit */
};

/* struct linux_dirent64: ino, off, reclen, type, name, padded to 8. */
static bool put_dirent(void *ctx, const char *name, size_t len, uint64_t ino,
		       unsigned type, uint64_t next)
{
	struct dirent_buf *b = ctx;
	uint64_t reclen = (19 + len + 1 + 7) & ~7ull;
	if (reclen > b->room - b->used) {
		b->full = true;
		return false;
	}
	uint8_t *d = b->at + b->used;
	gk_zero(d, reclen);
	*(uint64_t *)d = ino;
	*(uint64_t *)(d + 8) = next;
	*(uint16_t *)(d + 16) = (uint16_t)reclen;
	d[18] = (uint8_t)type;
	gk_copy(d + 19, name, len);
	b->used += reclen;
	return true;
}

GK_SYSCALL(sys_getdents64)
{
	struct gk_file *f = fd_file(a0);
	if (!f || (f->flags & O_PATH))
		return -EBADF;
	if (!f->inode || !S_ISDIR(f->inode->mode))
		return -ENOTDIR;
	struct gk_inode *dir = f->inode;
	uint64_t room = GK_MIN((uint64_t)(unsigned)a2, MAX_RW_BYTES);
	if (!user_ok((uint64_t)a1, room, true))
		return -EFAULT;
	struct dirent_buf b = {(uint8_t *)(uintptr_t)a1, room, 0, false};
	long r = dir->ops->readdir(dir, &f->pos, put_dirent, &b);
	if (b.used)
		return (long)b.used;
	if (r < 0)
		return r;
	return b.full ? -EINVAL : 0; /* too small for one entry, or the end */
}
