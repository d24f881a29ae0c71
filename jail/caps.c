/*
 * Credentials: an unprivileged uid/gid, no supplementary groups, every
 * capability set empty, securebits locked so nothing can bring them back,
 * no_new_privs, and not dumpable (no ptrace or /proc access by our own uid).
 */
#include <grp.h>
#include <linux/securebits.h>
#include <stdbool.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "jail/jail_impl.h"

int jail_ids(uid_t uid, gid_t gid, bool privileged, char *err, size_t errlen)
{
	/* As an ordinary user setgroups is denied in the namespace (the price
	 * of mapping our own id); our groups then show as nobody and give
	 * nothing the empty root and the seccomp filter have not taken. */
	if (privileged && setgroups(0, NULL) < 0)
		return jail_errf(err, errlen, "setgroups(0)", errno, NULL);
	if (setresgid(gid, gid, gid) < 0)
		return jail_errf(err, errlen, "setresgid", errno, NULL);
	if (setresuid(uid, uid, uid) < 0)
		return jail_errf(err, errlen, "setresuid", errno, NULL);
	return 0;
}

/* Securebits first and bounding set next: both need CAP_SETPCAP, which
 * emptying the sets at the end takes away. */
static int lock_securebits(char *err, size_t errlen)
{
	unsigned bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
			SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
			SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
			SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	if (cap_set_secbits(bits) < 0)
		return jail_errf(err, errlen, "prctl(PR_SET_SECUREBITS)", errno,
				 NULL);
	return 0;
}

static int drop_bounding(char *err, size_t errlen)
{
	/* Every capability this kernel knows, including ones newer than
	 * our headers. */
	for (cap_value_t c = 0; CAP_IS_SUPPORTED(c); c++) {
		if (cap_drop_bound(c) < 0)
			return jail_errf(err, errlen,
					 "prctl(PR_CAPBSET_DROP)", errno, NULL);
	}
	return 0;
}

static int clear_sets(char *err, size_t errlen)
{
	if (cap_reset_ambient() < 0)
		return jail_errf(err, errlen, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)",
				 errno, NULL);
	cap_t none = cap_init(); /* effective, permitted, inheritable: empty */
	if (!none)
		return jail_errf(err, errlen, "cap_init", errno, NULL);
	int rc = cap_set_proc(none);
	int e = errno;
	cap_free(none);
	if (rc < 0)
		return jail_errf(err, errlen, "capset", e, NULL);
	return 0;
}

int jail_caps(char *err, size_t errlen)
{
	if (lock_securebits(err, errlen) < 0 || drop_bounding(err, errlen) < 0 ||
	    clear_sets(err, errlen) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return jail_errf(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS)",
				 errno, NULL);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return jail_errf(err, errlen, "prctl(PR_SET_DUMPABLE)", errno,
				 NULL);
	return 0;
}
