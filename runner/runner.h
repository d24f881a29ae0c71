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

#include "airlock/airlock.h"
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
int cmd_serve(int argc, char **argv);  /* runner/serve.c */
int cmd_submit(int argc, char **argv); /* runner/submit.c */
int cmd_fuzz(int argc, char **argv);   /* runner/fuzz.c */

/* What a run came to, as the command reports it. */
struct run_report {
	int exit_status;     /* the command's own exit status */
	const char *status;  /* "exited", "signaled", "timeout", ... */
	char reason[600];    /* one line for the user; empty on success */
	const struct vmm_result *vm; /* NULL when no VM was started */
	unsigned long long total_us;
	uint64_t jail_us; /* the supervisor's cost of setting up the jail */
	bool warm;        /* a warm VM ran it: the record says how it reverted */
};

/* runner/outcome.c */
void report_set(struct run_report *rep, int status, const char *what,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The exit status and reason of what the VMM reported for prog. */
void report_vm(struct run_report *rep, const struct vmm_result *r,
	       const char *prog);
/* Opens PROGRAM for reading: the fd, or -1 with rep saying 127 or 126. */
int job_open(const char *prog, struct run_report *rep);
/* vmm_check_job: 0, or -1 with rep saying 126 (or 125 on a read error). */
int job_check(int fd, const char *prog, uint64_t mem_bytes,
	      struct run_report *rep);
/* The same record in the library's fixed layout, and back (the strings
 * of a are terminated and made printable first; r receives the VMM part). */
void result_from_report(const struct run_report *rep,
			struct airlock_result *a);
void report_from_result(struct airlock_result *a, struct run_report *rep,
			struct vmm_result *r);

/* The end of run and submit: the reason on stderr (unless the job simply
 * exited), the --result record if asked; returns the exit status. */
int report_finish(struct run_report *rep, const char *result_path);

/* A warm job's VMM result as the library and the wire say it. */
void result_of_vm(const struct vmm_result *res, const char *prog,
		  uint64_t jail_us, struct airlock_result *a);

/* Appends item to a NULL-terminated list of *n items. */
bool list_push(char ***list, size_t *n, char *item);
/* Command-line numbers: a decimal integer; seconds (> 0, fractions). */
bool parse_uint(const char *s, uint64_t *out);
bool parse_seconds_ms(const char *s, uint64_t *out_ms);

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
/* "killed by SIGSEGV", or "killed by signal (unnamed)", into buf. */
void killed_by(int sig, char *buf, size_t len);

#endif
