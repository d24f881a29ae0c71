/*
 * airlock fuzz: --replay verdicts for standard-input and @@ targets, every
 * input starting from the snapshot, a hanging input timed out without
 * harming the next, and AFL++ finding a crash through airlock end to end.
 * Targets are the programs of tests/fuzzmode, built into $FUZZMODE (by
 * default the fuzzmode folder beside $JOBS).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "airlock/fuzz.h"
#include "harness.h"

static const char *target(const char *name)
{
	static char paths[4][512];
	static unsigned next;
	char *p = paths[next++ % 4];
	const char *dir = getenv("FUZZMODE");
	if (dir) {
		snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
		return p;
	}
	/* $(BUILD)/jobs -> $(BUILD)/fuzzmode */
	char jobs[512];
	snprintf(jobs, sizeof(jobs), "%s",
		 getenv("JOBS") ? getenv("JOBS") : "build/jobs");
	snprintf(p, sizeof(paths[0]), "%s/fuzzmode/%s", dirname(jobs), name);
	return p;
}

static void make_tmpdir(char *dir, size_t size)
{
	snprintf(dir, size, "/tmp/airlock-fuzz-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp");
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void remove_tree(const char *dir)
{
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *dir, const char *name, const void *data,
		       size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0, "create %s", path);
	cr_assert_eq(write(fd, data, len), (ssize_t)len, "write %s", path);
	close(fd);
}

#define WRITE_STR(dir, name, s) write_file((dir), (name), (s), strlen(s))

#define FUZZ_POLICY "policy/examples/fuzz-target.json"

/* What chain.c writes to stderr before it aborts. */
#define CHAIN_SAYS "chain: matched AIRLOCK!\n"

/* A fresh dir[64] with an empty folder in[96] = dir/in for inputs. */
static void make_input_dir(char *dir, char *in)
{
	make_tmpdir(dir, 64);
	snprintf(in, 96, "%s/in", dir);
	cr_assert_eq(mkdir(in, 0755), 0);
}

/* Replays dir through target `prog` (with `@@` as its argument when
 * at_file, under `policy` unless NULL) and expects exactly `want` on
 * stdout, status 0 and, unless NULL, `want_err` within stderr (where the
 * job's output goes). */
static void expect_replay(const char *policy, const char *dir,
			  const char *prog, int at_file, const char *want,
			  const char *want_err)
{
	struct outcome o;
	const char *argv[10];
	size_t n = 0;
	argv[n++] = "fuzz";
	if (policy) {
		argv[n++] = "--policy";
		argv[n++] = policy;
	}
	argv[n++] = "--replay";
	argv[n++] = dir;
	argv[n++] = "--";
	argv[n++] = prog;
	if (at_file)
		argv[n++] = "@@";
	argv[n] = NULL;
	run_airlock(&o, NULL, 0, argv);
	const char *mode = at_file ? "@@" : "stdin";
	cr_expect_eq(o.status, 0, "%s: status %d, stderr: %s", mode, o.status,
		     o.err);
	cr_expect_str_eq(o.out, want, "%s: stderr: %s", mode, o.err);
	if (want_err)
		cr_expect(strstr(o.err, want_err), "%s: no '%s' in stderr: %s",
			  mode, want_err, o.err);
	outcome_free(&o);
}

Test(fuzz, replay_gives_exit_and_signal_verdicts, .timeout = 300)
{
	require_kvm();
	char dir[64];
	make_tmpdir(dir, sizeof(dir));
	WRITE_STR(dir, "1-benign", "hello");
	WRITE_STR(dir, "2-crash", "AIRLOCK!");
	WRITE_STR(dir, "3-almost", "AIRLOCK?");
	const char *want = "1-benign: exit 0\n"
			   "2-crash: signal 6 (SIGABRT)\n"
			   "3-almost: exit 0\n";
	expect_replay(NULL, dir, target("chain.cov"), 0, want, CHAIN_SAYS);
	expect_replay(NULL, dir, target("chain.cov"), 1, want, CHAIN_SAYS);
	/* The example policy allows what a static glibc target starts with,
	 * opening its @@ file and aborting. */
	expect_replay(FUZZ_POLICY, dir, target("chain.cov"), 0, want,
		      CHAIN_SAYS);
	expect_replay(FUZZ_POLICY, dir, target("chain.cov"), 1, want,
		      CHAIN_SAYS);
	remove_tree(dir);
}

/* A job that ends before its point, even with exit code 0, is refused
 * with how it ended; SIGSYS comes with a hint, and --verbose names the
 * syscall the policy refused. */
Test(fuzz, a_job_ending_before_its_point_is_named_with_how, .timeout = 300)
{
	require_kvm();
	char dir[64], policy[96];
	make_tmpdir(dir, sizeof(dir));
	snprintf(policy, sizeof(policy), "%s/policy.json", dir);
	WRITE_STR(dir, "policy.json",
		  "{\"version\": 1, \"guest\": {\"syscalls\": "
		  "{\"deny\": [\"read\"], \"action\": \"kill\"}}}");
	struct outcome o;
	run_airlock(&o, "x", 1,
		    (const char *const[]){"fuzz", "--", job("hello.musl"),
					  NULL});
	cr_expect_eq(o.status, 125, "status %d, stderr: %s", o.status, o.err);
	cr_expect(strstr(o.err, "ended before its snapshot point (it exited "
				"with 0)"),
		  "stderr: %s", o.err);
	outcome_free(&o);
	run_airlock(&o, "x", 1,
		    (const char *const[]){"fuzz", "--verbose", "--policy",
					  policy, "--", target("chain.cov"),
					  NULL});
	cr_expect_eq(o.status, 125, "status %d, stderr: %s", o.status, o.err);
	cr_expect(strstr(o.err, "(killed by SIGSYS)"), "stderr: %s", o.err);
	cr_expect(strstr(o.err, "SIGSYS is a syscall its policy refuses"),
		  "stderr: %s", o.err);
	cr_expect(strstr(o.err, "the policy refused the job's syscall 0 "
				"(read)"),
		  "stderr: %s", o.err);
	outcome_free(&o);
	remove_tree(dir);
}

/* A saved input larger than any AFL makes runs cut, and replay says so. */
Test(fuzz, replay_says_when_it_cuts_an_input, .timeout = 300)
{
	require_kvm();
	char dir[64], want_err[128];
	make_tmpdir(dir, sizeof(dir));
	static char huge[AL_FUZZ_INPUT_MAX + 100] = "AIRLOCK!";
	write_file(dir, "huge", huge, sizeof(huge));
	snprintf(want_err, sizeof(want_err),
		 "/huge: %zu bytes; the target gets the first %u",
		 sizeof(huge), AL_FUZZ_INPUT_MAX);
	expect_replay(NULL, dir, target("chain.cov"), 0,
		      "huge: signal 6 (SIGABRT)\n", want_err);
	remove_tree(dir);
}

Test(fuzz, every_input_starts_from_the_snapshot, .timeout = 300)
{
	require_kvm();
	char dir[64];
	make_tmpdir(dir, sizeof(dir));
	/* Sizes from empty to more than one read, so that the first read
	 * (the snapshot point without an explicit one) is not all there is. */
	static char big[70000];
	fill_random(big, sizeof(big), 3);
	write_file(dir, "in1", "", 0);
	WRITE_STR(dir, "in2", "x");
	write_file(dir, "in3", big, 4096);
	write_file(dir, "in4", big, sizeof(big));
	WRITE_STR(dir, "in5", "last\n");
	/* What each input printed after the point: stdout, which replay
	 * sends to stderr. */
	expect_replay(NULL, dir, target("reset.cov"), 0,
		      "in1: exit 11\nin2: exit 11\nin3: exit 11\n"
		      "in4: exit 11\nin5: exit 11\n",
		      "counter 1, lines 1, input bytes 0\n"
		      "counter 1, lines 1, input bytes 1\n"
		      "counter 1, lines 1, input bytes 256\n"
		      "counter 1, lines 1, input bytes 256\n"
		      "counter 1, lines 1, input bytes 5\n");
	remove_tree(dir);
}

Test(fuzz, hanging_input_times_out_and_the_next_runs, .timeout = 300)
{
	require_kvm();
	char dir[64];
	make_tmpdir(dir, sizeof(dir));
	WRITE_STR(dir, "1-hang", "HANG forever");
	WRITE_STR(dir, "2-crash", "AIRLOCK!");
	WRITE_STR(dir, "3-benign", "hello");
	const char *want = "1-hang: timeout\n"
			   "2-crash: signal 6 (SIGABRT)\n"
			   "3-benign: exit 0\n";
	expect_replay(NULL, dir, target("chain.cov"), 0, want, CHAIN_SAYS);
	expect_replay(NULL, dir, target("chain.cov"), 1, want, CHAIN_SAYS);
	remove_tree(dir);
}

Test(fuzz, stats_file_counts_the_inputs, .timeout = 300)
{
	require_kvm();
	char dir[64], in[96], stats[96];
	make_input_dir(dir, in);
	snprintf(stats, sizeof(stats), "%s/stats", dir);
	WRITE_STR(in, "1", "hello");
	WRITE_STR(in, "2", "AIRLOCK!");
	WRITE_STR(in, "3", "AIRLO");
	struct outcome o;
	AIRLOCK(&o, "fuzz", "--stats", stats, "--replay", in, "--",
		target("chain.cov"));
	cr_expect_eq(o.status, 0, "status %d, stderr: %s", o.status, o.err);
	outcome_free(&o);
	FILE *f = fopen(stats, "r");
	cr_assert_not_null(f, "no %s", stats);
	unsigned long long n = 0, run = 0, window = 0, map = 0;
	int got = fscanf(f, "airlock: fuzz stats: %llu inputs; medians of the "
			    "last %llu: run %llu us, revert %*u us (vCPU %*u "
			    "us), coverage copy %*u us; map %llu bytes",
			 &n, &window, &run, &map);
	fclose(f);
	cr_expect_eq(got, 4, "stats line not as expected");
	cr_expect_eq(n, 3);
	cr_expect_gt(window, n);
	cr_expect_gt(run, 0);
	cr_expect_gt(map, 0);
	remove_tree(dir);
}

/* A campaign's VMM outlives limits.cpu_s: each input has its own limit,
 * and these three hangs spin for longer than the policy's second. */
#define CPU_POLICY "{\"version\": 1, \"limits\": {\"cpu_s\": 1}}"

Test(fuzz, cpu_limit_does_not_end_a_campaign, .timeout = 300)
{
	require_kvm();
	char dir[64], in[96], policy[96];
	make_input_dir(dir, in);
	snprintf(policy, sizeof(policy), "%s/policy.json", dir);
	write_file(dir, "policy.json", CPU_POLICY, strlen(CPU_POLICY));
	WRITE_STR(in, "1-hang", "HANG");
	WRITE_STR(in, "2-hang", "HANG");
	WRITE_STR(in, "3-hang", "HANG");
	WRITE_STR(in, "4-crash", "AIRLOCK!");
	struct outcome o;
	AIRLOCK(&o, "fuzz", "--policy", policy, "--timeout", "0.6",
		"--replay", in, "--", target("chain.cov"));
	cr_expect_eq(o.status, 0, "status %d, stderr: %s", o.status, o.err);
	cr_expect_str_eq(o.out,
			 "1-hang: timeout\n2-hang: timeout\n3-hang: timeout\n"
			 "4-crash: signal 6 (SIGABRT)\n",
			 "stderr: %s", o.err);
	outcome_free(&o);
	remove_tree(dir);
}

/* The test build's hook fails the revert after the first input: the next
 * input gets no verdict but the reason, the VM is not used again, and
 * airlock ends with 125 naming what failed. */
Test(fuzz, a_failed_revert_ends_fuzzing_with_the_reason, .timeout = 300)
{
	require_kvm();
	const char *hooked = getenv("AIRLOCK_TESTHOOKS");
	cr_assert_not_null(hooked, "AIRLOCK_TESTHOOKS is not set");
	char dir[64];
	make_tmpdir(dir, sizeof(dir));
	WRITE_STR(dir, "1", "hello");
	WRITE_STR(dir, "2", "AIRLOCK!");
	WRITE_STR(dir, "3", "hello");
	setenv("AIRLOCK_TEST_FUZZ_RESET_FAILS", "1", 1);
	struct outcome o;
	run_cmd(&o, NULL, 0,
		(const char *const[]){hooked, "fuzz", "--replay", dir, "--",
				      target("chain.cov"), NULL});
	unsetenv("AIRLOCK_TEST_FUZZ_RESET_FAILS");
	cr_expect_eq(o.status, 125, "status %d, stderr: %s", o.status, o.err);
	cr_expect_str_eq(o.out, "1: exit 0\n"
				"2: error: the VM could not be put back "
				"to its snapshot point after the last input\n");
	cr_expect(strstr(o.err, "test hook: the revert after input 1 failed"),
		  "stderr: %s", o.err);
	outcome_free(&o);
	remove_tree(dir);
}

/* An ext2 image of data/ in dir and a policy naming it at /data. */
static void make_drive_policy(const char *dir, bool writable)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && mkdir -p data && printf SESAME > data/magic && "
		 "printf 'ok\\n' > data/reply && "
		 "mke2fs -q -F -t ext2 -d data data.ext2 1M >/dev/null 2>&1 && "
		 "printf '{\"version\": 1, \"drives\": [{\"image\": "
		 "\"data.ext2\", \"mount\": \"/data\", \"writable\": %s}]}' "
		 "> policy.json",
		 dir, writable ? "true" : "false");
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* Replays inputs (NAME, CONTENT pairs, then NULL) through drive.cov under
 * a policy with a drive at /data. */
static void replay_with_drive(bool writable, const char *const *inputs,
			      struct outcome *o)
{
	char dir[64], in[96], policy[96];
	make_input_dir(dir, in);
	snprintf(policy, sizeof(policy), "%s/policy.json", dir);
	make_drive_policy(dir, writable);
	for (; *inputs; inputs += 2)
		WRITE_STR(in, inputs[0], inputs[1]);
	AIRLOCK(o, "fuzz", "--policy", policy, "--replay", in, "--",
		target("drive.cov"));
	remove_tree(dir);
}

Test(fuzz, targets_read_their_drives_before_and_after_the_point,
     .timeout = 300)
{
	require_kvm();
	struct outcome o;
	replay_with_drive(false,
			  (const char *const[]){"1-other", "hello", "2-magic",
						"SESAME", "3-again", "SESAME",
						"4-short", "SESAM", NULL},
			  &o);
	cr_expect_eq(o.status, 0, "status %d, stderr: %s", o.status, o.err);
	cr_expect_str_eq(o.out,
			 "1-other: exit 0\n2-magic: exit 3\n"
			 "3-again: exit 3\n4-short: exit 0\n",
			 "stderr: %s", o.err);
	outcome_free(&o);
}

Test(fuzz, writable_drives_are_refused)
{
	struct outcome o;
	replay_with_drive(true, (const char *const[]){NULL}, &o);
	cr_expect_eq(o.status, 125, "status %d", o.status);
	cr_expect(strstr(o.err, "drives[0].writable: fuzzing mode offers "
				"read-only drives only"),
		  "stderr: %s", o.err);
	outcome_free(&o);
}

/* posix_spawn needs a path: an AFL++ tool as PATH finds it. */
static const char *afl_tool(const char *name)
{
	static char paths[2][512];
	static unsigned next;
	char *path = paths[next++ % 2];
	const char *env = getenv("PATH");
	char *dirs = strdup(env ? env : "/usr/bin:/bin");
	cr_assert_not_null(dirs);
	for (char *save, *d = strtok_r(dirs, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(paths[0]), "%s/%s", d, name);
		if (access(path, X_OK) == 0) {
			free(dirs);
			return path;
		}
	}
	free(dirs);
	cr_assert_fail("%s is not installed (./scripts/install-deps)", name);
	return NULL;
}

/* afl-fuzz refuses sanitizer options set without the ones it relies on:
 * the suite's leak suppressions (and the ASan build's airlock) included. */
static void sanitizer_options_for_afl(void)
{
	static const char *const vars[][2] = {
	    {"ASAN_OPTIONS", "abort_on_error=1:symbolize=0"},
	    {"LSAN_OPTIONS", "symbolize=0"}};
	for (size_t i = 0; i < sizeof(vars) / sizeof(*vars); i++) {
		const char *old = getenv(vars[i][0]);
		if (!old || !*old)
			continue;
		char both[1024];
		snprintf(both, sizeof(both), "%s:%s", old, vars[i][1]);
		setenv(vars[i][0], both, 1);
	}
}

/* Copies the crashes AFL saved (id:* files) into dir; returns how many. */
static int collect_crashes(const char *crashes, const char *dir)
{
	DIR *d = opendir(crashes);
	cr_assert_not_null(d, "no %s", crashes);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "id:", 3) != 0)
			continue;
		char path[768];
		snprintf(path, sizeof(path), "%s/%s", crashes, e->d_name);
		FILE *f = fopen(path, "rb");
		cr_assert_not_null(f, "open %s", path);
		static char buf[1 << 20];
		size_t len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		write_file(dir, e->d_name, buf, len);
		n++;
	}
	closedir(d);
	return n;
}

/* Every line of a replay must be a SIGABRT verdict. */
static void expect_all_abort(const char *out)
{
	int lines = 0;
	for (const char *l = out; *l; lines++) {
		const char *end = strchr(l, '\n');
		cr_assert_not_null(end, "unterminated line: %s", l);
		static const char want[] = ": signal 6 (SIGABRT)";
		size_t n = (size_t)(end - l), w = sizeof(want) - 1;
		cr_expect(n > w && memcmp(end - w, want, w) == 0,
			  "not a SIGABRT verdict: %.*s", (int)n, l);
		l = end + 1;
	}
	cr_expect_gt(lines, 0, "replay printed nothing");
}

/* How long afl-fuzz may look for chain.c's crash, and the harness for it. */
#define AFL_SECONDS 420
#define AFL_LIMIT_S (AFL_SECONDS + 30)
#define STR(x) #x
#define XSTR(x) STR(x)

static const char *airlock_path(void)
{
	return getenv("AIRLOCK") ? getenv("AIRLOCK") : "build/airlock";
}

/* AFL's own figures of a campaign (from its fuzzer_stats), for a failure. */
static const char *afl_progress(const char *out)
{
	static const char *const keys[] = {"execs_done", "execs_per_sec",
					   "corpus_count", "max_depth"};
	static char summary[512];
	char path[160], line[256];
	snprintf(path, sizeof(path), "%s/default/fuzzer_stats", out);
	FILE *f = fopen(path, "r");
	if (!f)
		return "no fuzzer_stats";
	size_t len = 0;
	summary[0] = 0;
	while (fgets(line, sizeof(line), f) && len < sizeof(summary) - 1)
		for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
			if (strncmp(line, keys[i], strlen(keys[i])) == 0)
				len += (size_t)snprintf(summary + len,
							sizeof(summary) - len,
							"%s", line);
	fclose(f);
	return summary;
}

/*
 * afl-fuzz with airlock fuzz as its target finds the input behind chain.c's
 * byte-by-byte comparisons: possible only if coverage reaches AFL through
 * the VMM and every input runs from a clean snapshot. The dictionary, the
 * deterministic stages and a queue walked in order (-Z) take each entry's
 * next byte in turn: about 35,000 inputs, a minute alone under nested KVM
 * with ASan. AFL's weighted pick instead could dwell on shallow entries
 * and took twice the inputs, or more. AFL stops at the first crash; the
 * budget leaves room for a loaded run (two tests at once on one emulated
 * CPU).
 */
Test(fuzz, afl_finds_the_crash_through_airlock, .timeout = AFL_LIMIT_S + 60)
{
	require_kvm();
	const char *airlock = airlock_path();
	char dir[64], out[96], crashes[128], replay[96];
	make_tmpdir(dir, sizeof(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(crashes, sizeof(crashes), "%s/default/crashes", out);
	snprintf(replay, sizeof(replay), "%s/replay", dir);
	/* No terminal, root, a core_pattern and CPU governor we do not own,
	 * and a slow first start when KVM is nested under emulation. */
	setenv("AFL_NO_UI", "1", 1);
	setenv("AFL_SKIP_CPUFREQ", "1", 1);
	setenv("AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1", 1);
	setenv("AFL_NO_AFFINITY", "1", 1);
	setenv("AFL_BENCH_UNTIL_CRASH", "1", 1);
	setenv("AFL_FORKSRV_INIT_TMOUT", "60000", 1);
	/* airlock's own words on a failure, which AFL otherwise drops. */
	setenv("AFL_DEBUG_CHILD", "1", 1);
	sanitizer_options_for_afl();
	struct outcome o;
	run_cmd_within(
	    &o, NULL, 0,
	    (const char *const[]){afl_tool("afl-fuzz"), "-V", XSTR(AFL_SECONDS),
				  "-D", "-Z", "-t", "1000", "-x",
				  "tests/fuzzmode/chain.dict", "-i",
				  "tests/fuzzmode/seeds", "-o", out, "--", airlock,
				  "fuzz", "--", target("chain.cov"), NULL},
	    AFL_LIMIT_S);
	cr_assert_eq(o.status, 0, "afl-fuzz: status %d\n%s\n%s", o.status,
		     o.out, o.err);
	outcome_free(&o);

	cr_assert_eq(mkdir(replay, 0755), 0);
	cr_assert_gt(collect_crashes(crashes, replay), 0,
		     "afl-fuzz found no crash in " XSTR(AFL_SECONDS) " s:\n%s",
		     afl_progress(out));
	AIRLOCK(&o, "fuzz", "--replay", replay, "--", target("chain.cov"));
	cr_expect_eq(o.status, 0, "replay: status %d, stderr: %s", o.status,
		     o.err);
	expect_all_abort(o.out);
	outcome_free(&o);
	remove_tree(dir);
}

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "open %s", path);
	int n = 0;
	for (int c; (c = fgetc(f)) != EOF;)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Limits far above what an input takes, for tests that run beside others
 * on a loaded machine (the ASan build, KVM nested under emulation): AFL's
 * per run, and airlock's per input. */
#define AFL_SLOW_MS "60000"
#define AIRLOCK_SLOW_S "30"

/* airlock fuzz as a forkserver, driven by the test as afl-fuzz drives it
 * (its descriptors 198 and 199, the input in an @@ file AFL would name);
 * its stderr goes to dir/stderr. */
struct fsrv {
	pid_t pid;
	int ctl, st;
	const char *dir;
};

static void fsrv_start(struct fsrv *s, const char *dir)
{
	int ctl[2], st[2];
	char input[96], err[96];
	snprintf(input, sizeof(input), "%s/.cur_input", dir);
	snprintf(err, sizeof(err), "%s/stderr", dir);
	s->dir = dir;
	/* Only the two descriptors: airlock must see the end of input. */
	cr_assert_eq(pipe2(ctl, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(st, O_CLOEXEC), 0);
	s->pid = fork();
	cr_assert_geq(s->pid, 0);
	if (s->pid == 0) {
		int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(127);
		dup2(ctl[0], 198);
		dup2(st[1], 199);
		execl(airlock_path(), "airlock", "fuzz", "--timeout", "10",
		      "--", target("chain.cov"), input, (char *)NULL);
		_exit(127);
	}
	close(ctl[0]);
	close(st[1]);
	s->ctl = ctl[1];
	s->st = st[0];
	uint32_t hello;
	cr_assert_eq(read(s->st, &hello, 4), 4, "no forkserver hand-shake");
}

/* One input: its wait status, and the pid AFL would kill. With
 * late_timeout, AFL's timer fires just after the verdict is written: AFL
 * kills the pid and then reads the verdict. */
static uint32_t fsrv_input(struct fsrv *s, const char *data,
			   bool late_timeout, pid_t *standin)
{
	uint32_t req = 0, pid, status;
	write_file(s->dir, ".cur_input", data, strlen(data));
	cr_assert_eq(write(s->ctl, &req, 4), 4);
	cr_assert_eq(read(s->st, &pid, 4), 4, "no pid for '%s'", data);
	if (late_timeout) {
		struct pollfd p = {.fd = s->st, .events = POLLIN};
		cr_assert_eq(poll(&p, 1, 60000), 1, "no verdict for %s", data);
		kill((pid_t)pid, SIGKILL);
	}
	cr_assert_eq(read(s->st, &status, 4), 4, "no verdict for '%s'", data);
	*standin = (pid_t)pid;
	return status;
}

/* AFL closes the control pipe; airlock ends with status 0. */
static void fsrv_stop(struct fsrv *s)
{
	close(s->ctl);
	close(s->st);
	int ws;
	cr_assert_eq(waitpid(s->pid, &ws, 0), s->pid);
	cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "airlock: ws %#x",
		  ws);
}

/* The stand-in AFL killed after an input's verdict may still be dying
 * when the next input comes: that input must get a live one, or it would
 * be ended at once and filed as a crash (killed, though AFL's timer never
 * fired for it). */
Test(fuzz, a_stand_in_killed_late_is_not_handed_out_again, .timeout = 300)
{
	require_kvm();
	char dir[64];
	make_tmpdir(dir, sizeof(dir));
	struct fsrv s;
	fsrv_start(&s, dir);
	for (int i = 0; i < 10; i++) {
		pid_t late, next;
		uint32_t st = fsrv_input(&s, "SLOW", true, &late);
		cr_expect_eq(st, 0, "round %d: SLOW: wait status %u", i, st);
		st = fsrv_input(&s, "hello", false, &next);
		cr_expect_eq(st, 0, "round %d: the input after: wait status %u",
			     i, st);
		cr_expect_neq(next, late, "round %d: the killed stand-in again",
			      i);
	}
	fsrv_stop(&s);
	remove_tree(dir);
}

/* Under afl-fuzz the target's output goes nowhere (AFL would send it to
 * /dev/null, and each write would cost exits), unless AFL_DEBUG_CHILD asks
 * for it, as AFL's own forkserver lets it through then. */
Test(fuzz, under_afl_the_output_goes_out_only_with_afl_debug_child,
     .timeout = 300)
{
	require_kvm();
	for (int debug = 0; debug < 2; debug++) {
		char dir[64], err[96];
		make_tmpdir(dir, sizeof(dir));
		if (debug)
			setenv("AFL_DEBUG_CHILD", "1", 1);
		else
			unsetenv("AFL_DEBUG_CHILD");
		struct fsrv s;
		fsrv_start(&s, dir);
		pid_t standin;
		uint32_t st = fsrv_input(&s, "AIRLOCK!", false, &standin);
		cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
			  "AFL_DEBUG_CHILD %d: wait status %#x", debug, st);
		fsrv_stop(&s);
		snprintf(err, sizeof(err), "%s/stderr", dir);
		char *said = slurp(err);
		cr_expect_eq(strstr(said, CHAIN_SAYS) != NULL, debug,
			     "AFL_DEBUG_CHILD %d: stderr: %s", debug, said);
		free(said);
		remove_tree(dir);
	}
	unsetenv("AFL_DEBUG_CHILD");
}

/* afl-showmap runs airlock fuzz once, outside a forkserver, with the
 * input on a pipe: exit 0 or 2 (the target crashed) and the edges. */
static int showmap_one(const char *dir, const char *input)
{
	char map[128];
	snprintf(map, sizeof(map), "%s/map", dir);
	struct outcome o;
	run_cmd(&o, input, strlen(input),
		(const char *const[]){afl_tool("afl-showmap"), "-q", "-t",
				      AFL_SLOW_MS, "-o", map, "--",
				      airlock_path(), "fuzz", "--timeout",
				      AIRLOCK_SLOW_S, "--",
				      target("chain.cov"), NULL});
	int status = o.status;
	cr_expect(status == 0 || status == 2, "afl-showmap: status %d\n%s",
		  status, o.err);
	cr_expect_gt(count_lines(map), 0, "no edges for '%s': %s", input,
		     o.err);
	outcome_free(&o);
	return status;
}

/*
 * AFL++'s other tools: afl-showmap runs one input without a forkserver
 * (and airlock ends as the target did, so a crash is a crash), afl-showmap
 * -i and afl-tmin put their own file names in place of @@. Each longer
 * prefix of the magic passes one more comparison, so its trace is longer:
 * proof that every file's bytes reached the target.
 */
Test(fuzz, afl_showmap_and_afl_tmin_work_through_airlock, .timeout = 400)
{
	require_kvm();
	setenv("AFL_SKIP_CPUFREQ", "1", 1);
	setenv("AFL_NO_AFFINITY", "1", 1);
	setenv("AFL_FORKSRV_INIT_TMOUT", AFL_SLOW_MS, 1);
	sanitizer_options_for_afl();
	char dir[64], in[96], traces[96], min[96], big[96];
	make_input_dir(dir, in);
	cr_expect_eq(showmap_one(dir, "AIRxyz"), 0);
	cr_expect_eq(showmap_one(dir, "AIRLOCK!"), 2, "the crash is lost");

	snprintf(traces, sizeof(traces), "%s/traces", dir);
	static const char *const prefixes[] = {"z", "Az", "AIRz", "AIRLOCz"};
	enum { NPREFIXES = sizeof(prefixes) / sizeof(*prefixes) };
	for (int i = 0; i < NPREFIXES; i++) {
		char name[8];
		snprintf(name, sizeof(name), "%d", i);
		WRITE_STR(in, name, prefixes[i]);
	}
	struct outcome o;
	run_cmd(&o, NULL, 0,
		(const char *const[]){afl_tool("afl-showmap"), "-q", "-t",
				      AFL_SLOW_MS, "-i", in, "-o", traces, "--",
				      airlock_path(), "fuzz", "--timeout",
				      AIRLOCK_SLOW_S, "--", target("chain.cov"),
				      "@@", NULL});
	cr_expect_eq(o.status, 0, "afl-showmap -i: status %d\n%s", o.status,
		     o.err);
	outcome_free(&o);
	int last = 0;
	for (int i = 0; i < NPREFIXES; i++) {
		char path[160];
		snprintf(path, sizeof(path), "%s/%d", traces, i);
		int n = count_lines(path);
		cr_expect_gt(n, last,
			     "trace of '%s': %d edges, not more than "
			     "the shorter prefix's %d",
			     prefixes[i], n, last);
		last = n;
	}

	snprintf(big, sizeof(big), "%s/big", dir);
	snprintf(min, sizeof(min), "%s/min", dir);
	WRITE_STR(dir, "big", "AIRLOCK!and a long tail that is not needed");
	run_cmd(&o, NULL, 0,
		(const char *const[]){afl_tool("afl-tmin"), "-t", AFL_SLOW_MS,
				      "-i", big, "-o", min, "--",
				      airlock_path(), "fuzz", "--timeout",
				      AIRLOCK_SLOW_S, "--", target("chain.cov"),
				      "@@", NULL});
	cr_expect_eq(o.status, 0, "afl-tmin: status %d\n%s", o.status, o.err);
	outcome_free(&o);
	char got[64] = {0};
	FILE *f = fopen(min, "r");
	cr_assert_not_null(f, "afl-tmin wrote no %s", min);
	cr_expect_eq(fread(got, 1, sizeof(got) - 1, f), 8);
	fclose(f);
	cr_expect_str_eq(got, "AIRLOCK!");
	remove_tree(dir);
}

/* By hand: one input on standard input, the target's own end and its
 * own output, stdout to ours and stderr to ours. */
Test(fuzz, one_input_outside_afl_ends_as_the_target_did, .timeout = 300)
{
	require_kvm();
	struct outcome o;
	static const char *const cases[][6] = {
	    /* target, input, --timeout, status, its stdout, in its stderr */
	    {"chain.cov", "hello", AIRLOCK_SLOW_S, "0", "", ""},
	    {"chain.cov", "AIRLOCK!", AIRLOCK_SLOW_S, "134", "", CHAIN_SAYS},
	    {"chain.cov", "HANG", "1", "124", "", ""},
	    {"reset.cov", "hello", AIRLOCK_SLOW_S, "11",
	     "counter 1, lines 1, input bytes 5\n", ""}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const char *input = cases[i][1];
		run_airlock(&o, input, strlen(input),
			    (const char *const[]){"fuzz", "--timeout",
						  cases[i][2], "--",
						  target(cases[i][0]), NULL});
		cr_expect_eq(o.status, atoi(cases[i][3]),
			     "'%s': status %d, stderr: %s", input, o.status,
			     o.err);
		cr_expect_str_eq(o.out, cases[i][4], "'%s': stdout", input);
		cr_expect(strstr(o.err, cases[i][5]), "'%s': no '%s' in: %s",
			  input, cases[i][5], o.err);
		outcome_free(&o);
	}
}
