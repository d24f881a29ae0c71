/*
 * The guest kernel's ext2 reader on real images: `mke2fs -t ext2 -d` builds
 * them at test time from a tree made here (1 KiB and 4 KiB blocks), and
 * corrupted copies check that bad fields fail cleanly.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guestkernel/host/ext2.h"

#define BIG_LEN (300u * 1024u + 123u) /* double-indirect at 1 KiB blocks */
#define SPARSE_LEN (70u << 20)        /* triple-indirect at 1 KiB blocks */
#define MANY 200                      /* a directory of several blocks */

static char tree[64];
static uint8_t *img;
static size_t img_len;
static struct ext2_fs fs;
static unsigned reads; /* device reads so far */

static long mem_read(void *ctx, uint64_t off, void *buf, uint64_t len)
{
	(void)ctx;
	reads++;
	if (off > img_len || len > img_len - off)
		return -EXT2_EIO;
	memcpy(buf, img + off, len);
	return 0;
}

static uint8_t big_byte(size_t i)
{
	return (uint8_t)(i * 7 + i / 1000);
}

static void put_file(const char *name, const void *data, size_t len)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tree, name);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void make_tree(void)
{
	char path[256];
	strcpy(tree, "/tmp/gk-ext2-XXXXXX");
	cr_assert_not_null(mkdtemp(tree));
	put_file("small", "hello\n", 6);
	uint8_t *big = malloc(BIG_LEN);
	for (size_t i = 0; i < BIG_LEN; i++)
		big[i] = big_byte(i);
	put_file("big", big, BIG_LEN);
	free(big);
	snprintf(path, sizeof(path), "%s/sparse", tree);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	fseek(f, SPARSE_LEN, SEEK_SET);
	fputs("END", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/dir", tree);
	mkdir(path, 0755);
	for (int i = 0; i < MANY; i++) {
		char name[64];
		snprintf(name, sizeof(name), "dir/entry-with-a-long-name-%03d", i);
		put_file(name, "", 0);
	}
	snprintf(path, sizeof(path), "%s/fast", tree);
	cr_assert_eq(symlink("small", path), 0);
	char target[200];
	memset(target, 'x', sizeof(target) - 1);
	target[sizeof(target) - 1] = 0;
	snprintf(path, sizeof(path), "%s/slow", tree);
	cr_assert_eq(symlink(target, path), 0);
}

/* Builds the image with block size bs and opens it. */
static void make_image(unsigned bs)
{
	char cmd[512], path[128];
	make_tree();
	snprintf(path, sizeof(path), "%s.img", tree);
	snprintf(cmd, sizeof(cmd),
		 "mke2fs -q -F -t ext2 -b %u -d %s %s 16M >/dev/null 2>&1", bs,
		 tree, path);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	img_len = (size_t)ftell(f);
	rewind(f);
	img = malloc(img_len);
	cr_assert_eq(fread(img, 1, img_len, f), img_len);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", tree, path);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(ext2_open(&fs, mem_read, NULL, img_len), 0, "%s", fs.why);
}

static void image_free(void)
{
	free(img);
}

static struct ext2_inode lookup(const char *name)
{
	struct ext2_inode root, in;
	uint32_t ino;
	cr_assert_eq(ext2_inode(&fs, EXT2_ROOT_INO, &root), 0);
	cr_assert_eq(ext2_lookup(&fs, &root, name, strlen(name), &ino), 0,
		     "%s", name);
	cr_assert_eq(ext2_inode(&fs, ino, &in), 0, "%s", name);
	return in;
}

static void check_contents(void)
{
	char buf[16];
	struct ext2_inode in = lookup("small");
	cr_expect_eq(ext2_read(&fs, &in, 0, buf, sizeof(buf)), 6);
	cr_expect_eq(memcmp(buf, "hello\n", 6), 0);
	cr_expect_eq(ext2_read(&fs, &in, 6, buf, sizeof(buf)), 0);

	in = lookup("big");
	cr_assert_eq(in.size, BIG_LEN);
	uint8_t *got = malloc(BIG_LEN);
	/* Odd offsets and lengths cross block and indirect boundaries. */
	for (size_t off = 0; off < BIG_LEN;) {
		size_t want = off % 3 ? 5000 : 777;
		long n = ext2_read(&fs, &in, off, got + off, want);
		cr_assert_gt(n, 0, "read at %zu: %ld", off, n);
		off += (size_t)n;
	}
	for (size_t i = 0; i < BIG_LEN; i++)
		cr_assert_eq(got[i], big_byte(i), "byte %zu", i);
	/* Whole, in one call: runs of blocks are mapped a batch of entries
	 * at a time, not a walk from the inode per block. */
	memset(got, 0, BIG_LEN);
	unsigned before = reads, blocks = BIG_LEN / fs.block_size;
	cr_assert_eq(ext2_read(&fs, &in, 0, got, BIG_LEN), BIG_LEN);
	for (size_t i = 0; i < BIG_LEN; i++)
		cr_assert_eq(got[i], big_byte(i), "byte %zu", i);
	cr_expect_lt(reads - before, blocks / 4,
		     "%u device reads for %u blocks", reads - before, blocks);
	free(got);

	in = lookup("sparse");
	cr_assert_eq(in.size, SPARSE_LEN + 3ull);
	memset(buf, 1, sizeof(buf));
	cr_expect_eq(ext2_read(&fs, &in, 4096, buf, 8), 8);
	cr_expect_eq(memcmp(buf, "\0\0\0\0\0\0\0\0", 8), 0);
	cr_expect_eq(ext2_read(&fs, &in, SPARSE_LEN - 2, buf, 16), 5);
	cr_expect_eq(memcmp(buf, "\0\0END", 5), 0);
	/* Whole: a missing indirect block is one hole over all it maps. */
	uint8_t *all = malloc(SPARSE_LEN + 3);
	cr_assert_not_null(all);
	memset(all, 1, SPARSE_LEN + 3);
	before = reads;
	cr_assert_eq(ext2_read(&fs, &in, 0, all, SPARSE_LEN + 3),
		     SPARSE_LEN + 3);
	cr_expect_lt(reads - before, 64u, "%u device reads", reads - before);
	for (size_t i = 0; i < SPARSE_LEN; i++)
		cr_assert_eq(all[i], 0, "byte %zu", i);
	cr_expect_eq(memcmp(all + SPARSE_LEN, "END", 3), 0);
	free(all);
}

static long count(void *ctx, const char *name, size_t len, uint32_t ino,
		  unsigned type, uint64_t next)
{
	(void)type, (void)next, (void)ino;
	if (len > 4 && !memcmp(name, "entry", 5))
		++*(int *)ctx;
	return 0;
}

static void check_dirs_and_links(void)
{
	struct ext2_inode dir = lookup("dir"), root;
	int n = 0;
	uint64_t pos = 0;
	cr_expect_eq(ext2_readdir(&fs, &dir, &pos, count, &n), 0);
	cr_expect_eq(n, MANY);
	cr_expect_gt(dir.size, fs.block_size, "want a multi-block directory");
	uint32_t ino;
	cr_expect_eq(ext2_lookup(&fs, &dir, "entry-with-a-long-name-199", 26,
				 &ino),
		     0);
	cr_expect_eq(ext2_lookup(&fs, &dir, "nope", 4, &ino), -EXT2_ENOENT);
	struct ext2_inode file = lookup("small");
	cr_expect_eq(ext2_lookup(&fs, &file, "x", 1, &ino), -EXT2_ENOTDIR);
	cr_assert_eq(ext2_inode(&fs, EXT2_ROOT_INO, &root), 0);

	char buf[300];
	struct ext2_inode link = lookup("fast");
	cr_expect_eq(ext2_readlink(&fs, &link, buf, sizeof(buf)), 5);
	cr_expect_eq(memcmp(buf, "small", 5), 0);
	link = lookup("slow");
	cr_expect_eq(ext2_readlink(&fs, &link, buf, sizeof(buf)), 199);
	cr_expect_eq(buf[0], 'x');
	cr_expect_eq(buf[198], 'x');
	cr_expect_eq(ext2_readlink(&fs, &link, buf, 10), 10);
}

Test(gk_ext2, one_kib_blocks, .fini = image_free)
{
	make_image(1024);
	cr_assert_eq(fs.block_size, 1024);
	check_contents();
	check_dirs_and_links();
}

Test(gk_ext2, four_kib_blocks, .fini = image_free)
{
	make_image(4096);
	cr_assert_eq(fs.block_size, 4096);
	check_contents();
	check_dirs_and_links();
}

Test(gk_ext2, bad_superblocks_are_refused, .fini = image_free)
{
	make_image(1024);
	img[1024 + 56] ^= 1; /* magic */
	cr_expect_eq(ext2_open(&fs, mem_read, NULL, img_len), -EXT2_EINVAL);
	img[1024 + 56] ^= 1;
	img[1024 + 24] = 9; /* 512 KiB blocks */
	cr_expect_eq(ext2_open(&fs, mem_read, NULL, img_len), -EXT2_EINVAL);
	img[1024 + 24] = 0;
	img[1024 + 96] |= 0x40; /* extents: ext4 */
	cr_expect_eq(ext2_open(&fs, mem_read, NULL, img_len), -EXT2_EINVAL);
	cr_expect_not_null(fs.why);
}

/* Byte offset of inode ino's record, from the first group descriptor. */
static size_t inode_off(uint32_t ino)
{
	uint32_t table;
	memcpy(&table, img + fs.gdt_off + 8, 4);
	return (size_t)table * fs.block_size + (ino - 1) * fs.inode_size;
}

Test(gk_ext2, corrupt_inodes_and_records_fail_cleanly, .fini = image_free)
{
	make_image(1024);
	struct ext2_inode in, big = lookup("big"), dir = lookup("dir");
	cr_expect_eq(ext2_inode(&fs, 0, &in), -EXT2_EUCLEAN);
	cr_expect_eq(ext2_inode(&fs, fs.inodes_count + 1, &in), -EXT2_EUCLEAN);
	/* A data block past the end of the file system. */
	uint32_t huge = 0xfffffff0u;
	memcpy(img + inode_off(big.ino) + 40, &huge, 4);
	cr_assert_eq(ext2_inode(&fs, big.ino, &in), 0);
	char buf[64];
	cr_expect_eq(ext2_read(&fs, &in, 0, buf, sizeof(buf)), -EXT2_EUCLEAN);
	/* An indirect block pointing at block 0 of the file system. */
	memcpy(img + inode_off(big.ino) + 40 + 12 * 4, &(uint32_t){0}, 4);
	cr_assert_eq(ext2_inode(&fs, big.ino, &in), 0);
	cr_expect_eq(ext2_read(&fs, &in, 12 * 1024, buf, 8), 8,
		     "a cleared pointer is a hole");
	/* A directory record with rec_len 0. */
	size_t rec = (size_t)dir.block[0] * fs.block_size;
	img[rec + 4] = img[rec + 5] = 0;
	uint32_t ino;
	cr_expect_eq(ext2_lookup(&fs, &dir, "x", 1, &ino), -EXT2_EUCLEAN);
	/* A directory claiming to be larger than the file system. */
	uint32_t size = 0x7ffffc00u;
	memcpy(img + inode_off(dir.ino) + 4, &size, 4);
	cr_expect_eq(ext2_inode(&fs, dir.ino, &in), -EXT2_EUCLEAN);
}
