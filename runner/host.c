/*
 * What a VM gets from the host: the supervisor opens /dev/kvm, the standard
 * streams, the drive images and builds the environment, the VMM settings and
 * the jail's limits from the policy. Shared by run, serve and the library.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/host.h"

/*
 * A private open file description for a standard stream, so that the VMM may
 * make it non-blocking without changing the caller's terminal or pipe. A
 * regular file keeps the caller's (a copy would write from offset 0 over
 * what the caller wrote before); O_NONBLOCK means nothing there anyway.
 */
int private_stream(int fd)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fstat(fd, &st) < 0)
		return -1;
	if (S_ISREG(st.st_mode))
		return fcntl(fd, F_DUPFD_CLOEXEC, 3);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int nfd = open(path, (fl & O_ACCMODE) | O_CLOEXEC | O_NOCTTY);
	if (nfd < 0)
		nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return nfd;
}

int open_kvm(struct run_report *rep)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		report_set(rep, EXIT_AIRLOCK_ERROR, "error",
		       "/dev/kvm: %s: KVM is not usable on this machine "
		       "(is the kvm module loaded and are you in group kvm?)",
		       strerror(errno));
	return fd;
}

void host_release(struct host_side *h)
{
	if (h->kvm >= 0)
		close(h->kvm);
	for (int i = 0; i < 3; i++)
		if (h->stream[i] >= 0)
			close(h->stream[i]);
	for (unsigned i = 0; i < h->ndrives; i++)
		close(h->drives[i].fd);
	services_close(h->services, h->nservices);
	for (size_t i = 0; i < h->nenv; i++)
		free(h->envp[i]);
	free(h->envp);
	free(h->kernel);
}

static int add_env_string(struct host_side *h, const char *name,
			  const char *value)
{
	char *kv;
	if (asprintf(&kv, "%s=%s", name, value) < 0)
		return -1;
	if (!list_push(&h->envp, &h->nenv, kv)) {
		free(kv);
		return -1;
	}
	return 0;
}

/* env.pass names the host's variables the job sees (if set); env.set
 * adds fixed ones. Nothing else crosses. */
int build_env(const struct policy *p, struct host_side *h,
		     struct run_report *rep)
{
	for (size_t i = 0; i < p->env.npass; i++) {
		const char *v = getenv(p->env.pass[i]);
		if (v && add_env_string(h, p->env.pass[i], v) < 0)
			goto oom;
	}
	for (size_t i = 0; i < p->env.nset; i++)
		if (add_env_string(h, p->env.set[i].name, p->env.set[i].value) <
		    0)
			goto oom;
	return 0;
oom:
	report_set(rep, EXIT_AIRLOCK_ERROR, "error", "environment: out of memory");
	return -1;
}

int open_drives(const struct policy *p, struct host_side *h,
		       struct run_report *rep)
{
	for (size_t i = 0; i < p->ndrives; i++) {
		const struct policy_drive *d = &p->drives[i];
		int fd = open(d->image, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		struct stat st;
		if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
			close(fd);
			fd = -1;
			errno = EINVAL;
		}
		if (fd < 0) {
			report_set(rep, EXIT_AIRLOCK_ERROR, "error",
			       "drives[%zu].image: %s: %s", i, d->image,
			       errno == EINVAL ? "not a regular file"
					       : strerror(errno));
			return -1;
		}
		h->drives[h->ndrives++] = (struct vmm_drive){
		    .fd = fd, .mount = d->mount, .writable = d->writable};
	}
	return 0;
}

int open_streams(struct host_side *h, struct run_report *rep)
{
	for (int i = 0; i < 3; i++) {
		h->stream[i] = private_stream(i);
		if (h->stream[i] < 0) {
			report_set(rep, EXIT_AIRLOCK_ERROR, "error",
			       "standard streams: %s (run airlock with stdin, "
			       "stdout and stderr open)",
			       strerror(errno));
			return -1;
		}
	}
	return 0;
}

void refused_syscalls(const struct policy *p, struct vmm_config *cfg)
{
	bool allow = p->syscalls.mode == POLICY_SYSCALLS_ALLOW;
	memset(cfg->syscall_refused, allow ? 0xff : 0,
	       sizeof(cfg->syscall_refused));
	for (size_t i = 0; i < p->syscalls.count; i++) {
		unsigned nr = (unsigned)p->syscalls.list[i].nr;
		if (nr >= AL_SYSCALL_NR_MAX)
			continue; /* beyond the guest's table: always ENOSYS */
		uint64_t bit = 1ull << (nr % 64);
		if (allow)
			cfg->syscall_refused[nr / 64] &= ~bit;
		else
			cfg->syscall_refused[nr / 64] |= bit;
	}
	cfg->syscall_action = p->syscalls.action == POLICY_ACTION_KILL
				  ? AL_SYSCALL_KILL
				  : AL_SYSCALL_ERRNO;
}

struct jail_config jail_limits_of(const struct policy *p, bool verbose)
{
	return (struct jail_config){
	    .memory_max = p->jail.cgroup_memory_max_mib << 20,
	    .pids_max = (unsigned)p->jail.cgroup_pids_max,
	    .cpu_max_percent = (unsigned)p->jail.cgroup_cpu_max_percent,
	    .require_cgroup = p->jail.require_cgroup,
	    .cpu_seconds = p->limits.cpu_s,
	    .uid = p->jail.uid,
	    .gid = p->jail.gid,
	    .verbose = verbose,
	};
}

struct vmm_config vm_config_of(const struct policy *p, const struct host_side *h)
{
	static char *const no_env[] = {NULL};
	struct vmm_config cfg = {
	    .kvm_fd = h->kvm,
	    .mem_mib = (uint32_t)p->vm.memory_mib,
	    .kernel = h->kernel ? h->kernel : airlock_kernel_start,
	    .kernel_len = h->kernel ? h->kernel_len
				    : (size_t)(airlock_kernel_end -
					       airlock_kernel_start),
	    .job_fd = -1,
	    .envp = h->envp ? h->envp : no_env,
	    .stdin_fd = h->stream[0],
	    .stdout_fd = h->stream[1],
	    .stderr_fd = h->stream[2],
	    .timeout_ms = p->limits.timeout_ms,
	    .drives = h->drives,
	    .ndrives = h->ndrives,
	    .stream_caps = true,
	    .stdin_max = p->limits.stdin_bytes,
	    .stdout_max = p->limits.stdout_bytes,
	    .stderr_max = p->limits.stderr_bytes,
	};
	refused_syscalls(p, &cfg);
	return cfg;
}
