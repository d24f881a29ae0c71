/* Internals shared by the jail's files; not part of the module's interface. */
#ifndef AIRLOCK_JAIL_IMPL_H
#define AIRLOCK_JAIL_IMPL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "jail/jail.h"

/* "jail: CALL: strerror(e)[: hint]" into err. Returns -1. */
int jail_errf(char *err, size_t errlen, const char *call, int e,
	      const char *hint);

/* Supervisor side. */
int jail_write_maps(pid_t pid, uid_t uid, gid_t gid, bool privileged,
		    char *err, size_t errlen);
/* Writes data to file (relative to dirfd, or AT_FDCWD) in one write;
 * -1 with errno on failure. For proc and cgroup control files. */
int jail_write_at(int dirfd, const char *file, const char *data);
/* NULL, or why there is no per-VM cgroup (the run may go on without). */
const char *jail_cgroup_create(const struct jail_config *cfg, struct jail *j);
int jail_cgroup_attach(struct jail *j, pid_t pid, char *err, size_t errlen);

/* Child side, in this order. */
int jail_fds(const int *keep, unsigned n, char *err, size_t errlen);
int jail_root(char *err, size_t errlen);
int jail_ids(uid_t uid, gid_t gid, bool privileged, char *err, size_t errlen);
int jail_caps(char *err, size_t errlen);
int jail_limits(unsigned nkeep, uint64_t cpu_seconds, char *err,
		size_t errlen);
int jail_limit_nproc(char *err, size_t errlen);
int jail_limit_fsize(char *err, size_t errlen);

#endif
