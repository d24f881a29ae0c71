/*
 * `airlock run --policy`: the policy's limits and grants reach the VM, the
 * jail and the guest kernel, and flags may only tighten them.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* Writes text to a fresh temporary file; returns its path (static). */
static const char *policy_file(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/airlock-policy-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* The example policies; tests run from the top of the source tree. */
#define EXAMPLE(name) "policy/examples/" name

/* A job that never ends, under policy: 124, and stderr names the limit. */
static void expect_spin_ended(const char *policy, const char *limit)
{
	require_kvm();
	struct outcome o;
	const char *p = policy_file(policy);
	AIRLOCK(&o, "run", "--policy", p, job("spin.musl"));
	unlink(p);
	cr_assert_eq(o.status, 124, "status %d: %s", o.status, o.err);
	cr_assert(strstr(o.err, limit), "%s", o.err);
	outcome_free(&o);
}

Test(policy, timeout_ends_a_spinning_job_with_124)
{
	expect_spin_ended("{\"version\": 1, \"limits\": {\"timeout_s\": 1}}",
			  "limit");
}

Test(policy, cpu_limit_ends_a_spinning_job_and_says_so)
{
	expect_spin_ended("{\"version\": 1, \"limits\": "
			  "{\"cpu_s\": 1, \"timeout_s\": 120}}",
			  "limits.cpu_s");
}

Test(policy, stdout_is_capped_exactly_and_reported_truncated)
{
	require_kvm();
	struct outcome o, native;
	const char *p = policy_file(
	    "{\"version\": 1, \"limits\": {\"stdout_bytes\": 70001}}");
	char res[] = "/tmp/airlock-result-XXXXXX";
	close(mkstemp(res));
	AIRLOCK(&o, "run", "--policy", p, "--result", res, job("pattern.musl"),
		"300000", "10");
	unlink(p);
	cr_assert_eq(o.status, 0, "the job goes on past the cap: %s", o.err);
	run_cmd(&native, NULL, 0,
		(const char *const[]){job("pattern.musl"), "300000", "10",
				      NULL});
	cr_assert_eq(o.out_len, 70001);
	cr_assert_arr_eq(o.out, native.out, 70001);
	json_t *j = json_load_file(res, 0, NULL);
	unlink(res);
	cr_assert_not_null(j);
	json_t *s = json_object_get(j, "stdout");
	cr_assert(json_is_true(json_object_get(s, "truncated")));
	cr_assert_eq(json_integer_value(json_object_get(s, "bytes")), 70001);
	json_decref(j);
	outcome_free(&o);
	outcome_free(&native);
}

Test(policy, memory_limit_is_felt_inside_the_guest)
{
	require_kvm();
	struct outcome o;
	const char *p =
	    policy_file("{\"version\": 1, \"vm\": {\"memory_mib\": 32}}");
	AIRLOCK(&o, "run", "--policy", p, job("alloc.musl"));
	unlink(p);
	cr_assert_eq(o.status, 0, "%s", o.err);
	unsigned mib = 0;
	cr_assert_eq(sscanf(o.out, "allocation failed cleanly after %u MiB",
			    &mib),
		     1, "%s", o.out);
	cr_assert(mib > 0 && mib < 32, "got %u MiB of a 32 MiB guest", mib);
	outcome_free(&o);
}

Test(policy, denied_syscall_fails_with_eperm)
{
	require_kvm();
	struct outcome o;
	const char *p = policy_file("{\"version\": 1, \"guest\": "
				    "{\"syscalls\": {\"deny\": [\"getrandom\"]}}}");
	AIRLOCK(&o, "run", "--policy", p, job("refused.musl"));
	unlink(p);
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_assert_str_eq(o.out, "getrandom: Operation not permitted\n"
				"getpid: ok\n");
	outcome_free(&o);
}

Test(policy, denied_syscall_with_kill_ends_the_job_with_sigsys)
{
	require_kvm();
	struct outcome o;
	const char *p = policy_file(
	    "{\"version\": 1, \"guest\": {\"syscalls\": {\"deny\": "
	    "[\"getpid\"], \"action\": \"kill\"}}}");
	AIRLOCK(&o, "run", "--verbose", "--policy", p, job("refused.musl"));
	unlink(p);
	cr_assert_eq(o.status, 128 + 31, "%s", o.err);
	cr_assert_str_eq(o.out, "getrandom: ok\n");
	cr_assert(strstr(o.err, "SIGSYS"), "%s", o.err);
	cr_assert(strstr(o.err, "the policy refused the job's syscall 39 "
				"(getpid)"),
		  "%s", o.err);
	outcome_free(&o);
}

Test(policy, allow_list_refuses_everything_else)
{
	require_kvm();
	struct outcome o;
	const char *p = policy_file(
	    "{\"version\": 1, \"guest\": {\"syscalls\": {\"allow\": "
	    "[\"write\", \"writev\", \"ioctl\", \"exit_group\", "
	    "\"set_tid_address\", \"arch_prctl\", \"getrandom\"]}}}");
	AIRLOCK(&o, "run", "--policy", p, job("refused.musl"));
	unlink(p);
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_assert_str_eq(o.out, "getrandom: ok\n"
				"getpid: Operation not permitted\n");
	outcome_free(&o);
}

Test(policy, environment_is_only_what_the_policy_names)
{
	require_kvm();
	struct outcome o;
	setenv("AIRLOCK_TEST_PASSED", "yes", 1);
	setenv("AIRLOCK_TEST_HIDDEN", "no", 1);
	const char *p = policy_file(
	    "{\"version\": 1, \"env\": {\"pass\": [\"AIRLOCK_TEST_PASSED\", "
	    "\"AIRLOCK_TEST_UNSET\"], \"set\": {\"MODE\": \"batch\"}}}");
	AIRLOCK(&o, "run", "--policy", p, job("args.musl"));
	unlink(p);
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_assert(strstr(o.out, "env=AIRLOCK_TEST_PASSED=yes\n"), "%s", o.out);
	cr_assert(strstr(o.out, "env=MODE=batch\n"), "%s", o.out);
	cr_assert_null(strstr(o.out, "HIDDEN"), "%s", o.out);
	cr_assert_null(strstr(o.out, "UNSET"), "%s", o.out);
	outcome_free(&o);
}

Test(policy, flags_may_tighten_but_never_widen)
{
	struct outcome o;
	const char *p = policy_file("{\"version\": 1, \"vm\": "
				    "{\"memory_mib\": 64}, \"limits\": "
				    "{\"timeout_s\": 5}}");
	AIRLOCK(&o, "run", "--policy", p, "--memory", "128", job("hello.musl"));
	cr_assert_eq(o.status, 125);
	cr_assert(strstr(o.err, "--memory: vm.memory_mib"), "%s", o.err);
	outcome_free(&o);
	AIRLOCK(&o, "run", "--policy", p, "--timeout", "6", job("hello.musl"));
	cr_assert_eq(o.status, 125);
	cr_assert(strstr(o.err, "limits.timeout_s"), "%s", o.err);
	outcome_free(&o);
	AIRLOCK(&o, "run", "--policy", p, "--env", "A=b", job("hello.musl"));
	cr_assert_eq(o.status, 125);
	cr_assert(strstr(o.err, "--env: would widen the policy"), "%s", o.err);
	outcome_free(&o);
	unlink(p);
}

Test(policy, tightening_flag_applies)
{
	require_kvm();
	struct outcome o;
	const char *p = policy_file("{\"version\": 1, \"vm\": "
				    "{\"memory_mib\": 64}}");
	AIRLOCK(&o, "run", "--policy", p, "--memory", "32", job("alloc.musl"));
	unlink(p);
	unsigned mib = 0;
	cr_assert_eq(sscanf(o.out, "allocation failed cleanly after %u MiB",
			    &mib),
		     1, "%s", o.out);
	cr_assert_lt(mib, 32);
	outcome_free(&o);
}

Test(policy, bad_policy_is_125_with_file_line_column)
{
	struct outcome o;
	const char *p = policy_file("{\"version\": 1,\n \"vm\": {\"memory_mib\"");
	AIRLOCK(&o, "run", "--policy", p, job("hello.musl"));
	cr_assert_eq(o.status, 125);
	char want[96];
	snprintf(want, sizeof(want), "%s:2:", p);
	cr_assert(strstr(o.err, want), "%s", o.err);
	unlink(p);
	outcome_free(&o);
	p = policy_file("{\"version\": 1, \"vm\": {\"memory_mib\": \"lots\"}}");
	AIRLOCK(&o, "run", "--policy", p, job("hello.musl"));
	unlink(p);
	cr_assert_eq(o.status, 125);
	cr_assert(strstr(o.err, "vm.memory_mib: expected an integer"), "%s",
		  o.err);
	outcome_free(&o);
}

Test(policy, fuzz_target_example_runs_with_no_stdout)
{
	require_kvm();
	struct outcome o;
	AIRLOCK(&o, "run", "--policy", EXAMPLE("fuzz-target.json"),
		job("hello.musl"), "x");
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_assert_eq(o.out_len, 0, "stdout_bytes is 0 there");
	outcome_free(&o);
}

Test(policy, service_example_runs)
{
	require_kvm();
	struct outcome o;
	AIRLOCK(&o, "run", "--policy", EXAMPLE("per-request-service.json"),
		job("hello.musl"), "x");
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_assert_str_eq(o.out, "hello, x\n");
	outcome_free(&o);
}

Test(policy, untrusted_code_example_runs)
{
	require_kvm();
	struct outcome o;
	AIRLOCK(&o, "run", "--policy", EXAMPLE("untrusted-code.json"),
		job("args.musl"));
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_assert(strstr(o.out, "env=LANG=C.UTF-8\n"), "%s", o.out);
	outcome_free(&o);
}
