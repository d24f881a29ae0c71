/*
 * The serve protocol's request check (runner/wire.c): every field of a
 * request comes from an untrusted client.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "runner/wire.h"

static struct wire_request req;

static int build(char *const *argv, char *const *envp)
{
	char err[WIRE_ERR_MAX];
	req.len = wire_build_request(req.msg, argv, envp, 0, 0, 0, err,
				     sizeof(err));
	cr_assert_gt(req.len, 0, "%s", err);
	return wire_check_request(&req, err, sizeof(err));
}

static const char *check(void)
{
	static char err[WIRE_ERR_MAX];
	err[0] = '\0';
	return wire_check_request(&req, err, sizeof(err)) == 0 ? NULL : err;
}

static struct al_serve_request *hdr(void)
{
	return (struct al_serve_request *)req.msg;
}

Test(wire, a_built_request_checks_and_round_trips)
{
	cr_assert_eq(build((char *[]){"prog", "a", "", NULL},
			   (char *[]){"K=V", NULL}),
		     0);
	cr_assert_eq(req.job.argc, 3);
	cr_assert_str_eq(req.job.argv[1], "a");
	cr_assert_str_eq(req.job.argv[2], "");
	cr_assert_null(req.job.argv[3]);
	cr_assert_str_eq(req.job.envp[0], "K=V");
	cr_assert_null(req.job.envp[1]);
}

Test(wire, hostile_headers_are_refused_by_name)
{
	build((char *[]){"prog", NULL}, NULL);
	hdr()->version = 7;
	cr_assert(strstr(check(), "version 7 is not supported"));
	build((char *[]){"prog", NULL}, NULL);
	hdr()->magic = 0;
	cr_assert(strstr(check(), "bad magic"));
	build((char *[]){"prog", NULL}, NULL);
	hdr()->length += 1;
	cr_assert(strstr(check(), "length field"));
	build((char *[]){"prog", NULL}, NULL);
	hdr()->flags = 0x80;
	cr_assert(strstr(check(), "flags"));
	build((char *[]){"prog", NULL}, NULL);
	hdr()->argc = 0;
	cr_assert(strstr(check(), "argc 0"));
	build((char *[]){"prog", NULL}, NULL);
	hdr()->envc = AL_SERVE_ENV_MAX + 1;
	cr_assert(strstr(check(), "envc"));
	req.len = 3;
	cr_assert(strstr(check(), "shorter than its header"));
}

Test(wire, strings_must_match_the_counts_exactly)
{
	build((char *[]){"prog", "x", NULL}, NULL);
	hdr()->argc = 3; /* more strings claimed than sent */
	cr_assert(strstr(check(), "NUL-terminated"));
	build((char *[]){"prog", "x", NULL}, NULL);
	hdr()->argc = 1; /* bytes left over */
	cr_assert(strstr(check(), "bytes after"));
	build((char *[]){"prog", "x", NULL}, NULL);
	req.msg[req.len - 1] = 'y'; /* last string unterminated */
	cr_assert(strstr(check(), "NUL-terminated"));
	build((char *[]){"prog", NULL}, (char *[]){"=v", NULL});
	cr_assert(strstr(check(), "NAME=VALUE"));
}

Test(wire, oversized_requests_are_not_built)
{
	static char big[AL_SERVE_STRINGS_MAX];
	char err[WIRE_ERR_MAX];
	memset(big, 'a', sizeof(big) - 1);
	req.len = wire_build_request(req.msg, (char *[]){"prog", big, NULL},
				     NULL, 0, 0, 0, err, sizeof(err));
	cr_assert_eq(req.len, 0);
	cr_assert(strstr(err, "arguments exceed"), "%s", err);
}
