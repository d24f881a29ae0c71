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
#include "jail/jail.h"
#include "policy/policy.h"
#include "runner/host.h"
#include "runner/runner.h"
#include "runner/supervise.h"

#define JAIL_MSG_MAX 512

/* The command line as given; applied to the policy once it is loaded. */
struct run_opts {
	const char *policy_path;
	const char *memory, *timeout; /* NULL when not given */
	char **env, **drives;         /* NULL-terminated lists */
	size_t nenv, ndrives;
	const char *result_path;
	const char *kernel_path; /* NULL: the built-in guest kernel */
	bool verbose;
	char **argv; /* PROGRAM [ARG...] */
};

static unsigned long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ull +
	       (unsigned long long)ts.tv_nsec / 1000;
}

bool parse_uint(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		return false;
	*out = v;
	return true;
}

bool parse_seconds_ms(const char *s, uint64_t *out_ms)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 1e12)
		return false;
	*out_ms = (uint64_t)ceil(v * 1000.0);
	return true;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: airlock run [--policy FILE] [--memory MIB] "
		   "[--timeout SEC] [--env K=V]...\n"
		   "                   [--drive IMAGE:GUESTPATH[:rw]]... "
		   "[--result FILE] [--verbose] [--kernel ELF]\n"
		   "                   [--] PROGRAM [ARG...]\n");
}

/* Returns 0, or an exit status after printing why the command line is bad. */
static int parse_run_opts(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{"policy", required_argument, NULL, 'p'},
		{"memory", required_argument, NULL, 'm'},
		{"timeout", required_argument, NULL, 't'},
		{"env", required_argument, NULL, 'e'},
		{"drive", required_argument, NULL, 'd'},
		{"result", required_argument, NULL, 'r'},
		{"verbose", no_argument, NULL, 'v'},
		{"kernel", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct run_opts){0};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+p:m:t:e:d:r:vk:h", longopts,
				NULL)) != -1) {
		bool ok = true;
		switch (c) {
		case 'p': o->policy_path = optarg; break;
		case 'm': o->memory = optarg; break;
		case 't': o->timeout = optarg; break;
		case 'e': ok = list_push(&o->env, &o->nenv, optarg); break;
		case 'd': ok = list_push(&o->drives, &o->ndrives, optarg); break;
		case 'r': o->result_path = optarg; break;
		case 'v': o->verbose = true; break;
		case 'k': o->kernel_path = optarg; break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "airlock: run: unknown or incomplete "
					"option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return EXIT_AIRLOCK_ERROR;
		}
		if (!ok) {
			fprintf(stderr, "airlock: run: out of memory\n");
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

/* A limit flag: lowers the policy file's value, or (without a file) sets
 * the operator's own. */
static int apply_limit(struct policy *p, bool from_file,
		       enum policy_limit which, uint64_t v, char *err,
		       size_t errlen)
{
	return from_file ? policy_tighten(p, which, v, err, errlen)
			 : policy_set_limit(p, which, v, err, errlen);
}

/* One limit flag: parsed by parse, then applied as apply_limit says. */
static int limit_flag(struct policy *p, bool from_file, const char *flag,
		      const char *arg, bool (*parse)(const char *, uint64_t *),
		      const char *expect, enum policy_limit which, char *err,
		      size_t errlen)
{
	uint64_t v;
	char why[POLICY_ERR_MAX];
	if (!parse(arg, &v)) {
		snprintf(err, errlen, "%s: expected %s, got '%s'", flag, expect,
			 arg);
		return -1;
	}
	if (apply_limit(p, from_file, which, v, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %.500s", flag, why);
		return -1;
	}
	return 0;
}

static int apply_limit_flags(const struct run_opts *o, struct policy *p,
			     char *err, size_t errlen)
{
	bool file = o->policy_path != NULL;
	if (o->memory &&
	    limit_flag(p, file, "--memory", o->memory, parse_uint, "MiB",
		       POLICY_LIMIT_MEMORY_MIB, err, errlen) < 0)
		return -1;
	if (!o->timeout)
		return 0;
	if (limit_flag(p, file, "--timeout", o->timeout, parse_seconds_ms,
		       "seconds greater than 0", POLICY_LIMIT_TIMEOUT_MS, err,
		       errlen) < 0)
		return -1;
	/* The operator's own longer run also gets the CPU time for it. */
	uint64_t s = (p->limits.timeout_ms + 999) / 1000;
	if (!file && s > p->limits.cpu_s)
		p->limits.cpu_s = s;
	return 0;
}

/* IMAGE:GUESTPATH[:rw|:ro]; the guest path is the last ":/..." part. */
static int apply_drive(struct policy *p, const char *arg, char *err,
		       size_t errlen)
{
	char *s = strdup(arg);
	if (!s) {
		snprintf(err, errlen, "--drive: out of memory");
		return -1;
	}
	bool writable = false;
	size_t n = strlen(s);
	if (n > 3 && (strcmp(s + n - 3, ":rw") == 0 ||
		      strcmp(s + n - 3, ":ro") == 0)) {
		writable = s[n - 1] == 'w';
		s[n - 3] = '\0';
	}
	char *mount = NULL;
	for (char *q = strstr(s, ":/"); q; q = strstr(q + 1, ":/"))
		mount = q;
	int rc = -1;
	if (!mount || mount == s)
		snprintf(err, errlen,
			 "--drive: expected IMAGE:GUESTPATH[:rw] with an "
			 "absolute GUESTPATH, got '%s'",
			 arg);
	else {
		*mount++ = '\0';
		rc = policy_add_drive(p, s, mount, writable, err, errlen);
	}
	free(s);
	return rc;
}

static int apply_env(struct policy *p, const char *kv, char *err,
		     size_t errlen)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv) {
		snprintf(err, errlen, "--env: expected NAME=VALUE, got '%s'",
			 kv);
		return -1;
	}
	char name[POLICY_ENV_NAME_MAX + 2];
	snprintf(name, sizeof(name), "%.*s", (int)(eq - kv), kv);
	return policy_add_env(p, name, eq + 1, err, errlen);
}

/* Grants are the operator's own without a policy file; under one they
 * would widen it. */
static int apply_grant_flags(const struct run_opts *o, struct policy *p,
			     char *err, size_t errlen)
{
	if (o->policy_path && (o->nenv || o->ndrives)) {
		snprintf(err, errlen,
			 "%s: would widen the policy %s: grant it there "
			 "(%s) instead",
			 o->nenv ? "--env" : "--drive", o->policy_path,
			 o->nenv ? "env.set" : "drives");
		return -1;
	}
	for (size_t i = 0; i < o->ndrives; i++)
		if (apply_drive(p, o->drives[i], err, errlen) < 0)
			return -1;
	for (size_t i = 0; i < o->nenv; i++)
		if (apply_env(p, o->env[i], err, errlen) < 0)
			return -1;
	return 0;
}

/* The effective policy: the file (or the default) with the flags applied.
 * 0, or -1 with the reason in err. */
static int build_policy(const struct run_opts *o, struct policy *p,
			char *err, size_t errlen)
{
	if (o->policy_path) {
		if (policy_load(o->policy_path, p, err, errlen) < 0)
			return -1;
	} else {
		policy_default(p);
	}
	return apply_limit_flags(o, p, err, errlen) < 0 ||
			       apply_grant_flags(o, p, err, errlen) < 0
		   ? -1
		   : 0;
}

/* The guest kernel to boot: --kernel's file, or the one built in. */
static int load_kernel(const struct run_opts *o, struct host_side *h,
		       struct run_report *rep)
{
	if (!o->kernel_path) {
		h->kernel_len =
		    (size_t)(airlock_kernel_end - airlock_kernel_start);
		return 0;
	}
	if (kernel_file_load(o->kernel_path, &h->kernel, &h->kernel_len,
			     rep->reason, sizeof(rep->reason)) < 0) {
		report_set(rep, EXIT_AIRLOCK_ERROR, "error", NULL);
		return -1;
	}
	return 0;
}

static void run_vm(const struct run_opts *o, const struct policy *p,
		   int job_fd, struct vmm_result *res, struct run_report *rep)
{
	char jail_err[JAIL_MSG_MAX];
	struct host_side h = HOST_SIDE_INIT;
	if (open_streams(&h, rep) == 0 && build_env(p, &h, rep) == 0 &&
	    open_drives(p, &h, rep) == 0 && load_kernel(o, &h, rep) == 0 &&
	    (h.kvm = open_kvm(rep)) >= 0) {
		h.nservices = services_connect(p->vsock_connect,
					       p->nvsock_connect, h.services,
					       o->verbose);
		struct vmm_config cfg = vm_config_of(p, &h);
		cfg.job_fd = job_fd;
		cfg.job_name = o->argv[0];
		cfg.argv = o->argv;
		cfg.verbose = o->verbose;
		cfg.vsock_ports = h.services;
		cfg.nvsock_ports = h.nservices;
		struct jail_config limits = jail_limits_of(p, o->verbose);
		if (supervise_vm(&cfg, &limits, res, &rep->jail_us, jail_err,
				 sizeof(jail_err)) != 0)
			report_set(rep, EXIT_AIRLOCK_ERROR, "error", "%s",
				   jail_err);
		else
			report_vm(rep, res, o->argv[0]);
	}
	host_release(&h);
}

static void free_opts(struct run_opts *o)
{
	free(o->env);
	free(o->drives);
}

/* Checks the job binary, then runs it. */
static void run_job(const struct run_opts *o, const struct policy *p,
		    struct vmm_result *res, struct run_report *rep)
{
	int job_fd = job_open(o->argv[0], rep);
	if (job_fd < 0)
		return;
	if (job_check(job_fd, o->argv[0], p->vm.memory_mib << 20, rep) == 0)
		run_vm(o, p, job_fd, res, rep);
	close(job_fd);
}

int cmd_run(int argc, char **argv)
{
	unsigned long long t0 = now_us();
	struct run_opts o;
	int rc = parse_run_opts(argc, argv, &o);
	if (rc) {
		free_opts(&o);
		return rc;
	}
	/* A reader that goes away must not kill the supervisor. */
	signal(SIGPIPE, SIG_IGN);

	struct run_report rep = {.exit_status = EXIT_AIRLOCK_ERROR,
				 .status = "error"};
	struct vmm_result res;
	memset(&res, 0, sizeof(res));
	struct policy pol;
	if (build_policy(&o, &pol, rep.reason, sizeof(rep.reason)) == 0)
		run_job(&o, &pol, &res, &rep);
	policy_free(&pol);
	rep.total_us = now_us() - t0;
	rc = report_finish(&rep, o.result_path);
	free_opts(&o);
	return rc;
}
