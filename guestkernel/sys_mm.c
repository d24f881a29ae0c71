/* Memory syscalls: argument checks here, bookkeeping in mm.c. */
#include "sys.h"
#include "vfs.h"

#define MAP_TYPE 0xf
#define MAP_SHARED 1
#define MAP_SHARED_VALIDATE 3
#define MAP_ANONYMOUS 0x20
#define PROT_ALL 0x03000007ul /* READ|WRITE|EXEC|GROWSDOWN|GROWSUP */
#define PROT_READ 1ul
#define PROT_WRITE 2ul

GK_SYSCALL(sys_brk)
{
	return mm_brk((uint64_t)a0);
}

/*
 * A file mapping is a copy of the file made at mmap time: MAP_PRIVATE as
 * Linux (later writes to the file may or may not show; here they do not),
 * MAP_SHARED read-only, since nothing would carry writes back to the file.
 */
static long map_file(uint64_t addr, uint64_t len, unsigned long prot,
		     unsigned long flags, long fd, uint64_t off)
{
	struct gk_file *f = fd_file(fd);
	if (!f || (f->flags & O_PATH))
		return -EBADF;
	struct gk_inode *in = f->inode;
	if (in && (in->mode & S_IFMT) == S_IFCHR) /* /dev/zero and co. */
		return mm_mmap(addr, len, prot, flags | MAP_ANONYMOUS);
	if (!in || !S_ISREG(in->mode) || !in->ops->read)
		return -ENODEV;
	bool shared = (flags & MAP_TYPE) != 2 /* MAP_PRIVATE */;
	if (!file_readable(f) || (shared && (prot & PROT_WRITE)))
		return -EACCES;
	long a = mm_mmap(addr, len, PROT_READ | PROT_WRITE, flags);
	if (a < 0)
		return a;
	long r = in->ops->read(in, (uint64_t)a, len, off);
	if (r >= 0 && prot != (PROT_READ | PROT_WRITE))
		r = mm_mprotect((uint64_t)a, len, prot);
	if (r < 0) {
		mm_munmap((uint64_t)a, len);
		return r;
	}
	return a;
}

GK_SYSCALL(sys_mmap)
{
	unsigned long prot = (unsigned long)a2, flags = (unsigned long)a3;
	unsigned long type = flags & MAP_TYPE;
	if ((prot & ~PROT_ALL) || type < MAP_SHARED ||
	    type > MAP_SHARED_VALIDATE)
		return -EINVAL;
	if ((uint64_t)a5 % AL_PAGE_SIZE)
		return -EINVAL;
	if (flags & MAP_ANONYMOUS)
		return mm_mmap((uint64_t)a0, (uint64_t)a1, prot, flags);
	return map_file((uint64_t)a0, (uint64_t)a1, prot, flags, a4,
			(uint64_t)a5);
}

GK_SYSCALL(sys_munmap)
{
	return mm_munmap((uint64_t)a0, (uint64_t)a1);
}

GK_SYSCALL(sys_mprotect)
{
	return mm_mprotect((uint64_t)a0, (uint64_t)a1, (unsigned long)a2);
}

GK_SYSCALL(sys_mremap)
{
	return mm_mremap((uint64_t)a0, (uint64_t)a1, (uint64_t)a2,
			 (unsigned long)a3);
}

GK_SYSCALL(sys_madvise)
{
	return mm_madvise((uint64_t)a0, (uint64_t)a1, a2);
}
