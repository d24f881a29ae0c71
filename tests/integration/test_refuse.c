/* What `airlock run` refuses, and how it says so. These need no VM. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

Test(refuse, missing_program_is_127)
{
	struct outcome o;
	AIRLOCK(&o, "run", "/nonexistent/prog");
	cr_expect_eq(o.status, 127);
	cr_expect(strstr(o.err, "/nonexistent/prog: not found") != NULL, "%s",
		  o.err);
	outcome_free(&o);
}

Test(refuse, dynamic_program_is_126_with_advice)
{
	struct outcome o;
	AIRLOCK(&o, "run", job("hello.dyn"));
	cr_expect_eq(o.status, 126);
	cr_expect(strstr(o.err, "dynamically linked") != NULL, "%s", o.err);
	cr_expect(strstr(o.err, "-static") != NULL, "%s", o.err);
	outcome_free(&o);
}

Test(refuse, not_elf_is_126)
{
	char path[] = "/tmp/airlock-test-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "#!/bin/sh\necho hi\n", 18), 18);
	close(fd);
	struct outcome o;
	AIRLOCK(&o, "run", path);
	unlink(path);
	cr_expect_eq(o.status, 126);
	cr_expect(strstr(o.err, "static x86-64 ELF") != NULL, "%s", o.err);
	outcome_free(&o);
}

Test(refuse, directory_is_126)
{
	struct outcome o;
	AIRLOCK(&o, "run", "/tmp");
	cr_expect_eq(o.status, 126, "%s", o.err);
	outcome_free(&o);
}

Test(refuse, bad_options_are_125)
{
	static const char *const bad[][4] = {
		{"run", NULL},
		{"run", "--memory", "lots", "x"},
		{"run", "--memory", "1", "x"},
		{"run", "--timeout", "0", "x"},
		{"run", "--env", "NOEQUALS", "x"},
		{"run", "--bogus", "x", NULL},
		{"frobnicate", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct outcome o;
		run_airlock(&o, NULL, 0, bad[i]);
		cr_expect_eq(o.status, 125, "case %zu: %d", i, o.status);
		cr_expect_gt(o.err_len, 0, "case %zu says nothing", i);
		outcome_free(&o);
	}
}
