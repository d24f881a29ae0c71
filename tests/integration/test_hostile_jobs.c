/*
 * Hostile jobs through the real guest kernel (tests/jobs/evil.c): each
 * tries to take the kernel down from ring 3 and must meet what Linux would
 * give it. Stack overflow, the memory bomb by malloc and the syscall storm
 * are in test_run.c.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static const char *const libcs[] = {"musl", "glibc"};

static const char *evil(int libc)
{
	static char name[32];
	snprintf(name, sizeof(name), "evil.%s", libcs[libc]);
	return job(name);
}

/* `evil MODE` exits with want and prints exactly out, for both libcs. */
static void expect_evil(const char *mode, int want, const char *out,
			const char *in)
{
	require_kvm();
	for (int i = 0; i < 2; i++) {
		struct outcome o;
		run_airlock(&o, in, in ? strlen(in) : 0,
			    (const char *const[]){"run", "--memory", "32", "--",
						  evil(i), mode, NULL});
		cr_expect_eq(o.status, want, "%s %s: status %d: %s", mode,
			     libcs[i], o.status, o.err);
		if (out)
			cr_expect_str_eq(o.out, out, "%s %s (stderr: %s)", mode,
					 libcs[i], o.err);
		cr_expect(!strstr(o.err, "panic"), "%s: %s", mode, o.err);
		outcome_free(&o);
	}
}

Test(hostile_job, fork_bomb_fails_with_enosys)
{
	expect_evil("fork", 0, "fork bomb: ENOSYS\n", NULL);
}

Test(hostile_job, mmap_and_brk_bomb_is_refused_cleanly)
{
	expect_evil("membomb", 0, NULL, NULL);
}

Test(hostile_job, code_written_then_made_executable_runs)
{
	expect_evil("jit", 0, "jit: 42 43\n", NULL);
}

Test(hostile_job, writing_its_own_text_is_sigsegv)
{
	expect_evil("smc", 139, "", NULL);
}

Test(hostile_job, kernel_pointers_in_every_argument_are_efault)
{
	static char in[4096];
	memset(in, 'x', sizeof(in) - 1);
	expect_evil("efault", 0, "efault: 0 of 130 calls wrong\n", in);
}

/* `airlock run args.musl` with n arguments (or, as_env, n --env
 * variables) of len bytes each. */
static void run_many_args(struct outcome *o, size_t n, size_t len,
			  bool as_env)
{
	const char **argv = calloc(2 * n + 8, sizeof(*argv));
	char *text = malloc(n * (len + 16));
	cr_assert(argv && text);
	size_t k = 0;
	argv[k++] = "run";
	for (size_t i = 0; as_env && i < n; i++) {
		char *t = text + i * (len + 16);
		int h = sprintf(t, "V%zu=", i);
		memset(t + h, 'a', len);
		t[h + len] = '\0';
		argv[k++] = "--env";
		argv[k++] = t;
	}
	argv[k++] = "--";
	argv[k++] = job("args.musl");
	for (size_t i = 0; !as_env && i < n; i++) {
		char *t = text + i * (len + 16);
		memset(t, 'a', len);
		t[len] = '\0';
		argv[k++] = t;
	}
	argv[k] = NULL;
	run_airlock(o, NULL, 0, argv);
	free(argv);
	free(text);
}

Test(hostile_job, argument_list_at_the_limit_runs)
{
	require_kvm();
	struct outcome o;
	run_many_args(&o, 250, 999, false); /* 250,000 of 262,144 bytes */
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect(strncmp(o.out, "argc=251\n", 9) == 0, "%.40s", o.out);
	outcome_free(&o);
}

Test(hostile_job, too_many_argument_bytes_are_refused)
{
	require_kvm();
	struct outcome o;
	run_many_args(&o, 300, 999, false);
	cr_expect_eq(o.status, 126, "%s", o.err);
	cr_expect(strstr(o.err, "argument list too long"), "%s", o.err);
	outcome_free(&o);
}

Test(hostile_job, too_many_arguments_are_refused)
{
	require_kvm();
	struct outcome o;
	run_many_args(&o, 20000, 0, false);
	cr_expect_eq(o.status, 126, "%s", o.err);
	cr_expect(strstr(o.err, "argument list too long"), "%s", o.err);
	outcome_free(&o);
}

Test(hostile_job, too_many_environment_variables_are_refused)
{
	struct outcome o;
	run_many_args(&o, 300, 10, true);
	cr_expect_eq(o.status, 125, "%s", o.err);
	cr_expect(strstr(o.err, "at most 64 variables"), "%s", o.err);
	outcome_free(&o);
}

/* As many of the largest variables as a policy allows: past the bytes the
 * guest takes. */
Test(hostile_job, too_large_an_environment_is_refused)
{
	require_kvm();
	struct outcome o;
	run_many_args(&o, 64, 4096, true);
	cr_expect_eq(o.status, 126, "%s", o.err);
	cr_expect(strstr(o.err, "argument list too long"), "%s", o.err);
	outcome_free(&o);
}
