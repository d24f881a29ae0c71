/*
 * warm: boots one warm VM and runs jobs on it one after another, reverting
 * it after each (vmm_boot / vmm_job). For the warm-VM tests and benchmark
 * until `airlock serve` exists.
 *
 *   warm [--memory MIB] [--repeat N] [--timeout SEC] PROG [ARG...]
 *        [::: PROG [ARG...]]...
 *
 * The job groups run in order, the whole list N times. Each job gets warm's
 * own stdin, stdout and stderr. For every job one line goes to stderr:
 *   warm: job K exit|signal V revert P pages dirty|full U us
 * Exit status: 0 if every job ran (to any end but a VMM error) and every
 * revert worked, else 1.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/runner.h"
#include "vmm/vmm.h"

#define MAX_JOBS 64

struct job {
	char **argv;
	int fd;
};

static int split_jobs(char **argv, struct job *jobs)
{
	int n = 0;
	jobs[n++].argv = argv;
	for (char **a = argv; *a; a++) {
		if (strcmp(*a, ":::") != 0)
			continue;
		*a = NULL;
		if (n == MAX_JOBS || !a[1])
			return -1;
		jobs[n++].argv = a + 1;
	}
	return n;
}

static struct vmm_config base_config(int kvm, unsigned mib)
{
	static char *no_env[] = {NULL};
	static char *boot_argv[] = {"boot", NULL};
	return (struct vmm_config){
	    .kvm_fd = kvm,
	    .mem_mib = mib,
	    .kernel = airlock_kernel_start,
	    .kernel_len = (size_t)(airlock_kernel_end - airlock_kernel_start),
	    .job_fd = -1,
	    .argv = boot_argv,
	    .envp = no_env,
	    .stdin_fd = -1,
	    .stdout_fd = -1,
	    .stderr_fd = -1,
	    .timeout_ms = 60000,
	};
}

static bool report(unsigned k, const struct vmm_result *r)
{
	const char *what = r->outcome == VMM_EXITED     ? "exit"
			   : r->outcome == VMM_SIGNALED ? "signal"
			   : r->outcome == VMM_TIMED_OUT ? "timeout"
							 : "error";
	fprintf(stderr, "warm: job %u %s %d revert %llu pages %s %llu us%s%s\n",
		k, what, r->value, (unsigned long long)r->revert.pages,
		r->revert.full ? "full" : "dirty",
		(unsigned long long)r->revert.us, r->message[0] ? ": " : "",
		r->message);
	return r->outcome != VMM_ERROR;
}

int main(int argc, char **argv)
{
	unsigned mib = 64, repeat = 1, timeout_s = 60;
	int i = 1;
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "--memory") == 0)
			mib = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--repeat") == 0)
			repeat = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--timeout") == 0)
			timeout_s = (unsigned)atoi(argv[i + 1]);
		else
			break;
	}
	struct job jobs[MAX_JOBS];
	int n = i < argc ? split_jobs(argv + i, jobs) : -1;
	if (n < 0) {
		fprintf(stderr, "usage: warm [--memory MIB] [--repeat N] "
				"[--timeout SEC] PROG [ARG...] [::: PROG "
				"[ARG...]]...\n");
		return 2;
	}
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("warm: /dev/kvm");
		return 1;
	}
	for (int j = 0; j < n; j++) {
		jobs[j].fd = open(jobs[j].argv[0], O_RDONLY | O_CLOEXEC);
		if (jobs[j].fd < 0) {
			perror(jobs[j].argv[0]);
			return 1;
		}
	}
	struct vmm_config vc = base_config(kvm, mib);
	struct vmm_result res;
	struct vmm *vm = vmm_boot(&vc, &res);
	if (!vm) {
		fprintf(stderr, "warm: boot: %s\n", res.message);
		return 1;
	}
	fprintf(stderr, "warm: booted in %llu us\n",
		(unsigned long long)res.boot_us);
	bool ok = true;
	unsigned k = 0;
	for (unsigned r = 0; r < repeat && ok; r++) {
		for (int j = 0; j < n && ok; j++) {
			struct vmm_config jc = vc;
			jc.job_fd = jobs[j].fd;
			jc.job_name = jobs[j].argv[0];
			jc.argv = jobs[j].argv;
			jc.stdin_fd = 0;
			jc.stdout_fd = 1;
			jc.stderr_fd = 2;
			jc.timeout_ms = timeout_s * 1000ull;
			fflush(stdout);
			int rc = vmm_job(vm, &jc, &res);
			ok = report(k++, &res) && rc == 0;
		}
	}
	vmm_destroy(vm);
	return ok ? 0 : 1;
}
