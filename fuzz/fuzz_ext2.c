/*
 * The guest kernel's ext2 reader on hostile images: mount, then walk the
 * tree (bounded), reading every file and link it finds. Any out-of-bounds
 * read, overflow or hang is a bug; errors are expected.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "guestkernel/host/ext2.h"

#define MAX_DEPTH 4
#define MAX_ENTRIES 64

struct image {
	const uint8_t *data;
	size_t len;
};

static long img_read(void *ctx, uint64_t off, void *buf, uint64_t len)
{
	const struct image *im = ctx;
	if (off > im->len || len > im->len - off)
		return -EXT2_EIO;
	memcpy(buf, im->data + off, len);
	return 0;
}

static void visit(const struct ext2_fs *fs, uint32_t ino, int depth);

struct walk {
	const struct ext2_fs *fs;
	const struct ext2_inode *dir;
	int depth, seen;
};

static long each(void *ctx, const char *name, size_t len, uint32_t ino,
		 unsigned type, uint64_t next)
{
	(void)type, (void)next;
	struct walk *w = ctx;
	if (++w->seen > MAX_ENTRIES)
		return 1;
	uint32_t found;
	ext2_lookup(w->fs, w->dir, name, len, &found);
	if (!(len == 1 && name[0] == '.') &&
	    !(len == 2 && name[0] == '.' && name[1] == '.'))
		visit(w->fs, ino, w->depth + 1);
	return 0;
}

static void visit(const struct ext2_fs *fs, uint32_t ino, int depth)
{
	struct ext2_inode in;
	if (depth > MAX_DEPTH || ext2_inode(fs, ino, &in))
		return;
	static char buf[8192];
	switch (in.mode & EXT2_S_IFMT) {
	case EXT2_S_IFDIR: {
		struct walk w = {fs, &in, depth, 0};
		uint64_t pos = 0;
		ext2_readdir(fs, &in, &pos, each, &w);
		break;
	}
	case EXT2_S_IFLNK:
		ext2_readlink(fs, &in, buf, sizeof(buf));
		break;
	default:
		ext2_read(fs, &in, 0, buf, sizeof(buf));
		ext2_read(fs, &in, in.size > 100 ? in.size - 100 : 0, buf, 200);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image im = {data, size};
	struct ext2_fs fs;
	if (ext2_open(&fs, img_read, &im, size) == 0)
		visit(&fs, EXT2_ROOT_INO, 0);
	return 0;
}
