/*
 * The jail seen from outside: a running VMM (cat.musl blocked on a stdin we
 * hold open) is inspected through /proc, then we check that nothing is left
 * behind after a normal exit, a timeout and a SIGKILL of the supervisor.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

extern char **environ;

/* Nested KVM in TCG boots slowly; generous, but a hang still fails. */
#define WAIT_S 120

struct live {
	pid_t airlock, vmm;
	int in, out; /* our ends of its stdin and stdout */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static pid_t first_child(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	FILE *f = fopen(path, "r");
	int c = 0;
	if (f) {
		if (fscanf(f, "%d", &c) != 1)
			c = 0;
		fclose(f);
	}
	return (pid_t)c;
}

/* Starts `airlock run [extra] cat.musl`, echoes a line through the job (so
 * the guest runs and the filter is in), finds the VMM process. */
static void start(struct live *l, const char *extra)
{
	int pin[2], pout[2];
	cr_assert_eq(pipe2(pin, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(pout, O_CLOEXEC), 0);
	const char *bin = getenv("AIRLOCK") ? getenv("AIRLOCK") : "build/airlock";
	char *argv[6];
	int n = 0;
	argv[n++] = (char *)bin;
	argv[n++] = "run";
	if (extra)
		argv[n++] = (char *)extra;
	argv[n++] = (char *)job("cat.musl");
	argv[n] = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
	posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
	cr_assert_eq(posix_spawn(&l->airlock, bin, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(pin[0]);
	close(pout[1]);
	l->in = pin[1];
	l->out = pout[0];
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(write(l->in, "ping\n", 5), 5);
	char buf[16] = "";
	size_t got = 0;
	double end = now_s() + WAIT_S;
	while (got < 5 && now_s() < end) {
		struct pollfd p = {.fd = l->out, .events = POLLIN};
		if (poll(&p, 1, 1000) <= 0)
			continue;
		ssize_t r = read(l->out, buf + got, sizeof(buf) - 1 - got);
		cr_assert_gt(r, 0, "airlock ended before echoing");
		got += (size_t)r;
	}
	cr_assert_str_eq(buf, "ping\n");
	l->vmm = first_child(l->airlock);
	cr_assert_gt(l->vmm, 0, "no VMM child of airlock %d", (int)l->airlock);
}

static int finish(struct live *l)
{
	close(l->in);
	char buf[64];
	while (read(l->out, buf, sizeof(buf)) > 0)
		;
	close(l->out);
	int ws;
	cr_assert_eq(waitpid(l->airlock, &ws, 0), l->airlock);
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* The value of "Key:" in /proc/PID/status, or "" ; false if no process. */
static bool status_field_opt(pid_t pid, const char *key, char *out,
			     size_t len)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	out[0] = '\0';
	if (!f)
		return false;
	size_t k = strlen(key);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, k) == 0 && line[k] == ':') {
			char *v = line + k + 1;
			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(out, len, "%s", v);
			break;
		}
	}
	fclose(f);
	return true;
}

static void status_field(pid_t pid, const char *key, char *out, size_t len)
{
	cr_assert(status_field_opt(pid, key, out, len), "no process %d",
		  (int)pid);
}

static bool gone(pid_t pid, double seconds)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	double end = now_s() + seconds;
	while (now_s() < end) {
		char state[32];
		if (access(path, F_OK) != 0)
			return true;
		/* Dead but not yet reaped by init counts as gone. */
		if (status_field_opt(pid, "State", state, sizeof(state)) &&
		    state[0] == 'Z')
			return true;
		usleep(20000);
	}
	return false;
}

static bool cgroup_exists(pid_t airlock)
{
	char path[96];
	snprintf(path, sizeof(path), "/sys/fs/cgroup/airlock.%d", (int)airlock);
	return access(path, F_OK) == 0;
}

Test(jail, vmm_has_no_privileges)
{
	require_kvm();
	struct live l;
	start(&l, NULL);
	static const char *const caps[] = {"CapInh", "CapPrm", "CapEff",
					   "CapBnd", "CapAmb"};
	char v[128];
	for (size_t i = 0; i < 5; i++) {
		status_field(l.vmm, caps[i], v, sizeof(v));
		cr_expect_str_eq(v, "0000000000000000", "%s", caps[i]);
	}
	status_field(l.vmm, "NoNewPrivs", v, sizeof(v));
	cr_expect_str_eq(v, "1");
	status_field(l.vmm, "Seccomp", v, sizeof(v));
	cr_expect_str_eq(v, "2");
	unsigned r, e, s, fs;
	status_field(l.vmm, "Uid", v, sizeof(v));
	cr_assert_eq(sscanf(v, "%u %u %u %u", &r, &e, &s, &fs), 4);
	if (geteuid() == 0)
		cr_expect(r == 65534 && e == 65534 && s == 65534,
			  "Uid: %s", v);
	else
		cr_expect(r == geteuid() && e == geteuid(), "Uid: %s", v);
	status_field(l.vmm, "Gid", v, sizeof(v));
	cr_assert_eq(sscanf(v, "%u %u %u %u", &r, &e, &s, &fs), 4);
	if (geteuid() == 0) {
		cr_expect(r == 65534 && e == 65534, "Gid: %s", v);
		status_field(l.vmm, "Groups", v, sizeof(v));
		cr_expect_str_eq(v, "", "Groups: %s", v);
	}
	cr_expect_eq(finish(&l), 0);
}

/* Not dumpable: even its own uid cannot look inside it. */
static void expect_hidden(pid_t vmm)
{
	static const char *const what[] = {"ns/user", "root", "fd"};
	for (size_t i = 0; i < 3; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)vmm, what[i]);
		errno = 0;
		cr_expect_eq(open(path, O_RDONLY | O_CLOEXEC), -1, "%s", path);
		cr_expect_eq(errno, EACCES, "%s: %s", path, strerror(errno));
	}
}

Test(jail, vmm_has_own_namespaces_root_and_few_fds)
{
	require_kvm();
	struct live l;
	start(&l, NULL);
	if (geteuid() != 0) {
		expect_hidden(l.vmm);
		cr_expect_eq(finish(&l), 0);
		return;
	}
	static const char *const ns[] = {"user", "mnt", "pid", "net",
					 "ipc",  "uts", "cgroup"};
	for (size_t i = 0; i < 7; i++) {
		char a[64], b[64], pa[64], pb[64];
		snprintf(pa, sizeof(pa), "/proc/self/ns/%s", ns[i]);
		snprintf(pb, sizeof(pb), "/proc/%d/ns/%s", (int)l.vmm, ns[i]);
		ssize_t na = readlink(pa, a, sizeof(a) - 1);
		ssize_t nb = readlink(pb, b, sizeof(b) - 1);
		cr_assert(na > 0 && nb > 0, "%s: %s", ns[i], strerror(errno));
		a[na] = b[nb] = '\0';
		cr_expect_str_neq(a, b, "%s namespace shared with the host",
				  ns[i]);
	}
	/* Its root is the empty tmpfs. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/root", (int)l.vmm);
	DIR *d = opendir(path);
	cr_assert_not_null(d, "%s: %s", path, strerror(errno));
	struct dirent *e;
	int entries = 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			entries++;
	closedir(d);
	cr_expect_eq(entries, 0, "the VMM's root is not empty");
	/* Descriptors: stdio, kvm, job, report pipe, VM, vCPU, guest RAM. */
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)l.vmm);
	d = opendir(path);
	cr_assert_not_null(d);
	int fds = 0, maxfd = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		fds++;
		if (atoi(e->d_name) > maxfd)
			maxfd = atoi(e->d_name);
	}
	closedir(d);
	cr_expect_leq(fds, 9, "%d descriptors open in the VMM", fds);
	cr_expect_leq(maxfd, 8, "descriptor %d open in the VMM", maxfd);
	cr_expect_eq(finish(&l), 0);
}

Test(jail, nothing_left_after_exit)
{
	require_kvm();
	char *mounts_before = slurp("/proc/self/mounts");
	struct live l;
	start(&l, NULL);
	bool had_cgroup = cgroup_exists(l.airlock);
	char *mounts_during = slurp("/proc/self/mounts");
	cr_expect_str_eq(mounts_during, mounts_before,
			 "the jail's mounts leaked into our namespace");
	cr_expect_eq(finish(&l), 0);
	char *mounts_after = slurp("/proc/self/mounts");
	cr_expect_str_eq(mounts_after, mounts_before, "mounts left behind");
	free(mounts_before);
	free(mounts_during);
	free(mounts_after);
	cr_expect(gone(l.vmm, 5), "VMM %d still there", (int)l.vmm);
	cr_expect(!cgroup_exists(l.airlock), "cgroup left behind");
	if (access("/sys/fs/cgroup/cgroup.subtree_control", F_OK) == 0 &&
	    geteuid() == 0)
		cr_expect(had_cgroup, "no per-VM cgroup under cgroup v2");
}

Test(jail, supervisor_sigkill_takes_the_vmm_down)
{
	require_kvm();
	struct live l;
	start(&l, NULL);
	pid_t dead = l.airlock;
	kill(l.airlock, SIGKILL);
	int ws;
	cr_assert_eq(waitpid(l.airlock, &ws, 0), l.airlock);
	cr_expect(gone(l.vmm, 10), "VMM %d survived its supervisor",
		  (int)l.vmm);
	close(l.in);
	close(l.out);
	/* Its cgroup could not be removed by a dead supervisor: the next run
	 * sweeps it. */
	struct outcome o;
	AIRLOCK(&o, "run", "--", job("hello.musl"));
	cr_expect_eq(o.status, 0, "%s", o.err);
	outcome_free(&o);
	cr_expect(!cgroup_exists(dead), "stale cgroup not swept");
}

Test(jail, timeout_kills_and_cleans_up)
{
	require_kvm();
	struct outcome o;
	AIRLOCK(&o, "run", "--timeout", "1", "--", job("spin.musl"));
	cr_expect_eq(o.status, 124, "status %d: %s", o.status, o.err);
	outcome_free(&o);
}

/* The test build's hook makes the locked-down VMM call what a taken-over
 * VMM would; the filter must kill it before the guest's first instruction
 * and the supervisor must say so. */
Test(jail, forbidden_syscall_after_lockdown_dies_by_sigsys)
{
	require_kvm();
	const char *hooked = getenv("AIRLOCK_TESTHOOKS");
	cr_assert_not_null(hooked, "AIRLOCK_TESTHOOKS is not set");
	static const char *const calls[] = {"openat", "socket", "execve",
					    "ptrace", "mount"};
	for (size_t i = 0; i < sizeof(calls) / sizeof(*calls); i++) {
		struct outcome o;
		setenv("AIRLOCK_TEST_FORBIDDEN_SYSCALL", calls[i], 1);
		run_cmd(&o, NULL, 0,
			(const char *const[]){hooked, "run", job("hello.musl"),
					      NULL});
		cr_expect_eq(o.status, 125, "%s: status %d", calls[i],
			     o.status);
		cr_expect(strstr(o.err, "killed by SIGSYS"), "%s: %s",
			  calls[i], o.err);
		cr_expect_eq(o.out_len, 0, "%s: the guest ran", calls[i]);
		outcome_free(&o);
	}
	unsetenv("AIRLOCK_TEST_FORBIDDEN_SYSCALL");
}
