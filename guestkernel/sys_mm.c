/* Memory syscalls: argument checks here, bookkeeping in mm.c. */
#include "sys.h"

#define MAP_TYPE 0xf
#define MAP_SHARED 1
#define MAP_SHARED_VALIDATE 3
#define MAP_ANONYMOUS 0x20
#define PROT_ALL 0x03000007ul /* READ|WRITE|EXEC|GROWSDOWN|GROWSUP */

GK_SYSCALL(sys_brk)
{
	return mm_brk((uint64_t)a0);
}

GK_SYSCALL(sys_mmap)
{
	unsigned long prot = (unsigned long)a2, flags = (unsigned long)a3;
	unsigned long type = flags & MAP_TYPE;
	if ((prot & ~PROT_ALL) || type < MAP_SHARED ||
	    type > MAP_SHARED_VALIDATE)
		return -EINVAL;
	if (!(flags & MAP_ANONYMOUS)) {
		/* No files: the streams cannot be mapped, nothing else is
		 * open. */
		return proc_fd(a4) != GK_FD_NONE ? -ENODEV : -EBADF;
	}
	if ((uint64_t)a5 % AL_PAGE_SIZE)
		return -EINVAL;
	return mm_mmap((uint64_t)a0, (uint64_t)a1, prot, flags);
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
