/*
 * Warm VMs (vmm_boot / vmm_job through tests/tools/warm): jobs run one after
 * another on one VM that goes back to its snapshot after each, and nothing
 * one job leaves behind reaches the next.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define MAX_ARGS 400

/* Runs warm with the given arguments; job paths are fixture names. */
static void warm(struct outcome *o, const char *const *args)
{
	const char *bin = getenv("WARM");
	cr_assert_not_null(bin, "WARM (path of tests/tools/warm) is not set");
	const char *argv[MAX_ARGS];
	int n = 0;
	argv[n++] = bin;
	for (; *args && n < MAX_ARGS - 1; args++)
		argv[n++] = strstr(*args, ".musl") ? job(*args) : *args;
	argv[n] = NULL;
	run_cmd(o, NULL, 0, argv);
}

/* Counts lines of s that start with prefix. */
static int count_lines(const char *s, const char *prefix)
{
	int n = 0;
	size_t k = strlen(prefix);
	for (const char *p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, prefix, k) == 0)
			n++;
	return n;
}

/* The n words after each of the n occurrences of `label` differ. */
static void expect_all_differ(const char *out, const char *label, int n)
{
	char seen[8][17];
	int got = 0;
	cr_assert_leq(n, 8);
	for (const char *p = strstr(out, label); p && got < n;
	     p = strstr(p + 1, label)) {
		cr_assert_eq(sscanf(p + strlen(label), "%16s", seen[got]), 1);
		for (int i = 0; i < got; i++)
			cr_assert_str_neq(seen[i], seen[got],
					  "%sof job %d repeats job %d's", label,
					  got, i);
		got++;
	}
	cr_assert_eq(got, n, "%d lines '%s' in: %s", got, label, out);
}

Test(warm, secrets_do_not_survive_the_revert)
{
	require_kvm();
	struct outcome o;
	warm(&o, (const char *const[]){"--repeat", "4", "secret.musl", "plant",
				       ":::", "secret.musl", "seek", NULL});
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_assert_eq(count_lines(o.out, "planted"), 4, "%s", o.out);
	cr_assert_eq(count_lines(o.out, "clean"), 4, "%s", o.out);
	cr_assert_eq(count_lines(o.out, "found"), 0, "%s", o.out);
	/* Every job drew different random bytes, from getrandom and in
	 * AT_RANDOM. */
	expect_all_differ(o.out, "random ", 8);
	expect_all_differ(o.out, "aux ", 8);
	cr_assert_eq(count_lines(o.err, "warm: job "), 8, "%s", o.err);
	outcome_free(&o);
}

Test(warm, many_jobs_keep_their_own_exit_status)
{
	require_kvm();
	struct outcome o;
	warm(&o, (const char *const[]){"--repeat", "10", "exitcode.musl", "7",
				       ":::", "hello.musl", "x", ":::",
				       "exitcode.musl", "0", NULL});
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_assert_eq(count_lines(o.out, "hello, x"), 10, "%s", o.out);
	for (int k = 0; k < 30; k++) {
		char want[64];
		snprintf(want, sizeof(want), "warm: job %d exit %d ", k,
			 k % 3 == 0 ? 7 : 0);
		cr_expect(strstr(o.err, want), "no '%s' in:\n%s", want, o.err);
	}
	outcome_free(&o);
}

Test(warm, crash_and_timeout_leave_a_usable_vm)
{
	require_kvm();
	struct outcome o;
	warm(&o, (const char *const[]){"--timeout", "2", "fault.musl", "segv",
				       ":::", "hello.musl", "after-fault",
				       ":::", "spin.musl", ":::", "hello.musl",
				       "after-timeout", NULL});
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_expect(strstr(o.err, "warm: job 0 signal 11 "), "%s", o.err);
	cr_expect(strstr(o.err, "warm: job 2 timeout "), "%s", o.err);
	cr_expect(strstr(o.out, "hello, after-fault\n"), "%s", o.out);
	cr_expect(strstr(o.out, "hello, after-timeout\n"), "%s", o.out);
	outcome_free(&o);
}
