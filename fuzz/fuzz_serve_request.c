/*
 * A serve request from a hostile client (runner/wire.c): any bytes as the
 * message. A request that passes must have argc + envc terminated strings
 * inside the message, argv[0] set and environment entries NAME=VALUE.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runner/wire.h"

static struct wire_request req;

static void check_strings(char *const *list, unsigned n)
{
	const char *lo = (const char *)req.msg, *hi = lo + req.len;
	for (unsigned i = 0; i < n; i++)
		if (list[i] < lo || list[i] + strlen(list[i]) >= hi)
			abort();
	if (list[n])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[WIRE_ERR_MAX];
	if (size > sizeof(req.msg))
		return 0;
	memcpy(req.msg, data, size);
	req.len = size;
	if (wire_check_request(&req, err, sizeof(err)) < 0)
		return 0;
	if (req.job.argc < 1 || !req.job.argv[0])
		abort();
	check_strings(req.job.argv, req.job.argc);
	check_strings(req.job.envp, req.job.envc);
	for (unsigned i = 0; i < req.job.envc; i++)
		if (!strchr(req.job.envp[i], '=') || req.job.envp[i][0] == '=')
			abort();
	return 0;
}
