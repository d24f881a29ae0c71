/* The supervisor's side of a warm worker (runner/worker.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runner/supervise.h"
#include "runner/worker.h"

uint64_t worker_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void worker_init(struct worker *w)
{
	memset(w, 0, sizeof(*w));
	w->state = WORKER_OFF;
	w->ctl = -1;
	w->j.pid = -1;
	w->j.cgroup_fd = w->j.go_fd = -1;
}

enum jail_side worker_spawn(const struct jail_config *limits,
			    const int *fixed, unsigned nfixed,
			    const struct vmm_config *vm, int extra,
			    struct jail *j, int *ctl, char *err,
			    size_t errlen)
{
	int sp[2], keep[JAIL_MAX_FDS];
	if (1 + nfixed + vm->ndrives + 1 >= JAIL_MAX_FDS) {
		snprintf(err, errlen, "worker: too many drives");
		return JAIL_ERROR;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		snprintf(err, errlen, "worker: socketpair: %s", strerror(errno));
		return JAIL_ERROR;
	}
	struct jail_config jc = *limits;
	jc.keep_fds = keep;
	jc.nkeep = 0;
	keep[jc.nkeep++] = sp[1];
	for (unsigned i = 0; i < nfixed; i++)
		keep[jc.nkeep++] = fixed[i];
	for (unsigned i = 0; i < vm->ndrives; i++)
		keep[jc.nkeep++] = vm->drives[i].fd;
	if (extra >= 0)
		keep[jc.nkeep++] = extra;
	enum jail_side side = jail_spawn(&jc, j, err, errlen);
	if (side == JAIL_CHILD || side == JAIL_CHILD_FAILED)
		return side;
	close(sp[1]);
	*ctl = sp[0];
	return side;
}

void worker_child_drives(struct vmm_config *cfg, struct vmm_drive *drives,
			 int first_fd)
{
	for (unsigned i = 0; i < cfg->ndrives && i < AL_DRIVES_MAX; i++) {
		drives[i] = cfg->drives[i];
		drives[i].fd = first_fd + (int)i;
	}
	cfg->drives = drives;
}

int worker_start(struct worker *w, const struct worker_setup *s, char *err,
		 size_t errlen)
{
	worker_init(w);
	const int fixed[] = {s->vm.kvm_fd, STDERR_FILENO, STDERR_FILENO};
	enum jail_side side =
	    worker_spawn(&s->jail, fixed, WORKER_NFDS - 1, &s->vm,
			 s->preload_fd, &w->j, &w->ctl, err, errlen);
	if (side == JAIL_CHILD || side == JAIL_CHILD_FAILED)
		worker_child(s, side, err);
	w->jail_us = w->j.setup_us;
	if (side == JAIL_ERROR) {
		worker_stop(w);
		return -1;
	}
	w->state = WORKER_BOOTING;
	w->deadline_ms = worker_now_ms() + s->vm.timeout_ms + WORKER_GRACE_MS;
	return 0;
}

int worker_give(struct worker *w, const void *msg, size_t len,
		const int fds[AL_SERVE_NFDS], uint64_t timeout_ms)
{
	if (w->state != WORKER_IDLE ||
	    wire_send(w->ctl, msg, len, fds, AL_SERVE_NFDS) < 0) {
		worker_stop(w);
		return -1;
	}
	w->state = WORKER_BUSY;
	w->deadline_ms = worker_now_ms() + timeout_ms + WORKER_GRACE_MS;
	return 0;
}

void worker_stop(struct worker *w)
{
	if (w->j.pid > 0) {
		int ws;
		kill(w->j.pid, SIGKILL);
		supervise_reap(w->j.pid, &ws);
		w->j.pid = -1;
	}
	jail_cleanup(&w->j);
	if (w->ctl >= 0)
		close(w->ctl);
	w->ctl = -1;
	w->state = WORKER_OFF;
}

/* The process ended or must: reap it and say what its end means. */
static void bury(struct worker *w, bool killed, struct vmm_result *res)
{
	int ws = 0;
	if (killed)
		kill(w->j.pid, SIGKILL);
	supervise_reap(w->j.pid, &ws);
	w->j.pid = -1;
	supervise_death_report(ws, killed, false, res);
	worker_stop(w);
}

enum worker_event worker_take(struct worker *w, struct vmm_result *res)
{
	unsigned char raw[sizeof(*res)];
	bool booting = w->state == WORKER_BOOTING;
	ssize_t n;
	do
		n = recv(w->ctl, raw, sizeof(raw), MSG_TRUNC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		bury(w, false, res);
		return WORKER_FAILED;
	}
	supervise_decode(raw, (size_t)n, res);
	if (booting) {
		bool ok = res->outcome == VMM_EXITED && res->value == 0;
		if (!ok) {
			worker_stop(w);
			return WORKER_FAILED;
		}
		w->state = WORKER_IDLE;
		return WORKER_READY;
	}
	/* A VM that did not go back to its snapshot is never reused. */
	if (res->revert_error[0])
		worker_stop(w);
	else
		w->state = WORKER_IDLE;
	return WORKER_DONE;
}

void worker_expire(struct worker *w, struct vmm_result *res)
{
	bool booting = w->state == WORKER_BOOTING;
	bury(w, true, res);
	if (booting) {
		res->outcome = VMM_ERROR;
		snprintf(res->message, sizeof(res->message),
			 "the warm VM did not become ready in time");
	}
}

enum worker_event worker_wait(struct worker *w, struct vmm_result *res)
{
	for (;;) {
		uint64_t now = worker_now_ms();
		if (now >= w->deadline_ms) {
			worker_expire(w, res);
			return WORKER_FAILED;
		}
		uint64_t left = w->deadline_ms - now;
		struct pollfd p = {.fd = w->ctl, .events = POLLIN};
		int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return worker_take(w, res);
		if (n < 0 && errno != EINTR) {
			worker_stop(w);
			memset(res, 0, sizeof(*res));
			res->outcome = VMM_ERROR;
			snprintf(res->message, sizeof(res->message),
				 "worker: poll: %s", strerror(errno));
			return WORKER_FAILED;
		}
	}
}
