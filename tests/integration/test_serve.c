/*
 * airlock serve / submit and libairlock: a submit behaves like a run, warm
 * jobs stay isolated, the server survives many, concurrent, garbage and
 * abandoned clients, and stops cleanly. Each test runs its own server on a
 * socket under /tmp.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "airlock/serve.h"
#include "harness.h"

#define MAX_ARGS 32

struct server {
	pid_t pid;
	char path[96], log[128];
};

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* `airlock serve --socket PATH --workers N [EXTRA...]` */
static void server_start_with(struct server *s, const char *workers,
			      const char *const *extra)
{
	const char *bin = getenv("AIRLOCK");
	cr_assert_not_null(bin, "AIRLOCK is not set");
	snprintf(s->path, sizeof(s->path), "/tmp/airlock-test-%d-%ld.sock",
		 getpid(), (long)random());
	snprintf(s->log, sizeof(s->log), "%s.log", s->path);
	s->pid = fork();
	cr_assert_geq(s->pid, 0);
	if (s->pid == 0) {
		int log = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(log, 2);
		const char *argv[MAX_ARGS] = {bin, "serve", "--socket", s->path,
					      "--workers", workers};
		for (int n = 6; extra && *extra && n < MAX_ARGS - 1; n++)
			argv[n] = *extra++;
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 1200; i++) {
		struct stat st;
		if (stat(s->path, &st) == 0) {
			cr_assert_eq(st.st_mode & 0777, 0600,
				     "socket mode %o", st.st_mode & 0777);
			return;
		}
		int ws;
		cr_assert_eq(waitpid(s->pid, &ws, WNOHANG), 0,
			     "airlock serve exited early (see %s)", s->log);
		sleep_ms(50);
	}
	cr_assert_fail("airlock serve did not listen within 60 s");
}

static void server_start(struct server *s, const char *workers)
{
	server_start_with(s, workers, NULL);
}

/* SIGTERM: exits 0 and leaves no socket behind. */
static void server_stop(struct server *s)
{
	int ws;
	kill(s->pid, SIGTERM);
	cr_assert_eq(waitpid(s->pid, &ws, 0), s->pid);
	cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
		  "airlock serve ended with status 0x%x", ws);
	cr_assert_neq(access(s->path, F_OK), 0, "the socket is left behind");
}

static char *server_log(const struct server *s)
{
	static char buf[1 << 16];
	FILE *f = fopen(s->log, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

/* `airlock submit --socket PATH ARGS...` */
static void submit(struct outcome *o, const struct server *s,
		   const char *const *args)
{
	const char *argv[MAX_ARGS];
	int n = 0;
	argv[n++] = "submit";
	argv[n++] = "--socket";
	argv[n++] = s->path;
	for (; *args && n < MAX_ARGS - 1; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	run_airlock(o, NULL, 0, argv);
}

#define SUBMIT(o, s, ...) submit((o), (s), (const char *const[]){__VA_ARGS__, NULL})

static json_t *load_json(const char *path)
{
	json_error_t err;
	json_t *j = json_load_file(path, 0, &err);
	cr_assert_not_null(j, "%s: %s", path, err.text);
	return j;
}

static void same_field(json_t *a, json_t *b, const char *key, const char *what)
{
	json_t *x = json_object_get(a, key), *y = json_object_get(b, key);
	cr_assert(json_equal(x, y), "%s: %s differs between run and submit",
		  what, key);
}

/* One case: run and submit of the same job, compared field by field. */
static void compare(const struct server *s, const char *what,
		    const char *const *job_args)
{
	struct outcome r, u;
	char rj[128], sj[128];
	snprintf(rj, sizeof(rj), "%s.run.json", s->path);
	snprintf(sj, sizeof(sj), "%s.submit.json", s->path);
	const char *argv[MAX_ARGS];
	int n = 0;
	argv[n++] = "run";
	argv[n++] = "--result";
	argv[n++] = rj;
	for (const char *const *a = job_args; *a; a++)
		argv[n++] = *a;
	argv[n] = NULL;
	run_airlock(&r, NULL, 0, argv);
	argv[0] = "--result";
	argv[1] = sj;
	argv[2] = NULL;
	n = 2;
	for (const char *const *a = job_args; *a; a++)
		argv[n++] = *a;
	argv[n] = NULL;
	submit(&u, s, argv);
	cr_assert_eq(u.status, r.status, "%s: run %d, submit %d (%s)", what,
		     r.status, u.status, u.err);
	cr_assert_str_eq(u.out, r.out, "%s: stdout", what);
	cr_assert_str_eq(u.err, r.err, "%s: stderr", what);
	json_t *a = load_json(rj), *b = load_json(sj);
	static const char *const keys[] = {"exit_status", "status", "exit_code",
					   "signal", "signal_name", "reason",
					   "fault_addr", "stdout", "stderr"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		same_field(a, b, keys[i], what);
	json_decref(a);
	json_decref(b);
	outcome_free(&r);
	outcome_free(&u);
}

Test(serve, submit_behaves_like_run, .timeout = 600)
{
	require_kvm();
	struct server s;
	server_start(&s, "2");
	compare(&s, "hello", (const char *const[]){job("hello.musl"), "a b", NULL});
	compare(&s, "exit code", (const char *const[]){job("exitcode.musl"), "42", NULL});
	compare(&s, "fault", (const char *const[]){job("fault.musl"), "segv", NULL});
	compare(&s, "timeout", (const char *const[]){"--timeout", "1", job("spin.musl"), NULL});
	compare(&s, "not found", (const char *const[]){"/nonexistent/prog", NULL});
	compare(&s, "not an ELF", (const char *const[]){"Makefile", NULL});
	compare(&s, "dynamic", (const char *const[]){job("hello.dyn"), NULL});
	server_stop(&s);
}

Test(serve, jobs_do_not_see_each_other, .timeout = 600)
{
	require_kvm();
	struct server s;
	server_start(&s, "1");
	char seen[8][17];
	for (int i = 0; i < 4; i++) {
		struct outcome p, k;
		SUBMIT(&p, &s, job("secret.musl"), "plant");
		cr_assert_eq(p.status, 0, "%s", p.err);
		cr_assert(strstr(p.out, "planted"), "%s", p.out);
		SUBMIT(&k, &s, job("secret.musl"), "seek");
		cr_assert_eq(k.status, 0, "%s", k.err);
		cr_assert(strstr(k.out, "clean") && !strstr(k.out, "found"),
			  "job %d found the secret: %s", i, k.out);
		const char *r = strstr(k.out, "random ");
		cr_assert(r && sscanf(r, "random %16s", seen[i]) == 1);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(seen[i], seen[j], "randomness repeats");
		outcome_free(&p);
		outcome_free(&k);
	}
	server_stop(&s);
}

static int count_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	cr_assert_not_null(d);
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* The server closes a finished client's connection just after the client
 * has its answer: count once two readings 50 ms apart agree. */
static int settled_fds(pid_t pid)
{
	int n = count_fds(pid);
	for (int tries = 0; tries < 40; tries++) {
		usleep(50000);
		int m = count_fds(pid);
		if (m == n)
			break;
		n = m;
	}
	return n;
}

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* SERVE_SOAK_JOBS (make soak) raises the count. */
Test(serve, many_sequential_jobs_keep_the_server_steady, .timeout = 3000)
{
	require_kvm();
	const char *soak = getenv("SERVE_SOAK_JOBS");
	int total = soak ? atoi(soak) : 200;
	struct server s;
	server_start(&s, "2");
	int fds = 0;
	long rss = 0;
	for (int i = 0; i < total; i++) {
		char code[8];
		snprintf(code, sizeof(code), "%d", i % 256);
		struct outcome o;
		SUBMIT(&o, &s, job("exitcode.musl"), code);
		cr_assert_eq(o.status, i % 256, "job %d: %s", i, o.err);
		outcome_free(&o);
		if (i == 19) {
			fds = settled_fds(s.pid);
			rss = rss_kib(s.pid);
		}
	}
	int now = settled_fds(s.pid);
	cr_assert_eq(now, fds, "server descriptors grew: %d after job 20, %d after job %d", fds, now, total);
	long grown = rss_kib(s.pid) - rss;
	cr_assert_lt(grown, 2048, "server RSS grew by %ld KiB", grown);
	server_stop(&s);
}

Test(serve, eight_concurrent_clients, .timeout = 900)
{
	require_kvm();
	struct server s;
	server_start(&s, "2");
	pid_t kids[8];
	for (int k = 0; k < 8; k++) {
		kids[k] = fork();
		cr_assert_geq(kids[k], 0);
		if (kids[k] > 0)
			continue;
		for (int i = 0; i < 5; i++) {
			char code[8];
			snprintf(code, sizeof(code), "%d", k * 10 + i);
			struct outcome o;
			SUBMIT(&o, &s, job("exitcode.musl"), code);
			if (o.status != k * 10 + i)
				_exit(1);
			outcome_free(&o);
		}
		_exit(0);
	}
	for (int k = 0; k < 8; k++) {
		int ws;
		cr_assert_eq(waitpid(kids[k], &ws, 0), kids[k]);
		cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
			  "client %d got a wrong exit status", k);
	}
	server_stop(&s);
}

static int connect_raw(const struct server *s)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0,
		     "connect: %s; server log:\n%s", strerror(errno),
		     server_log(s));
	return fd;
}

/* Sends msg (with the four descriptors if fds) and returns the reply. */
static struct al_serve_reply exchange(const struct server *s, const void *msg,
				      size_t len, bool fds)
{
	int fd = connect_raw(s);
	int four[4] = {0, 1, 2, 0};
	union {
		char buf[CMSG_SPACE(sizeof(four))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fds) {
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(four));
		memcpy(CMSG_DATA(c), four, sizeof(four));
	}
	cr_assert_eq(sendmsg(fd, &mh, 0), (ssize_t)len);
	struct al_serve_reply rep;
	memset(&rep, 0, sizeof(rep));
	cr_assert_eq(recv(fd, &rep, sizeof(rep), 0), (ssize_t)sizeof(rep));
	close(fd);
	return rep;
}

Test(serve, garbage_and_abandoned_clients_do_not_disturb_others,
     .timeout = 600)
{
	require_kvm();
	struct server s;
	server_start(&s, "1");
	/* Bytes that are no request. */
	struct al_serve_reply r = exchange(&s, "GET / HTTP/1.0\r\n\r\n", 18, false);
	cr_assert_eq(r.result.exit_status, 125);
	cr_assert(strstr(r.result.reason, "bad request"), "%s", r.result.reason);
	/* A request from a future version. */
	struct al_serve_request h = {.magic = AL_SERVE_MAGIC,
				     .version = 99,
				     .length = sizeof(h) + 2,
				     .argc = 1};
	char msg[sizeof(h) + 2];
	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), "x", 2);
	r = exchange(&s, msg, sizeof(msg), true);
	cr_assert(strstr(r.result.reason, "version 99 is not supported"), "%s",
		  r.result.reason);
	/* Counts that lie about the strings. */
	h.version = AL_SERVE_VERSION;
	h.argc = 5;
	memcpy(msg, &h, sizeof(h));
	r = exchange(&s, msg, sizeof(msg), true);
	cr_assert(strstr(r.result.reason, "NUL-terminated"), "%s",
		  r.result.reason);
	/* A client that connects and leaves without a word. */
	close(connect_raw(&s));
	/* One that leaves mid-job: its worker is replaced. */
	pid_t quitter = fork();
	if (quitter == 0) {
		const char *bin = getenv("AIRLOCK");
		int null = open("/dev/null", O_RDWR);
		dup2(null, 1);
		dup2(null, 2);
		execl(bin, bin, "submit", "--socket", s.path, job("spin.musl"),
		      (char *)NULL);
		_exit(127);
	}
	/* Once the server has taken it on, its job runs: then it goes. */
	char accepted[64];
	snprintf(accepted, sizeof(accepted), "client pid %d ", (int)quitter);
	for (int i = 0; i < 600 && !strstr(server_log(&s), accepted); i++)
		sleep_ms(100);
	cr_assert(strstr(server_log(&s), accepted), "%s", server_log(&s));
	sleep_ms(1000);
	kill(quitter, SIGKILL);
	waitpid(quitter, NULL, 0);
	struct outcome o;
	SUBMIT(&o, &s, job("hello.musl"), "after");
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_assert_str_eq(o.out, "hello, after\n");
	outcome_free(&o);
	cr_assert(strstr(server_log(&s), "hung up mid-job"), "%s",
		  server_log(&s));
	server_stop(&s);
}

Test(serve, full_queue_is_refused_and_wider_limits_too, .timeout = 600)
{
	require_kvm();
	struct server s;
	server_start(&s, "1");
	/* Connections that say nothing fill every slot (1 + 32 queued); the
	 * next is refused at once, before it says anything. */
	int idle[33];
	for (int i = 0; i < 33; i++)
		idle[i] = connect_raw(&s);
	int late = connect_raw(&s);
	struct al_serve_reply r;
	cr_assert_eq(recv(late, &r, sizeof(r), 0), (ssize_t)sizeof(r));
	cr_assert_eq(r.result.exit_status, 125);
	cr_assert(strstr(r.result.reason, "server busy"), "%s", r.result.reason);
	close(late);
	for (int i = 0; i < 33; i++)
		close(idle[i]);
	sleep_ms(300);
	struct outcome o;
	SUBMIT(&o, &s, "--timeout", "100000", job("hello.musl"));
	cr_assert_eq(o.status, 125);
	cr_assert(strstr(o.err, "longer than the server's policy"), "%s",
		  o.err);
	outcome_free(&o);
	SUBMIT(&o, &s, job("hello.musl"));
	cr_assert_eq(o.status, 0, "%s", o.err);
	outcome_free(&o);
	server_stop(&s);
}

/* The server's direct children (its workers). */
static int children_of(pid_t parent, pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)) && n < max) {
		char path[300], buf[512];
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = '\0';
		char *p = strrchr(buf, ')');
		int ppid;
		if (p && sscanf(p + 2, "%*c %d", &ppid) == 1 && ppid == parent)
			out[n++] = atoi(e->d_name);
	}
	if (d)
		closedir(d);
	return n;
}

Test(serve, sigterm_leaves_nothing_behind, .timeout = 600)
{
	require_kvm();
	struct server s;
	server_start(&s, "3");
	pid_t workers[8];
	int n = children_of(s.pid, workers, 8);
	cr_assert_eq(n, 3, "expected 3 worker processes, found %d", n);
	server_stop(&s);
	for (int i = 0; i < n; i++)
		cr_assert(kill(workers[i], 0) < 0, "worker %d is left", workers[i]);
	/* A path that is not a socket is never taken over. */
	struct outcome o;
	AIRLOCK(&o, "serve", "--socket", "Makefile");
	cr_assert_eq(o.status, 125);
	cr_assert(strstr(o.err, "not a socket"), "%s", o.err);
	outcome_free(&o);
}

Test(serve, library_example_runs_jobs_on_a_warm_vm, .timeout = 600)
{
	require_kvm();
	const char *bin = getenv("LIBEXAMPLE");
	cr_assert_not_null(bin, "LIBEXAMPLE is not set");
	struct outcome o;
	run_cmd(&o, NULL, 0,
		(const char *const[]){bin, job("hello.musl"), "library", NULL});
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_assert_str_eq(o.out, "hello, library\n");
	for (int k = 0; k < 3; k++) {
		char want[64];
		snprintf(want, sizeof(want), "run %d exit_status 0 stdout 15 bytes",
			 k);
		cr_assert(strstr(o.err, want), "%s", o.err);
	}
	outcome_free(&o);
}

/* --preload: the program's start-up runs once, at boot; each request
 * resumes it at its point with the request's own input, randomness and a
 * fresh copy of its memory, and no other program is served. */
Test(serve, preload_resumes_each_job_at_the_point, .timeout = 300)
{
	require_kvm();
	const char *prog = job("preload.musl");
	struct server s;
	server_start_with(&s, "1",
			  (const char *const[]){"--preload", "--", prog, NULL});
	char seen[3][64];
	for (int i = 0; i < 3; i++) {
		char in[32], want[96];
		snprintf(in, sizeof(in), "request %d\n", i);
		struct outcome o;
		const char *argv[] = {"submit", "--socket", s.path, "--",
				      prog, NULL};
		run_airlock(&o, in, strlen(in), argv);
		cr_assert_eq(o.status, 7, "job %d: status %d: %s", i, o.status,
			     o.err);
		snprintf(want, sizeof(want),
			 "started 1 time, served 1, table 1612, got request "
			 "%d\n",
			 i);
		cr_assert(strncmp(o.out, want, strlen(want)) == 0,
			  "job %d printed: %s", i, o.out);
		snprintf(seen[i], sizeof(seen[i]), "%s", o.out + strlen(want));
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(seen[i], seen[j], "randomness repeats");
		outcome_free(&o);
	}
	struct outcome o;
	SUBMIT(&o, &s, job("hello.musl"));
	cr_expect_eq(o.status, 125, "another program: status %d", o.status);
	cr_expect(strstr(o.err, "--preload") != NULL, "stderr: %s", o.err);
	outcome_free(&o);
	/* Arguments and environment were the server's, before the point. */
	SUBMIT(&o, &s, prog, "an-argument");
	cr_expect_eq(o.status, 125, "its own arguments: status %d", o.status);
	cr_expect(strstr(o.err, "a request can set neither"), "stderr: %s",
		  o.err);
	outcome_free(&o);
	SUBMIT(&o, &s, "--env", "X=1", "--", prog);
	cr_expect_eq(o.status, 125, "its own environment: status %d",
		     o.status);
	cr_expect(strstr(o.err, "a request can set neither"), "stderr: %s",
		  o.err);
	outcome_free(&o);
	cr_expect(strstr(server_log(&s), "warming done") != NULL,
		  "output before the point goes to the server's log");
	server_stop(&s);
}
