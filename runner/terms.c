/* A warm job's terms: the request within the policy (runner/terms.h). */
#include <stdio.h>

#include "runner/terms.h"

static int check_limits(const struct policy *p, const struct wire_job *req,
			uint64_t *timeout_ms, char *err, size_t errlen)
{
	if (req->memory_mib > p->vm.memory_mib) {
		snprintf(err, errlen,
			 "--memory %u MiB is more than the server's policy "
			 "allows (%llu MiB)",
			 req->memory_mib,
			 (unsigned long long)p->vm.memory_mib);
		return -1;
	}
	if (req->timeout_ms > p->limits.timeout_ms) {
		snprintf(err, errlen,
			 "--timeout %.3f s is longer than the server's policy "
			 "allows (%.3f s)",
			 (double)req->timeout_ms / 1000,
			 (double)p->limits.timeout_ms / 1000);
		return -1;
	}
	*timeout_ms = req->timeout_ms ? req->timeout_ms : p->limits.timeout_ms;
	return 0;
}

size_t terms_build(const struct policy *p, char *const *policy_env,
		   const struct wire_job *req, void *buf,
		   uint64_t *timeout_ms, char *err, size_t errlen)
{
	char *env[AL_SERVE_ENV_MAX + 1];
	size_t n = 0;
	if (check_limits(p, req, timeout_ms, err, errlen) < 0)
		return 0;
	for (char *const *e = policy_env; e && *e && n < AL_SERVE_ENV_MAX; e++)
		env[n++] = *e;
	for (unsigned i = 0; i < req->envc; i++) {
		if (n == AL_SERVE_ENV_MAX) {
			snprintf(err, errlen,
				 "more than %u environment variables with the "
				 "server's own",
				 AL_SERVE_ENV_MAX);
			return 0;
		}
		env[n++] = req->envp[i];
	}
	env[n] = NULL;
	return wire_build_request(buf, req->argv, env, req->flags, 0,
				  *timeout_ms, err, errlen);
}

void terms_worker_setup(const struct policy *p, const struct host_side *h,
			struct worker_setup *s)
{
	s->vm = vm_config_of(p, h);
	s->jail = jail_limits_of(p, false);
	s->jail.cpu_seconds = 0;
	s->preload_fd = -1;
	s->preload_argv = NULL;
}

int terms_check_policy(const struct policy *p, char *err, size_t errlen)
{
	if (p->nvsock_connect == 0)
		return 0;
	snprintf(err, errlen,
		 "vsock.connect: warm workers cannot offer host sockets yet; "
		 "use `airlock run` for this policy");
	return -1;
}
