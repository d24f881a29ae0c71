/*
 * The host resources of a VM, opened by the supervisor before any jail
 * (runner/host.c). Failures fill the run report (exit status 125 and a
 * reason naming what failed).
 */
#ifndef AIRLOCK_RUNNER_HOST_H
#define AIRLOCK_RUNNER_HOST_H

#include <stdbool.h>

#include "jail/jail.h"
#include "policy/policy.h"
#include "runner/runner.h"

struct host_side {
	int kvm;
	int stream[3];
	struct vmm_drive drives[POLICY_MAX_DRIVES];
	unsigned ndrives;
	struct vmm_vsock_port services[POLICY_MAX_VSOCK]; /* run only */
	unsigned nservices;
	char **envp; /* NULL-terminated, each malloc'd */
	size_t nenv;
	char *kernel; /* run --kernel's image; NULL for the built-in one */
	size_t kernel_len;
};

#define HOST_SIDE_INIT {.kvm = -1, .stream = {-1, -1, -1}}

/* A private open file description for fd (see host.c), or -1. */
int private_stream(int fd);
int open_kvm(struct run_report *rep);
int open_streams(struct host_side *h, struct run_report *rep);
int open_drives(const struct policy *p, struct host_side *h,
		struct run_report *rep);
int build_env(const struct policy *p, struct host_side *h,
	      struct run_report *rep);
void host_release(struct host_side *h);

/* The guest syscall policy into cfg. */
void refused_syscalls(const struct policy *p, struct vmm_config *cfg);
struct jail_config jail_limits_of(const struct policy *p, bool verbose);

/* The VM's settings from the policy and what h holds (no job yet). */
struct vmm_config vm_config_of(const struct policy *p,
			       const struct host_side *h);

#endif
