/*
 * The file system: inodes with per-type operations, path walking, mounts,
 * open files and the descriptor table.
 *
 *   vfs.c     inodes, references, permissions, path walking, mounts
 *   file.c    open files and the descriptor table
 *   stdio.c   descriptors 0-2: the vsock streams, zero-copy
 *   sock.c    AF_VSOCK sockets to the host (vsock.connect), zero-copy
 *   tmpfs.c   the writable file system in RAM at /
 *   devfs.c   /dev, /proc: devices and the boot-time tree
 *   pipe.c    pipes within the one process
 *   ext2fs.c  read-only ext2 drives (host/ext2.c behind a block cache)
 *   sys_fd.c, sys_rw.c, sys_path.c, sys_stat.c, sys_io.c  the syscalls
 *
 * One process, one thread, no interrupts: nothing here locks, and the walk
 * uses static scratch buffers (the kernel stack is small).
 */
#ifndef GK_VFS_H
#define GK_VFS_H

#include "gk.h"
#include "host/ext2.h"

#define S_IFMT 0170000u
#define S_IFSOCK 0140000u
#define S_IFLNK 0120000u
#define S_IFREG 0100000u
#define S_IFBLK 0060000u
#define S_IFDIR 0040000u
#define S_IFCHR 0020000u
#define S_IFIFO 0010000u
#define S_ISDIR(m) (((m) & S_IFMT) == S_IFDIR)
#define S_ISREG(m) (((m) & S_IFMT) == S_IFREG)
#define S_ISLNK(m) (((m) & S_IFMT) == S_IFLNK)

#define O_ACCMODE 3
#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_EXCL 0200
#define O_NOCTTY 0400
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_NONBLOCK 04000
#define O_LARGEFILE 0100000 /* always set on 64-bit Linux */
#define O_DIRECTORY 0200000
#define O_NOFOLLOW 0400000
#define O_CLOEXEC 02000000
#define O_PATH 010000000
#define O_TMPFILE_DIR 020000000 /* O_TMPFILE without O_DIRECTORY */

#define AT_FDCWD (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_REMOVEDIR 0x200
#define AT_SYMLINK_FOLLOW 0x400
#define AT_EMPTY_PATH 0x1000

#define MAY_EXEC 1u
#define MAY_WRITE 2u
#define MAY_READ 4u

#define GK_NAME_MAX 255
#define GK_PATH_MAX 4096

/* d_type values of getdents64. */
#define DT_UNKNOWN 0
#define DT_DIR 4
#define DT_REG 8
#define DT_LNK 10

struct gk_inode;
struct gk_file;

/* A directory entry handed to readdir's caller; returns false when the
 * caller's buffer is full (the entry is not consumed). */
typedef bool (*gk_filldir)(void *ctx, const char *name, size_t len,
			   uint64_t ino, unsigned type, uint64_t next_pos);

/* What a kind of inode can do; NULL entries fail as Linux does for files
 * that lack the operation (EROFS on a read-only file system, EINVAL ...). */
struct gk_inode_ops {
	/* Directories. */
	long (*lookup)(struct gk_inode *dir, const char *name, size_t len,
		       struct gk_inode **out);
	long (*readdir)(struct gk_inode *dir, uint64_t *pos, gk_filldir fill,
			void *ctx);
	/* Creates a file, directory or symlink (target, for S_IFLNK). */
	long (*create)(struct gk_inode *dir, const char *name, size_t len,
		       uint32_t mode, const char *target,
		       struct gk_inode **out);
	long (*unlink)(struct gk_inode *dir, const char *name, size_t len,
		       struct gk_inode *victim);
	/* Moves old (named oname in odir) to nname in ndir, replacing
	 * victim (already checked by the caller) when not NULL. */
	long (*rename)(struct gk_inode *odir, const char *oname, size_t olen,
		       struct gk_inode *old, struct gk_inode *ndir,
		       const char *nname, size_t nlen, struct gk_inode *victim);
	/* Adds name in dir for the existing inode in (not a directory). */
	long (*link)(struct gk_inode *dir, const char *name, size_t len,
		     struct gk_inode *in);
	/* Files: dst/src are validated addresses (job or kernel memory). */
	long (*read)(struct gk_inode *in, uint64_t dst, uint64_t len,
		     uint64_t off);
	long (*write)(struct gk_inode *in, uint64_t src, uint64_t len,
		      uint64_t off);
	long (*truncate)(struct gk_inode *in, uint64_t size);
	long (*readlink)(struct gk_inode *in, char *buf, size_t size);
	/* Devices that stand for another open file (/dev/stdin). */
	long (*open)(struct gk_inode *in, struct gk_file **out);
	/* The last reference went away. */
	void (*release)(struct gk_inode *in);
};

struct gk_tmpfs_dirent;
struct gk_ext2_mount;

struct gk_inode {
	const struct gk_inode_ops *ops;
	uint32_t refs;
	uint32_t mode, nlink, uid, gid;
	uint64_t ino, dev, size;
	uint64_t blocks512; /* st_blocks: storage held, in 512-byte units */
	uint64_t atime, mtime, ctime; /* ns since the epoch */
	bool read_only;               /* on a read-only file system */
	/* Directories: where the walk found them (a reference) and under
	 * which name, for ".." and getcwd. */
	struct gk_inode *parent;
	char *name;
	struct gk_inode *mounted; /* a mount's root over this directory */
	struct gk_inode *covered; /* for a mount's root: what it covers */
	union {
		struct { /* tmpfs directory */
			struct gk_tmpfs_dirent *head, **tail;
			uint64_t next_cookie;
		} dir;
		struct { /* tmpfs regular file: a radix tree of pages */
			uint64_t root;
			unsigned depth;
		} pages;
		char *link; /* tmpfs symlink target, NUL-terminated */
		struct {    /* ext2 */
			struct gk_ext2_mount *mnt;
			struct ext2_inode disk;
		} ext2;
		unsigned dev_minor; /* devfs */
	} u;
};

/* ---- vfs.c --------------------------------------------------------------- */
extern struct gk_inode *vfs_root;

struct gk_inode *inode_new(const struct gk_inode_ops *ops, uint32_t mode);
struct gk_inode *inode_get(struct gk_inode *in);
void inode_put(struct gk_inode *in);
/* Frees the inode's memory (for release operations). */
void inode_free(struct gk_inode *in);
void inode_touch(struct gk_inode *in, bool modified);
/* Records that directory child hangs under parent as name. */
long inode_set_parent(struct gk_inode *child, struct gk_inode *parent,
		      const char *name, size_t len);
/* 0, or -EACCES when the job may not do mask (MAY_*) to in. */
long vfs_permission(const struct gk_inode *in, unsigned mask);
/* The mount's root that shows at in, or in itself. */
struct gk_inode *vfs_follow_mounts(struct gk_inode *in);

/* The result of a walk: references to what it found. */
struct gk_path {
	struct gk_inode *dir;   /* with WALK_PARENT: the last directory */
	struct gk_inode *inode; /* what the path names, NULL if absent */
	char last[GK_NAME_MAX + 1];
	size_t last_len; /* 0 when the path ends in "/", "." or ".." */
	bool trailing_slash;
};
#define WALK_FOLLOW 1u /* follow a symlink in the last component */
#define WALK_PARENT 2u /* the last component may be missing */
#define WALK_EMPTY 4u  /* "" names dirfd itself (AT_EMPTY_PATH) */
/* Copies a job string of at most GK_PATH_MAX bytes (NUL included) into
 * buf: its length, or -EFAULT / -ENAMETOOLONG. */
long vfs_copy_user_path(uint64_t upath, char *buf);
/* Copies the job's path at upath and walks it from dirfd. */
long vfs_walk_user(long dirfd, uint64_t upath, unsigned flags,
		   struct gk_path *out);
/* Walks a kernel string. */
long vfs_walk(long dirfd, const char *path, unsigned flags,
	      struct gk_path *out);
void path_put(struct gk_path *p);
/* Creates the directories along an absolute path (mount points). */
long vfs_mkdir_p(const char *path, struct gk_inode **out);
/* Writes the absolute path of directory in into buf; its length with
 * the NUL, or -ERANGE / -ENOENT (removed). */
long vfs_dir_path(struct gk_inode *in, char *buf, size_t size);

/* ---- file.c -------------------------------------------------------------- */
struct gk_file_ops {
	/* iov is validated (writable for reads); off is the file position,
	 * or the pread/pwrite offset. Returns bytes or -errno. */
	long (*readv)(struct gk_file *f, const struct gk_iov *iov, unsigned n,
		      uint64_t off);
	long (*writev)(struct gk_file *f, const struct gk_iov *iov,
		       unsigned n, uint64_t off);
	/* poll: readable / writable now */
	bool (*can_read)(struct gk_file *f);
	bool (*can_write)(struct gk_file *f);
	void (*release)(struct gk_file *f);
	bool seekable;
};

struct gk_file {
	const struct gk_file_ops *ops;
	struct gk_inode *inode; /* NULL for streams and pipes */
	uint64_t pos;
	uint32_t flags; /* O_* status flags and access mode */
	uint32_t refs;
	uint64_t stream_ino; /* st_ino of a stream or pipe */
	void *priv;
};

/* The descriptor table. */
struct gk_file *fd_file(long fd);
long fd_install(struct gk_file *f, long min, bool cloexec);
long fd_install_at(struct gk_file *f, long fd, bool cloexec);
long fd_close(long fd);
bool fd_cloexec(long fd);
void fd_set_cloexec(long fd, bool on);

struct gk_file *file_new(const struct gk_file_ops *ops, uint32_t flags);
struct gk_file *file_get(struct gk_file *f);
void file_put(struct gk_file *f);
/* An open file on an inode (regular file, directory, device). */
long file_open_inode(struct gk_inode *in, uint32_t flags,
		     struct gk_file **out);
bool file_readable(const struct gk_file *f);
/* For gk_file_ops: poll says ready; a read or write the file does not
 * offer fails with EBADF. */
bool file_always_ready(struct gk_file *f);
long file_bad_rw(struct gk_file *f, const struct gk_iov *iov, unsigned n,
		 uint64_t off);
bool file_writable(const struct gk_file *f);

/* ---- stdio.c, pipe.c, devfs.c, tmpfs.c, ext2fs.c ------------------------- */
/* Descriptors 0, 1 and 2 on the vsock streams. */
void stdio_install(void);
long pipe_create(struct gk_file **rd, struct gk_file **wr);
/* Builds /, /dev, /proc and /tmp before the job arrives (in the pristine
 * snapshot). */
void devfs_boot(void);
/* What only the job can say: /proc/self/exe. */
void devfs_job(const char *exe);
struct gk_inode *tmpfs_new_root(void);
/* Links an inode of another kind (a device) into tmpfs directory dir. */
long tmpfs_add(struct gk_inode *dir, const char *name, struct gk_inode *in);
/* A read-only regular file /dev/NAME whose contents ops provide, or NULL. */
struct gk_inode *devfs_add_file(const char *name,
				const struct gk_inode_ops *ops);
/* Mounts the job's drives; a failure ends the job before it starts with
 * a message naming the drive. */
void ext2fs_mount_drives(const struct al_job *job);

#endif
