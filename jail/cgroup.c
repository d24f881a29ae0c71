/*
 * One cgroup v2 per VM, below the supervisor's own, with memory.max,
 * pids.max and cpu.max. Best effort: without a writable cgroup2 hierarchy
 * (cgroup v1 host, no delegation, controllers not enabled for children) the
 * VM runs without and --verbose says so once.
 *
 * The supervisor creates it before the clone and removes it after reaping
 * the child. A supervisor killed with SIGKILL cannot remove it, so the next
 * run removes empty airlock.PID siblings whose PID is gone.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "jail/jail_impl.h"

#define CG_ROOT "/sys/fs/cgroup"
/* cpu.max is "QUOTA PERIOD"; 100% is one CPU's worth of each period. */
#define CPU_PERIOD_US 100000u

int jail_write_at(int dirfd, const char *file, const char *data)
{
	int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = strlen(data);
	ssize_t w = write(fd, data, len);
	int e = errno;
	close(fd);
	errno = e;
	return w == (ssize_t)len ? 0 : -1;
}

/* Our own cgroup directory, from the "0::/path" line of /proc/self/cgroup. */
static int open_own_cgroup(void)
{
	struct statfs sf;
	if (statfs(CG_ROOT, &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC)
		return -1;
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -1;
	char line[4096], path[4200];
	int fd = -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::/", 4) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(path, sizeof(path), CG_ROOT "%s", line + 3);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		break;
	}
	fclose(f);
	return fd;
}

/* Leftovers of supervisors that were SIGKILLed: empty, owner gone. */
static void sweep_stale(int parent)
{
	int fd = dup(parent);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		if (strncmp(e->d_name, "airlock.", 8) != 0)
			continue;
		long pid = strtol(e->d_name + 8, &end, 10);
		if (*end || pid <= 0 || pid == getpid())
			continue;
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			unlinkat(parent, e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

/* memory, pids and cpu must be enabled for our children; enabling them
 * fails where our own cgroup holds processes (the no-internal-process
 * rule), except at the root. */
static bool controllers_ready(int parent)
{
	char buf[512];
	int fd = openat(parent, "cgroup.subtree_control", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (strstr(buf, "memory") && strstr(buf, "pids") && strstr(buf, "cpu"))
		return true;
	return jail_write_at(parent, "cgroup.subtree_control",
			"+memory +pids +cpu") == 0;
}

/* Without a cgroup the run goes on, unless the policy demands one. */
static void say_once(const struct jail_config *cfg, const char *why)
{
	if (cfg->verbose && !cfg->require_cgroup)
		fprintf(stderr,
			"airlock: jail: no per-VM cgroup (%s); running without "
			"memory.max, pids.max and cpu.max\n",
			why);
}

static int set_limits(int cg, const struct jail_config *cfg)
{
	char v[32];
	if (cfg->memory_max) {
		snprintf(v, sizeof(v), "%llu",
			 (unsigned long long)cfg->memory_max);
		if (jail_write_at(cg, "memory.max", v) < 0)
			return -1;
		/* Hitting memory.max must kill, not push guest RAM to swap. */
		jail_write_at(cg, "memory.swap.max", "0");
	}
	if (cfg->pids_max) {
		snprintf(v, sizeof(v), "%u", cfg->pids_max);
		if (jail_write_at(cg, "pids.max", v) < 0)
			return -1;
	}
	unsigned pct = cfg->cpu_max_percent ? cfg->cpu_max_percent : 100;
	snprintf(v, sizeof(v), "%llu %u",
		 (unsigned long long)pct * CPU_PERIOD_US / 100, CPU_PERIOD_US);
	return jail_write_at(cg, "cpu.max", v);
}

const char *jail_cgroup_create(const struct jail_config *cfg, struct jail *j)
{
	const char *why = NULL;
	int parent = open_own_cgroup();
	if (parent < 0) {
		why = CG_ROOT " is not a cgroup2 hierarchy we can use";
		say_once(cfg, why);
		return why;
	}
	sweep_stale(parent);
	if (!controllers_ready(parent)) {
		why = "memory, pids or cpu controller not delegated";
		say_once(cfg, why);
		close(parent);
		return why;
	}
	snprintf(j->cgroup_name, sizeof(j->cgroup_name), "airlock.%d",
		 (int)getpid());
	if (mkdirat(parent, j->cgroup_name, 0755) < 0 && errno != EEXIST) {
		why = "cannot create a child cgroup";
		say_once(cfg, why);
		close(parent);
		return why;
	}
	j->cgroup_fd = parent;
	int cg = openat(parent, j->cgroup_name,
			O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0 || set_limits(cg, cfg) < 0) {
		why = "cannot set the cgroup limits";
		say_once(cfg, why);
		if (cg >= 0)
			close(cg);
		jail_cleanup(j);
		return why;
	}
	close(cg);
	return NULL;
}

int jail_cgroup_attach(struct jail *j, pid_t pid, char *err, size_t errlen)
{
	char path[80], v[24];
	if (j->cgroup_fd < 0)
		return 0;
	snprintf(path, sizeof(path), "%s/cgroup.procs", j->cgroup_name);
	snprintf(v, sizeof(v), "%d", (int)pid);
	if (jail_write_at(j->cgroup_fd, path, v) < 0)
		return jail_errf(err, errlen, "write cgroup.procs", errno,
				 "cannot move the VMM into its cgroup");
	return 0;
}

void jail_cleanup(struct jail *j)
{
	if (j->go_fd >= 0)
		close(j->go_fd);
	j->go_fd = -1;
	if (j->cgroup_fd < 0)
		return;
	/* The child is reaped, so the cgroup is empty (or emptying: its
	 * last task may take a moment to leave; retry briefly). */
	for (int i = 0; i < 100; i++) {
		if (unlinkat(j->cgroup_fd, j->cgroup_name, AT_REMOVEDIR) == 0 ||
		    errno != EBUSY)
			break;
		usleep(1000);
	}
	close(j->cgroup_fd);
	j->cgroup_fd = -1;
}
