/* The --result record: one JSON object with what happened and how long. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"

static json_t *run_with_result(struct outcome *o, const char *prog,
			       const char *arg)
{
	char path[] = "/tmp/airlock-result-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	AIRLOCK(o, "run", "--result", path, prog, arg);
	json_error_t err;
	json_t *j = json_load_file(path, 0, &err);
	unlink(path);
	cr_assert_not_null(j, "result is not JSON: %s (line %d)", err.text,
			   err.line);
	return j;
}

static json_int_t int_at(json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);
	cr_assert(json_is_integer(v), "%s is not an integer", key);
	return json_integer_value(v);
}

Test(result, records_exit_bytes_and_phase_timings)
{
	require_kvm();
	struct outcome o;
	json_t *j = run_with_result(&o, job("hello.musl"), "json");
	cr_expect_eq(o.status, 0, "%s", o.err);
	cr_expect_eq(int_at(j, "exit_status"), 0);
	cr_expect_eq(int_at(j, "exit_code"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(j, "status")),
			 "exited");
	cr_expect(json_is_null(json_object_get(j, "signal")));
	cr_expect_eq(int_at(json_object_get(j, "stdout"), "bytes"),
		     (json_int_t)o.out_len);
	cr_expect_eq(int_at(json_object_get(j, "stderr"), "bytes"), 0);
	cr_expect(json_is_false(
		json_object_get(json_object_get(j, "stdout"), "truncated")));
	json_t *t = json_object_get(j, "timings_us");
	const char *phases[] = {"jail", "create", "boot", "job_load", "run",
				"teardown"};
	json_int_t sum = 0;
	for (int i = 0; i < 6; i++) {
		json_int_t v = int_at(t, phases[i]);
		cr_expect_gt(v, 0, "phase %s took no time", phases[i]);
		sum += v;
	}
	cr_expect_leq(sum, int_at(t, "total"));
	json_decref(j);
	outcome_free(&o);
}

Test(result, records_the_signal)
{
	require_kvm();
	struct outcome o;
	json_t *j = run_with_result(&o, job("fault.musl"), "segv");
	cr_expect_eq(int_at(j, "exit_status"), 139);
	cr_expect_eq(int_at(j, "signal"), 11);
	cr_expect_str_eq(json_string_value(json_object_get(j, "signal_name")),
			 "SIGSEGV");
	cr_expect(json_is_null(json_object_get(j, "exit_code")));
	cr_expect_eq(int_at(j, "fault_addr"), 0);
	json_decref(j);
	outcome_free(&o);
}

Test(result, records_refusals_without_a_vm)
{
	struct outcome o;
	json_t *j = run_with_result(&o, "/nonexistent", NULL);
	cr_expect_eq(int_at(j, "exit_status"), 127);
	cr_expect_str_eq(json_string_value(json_object_get(j, "status")),
			 "not_found");
	cr_expect_str_eq(json_string_value(json_object_get(j, "reason")),
			 "/nonexistent: not found");
	json_decref(j);
	outcome_free(&o);
}
