/*
 * A read-only ext2 reader (revision 0 and 1, as `mke2fs -t ext2` makes it),
 * pure C: compiled into the guest kernel and, hosted, into unit tests and a
 * fuzzer. Every byte of the image is attacker-controlled: block and inode
 * numbers, sizes, directory records and link targets are checked before
 * use, and a bad one fails the call with -EUCLEAN (corrupt image) or -EIO
 * (the device failed), never reads outside what the image declares.
 * The image is read through a callback, so the caller decides how (a block
 * cache in the guest, a buffer or a file on the host).
 */
#ifndef GK_EXT2_H
#define GK_EXT2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Linux errno values (this file cannot rely on <errno.h>). */
#define EXT2_EIO 5
#define EXT2_ENOENT 2
#define EXT2_ENOTDIR 20
#define EXT2_EINVAL 22
#define EXT2_EFBIG 27
#define EXT2_ENAMETOOLONG 36
#define EXT2_EUCLEAN 117

#define EXT2_ROOT_INO 2
#define EXT2_NAME_MAX 255
#define EXT2_N_BLOCKS 15
#define GK_EXT2_MIN(a, b) ((a) < (b) ? (a) : (b))

/* Reads len bytes at byte offset off of the image into buf: 0 or -errno. */
typedef long (*ext2_read_fn)(void *ctx, uint64_t off, void *buf,
			     uint64_t len);

struct ext2_fs {
	ext2_read_fn read;
	void *ctx;
	uint32_t block_size;
	uint32_t blocks_count, inodes_count, first_data_block;
	uint32_t blocks_per_group, inodes_per_group, inode_size, groups;
	bool filetype; /* directory records carry a file type */
	uint64_t gdt_off;
	const char *why; /* after a failed ext2_open: what is wrong */
};

struct ext2_inode {
	uint32_t ino;
	uint16_t mode, links;
	uint32_t uid, gid;
	uint64_t size;
	uint32_t atime, ctime, mtime;
	uint64_t blocks512; /* i_blocks: 512-byte units */
	uint32_t file_acl;  /* extended-attribute block, 0 if none */
	uint32_t block[EXT2_N_BLOCKS];
};

/* Checks the superblock of an image of dev_bytes bytes. 0, or -EINVAL (not
 * an ext2 image we can read) / -EUCLEAN / -EIO with fs->why set. */
long ext2_open(struct ext2_fs *fs, ext2_read_fn read, void *ctx,
	       uint64_t dev_bytes);
/* Reads and checks inode ino. */
long ext2_inode(const struct ext2_fs *fs, uint32_t ino,
		struct ext2_inode *out);
/* Reads up to len bytes at off of a regular file (holes read as zeroes):
 * the byte count (0 at or past the end), or -errno. */
long ext2_read(const struct ext2_fs *fs, const struct ext2_inode *in,
	       uint64_t off, void *buf, uint64_t len);
/* The inode number of name in directory dir: 0 and *ino, or -ENOENT. */
long ext2_lookup(const struct ext2_fs *fs, const struct ext2_inode *dir,
		 const char *name, size_t len, uint32_t *ino);
/* Called for each entry; type is the record's file type (0 unknown), next
 * the position after it. Non-zero stops the walk and is returned. */
typedef long (*ext2_dirent_fn)(void *ctx, const char *name, size_t len,
			       uint32_t ino, unsigned type, uint64_t next);
/* Walks the entries of dir from byte position *pos, advancing it. */
long ext2_readdir(const struct ext2_fs *fs, const struct ext2_inode *dir,
		  uint64_t *pos, ext2_dirent_fn fn, void *ctx);
/* The target of a symbolic link into buf (not NUL-terminated): its length,
 * at most size, or -errno. */
long ext2_readlink(const struct ext2_fs *fs, const struct ext2_inode *in,
		   char *buf, size_t size);

#define EXT2_S_IFMT 0170000u
#define EXT2_S_IFDIR 0040000u
#define EXT2_S_IFREG 0100000u
#define EXT2_S_IFLNK 0120000u

#endif
