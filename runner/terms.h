/*
 * The terms of one warm job: a client's request (runner/wire.h) held
 * against the server's policy. A request may only tighten it.
 */
#ifndef AIRLOCK_RUNNER_TERMS_H
#define AIRLOCK_RUNNER_TERMS_H

#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"
#include "runner/host.h"
#include "runner/wire.h"
#include "runner/worker.h"

/*
 * Builds the message a worker gets for req into buf (AL_SERVE_REQUEST_MAX
 * bytes): the effective timeout (the policy's, or the request's if
 * shorter), the policy's environment (policy_env, NULL-terminated) and then
 * the request's. Returns its length with *timeout_ms set, or 0 with err
 * saying which request field the policy does not allow.
 */
size_t terms_build(const struct policy *p, char *const *policy_env,
		   const struct wire_job *req, void *buf,
		   uint64_t *timeout_ms, char *err, size_t errlen);

/* Whether warm workers can serve p: host sockets (vsock.connect) are
 * connected per run and no warm worker holds them yet. 0, or -1 with err. */
int terms_check_policy(const struct policy *p, char *err, size_t errlen);

/* What every worker under p gets: the VM's settings and the jail's limits
 * (no lifetime CPU budget: each job's wall-clock limit bounds it). */
void terms_worker_setup(const struct policy *p, const struct host_side *h,
			struct worker_setup *s);

#endif
