/*
 * The supervisor side of `airlock run`: runs vmm_run in a jailed child and
 * takes back only a fixed-size, validated report.
 */
#ifndef AIRLOCK_RUNNER_SUPERVISE_H
#define AIRLOCK_RUNNER_SUPERVISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "jail/jail.h"
#include "vmm/vmm.h"

/*
 * Runs cfg in a jailed child (see jail/jail.h) with the limits, ids and
 * cgroup settings of *limits (its descriptor list is ignored) and fills res
 * (and *jail_us with what setting up the jail cost the supervisor) from the
 * child's report, every field checked. Enforces cfg->timeout_ms itself too:
 * a child that overstays it is killed and the run reported as timed out.
 * Returns 0 (res filled, whatever the job did), or -1 when the jail could
 * not be set up: err then names the syscall and what to do (exit 125).
 */
int supervise_vm(const struct vmm_config *cfg,
		 const struct jail_config *limits, struct vmm_result *res,
		 uint64_t *jail_us, char *err, size_t errlen);

/* Prints the VMM's seccomp filter in readable form. 0 or -1. */
int supervise_show_seccomp(FILE *out);

/*
 * Turns raw report bytes from the child into res. Anything out of range
 * makes the outcome VMM_ERROR; the message is NUL-terminated and printable.
 * len other than sizeof(struct vmm_result) is a malformed report.
 */
void supervise_decode(const void *raw, size_t len, struct vmm_result *res);

/* Reaps pid, retrying on EINTR: the CPU time it used, in ms (0 when it
 * could not be reaped). */
uint64_t supervise_reap(pid_t pid, int *ws);

/* No complete report from a VMM process: what its wait status ws (and
 * whether we killed it for overstaying, or it used up its CPU time) says
 * happened. */
void supervise_death_report(int ws, bool killed, bool over_cpu,
			    struct vmm_result *res);

#endif
