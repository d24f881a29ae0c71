/*
 * `airlock serve --socket PATH [--policy FILE] [--workers N]`: N jailed
 * warm workers (runner/worker.h) behind a unix socket, one poll loop.
 *
 * Each connection carries one job (include/airlock/serve.h). A checked
 * request waits in a bounded queue for an idle worker, which gets the
 * client's descriptors; its report becomes the reply. The server enforces
 * every deadline: a worker that overstays, dies or fails to revert, or
 * whose client hangs up mid-job, is killed and replaced, never reused.
 * SIGTERM or SIGINT: stop accepting, refuse the waiting, let running jobs
 * finish (within their deadlines), stop the workers, remove the socket.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/host.h"
#include "runner/runner.h"
#include "runner/serve_socket.h"
#include "runner/terms.h"
#include "runner/worker.h"

#define WORKERS_MAX 64
#define QUEUE_MAX 32         /* clients waiting beyond those running */
#define REQUEST_WAIT_MS 5000 /* a connection must send its request by then */
#define RESTART_DELAY_MS 1000

enum client_state { C_FREE, C_READING, C_QUEUED, C_RUNNING };

struct client {
	enum client_state state;
	int fd;
	uint64_t since_ms, seq;  /* when accepted; arrival order */
	struct wire_request *req; /* this slot's, allocated once */
	int worker;               /* C_RUNNING: its worker */
};

struct server {
	struct policy pol;
	struct host_side host;
	struct worker_setup setup;
	struct stat preload_st; /* the --preload file, when given */
	struct worker workers[WORKERS_MAX];
	int busy_with[WORKERS_MAX]; /* client index, or -1 */
	unsigned nworkers;
	struct client clients[WORKERS_MAX + QUEUE_MAX];
	unsigned nclients;
	uint64_t seq, restart_ms;
	int listen_fd, sig_fd;
	const char *path;
	bool stopping;
};

static unsigned char scratch[AL_SERVE_REQUEST_MAX]; /* a worker's message */

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void log_line(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("airlock: serve: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- clients ---- */

static void client_close(struct client *c)
{
	wire_close_fds(c->req); /* a received job's; -1 once handed over */
	if (c->fd >= 0)
		close(c->fd);
	c->state = C_FREE;
	c->fd = c->worker = -1;
}

static void client_refuse(struct client *c, const char *why)
{
	wire_send_refusal(c->fd, why);
	client_close(c);
}

static void accept_clients(struct server *s)
{
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		serve_log_peer(fd);
		struct client *c = NULL;
		for (unsigned i = 0; i < s->nclients && !c; i++)
			if (s->clients[i].state == C_FREE)
				c = &s->clients[i];
		if (!c) {
			wire_send_refusal(fd, "server busy: every worker is "
					      "running a job and the queue "
					      "is full; try again later");
			close(fd);
			continue;
		}
		c->state = C_READING;
		c->fd = fd;
		c->since_ms = worker_now_ms();
		c->seq = s->seq++;
		c->worker = -1;
	}
}

/* A request arrived: checked, held against the policy, then queued. */
/* Under --preload a request names the preloaded file (its arguments and
 * environment are the server's); the same file, not just the same path. */
static bool is_preloaded(const struct server *s, const struct wire_request *r)
{
	struct stat st;
	return fstat(r->fds[AL_SERVE_FD_JOB], &st) == 0 &&
	       st.st_dev == s->preload_st.st_dev &&
	       st.st_ino == s->preload_st.st_ino;
}

/* Under --preload the program was started with the server's arguments and
 * environment, before its point: a request asking for others is refused,
 * not run without them. Its own arguments may repeat the server's. */
static bool asks_other_terms(const struct server *s, const struct wire_job *j)
{
	char *const *want = s->setup.preload_argv;
	if (j->envc > 0)
		return true;
	for (unsigned i = 1; i < j->argc; i++)
		if (!want[i] || strcmp(want[i], j->argv[i]) != 0)
			return true;
	return j->argc > 1 && want[j->argc] != NULL;
}

static void read_request(struct server *s, struct client *c)
{
	char err[WIRE_ERR_MAX], why[WIRE_ERR_MAX + 32];
	uint64_t timeout_ms;
	int got = wire_recv_request(c->fd, c->req, err, sizeof(err));
	if (got == 0)
		return client_close(c);
	if (got < 0) {
		snprintf(why, sizeof(why), "bad request: %s", err);
		log_line("%s", why);
		return client_refuse(c, why);
	}
	if (!terms_build(&s->pol, s->host.envp, &c->req->job, scratch,
			 &timeout_ms, err, sizeof(err)))
		return client_refuse(c, err);
	if (s->setup.preload_fd >= 0 && !is_preloaded(s, c->req)) {
		snprintf(why, sizeof(why),
			 "this server runs only %.200s (--preload)",
			 s->setup.preload_argv[0]);
		return client_refuse(c, why);
	}
	if (s->setup.preload_fd >= 0 && asks_other_terms(s, &c->req->job)) {
		snprintf(why, sizeof(why),
			 "this server runs %.150s with its own arguments and "
			 "environment (--preload): a request can set neither",
			 s->setup.preload_argv[0]);
		return client_refuse(c, why);
	}
	c->state = C_QUEUED;
}

/* ---- workers ---- */

static void start_worker(struct server *s, unsigned i)
{
	char err[JAIL_ERR_MAX];
	s->busy_with[i] = -1;
	if (worker_start(&s->workers[i], &s->setup, err, sizeof(err)) < 0) {
		log_line("worker %u: %s (retrying)", i, err);
		s->restart_ms = worker_now_ms() + RESTART_DELAY_MS;
	}
}

/* The job of worker i ended (res): its client gets the reply. */
static void job_done(struct server *s, unsigned i,
		     const struct vmm_result *res)
{
	int k = s->busy_with[i];
	s->busy_with[i] = -1;
	if (k < 0)
		return;
	struct client *c = &s->clients[k];
	struct airlock_result ar;
	result_of_vm(res, c->req->job.argv[0], 0, &ar);
	wire_send_reply(c->fd, &ar);
	client_close(c);
}

static void worker_event(struct server *s, unsigned i)
{
	struct worker *w = &s->workers[i];
	struct vmm_result res;
	bool booting = w->state == WORKER_BOOTING;
	enum worker_event ev = worker_take(w, &res);
	if (ev == WORKER_FAILED)
		log_line("worker %u %s: %s", i,
			 booting ? "did not boot" : "died", res.message);
	if (ev == WORKER_DONE && res.revert_error[0])
		log_line("worker %u: revert failed, replacing it: %s", i,
			 res.revert_error);
	if (ev != WORKER_READY)
		job_done(s, i, &res);
	if (w->state == WORKER_OFF && booting)
		s->restart_ms = worker_now_ms() + RESTART_DELAY_MS;
}

static struct client *oldest_queued(struct server *s)
{
	struct client *best = NULL;
	for (unsigned i = 0; i < s->nclients; i++) {
		struct client *c = &s->clients[i];
		if (c->state == C_QUEUED && (!best || c->seq < best->seq))
			best = c;
	}
	return best;
}

/* Waiting clients to idle workers, oldest first. */
static void dispatch(struct server *s)
{
	char err[WIRE_ERR_MAX];
	uint64_t timeout_ms;
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct client *c;
		if (s->workers[i].state != WORKER_IDLE ||
		    !(c = oldest_queued(s)))
			continue;
		size_t len = terms_build(&s->pol, s->host.envp, &c->req->job,
					 scratch, &timeout_ms, err, sizeof(err));
		if (worker_give(&s->workers[i], scratch, len, c->req->fds,
				timeout_ms) < 0) {
			log_line("worker %u went away; replacing it", i);
			continue; /* the client stays queued */
		}
		/* The worker holds the job's descriptors now. */
		wire_close_fds(c->req);
		c->state = C_RUNNING;
		c->worker = (int)i;
		s->busy_with[i] = (int)(c - s->clients);
	}
}

/* ---- the loop ---- */

static void hang_up(struct server *s, struct client *c)
{
	if (c->state == C_RUNNING) {
		unsigned i = (unsigned)c->worker;
		log_line("client hung up mid-job; replacing worker %u", i);
		s->busy_with[i] = -1;
		worker_stop(&s->workers[i]);
	}
	client_close(c);
}

static void check_deadlines(struct server *s, uint64_t now)
{
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct worker *w = &s->workers[i];
		if ((w->state == WORKER_BUSY || w->state == WORKER_BOOTING) &&
		    now >= w->deadline_ms) {
			struct vmm_result res;
			log_line("worker %u overstayed its deadline; replacing "
				 "it",
				 i);
			worker_expire(w, &res);
			job_done(s, i, &res);
		}
	}
	for (unsigned i = 0; i < s->nclients; i++) {
		struct client *c = &s->clients[i];
		if (c->state == C_READING && now - c->since_ms > REQUEST_WAIT_MS)
			client_refuse(c, "no request within 5 seconds");
	}
	if (s->stopping || now < s->restart_ms)
		return;
	for (unsigned i = 0; i < s->nworkers; i++)
		if (s->workers[i].state == WORKER_OFF)
			start_worker(s, i);
}

/* Stop accepting and refuse whoever has not started a job. */
static void begin_stop(struct server *s)
{
	if (s->stopping)
		return;
	s->stopping = true;
	log_line("stopping: no new jobs; waiting for running ones");
	close(s->listen_fd);
	s->listen_fd = -1;
	unlink(s->path);
	for (unsigned i = 0; i < s->nclients; i++) {
		struct client *c = &s->clients[i];
		if (c->state == C_READING || c->state == C_QUEUED)
			client_refuse(c, "server shutting down");
	}
}

static bool jobs_running(const struct server *s)
{
	for (unsigned i = 0; i < s->nclients; i++)
		if (s->clients[i].state == C_RUNNING)
			return true;
	return false;
}

/* What the poll set holds, so its results can be mapped back. */
enum slot_kind { SLOT_LISTEN, SLOT_SIGNAL, SLOT_WORKER, SLOT_CLIENT };

struct poll_set {
	struct pollfd p[2 + WORKERS_MAX * 2 + QUEUE_MAX];
	enum slot_kind kind[2 + WORKERS_MAX * 2 + QUEUE_MAX];
	unsigned index[2 + WORKERS_MAX * 2 + QUEUE_MAX];
	unsigned n;
};

static void add(struct poll_set *ps, int fd, short events, enum slot_kind k,
		unsigned index)
{
	ps->p[ps->n] = (struct pollfd){.fd = fd, .events = events};
	ps->kind[ps->n] = k;
	ps->index[ps->n++] = index;
}

static void build_poll_set(const struct server *s, struct poll_set *ps)
{
	ps->n = 0;
	add(ps, s->sig_fd, POLLIN, SLOT_SIGNAL, 0);
	if (s->listen_fd >= 0)
		add(ps, s->listen_fd, POLLIN, SLOT_LISTEN, 0);
	for (unsigned i = 0; i < s->nworkers; i++)
		if (s->workers[i].state != WORKER_OFF)
			add(ps, s->workers[i].ctl, POLLIN, SLOT_WORKER, i);
	/* A waiting or running client is only watched for hanging up. */
	for (unsigned i = 0; i < s->nclients; i++)
		if (s->clients[i].state != C_FREE)
			add(ps, s->clients[i].fd,
			    s->clients[i].state == C_READING ? POLLIN : 0,
			    SLOT_CLIENT, i);
}

static int poll_timeout(const struct server *s, uint64_t now)
{
	uint64_t next = now + 1000;
	for (unsigned i = 0; i < s->nworkers; i++) {
		const struct worker *w = &s->workers[i];
		if ((w->state == WORKER_BUSY || w->state == WORKER_BOOTING) &&
		    w->deadline_ms < next)
			next = w->deadline_ms;
	}
	return next > now ? (int)(next - now) : 0;
}

static void handle(struct server *s, const struct poll_set *ps, unsigned k)
{
	short ev = ps->p[k].revents;
	struct client *c;
	switch (ps->kind[k]) {
	case SLOT_SIGNAL: {
		struct signalfd_siginfo si;
		if (read(s->sig_fd, &si, sizeof(si)) == sizeof(si))
			begin_stop(s);
		break;
	}
	case SLOT_LISTEN:
		if (!s->stopping)
			accept_clients(s);
		break;
	case SLOT_WORKER:
		if (s->workers[ps->index[k]].ctl == ps->p[k].fd)
			worker_event(s, ps->index[k]);
		break;
	case SLOT_CLIENT:
		c = &s->clients[ps->index[k]];
		if (c->fd != ps->p[k].fd)
			break; /* closed meanwhile */
		if (c->state == C_READING)
			read_request(s, c);
		else if (ev & (POLLHUP | POLLERR))
			hang_up(s, c);
		break;
	}
}

static void serve_loop(struct server *s)
{
	static struct poll_set ps;
	while (!s->stopping || jobs_running(s)) {
		build_poll_set(s, &ps);
		int n = poll(ps.p, ps.n, poll_timeout(s, worker_now_ms()));
		if (n < 0 && errno != EINTR) {
			log_line("poll: %s", strerror(errno));
			begin_stop(s);
		}
		for (unsigned k = 0; n > 0 && k < ps.n; k++)
			if (ps.p[k].revents)
				handle(s, &ps, k);
		check_deadlines(s, worker_now_ms());
		if (!s->stopping)
			dispatch(s);
	}
}

/* ---- setup and teardown ---- */

struct serve_opts {
	const char *socket, *policy, *workers;
	char **preload; /* PROGRAM [ARG...] after --preload, or NULL */
};

#define SERVE_USAGE                                                            \
	"usage: airlock serve --socket PATH [--policy FILE] [--workers N]\n"    \
	"                     [--preload [--] PROGRAM [ARG...]]\n"

static int parse_serve_opts(int argc, char **argv, struct serve_opts *o)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'},
		{"policy", required_argument, NULL, 'p'},
		{"workers", required_argument, NULL, 'w'},
		{"preload", no_argument, NULL, 'l'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct serve_opts){0};
	optind = 1;
	opterr = 0;
	bool preload = false;
	int c;
	while ((c = getopt_long(argc, argv, "+s:p:w:l", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case 'p': o->policy = optarg; break;
		case 'w': o->workers = optarg; break;
		case 'l': preload = true; break;
		default:
			fprintf(stderr,
				"airlock: serve: unknown or incomplete option "
				"'%s'\n" SERVE_USAGE,
				argv[optind - 1]);
			return -1;
		}
	}
	if (preload && optind < argc)
		o->preload = argv + optind;
	if (!o->socket || (optind != argc && !preload) ||
	    (preload && !o->preload)) {
		fprintf(stderr, SERVE_USAGE);
		return -1;
	}
	return 0;
}

/* --preload PROGRAM: checked like a job, kept open for every worker. */
static int open_preload(struct server *s, char **argv, char *err,
			size_t errlen)
{
	struct run_report rep = {.status = "error"};
	int fd = job_open(argv[0], &rep);
	if (fd >= 0 && (job_check(fd, argv[0], s->pol.vm.memory_mib << 20,
				  &rep) < 0 ||
			fstat(fd, &s->preload_st) < 0)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		snprintf(err, errlen, "--preload: %.480s",
			 rep.reason[0] ? rep.reason : strerror(errno));
		return -1;
	}
	s->setup.preload_fd = fd;
	s->setup.preload_argv = argv;
	return 0;
}

/* Policy, host resources and the worker pool, booted. 0 or -1 (err). */
static int setup(struct server *s, const struct serve_opts *o, char *err,
		 size_t errlen)
{
	uint64_t n = 2;
	if (o->workers && (!parse_uint(o->workers, &n) || n < 1 ||
			   n > WORKERS_MAX)) {
		snprintf(err, errlen, "--workers: expected 1..%d, got '%s'",
			 WORKERS_MAX, o->workers);
		return -1;
	}
	s->nworkers = (unsigned)n;
	s->nclients = s->nworkers + QUEUE_MAX;
	/* Every slot's request buffer up front: nothing grows per client. */
	for (unsigned i = 0; i < s->nclients; i++) {
		s->clients[i].req = malloc(sizeof(*s->clients[i].req));
		if (!s->clients[i].req) {
			snprintf(err, errlen, "out of memory for %u clients",
				 s->nclients);
			return -1;
		}
		for (int k = 0; k < AL_SERVE_NFDS; k++)
			s->clients[i].req->fds[k] = -1;
	}
	if (o->policy ? policy_load(o->policy, &s->pol, err, errlen) < 0
		      : (policy_default(&s->pol), 0))
		return -1;
	if (terms_check_policy(&s->pol, err, errlen) < 0)
		return -1;
	struct run_report rep = {.status = "error"};
	if (build_env(&s->pol, &s->host, &rep) < 0 ||
	    open_drives(&s->pol, &s->host, &rep) < 0 ||
	    (s->host.kvm = open_kvm(&rep)) < 0) {
		snprintf(err, errlen, "%.480s", rep.reason);
		return -1;
	}
	terms_worker_setup(&s->pol, &s->host, &s->setup);
	if (o->preload && open_preload(s, o->preload, err, errlen) < 0)
		return -1;
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct vmm_result res;
		s->busy_with[i] = -1;
		if (worker_start(&s->workers[i], &s->setup, err, errlen) < 0)
			return -1;
		if (worker_wait(&s->workers[i], &res) != WORKER_READY) {
			snprintf(err, errlen, "worker %u: %.400s", i, res.message);
			return -1;
		}
	}
	return 0;
}

static int block_stop_signals(struct server *s, char *err, size_t errlen)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	s->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sig_fd < 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void teardown(struct server *s)
{
	for (unsigned i = 0; i < s->nclients; i++) {
		if (s->clients[i].state != C_FREE)
			client_close(&s->clients[i]);
		free(s->clients[i].req);
	}
	for (unsigned i = 0; i < s->nworkers; i++)
		worker_stop(&s->workers[i]);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->path);
	}
	if (s->sig_fd >= 0)
		close(s->sig_fd);
	if (s->setup.preload_fd >= 0)
		close(s->setup.preload_fd);
	host_release(&s->host);
	policy_free(&s->pol);
}

int cmd_serve(int argc, char **argv)
{
	static struct server s;
	struct serve_opts o;
	char err[AIRLOCK_ERR_MAX];
	if (parse_serve_opts(argc, argv, &o) < 0)
		return EXIT_AIRLOCK_ERROR;
	signal(SIGPIPE, SIG_IGN);
	s.host = (struct host_side)HOST_SIDE_INIT;
	s.listen_fd = s.sig_fd = -1;
	s.setup.preload_fd = -1;
	s.path = o.socket;
	for (unsigned i = 0; i < WORKERS_MAX; i++)
		worker_init(&s.workers[i]);
	for (unsigned i = 0; i < WORKERS_MAX + QUEUE_MAX; i++)
		s.clients[i] = (struct client){.fd = -1, .worker = -1};
	int rc = 0;
	if (block_stop_signals(&s, err, sizeof(err)) < 0 ||
	    setup(&s, &o, err, sizeof(err)) < 0 ||
	    (s.listen_fd = serve_listen(o.socket, err, sizeof(err))) < 0) {
		fprintf(stderr, "airlock: serve: %s\n", err);
		rc = EXIT_AIRLOCK_ERROR;
	} else {
		log_line("listening on %s with %u warm workers", o.socket,
			 s.nworkers);
		serve_loop(&s);
		log_line("stopped");
	}
	teardown(&s);
	return rc;
}
