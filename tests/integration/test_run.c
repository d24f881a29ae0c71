/* `airlock run` end to end: real VMs, real fixtures, exact bytes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static const char *const libcs[] = {"musl", "glibc"};

static const char *fixture(const char *name, const char *libc)
{
	static char buf[4][128];
	static unsigned n;
	char *p = buf[n++ % 4];
	snprintf(p, sizeof(buf[0]), "%s.%s", name, libc);
	return job(p);
}

Test(run, hello_prints_and_exits_zero)
{
	require_kvm();
	for (int i = 0; i < 2; i++) {
		struct outcome o;
		AIRLOCK(&o, "run", "--", fixture("hello", libcs[i]));
		cr_expect_eq(o.status, 0, "%s: status %d, stderr: %s",
			     libcs[i], o.status, o.err);
		cr_expect_str_eq(o.out, "hello, world\n", "%s", libcs[i]);
		cr_expect_eq(o.err_len, 0, "%s: stderr: %s", libcs[i], o.err);
		outcome_free(&o);
	}
}

Test(run, argv_and_env_arrive_intact)
{
	require_kvm();
	for (int i = 0; i < 2; i++) {
		struct outcome o;
		const char *prog = fixture("args", libcs[i]);
		AIRLOCK(&o, "run", "--env", "A=1", "--env", "EMPTY=",
			"--env", "SPACE=a b  c", "--", prog, "one", "",
			"two words", "--not-an-option");
		char want[1024];
		snprintf(want, sizeof(want),
			 "argc=5\nargv[0]=%s\nargv[1]=one\nargv[2]=\n"
			 "argv[3]=two words\nargv[4]=--not-an-option\n"
			 "env=A=1\nenv=EMPTY=\nenv=SPACE=a b  c\n",
			 prog);
		cr_expect_eq(o.status, 0, "%s: %s", libcs[i], o.err);
		cr_expect_str_eq(o.out, want, "%s", libcs[i]);
		outcome_free(&o);
	}
}

Test(run, exit_status_is_the_jobs)
{
	require_kvm();
	static const struct {
		const char *arg, *how;
		int want;
	} cases[] = {{"0", "", 0},     {"1", "", 1},       {"42", "", 42},
		     {"255", "", 255}, {"256", "_exit", 0}, {"7", "_exit", 7}};
	for (size_t c = 0; c < sizeof(cases) / sizeof(*cases); c++) {
		struct outcome o;
		AIRLOCK(&o, "run", fixture("exitcode", libcs[c % 2]),
			cases[c].arg, cases[c].how);
		cr_expect_eq(o.status, cases[c].want, "exit %s %s: got %d (%s)",
			     cases[c].arg, cases[c].how, o.status, o.err);
		outcome_free(&o);
	}
}

Test(run, eight_mib_through_stdin_and_stdout_byte_exact)
{
	require_kvm();
	size_t len = (8u << 20) + 12345;
	char *data = malloc(len);
	cr_assert_not_null(data);
	fill_random(data, len, 7);
	for (int i = 0; i < 2; i++) {
		struct outcome o;
		run_airlock(&o, data, len,
			    (const char *const[]){"run", "--",
						  fixture("cat", libcs[i]),
						  NULL});
		cr_expect_eq(o.status, 0, "%s: %s", libcs[i], o.err);
		cr_expect_eq(o.out_len, len, "%s: %zu bytes out", libcs[i],
			     o.out_len);
		cr_expect(o.out_len == len && memcmp(o.out, data, len) == 0,
			  "%s: stdout differs from stdin", libcs[i]);
		outcome_free(&o);
	}
	free(data);
}

Test(run, empty_stdin_is_eof)
{
	require_kvm();
	struct outcome o;
	AIRLOCK(&o, "run", job("cat.musl"), "on stderr");
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect_eq(o.out_len, 0);
	cr_expect_str_eq(o.err, "on stderr\n");
	outcome_free(&o);
}

static unsigned char pattern_byte(unsigned long i, int stream)
{
	return (unsigned char)((i * 131 + (i >> 9) + (unsigned)stream * 7) &
			       0xff);
}

Test(run, stdout_and_stderr_stay_apart)
{
	require_kvm();
	unsigned long nout = 3u << 20, nerr = (1u << 20) + 17;
	struct outcome o;
	AIRLOCK(&o, "run", job("pattern.glibc"), "3145728", "1048593");
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_assert_eq(o.out_len, nout);
	cr_assert_eq(o.err_len, nerr);
	for (unsigned long i = 0; i < nout; i++)
		if ((unsigned char)o.out[i] != pattern_byte(i, 1))
			cr_assert_fail("stdout differs at byte %lu", i);
	for (unsigned long i = 0; i < nerr; i++)
		if ((unsigned char)o.err[i] != pattern_byte(i, 2))
			cr_assert_fail("stderr differs at byte %lu", i);
	outcome_free(&o);
}

Test(run, faults_end_the_job_as_linux_signals_would)
{
	require_kvm();
	static const struct {
		const char *kind;
		int sig;
	} cases[] = {
		{"segv", 11},  {"segv-wild", 11}, {"segv-kernel", 11},
		{"exec-data", 11}, {"hlt", 11},   {"in", 11},
		{"out", 11},   {"ill", 4},        {"fpe", 8},
		{"stack", 11}, {"abort", 6}, {"abort", 6},
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(*cases); c++) {
		struct outcome o;
		AIRLOCK(&o, "run", fixture("fault", libcs[c % 2]),
			cases[c].kind);
		cr_expect_eq(o.status, 128 + cases[c].sig,
			     "%s: status %d, stderr: %s", cases[c].kind,
			     o.status, o.err);
		cr_expect(strstr(o.err, "killed by SIG") != NULL,
			  "%s: stderr does not name the signal: %s",
			  cases[c].kind, o.err);
		outcome_free(&o);
	}
}

/*
 * Handlers of signals the job sends itself run as on Linux: the fixture's
 * transcript (siginfo, masks, delivery on unblock, nesting, the alternate
 * stack, SIGPIPE, siglongjmp out of abort(), SA_RESETHAND) and its death
 * by SIGTERM are the same natively and in the guest.
 */
Test(run, signal_handlers_run_as_on_linux)
{
	require_kvm();
	for (int i = 0; i < 2; i++) {
		struct outcome native, o;
		const char *prog = fixture("sighandle", libcs[i]);
		run_cmd(&native, NULL, 0, (const char *const[]){prog, NULL});
		cr_assert_eq(native.status, 128 + 15, "%s natively: %d",
			     libcs[i], native.status);
		AIRLOCK(&o, "run", "--", prog);
		cr_expect_eq(o.status, native.status, "%s: status %d, stderr: %s",
			     libcs[i], o.status, o.err);
		cr_expect_str_eq(o.out, native.out, "%s: stderr: %s", libcs[i],
				 o.err);
		outcome_free(&native);
		outcome_free(&o);
	}
}

/*
 * An alignment-check fault depends on the CPU honouring EFLAGS.AC (QEMU's
 * software CPU does not), so the job must end exactly as it does natively
 * on the same CPU: SIGBUS on hardware.
 */
Test(run, alignment_fault_matches_native)
{
	require_kvm();
	struct outcome native, o;
	run_cmd(&native, NULL, 0,
		(const char *const[]){job("fault.musl"), "bus", NULL});
	AIRLOCK(&o, "run", job("fault.musl"), "bus");
	cr_expect_eq(o.status, native.status, "airlock %d, native %d: %s",
		     o.status, native.status, o.err);
	outcome_free(&native);
	outcome_free(&o);
}

Test(run, wall_clock_limit_ends_a_spinning_job)
{
	require_kvm();
	struct outcome o;
	AIRLOCK(&o, "run", "--timeout", "1", job("spin.musl"));
	cr_expect_eq(o.status, 124, "status %d: %s", o.status, o.err);
	cr_expect(strstr(o.err, "limit") != NULL, "stderr: %s", o.err);
	cr_expect_lt(o.seconds, 60.0);
	outcome_free(&o);
}

Test(run, allocation_beyond_guest_memory_fails_cleanly)
{
	require_kvm();
	for (int i = 0; i < 2; i++) {
		struct outcome o;
		AIRLOCK(&o, "run", "--memory", "32", fixture("alloc", libcs[i]));
		cr_expect_eq(o.status, 0, "%s: status %d: %s", libcs[i],
			     o.status, o.err);
		cr_expect(strstr(o.out, "allocation failed cleanly after") !=
				  NULL,
			  "%s: %s", libcs[i], o.out);
		outcome_free(&o);
	}
}

Test(run, static_pie_runs)
{
	require_kvm();
	struct outcome o;
	AIRLOCK(&o, "run", job("hello.pie"), "pie");
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect_str_eq(o.out, "hello, pie\n");
	outcome_free(&o);
}

Test(run, verbose_names_unimplemented_syscalls)
{
	require_kvm();
	struct outcome o;
	AIRLOCK(&o, "run", "--verbose", job("enosys.musl"));
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect_str_eq(o.out, "acct: -1 ENOSYS\n");
	cr_expect(strstr(o.err, "acct") != NULL, "stderr: %s", o.err);
	outcome_free(&o);
	AIRLOCK(&o, "run", job("enosys.musl"));
	cr_expect(strstr(o.err, "acct") == NULL, "stderr: %s", o.err);
	outcome_free(&o);
}

Test(run, busybox_runs_unmodified)
{
	require_kvm();
	static const struct {
		const char *args[5];
		const char *want;
	} cases[] = {
		{{"echo", "hello", "busybox"}, "hello busybox\n"},
		{{"seq", "1", "5"}, "1\n2\n3\n4\n5\n"},
		{{"expr", "6", "*", "7"}, "42\n"},
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(*cases); c++) {
		struct outcome o;
		AIRLOCK(&o, "run", "/bin/busybox", cases[c].args[0],
			cases[c].args[1], cases[c].args[2], cases[c].args[3]);
		cr_expect_eq(o.status, 0, "%s: %s", cases[c].args[0], o.err);
		cr_expect_str_eq(o.out, cases[c].want, "%s", cases[c].args[0]);
		outcome_free(&o);
	}
}

/* `airlock run ... | head`: the job dies of SIGPIPE as it would natively. */
Test(run, reader_going_away_ends_the_job_with_sigpipe)
{
	require_kvm();
	struct outcome o;
	const char *script =
		"\"$AIRLOCK\" run \"$JOBS/pattern.musl\" 50000000 0 | "
		"head -c 1000 | wc -c; echo status=${PIPESTATUS[0]}";
	run_cmd(&o, NULL, 0, (const char *const[]){"/bin/bash", "-c", script,
						   NULL});
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect_str_eq(o.out, "1000\nstatus=141\n", "stderr: %s", o.err);
	outcome_free(&o);
}

/* Random syscalls with hostile arguments must never panic the guest kernel. */
Test(run, syscall_storm_does_not_panic_the_guest_kernel)
{
	require_kvm();
	static const char *const seeds[] = {"1", "2", "3"};
	for (int i = 0; i < 3; i++) {
		struct outcome o;
		AIRLOCK(&o, "run", "--timeout", "120",
			fixture("sysfuzz", libcs[i % 2]), seeds[i], "4000");
		cr_expect_eq(o.status, 0, "seed %s: status %d: %s", seeds[i],
			     o.status, o.err);
		cr_expect_str_eq(o.out, "survived 4000 calls\n", "seed %s",
				 seeds[i]);
		outcome_free(&o);
	}
}

/* Output to a file the caller shares goes after what the caller wrote, and
 * what the caller writes next goes after the job's. */
Test(run, output_to_a_shared_file_keeps_its_offset)
{
	require_kvm();
	char path[] = "/tmp/airlock-offset-XXXXXX", cmd[1024], got[128] = "";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "{ echo before; %s run -- %s; echo after; } > %s",
		 getenv("AIRLOCK"), fixture("hello", "musl"), path);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	size_t n = fread(got, 1, sizeof(got) - 1, f);
	got[n] = '\0';
	fclose(f);
	unlink(path);
	cr_expect_str_eq(got, "before\nhello, world\nafter\n");
}
