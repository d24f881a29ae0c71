/*
 * The clone into fresh namespaces and the handshake with the supervisor.
 *
 * One raw clone(2) creates every namespace at once, so the child is pid 1 of
 * its own pid namespace without a second fork, and its death takes nothing
 * else with it. The child then waits on a pipe until the supervisor, which
 * still holds its privileges outside, has written the uid/gid maps and placed
 * it in its cgroup.
 */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "jail/jail_impl.h"

#define NS_FLAGS                                                               \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |          \
	 CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)

/* The unprivileged identity root drops to ("nobody" on Debian). */
#define NOBODY 65534

int jail_errf(char *err, size_t errlen, const char *call, int e,
	      const char *hint)
{
	snprintf(err, errlen, "jail: %s: %s%s%s", call, strerror(e),
		 hint ? ": " : "", hint ? hint : "");
	return -1;
}

/*
 * As root we may map any id and map the child to nobody, so the VMM holds no
 * host privilege even through a kernel bug in the namespace. An ordinary
 * user may only map its own ids, and must give up setgroups(2) to do so.
 */
int jail_write_maps(pid_t pid, uid_t uid, gid_t gid, bool privileged,
		    char *err, size_t errlen)
{
	char path[64], line[64];

	if (!privileged) {
		snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
		if (jail_write_at(AT_FDCWD, path, "deny") < 0)
			return jail_errf(err, errlen, "write /proc/PID/setgroups",
					 errno, NULL);
	}
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if (jail_write_at(AT_FDCWD, path, line) < 0)
		return jail_errf(err, errlen, "write /proc/PID/uid_map", errno,
				 "the kernel refused the user namespace id map");
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	if (jail_write_at(AT_FDCWD, path, line) < 0)
		return jail_errf(err, errlen, "write /proc/PID/gid_map", errno,
				 "the kernel refused the user namespace id map");
	return 0;
}

static const char *clone_hint(int e)
{
	if (e == EPERM || e == ENOSPC || e == EUSERS)
		return "user namespaces are disabled or exhausted (sysctl "
		       "kernel.unprivileged_userns_clone, "
		       "user.max_user_namespaces, or an AppArmor/SELinux rule)";
	if (e == EINVAL)
		return "this kernel lacks one of the namespaces airlock needs "
		       "(user, mount, pid, net, ipc, uts, cgroup)";
	return NULL;
}

/*
 * SIGKILL when the supervisor dies, so a killed supervisor leaves no VMM
 * behind; sent from outside our pid namespace, it cannot be ignored even
 * though we are its init. Armed after the last credential change (which
 * would clear it). The supervisor holds the other end of go_fd open while
 * it lives: a hangup means it died before the signal was armed.
 */
static int arm_pdeathsig(int go_fd, char *err, size_t errlen)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return jail_errf(err, errlen, "prctl(PR_SET_PDEATHSIG)", errno,
				 NULL);
	struct pollfd p = {.fd = go_fd, .events = POLLIN};
	if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)))
		syscall(SYS_exit_group, 125);
	return 0;
}

/* The child: wait for the supervisor, then lock itself down. */
static enum jail_side child_setup(const struct jail_config *cfg, int go_fd,
				  uid_t uid, gid_t gid, bool privileged,
				  char *err, size_t errlen)
{
	char c;

	/* EOF here means the supervisor died before releasing us: nobody
	 * waits for us, go quietly. */
	ssize_t n;
	do
		n = read(go_fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		syscall(SYS_exit_group, 125);
	/* Anything else: the supervisor failed, says why and kills us. */
	if (c != 'g')
		syscall(SYS_exit_group, 125);
	/* The go pipe rides along as descriptor nkeep until the parent-death
	 * signal is armed; from here on the caller's report descriptor is in
	 * place, so every later failure can be reported through it. */
	int keep[JAIL_MAX_FDS];
	memcpy(keep, cfg->keep_fds, cfg->nkeep * sizeof(keep[0]));
	keep[cfg->nkeep] = go_fd;
	if (jail_fds(keep, cfg->nkeep + 1, err, errlen) < 0) {
		dprintf(2, "airlock: %s\n", err);
		syscall(SYS_exit_group, 125);
	}
	go_fd = (int)cfg->nkeep;
	if (jail_root(err, errlen) < 0 ||
	    jail_ids(uid, gid, privileged, err, errlen) < 0 ||
	    jail_caps(err, errlen) < 0 || arm_pdeathsig(go_fd, err, errlen) < 0)
		return JAIL_CHILD_FAILED;
	close(go_fd);
	if (jail_limits(cfg->nkeep, cfg->cpu_seconds, err, errlen) < 0)
		return JAIL_CHILD_FAILED;
	return JAIL_CHILD;
}

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

enum jail_side jail_spawn(const struct jail_config *cfg, struct jail *j,
			  char *err, size_t errlen)
{
	int go[2];
	uint64_t t0 = mono_us();
	bool privileged = geteuid() == 0;
	uid_t uid = !privileged ? geteuid() : cfg->uid ? cfg->uid : NOBODY;
	gid_t gid = !privileged ? getegid() : cfg->gid ? cfg->gid : NOBODY;

	memset(j, 0, sizeof(*j));
	j->pid = -1;
	j->cgroup_fd = -1;
	j->go_fd = -1;
	if (cfg->nkeep >= JAIL_MAX_FDS) {
		snprintf(err, errlen, "jail: too many descriptors to keep");
		return JAIL_ERROR;
	}
	if (pipe2(go, O_CLOEXEC) < 0) {
		jail_errf(err, errlen, "pipe2", errno, NULL);
		return JAIL_ERROR;
	}
	const char *no_cgroup = jail_cgroup_create(cfg, j);
	if (no_cgroup && cfg->require_cgroup) {
		close(go[0]);
		close(go[1]);
		snprintf(err, errlen,
			 "jail: no per-VM cgroup (%s), and the policy sets "
			 "jail.require_cgroup",
			 no_cgroup);
		return JAIL_ERROR;
	}
	/* A raw clone without CLONE_VM behaves like fork but takes the
	 * namespace flags; glibc's fork() cannot. */
	pid_t pid = (pid_t)syscall(SYS_clone, NS_FLAGS | SIGCHLD, NULL, NULL,
				   NULL, NULL);
	if (pid == 0) {
		close(go[1]);
		return child_setup(cfg, go[0], uid, gid, privileged, err,
				   errlen);
	}
	int e = errno;
	close(go[0]);
	if (pid < 0) {
		close(go[1]);
		jail_cleanup(j);
		jail_errf(err, errlen,
			  "clone(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID|...)",
			  e, clone_hint(e));
		return JAIL_ERROR;
	}
	j->pid = pid;
	int rc = jail_write_maps(pid, uid, gid, privileged, err, errlen);
	if (rc == 0)
		rc = jail_cgroup_attach(j, pid, err, errlen);
	/* 'g' releases the child; anything else makes it report and exit,
	 * so the caller still reaps it the usual way. */
	char c = rc == 0 ? 'g' : 'x';
	if (write(go[1], &c, 1) != 1 && rc == 0)
		rc = jail_errf(err, errlen, "write to the jailed child", errno,
			       NULL);
	j->go_fd = go[1]; /* open while we live: see arm_pdeathsig */
	j->setup_us = mono_us() - t0;
	if (rc < 0) {
		kill(pid, SIGKILL);
		return JAIL_ERROR;
	}
	return JAIL_SUPERVISOR;
}
