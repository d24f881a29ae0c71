/*
 * Read-only ext2 drives: the reader in host/ext2.c over virtio-blk (blk.h),
 * mounted where the job message says. Whole, sector-aligned runs of file
 * data go from the device straight into the destination (job memory for a
 * read(2)), everything else through a small cache of 4 KiB pieces, which
 * keeps the superblock, descriptors, inodes and indirect blocks close.
 * Writable drives are mounted read-only as well for now: writes fail with
 * EROFS (the copy-on-write overlay below is not used yet).
 */
#include "blk.h"
#include "kmem.h"
#include "vfs.h"

#include "host/ext2.c"

#define PIECE 4096u
#define PIECE_SECTORS (PIECE / GK_SECTOR_SIZE)
#define CACHE_PIECES 32
#define DIRECT_MAX (1u << 20) /* bytes per request on the direct path */
#define FIRST_DEV 2           /* st_dev of drive 0; tmpfs is 1 */

struct gk_ext2_mount {
	struct gk_blockdev *dev;
	uint64_t sectors;
	struct ext2_fs fs;
	uint64_t st_dev;
};

static struct gk_ext2_mount mounts[AL_DRIVES_MAX];

/* A direct-mapped cache of 4 KiB device pieces, for every drive. */
static struct {
	const struct gk_ext2_mount *mnt;
	uint64_t piece;
} cache_tag[CACHE_PIECES];
static uint8_t cache_data[CACHE_PIECES][PIECE]
	__attribute__((aligned(AL_PAGE_SIZE)));

static const uint8_t *cached_piece(struct gk_ext2_mount *m, uint64_t piece)
{
	unsigned slot = (unsigned)(piece % CACHE_PIECES);
	if (cache_tag[slot].mnt == m && cache_tag[slot].piece == piece)
		return cache_data[slot];
	uint64_t sector = piece * PIECE_SECTORS;
	if (sector >= m->sectors)
		return NULL;
	uint32_t count = (uint32_t)GK_MIN((uint64_t)PIECE_SECTORS,
					  m->sectors - sector);
	cache_tag[slot].mnt = NULL;
	if (blk_read(m->dev, sector, cache_data[slot], count))
		return NULL;
	gk_zero(cache_data[slot] + count * GK_SECTOR_SIZE,
		PIECE - count * GK_SECTOR_SIZE);
	cache_tag[slot].mnt = m;
	cache_tag[slot].piece = piece;
	return cache_data[slot];
}

static long read_direct(struct gk_ext2_mount *m, uint64_t off, uint8_t *buf,
			uint64_t len)
{
	for (uint64_t done = 0; done < len;) {
		uint64_t n = GK_MIN(len - done, (uint64_t)DIRECT_MAX);
		if (blk_read(m->dev, (off + done) / GK_SECTOR_SIZE, buf + done,
			     (uint32_t)(n / GK_SECTOR_SIZE)))
			return -EIO;
		done += n;
	}
	return 0;
}

/* The reader's callback: len bytes of the drive at off into buf. */
static long drive_read(void *ctx, uint64_t off, void *buf, uint64_t len)
{
	struct gk_ext2_mount *m = ctx;
	uint64_t bytes = m->sectors * GK_SECTOR_SIZE;
	if (off > bytes || len > bytes - off)
		return -EIO;
	if (off % GK_SECTOR_SIZE == 0 && len % GK_SECTOR_SIZE == 0 &&
	    len >= PIECE)
		return read_direct(m, off, buf, len);
	uint8_t *p = buf;
	while (len) {
		const uint8_t *piece = cached_piece(m, off / PIECE);
		if (!piece)
			return -EIO;
		uint64_t n = GK_MIN(len, PIECE - off % PIECE);
		gk_copy(p, piece + off % PIECE, n);
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* ---- inodes ------------------------------------------------------------------ */

static const struct gk_inode_ops ext2_ops;

static struct gk_inode *inode_from_disk(struct gk_ext2_mount *m,
					const struct ext2_inode *d)
{
	struct gk_inode *in = inode_new(&ext2_ops, d->mode);
	if (!in)
		return NULL;
	in->read_only = true;
	in->ino = d->ino;
	in->dev = m->st_dev;
	in->nlink = d->links;
	in->uid = d->uid;
	in->gid = d->gid;
	in->size = d->size;
	in->blocks512 = d->blocks512;
	in->atime = d->atime * 1000000000ull;
	in->mtime = d->mtime * 1000000000ull;
	in->ctime = d->ctime * 1000000000ull;
	in->u.ext2.mnt = m;
	in->u.ext2.disk = *d;
	return in;
}

static const struct ext2_fs *fs_of(const struct gk_inode *in)
{
	return &in->u.ext2.mnt->fs;
}

static long e2_lookup(struct gk_inode *dir, const char *name, size_t len,
		      struct gk_inode **out)
{
	uint32_t ino;
	struct ext2_inode d;
	long r = ext2_lookup(fs_of(dir), &dir->u.ext2.disk, name, len, &ino);
	if (r || (r = ext2_inode(fs_of(dir), ino, &d)))
		return r;
	*out = inode_from_disk(dir->u.ext2.mnt, &d);
	return *out ? 0 : -ENOMEM;
}

struct fill_ctx {
	gk_filldir fill;
	void *ctx;
};

static long e2_fill(void *ctx, const char *name, size_t len, uint32_t ino,
		    unsigned type, uint64_t next)
{
	/* ext2's file types 1..7 map onto DT_REG, DT_DIR, DT_CHR, ... */
	static const uint8_t dt[8] = {0, 8, 4, 2, 6, 1, 12, 10};
	struct fill_ctx *f = ctx;
	return f->fill(f->ctx, name, len, ino, dt[type & 7], next) ? 0 : 1;
}

static long e2_readdir(struct gk_inode *dir, uint64_t *pos, gk_filldir fill,
		       void *ctx)
{
	struct fill_ctx f = {fill, ctx};
	long r = ext2_readdir(fs_of(dir), &dir->u.ext2.disk, pos, e2_fill, &f);
	return r < 0 ? r : 0;
}

static long e2_read(struct gk_inode *in, uint64_t dst, uint64_t len,
		    uint64_t off)
{
	return ext2_read(fs_of(in), &in->u.ext2.disk, off,
			 (void *)(uintptr_t)dst, len);
}

static long e2_readlink(struct gk_inode *in, char *buf, size_t size)
{
	return ext2_readlink(fs_of(in), &in->u.ext2.disk, buf, size);
}

static const struct gk_inode_ops ext2_ops = {
	.lookup = e2_lookup,
	.readdir = e2_readdir,
	.read = e2_read,
	.readlink = e2_readlink,
	.release = inode_free,
};

/* ---- mounting ---------------------------------------------------------------- */

/* The VMM names the drive and its mount point. */
static GK_NORETURN void mount_fail(unsigned i, const char *why)
{
	char msg[AL_EXEC_ERROR_MAX];
	size_t n = GK_MIN(gk_strlen(why), sizeof(msg) - 1);
	msg[0] = (char)i;
	gk_copy(msg + 1, why, n);
	exec_stop(AL_MSG_DRIVE_ERROR, msg, (uint32_t)n + 1);
}

static GK_NORETURN void image_fail(unsigned i, const char *why)
{
	char msg[AL_EXEC_ERROR_MAX];
	gk_fmt(msg, sizeof(msg),
	       "not an ext2 image airlock can read: %s (mke2fs -t ext2 -d DIR "
	       "IMAGE makes one)",
	       why);
	mount_fail(i, msg);
}

static void mount_drive(unsigned i, const struct al_job_drive *d)
{
	char mount[AL_MOUNT_MAX];
	gk_copy(mount, d->mount, sizeof(mount));
	mount[sizeof(mount) - 1] = 0;
	if (mount[0] != '/')
		mount_fail(i, "the mount point is not an absolute path");
	struct gk_ext2_mount *m = &mounts[i];
	m->dev = blk_get(d->mmio_index);
	if (!m->dev)
		mount_fail(i, "no virtio-blk device answers");
	m->sectors = blk_sectors(m->dev);
	m->st_dev = FIRST_DEV + i;
	if (ext2_open(&m->fs, drive_read, m, m->sectors * GK_SECTOR_SIZE))
		image_fail(i, m->fs.why);
	struct ext2_inode disk;
	struct gk_inode *root, *dir;
	if (ext2_inode(&m->fs, EXT2_ROOT_INO, &disk) ||
	    (disk.mode & S_IFMT) != S_IFDIR)
		image_fail(i, "its root directory is unreadable");
	if (!(root = inode_from_disk(m, &disk)))
		mount_fail(i, "out of memory");
	if (vfs_mkdir_p(mount, &dir))
		mount_fail(i, "cannot make the mount point");
	/* The mount holds both for the life of the job. */
	root->covered = dir;
	dir->mounted = root;
}

void ext2fs_mount_drives(const struct al_job *job)
{
	for (unsigned i = 0; i < job->ndrives && i < AL_DRIVES_MAX; i++)
		mount_drive(i, &job->drives[i]);
}
