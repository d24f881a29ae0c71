/*
 * tmpfs: the writable file system at /, in kernel pages taken from free job
 * memory (kmem.c). A regular file's pages hang in a radix tree of index
 * pages (512 entries each); a missing page reads as zeroes, so sparse files
 * cost nothing. Running out of memory for files is ENOSPC, never a panic.
 */
#include "kmem.h"
#include "vfs.h"

#define SLOTS 512u
#define SLOT_SHIFT 9
#define MAX_FILE_BYTES (1ull << 40) /* far above any guest's memory */

struct gk_tmpfs_dirent {
	struct gk_tmpfs_dirent *next;
	struct gk_inode *inode;
	uint64_t cookie; /* readdir position, increasing along the list */
	uint8_t len;
	char name[];
};

static const struct gk_inode_ops dir_ops, file_ops, link_ops;
static void link_free(struct gk_inode *in);

/* ---- regular files --------------------------------------------------------- */

static uint64_t capacity(unsigned depth)
{
	return 1ull << (SLOT_SHIFT * depth);
}

/* Adds index levels until page index fits. */
static bool grow_tree(struct gk_inode *in, uint64_t index)
{
	while (index >= capacity(in->u.pages.depth)) {
		if (in->u.pages.root) {
			uint64_t *node = kpage_alloc();
			if (!node)
				return false;
			node[0] = in->u.pages.root;
			in->u.pages.root = (uint64_t)(uintptr_t)node;
		}
		in->u.pages.depth++;
	}
	return true;
}

/* The slot holding data page index; NULL when absent (and !alloc) or when
 * memory ran out. */
static uint64_t *page_slot(struct gk_inode *in, uint64_t index, bool alloc)
{
	if (alloc ? !grow_tree(in, index)
		  : index >= capacity(in->u.pages.depth))
		return NULL;
	uint64_t *slot = &in->u.pages.root;
	for (unsigned level = in->u.pages.depth; level; level--) {
		if (!*slot) {
			void *node = alloc ? kpage_alloc() : NULL;
			if (!node)
				return NULL;
			*slot = (uint64_t)(uintptr_t)node;
		}
		uint64_t *node = (uint64_t *)(uintptr_t)*slot;
		slot = &node[(index >> (SLOT_SHIFT * (level - 1))) & (SLOTS - 1)];
	}
	return slot;
}

static long file_read(struct gk_inode *in, uint64_t dst, uint64_t len,
		      uint64_t off)
{
	if (off >= in->size)
		return 0;
	len = GK_MIN(len, in->size - off);
	for (uint64_t done = 0; done < len;) {
		uint64_t at = off + done, in_page = at % AL_PAGE_SIZE;
		uint64_t n = GK_MIN(len - done, AL_PAGE_SIZE - in_page);
		uint64_t *slot = page_slot(in, at / AL_PAGE_SIZE, false);
		void *to = (void *)(uintptr_t)(dst + done);
		if (slot && *slot)
			gk_copy(to, (const char *)(uintptr_t)*slot + in_page, n);
		else
			gk_zero(to, n);
		done += n;
	}
	return (long)len;
}

static long file_write(struct gk_inode *in, uint64_t src, uint64_t len,
		       uint64_t off)
{
	if (off >= MAX_FILE_BYTES || len > MAX_FILE_BYTES - off)
		return -EFBIG;
	uint64_t done = 0;
	while (done < len) {
		uint64_t at = off + done, in_page = at % AL_PAGE_SIZE;
		uint64_t n = GK_MIN(len - done, AL_PAGE_SIZE - in_page);
		uint64_t *slot = page_slot(in, at / AL_PAGE_SIZE, true);
		if (slot && !*slot) {
			void *page = kpage_alloc();
			*slot = (uint64_t)(uintptr_t)page;
			in->blocks512 += page ? AL_PAGE_SIZE / 512 : 0;
		}
		if (!slot || !*slot)
			break;
		gk_copy((char *)(uintptr_t)*slot + in_page,
			(const void *)(uintptr_t)(src + done), n);
		done += n;
	}
	if (off + done > in->size)
		in->size = off + done;
	return done ? (long)done : -ENOSPC;
}

/* Drops data page index, if present. */
static void drop_page(struct gk_inode *in, uint64_t index)
{
	uint64_t *slot = page_slot(in, index, false);
	if (slot && *slot) {
		kpage_free((void *)(uintptr_t)*slot);
		*slot = 0;
		in->blocks512 -= AL_PAGE_SIZE / 512;
	}
}

static long file_truncate(struct gk_inode *in, uint64_t size)
{
	if (size > MAX_FILE_BYTES)
		return -EFBIG;
	if (size < in->size) {
		uint64_t keep = gk_page_up(size) / AL_PAGE_SIZE;
		for (uint64_t i = keep; i < gk_page_up(in->size) / AL_PAGE_SIZE;
		     i++)
			drop_page(in, i);
		/* The tail of the last page must read as zeroes if the file
		 * grows again. */
		uint64_t *slot = page_slot(in, size / AL_PAGE_SIZE, false);
		if (size % AL_PAGE_SIZE && slot && *slot)
			gk_zero((char *)(uintptr_t)*slot + size % AL_PAGE_SIZE,
				AL_PAGE_SIZE - size % AL_PAGE_SIZE);
	}
	in->size = size;
	inode_touch(in, true);
	return 0;
}

static void free_tree(uint64_t node, unsigned depth)
{
	if (!node)
		return;
	if (depth) {
		uint64_t *slots = (uint64_t *)(uintptr_t)node;
		for (unsigned i = 0; i < SLOTS; i++)
			free_tree(slots[i], depth - 1);
	}
	kpage_free((void *)(uintptr_t)node);
}

/* Files stay while linked; the last reference to an unlinked one frees. */
static void tmpfs_release(struct gk_inode *in)
{
	if (in->nlink)
		return;
	if (S_ISREG(in->mode))
		free_tree(in->u.pages.root, in->u.pages.depth);
	else if (S_ISLNK(in->mode))
		link_free(in);
	inode_free(in);
}

/* ---- symlinks -------------------------------------------------------------- */

/* Targets up to GK_PATH_MAX - 1 bytes: a page when too big for kmalloc. */
static char *link_alloc(size_t n)
{
	return n < KMEM_MAX_OBJ ? kmalloc(n + 1) : kpage_alloc();
}

static void link_free(struct gk_inode *in)
{
	if (in->size < KMEM_MAX_OBJ)
		kfree(in->u.link);
	else
		kpage_free(in->u.link);
}

static long link_readlink(struct gk_inode *in, char *buf, size_t size)
{
	size_t n = GK_MIN((size_t)in->size, size);
	gk_copy(buf, in->u.link, n);
	return (long)n;
}

/* ---- directories ----------------------------------------------------------- */

static struct gk_tmpfs_dirent **find(struct gk_inode *dir, const char *name,
				     size_t len)
{
	struct gk_tmpfs_dirent **d = &dir->u.dir.head;
	for (; *d; d = &(*d)->next)
		if ((*d)->len == len && !memcmp((*d)->name, name, len))
			return d;
	return NULL;
}

static long dir_lookup(struct gk_inode *dir, const char *name, size_t len,
		       struct gk_inode **out)
{
	struct gk_tmpfs_dirent **d = find(dir, name, len);
	if (!d)
		return -ENOENT;
	*out = inode_get((*d)->inode);
	return 0;
}

static unsigned dtype(uint32_t mode)
{
	return (mode & S_IFMT) >> 12; /* DT_* are the S_IFMT bits, shifted */
}

/* Positions: 0 ".", 1 "..", then each entry's cookie. */
static long dir_readdir(struct gk_inode *dir, uint64_t *pos, gk_filldir fill,
			void *ctx)
{
	if (*pos == 0) {
		if (!fill(ctx, ".", 1, dir->ino, DT_DIR, 1))
			return 0;
		*pos = 1;
	}
	if (*pos == 1) {
		struct gk_inode *up = dir->parent ? dir->parent : dir;
		if (!fill(ctx, "..", 2, up->ino, DT_DIR, 2))
			return 0;
		*pos = 2;
	}
	for (struct gk_tmpfs_dirent *d = dir->u.dir.head; d; d = d->next) {
		if (d->cookie < *pos)
			continue;
		if (!fill(ctx, d->name, d->len, d->inode->ino,
			  dtype(d->inode->mode), d->cookie + 1))
			return 0;
		*pos = d->cookie + 1;
	}
	return 0;
}

static void append(struct gk_inode *dir, struct gk_tmpfs_dirent *d)
{
	d->next = NULL;
	d->cookie = dir->u.dir.next_cookie++;
	*dir->u.dir.tail = d;
	dir->u.dir.tail = &d->next;
	inode_touch(dir, true);
}

static struct gk_tmpfs_dirent *dirent_new(const char *name, size_t len,
					  struct gk_inode *in)
{
	struct gk_tmpfs_dirent *d = kmalloc(sizeof(*d) + len);
	if (d) {
		d->inode = in;
		d->len = (uint8_t)len;
		gk_copy(d->name, name, len);
	}
	return d;
}

/* Unhooks *at from dir's list, keeping the tail pointer right. */
static struct gk_tmpfs_dirent *unhook(struct gk_inode *dir,
				      struct gk_tmpfs_dirent **at)
{
	struct gk_tmpfs_dirent *d = *at;
	*at = d->next;
	if (dir->u.dir.tail == &d->next)
		dir->u.dir.tail = at;
	inode_touch(dir, true);
	return d;
}

static void init_dir(struct gk_inode *in)
{
	in->nlink = 2;
	in->u.dir.tail = &in->u.dir.head;
	in->u.dir.next_cookie = 2;
}

/* A new inode of the kind mode says. */
static struct gk_inode *make_inode(uint32_t mode, const char *target)
{
	const struct gk_inode_ops *ops = S_ISDIR(mode)	 ? &dir_ops
					 : S_ISLNK(mode) ? &link_ops
							 : &file_ops;
	struct gk_inode *in = inode_new(ops, mode);
	if (!in)
		return NULL;
	if (S_ISDIR(mode))
		init_dir(in);
	if (S_ISLNK(mode)) {
		size_t n = gk_strlen(target);
		in->u.link = link_alloc(n);
		if (!in->u.link) {
			inode_free(in);
			return NULL;
		}
		gk_copy(in->u.link, target, n + 1);
		in->size = n;
	}
	return in;
}

static long dir_create(struct gk_inode *dir, const char *name, size_t len,
		       uint32_t mode, const char *target,
		       struct gk_inode **out)
{
	if (find(dir, name, len))
		return -EEXIST;
	struct gk_inode *in = make_inode(mode, target);
	struct gk_tmpfs_dirent *d = in ? dirent_new(name, len, in) : NULL;
	if (!d || (S_ISDIR(mode) && inode_set_parent(in, dir, name, len))) {
		kfree(d);
		if (in)
			inode_free(in);
		return -ENOSPC;
	}
	if (S_ISDIR(mode))
		dir->nlink++;
	append(dir, d);
	*out = in;
	return 0;
}

/* Drops victim's link from dir (its entry is already unhooked). */
static void drop_link(struct gk_inode *dir, struct gk_inode *victim)
{
	if (S_ISDIR(victim->mode)) {
		victim->nlink = 0;
		dir->nlink--;
	} else {
		victim->nlink--;
	}
	/* The caller's reference frees it when that was the last link. */
	victim->ctime = time_realtime_ns();
}

static long dir_unlink(struct gk_inode *dir, const char *name, size_t len,
		       struct gk_inode *victim)
{
	struct gk_tmpfs_dirent **at = find(dir, name, len);
	if (!at || (*at)->inode != victim)
		return -ENOENT;
	if (S_ISDIR(victim->mode) && victim->u.dir.head)
		return -ENOTEMPTY;
	kfree(unhook(dir, at));
	drop_link(dir, victim);
	return 0;
}

static long dir_rename(struct gk_inode *odir, const char *oname, size_t olen,
		       struct gk_inode *old, struct gk_inode *ndir,
		       const char *nname, size_t nlen, struct gk_inode *victim)
{
	struct gk_tmpfs_dirent **at = find(odir, oname, olen);
	if (!at || (*at)->inode != old)
		return -ENOENT;
	if (victim && S_ISDIR(victim->mode) && victim->u.dir.head)
		return -ENOTEMPTY;
	struct gk_tmpfs_dirent *d = dirent_new(nname, nlen, old);
	if (!d || (S_ISDIR(old->mode) &&
		   inode_set_parent(old, ndir, nname, nlen))) {
		kfree(d);
		return -ENOSPC;
	}
	if (victim) {
		struct gk_tmpfs_dirent **v = find(ndir, nname, nlen);
		kfree(unhook(ndir, v));
		drop_link(ndir, victim);
	}
	/* Found again: unhooking victim from the same list may move it. */
	kfree(unhook(odir, find(odir, oname, olen)));
	if (S_ISDIR(old->mode)) {
		odir->nlink--;
		ndir->nlink++;
	}
	append(ndir, d);
	old->ctime = time_realtime_ns();
	return 0;
}

/* A new name for in (a hard link, or a device's first name). */
static long add_name(struct gk_inode *dir, const char *name, size_t len,
		     struct gk_inode *in)
{
	if (find(dir, name, len))
		return -EEXIST;
	struct gk_tmpfs_dirent *d = dirent_new(name, len, in);
	if (!d)
		return -ENOSPC;
	append(dir, d);
	return 0;
}

static long dir_link(struct gk_inode *dir, const char *name, size_t len,
		     struct gk_inode *in)
{
	long r = add_name(dir, name, len, in);
	if (!r) {
		in->nlink++;
		in->ctime = time_realtime_ns();
	}
	return r;
}

long tmpfs_add(struct gk_inode *dir, const char *name, struct gk_inode *in)
{
	return add_name(dir, name, gk_strlen(name), in);
}

static const struct gk_inode_ops dir_ops = {
	.lookup = dir_lookup,
	.readdir = dir_readdir,
	.create = dir_create,
	.unlink = dir_unlink,
	.rename = dir_rename,
	.link = dir_link,
	.release = tmpfs_release,
};

static const struct gk_inode_ops file_ops = {
	.read = file_read,
	.write = file_write,
	.truncate = file_truncate,
	.release = tmpfs_release,
};

static const struct gk_inode_ops link_ops = {
	.readlink = link_readlink,
	.release = tmpfs_release,
};

struct gk_inode *tmpfs_new_root(void)
{
	struct gk_inode *root = make_inode(S_IFDIR | 0755, NULL);
	if (!root)
		gk_panic("no memory for the root directory");
	return root;
}
