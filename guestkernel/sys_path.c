/*
 * Syscalls that name files by path: open, mkdir, unlink, rename, symlink,
 * readlink, access, chdir, getcwd, truncate, chmod, utimensat.
 */
#include "sys.h"
#include "vfs.h"

#define RENAME_NOREPLACE 1
#define AT_EACCESS 0x200
#define UTIME_NOW ((1l << 30) - 1)
#define UTIME_OMIT ((1l << 30) - 2)
#define S_ISVTX 01000u

static char scratch[GK_PATH_MAX]; /* link targets, cwd */

/* The job may add entries to dir. */
static long may_create(struct gk_inode *dir)
{
	if (!dir->nlink)
		return -ENOENT; /* removed while we stood in it */
	if (dir->read_only || !dir->ops->create)
		return -EROFS;
	return vfs_permission(dir, MAY_WRITE | MAY_EXEC);
}

/* The job may remove or replace victim in dir (sticky: only its own). */
static long may_delete(struct gk_inode *dir, struct gk_inode *victim)
{
	if (dir->read_only || !dir->ops->unlink)
		return -EROFS;
	if (victim->mounted || victim->covered)
		return -EBUSY;
	long r = vfs_permission(dir, MAY_WRITE | MAY_EXEC);
	if (!r && (dir->mode & S_ISVTX) && victim->uid != GK_JOB_UID &&
	    dir->uid != GK_JOB_UID)
		r = -EPERM;
	return r;
}

static uint32_t creation_mode(long mode, uint32_t type)
{
	return type | ((uint32_t)mode & 07777 & ~gk_proc.umask);
}

/* Checks an existing inode against the open flags. */
static long may_open(struct gk_inode *in, long flags)
{
	uint32_t acc = flags & O_ACCMODE;
	if (flags & O_PATH)
		return 0;
	if (S_ISLNK(in->mode))
		return -ELOOP; /* O_NOFOLLOW met a link */
	if ((flags & O_DIRECTORY) && !S_ISDIR(in->mode))
		return -ENOTDIR;
	if (S_ISDIR(in->mode) && (acc != O_RDONLY || (flags & O_CREAT)))
		return -EISDIR;
	if (!S_ISDIR(in->mode) && !S_ISREG(in->mode) &&
	    (in->mode & S_IFMT) != S_IFCHR)
		return -ENXIO; /* fifos and sockets on a drive */
	unsigned mask = (acc != O_WRONLY ? MAY_READ : 0) |
			(acc != O_RDONLY || (flags & O_TRUNC) ? MAY_WRITE : 0);
	if ((mask & MAY_WRITE) && in->read_only)
		return -EROFS;
	return vfs_permission(in, mask);
}

/* Makes the file an O_CREAT asked for, into p->inode. */
static long create_file(struct gk_path *p, long mode)
{
	if (p->trailing_slash)
		return -EISDIR;
	long r = may_create(p->dir);
	if (r)
		return r;
	return p->dir->ops->create(p->dir, p->last, p->last_len,
				   creation_mode(mode, S_IFREG), 0, &p->inode);
}

/* What F_GETFL reports of the open flags. */
static uint32_t open_status(long flags)
{
	uint32_t creation = O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC;
	return ((uint32_t)flags & ~creation) | O_LARGEFILE;
}

static long do_open(long dirfd, uint64_t upath, long flags, long mode)
{
	flags = (int)flags;
	if ((flags & O_TMPFILE_DIR) == O_TMPFILE_DIR)
		return -EOPNOTSUPP;
	/* O_EXCL never follows a final link: it must not exist at all. */
	bool excl = (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
	unsigned wf = (flags & O_NOFOLLOW) || excl ? 0 : WALK_FOLLOW;
	if (flags & O_CREAT)
		wf |= WALK_PARENT;
	struct gk_path p;
	long r = vfs_walk_user(dirfd, (uint64_t)upath, wf, &p);
	if (r)
		return r;
	if (!p.inode)
		r = create_file(&p, mode);
	else if (excl)
		r = -EEXIST;
	else
		r = may_open(p.inode, flags);
	bool trunc = (flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY;
	if (!r && trunc && p.inode->ops->truncate && !(flags & O_PATH))
		r = p.inode->ops->truncate(p.inode, 0);
	struct gk_file *f = NULL;
	if (!r)
		r = file_open_inode(p.inode, open_status(flags), &f);
	path_put(&p);
	return r ? r : fd_install(f, 0, flags & O_CLOEXEC);
}

GK_SYSCALL(sys_openat)
{
	return do_open(a0, (uint64_t)a1, a2, a3);
}

GK_SYSCALL(sys_open)
{
	return do_open(AT_FDCWD, (uint64_t)a0, a1, a2);
}

GK_SYSCALL(sys_creat)
{
	return do_open(AT_FDCWD, (uint64_t)a0, O_CREAT | O_WRONLY | O_TRUNC,
		       a1);
}

/* mkdir and symlink: a new entry where nothing is. */
static long make_entry(long dirfd, uint64_t upath, uint32_t mode,
		       const char *target)
{
	struct gk_path p;
	long r = vfs_walk_user(dirfd, upath, WALK_PARENT, &p);
	if (r)
		return r;
	struct gk_inode *in = NULL;
	if (p.inode || !p.dir)
		r = -EEXIST;
	else if (p.trailing_slash && !S_ISDIR(mode))
		r = -ENOENT;
	else if (!(r = may_create(p.dir)))
		r = p.dir->ops->create(p.dir, p.last, p.last_len, mode, target,
				       &in);
	if (in)
		inode_put(in);
	path_put(&p);
	return r;
}

GK_SYSCALL(sys_mkdirat)
{
	return make_entry(a0, (uint64_t)a1, creation_mode(a2, S_IFDIR) |
					   ((uint32_t)a2 & S_ISVTX),
			  0);
}

GK_SYSCALL(sys_mkdir)
{
	return sys_mkdirat(AT_FDCWD, a0, a1, 0, 0, 0);
}

GK_SYSCALL(sys_symlinkat)
{
	long n = vfs_copy_user_path((uint64_t)a0, scratch);
	if (n < 0)
		return n;
	if (!n)
		return -ENOENT;
	return make_entry(a1, (uint64_t)a2, S_IFLNK | 0777, scratch);
}

GK_SYSCALL(sys_symlink)
{
	return sys_symlinkat(a0, AT_FDCWD, a1, 0, 0, 0);
}

static long remove_entry(long dirfd, uint64_t upath, bool dir)
{
	struct gk_path p;
	long r = vfs_walk_user(dirfd, upath, WALK_PARENT, &p);
	if (r)
		return r;
	struct gk_inode *in = p.inode;
	if (!in)
		r = -ENOENT;
	else if (!p.dir)
		r = in == vfs_follow_mounts(vfs_root) ? -EBUSY : -EINVAL;
	else if (dir && !S_ISDIR(in->mode))
		r = -ENOTDIR;
	else if (!dir && S_ISDIR(in->mode))
		r = -EISDIR;
	else if (!dir && p.trailing_slash)
		r = -ENOTDIR;
	else if (!(r = may_delete(p.dir, in)))
		r = p.dir->ops->unlink(p.dir, p.last, p.last_len, in);
	path_put(&p);
	return r;
}

GK_SYSCALL(sys_unlinkat)
{
	a2 = (int)a2;
	if (a2 & ~(long)AT_REMOVEDIR)
		return -EINVAL;
	return remove_entry(a0, (uint64_t)a1, a2 & AT_REMOVEDIR);
}

GK_SYSCALL(sys_unlink)
{
	return remove_entry(AT_FDCWD, (uint64_t)a0, false);
}

GK_SYSCALL(sys_rmdir)
{
	return remove_entry(AT_FDCWD, (uint64_t)a0, true);
}

/* True when dir is old or lies below it. */
static bool inside(struct gk_inode *dir, struct gk_inode *old)
{
	for (struct gk_inode *d = dir; d; d = d->parent)
		if (d == old)
			return true;
	return false;
}

/* The checks of rename(2) between two walked paths. */
static long may_rename(struct gk_path *o, struct gk_path *n, long flags)
{
	struct gk_inode *old = o->inode, *victim = n->inode;
	if (!o->dir || !n->dir)
		return -EBUSY;
	if (o->dir->dev != n->dir->dev)
		return -EXDEV;
	if (!S_ISDIR(old->mode) && (o->trailing_slash || n->trailing_slash))
		return -ENOTDIR;
	long r = may_delete(o->dir, old);
	if (r || (r = may_create(n->dir)))
		return r;
	if (S_ISDIR(old->mode) && inside(n->dir, old))
		return -EINVAL;
	if (!victim)
		return 0;
	if (flags & RENAME_NOREPLACE)
		return -EEXIST;
	if (S_ISDIR(old->mode) && !S_ISDIR(victim->mode))
		return -ENOTDIR;
	if (!S_ISDIR(old->mode) && S_ISDIR(victim->mode))
		return -EISDIR;
	return may_delete(n->dir, victim);
}

GK_SYSCALL(sys_renameat2)
{
	a4 = (unsigned)a4;
	if (a4 & ~(long)RENAME_NOREPLACE)
		return -EINVAL; /* RENAME_EXCHANGE, RENAME_WHITEOUT */
	struct gk_path o, n;
	long r = vfs_walk_user(a0, (uint64_t)a1, WALK_PARENT, &o);
	if (r)
		return r;
	if (!o.inode) {
		path_put(&o);
		return -ENOENT;
	}
	r = vfs_walk_user(a2, (uint64_t)a3, WALK_PARENT, &n);
	if (r) {
		path_put(&o);
		return r;
	}
	if (o.inode != n.inode && !(r = may_rename(&o, &n, a4)))
		r = o.dir->ops->rename(o.dir, o.last, o.last_len, o.inode,
				       n.dir, n.last, n.last_len, n.inode);
	path_put(&o);
	path_put(&n);
	return r;
}

GK_SYSCALL(sys_renameat)
{
	return sys_renameat2(a0, a1, a2, a3, 0, 0);
}

GK_SYSCALL(sys_rename)
{
	return sys_renameat2(AT_FDCWD, a0, AT_FDCWD, a1, 0, 0);
}

GK_SYSCALL(sys_linkat)
{
	a4 = (int)a4;
	if (a4 & ~(long)(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	unsigned wf = (a4 & AT_SYMLINK_FOLLOW) ? WALK_FOLLOW : 0;
	struct gk_path o, n;
	long r = vfs_walk_user(a0, (uint64_t)a1, wf | (a4 & AT_EMPTY_PATH ?
							   WALK_EMPTY : 0),
			       &o);
	if (r)
		return r;
	if (S_ISDIR(o.inode->mode)) {
		path_put(&o);
		return -EPERM;
	}
	r = vfs_walk_user(a2, (uint64_t)a3, WALK_PARENT, &n);
	if (r) {
		path_put(&o);
		return r;
	}
	if (n.inode || !n.dir)
		r = -EEXIST;
	else if (n.dir->dev != o.inode->dev)
		r = -EXDEV;
	else if (!(r = may_create(n.dir)))
		r = n.dir->ops->link ? n.dir->ops->link(n.dir, n.last,
							n.last_len, o.inode)
				     : -EPERM;
	path_put(&o);
	path_put(&n);
	return r;
}

GK_SYSCALL(sys_link)
{
	return sys_linkat(AT_FDCWD, a0, AT_FDCWD, a1, 0, 0);
}

GK_SYSCALL(sys_readlinkat)
{
	a3 = (int)a3; /* bufsiz */
	if (a3 <= 0)
		return -EINVAL;
	struct gk_path p;
	long r = vfs_walk_user(a0, (uint64_t)a1, WALK_EMPTY, &p);
	if (r)
		return r;
	struct gk_inode *in = p.inode;
	if (!S_ISLNK(in->mode))
		r = -EINVAL;
	else
		r = in->ops->readlink(in, scratch, sizeof(scratch));
	path_put(&p);
	if (r < 0)
		return r;
	uint64_t n = GK_MIN((uint64_t)r, (uint64_t)a3);
	if (!user_ok((uint64_t)a2, n, true))
		return -EFAULT;
	gk_copy((void *)(uintptr_t)a2, scratch, n);
	return (long)n;
}

GK_SYSCALL(sys_readlink)
{
	return sys_readlinkat(AT_FDCWD, a0, a1, a2, 0, 0);
}

GK_SYSCALL(sys_faccessat2)
{
	a2 = (int)a2;
	a3 = (int)a3;
	if (a2 & ~7l || a3 & ~(long)(AT_EACCESS | AT_SYMLINK_NOFOLLOW |
				     AT_EMPTY_PATH))
		return -EINVAL;
	unsigned wf = (a3 & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW;
	if (a3 & AT_EMPTY_PATH)
		wf |= WALK_EMPTY;
	struct gk_path p;
	long r = vfs_walk_user(a0, (uint64_t)a1, wf, &p);
	if (r)
		return r;
	if ((a2 & MAY_WRITE) && p.inode->read_only)
		r = -EROFS;
	else
		r = vfs_permission(p.inode, (unsigned)a2);
	path_put(&p);
	return r;
}

GK_SYSCALL(sys_faccessat)
{
	return sys_faccessat2(a0, a1, a2, 0, 0, 0);
}

GK_SYSCALL(sys_access)
{
	return sys_faccessat2(AT_FDCWD, a0, a1, 0, 0, 0);
}

GK_SYSCALL(sys_chdir)
{
	struct gk_path p;
	long r = vfs_walk_user(AT_FDCWD, (uint64_t)a0, WALK_FOLLOW, &p);
	if (r)
		return r;
	if (!S_ISDIR(p.inode->mode))
		r = -ENOTDIR;
	else if (!(r = vfs_permission(p.inode, MAY_EXEC))) {
		inode_put(gk_proc.cwd);
		gk_proc.cwd = inode_get(p.inode);
	}
	path_put(&p);
	return r;
}

GK_SYSCALL(sys_getcwd)
{
	uint64_t size = GK_MIN((uint64_t)a1, sizeof(scratch));
	long n = vfs_dir_path(gk_proc.cwd, scratch, size);
	if (n < 0)
		return n;
	if (!user_ok((uint64_t)a0, (uint64_t)n, true))
		return -EFAULT;
	gk_copy((void *)(uintptr_t)a0, scratch, (size_t)n);
	return n;
}

GK_SYSCALL(sys_truncate)
{
	struct gk_path p;
	long r = vfs_walk_user(AT_FDCWD, (uint64_t)a0, WALK_FOLLOW, &p);
	if (r)
		return r;
	if (!S_ISDIR(p.inode->mode) && !p.inode->read_only)
		r = vfs_permission(p.inode, MAY_WRITE);
	if (!r)
		r = sys_truncate_inode(p.inode, a1);
	path_put(&p);
	return r;
}

/* Only the owner may change what a file's metadata says. */
static long may_change(struct gk_inode *in)
{
	if (in->read_only)
		return -EROFS;
	return in->uid == GK_JOB_UID ? 0 : -EPERM;
}

static long chmod_inode(struct gk_inode *in, long mode)
{
	long r = may_change(in);
	if (!r) {
		in->mode = (in->mode & S_IFMT) | ((uint32_t)mode & 07777);
		in->ctime = time_realtime_ns();
	}
	return r;
}

GK_SYSCALL(sys_fchmodat)
{
	struct gk_path p;
	long r = vfs_walk_user(a0, (uint64_t)a1, WALK_FOLLOW, &p);
	if (r)
		return r;
	r = chmod_inode(p.inode, a2);
	path_put(&p);
	return r;
}

GK_SYSCALL(sys_chmod)
{
	return sys_fchmodat(AT_FDCWD, a0, a1, 0, 0, 0);
}

GK_SYSCALL(sys_fchmod)
{
	struct gk_file *f = fd_file(a0);
	if (!f)
		return -EBADF;
	return f->inode ? chmod_inode(f->inode, a1) : 0;
}

/* Setting both times to now needs only write access. */
static long may_touch(struct gk_inode *in)
{
	if (in->read_only)
		return -EROFS;
	return in->uid == GK_JOB_UID ? 0 : vfs_permission(in, MAY_WRITE);
}

/* Without privileges, ownership can only be "changed" to what it is:
 * the job's own uid and gid (or -1, unchanged), on its own files. */
static long chown_inode(struct gk_inode *in, long uid, long gid)
{
	long r = may_change(in);
	bool own = ((int)uid == -1 || (uint32_t)uid == GK_JOB_UID) &&
		   ((int)gid == -1 || (uint32_t)gid == GK_JOB_UID);
	if (!r && !own)
		r = -EPERM;
	if (!r)
		in->ctime = time_realtime_ns();
	return r;
}

GK_SYSCALL(sys_fchownat)
{
	a4 = (int)a4;
	if (a4 & ~(long)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	unsigned wf = (a4 & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW;
	if (a4 & AT_EMPTY_PATH)
		wf |= WALK_EMPTY;
	struct gk_path p;
	long r = vfs_walk_user(a0, (uint64_t)a1, wf, &p);
	if (r)
		return r;
	r = chown_inode(p.inode, a2, a3);
	path_put(&p);
	return r;
}

GK_SYSCALL(sys_chown)
{
	return sys_fchownat(AT_FDCWD, a0, a1, a2, 0, 0);
}

GK_SYSCALL(sys_lchown)
{
	return sys_fchownat(AT_FDCWD, a0, a1, a2, AT_SYMLINK_NOFOLLOW, 0);
}

GK_SYSCALL(sys_fchown)
{
	struct gk_file *f = fd_file(a0);
	if (!f)
		return -EBADF;
	return f->inode ? chown_inode(f->inode, a1, a2) : 0;
}

/* One utimensat timestamp: now, unchanged (OMIT) or as given. */
static long pick_time(const int64_t *ts, uint64_t *field, uint64_t now)
{
	if (!ts || ts[1] == UTIME_NOW) {
		*field = now;
		return 0;
	}
	if (ts[1] == UTIME_OMIT)
		return 0;
	if (ts[1] < 0 || ts[1] >= 1000000000 || ts[0] < 0)
		return -EINVAL;
	*field = (uint64_t)ts[0] * 1000000000ull + (uint64_t)ts[1];
	return 0;
}

GK_SYSCALL(sys_utimensat)
{
	a3 = (int)a3;
	if (a3 & ~(long)AT_SYMLINK_NOFOLLOW)
		return -EINVAL;
	const int64_t *ts = (const int64_t *)(uintptr_t)a2;
	if (ts && !user_ok((uint64_t)a2, 32, false))
		return -EFAULT;
	struct gk_path p;
	unsigned wf = (a3 & AT_SYMLINK_NOFOLLOW) ? WALK_EMPTY : WALK_FOLLOW |
								   WALK_EMPTY;
	long r = vfs_walk_user(a0, (uint64_t)a1, wf, &p);
	if (r)
		return r;
	struct gk_inode *in = p.inode;
	uint64_t now = time_realtime_ns(), at = in->atime, mt = in->mtime;
	r = ts ? may_change(in) : may_touch(in);
	if (!r)
		r = pick_time(ts, &at, now);
	if (!r)
		r = pick_time(ts ? ts + 2 : 0, &mt, now);
	if (!r) {
		in->atime = at;
		in->mtime = mt;
		in->ctime = now;
	}
	path_put(&p);
	return r;
}
