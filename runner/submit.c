/*
 * `airlock submit`: `airlock run` on a warm VM of an `airlock serve`. Opens
 * and checks PROGRAM itself (127, 126 as run says them), hands the server
 * its standard streams and the program's descriptor, and turns the reply
 * into the same exit status, messages and --result record as run.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "airlock/boot.h"
#include "runner/host.h"
#include "runner/runner.h"
#include "runner/wire.h"

struct submit_opts {
	const char *socket, *memory, *timeout, *result_path;
	char **env;
	size_t nenv;
	bool verbose;
	char **argv;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: airlock submit --socket PATH [--memory MIB] "
		   "[--timeout SEC] [--env K=V]...\n"
		   "                      [--result FILE] [--verbose] [--] "
		   "PROGRAM [ARG...]\n");
}

static int parse_submit_opts(int argc, char **argv, struct submit_opts *o)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'},
		{"memory", required_argument, NULL, 'm'},
		{"timeout", required_argument, NULL, 't'},
		{"env", required_argument, NULL, 'e'},
		{"result", required_argument, NULL, 'r'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct submit_opts){0};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+s:m:t:e:r:vh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case 'm': o->memory = optarg; break;
		case 't': o->timeout = optarg; break;
		case 'r': o->result_path = optarg; break;
		case 'v': o->verbose = true; break;
		case 'e':
			if (!list_push(&o->env, &o->nenv, optarg)) {
				fprintf(stderr, "airlock: submit: out of "
						"memory\n");
				return EXIT_AIRLOCK_ERROR;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "airlock: submit: unknown or "
					"incomplete option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return EXIT_AIRLOCK_ERROR;
		}
	}
	if (!o->socket) {
		fprintf(stderr, "airlock: submit: --socket PATH is required\n");
		return EXIT_AIRLOCK_ERROR;
	}
	if (optind >= argc) {
		fprintf(stderr, "airlock: submit: no PROGRAM given\n");
		return EXIT_AIRLOCK_ERROR;
	}
	o->argv = argv + optind;
	return 0;
}

/* The limits asked for; 0 means the server's. */
struct asked {
	uint32_t memory_mib;
	uint64_t timeout_ms;
};

static int parse_asked(const struct submit_opts *o, struct asked *a,
		       struct run_report *rep)
{
	uint64_t v = 0;
	*a = (struct asked){0};
	if (o->memory && (!parse_uint(o->memory, &v) || v < AL_MEM_MIN_MIB ||
			  v > AL_MEM_MAX_MIB)) {
		report_set(rep, EXIT_AIRLOCK_ERROR, "error",
			   "--memory: expected MiB within %u..%u, got '%s'",
			   AL_MEM_MIN_MIB, AL_MEM_MAX_MIB, o->memory);
		return -1;
	}
	a->memory_mib = (uint32_t)v;
	if (o->timeout && !parse_seconds_ms(o->timeout, &a->timeout_ms)) {
		report_set(rep, EXIT_AIRLOCK_ERROR, "error",
			   "--timeout: expected seconds greater than 0, got "
			   "'%s'",
			   o->timeout);
		return -1;
	}
	for (size_t i = 0; i < o->nenv; i++) {
		const char *eq = strchr(o->env[i], '=');
		if (!eq || eq == o->env[i]) {
			report_set(rep, EXIT_AIRLOCK_ERROR, "error",
				   "--env: expected NAME=VALUE, got '%s'",
				   o->env[i]);
			return -1;
		}
	}
	return 0;
}

static int connect_server(const char *path, struct run_report *rep)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		report_set(rep, EXIT_AIRLOCK_ERROR, "error",
			   "--socket %s: path too long", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		report_set(rep, EXIT_AIRLOCK_ERROR, "error",
			   "--socket %s: connect: %s (is `airlock serve "
			   "--socket %s` running?)",
			   path, strerror(errno), path);
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}

/* Sends the job, waits for the reply and takes it into rep and vm. */
static void exchange(int sock, const struct submit_opts *o,
		     const struct asked *a, const int fds[AL_SERVE_NFDS],
		     struct airlock_result *ar, struct run_report *rep,
		     struct vmm_result *vm)
{
	static unsigned char msg[AL_SERVE_REQUEST_MAX];
	char err[WIRE_ERR_MAX];
	size_t len = wire_build_request(
	    msg, o->argv, o->env, o->verbose ? AL_SERVE_F_VERBOSE : 0,
	    a->memory_mib, a->timeout_ms, err, sizeof(err));
	if (!len) {
		report_set(rep, EXIT_AIRLOCK_ERROR, "error", "%s", err);
		return;
	}
	/* A server that refuses at once (busy) has replied and closed before
	 * the request went out: its reply still says why. */
	int sent = wire_send(sock, msg, len, fds, AL_SERVE_NFDS);
	int e = errno;
	if (wire_recv_reply(sock, ar, err, sizeof(err)) == 0)
		report_from_result(ar, rep, vm);
	else if (sent < 0)
		report_set(rep, EXIT_AIRLOCK_ERROR, "error",
			   "--socket %s: send: %s", o->socket, strerror(e));
	else
		report_set(rep, EXIT_AIRLOCK_ERROR, "error", "--socket %s: %s",
			   o->socket, err);
}

static void submit_job(const struct submit_opts *o, struct airlock_result *ar,
		       struct run_report *rep, struct vmm_result *vm)
{
	struct asked a;
	if (parse_asked(o, &a, rep) < 0)
		return;
	int job = job_open(o->argv[0], rep);
	if (job < 0)
		return;
	uint64_t mib = a.memory_mib ? a.memory_mib : AL_MEM_MAX_MIB;
	struct host_side h = HOST_SIDE_INIT;
	if (job_check(job, o->argv[0], mib << 20, rep) == 0 &&
	    open_streams(&h, rep) == 0) {
		int sock = connect_server(o->socket, rep);
		int fds[AL_SERVE_NFDS] = {h.stream[0], h.stream[1], h.stream[2],
					  job};
		if (sock >= 0) {
			exchange(sock, o, &a, fds, ar, rep, vm);
			close(sock);
		}
	}
	host_release(&h);
	close(job);
}

static unsigned long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ull +
	       (unsigned long long)ts.tv_nsec / 1000;
}

int cmd_submit(int argc, char **argv)
{
	unsigned long long t0 = now_us();
	struct submit_opts o;
	int rc = parse_submit_opts(argc, argv, &o);
	if (rc) {
		free(o.env);
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);
	struct run_report rep = {.exit_status = EXIT_AIRLOCK_ERROR,
				 .status = "error"};
	struct airlock_result ar;
	struct vmm_result vm;
	submit_job(&o, &ar, &rep, &vm);
	rep.total_us = now_us() - t0;
	rc = report_finish(&rep, o.result_path);
	free(o.env);
	return rc;
}
