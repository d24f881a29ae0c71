/*
 * What the child can reach in the file system: nothing. Its descriptors are
 * exactly the ones the supervisor handed over, and its root is an empty,
 * read-only tmpfs with the host's tree detached underneath.
 */
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jail/jail_impl.h"

/*
 * keep[i] becomes descriptor i; every other one is closed. Two passes, so a
 * kept descriptor is never overwritten by another one moving into place.
 */
int jail_fds(const int *keep, unsigned n, char *err, size_t errlen)
{
	int tmp[JAIL_MAX_FDS];

	for (unsigned i = 0; i < n; i++) {
		/* Above every target slot, so the second pass cannot clash. */
		tmp[i] = fcntl(keep[i], F_DUPFD_CLOEXEC, JAIL_MAX_FDS);
		if (tmp[i] < 0)
			return jail_errf(err, errlen, "fcntl(F_DUPFD)", errno,
					 "a descriptor to hand to the VMM is "
					 "not open");
	}
	for (unsigned i = 0; i < n; i++) {
		/* dup3 without O_CLOEXEC: nothing is exec'd, but keep the
		 * kept ones plainly inheritable like 0..2 always are. */
		if (dup3(tmp[i], (int)i, 0) < 0)
			return jail_errf(err, errlen, "dup3", errno, NULL);
	}
	if (syscall(SYS_close_range, n, ~0u, 0) < 0)
		return jail_errf(err, errlen, "close_range", errno,
				 "Linux 5.9 or later is needed");
	return 0;
}

/* Where the new root is mounted before the pivot: any directory will do,
 * since the mount exists only in our private mount namespace. */
static const char *const stage_dirs[] = {"/tmp", "/mnt", "/dev", "/proc"};

static int mount_stage(char *err, size_t errlen)
{
	const unsigned long fl =
	    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME;
	int e = ENOENT;

	for (size_t i = 0; i < sizeof(stage_dirs) / sizeof(stage_dirs[0]);
	     i++) {
		/* size=4k: nothing can be written anyway (read-only). */
		if (mount("airlock", stage_dirs[i], "tmpfs", fl,
			  "size=4k,nr_inodes=1,mode=0555") == 0) {
			if (chdir(stage_dirs[i]) == 0)
				return 0;
			e = errno;
			return jail_errf(err, errlen, "chdir to the new root", e,
					 NULL);
		}
		e = errno;
	}
	return jail_errf(err, errlen, "mount(tmpfs, MS_RDONLY)", e,
			 "cannot mount the empty root (is tmpfs available?)");
}

int jail_root(char *err, size_t errlen)
{
	/* Nothing we do below may propagate back to the host's mounts. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return jail_errf(err, errlen, "mount(/, MS_REC|MS_PRIVATE)",
				 errno, NULL);
	if (mount_stage(err, errlen) < 0)
		return -1;
	/* pivot_root(".", "."): the old root ends up stacked on the new one
	 * at "/", so no put_old directory is needed (the tmpfs is read-only
	 * and empty); the detach then drops the whole host tree. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return jail_errf(err, errlen, "pivot_root", errno,
				 "the current root must be a mount point (not "
				 "a plain chroot or initramfs rootfs)");
	if (umount2(".", MNT_DETACH) < 0)
		return jail_errf(err, errlen, "umount2(old root, MNT_DETACH)",
				 errno, NULL);
	if (chdir("/") < 0)
		return jail_errf(err, errlen, "chdir(/)", errno, NULL);
	return 0;
}
