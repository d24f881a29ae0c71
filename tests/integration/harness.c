#include "harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Nested KVM under software emulation is slow; a hang still fails. */
#define RUN_LIMIT_S 300

extern char **environ;

void require_kvm(void)
{
	if (access("/dev/kvm", F_OK) != 0)
		cr_skip_test("/dev/kvm is absent on this machine: cannot boot "
			     "a VM (run the suite through scripts/with-kvm)");
}

const char *job(const char *name)
{
	static char paths[8][512];
	static unsigned next;
	const char *dir = getenv("JOBS");
	char *p = paths[next++ % 8];
	snprintf(p, sizeof(paths[0]), "%s/%s", dir ? dir : "build/jobs", name);
	return p;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct sink {
	char *buf;
	size_t len, cap;
};

static void sink_read(struct sink *s, int *fd)
{
	if (s->cap - s->len < 65536) {
		s->cap = s->cap ? s->cap * 2 : 1 << 20;
		s->buf = realloc(s->buf, s->cap + 1);
		cr_assert_not_null(s->buf);
	}
	ssize_t r = read(*fd, s->buf + s->len, s->cap - s->len);
	if (r > 0) {
		s->len += (size_t)r;
	} else if (r == 0 || errno != EINTR) {
		close(*fd);
		*fd = -1;
	}
}

static pid_t spawn(char *const *argv, int in, int out, int err)
{
	const char *bin = argv[0];
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
	pid_t pid;
	int rc = posix_spawn(&pid, bin, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(rc, 0, "spawn %s: %s", bin, strerror(rc));
	return pid;
}

/* The process being fed and drained, and how long it may take. */
struct child {
	pid_t pid;
	const char *name;
	unsigned limit_s;
};

static void pump(int in, const char *data, size_t len, int out, int err,
		 struct sink *so, struct sink *se, const struct child *c)
{
	size_t off = 0;
	double deadline = now_s() + c->limit_s;
	if (len == 0) {
		close(in);
		in = -1;
	}
	while (out >= 0 || err >= 0) {
		struct pollfd p[3] = {{.fd = out, .events = POLLIN},
				      {.fd = err, .events = POLLIN},
				      {.fd = in, .events = POLLOUT}};
		int left = (int)((deadline - now_s()) * 1000);
		if (left <= 0) {
			kill(c->pid, SIGKILL);
			cr_assert_fail("%s did not finish within %u s", c->name,
				       c->limit_s);
		}
		if (poll(p, 3, left) < 0)
			continue;
		if (p[0].revents)
			sink_read(so, &out);
		if (p[1].revents)
			sink_read(se, &err);
		if (in >= 0 && p[2].revents) {
			ssize_t w = write(in, data + off, len - off);
			if (w > 0)
				off += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) ||
			    off == len) {
				close(in);
				in = -1;
			}
		}
	}
	if (in >= 0)
		close(in);
}

void run_cmd_within(struct outcome *o, const void *in, size_t in_len,
		    const char *const *argv, unsigned limit_s)
{
	int pin[2], pout[2], perr[2];
	cr_assert_eq(pipe2(pin, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(pout, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(perr, O_CLOEXEC), 0);
	double t0 = now_s();
	/* Non-blocking, so that a job that stops reading cannot stall us. */
	cr_assert_eq(fcntl(pin[1], F_SETFL, O_NONBLOCK), 0);
	pid_t pid = spawn((char *const *)argv, pin[0], pout[1], perr[1]);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	signal(SIGPIPE, SIG_IGN);
	struct sink so = {0}, se = {0};
	struct child c = {pid, argv[0], limit_s};
	pump(pin[1], in, in_len, pout[0], perr[0], &so, &se, &c);
	int ws;
	while (waitpid(pid, &ws, 0) < 0)
		cr_assert_eq(errno, EINTR);
	*o = (struct outcome){
		.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws),
		.out = so.buf ? so.buf : calloc(1, 1),
		.err = se.buf ? se.buf : calloc(1, 1),
		.out_len = so.len,
		.err_len = se.len,
		.seconds = now_s() - t0,
	};
	o->out[o->out_len] = 0;
	o->err[o->err_len] = 0;
}

void run_cmd(struct outcome *o, const void *in, size_t in_len,
	     const char *const *argv)
{
	run_cmd_within(o, in, in_len, argv, RUN_LIMIT_S);
}

void run_airlock(struct outcome *o, const void *in, size_t in_len,
		 const char *const *args)
{
	const char *bin = getenv("AIRLOCK");
	size_t n = 0;
	while (args[n])
		n++;
	const char **argv = calloc(n + 2, sizeof(*argv));
	cr_assert_not_null(argv);
	argv[0] = bin ? bin : "build/airlock";
	memcpy(argv + 1, args, n * sizeof(*argv));
	run_cmd(o, in, in_len, argv);
	free(argv);
}

void outcome_free(struct outcome *o)
{
	free(o->out);
	free(o->err);
}

char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	char *buf = calloc(1, 1 << 20);
	cr_assert_not_null(buf);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

void fill_random(void *buf, size_t len, unsigned seed)
{
	unsigned long long x = seed * 0x9e3779b97f4a7c15ull + 1;
	unsigned char *p = buf;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x >> 24);
	}
}
