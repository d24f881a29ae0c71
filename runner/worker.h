/*
 * A warm worker: one jailed process holding one booted VM (vmm_boot) that
 * runs jobs one at a time (vmm_job) and reverts after each. The supervisor
 * side below starts it, hands it jobs over a SOCK_SEQPACKET socketpair
 * (the job's descriptors as SCM_RIGHTS) and takes back one fixed-size
 * report per job, checked by supervise_decode. It enforces every deadline
 * itself: a worker that overstays, dies or fails to revert is killed and
 * must be started again, never reused. Used by `airlock serve` (many
 * workers, one poll loop) and libairlock (one worker, blocking).
 */
#ifndef AIRLOCK_RUNNER_WORKER_H
#define AIRLOCK_RUNNER_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jail/jail.h"
#include "runner/wire.h"
#include "vmm/vmm.h"

/* What every worker of a pool gets: the VM's settings (its descriptors are
 * the supervisor's: /dev/kvm, drive images) and the jail's limits. */
struct worker_setup {
	struct vmm_config vm;
	struct jail_config jail;
	/* serve --preload: every worker boots this program to its
	 * AL_FUZZ_CALL_POINT and resumes each job there (vmm_boot_at_point).
	 * preload_fd < 0: no preload. */
	int preload_fd;
	char *const *preload_argv;
};

enum worker_state {
	WORKER_OFF,     /* no process */
	WORKER_BOOTING, /* started, its VM not yet ready */
	WORKER_IDLE,
	WORKER_BUSY,    /* running a job */
};

struct worker {
	enum worker_state state;
	struct jail j;
	int ctl;              /* our end of the control socket, or -1 */
	uint64_t deadline_ms; /* booting or busy: killed past this */
	uint64_t jail_us;     /* what starting it cost the supervisor */
};

/* The VMM ends a job itself at its deadline; this much later the worker
 * is killed. */
#define WORKER_GRACE_MS 2000

void worker_init(struct worker *w);

/* The allowlist of a jailed process that runs many jobs or inputs on one
 * VM: writes on err_fd and ctl_fd, requests by recvmsg on ctl_fd, the run
 * loop's ioctls and the revert's (jail/seccomp.c, warm). */
struct jail_seccomp worker_warm_seccomp(int err_fd, int ctl_fd);

/*
 * Starts a jailed process that keeps, numbered from 0 in this order: its
 * end of a new control socketpair, fixed[0..nfixed), the drive images of
 * vm, then extra unless it is -1. Once the socketpair is made, *ctl gets
 * our end, for the caller to close (also on JAIL_ERROR). Returns as
 * jail_spawn: on JAIL_CHILD and JAIL_CHILD_FAILED the caller is the child.
 */
enum jail_side worker_spawn(const struct jail_config *limits,
			    const int *fixed, unsigned nfixed,
			    const struct vmm_config *vm, int extra,
			    struct jail *j, int *ctl, char *err,
			    size_t errlen);

/* In the child: cfg's drives as worker_spawn numbered them, from first_fd
 * on, written to drives (room for AL_DRIVES_MAX). */
void worker_child_drives(struct vmm_config *cfg, struct vmm_drive *drives,
			 int first_fd);

/* Starts the jailed process; it boots in the background (WORKER_BOOTING).
 * 0, or -1 with err naming what failed. */
int worker_start(struct worker *w, const struct worker_setup *s, char *err,
		 size_t errlen);

/* Hands an idle worker one job message (built by job_terms_build) and the
 * job's descriptors; it becomes WORKER_BUSY. 0, or -1: the worker is then
 * stopped (its control socket failed). */
int worker_give(struct worker *w, const void *msg, size_t len,
		const int fds[AL_SERVE_NFDS], uint64_t timeout_ms);

enum worker_event {
	WORKER_READY,  /* booted: now idle */
	WORKER_DONE,   /* a job's report (res); idle again, or off if the VM
			  could not be reverted */
	WORKER_FAILED, /* died or failed to boot: off; res says why */
};

/* Called when w->ctl is readable or hung up: takes one report. */
enum worker_event worker_take(struct worker *w, struct vmm_result *res);

/* Past w->deadline_ms: kills it (off); res says the job timed out or the
 * boot took too long. */
void worker_expire(struct worker *w, struct vmm_result *res);

/* Blocks until the worker's next event (or its deadline). A worker that
 * expires here reports WORKER_FAILED, its job timed out (VMM_TIMED_OUT). */
enum worker_event worker_wait(struct worker *w, struct vmm_result *res);

/* Kills and reaps the process and removes its cgroup. Idempotent. */
void worker_stop(struct worker *w);

/* The jailed side (runner/worker_child.c), entered from worker_start. */
__attribute__((noreturn)) void worker_child(const struct worker_setup *s,
					    enum jail_side side,
					    const char *why);

/* Descriptors in the worker (the order of worker_start's keep list); the
 * drive images follow from WORKER_NFDS on. */
enum { WORKER_CTL, WORKER_KVM, WORKER_ERR, WORKER_LOG, WORKER_NFDS };

uint64_t worker_now_ms(void);

#endif
