/*
 * libairlock: run untrusted static Linux x86-64 programs in a warm, jailed
 * KVM micro-VM from your own program (build/libairlock.a or .so).
 *
 * A sandbox is one jailed worker process holding one booted VM. Every job
 * starts from the VM's pristine snapshot, and the VM is put back to it after
 * the job (only the pages the job dirtied are copied back), so nothing a job
 * did is visible to the next. A worker that misbehaves, overstays its time
 * or fails to revert is killed and replaced before the next job.
 *
 *     char err[AIRLOCK_ERR_MAX];
 *     struct airlock *box = airlock_create(NULL, err, sizeof(err));
 *     if (!box) { fprintf(stderr, "%s\n", err); exit(125); }
 *     int fd = open("hello", O_RDONLY | O_CLOEXEC);
 *     char *argv[] = {"hello", NULL};
 *     struct airlock_job job = {.argv = argv, .job_fd = fd,
 *                               .stdin_fd = 0, .stdout_fd = 1, .stderr_fd = 2};
 *     struct airlock_result res;
 *     airlock_run(box, &job, &res);     // res.exit_status as `airlock run`
 *     airlock_destroy(box);
 *
 * Needs read-write /dev/kvm. Not thread-safe: one job at a time per sandbox
 * (make one sandbox per thread). The calling process gets SIGPIPE ignored.
 */
#ifndef AIRLOCK_AIRLOCK_H
#define AIRLOCK_AIRLOCK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AIRLOCK_ERR_MAX 512

struct airlock;

/*
 * Boots a sandbox under the policy file at policy_path (see policy/README.md),
 * or the built-in default policy when NULL. Returns NULL with the reason in
 * err (naming the file, field or syscall) when the policy is invalid, KVM is
 * unusable or the jail cannot be set up.
 */
struct airlock *airlock_create(const char *policy_path, char *err,
			       size_t errlen);

/* One job. Descriptors stay the caller's: the sandbox uses duplicates. */
struct airlock_job {
	char *const *argv;   /* NULL-terminated, argv[0] set (the job's name) */
	char *const *envp;   /* NULL-terminated, or NULL: the policy's env.set */
	int job_fd;          /* the static ELF, opened read-only */
	int stdin_fd, stdout_fd, stderr_fd;
	uint64_t timeout_ms; /* 0: the policy's; more than it is refused */
	uint32_t memory_mib; /* 0: the policy's; more than it is refused; a
				smaller value is accepted, but the warm VM
				keeps the policy's size */
	uint32_t verbose;    /* nonzero: name unimplemented syscalls on stderr */
};

/* How a job ended. Fixed layout: it is also the reply of `airlock serve`
 * (include/airlock/serve.h). */
struct airlock_stream {
	uint64_t bytes;
	uint8_t truncated; /* output dropped: past the cap or reader gone */
	uint8_t pad[7];
};

enum airlock_outcome {
	AIRLOCK_NO_JOB = 0,   /* refused before the job ran; see reason */
	AIRLOCK_EXITED = 1,   /* value: exit code */
	AIRLOCK_SIGNALED,     /* value: signal number */
	AIRLOCK_TIMED_OUT,
	AIRLOCK_EXEC_FAILED,  /* not executable (126) */
	AIRLOCK_ERROR,        /* airlock failed (125) */
};

#define AIRLOCK_REASON_MAX 600

struct airlock_result {
	int32_t exit_status;  /* what `airlock run` would exit with */
	uint32_t outcome;     /* enum airlock_outcome */
	int32_t value;        /* exit code or signal number */
	uint32_t revert_full; /* nonzero: the whole RAM was copied back */
	char status[16];      /* "exited", "signaled", "timeout", "error",
				 "cannot_execute", "not_found" */
	char reason[AIRLOCK_REASON_MAX]; /* one line; empty on a clean exit */
	uint64_t fault_addr, fault_rip, syscalls;
	struct airlock_stream in, out, err;
	/* phase timings in microseconds */
	uint64_t jail_us, create_us, boot_us, load_us, run_us, teardown_us;
	uint64_t total_us;
	uint64_t revert_pages, revert_us; /* putting the VM back */
};

/*
 * Runs one job and reverts the VM. Returns 0 with res filled for every
 * outcome of the job (including timeouts and airlock errors: see
 * res->exit_status and res->reason); -1 only for a NULL argument.
 */
int airlock_run(struct airlock *box, const struct airlock_job *job,
		struct airlock_result *res);

/*
 * Convenience: the job reads stdin from in (in_len bytes) and its stdout
 * and stderr are collected into malloc'd buffers (*out, *err, which the
 * caller frees; each at most the policy's stream cap). Same return as
 * airlock_run; *out and *err are NULL when nothing could be collected.
 */
int airlock_run_buffers(struct airlock *box, const struct airlock_job *job,
			const void *in, size_t in_len, char **out,
			size_t *out_len, char **err, size_t *err_len,
			struct airlock_result *res);

/* Kills the worker, removes its cgroup, frees everything. NULL is fine. */
void airlock_destroy(struct airlock *box);

#ifdef __cplusplus
}
#endif

#endif
