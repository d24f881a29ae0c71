/*
 * Supervisor and jailed VMM. The supervisor opened every host resource; the
 * child gets those descriptors, enters the jail, creates and boots the VM,
 * locks itself down (seccomp) right before the guest's first instruction,
 * runs the job and writes one fixed-size report to a pipe. The supervisor
 * believes nothing else it could say: how the child died tells the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef AIRLOCK_TEST_HOOKS
#include <seccomp.h>
#include <stdlib.h>
#endif

#include "jail/jail.h"
#include "runner/runner.h"
#include "runner/supervise.h"

/* Descriptor numbers in the child (the order of keep[] below); the drive
 * images follow from CHILD_NFDS on, then the connected host sockets. */
enum { CHILD_STDIN, CHILD_STDOUT, CHILD_STDERR, CHILD_KVM, CHILD_JOB,
       CHILD_REPORT, CHILD_NFDS };
_Static_assert(CHILD_NFDS + AL_DRIVES_MAX + VMM_VSOCK_PORTS_MAX <
		   JAIL_MAX_FDS,
	       "every drive and host socket fits the jail's descriptor list");

/* The VMM ends the run itself at the deadline and flushes output; this much
 * later the supervisor stops waiting and kills it. */
#define GRACE_MS 2000
#define MAX_US (1000000ull * 3600 * 24 * 365)

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the child ---- */

#ifdef AIRLOCK_TEST_HOOKS
/* Test builds only (build/airlock-testhooks): a VMM taken over right after
 * lock-down, making the call $AIRLOCK_TEST_FORBIDDEN_SYSCALL names. */
static void forbidden_syscall_hook(void)
{
	const char *name = getenv("AIRLOCK_TEST_FORBIDDEN_SYSCALL");
	int nr = name ? seccomp_syscall_resolve_name(name) : __NR_SCMP_ERROR;
	if (nr != __NR_SCMP_ERROR)
		syscall(nr, 0, 0, 0, 0, 0, 0);
}
#endif

static int lock_hook(void *arg, char *err)
{
	int rc = jail_lock(arg, err, VMM_HOOK_ERR_MAX);
#ifdef AIRLOCK_TEST_HOOKS
	if (rc == 0)
		forbidden_syscall_hook();
#endif
	return rc;
}

static void send_report(const struct vmm_result *res)
{
	const char *p = (const char *)res;
	size_t left = sizeof(*res);
	while (left > 0) {
		ssize_t w = write(CHILD_REPORT, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		left -= (size_t)w;
	}
}

/* Output to regular files must still grow them; elsewhere no file may. */
static bool writes_files(const struct vmm_config *cfg)
{
	struct stat st;
	return (fstat(cfg->stdout_fd, &st) == 0 && S_ISREG(st.st_mode)) ||
	       (fstat(cfg->stderr_fd, &st) == 0 && S_ISREG(st.st_mode));
}

/* The VMM's seccomp allowlist: the run loop's ioctls, and write(2) only
 * for messages on stderr and the report. */
static struct jail_seccomp child_seccomp(bool fsize)
{
	static const int write_fds[] = {CHILD_STDERR, CHILD_REPORT};
	return (struct jail_seccomp){
	    .ioctls = vmm_run_ioctls,
	    .nioctls = vmm_run_ioctls_n,
	    .write_fds = write_fds,
	    .nwrite_fds = sizeof(write_fds) / sizeof(*write_fds),
	    .fsize_zero = fsize,
	};
}

int supervise_show_seccomp(FILE *out)
{
	struct jail_seccomp sc = child_seccomp(true);
	return jail_seccomp_export(out, &sc);
}

/* A reachable host socket is kept as descriptor child_fd (numbered in
 * supervise_vm's keep[] order); an unreachable one stays -1. */
static void child_ports(const struct vmm_config *in,
			struct vmm_vsock_port *ports)
{
	int child_fd = CHILD_NFDS + (int)in->ndrives;

	for (unsigned i = 0; i < in->nvsock_ports; i++) {
		ports[i] = in->vsock_ports[i];
		if (ports[i].fd >= 0)
			ports[i].fd = child_fd++;
	}
}

static __attribute__((noreturn)) void child_run(const struct vmm_config *in,
						 enum jail_side side,
						 const char *why, bool fsize)
{
	struct vmm_result res;

	memset(&res, 0, sizeof(res));
	if (side == JAIL_CHILD_FAILED) {
		res.outcome = VMM_ERROR;
		snprintf(res.message, sizeof(res.message), "%s", why);
	} else {
		struct jail_seccomp sc = child_seccomp(fsize);
		struct vmm_drive drives[AL_DRIVES_MAX];
		struct vmm_vsock_port ports[VMM_VSOCK_PORTS_MAX];
		struct vmm_config cfg = *in;
		for (unsigned i = 0; i < in->ndrives; i++) {
			drives[i] = in->drives[i];
			drives[i].fd = CHILD_NFDS + (int)i;
		}
		cfg.drives = drives;
		child_ports(in, ports);
		cfg.vsock_ports = ports;
		cfg.stdin_fd = CHILD_STDIN;
		cfg.stdout_fd = CHILD_STDOUT;
		cfg.stderr_fd = CHILD_STDERR;
		cfg.kvm_fd = CHILD_KVM;
		cfg.job_fd = CHILD_JOB;
		cfg.before_first_run = lock_hook;
		/* EPIPE rather than a signal when the job's reader goes; the
		 * filter has no room for swallowing a pending SIGPIPE. */
		signal(SIGPIPE, SIG_IGN);
		cfg.hook_arg = &sc;
		if (vmm_run(&cfg, &res) != 0 && !res.message[0])
			snprintf(res.message, sizeof(res.message),
				 "vmm: run failed");
	}
	send_report(&res);
	/* Straight out: no atexit handlers, nothing the filter forbids. */
	syscall(SYS_exit_group, 0);
	__builtin_unreachable();
}

/* ---- the supervisor ---- */

static void sanitize(char *s, size_t n)
{
	s[n - 1] = '\0';
	for (size_t i = 0; s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			s[i] = '?';
}

#define FIELD(raw, member, dst)                                                \
	memcpy(&(dst), (const char *)(raw) +                                   \
			   offsetof(struct vmm_result, member),                \
	       sizeof(dst))

static uint64_t clamp_us(uint64_t v)
{
	return v > MAX_US ? MAX_US : v;
}

static void decode_stream(const void *raw, size_t off,
			  struct vmm_stream_stats *s)
{
	unsigned char t;
	memcpy(&s->bytes, (const char *)raw + off +
			      offsetof(struct vmm_stream_stats, bytes),
	       sizeof(s->bytes));
	memcpy(&t, (const char *)raw + off +
		       offsetof(struct vmm_stream_stats, truncated),
	       1);
	s->truncated = t != 0; /* a bool is read only as a byte */
}

/* A warm VM's revert: counts bounded, the error printable. */
static void decode_revert(const void *raw, struct vmm_result *res)
{
	unsigned char full;
	FIELD(raw, revert.pages, res->revert.pages);
	FIELD(raw, revert.us, res->revert.us);
	FIELD(raw, revert.vcpu_us, res->revert.vcpu_us);
	memcpy(&full, (const char *)raw + offsetof(struct vmm_result, revert) +
			  offsetof(struct vmm_revert_stats, full),
	       1);
	res->revert.full = full != 0;
	res->revert.us = clamp_us(res->revert.us);
	res->revert.vcpu_us = clamp_us(res->revert.vcpu_us);
	if (res->revert.pages > (1ull << 40))
		res->revert.pages = 1ull << 40;
	FIELD(raw, revert_error, res->revert_error);
	sanitize(res->revert_error, sizeof(res->revert_error));
}

static void malformed(struct vmm_result *res, const char *what)
{
	memset(res, 0, sizeof(*res));
	res->outcome = VMM_ERROR;
	snprintf(res->message, sizeof(res->message),
		 "the VMM process sent a malformed report (%s)", what);
}

void supervise_decode(const void *raw, size_t len, struct vmm_result *res)
{
	int outcome;

	memset(res, 0, sizeof(*res));
	if (len != sizeof(*res))
		return malformed(res, "wrong size");
	FIELD(raw, outcome, outcome);
	FIELD(raw, value, res->value);
	FIELD(raw, message, res->message);
	sanitize(res->message, sizeof(res->message));
	FIELD(raw, fault_addr, res->fault_addr);
	FIELD(raw, fault_rip, res->fault_rip);
	FIELD(raw, syscalls, res->syscalls);
	decode_stream(raw, offsetof(struct vmm_result, in), &res->in);
	decode_stream(raw, offsetof(struct vmm_result, out), &res->out);
	decode_stream(raw, offsetof(struct vmm_result, err), &res->err);
	FIELD(raw, create_us, res->create_us);
	FIELD(raw, boot_us, res->boot_us);
	FIELD(raw, load_us, res->load_us);
	FIELD(raw, run_us, res->run_us);
	FIELD(raw, teardown_us, res->teardown_us);
	FIELD(raw, cov_us, res->cov_us);
	res->cov_us = clamp_us(res->cov_us);
	res->create_us = clamp_us(res->create_us);
	res->boot_us = clamp_us(res->boot_us);
	res->load_us = clamp_us(res->load_us);
	res->run_us = clamp_us(res->run_us);
	res->teardown_us = clamp_us(res->teardown_us);
	decode_revert(raw, res);
	switch (outcome) {
	case VMM_EXITED:
		res->value &= 0xff;
		break;
	case VMM_SIGNALED:
		if (res->value < 1 || res->value > 64)
			return malformed(res, "signal out of range");
		break;
	case VMM_TIMED_OUT:
	case VMM_EXEC_FAILED:
	case VMM_ERROR:
		break;
	default:
		return malformed(res, "unknown outcome");
	}
	res->outcome = (enum vmm_outcome)outcome;
	if ((res->outcome == VMM_ERROR || res->outcome == VMM_EXEC_FAILED) &&
	    !res->message[0])
		snprintf(res->message, sizeof(res->message),
			 "the VMM failed without saying why");
}

/* Reads the report until EOF or the deadline (then kills the child). */
static size_t collect(int fd, pid_t pid, uint64_t deadline, void *buf,
		      size_t cap, bool *killed, bool *overlong)
{
	size_t got = 0;
	for (;;) {
		uint64_t now = mono_ms();
		if (now >= deadline) {
			kill(pid, SIGKILL);
			*killed = true;
			return got;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t left = deadline - now;
		if (poll(&p, 1, left > 60000 ? 60000 : (int)left) <= 0)
			continue;
		char scratch[256];
		char *dst = got < cap ? (char *)buf + got : scratch;
		size_t room = got < cap ? cap - got : sizeof(scratch);
		ssize_t n = read(fd, dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return got;
		if (got >= cap)
			*overlong = true;
		else
			got += (size_t)n;
	}
}

uint64_t supervise_reap(pid_t pid, int *ws)
{
	struct rusage ru;
	while (wait4(pid, ws, 0, &ru) < 0)
		if (errno != EINTR)
			return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/* No complete report: how the child ended is all we know. */
void supervise_death_report(int ws, bool killed, bool over_cpu,
			    struct vmm_result *res)
{
	memset(res, 0, sizeof(*res));
	if (killed) {
		res->outcome = VMM_TIMED_OUT;
		return;
	}
	res->outcome = VMM_ERROR;
	if (WIFSIGNALED(ws) && (WTERMSIG(ws) == SIGXCPU || over_cpu)) {
		res->outcome = VMM_TIMED_OUT;
		snprintf(res->message, sizeof(res->message),
			 "CPU-time limit (limits.cpu_s) reached");
	} else if (WIFSIGNALED(ws) && WTERMSIG(ws) == SIGSYS)
		snprintf(res->message, sizeof(res->message),
			 "the VMM process was killed by SIGSYS: it made a "
			 "system call outside its seccomp allowlist (an "
			 "airlock bug, or a guest attacking the VMM)");
	else if (WIFSIGNALED(ws))
		snprintf(res->message, sizeof(res->message),
			 "the VMM process was killed by signal %d%s",
			 WTERMSIG(ws),
			 WTERMSIG(ws) == SIGKILL
			     ? " (its cgroup memory.max reached?)"
			     : "");
	else
		snprintf(res->message, sizeof(res->message),
			 "the VMM process exited with status %d without a "
			 "report",
			 WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
}

int supervise_vm(const struct vmm_config *cfg,
		 const struct jail_config *limits, struct vmm_result *res,
		 uint64_t *jail_us, char *err, size_t errlen)
{
	*jail_us = 0;
#ifdef AIRLOCK_TEST_HOOKS
	/* For the benchmark of what the jail costs: the VMM in-process. */
	if (getenv("AIRLOCK_TEST_NO_JAIL"))
		return vmm_run(cfg, res) == 0 ? 0 : -1;
#endif
	if (cfg->ndrives > AL_DRIVES_MAX ||
	    cfg->nvsock_ports > VMM_VSOCK_PORTS_MAX) {
		snprintf(err, errlen, "more than %u drives or %u host sockets",
			 AL_DRIVES_MAX, VMM_VSOCK_PORTS_MAX);
		return -1;
	}
	int keep[JAIL_MAX_FDS] = {cfg->stdin_fd, cfg->stdout_fd,
				  cfg->stderr_fd, cfg->kvm_fd, cfg->job_fd};
	unsigned nkeep = CHILD_NFDS;
	for (unsigned i = 0; i < cfg->ndrives; i++)
		keep[nkeep++] = cfg->drives[i].fd;
	for (unsigned i = 0; i < cfg->nvsock_ports; i++)
		if (cfg->vsock_ports[i].fd >= 0)
			keep[nkeep++] = cfg->vsock_ports[i].fd;
	struct jail_config jc = *limits;
	jc.keep_fds = keep;
	jc.nkeep = nkeep;
	jc.verbose = cfg->verbose;
	int rp[2];
	if (pipe2(rp, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "jail: pipe2: %s", strerror(errno));
		return -1;
	}
	keep[CHILD_REPORT] = rp[1];
	bool fsize = !writes_files(cfg);
	uint64_t deadline = mono_ms() + cfg->timeout_ms + GRACE_MS;
	struct jail j;
	enum jail_side side = jail_spawn(&jc, &j, err, errlen);
	if (side == JAIL_CHILD || side == JAIL_CHILD_FAILED)
		child_run(cfg, side, err, fsize);
	*jail_us = j.setup_us;
	close(rp[1]);
	if (side == JAIL_ERROR) {
		int ws;
		if (j.pid > 0)
			supervise_reap(j.pid, &ws);
		jail_cleanup(&j);
		close(rp[0]);
		return -1;
	}
	unsigned char raw[sizeof(*res)];
	bool killed = false, overlong = false;
	size_t got = collect(rp[0], j.pid, deadline, raw, sizeof(raw), &killed,
			     &overlong);
	close(rp[0]);
	int ws = 0;
	uint64_t cpu_ms = supervise_reap(j.pid, &ws);
	jail_cleanup(&j);
	/* Past the soft limit the kernel sends SIGXCPU, but a second more
	 * of CPU before the VMM acts on it brings SIGKILL. */
	bool over_cpu = limits->cpu_seconds &&
			cpu_ms >= limits->cpu_seconds * 1000;
	if (killed || got == 0)
		supervise_death_report(ws, killed, over_cpu, res);
	else if (overlong)
		malformed(res, "too long");
	else
		supervise_decode(raw, got, res);
	return 0;
}
