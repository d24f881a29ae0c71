/*
 * Inodes, permissions, mounts and path walking. Directories remember the
 * directory they were reached from (a reference), so ".." and getcwd need
 * no help from the file system, and a hostile image's directory cycles
 * cannot make a walk loop: every walk is as long as its path.
 */
#include "kmem.h"
#include "vfs.h"

#define MAX_LINKS 40 /* Linux's limit on symlinks followed in one walk */

struct gk_inode *vfs_root;
static uint64_t next_ino = 1;

struct gk_inode *inode_new(const struct gk_inode_ops *ops, uint32_t mode)
{
	struct gk_inode *in = kmalloc(sizeof(*in));
	if (!in)
		return NULL;
	in->ops = ops;
	in->refs = 1;
	in->mode = mode;
	in->nlink = 1;
	in->uid = in->gid = GK_JOB_UID;
	in->ino = next_ino++;
	in->dev = 1;
	inode_touch(in, true);
	return in;
}

struct gk_inode *inode_get(struct gk_inode *in)
{
	in->refs++;
	return in;
}

void inode_put(struct gk_inode *in)
{
	if (!in || --in->refs)
		return;
	if (in->ops->release)
		in->ops->release(in);
}

void inode_free(struct gk_inode *in)
{
	inode_put(in->parent);
	kfree(in->name);
	kfree(in);
}

void inode_touch(struct gk_inode *in, bool modified)
{
	uint64_t now = time_realtime_ns();
	in->atime = now;
	if (modified)
		in->mtime = in->ctime = now;
}

long inode_set_parent(struct gk_inode *child, struct gk_inode *parent,
		      const char *name, size_t len)
{
	char *copy = kmalloc(len + 1);
	if (!copy)
		return -ENOMEM;
	gk_copy(copy, name, len);
	kfree(child->name);
	child->name = copy;
	inode_get(parent);
	inode_put(child->parent);
	child->parent = parent;
	return 0;
}

long vfs_permission(const struct gk_inode *in, unsigned mask)
{
	unsigned bits = in->mode;
	if (in->uid == GK_JOB_UID)
		bits >>= 6;
	else if (in->gid == GK_JOB_UID)
		bits >>= 3;
	return (bits & mask) == mask ? 0 : -EACCES;
}

struct gk_inode *vfs_follow_mounts(struct gk_inode *in)
{
	while (in->mounted)
		in = in->mounted;
	return in;
}

/* ".." of cur: the mount's root steps out to what it covers first. */
static struct gk_inode *dotdot(struct gk_inode *cur)
{
	while (cur->covered)
		cur = cur->covered;
	struct gk_inode *up = cur->parent ? cur->parent : cur;
	return vfs_follow_mounts(up);
}

/* ---- the walk -------------------------------------------------------------- */

/* Two buffers: the path being walked and the one a symlink splices into. */
static char walk_buf[2][2 * GK_PATH_MAX];

struct walk {
	struct gk_inode *cur; /* a reference */
	const char *rest;
	unsigned links, buf;
};

/* Continues the walk through the symlink in: target, then what is left. */
static long splice_link(struct walk *w, struct gk_inode *in)
{
	if (++w->links > MAX_LINKS)
		return -ELOOP;
	char *dst = walk_buf[w->buf ^ 1];
	long n = in->ops->readlink ? in->ops->readlink(in, dst, GK_PATH_MAX)
				   : -EINVAL;
	if (n < 0)
		return n;
	if (n == 0)
		return -ENOENT;
	/* "/" only between target and a rest: a final link's target must
	 * not gain a trailing slash. */
	size_t rest = gk_strlen(w->rest);
	if ((size_t)n + 1 + rest >= sizeof(walk_buf[0]))
		return -ENAMETOOLONG;
	if (rest)
		dst[n++] = '/';
	gk_copy(dst + n, w->rest, rest + 1);
	w->buf ^= 1;
	w->rest = dst;
	if (dst[0] == '/') {
		inode_put(w->cur);
		w->cur = inode_get(vfs_follow_mounts(vfs_root));
	}
	return 0;
}

/* Looks name up in w->cur; the result is a new reference. */
static long step(struct walk *w, const char *name, size_t len,
		 struct gk_inode **out)
{
	struct gk_inode *dir = w->cur;
	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	long r = vfs_permission(dir, MAY_EXEC);
	if (r)
		return r;
	if (len == 1 && name[0] == '.') {
		*out = inode_get(dir);
		return 0;
	}
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		*out = inode_get(dotdot(dir));
		return 0;
	}
	struct gk_inode *in;
	r = dir->ops->lookup ? dir->ops->lookup(dir, name, len, &in) : -ENOTDIR;
	if (r)
		return r;
	if (S_ISDIR(in->mode) && !in->parent && in != vfs_root &&
	    !in->covered && (r = inode_set_parent(in, dir, name, len))) {
		inode_put(in);
		return r;
	}
	struct gk_inode *top = vfs_follow_mounts(in);
	if (top != in) {
		inode_get(top);
		inode_put(in);
	}
	*out = top;
	return 0;
}

static bool is_dots(const char *s, size_t len)
{
	return (len == 1 && s[0] == '.') ||
	       (len == 2 && s[0] == '.' && s[1] == '.');
}

static long start_at(long dirfd, const char *path, struct walk *w)
{
	dirfd = (int)dirfd; /* an int in Linux: upper bits are noise */
	struct gk_inode *start;
	if (path[0] == '/') {
		start = vfs_follow_mounts(vfs_root);
	} else if (dirfd == AT_FDCWD) {
		start = gk_proc.cwd;
	} else {
		struct gk_file *f = fd_file(dirfd);
		if (!f)
			return -EBADF;
		if (!f->inode)
			return -ENOTDIR;
		start = f->inode;
	}
	w->cur = inode_get(start);
	return 0;
}

/* Field by field: a struct assignment this size becomes `rep stos`, which
 * PVM emulates one iteration at a time. */
static void path_clear(struct gk_path *p)
{
	p->dir = p->inode = NULL;
	p->last[0] = 0;
	p->last_len = 0;
	p->trailing_slash = false;
}

/* The walk proper, on a path already in walk_buf[0]. */
static long walk(long dirfd, unsigned flags, struct gk_path *out)
{
	struct walk w = {.rest = walk_buf[0]};
	path_clear(out);
	if (!w.rest[0] && !(flags & WALK_EMPTY))
		return -ENOENT;
	long r = start_at(dirfd, w.rest, &w);
	if (r)
		return r;
	for (;;) {
		while (*w.rest == '/')
			w.rest++;
		if (!*w.rest)
			break;
		const char *name = w.rest;
		size_t len = 0;
		while (name[len] && name[len] != '/')
			len++;
		if (len > GK_NAME_MAX) {
			r = -ENAMETOOLONG;
			break;
		}
		w.rest = name + len;
		const char *after = w.rest;
		while (*after == '/')
			after++;
		bool last = !*after, slash = *w.rest == '/';
		struct gk_inode *next = NULL;
		r = step(&w, name, len, &next);
		if (last && (flags & WALK_PARENT) && !is_dots(name, len) &&
		    (r == 0 || r == -ENOENT)) {
			if (next && S_ISLNK(next->mode) &&
			    ((flags & WALK_FOLLOW) || slash)) {
				r = splice_link(&w, next);
				inode_put(next);
				if (r)
					break;
				continue;
			}
			out->dir = w.cur;
			out->inode = next;
			gk_copy(out->last, name, len);
			out->last[len] = 0;
			out->last_len = len;
			out->trailing_slash = slash;
			return 0;
		}
		if (r)
			break;
		if (S_ISLNK(next->mode) &&
		    (!last || (flags & WALK_FOLLOW) || slash)) {
			r = splice_link(&w, next);
			inode_put(next);
			if (r)
				break;
			continue;
		}
		inode_put(w.cur);
		w.cur = next;
		out->trailing_slash = slash;
	}
	if (r) {
		inode_put(w.cur);
		return r;
	}
	if (out->trailing_slash && !S_ISDIR(w.cur->mode)) {
		inode_put(w.cur);
		return -ENOTDIR;
	}
	out->inode = w.cur;
	return 0;
}

void path_put(struct gk_path *p)
{
	inode_put(p->dir);
	inode_put(p->inode);
	p->dir = p->inode = NULL;
}

/* Checks each page of the string as the copy reaches it. */
long vfs_copy_user_path(uint64_t u, char *buf)
{
	for (size_t i = 0; i < GK_PATH_MAX; i++) {
		if ((i == 0 || (u + i) % AL_PAGE_SIZE == 0) &&
		    !user_ok(u + i, 1, false))
			return -EFAULT;
		buf[i] = *(const char *)(uintptr_t)(u + i);
		if (!buf[i])
			return (long)i;
	}
	return -ENAMETOOLONG;
}

long vfs_walk_user(long dirfd, uint64_t upath, unsigned flags,
		   struct gk_path *out)
{
	path_clear(out);
	if (!upath && (flags & WALK_EMPTY)) {
		walk_buf[0][0] = 0; /* Linux 6.11: NULL with AT_EMPTY_PATH */
	} else {
		long r = vfs_copy_user_path(upath, walk_buf[0]);
		if (r < 0)
			return r;
	}
	return walk(dirfd, flags, out);
}

long vfs_walk(long dirfd, const char *path, unsigned flags,
	      struct gk_path *out)
{
	size_t len = gk_strlen(path);
	if (len >= GK_PATH_MAX)
		return -ENAMETOOLONG;
	gk_copy(walk_buf[0], path, len + 1);
	return walk(dirfd, flags, out);
}

long vfs_mkdir_p(const char *path, struct gk_inode **out)
{
	struct gk_inode *cur = inode_get(vfs_follow_mounts(vfs_root));
	while (*path) {
		while (*path == '/')
			path++;
		size_t len = 0;
		while (path[len] && path[len] != '/')
			len++;
		if (!len)
			break;
		struct walk w = {.cur = cur};
		struct gk_inode *next;
		long r = step(&w, path, len, &next);
		if (r == -ENOENT && cur->ops->create) {
			r = cur->ops->create(cur, path, len, S_IFDIR | 0755, 0,
					     &next);
			if (!r)
				r = inode_set_parent(next, cur, path, len);
		}
		inode_put(cur);
		if (r)
			return r;
		if (!S_ISDIR(next->mode)) {
			inode_put(next);
			return -ENOTDIR;
		}
		cur = next;
		path += len;
	}
	*out = cur;
	return 0;
}

long vfs_dir_path(struct gk_inode *in, char *buf, size_t size)
{
	/* Names from in upwards, written from the end of buf. */
	size_t at = size;
	if (!in->nlink)
		return -ENOENT;
	for (;;) {
		while (in->covered)
			in = in->covered;
		if (in == vfs_root || !in->parent || !in->name)
			break;
		size_t len = gk_strlen(in->name);
		if (at < len + 2)
			return -ERANGE;
		at -= len;
		gk_copy(buf + at, in->name, len);
		buf[--at] = '/';
		in = in->parent;
	}
	if (at == size) {
		if (size < 2)
			return -ERANGE;
		buf[--at] = '/';
	}
	size_t len = size - at;
	if (len + 1 > size)
		return -ERANGE;
	memmove(buf, buf + at, len);
	buf[len] = 0;
	return (long)len + 1;
}
