/* The read-only ext2 reader; see ext2.h. */
#include "ext2.h"

#define SUPER_OFF 1024
#define SUPER_LEN 104
#define MAGIC 0xef53
#define GDESC_LEN 32
#define INODE_LEN 128 /* the part we read: the revision-0 inode */
#define DIRENT_HDR 8
#define FAST_LINK_MAX 60 /* a link target stored in i_block itself */
#define MAX_LOG_BLOCK 6  /* 64 KiB blocks */
#define INCOMPAT_FILETYPE 0x2u

static uint32_t le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static long fail(struct ext2_fs *fs, long err, const char *why)
{
	fs->why = why;
	return err;
}

/* The superblock fields that size everything else, checked together. */
static long check_geometry(struct ext2_fs *fs)
{
	if (!fs->blocks_count || !fs->inodes_count || !fs->blocks_per_group ||
	    !fs->inodes_per_group)
		return fail(fs, -EXT2_EUCLEAN, "zero block or inode counts");
	if (fs->blocks_per_group > 8 * fs->block_size ||
	    fs->inodes_per_group > 8 * fs->block_size)
		return fail(fs, -EXT2_EUCLEAN,
			    "more blocks or inodes per group than a bitmap "
			    "holds");
	if (fs->first_data_block >= fs->blocks_count ||
	    fs->first_data_block != (fs->block_size == 1024))
		return fail(fs, -EXT2_EUCLEAN, "bad first data block");
	uint32_t data = fs->blocks_count - fs->first_data_block;
	fs->groups = data / fs->blocks_per_group +
		     (data % fs->blocks_per_group != 0);
	if ((uint64_t)fs->groups * fs->inodes_per_group < fs->inodes_count)
		return fail(fs, -EXT2_EUCLEAN,
			    "inode count exceeds the groups' inodes");
	fs->gdt_off = (uint64_t)(fs->first_data_block + 1) * fs->block_size;
	if (fs->gdt_off + (uint64_t)fs->groups * GDESC_LEN >
	    (uint64_t)fs->blocks_count * fs->block_size)
		return fail(fs, -EXT2_EUCLEAN,
			    "group descriptors run past the end");
	return 0;
}

/* An image may be shorter than the file system it holds (mke2fs leaves
 * unwritten blocks out): reads past the end fail with -EIO then. */
long ext2_open(struct ext2_fs *fs, ext2_read_fn read, void *ctx,
	       uint64_t dev_bytes)
{
	uint8_t sb[SUPER_LEN];
	fs->read = read;
	fs->ctx = ctx;
	fs->why = NULL;
	if (dev_bytes < SUPER_OFF + SUPER_LEN)
		return fail(fs, -EXT2_EINVAL, "too small for a superblock");
	if (read(ctx, SUPER_OFF, sb, sizeof(sb)))
		return fail(fs, -EXT2_EIO, "reading the superblock failed");
	if (le16(sb + 56) != MAGIC)
		return fail(fs, -EXT2_EINVAL, "no ext2 magic number");
	uint32_t log = le32(sb + 24), rev = le32(sb + 76);
	if (log > MAX_LOG_BLOCK || rev > 1)
		return fail(fs, -EXT2_EINVAL,
			    "unsupported block size or revision");
	fs->block_size = 1024u << log;
	fs->inodes_count = le32(sb + 0);
	fs->blocks_count = le32(sb + 4);
	fs->first_data_block = le32(sb + 20);
	fs->blocks_per_group = le32(sb + 32);
	fs->inodes_per_group = le32(sb + 40);
	fs->inode_size = rev ? le16(sb + 88) : INODE_LEN;
	uint32_t incompat = rev ? le32(sb + 96) : 0;
	if (incompat & ~INCOMPAT_FILETYPE)
		return fail(fs, -EXT2_EINVAL,
			    "incompatible features (ext3/ext4?) this reader "
			    "lacks");
	fs->filetype = incompat & INCOMPAT_FILETYPE;
	if (fs->inode_size < INODE_LEN || fs->inode_size > fs->block_size ||
	    (fs->inode_size & (fs->inode_size - 1)))
		return fail(fs, -EXT2_EUCLEAN, "bad inode size");
	return check_geometry(fs);
}

/* True when block b may hold data: inside the file system, past block 0. */
static bool block_ok(const struct ext2_fs *fs, uint32_t b)
{
	return b > fs->first_data_block && b < fs->blocks_count;
}

static uint64_t inode_table_bytes(const struct ext2_fs *fs)
{
	return (uint64_t)fs->inodes_per_group * fs->inode_size;
}

static void parse_inode(const uint8_t *p, uint32_t ino,
			struct ext2_inode *in)
{
	in->ino = ino;
	in->mode = (uint16_t)le16(p);
	in->uid = le16(p + 2) | le16(p + 120) << 16;
	in->size = le32(p + 4);
	in->atime = le32(p + 8);
	in->ctime = le32(p + 12);
	in->mtime = le32(p + 16);
	in->gid = le16(p + 24) | le16(p + 122) << 16;
	in->links = (uint16_t)le16(p + 26);
	in->blocks512 = le32(p + 28);
	in->file_acl = le32(p + 104);
	for (unsigned i = 0; i < EXT2_N_BLOCKS; i++)
		in->block[i] = le32(p + 40 + 4 * i);
	/* Revision 1 keeps the size's high half in i_size_high (i_dir_acl
	 * for directories, which we ignore). */
	if ((in->mode & EXT2_S_IFMT) == EXT2_S_IFREG)
		in->size |= (uint64_t)le32(p + 108) << 32;
}

/* Logical blocks the block map of an inode can address. */
static uint64_t max_blocks(const struct ext2_fs *fs)
{
	uint64_t per = fs->block_size / 4;
	return 12 + per + per * per + per * per * per;
}

/* Sizes that are impossible for the inode's type. */
static bool size_ok(const struct ext2_fs *fs, const struct ext2_inode *in)
{
	uint64_t fs_bytes = (uint64_t)fs->blocks_count * fs->block_size;
	switch (in->mode & EXT2_S_IFMT) {
	case EXT2_S_IFDIR:
		/* A directory is walked block by block: no bigger than the
		 * file system, so a lookup's work stays bounded. */
		return in->size % fs->block_size == 0 && in->size <= fs_bytes;
	case EXT2_S_IFLNK:
		return in->size > 0 && in->size <= fs->block_size &&
		       in->size < 4096;
	default:
		return in->size / fs->block_size < max_blocks(fs);
	}
}

long ext2_inode(const struct ext2_fs *fs, uint32_t ino,
		struct ext2_inode *out)
{
	if (ino < 1 || ino > fs->inodes_count)
		return -EXT2_EUCLEAN;
	uint32_t group = (ino - 1) / fs->inodes_per_group;
	uint32_t index = (ino - 1) % fs->inodes_per_group;
	uint8_t desc[GDESC_LEN], raw[INODE_LEN];
	if (fs->read(fs->ctx, fs->gdt_off + (uint64_t)group * GDESC_LEN, desc,
		     sizeof(desc)))
		return -EXT2_EIO;
	uint64_t table = le32(desc + 8);
	uint64_t fs_bytes = (uint64_t)fs->blocks_count * fs->block_size;
	if (!block_ok(fs, (uint32_t)table) ||
	    table * fs->block_size + inode_table_bytes(fs) > fs_bytes)
		return -EXT2_EUCLEAN;
	uint64_t off = table * fs->block_size + (uint64_t)index * fs->inode_size;
	if (fs->read(fs->ctx, off, raw, sizeof(raw)))
		return -EXT2_EIO;
	parse_inode(raw, ino, out);
	return size_ok(fs, out) ? 0 : -EXT2_EUCLEAN;
}

/* Entries of an indirect block read at once while a run is mapped. */
#define MAP_BATCH 64

/* How many of b[0..n) continue the run b[0] starts: consecutive blocks
 * inside the file system, or holes. */
static uint64_t run_of(const struct ext2_fs *fs, const uint32_t *b,
		       uint64_t n)
{
	uint64_t i = 1;
	while (i < n && (b[0] ? b[i] == b[0] + i && block_ok(fs, b[i])
			      : b[i] == 0))
		i++;
	return i;
}

/*
 * The run of logical blocks from lblk: *pblk is the physical block behind
 * lblk (0 for a hole) and *count how many blocks from lblk on, at most max
 * (> 0), lie physically consecutive or are all holes. A run stops at the
 * end of the indirect block that maps it, so each call reads one entry per
 * level above it and one batch of entries below.
 */
static long map_run(const struct ext2_fs *fs, const struct ext2_inode *in,
		    uint64_t lblk, uint64_t max, uint32_t *pblk,
		    uint64_t *count)
{
	uint64_t per = fs->block_size / 4, n;
	uint32_t e[MAP_BATCH];
	e[0] = 0; /* set below (max > 0), which the compiler cannot see */
	if (lblk < 12) {
		n = GK_EXT2_MIN(12 - lblk, max);
		for (uint64_t i = 0; i < n; i++)
			e[i] = in->block[lblk + i];
	} else {
		uint64_t rel = lblk - 12, span = 1;
		unsigned level;
		for (level = 1; level <= 3; level++) {
			span *= per;
			if (rel < span)
				break;
			rel -= span;
		}
		if (level > 3)
			return -EXT2_EFBIG;
		/* Down to the indirect block that names data blocks; a
		 * missing one on the way is a hole over all it would map. */
		uint32_t b = in->block[11 + level];
		for (;;) {
			if (!b) {
				*pblk = 0;
				*count = GK_EXT2_MIN(span - rel % span, max);
				return 0;
			}
			if (!block_ok(fs, b))
				return -EXT2_EUCLEAN;
			if (span == per)
				break;
			span /= per;
			uint8_t raw[4];
			if (fs->read(fs->ctx,
				     (uint64_t)b * fs->block_size +
					 rel / span % per * 4,
				     raw, sizeof(raw)))
				return -EXT2_EIO;
			b = le32(raw);
		}
		uint64_t at = rel % per;
		uint8_t raw[MAP_BATCH * 4];
		n = GK_EXT2_MIN(GK_EXT2_MIN(per - at, max), (uint64_t)MAP_BATCH);
		if (fs->read(fs->ctx, (uint64_t)b * fs->block_size + at * 4, raw,
			     n * 4))
			return -EXT2_EIO;
		for (uint64_t i = 0; i < n; i++)
			e[i] = le32(raw + 4 * i);
	}
	if (e[0] && !block_ok(fs, e[0]))
		return -EXT2_EUCLEAN;
	*pblk = e[0];
	*count = run_of(fs, e, n);
	return 0;
}

/* Holes can be large: the library's memset (lib.c's word-wise one in the
 * guest kernel, where ring 0 pays per instruction), not a byte loop. */
static void zero_bytes(uint8_t *p, uint64_t n)
{
	__builtin_memset(p, 0, n);
}

/* Reads [off, off + len) of the inode's data, as much of it as one run of
 * physically consecutive blocks (or one hole) holds. Returns the bytes
 * done, at least to the end of off's block where len allows. */
static long read_run(const struct ext2_fs *fs, const struct ext2_inode *in,
		     uint64_t off, uint8_t *buf, uint64_t len)
{
	uint64_t bs = fs->block_size, skip = off % bs, count;
	uint32_t first;
	long r = map_run(fs, in, off / bs, (skip + len + bs - 1) / bs, &first,
			 &count);
	if (r)
		return r;
	uint64_t n = GK_EXT2_MIN(len, count * bs - skip);
	if (!first) {
		zero_bytes(buf, n);
		return (long)n;
	}
	if (fs->read(fs->ctx, (uint64_t)first * bs + skip, buf, n))
		return -EXT2_EIO;
	return (long)n;
}

long ext2_read(const struct ext2_fs *fs, const struct ext2_inode *in,
	       uint64_t off, void *buf, uint64_t len)
{
	if (off >= in->size)
		return 0;
	len = GK_EXT2_MIN(len, in->size - off);
	uint8_t *p = buf;
	uint64_t done = 0;
	while (done < len) {
		long r = read_run(fs, in, off + done, p + done, len - done);
		if (r < 0)
			return done ? (long)done : r;
		done += (uint64_t)r;
	}
	return (long)done;
}

/* One checked directory record at byte pos of dir. */
struct rec {
	uint32_t ino, len;
	unsigned type;
	size_t name_len;
	char name[EXT2_NAME_MAX + 1];
};

/* Header and name in one read: a record never crosses a block. */
static long read_rec(const struct ext2_fs *fs, const struct ext2_inode *dir,
		     uint64_t pos, struct rec *r)
{
	uint8_t h[DIRENT_HDR + EXT2_NAME_MAX];
	uint64_t room = fs->block_size - pos % fs->block_size;
	if (room < DIRENT_HDR || pos % 4)
		return -EXT2_EUCLEAN;
	uint64_t want = GK_EXT2_MIN(room, (uint64_t)sizeof(h));
	long n = ext2_read(fs, dir, pos, h, want);
	if (n < 0)
		return n;
	if ((uint64_t)n != want)
		return -EXT2_EUCLEAN;
	r->ino = le32(h);
	r->len = le16(h + 4);
	r->name_len = h[6];
	r->type = fs->filetype ? h[7] : 0;
	if (!fs->filetype)
		r->name_len |= (size_t)h[7] << 8;
	/* Within the record, hence within the bytes read. */
	if (r->len < DIRENT_HDR || r->len % 4 || r->len > room ||
	    r->name_len > r->len - DIRENT_HDR || r->name_len > EXT2_NAME_MAX ||
	    (r->ino && !r->name_len) || r->ino > fs->inodes_count)
		return -EXT2_EUCLEAN;
	__builtin_memcpy(r->name, h + DIRENT_HDR, r->name_len);
	r->name[r->name_len] = 0;
	return 0;
}

long ext2_readdir(const struct ext2_fs *fs, const struct ext2_inode *dir,
		  uint64_t *pos, ext2_dirent_fn fn, void *ctx)
{
	if ((dir->mode & EXT2_S_IFMT) != EXT2_S_IFDIR)
		return -EXT2_ENOTDIR;
	static struct rec r; /* 270 bytes: off the (small) kernel stack */
	while (*pos < dir->size) {
		long e = read_rec(fs, dir, *pos, &r);
		if (e)
			return e;
		uint64_t next = *pos + r.len;
		if (r.ino) {
			e = fn(ctx, r.name, r.name_len, r.ino, r.type, next);
			if (e)
				return e;
		}
		*pos = next;
	}
	return 0;
}

struct find {
	const char *name;
	size_t len;
	uint32_t ino;
};

static long match(void *ctx, const char *name, size_t len, uint32_t ino,
		  unsigned type, uint64_t next)
{
	(void)type, (void)next;
	struct find *f = ctx;
	if (len != f->len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (name[i] != f->name[i])
			return 0;
	f->ino = ino;
	return 1;
}

long ext2_lookup(const struct ext2_fs *fs, const struct ext2_inode *dir,
		 const char *name, size_t len, uint32_t *ino)
{
	if (len > EXT2_NAME_MAX)
		return -EXT2_ENAMETOOLONG;
	struct find f = {name, len, 0};
	uint64_t pos = 0;
	long r = ext2_readdir(fs, dir, &pos, match, &f);
	if (r < 0)
		return r;
	if (!r)
		return -EXT2_ENOENT;
	*ino = f.ino;
	return 0;
}

long ext2_readlink(const struct ext2_fs *fs, const struct ext2_inode *in,
		   char *buf, size_t size)
{
	if ((in->mode & EXT2_S_IFMT) != EXT2_S_IFLNK)
		return -EXT2_EINVAL;
	uint64_t n = GK_EXT2_MIN(in->size, (uint64_t)size);
	/* A fast link keeps its target in i_block and owns no data blocks
	 * (an extended-attribute block may still count in i_blocks). */
	uint64_t acl = in->file_acl ? fs->block_size / 512 : 0;
	if (in->size < FAST_LINK_MAX && in->blocks512 == acl) {
		for (uint64_t i = 0; i < n; i++)
			buf[i] = (char)(in->block[i / 4] >> (8 * (i % 4)));
		return (long)n;
	}
	return ext2_read(fs, in, 0, buf, n);
}
