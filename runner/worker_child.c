/*
 * The jailed side of a warm worker: boots the VM (locking itself down with
 * the warm seccomp allowlist right before the first guest instruction),
 * says it is ready, then runs each job it is handed and reports it, until
 * the supervisor closes the control socket or the VM cannot be reverted.
 * Reports are one struct vmm_result each; the supervisor checks them.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runner/worker.h"

/* The run loop's ioctls and the revert's, for the allowlist. */
static unsigned long warm_ioctls[32];
_Static_assert(sizeof(warm_ioctls) / sizeof(*warm_ioctls) >= 16,
	       "room for the run and revert ioctls");

struct jail_seccomp worker_warm_seccomp(int err_fd, int ctl_fd)
{
	static int write_fds[2];
	size_t n = 0;
	for (size_t i = 0; i < vmm_run_ioctls_n; i++)
		warm_ioctls[n++] = vmm_run_ioctls[i];
	for (size_t i = 0; i < vmm_warm_ioctls_n; i++)
		warm_ioctls[n++] = vmm_warm_ioctls[i];
	write_fds[0] = err_fd;
	write_fds[1] = ctl_fd;
	return (struct jail_seccomp){
	    .ioctls = warm_ioctls,
	    .nioctls = n,
	    .write_fds = write_fds,
	    .nwrite_fds = 2,
	    .warm = true,
	    .ctl_fd = ctl_fd,
	};
}

static int lock_hook(void *arg, char *err)
{
	return jail_lock(arg, err, VMM_HOOK_ERR_MAX);
}

static void send_report(const struct vmm_result *res)
{
	/* One message on a SOCK_SEQPACKET: all of it or nothing. */
	if (write(WORKER_CTL, res, sizeof(*res)) != (ssize_t)sizeof(*res))
		syscall(SYS_exit_group, 125);
}

static __attribute__((noreturn)) void leave(void)
{
	/* Straight out: no atexit handlers, nothing the filter forbids. */
	syscall(SYS_exit_group, 0);
	__builtin_unreachable();
}

/* The job's part of the configuration from a request the supervisor
 * composed (its limits already applied). */
static void job_config(struct vmm_config *cfg, const struct wire_request *r)
{
	cfg->job_fd = r->fds[AL_SERVE_FD_JOB];
	cfg->stdin_fd = r->fds[AL_SERVE_FD_STDIN];
	cfg->stdout_fd = r->fds[AL_SERVE_FD_STDOUT];
	cfg->stderr_fd = r->fds[AL_SERVE_FD_STDERR];
	cfg->job_name = r->job.argv[0];
	cfg->argv = r->job.argv;
	cfg->envp = r->job.envp;
	cfg->timeout_ms = r->job.timeout_ms;
	cfg->verbose = r->job.flags & AL_SERVE_F_VERBOSE;
}

/* Runs one job; false when the VM could not be reverted. */
static bool serve_one(struct vmm *vm, const struct vmm_config *base,
		      const struct wire_request *r, struct vmm_result *res)
{
	struct vmm_config cfg = *base;
	job_config(&cfg, r);
	/* The VMM's own lines (--verbose) go to the job's stderr, as in
	 * `airlock run`; between jobs fd 2 is the server's log again. */
	dup3(cfg.stderr_fd, WORKER_ERR, 0);
	int rc = vmm_job(vm, &cfg, res);
	dup3(WORKER_LOG, WORKER_ERR, 0);
	return rc == 0;
}

static void job_loop(struct vmm *vm, const struct vmm_config *base)
{
	static struct wire_request req;
	struct vmm_result res;
	char err[WIRE_ERR_MAX];
	for (;;) {
		int got = wire_recv_request(WORKER_CTL, &req, err, sizeof(err));
		if (got == 0)
			return;
		memset(&res, 0, sizeof(res));
		bool ok = true;
		if (got < 0) {
			res.outcome = VMM_ERROR;
			snprintf(res.message, sizeof(res.message),
				 "worker: bad job message: %s", err);
		} else {
			ok = serve_one(vm, base, &req, &res);
			wire_close_fds(&req);
		}
		send_report(&res);
		if (!ok)
			return;
	}
}

void worker_child(const struct worker_setup *s, enum jail_side side,
		  const char *why)
{
	static char *const boot_argv[] = {"boot", NULL};
	static char *const no_env[] = {NULL};
	struct vmm_result res;
	memset(&res, 0, sizeof(res));
	if (side == JAIL_CHILD_FAILED) {
		res.outcome = VMM_ERROR;
		snprintf(res.message, sizeof(res.message), "%s", why);
		send_report(&res);
		leave();
	}
	struct jail_seccomp sc = worker_warm_seccomp(WORKER_ERR, WORKER_CTL);
	struct vmm_drive drives[AL_DRIVES_MAX];
	struct vmm_config cfg = s->vm;
	worker_child_drives(&cfg, drives, WORKER_NFDS);
	cfg.kvm_fd = WORKER_KVM;
	cfg.job_fd = cfg.stdin_fd = cfg.stdout_fd = cfg.stderr_fd = -1;
	cfg.argv = boot_argv;
	cfg.envp = no_env;
	cfg.before_first_run = lock_hook;
	cfg.hook_arg = &sc;
	/* EPIPE rather than a signal when a job's reader goes; the filter
	 * has no room for swallowing a pending SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	struct vmm *vm;
	if (s->preload_fd >= 0) {
		/* What it writes before its point goes to the server's log. */
		cfg.job_fd = WORKER_NFDS + (int)cfg.ndrives;
		cfg.job_name = s->preload_argv[0];
		cfg.argv = s->preload_argv;
		cfg.envp = s->vm.envp;
		cfg.stdout_fd = cfg.stderr_fd = WORKER_LOG;
		vm = vmm_boot_at_point(&cfg, &res);
	} else {
		vm = vmm_boot(&cfg, &res);
	}
	if (!vm) {
		if (res.outcome != VMM_ERROR || !res.message[0]) {
			res.outcome = VMM_ERROR;
			snprintf(res.message, sizeof(res.message),
				 "worker: the warm VM did not boot");
		}
		send_report(&res);
		leave();
	}
	res.outcome = VMM_EXITED; /* ready */
	res.value = 0;
	send_report(&res);
	job_loop(vm, &cfg);
	leave();
}
