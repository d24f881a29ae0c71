/*
 * jail: confines one process (the VMM) so that, should a guest take it over,
 * it can do nothing but what the run loop needs. Knows nothing of KVM: the
 * caller names the descriptors to keep and the ioctl requests to allow.
 *
 * Two steps, because the VMM must still create its VM after the first one:
 *   jail_spawn()  in the supervisor: clone into new user, mount, pid, net,
 *                 ipc, uts and cgroup namespaces; the child comes back with an
 *                 empty read-only root, only the kept descriptors (renumbered
 *                 0..n-1), an unprivileged uid/gid, no capabilities, locked
 *                 securebits, no_new_privs, not dumpable, a parent-death
 *                 SIGKILL, rlimits and (when available) its own cgroup v2;
 *   jail_lock()   in the child right before guest code runs: RLIMIT_NPROC,
 *                 RLIMIT_FSIZE and the seccomp allowlist (default action:
 *                 kill the process).
 * Failures name the syscall and say what to do; the caller exits 125.
 */
#ifndef AIRLOCK_JAIL_H
#define AIRLOCK_JAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define JAIL_ERR_MAX 256
#define JAIL_MAX_FDS 48

struct jail_config {
	const int *keep_fds; /* become 0..nkeep-1 in the child, in order */
	unsigned nkeep;      /* fewer than JAIL_MAX_FDS */
	uint64_t memory_max; /* cgroup memory.max in bytes; 0: no limit */
	unsigned pids_max;   /* cgroup pids.max; 0: no limit */
	unsigned cpu_max_percent; /* cgroup cpu.max, 100 = one CPU; 0: 100 */
	bool require_cgroup; /* no usable cgroup v2 is an error, not a note */
	uint64_t cpu_seconds; /* RLIMIT_CPU of the VMM; 0: none */
	uid_t uid;           /* when started as root: the id the VMM runs as */
	gid_t gid;           /* (mapped 1:1); 0 means 65534. An ordinary user
				always runs as their own ids. */
	bool verbose;        /* say on stderr when cgroup v2 is unusable */
};

struct jail {
	pid_t pid;           /* the jailed child, in the supervisor */
	int cgroup_fd;       /* parent directory of our cgroup, or -1 */
	int go_fd;           /* held open until jail_cleanup, or -1 */
	char cgroup_name[48];
	uint64_t setup_us;   /* supervisor-side cost of jail_spawn */
};

enum jail_side {
	JAIL_ERROR = -1,     /* in the supervisor: nothing started; err says why */
	JAIL_SUPERVISOR = 0, /* the child runs; j->pid is set */
	JAIL_CHILD = 1,      /* in the jailed child, ready */
	JAIL_CHILD_FAILED = 2, /* in the child, descriptors already renumbered:
				  err says why; report it and exit */
};

enum jail_side jail_spawn(const struct jail_config *cfg, struct jail *j,
			  char *err, size_t errlen);

/* After the child is reaped: removes its cgroup, closes what jail_spawn
 * kept open. Idempotent. On JAIL_ERROR with j->pid > 0 reap it first. */
void jail_cleanup(struct jail *j);

/* What the seccomp allowlist admits beyond the fixed run-loop set. */
struct jail_seccomp {
	const unsigned long *ioctls; /* ioctl requests allowed (any fd) */
	size_t nioctls;
	const int *write_fds; /* write(2) allowed only on these fds */
	size_t nwrite_fds;
	bool fsize_zero;      /* jail_lock: RLIMIT_FSIZE 0 (no file growth) */
	/* A warm worker (many jobs, one VM): also the per-job re-arming and
	 * reseeding, and taking each job's descriptors over its control
	 * socket ctl_fd; see seccomp.c for each call. */
	bool warm;
	int ctl_fd;
};

/*
 * In the jailed child: sets RLIMIT_FSIZE (if asked) and installs the seccomp
 * filter on every thread. Default action: kill the process (SIGSYS).
 */
int jail_lock(const struct jail_seccomp *sc, char *err, size_t errlen);

/* Only the seccomp filter (used by jail_lock and by tests). */
int jail_seccomp_install(const struct jail_seccomp *sc, char *err,
			 size_t errlen);

/* Prints the filter in readable form (libseccomp PFC). 0 or -1. */
int jail_seccomp_export(FILE *out, const struct jail_seccomp *sc);

/*
 * True when built with a sanitizer: the filter then also admits the few
 * syscalls the sanitizer runtime makes (see seccomp.c).
 */
bool jail_seccomp_sanitizer_lenient(void);

#endif
