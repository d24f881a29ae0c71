/* stat, lstat, fstat, newfstatat and statx, from the inode (or, for the
 * streams and pipes, a FIFO-like description). */
#include "sys.h"
#include "vfs.h"

#define STAT_LEN 144
#define STATX_LEN 256
#define STATX_BASIC_STATS 0x7ffu
#define STREAM_DEV 0xc
#define DEV_MAJOR 1 /* Linux's "mem" devices: null, zero, random ... */
#define NS 1000000000ull

/* What stat reports, however it is laid out. */
struct kstat {
	uint64_t dev, ino, nlink, rdev, size, blocks;
	uint32_t mode, uid, gid;
	uint64_t atime, mtime, ctime; /* ns */
};

/* Filled field by field: a struct literal this size becomes `rep stos`,
 * which PVM emulates one iteration at a time. */
static void stat_inode(const struct gk_inode *in, struct kstat *k)
{
	k->dev = in->dev;
	k->ino = in->ino;
	k->nlink = in->nlink;
	k->size = in->size;
	k->blocks = in->blocks512;
	k->mode = in->mode;
	k->uid = in->uid;
	k->gid = in->gid;
	k->atime = in->atime;
	k->mtime = in->mtime;
	k->ctime = in->ctime;
	k->rdev = (in->mode & S_IFMT) == S_IFCHR
			  ? DEV_MAJOR << 8 | in->u.dev_minor
			  : 0;
}

static void stat_file(const struct gk_file *f, struct kstat *k)
{
	if (f->inode) {
		stat_inode(f->inode, k);
		return;
	}
	gk_zero(k, sizeof(*k));
	k->dev = STREAM_DEV;
	k->ino = f->stream_ino;
	k->nlink = 1;
	k->mode = S_IFIFO | 0600;
	k->uid = k->gid = GK_JOB_UID;
}

static long put_stat(const struct kstat *k, uint64_t ubuf)
{
	if (!user_ok(ubuf, STAT_LEN, true))
		return -EFAULT;
	uint64_t *st = (uint64_t *)(uintptr_t)ubuf;
	gk_zero(st, STAT_LEN);
	st[0] = k->dev;
	st[1] = k->ino;
	st[2] = k->nlink;
	st[3] = k->mode | (uint64_t)k->uid << 32;
	st[4] = k->gid;
	st[5] = k->rdev;
	st[6] = k->size;
	st[7] = AL_PAGE_SIZE; /* st_blksize */
	st[8] = k->blocks;
	st[9] = k->atime / NS;
	st[10] = k->atime % NS;
	st[11] = k->mtime / NS;
	st[12] = k->mtime % NS;
	st[13] = k->ctime / NS;
	st[14] = k->ctime % NS;
	return 0;
}

static void put_statx_time(uint8_t *at, uint64_t ns)
{
	*(uint64_t *)at = ns / NS;
	*(uint32_t *)(at + 8) = (uint32_t)(ns % NS);
}

static long put_statx(const struct kstat *k, uint64_t ubuf)
{
	if (!user_ok(ubuf, STATX_LEN, true))
		return -EFAULT;
	uint8_t *x = (uint8_t *)(uintptr_t)ubuf;
	gk_zero(x, STATX_LEN);
	*(uint32_t *)x = STATX_BASIC_STATS;
	*(uint32_t *)(x + 4) = AL_PAGE_SIZE;
	*(uint32_t *)(x + 16) = (uint32_t)k->nlink;
	*(uint32_t *)(x + 20) = k->uid;
	*(uint32_t *)(x + 24) = k->gid;
	*(uint16_t *)(x + 28) = (uint16_t)k->mode;
	*(uint64_t *)(x + 32) = k->ino;
	*(uint64_t *)(x + 40) = k->size;
	*(uint64_t *)(x + 48) = k->blocks;
	put_statx_time(x + 64, k->atime);
	put_statx_time(x + 96, k->ctime);
	put_statx_time(x + 112, k->mtime);
	*(uint32_t *)(x + 128) = (uint32_t)(k->rdev >> 8);
	*(uint32_t *)(x + 132) = (uint32_t)(k->rdev & 0xff);
	*(uint32_t *)(x + 136) = (uint32_t)(k->dev >> 8);
	*(uint32_t *)(x + 140) = (uint32_t)(k->dev & 0xff);
	return 0;
}

/* Resolves (dirfd, path, AT_* flags) to what stat describes. */
static long stat_at(long dirfd, uint64_t upath, long flags, struct kstat *k)
{
	flags = (int)flags;
	if (flags & ~(long)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH |
			    0x6800 /* AT_NO_AUTOMOUNT, AT_STATX_SYNC_* */))
		return -EINVAL;
	unsigned wf = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW;
	if (flags & AT_EMPTY_PATH) {
		wf |= WALK_EMPTY;
		bool empty = !upath || (user_ok(upath, 1, false) &&
					!*(const char *)(uintptr_t)upath);
		struct gk_file *f = fd_file(dirfd);
		/* The descriptor itself: streams and pipes have no inode. */
		if (empty && f) {
			stat_file(f, k);
			return 0;
		}
	}
	struct gk_path p;
	long r = vfs_walk_user(dirfd, upath, wf, &p);
	if (r)
		return r;
	stat_inode(p.inode, k);
	path_put(&p);
	return 0;
}

GK_SYSCALL(sys_fstat)
{
	struct gk_file *f = fd_file(a0);
	if (!f)
		return -EBADF;
	struct kstat k;
	stat_file(f, &k);
	return put_stat(&k, (uint64_t)a1);
}

GK_SYSCALL(sys_newfstatat)
{
	struct kstat k;
	long r = stat_at(a0, (uint64_t)a1, a3, &k);
	return r ? r : put_stat(&k, (uint64_t)a2);
}

GK_SYSCALL(sys_stat)
{
	return sys_newfstatat(AT_FDCWD, a0, a1, 0, 0, 0);
}

GK_SYSCALL(sys_lstat)
{
	return sys_newfstatat(AT_FDCWD, a0, a1, AT_SYMLINK_NOFOLLOW, 0, 0);
}

GK_SYSCALL(sys_statx)
{
	struct kstat k;
	long r = stat_at(a0, (uint64_t)a1, a2, &k);
	return r ? r : put_statx(&k, (uint64_t)a4);
}
