/*
 * libairlock (include/airlock/airlock.h): a sandbox is one warm worker
 * (runner/worker.h) under a policy, driven one job at a time.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airlock/airlock.h"
#include "runner/host.h"
#include "runner/terms.h"
#include "runner/worker.h"

struct airlock {
	struct policy pol;
	struct host_side host; /* /dev/kvm, drive images, env.set */
	struct worker_setup setup;
	struct worker w;
	struct wire_request req; /* the job, checked as a client's would be */
	unsigned char msg[AL_SERVE_REQUEST_MAX];
};

static int load_policy(struct airlock *b, const char *path, char *err,
		       size_t errlen)
{
	if (!path) {
		policy_default(&b->pol);
		return 0;
	}
	return policy_load(path, &b->pol, err, errlen);
}

/* Opens what the VM needs; the report's reason says what failed. */
static int open_host(struct airlock *b, char *err, size_t errlen)
{
	struct run_report rep = {.status = "error"};
	if (build_env(&b->pol, &b->host, &rep) < 0 ||
	    open_drives(&b->pol, &b->host, &rep) < 0 ||
	    (b->host.kvm = open_kvm(&rep)) < 0) {
		snprintf(err, errlen, "%s", rep.reason);
		return -1;
	}
	return 0;
}

/* Starts the worker and waits until its VM is ready. */
static int start_worker(struct airlock *b, char *err, size_t errlen)
{
	struct vmm_result res;
	if (worker_start(&b->w, &b->setup, err, errlen) < 0)
		return -1;
	if (worker_wait(&b->w, &res) != WORKER_READY) {
		snprintf(err, errlen, "%s", res.message);
		return -1;
	}
	return 0;
}

struct airlock *airlock_create(const char *policy_path, char *err,
			       size_t errlen)
{
	struct airlock *b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "airlock_create: out of memory");
		return NULL;
	}
	b->host = (struct host_side)HOST_SIDE_INIT;
	worker_init(&b->w);
	/* A job's reader that goes away must not kill the caller. */
	signal(SIGPIPE, SIG_IGN);
	if (load_policy(b, policy_path, err, errlen) < 0) {
		free(b);
		return NULL;
	}
	if (terms_check_policy(&b->pol, err, errlen) == 0 &&
	    open_host(b, err, errlen) == 0) {
		terms_worker_setup(&b->pol, &b->host, &b->setup);
		if (start_worker(b, err, errlen) == 0)
			return b;
	}
	airlock_destroy(b);
	return NULL;
}

static void refuse(struct airlock_result *res, int status, const char *what,
		   const char *why)
{
	memset(res, 0, sizeof(*res));
	res->exit_status = status;
	snprintf(res->status, sizeof(res->status), "%s", what);
	snprintf(res->reason, sizeof(res->reason), "%s", why);
}

/* The job as a request, checked exactly as serve checks a client's. */
static size_t job_message(struct airlock *b, const struct airlock_job *job,
			  uint64_t *timeout_ms, char *err, size_t errlen)
{
	struct wire_request *r = &b->req;
	r->len = wire_build_request(r->msg, job->argv, job->envp,
				    job->verbose ? AL_SERVE_F_VERBOSE : 0,
				    job->memory_mib, job->timeout_ms, err,
				    errlen);
	if (!r->len || wire_check_request(r, err, errlen) < 0)
		return 0;
	return terms_build(&b->pol, b->host.envp, &r->job, b->msg, timeout_ms,
			   err, errlen);
}

int airlock_run(struct airlock *b, const struct airlock_job *job,
		struct airlock_result *res)
{
	char err[AIRLOCK_ERR_MAX];
	struct vmm_result vr;
	uint64_t timeout_ms;
	if (!b || !job || !res || !job->argv || !job->argv[0])
		return -1;
	if (b->w.state == WORKER_OFF && start_worker(b, err, sizeof(err)) < 0) {
		refuse(res, 125, "error", err);
		return 0;
	}
	size_t len = job_message(b, job, &timeout_ms, err, sizeof(err));
	if (!len) {
		refuse(res, 125, "error", err);
		return 0;
	}
	int fds[AL_SERVE_NFDS] = {job->stdin_fd, job->stdout_fd,
				  job->stderr_fd, job->job_fd};
	if (worker_give(&b->w, b->msg, len, fds, timeout_ms) < 0) {
		refuse(res, 125, "error", "the sandbox's worker went away");
		return 0;
	}
	worker_wait(&b->w, &vr);
	result_of_vm(&vr, job->argv[0], 0, res);
	return 0;
}

void airlock_destroy(struct airlock *b)
{
	if (!b)
		return;
	worker_stop(&b->w);
	host_release(&b->host);
	policy_free(&b->pol);
	free(b);
}

/* A memfd holding len bytes of data, positioned at its start. */
static int memfd_with(const char *name, const void *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Everything fd holds, malloc'd and NUL-terminated; NULL on failure. */
static char *slurp(int fd, size_t *len)
{
	off_t size = lseek(fd, 0, SEEK_END);
	char *buf = size >= 0 ? malloc((size_t)size + 1) : NULL;
	*len = 0;
	if (!buf)
		return NULL;
	if (pread(fd, buf, (size_t)size, 0) != (ssize_t)size) {
		free(buf);
		return NULL;
	}
	buf[size] = '\0';
	*len = (size_t)size;
	return buf;
}

int airlock_run_buffers(struct airlock *b, const struct airlock_job *job,
			const void *in, size_t in_len, char **out,
			size_t *out_len, char **err, size_t *err_len,
			struct airlock_result *res)
{
	if (!job || !out || !out_len || !err || !err_len)
		return -1;
	*out = *err = NULL;
	*out_len = *err_len = 0;
	struct airlock_job j = *job;
	j.stdin_fd = memfd_with("airlock-stdin", in, in ? in_len : 0);
	j.stdout_fd = memfd_create("airlock-stdout", MFD_CLOEXEC);
	j.stderr_fd = memfd_create("airlock-stderr", MFD_CLOEXEC);
	int rc = -1;
	if (j.stdin_fd >= 0 && j.stdout_fd >= 0 && j.stderr_fd >= 0) {
		rc = airlock_run(b, &j, res);
		if (rc == 0) {
			*out = slurp(j.stdout_fd, out_len);
			*err = slurp(j.stderr_fd, err_len);
		}
	} else if (res) {
		refuse(res, 125, "error", "airlock_run_buffers: memfd_create "
					  "failed");
		rc = 0;
	}
	int fds[] = {j.stdin_fd, j.stdout_fd, j.stderr_fd};
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc;
}
