/*
 * runner: the `airlock` command. Parses the command line, opens every host
 * resource the VMM needs, runs the job and turns the VMM's report into an exit
 * status and a result record.
 */
#ifndef AIRLOCK_RUNNER_H
#define AIRLOCK_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"
#include "vmm/vmm.h"

/* Exit statuses of `run` besides the job's own (coreutils timeout/env). */
enum {
	EXIT_TIMEOUT = 124,
	EXIT_AIRLOCK_ERROR = 125,
	EXIT_CANNOT_EXECUTE = 126,
	EXIT_NOT_FOUND = 127,
};

/* The guest kernel image linked into the binary (runner/kernel_blob.S). */
extern const char airlock_kernel_start[], airlock_kernel_end[];

/*
 * Reads a guest kernel ELF for `run --kernel` into a malloc'd buffer. 0, or
 * -1 with a message naming the file in err (exit 125). The image itself is
 * validated by the VMM when it boots it.
 */
#define KERNEL_FILE_MAX (64 << 20)
int kernel_file_load(const char *path, char **image, size_t *len, char *err,
		     size_t errlen);

int cmd_run(int argc, char **argv);
int cmd_policy(int argc, char **argv); /* runner/policy_cmd.c */

/* What a run came to, as the command reports it. */
struct run_report {
	int exit_status;     /* the command's own exit status */
	const char *status;  /* "exited", "signaled", "timeout", ... */
	char reason[600];    /* one line for the user; empty on success */
	const struct vmm_result *vm; /* NULL when no VM was started */
	unsigned long long total_us;
	uint64_t jail_us; /* the supervisor's cost of setting up the jail */
};

/* Writes the report as one JSON object to path. Returns 0 or -1 (errno). */
int result_write(const char *path, const struct run_report *rep);

/* Connects the n host sockets of map into out (runner/services.c); one
 * that cannot be reached gets fd -1 (the guest's connection is reset) and,
 * with verbose, a note on stderr. Returns n. */
unsigned services_connect(const struct policy_vsock *map, size_t n,
			  struct vmm_vsock_port *out, bool verbose);
void services_close(struct vmm_vsock_port *ports, unsigned n);

/* "SIGSEGV" for 11; NULL for numbers without a name. */
const char *signal_name(int sig);

#endif
