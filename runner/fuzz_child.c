/*
 * The jailed side of `airlock fuzz`: boots the VM, runs the job to its
 * snapshot point (locking itself down with the warm allowlist before the
 * first guest instruction), then runs one input per request until the
 * supervisor closes the socket or the VM cannot be reverted.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef AIRLOCK_TEST_HOOKS
#include <stdlib.h>
#endif

#include "runner/fuzz.h"
#include "runner/worker.h"

static int lock_hook(void *arg, char *err)
{
	return jail_lock(arg, err, VMM_HOOK_ERR_MAX);
}

static __attribute__((noreturn)) void leave(int code)
{
	syscall(SYS_exit_group, code);
	__builtin_unreachable();
}

static void reply(const struct vmm_result *res, uint64_t map_len,
		  bool at_point)
{
	struct fuzz_reply r;
	memset(&r, 0, sizeof(r));
	r.res = *res;
	r.map_len = map_len;
	r.at_point = at_point;
	if (write(FUZZ_CTL, &r, sizeof(r)) != (ssize_t)sizeof(r))
		leave(125);
}

static __attribute__((noreturn)) void fail(const char *why)
{
	struct vmm_result res;
	memset(&res, 0, sizeof(res));
	res.outcome = VMM_ERROR;
	snprintf(res.message, sizeof(res.message), "%s", why);
	reply(&res, 0, false);
	leave(0);
}

#ifdef AIRLOCK_TEST_HOOKS
/* Test builds only (build/airlock-testhooks): the revert after input
 * $AIRLOCK_TEST_FUZZ_RESET_FAILS (from 1) fails, as a failing KVM ioctl
 * would make it. */
static void reset_fault_hook(struct vmm_result *reset)
{
	static unsigned long long inputs;
	const char *n = getenv("AIRLOCK_TEST_FUZZ_RESET_FAILS");
	if (n && strtoull(n, NULL, 10) == ++inputs)
		snprintf(reset->revert_error, sizeof(reset->revert_error),
			 "test hook: the revert after input %llu failed",
			 inputs);
}
#endif

/* The verdict of each input goes out before the VM is put back, so the
 * revert overlaps the supervisor's (and AFL's) work on it; each reply
 * carries the revert that came before its input. A VM that could not be
 * put back answers the next request with why, and the child ends. */
static void input_loop(struct vmm *vm, uint8_t *shm)
{
	struct fuzz_request q;
	struct vmm_result res, reset;
	memset(&reset, 0, sizeof(reset));
	for (;;) {
		struct iovec iov = {&q, sizeof(q)};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t got = recvmsg(FUZZ_CTL, &mh, 0);
		if (got == 0)
			return;
		if (got != (ssize_t)sizeof(q) || q.len > AL_FUZZ_INPUT_MAX)
			fail("malformed request from the supervisor");
		if (reset.revert_error[0]) {
			reset.outcome = VMM_ERROR;
			snprintf(reset.message, sizeof(reset.message),
				 "the VM could not be put back to its "
				 "snapshot point after the last input");
			reply(&reset, 0, false);
			return;
		}
		int rc = vmm_fuzz_input(vm, shm + FUZZ_SHM_INPUT, q.len,
					q.timeout_ms, shm + FUZZ_SHM_MAP,
					AL_COV_MAP_MAX, &res);
		res.revert = reset.revert;
		reply(&res, vmm_fuzz_map_len(vm), false);
		if (rc < 0)
			return;
		memset(&reset, 0, sizeof(reset));
		vmm_fuzz_reset(vm, &reset);
#ifdef AIRLOCK_TEST_HOOKS
		reset_fault_hook(&reset);
#endif
	}
}

void fuzz_child(const struct vmm_config *base, enum jail_side side,
		const char *why)
{
	if (side == JAIL_CHILD_FAILED)
		fail(why);
	uint8_t *shm = mmap(NULL, FUZZ_SHM_SIZE, PROT_READ | PROT_WRITE,
			    MAP_SHARED, FUZZ_SHM, 0);
	if (shm == MAP_FAILED)
		fail("fuzz: cannot map the input memory");
	struct jail_seccomp sc = worker_warm_seccomp(FUZZ_ERR, FUZZ_CTL);
	struct vmm_config cfg = *base;
	cfg.kvm_fd = FUZZ_KVM;
	cfg.job_fd = FUZZ_JOB;
	cfg.stdin_fd = FUZZ_NULL;
	cfg.stdout_fd = FUZZ_OUT;
	cfg.stderr_fd = FUZZ_ERR;
	struct vmm_drive drives[AL_DRIVES_MAX];
	worker_child_drives(&cfg, drives, FUZZ_NFDS);
	cfg.nvsock_ports = 0;
	cfg.before_first_run = lock_hook;
	cfg.hook_arg = &sc;
	signal(SIGPIPE, SIG_IGN);
	struct vmm_result res;
	struct vmm *vm = vmm_fuzz_start(&cfg, &res);
	if (!vm) {
		reply(&res, 0, false);
		leave(0);
	}
	memset(&res, 0, sizeof(res));
	res.outcome = VMM_EXITED; /* a valid record; at_point says it all */
	reply(&res, vmm_fuzz_map_len(vm), true);
	input_loop(vm, shm);
	leave(0);
}
