/*
 * The tree every job starts with, built at boot so that it is part of the
 * pristine snapshot: / (tmpfs), /tmp, /dev with its devices, /proc/meminfo
 * and /proc/self. Only /proc/self/exe waits for the job. The fixed parts
 * belong to root, so the job (uid 1000) cannot remove them.
 */
#include "kmem.h"
#include "vfs.h"

#define MEM_MAJOR 1
#define MINOR_NULL 3
#define MINOR_ZERO 5
#define MINOR_RANDOM 8
#define MINOR_URANDOM 9

static long null_read(struct gk_inode *in, uint64_t dst, uint64_t len,
		      uint64_t off)
{
	(void)in, (void)dst, (void)len, (void)off;
	return 0;
}

static long sink_write(struct gk_inode *in, uint64_t src, uint64_t len,
		       uint64_t off)
{
	(void)in, (void)src, (void)off;
	return (long)len;
}

static long zero_read(struct gk_inode *in, uint64_t dst, uint64_t len,
		      uint64_t off)
{
	(void)in, (void)off;
	gk_zero((void *)(uintptr_t)dst, len);
	return (long)len;
}

static long random_read(struct gk_inode *in, uint64_t dst, uint64_t len,
			uint64_t off)
{
	(void)in, (void)off;
	random_fill(dst, len);
	return (long)len;
}

/* Truncating a device (open with O_TRUNC) does nothing, as on Linux. */
static long dev_truncate(struct gk_inode *in, uint64_t size)
{
	(void)in, (void)size;
	return 0;
}

static const struct gk_inode_ops null_ops = {
	.read = null_read, .write = sink_write, .truncate = dev_truncate};
static const struct gk_inode_ops zero_ops = {
	.read = zero_read, .write = sink_write, .truncate = dev_truncate};
static const struct gk_inode_ops random_ops = {
	.read = random_read, .write = sink_write, .truncate = dev_truncate};

/* /dev/stdin, stdout, stderr: the job's descriptors 0, 1, 2 themselves. */
static long std_open(struct gk_inode *in, struct gk_file **out)
{
	struct gk_file *f = fd_file(in->u.dev_minor);
	if (!f)
		return -ENOENT;
	*out = file_get(f);
	return 0;
}

static const struct gk_inode_ops std_ops = {.open = std_open};

static void boot_fail(const char *what, long err)
{
	gk_panic("building %s at boot failed (error %u)", what,
		 (uint64_t)-err);
}

static struct gk_inode *root_owned(struct gk_inode *in)
{
	in->uid = in->gid = 0;
	return in;
}

static struct gk_inode *boot_dir(struct gk_inode *parent, const char *name,
				 uint32_t mode)
{
	struct gk_inode *in;
	long r = parent->ops->create(parent, name, gk_strlen(name),
				     S_IFDIR | mode, 0, &in);
	if (r)
		boot_fail(name, r);
	return root_owned(in);
}

static void add_dev(struct gk_inode *dev, const char *name,
		    const struct gk_inode_ops *ops, unsigned minor)
{
	struct gk_inode *in = inode_new(ops, S_IFCHR | 0666);
	if (!in)
		boot_fail(name, -ENOMEM);
	in->u.dev_minor = minor;
	long r = tmpfs_add(dev, name, root_owned(in));
	if (r)
		boot_fail(name, r);
}

static void add_meminfo(struct gk_inode *proc)
{
	char text[160];
	uint64_t total = GK_BI->mem_bytes >> 10;
	uint64_t avail = (mm_job_end() - mm_job_base()) >> 10;
	size_t n = gk_fmt(text, sizeof(text),
			  "MemTotal: %u kB\nMemFree: %u kB\n"
			  "MemAvailable: %u kB\n",
			  total, avail, avail);
	struct gk_inode *in;
	long r = proc->ops->create(proc, "meminfo", 7, S_IFREG | 0444, 0, &in);
	if (!r && in->ops->write(in, (uint64_t)(uintptr_t)text, n, 0) !=
			  (long)n)
		r = -ENOSPC;
	if (r)
		boot_fail("/proc/meminfo", r);
	root_owned(in);
}

static struct gk_inode *proc_self, *dev_dir;

struct gk_inode *devfs_add_file(const char *name,
				const struct gk_inode_ops *ops)
{
	struct gk_inode *in = inode_new(ops, S_IFREG | 0444);
	if (!in || tmpfs_add(dev_dir, name, root_owned(in)) != 0)
		return NULL;
	return in;
}

void devfs_boot(void)
{
	vfs_root = tmpfs_new_root();
	vfs_root->uid = vfs_root->gid = GK_JOB_UID; /* the job's own tree */
	gk_proc.cwd = inode_get(vfs_root);
	boot_dir(vfs_root, "tmp", 01777);
	struct gk_inode *dev = dev_dir = boot_dir(vfs_root, "dev", 0755);
	add_dev(dev, "null", &null_ops, MINOR_NULL);
	add_dev(dev, "zero", &zero_ops, MINOR_ZERO);
	add_dev(dev, "random", &random_ops, MINOR_RANDOM);
	add_dev(dev, "urandom", &random_ops, MINOR_URANDOM);
	add_dev(dev, "stdin", &std_ops, 0);
	add_dev(dev, "stdout", &std_ops, 1);
	add_dev(dev, "stderr", &std_ops, 2);
	struct gk_inode *proc = boot_dir(vfs_root, "proc", 0555);
	add_meminfo(proc);
	proc_self = boot_dir(proc, "self", 0555);
	stdio_install();
}

void devfs_job(const char *exe)
{
	/* The binary is not in the file system: the link names the path the
	 * job was started as, made absolute against /. */
	static char target[GK_PATH_MAX];
	gk_fmt(target, sizeof(target), "%s%s", exe[0] == '/' ? "" : "/", exe);
	struct gk_inode *in;
	long r = proc_self->ops->create(proc_self, "exe", 3, S_IFLNK | 0777,
					target, &in);
	if (!r) {
		root_owned(in);
		inode_put(in);
	}
}
