/*
 * `airlock fuzz`: a fuzz target in a micro-VM, reset by snapshot after every
 * input. Started by afl-fuzz it is AFL++'s forkserver: it says hello on
 * descriptor 199, then for each run request on 198 takes the test case
 * (AFL's shared memory, the @@ file, or standard input), runs it in the
 * jailed child, copies the coverage into AFL's map and answers with a
 * "pid" and a wait status. With --replay DIR it runs saved inputs and
 * prints a verdict for each. Otherwise (afl-showmap, or by hand) it runs
 * one input and ends as the target did.
 *
 * The pid AFL is given belongs to a stand-in process: when AFL's own
 * timeout fires it kills that, and we end the input (SIGALRM to the VMM,
 * which resets the VM) instead of losing the warm VM.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runner/fuzz.h"
#include "runner/host.h"
#include "runner/runner.h"
#include "runner/supervise.h"
#include "runner/worker.h"

/* AFL++'s forkserver (include/config.h and types.h of AFL++ 4.x). */
#define AFL_CTL_FD 198
#define AFL_ST_FD 199
#define FS_OPT_ENABLED 0x80000001u
#define FS_OPT_MAPSIZE 0x40000000u
#define FS_OPT_SHDMEM_FUZZ 0x01000000u
#define FS_OPT_SET_MAPSIZE(x) (((x) - 1) << 1)
/* afl-fuzz looks for these in the target binary (here: airlock). */
const char afl_signatures[] = "##SIG_AFL_SHMEM_FUZZ## __AFL_SHM_ID";

#define DEFAULT_INPUT_MS 1000u
#define AFL_TIMEOUT_WAIT_MS 120000u
#define AFL_MIN_TIMEOUT_MS 5u /* afl-fuzz refuses a lower -t */
#define STATS_EVERY 1000u

struct fuzz_opts {
	const char *policy_path, *memory, *timeout, *replay, *stats;
	bool verbose;
	char **argv;
};

/* The latest TIMING_WINDOW samples of one phase: a campaign runs for
 * days, and its medians need no more than these. */
#define TIMING_WINDOW 65536u

struct timing {
	uint64_t *v; /* TIMING_WINDOW slots, from the first sample */
	uint64_t n;  /* samples ever taken */
};

struct fuzzer {
	struct jail j;
	int ctl;
	uint8_t *shm;
	uint64_t map_len, input_ms, inputs;
	const char *input_path; /* host file of AFL's @@, or NULL */
	const char *prog;
	const char *stats_path;
	pid_t standin;
	int standin_fd;      /* pidfd, -1 outside AFL */
	uint64_t verdict_ms; /* the last input's, from stand-in to verdict */
	bool at_point;       /* the last reply's word: the job is at its point */
	int die_by;     /* one input outside AFL: the signal that ended it */
	struct timing run, revert, vcpu, cov;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: airlock fuzz [--policy FILE] [--memory MIB] "
		   "[--timeout SEC] [--replay DIR]\n"
		   "                    [--stats FILE] [--verbose] [--] "
		   "PROGRAM [ARG...]\n");
}

static int parse_opts(int argc, char **argv, struct fuzz_opts *o)
{
	static const struct option longopts[] = {
	    {"policy", required_argument, NULL, 'p'},
	    {"memory", required_argument, NULL, 'm'},
	    {"timeout", required_argument, NULL, 't'},
	    {"replay", required_argument, NULL, 'r'},
	    {"stats", required_argument, NULL, 's'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	*o = (struct fuzz_opts){0};
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+p:m:t:r:s:vh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'p': o->policy_path = optarg; break;
		case 'm': o->memory = optarg; break;
		case 't': o->timeout = optarg; break;
		case 'r': o->replay = optarg; break;
		case 's': o->stats = optarg; break;
		case 'v': o->verbose = true; break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "airlock: fuzz: unknown or incomplete "
					"option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return EXIT_AIRLOCK_ERROR;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "airlock: fuzz: no PROGRAM given\n");
		return EXIT_AIRLOCK_ERROR;
	}
	o->argv = argv + optind;
	return 0;
}

/* The policy and the per-input limit: --timeout, at most the policy's. */
static int fuzz_policy(const struct fuzz_opts *o, struct policy *p,
		       uint64_t *input_ms, char *err, size_t errlen)
{
	uint64_t v;
	if (!o->policy_path)
		policy_default(p);
	else if (policy_load(o->policy_path, p, err, errlen) < 0)
		return -1;
	if (p->nvsock_connect) {
		snprintf(err, errlen, "%s: vsock.connect is not offered in "
				      "fuzzing mode",
			 o->policy_path);
		return -1;
	}
	/* A revert empties the overlay: what was written before the point
	 * would be lost after the first input. */
	for (size_t i = 0; i < p->ndrives; i++)
		if (p->drives[i].writable) {
			snprintf(err, errlen, "%s: drives[%zu].writable: "
					      "fuzzing mode offers read-only "
					      "drives only",
				 o->policy_path, i);
			return -1;
		}
	if (o->memory && !parse_uint(o->memory, &v)) {
		snprintf(err, errlen, "--memory: expected MiB, got '%s'",
			 o->memory);
		return -1;
	}
	if (o->memory &&
	    (o->policy_path ? policy_tighten_memory(p, v, err, errlen)
			    : policy_set_limit(p, POLICY_LIMIT_MEMORY_MIB, v,
					       err, errlen)) < 0)
		return -1;
	*input_ms = DEFAULT_INPUT_MS;
	if (o->timeout && !parse_seconds_ms(o->timeout, input_ms)) {
		snprintf(err, errlen,
			 "--timeout: expected seconds greater than 0, got '%s'",
			 o->timeout);
		return -1;
	}
	if (*input_ms > p->limits.timeout_ms)
		*input_ms = p->limits.timeout_ms;
	return 0;
}

/* What AFL++ 4.x tools put in place of `@@`: afl-fuzz (and afl-cmin),
 * afl-tmin, afl-showmap, afl-analyze. */
static bool afl_input_name(const char *arg)
{
	static const char *const prefixes[] = {
	    ".cur_input", ".afl-tmin-temp-", ".afl-showmap-temp-",
	    ".afl-analyze-temp-"};
	const char *base = strrchr(arg, '/');
	base = base ? base + 1 : arg;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++)
		if (strncmp(base, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* `@@`, or an AFL tool's own name for it, becomes the guest's input
 * file. */
static const char *input_argument(char **argv)
{
	const char *host = NULL;
	for (size_t i = 1; argv[i]; i++) {
		bool literal = strcmp(argv[i], "@@") == 0;
		if (!literal && !afl_input_name(argv[i]))
			continue;
		if (!literal)
			host = argv[i];
		argv[i] = (char *)AL_FUZZ_INPUT_PATH;
	}
	return host;
}

/* ---- the child ---- */

static int spawn_child(struct fuzzer *f, const struct vmm_config *cfg,
		       const struct jail_config *limits, int shm_fd,
		       int null_fd, char *err, size_t errlen)
{
	const int fixed[FUZZ_NFDS - 1] = {cfg->kvm_fd, cfg->stderr_fd,
					  cfg->job_fd, shm_fd,
					  null_fd,     cfg->stdout_fd};
	enum jail_side side = worker_spawn(limits, fixed, FUZZ_NFDS - 1, cfg,
					   -1, &f->j, &f->ctl, err, errlen);
	if (side == JAIL_CHILD || side == JAIL_CHILD_FAILED)
		fuzz_child(cfg, side, err);
	return side == JAIL_ERROR ? -1 : 0;
}

/* The child closed its end (why NULL), or its report could not be taken
 * (why says so) and it is killed, never waited for alive: res says how it
 * ended. */
static void child_ended(struct fuzzer *f, const char *why,
			struct vmm_result *res)
{
	int ws = 0;
	if (why)
		kill(f->j.pid, SIGKILL);
	supervise_reap(f->j.pid, &ws);
	f->j.pid = -1;
	supervise_death_report(ws, false, false, res);
	if (why)
		snprintf(res->message, sizeof(res->message),
			 "the VMM's report: %s", why);
}

/* One reply within ms, or the child is gone: res says so. */
static int take_reply(struct fuzzer *f, uint64_t ms, struct vmm_result *res)
{
	struct pollfd p[2] = {{.fd = f->ctl, .events = POLLIN},
			      {.fd = f->standin_fd, .events = POLLIN}};
	uint64_t end = worker_now_ms() + ms;
	for (;;) {
		uint64_t now = worker_now_ms();
		int n = poll(p, f->standin_fd >= 0 ? 2 : 1,
			     now >= end ? 0 : (int)(end - now));
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0 && (p[1].revents & POLLIN)) {
			/* AFL's timeout: the VMM ends the input itself. */
			kill(f->j.pid, SIGALRM);
			p[1].fd = -1;
		}
		if (n > 0 && (p[0].revents & (POLLIN | POLLHUP)))
			break;
		if (n == 0 && worker_now_ms() >= end) {
			memset(res, 0, sizeof(*res));
			res->outcome = VMM_ERROR;
			snprintf(res->message, sizeof(res->message),
				 "the VMM did not answer in time");
			return -1;
		}
	}
	struct fuzz_reply r;
	ssize_t got = recv(f->ctl, &r, sizeof(r), 0);
	if (got != (ssize_t)sizeof(r)) {
		const char *why = got < 0 ? strerror(errno) : "malformed";
		child_ended(f, got == 0 ? NULL : why, res);
		return -1;
	}
	supervise_decode(&r.res, sizeof(r.res), res);
	f->at_point = r.at_point == 1;
	f->map_len = r.map_len < AL_COV_MAP_MAX ? r.map_len : AL_COV_MAP_MAX;
	return 0;
}

static void timing_add(struct timing *t, uint64_t us)
{
	if (!t->v && !(t->v = malloc(TIMING_WINDOW * sizeof(*t->v))))
		return;
	t->v[t->n++ % TIMING_WINDOW] = us;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Of the window; scratch holds TIMING_WINDOW samples. */
static uint64_t median(const struct timing *t, uint64_t *scratch)
{
	size_t n = t->n < TIMING_WINDOW ? t->n : TIMING_WINDOW;
	if (!n)
		return 0;
	memcpy(scratch, t->v, n * sizeof(*scratch));
	qsort(scratch, n, sizeof(*scratch), cmp_u64);
	return scratch[n / 2];
}

static void write_stats(struct fuzzer *f)
{
	uint64_t *scratch = malloc(TIMING_WINDOW * sizeof(*scratch));
	FILE *out = f->stats_path ? fopen(f->stats_path, "w") : stderr;
	if (scratch && out)
		fprintf(out,
			"airlock: fuzz stats: %llu inputs; medians of the "
			"last %u: run %llu us, revert %llu us (vCPU %llu us), "
			"coverage copy %llu us; map %llu bytes\n",
			(unsigned long long)f->inputs, TIMING_WINDOW,
			(unsigned long long)median(&f->run, scratch),
			(unsigned long long)median(&f->revert, scratch),
			(unsigned long long)median(&f->vcpu, scratch),
			(unsigned long long)median(&f->cov, scratch),
			(unsigned long long)f->map_len);
	if (out && out != stderr)
		fclose(out);
	free(scratch);
}

/* Runs the input already at FUZZ_SHM_INPUT. -1: the VM is lost. */
static int run_input(struct fuzzer *f, uint64_t len, struct vmm_result *res)
{
	struct fuzz_request q = {.len = len, .timeout_ms = f->input_ms};
	if (send(f->ctl, &q, sizeof(q), MSG_NOSIGNAL) != (ssize_t)sizeof(q)) {
		memset(res, 0, sizeof(*res));
		res->outcome = VMM_ERROR;
		snprintf(res->message, sizeof(res->message),
			 "the VMM is gone");
		return -1;
	}
	if (take_reply(f, f->input_ms + WORKER_GRACE_MS, res) < 0)
		return -1;
	if (res->revert_error[0])
		return -1;
	/* A reply carries the revert after the input before it. */
	if (f->inputs++) {
		timing_add(&f->revert, res->revert.us);
		timing_add(&f->vcpu, res->revert.vcpu_us);
	}
	timing_add(&f->run, res->run_us);
	timing_add(&f->cov, res->cov_us);
	if (f->stats_path && f->inputs % STATS_EVERY == 0)
		write_stats(f);
	return 0;
}

/* The input has no verdict: its VM was lost. */
static int vm_lost(const struct vmm_result *res)
{
	fprintf(stderr, "airlock: fuzz: %s\n",
		res->revert_error[0] ? res->revert_error : res->message);
	return EXIT_AIRLOCK_ERROR;
}

/* ---- input ---- */

/* Up to AL_FUZZ_INPUT_MAX bytes of fd into the shared memory; their
 * count, or -1. A file is read from offset 0 (AFL rewrites it in place for
 * every input), a pipe as it comes. */
static ssize_t load_fd(struct fuzzer *f, int fd)
{
	size_t have = 0;
	bool seekable = true;
	while (have < AL_FUZZ_INPUT_MAX) {
		uint8_t *to = f->shm + FUZZ_SHM_INPUT + have;
		size_t room = AL_FUZZ_INPUT_MAX - have;
		ssize_t n = seekable ? pread(fd, to, room, (off_t)have)
				     : read(fd, to, room);
		if (n < 0 && errno == ESPIPE && seekable) {
			seekable = false;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		have += (size_t)n;
	}
	return (ssize_t)have;
}

static ssize_t load_path(struct fuzzer *f, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = load_fd(f, fd);
	close(fd);
	return n;
}

/* ---- replay ---- */

static void print_verdict(const char *name, const struct vmm_result *r)
{
	const char *sig = signal_name(r->value);
	switch (r->outcome) {
	case VMM_EXITED:
		printf("%s: exit %d\n", name, r->value);
		break;
	case VMM_SIGNALED:
		printf("%s: signal %d (%s)\n", name, r->value,
		       sig ? sig : "unnamed");
		break;
	case VMM_TIMED_OUT:
		printf("%s: timeout\n", name);
		break;
	default:
		printf("%s: error: %s\n", name, r->message);
		break;
	}
	fflush(stdout);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int replay(struct fuzzer *f, const char *dir)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, by_name);
	if (n < 0) {
		fprintf(stderr, "airlock: fuzz: --replay %s: %s\n", dir,
			strerror(errno));
		return EXIT_AIRLOCK_ERROR;
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
		if (rc || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		struct vmm_result res;
		ssize_t len = load_path(f, path);
		if (len < 0) {
			fprintf(stderr, "airlock: fuzz: %s: %s\n", path,
				strerror(errno));
			rc = EXIT_AIRLOCK_ERROR;
			continue;
		}
		if (st.st_size > (off_t)AL_FUZZ_INPUT_MAX)
			fprintf(stderr,
				"airlock: fuzz: %s: %lld bytes; the target "
				"gets the first %u (AFL's largest input)\n",
				path, (long long)st.st_size,
				AL_FUZZ_INPUT_MAX);
		if (run_input(f, (uint64_t)len, &res) < 0)
			rc = vm_lost(&res);
		print_verdict(list[i]->d_name, &res);
	}
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return rc;
}

/* ---- AFL++ ---- */

static bool under_afl(void)
{
	return fcntl(AFL_CTL_FD, F_GETFD) >= 0 && fcntl(AFL_ST_FD, F_GETFD) >= 0;
}

/* AFL's segment named by the variable, and its size. */
static void *afl_shm(const char *var, size_t *size)
{
	const char *id = getenv(var);
	struct shmid_ds ds;
	if (!id || shmctl(atoi(id), IPC_STAT, &ds) < 0)
		return NULL;
	void *p = shmat(atoi(id), NULL, 0);
	*size = ds.shm_segsz;
	return p == (void *)-1 ? NULL : p;
}

/* The input's edges into AFL's map, as far as the map goes. Byte 0 is
 * AFL++'s sign of an instrumented target, which afl-showmap (and so
 * afl-cmin) insists on; our runtime never gives an edge that slot. */
static void afl_map_out(const struct fuzzer *f, uint8_t *map, size_t size)
{
	if (!map || !f->map_len || !size)
		return;
	memcpy(map, f->shm + FUZZ_SHM_MAP,
	       f->map_len < size ? f->map_len : size);
	map[0] = 1;
}

/* The pid AFL may kill on its timeout. */
static int standin_start(struct fuzzer *f)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	f->standin = pid;
	f->standin_fd = (int)syscall(SYS_pidfd_open, pid, 0);
	return f->standin_fd < 0 ? -1 : 0;
}

/* Whether pid has a SIGKILL on its way, by its /proc status. */
static bool kill_pending(pid_t pid)
{
	char path[64], line[128];
	unsigned long long mask;
	bool pending = false;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	while (!pending && fgets(line, sizeof(line), f))
		pending = (sscanf(line, "SigPnd: %llx", &mask) == 1 ||
			   sscanf(line, "ShdPnd: %llx", &mask) == 1) &&
			  (mask & (1ull << (SIGKILL - 1)));
	fclose(f);
	return pending;
}

/* After AFL killed the stand-in: reap it and make another. AFL kills it
 * before it reads the verdict, so an input that ended just as AFL's timer
 * fired leaves a stand-in that may still be dying at the next request;
 * handed out again, its death would end that input at once. No -t is
 * under AFL_MIN_TIMEOUT_MS: a quicker input needs no look in /proc. */
static int standin_renew(struct fuzzer *f)
{
	if (waitpid(f->standin, NULL, WNOHANG) != f->standin) {
		if (f->verdict_ms + 1 < AFL_MIN_TIMEOUT_MS ||
		    !kill_pending(f->standin))
			return 0;
		waitpid(f->standin, NULL, 0);
	}
	close(f->standin_fd);
	return standin_start(f);
}

/* AFL files an input as a hang only when its own timer fired: after ours,
 * answer once it has killed the stand-in (or given up waiting). */
static void await_afl_timeout(struct fuzzer *f)
{
	struct pollfd p = {.fd = f->standin_fd, .events = POLLIN};
	uint64_t end = worker_now_ms() + AFL_TIMEOUT_WAIT_MS;
	for (uint64_t now; (now = worker_now_ms()) < end;) {
		int n = poll(&p, 1, (int)(end - now));
		if (n > 0 || (n < 0 && errno != EINTR))
			break;
	}
}

static bool put32(uint32_t v)
{
	return write(AFL_ST_FD, &v, 4) == 4;
}

static bool get32(uint32_t *v)
{
	return read(AFL_CTL_FD, v, 4) == 4;
}

/* The wait status AFL reads: a guest kernel panic counts as a crash. */
static uint32_t afl_status(const struct vmm_result *r)
{
	switch (r->outcome) {
	case VMM_EXITED:
		return (uint32_t)(r->value & 0xff) << 8;
	case VMM_SIGNALED:
		return (uint32_t)r->value & 0x7f;
	case VMM_TIMED_OUT:
		return SIGKILL;
	default:
		return SIGABRT;
	}
}

/* AFL's test case: in its shared memory (tc_size bytes, a length first),
 * else the @@ file or standard input. */
static ssize_t afl_input(struct fuzzer *f, const uint8_t *tc, size_t tc_size)
{
	if (tc && tc_size >= 4) {
		uint32_t len;
		memcpy(&len, tc, 4);
		if (len > AL_FUZZ_INPUT_MAX)
			len = AL_FUZZ_INPUT_MAX;
		if (len > tc_size - 4)
			len = (uint32_t)(tc_size - 4);
		memcpy(f->shm + FUZZ_SHM_INPUT, tc + 4, len);
		return len;
	}
	return f->input_path ? load_path(f, f->input_path)
			     : load_fd(f, STDIN_FILENO);
}

static int afl_handshake(struct fuzzer *f, const uint8_t *tc)
{
	uint32_t hello = FS_OPT_ENABLED;
	if (f->map_len > 1)
		hello |= FS_OPT_MAPSIZE | FS_OPT_SET_MAPSIZE((uint32_t)f->map_len);
	if (tc)
		hello |= FS_OPT_SHDMEM_FUZZ;
	uint32_t ack;
	if (!put32(hello) || (tc && !get32(&ack)))
		return -1;
	return 0;
}

static int afl_loop(struct fuzzer *f)
{
	size_t map_size = 0, tc_size = 0;
	uint8_t *map = afl_shm("__AFL_SHM_ID", &map_size);
	const uint8_t *tc = afl_shm("__AFL_SHM_FUZZ_ID", &tc_size);
	if (!f->map_len)
		fprintf(stderr, "airlock: fuzz: %s registered no coverage map: "
				"build it with -fsanitize-coverage=trace-pc-guard "
				"and link libairlock-cov.a\n",
			f->prog);
	if (standin_start(f) < 0 || afl_handshake(f, tc) < 0) {
		fprintf(stderr, "airlock: fuzz: forkserver hand-shake with "
				"afl-fuzz failed: %s\n",
			strerror(errno));
		return EXIT_AIRLOCK_ERROR;
	}
	uint32_t req;
	while (get32(&req)) {
		struct vmm_result res;
		ssize_t len = afl_input(f, tc, tc_size);
		if (len < 0 || standin_renew(f) < 0 || !put32((uint32_t)f->standin))
			return EXIT_AIRLOCK_ERROR;
		uint64_t t0 = worker_now_ms();
		/* AFL must not file an input without a verdict as a
		 * crash. */
		if (run_input(f, (uint64_t)len, &res) < 0)
			return vm_lost(&res);
		if (res.outcome == VMM_TIMED_OUT)
			await_afl_timeout(f);
		afl_map_out(f, map, map_size);
		if (!put32(afl_status(&res)))
			return EXIT_AIRLOCK_ERROR;
		f->verdict_ms = worker_now_ms() - t0;
	}
	return 0;
}

/* Outside a forkserver (afl-showmap, afl-cmin's first check, or by hand):
 * one input from the @@ file or standard input, its edges into AFL's map
 * when there is one, and the target's verdict becomes ours: its exit code,
 * its signal (f->die_by, raised once everything is cleaned up), or 124 for
 * a timeout. A guest kernel panic is a crash, as under afl-fuzz. */
static int one_input(struct fuzzer *f)
{
	struct vmm_result res;
	ssize_t len = f->input_path ? load_path(f, f->input_path)
				    : load_fd(f, STDIN_FILENO);
	if (len < 0) {
		fprintf(stderr, "airlock: fuzz: %s: %s\n",
			f->input_path ? f->input_path : "standard input",
			strerror(errno));
		return EXIT_AIRLOCK_ERROR;
	}
	if (run_input(f, (uint64_t)len, &res) < 0)
		return vm_lost(&res);
	size_t map_size = 0;
	uint8_t *map = afl_shm("__AFL_SHM_ID", &map_size);
	afl_map_out(f, map, map_size);
	switch (res.outcome) {
	case VMM_EXITED:
		return res.value;
	case VMM_TIMED_OUT:
		fprintf(stderr, "airlock: fuzz: the input ran past its limit "
				"of %llu ms\n",
			(unsigned long long)f->input_ms);
		return EXIT_TIMEOUT;
	case VMM_SIGNALED:
		f->die_by = res.value;
		break;
	default:
		fprintf(stderr, "airlock: fuzz: %s\n", res.message);
		f->die_by = SIGABRT;
		break;
	}
	return 128 + f->die_by;
}

/* Ends this process by sig, as the target ended, for a parent that reads
 * the wait status (AFL's tools do); no core file is left behind. */
static void die_by_signal(int sig)
{
	struct rlimit no_core = {0, 0};
	sigset_t set;
	setrlimit(RLIMIT_CORE, &no_core);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

/* ---- the command ---- */

static int open_shm(uint8_t **shm)
{
	int fd = memfd_create("airlock-fuzz", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, FUZZ_SHM_SIZE) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*shm = mmap(NULL, FUZZ_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, 0);
	if (*shm == MAP_FAILED) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The job ended before its point: how, and what a fuzz target does. */
static void report_early_end(struct run_report *rep, const char *prog,
			     const struct vmm_result *res)
{
	char how[64];
	bool sigsys = res->outcome == VMM_SIGNALED && res->value == SIGSYS;
	if (res->outcome == VMM_EXITED)
		snprintf(how, sizeof(how), "it exited with %d", res->value);
	else
		killed_by(res->value, how, sizeof(how));
	report_set(rep, EXIT_AIRLOCK_ERROR, "error",
		   "%s ended before its snapshot point (%s): a fuzz target "
		   "reads standard input or the @@ file, or calls "
		   "airlock_fuzz_point()%s",
		   prog, how,
		   sigsys ? "; SIGSYS is a syscall its policy refuses "
			    "(--verbose names it)"
			  : "");
}

/* Boots the child and waits for the job to reach its point. */
static int start(struct fuzzer *f, const struct policy *p,
		 struct vmm_config *cfg, struct run_report *rep)
{
	char err[512];
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	int shm_fd = open_shm(&f->shm);
	if (null_fd < 0 || shm_fd < 0) {
		report_set(rep, EXIT_AIRLOCK_ERROR, "error",
			   "fuzz: /dev/null or the input memory: %s",
			   strerror(errno));
		goto out;
	}
	struct jail_config limits = jail_limits_of(p, cfg->verbose);
	/* The VMM lives for the whole campaign, so limits.cpu_s would end
	 * it after so many inputs; each input has its own time limit. */
	limits.cpu_seconds = 0;
	if (spawn_child(f, cfg, &limits, shm_fd, null_fd, err, sizeof(err)) <
	    0) {
		report_set(rep, EXIT_AIRLOCK_ERROR, "error", "%s", err);
		goto out;
	}
	static struct vmm_result res;
	if (take_reply(f, cfg->timeout_ms + WORKER_GRACE_MS, &res) < 0 ||
	    !f->at_point) {
		report_vm(rep, &res, f->prog);
		if (res.outcome == VMM_EXITED || res.outcome == VMM_SIGNALED)
			report_early_end(rep, f->prog, &res);
		else if (!rep->reason[0])
			report_set(rep, EXIT_AIRLOCK_ERROR, "error", "%s",
				   res.message);
		goto out;
	}
	rep->exit_status = 0;
out:
	if (null_fd >= 0)
		close(null_fd);
	if (shm_fd >= 0)
		close(shm_fd);
	return rep->exit_status == 0 ? 0 : -1;
}

static void stop(struct fuzzer *f)
{
	if (f->ctl >= 0)
		close(f->ctl);
	if (f->j.pid > 0) {
		int ws;
		kill(f->j.pid, SIGKILL);
		supervise_reap(f->j.pid, &ws);
	}
	jail_cleanup(&f->j);
	if (f->standin > 0) {
		kill(f->standin, SIGKILL);
		waitpid(f->standin, NULL, 0);
		close(f->standin_fd);
	}
	if (f->shm && f->shm != MAP_FAILED)
		munmap(f->shm, FUZZ_SHM_SIZE);
	free(f->run.v);
	free(f->revert.v);
	free(f->vcpu.v);
	free(f->cov.v);
}

/* Under afl-fuzz the job's output after its point goes nowhere, as AFL
 * itself would send it, and costs nothing; for triage it goes out. */
static bool keeps_output(const struct fuzz_opts *o)
{
	return o->replay || !under_afl() || getenv("AFL_DEBUG_CHILD");
}

static int fuzz_job(const struct fuzz_opts *o, const struct policy *p,
		    struct fuzzer *f, struct run_report *rep)
{
	struct host_side h = HOST_SIDE_INIT;
	int job_fd = job_open(o->argv[0], rep);
	int rc = EXIT_AIRLOCK_ERROR;
	if (job_fd < 0 ||
	    job_check(job_fd, o->argv[0], p->vm.memory_mib << 20, rep) < 0 ||
	    build_env(p, &h, rep) < 0 || open_drives(p, &h, rep) < 0 ||
	    open_streams(&h, rep) < 0 || (h.kvm = open_kvm(rep)) < 0)
		goto out;
	h.kernel_len = (size_t)(airlock_kernel_end - airlock_kernel_start);
	struct vmm_config cfg = vm_config_of(p, &h);
	cfg.job_fd = job_fd;
	cfg.job_name = o->argv[0];
	cfg.argv = o->argv;
	cfg.verbose = o->verbose;
	cfg.fuzz_output = keeps_output(o);
	/* The child takes stdout and stderr only (its input comes from us);
	 * under --replay our stdout carries only the verdicts. */
	if (o->replay)
		cfg.stdout_fd = cfg.stderr_fd;
	if (start(f, p, &cfg, rep) == 0)
		rc = o->replay	   ? replay(f, o->replay)
		     : under_afl() ? afl_loop(f)
				   : one_input(f);
out:
	if (job_fd >= 0)
		close(job_fd);
	host_release(&h);
	return rc;
}

int cmd_fuzz(int argc, char **argv)
{
	struct fuzz_opts o;
	int rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	struct run_report rep = {.exit_status = EXIT_AIRLOCK_ERROR,
				 .status = "error"};
	struct fuzzer f = {.ctl = -1, .standin_fd = -1, .prog = o.argv[0],
			   .stats_path = o.stats};
	f.j.pid = -1;
	f.j.cgroup_fd = f.j.go_fd = -1;
	struct policy pol;
	f.input_path = input_argument(o.argv);
	if (!o.replay && !under_afl() && !f.input_path &&
	    isatty(STDIN_FILENO)) {
		fprintf(stderr, "airlock: fuzz: no input: give one on standard "
				"input, run it under afl-fuzz (or another "
				"AFL++ tool), or give --replay DIR\n");
		return EXIT_AIRLOCK_ERROR;
	}
	if (fuzz_policy(&o, &pol, &f.input_ms, rep.reason,
			sizeof(rep.reason)) == 0)
		rc = fuzz_job(&o, &pol, &f, &rep);
	policy_free(&pol);
	if (rep.exit_status != 0 && rep.reason[0])
		fprintf(stderr, "airlock: %s\n", rep.reason);
	/* One input's medians say nothing. */
	if (f.inputs > 1 || (f.inputs && f.stats_path))
		write_stats(&f);
	stop(&f);
	if (f.die_by)
		die_by_signal(f.die_by);
	return rep.exit_status != 0 ? rep.exit_status : rc;
}
