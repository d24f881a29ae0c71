/*
 * Resource limits of the jailed VMM. It makes no new processes and opens a
 * handful of descriptors (VM, vCPU, guest memory) beyond the kept ones.
 */
#include <sys/resource.h>

#include "jail/jail_impl.h"

/* Kept descriptors plus the VM's own (vm, vcpu, memfd) and some slack. */
#define FD_HEADROOM 8
/* The VM's RAM must never be locked: it would escape the memory cgroup. */

static int set_limit(int res, rlim_t v, const char *call, char *err,
		     size_t errlen)
{
	struct rlimit rl = {v, v};
	if (setrlimit(res, &rl) < 0)
		return jail_errf(err, errlen, call, errno, NULL);
	return 0;
}

int jail_limits(unsigned nkeep, uint64_t cpu_seconds, char *err,
		size_t errlen)
{
	/* RLIMIT_FSIZE comes later (jail_lock): the VMM still sizes its guest
	 * memory file with ftruncate after this. */
	if (set_limit(RLIMIT_NOFILE, nkeep + FD_HEADROOM,
		      "setrlimit(RLIMIT_NOFILE)", err, errlen) < 0 ||
	    set_limit(RLIMIT_CORE, 0, "setrlimit(RLIMIT_CORE)", err, errlen) <
		0 ||
	    set_limit(RLIMIT_MEMLOCK, 0, "setrlimit(RLIMIT_MEMLOCK)", err,
		      errlen) < 0)
		return -1;
	/* CPU time of the VMM process is the guest's CPU time, plus ours.
	 * The hard limit a second later makes the end SIGXCPU, which the
	 * supervisor can name, where one limit for both would be SIGKILL. */
	struct rlimit cpu = {cpu_seconds, cpu_seconds + 1};
	if (cpu_seconds && setrlimit(RLIMIT_CPU, &cpu) < 0)
		return jail_errf(err, errlen, "setrlimit(RLIMIT_CPU)", errno,
				 NULL);
	return 0;
}

/* RLIMIT_NPROC waits for lock-down: the VMM's first KVM_RUN makes KVM
 * start a kernel task charged to our uid (see vmm/kvm.c). */
int jail_limit_nproc(char *err, size_t errlen)
{
	return set_limit(RLIMIT_NPROC, 0, "setrlimit(RLIMIT_NPROC)", err,
			 errlen);
}

int jail_limit_fsize(char *err, size_t errlen)
{
	return set_limit(RLIMIT_FSIZE, 0, "setrlimit(RLIMIT_FSIZE)", err,
			 errlen);
}
