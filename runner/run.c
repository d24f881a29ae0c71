/* `airlock run`: one job in one fresh micro-VM. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "airlock/boot.h"
#include "airlock/proto.h"
#include "runner/runner.h"
#include "runner/supervise.h"

#define DEFAULT_MEMORY_MIB 64u
#define JAIL_MSG_MAX 512
#define DEFAULT_TIMEOUT_MS 60000ull
#define MAX_TIMEOUT_MS (7ull * 24 * 3600 * 1000)

struct run_opts {
	unsigned mem_mib;
	unsigned long long timeout_ms;
	const char *result_path;
	bool verbose;
	char **env; /* NULL-terminated, from --env */
	size_t nenv;
	char **argv; /* PROGRAM [ARG...] */
};

static unsigned long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ull +
	       (unsigned long long)ts.tv_nsec / 1000;
}

static void report(struct run_report *rep, int status, const char *what,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void report(struct run_report *rep, int status, const char *what,
		   const char *fmt, ...)
{
	rep->exit_status = status;
	rep->status = what;
	if (!fmt)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rep->reason, sizeof(rep->reason), fmt, ap);
	va_end(ap);
}

static bool parse_memory(const char *s, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < AL_MEM_MIN_MIB ||
	    v > AL_MEM_MAX_MIB)
		return false;
	*out = (unsigned)v;
	return true;
}

static bool parse_timeout(const char *s, unsigned long long *out_ms)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 ||
	    v * 1000.0 > (double)MAX_TIMEOUT_MS)
		return false;
	*out_ms = (unsigned long long)ceil(v * 1000.0);
	return true;
}

static bool add_env(struct run_opts *o, char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return false;
	char **env = realloc(o->env, (o->nenv + 2) * sizeof(*env));
	if (!env)
		return false;
	env[o->nenv++] = kv;
	env[o->nenv] = NULL;
	o->env = env;
	return true;
}

/* Returns 0, or an exit status after printing why the command line is bad. */
static int parse_run_opts(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{"memory", required_argument, NULL, 'm'},
		{"timeout", required_argument, NULL, 't'},
		{"env", required_argument, NULL, 'e'},
		{"result", required_argument, NULL, 'r'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct run_opts){.mem_mib = DEFAULT_MEMORY_MIB,
			       .timeout_ms = DEFAULT_TIMEOUT_MS};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+m:t:e:r:vh", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'm':
			if (!parse_memory(optarg, &o->mem_mib)) {
				fprintf(stderr,
					"airlock: --memory: expected MiB from "
					"%u to %u, got '%s'\n",
					AL_MEM_MIN_MIB, AL_MEM_MAX_MIB, optarg);
				return EXIT_AIRLOCK_ERROR;
			}
			break;
		case 't':
			if (!parse_timeout(optarg, &o->timeout_ms)) {
				fprintf(stderr,
					"airlock: --timeout: expected seconds "
					"greater than 0, got '%s'\n",
					optarg);
				return EXIT_AIRLOCK_ERROR;
			}
			break;
		case 'e':
			if (!add_env(o, optarg)) {
				fprintf(stderr,
					"airlock: --env: expected NAME=VALUE, "
					"got '%s'\n",
					optarg);
				return EXIT_AIRLOCK_ERROR;
			}
			break;
		case 'r':
			o->result_path = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			printf("usage: airlock run [--memory MIB] [--timeout SEC] "
			       "[--env K=V]... [--result FILE] [--verbose] [--] "
			       "PROGRAM [ARG...]\n");
			exit(0);
		default:
			fprintf(stderr, "airlock: run: unknown or incomplete "
					"option '%s'\n",
				argv[optind - 1]);
			return EXIT_AIRLOCK_ERROR;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "airlock: run: no PROGRAM given\n");
		return EXIT_AIRLOCK_ERROR;
	}
	o->argv = argv + optind;
	return 0;
}

/*
 * A private open file description for a standard stream, so that the VMM may
 * make it non-blocking without changing the caller's terminal or pipe.
 */
static int private_stream(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -1;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int nfd = open(path, (fl & O_ACCMODE) | O_CLOEXEC | O_NOCTTY);
	if (nfd < 0)
		nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return nfd;
}

static int open_job(const char *prog, struct run_report *rep)
{
	int fd = open(prog, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			return fd;
		close(fd);
		errno = S_ISDIR(st.st_mode) ? EISDIR : EACCES;
	}
	if (errno == ENOENT || errno == ENOTDIR)
		report(rep, EXIT_NOT_FOUND, "not_found", "%s: not found", prog);
	else
		report(rep, EXIT_CANNOT_EXECUTE, "cannot_execute",
		       "%s: cannot execute: %s", prog, strerror(errno));
	return -1;
}

static void report_vm(struct run_report *rep, const struct vmm_result *r,
		      const char *prog)
{
	rep->vm = r;
	switch (r->outcome) {
	case VMM_EXITED:
		report(rep, r->value & 0xff, "exited", NULL);
		break;
	case VMM_SIGNALED: {
		const char *name = signal_name(r->value);
		report(rep, 128 + r->value, "signaled",
		       "%s: killed by %s%s", prog, name ? name : "signal",
		       name ? "" : " (unnamed)");
		if (r->fault_rip)
			snprintf(rep->reason + strlen(rep->reason),
				 sizeof(rep->reason) - strlen(rep->reason),
				 " at address 0x%llx (rip 0x%llx)",
				 (unsigned long long)r->fault_addr,
				 (unsigned long long)r->fault_rip);
		break;
	}
	case VMM_TIMED_OUT:
		report(rep, EXIT_TIMEOUT, "timeout",
		       "%s: wall-clock limit reached", prog);
		break;
	case VMM_EXEC_FAILED:
		report(rep, EXIT_CANNOT_EXECUTE, "cannot_execute", "%s: %s",
		       prog, r->message);
		break;
	default:
		report(rep, EXIT_AIRLOCK_ERROR, "error", "%s", r->message);
		break;
	}
}

static int open_kvm(struct run_report *rep)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		report(rep, EXIT_AIRLOCK_ERROR, "error",
		       "/dev/kvm: %s: KVM is not usable on this machine "
		       "(is the kvm module loaded and are you in group kvm?)",
		       strerror(errno));
	return fd;
}

static void run_vm(const struct run_opts *o, int job_fd,
		   struct vmm_result *res, struct run_report *rep)
{
	static char *const no_env[] = {NULL};
	char jail_err[JAIL_MSG_MAX];
	int kvm = open_kvm(rep);
	if (kvm < 0)
		return;
	struct vmm_config cfg = {
		.kvm_fd = kvm,
		.mem_mib = o->mem_mib,
		.kernel = airlock_kernel_start,
		.kernel_len = (size_t)(airlock_kernel_end - airlock_kernel_start),
		.job_fd = job_fd,
		.job_name = o->argv[0],
		.argv = o->argv,
		.envp = o->env ? o->env : no_env,
		.stdin_fd = private_stream(0),
		.stdout_fd = private_stream(1),
		.stderr_fd = private_stream(2),
		.timeout_ms = o->timeout_ms,
		.verbose = o->verbose,
	};
	if (cfg.stdin_fd < 0 || cfg.stdout_fd < 0 || cfg.stderr_fd < 0)
		report(rep, EXIT_AIRLOCK_ERROR, "error",
		       "standard streams: %s (run airlock with stdin, stdout "
		       "and stderr open)",
		       strerror(errno));
	else if (supervise_vm(&cfg, res, jail_err, sizeof(jail_err)) != 0)
		report(rep, EXIT_AIRLOCK_ERROR, "error", "%s", jail_err);
	else
		report_vm(rep, res, o->argv[0]);
	for (int i = 0; i < 3; i++) {
		int fd = i == 0 ? cfg.stdin_fd : i == 1 ? cfg.stdout_fd
							 : cfg.stderr_fd;
		if (fd >= 0)
			close(fd);
	}
	close(kvm);
}

int cmd_run(int argc, char **argv)
{
	unsigned long long t0 = now_us();
	struct run_opts o;
	int rc = parse_run_opts(argc, argv, &o);
	if (rc) {
		free(o.env);
		return rc;
	}
	/* A reader that goes away must not kill the supervisor. */
	signal(SIGPIPE, SIG_IGN);

	struct run_report rep = {.exit_status = EXIT_AIRLOCK_ERROR,
				 .status = "error"};
	struct vmm_result res;
	memset(&res, 0, sizeof(res));
	int job_fd = open_job(o.argv[0], &rep);
	if (job_fd >= 0) {
		struct vmm_job_image img;
		char why[512];
		enum vmm_job_check chk =
			vmm_check_job(job_fd, o.argv[0],
				      (uint64_t)o.mem_mib << 20, &img, why,
				      sizeof(why));
		if (chk == VMM_JOB_OK)
			run_vm(&o, job_fd, &res, &rep);
		else
			report(&rep,
			       chk == VMM_JOB_NOT_EXECUTABLE
				       ? EXIT_CANNOT_EXECUTE
				       : EXIT_AIRLOCK_ERROR,
			       chk == VMM_JOB_NOT_EXECUTABLE ? "cannot_execute"
							     : "error",
			       "%s", why);
		close(job_fd);
	}
	rep.total_us = now_us() - t0;
	if (rep.reason[0] && rep.exit_status != 0 &&
	    strcmp(rep.status, "exited") != 0)
		fprintf(stderr, "airlock: %s\n", rep.reason);
	if (o.result_path && result_write(o.result_path, &rep) != 0) {
		fprintf(stderr, "airlock: --result %s: %s\n", o.result_path,
			strerror(errno));
		if (rep.exit_status == 0)
			rep.exit_status = EXIT_AIRLOCK_ERROR;
	}
	free(o.env);
	return rep.exit_status;
}
