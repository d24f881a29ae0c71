/*
 * The serve protocol (include/airlock/serve.h) on the wire: building,
 * sending, receiving and checking requests and replies. Used by submit,
 * serve, the workers and the library; everything received is checked.
 */
#ifndef AIRLOCK_RUNNER_WIRE_H
#define AIRLOCK_RUNNER_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "airlock/serve.h"

/* A job request; argv and envp point into the message it came from. */
struct wire_job {
	uint32_t flags, memory_mib;
	uint64_t timeout_ms;
	char *argv[AL_SERVE_ARGS_MAX + 1]; /* NULL-terminated */
	char *envp[AL_SERVE_ENV_MAX + 1];  /* NULL-terminated */
	unsigned argc, envc;
};

/* A request as received: the message and the descriptors it carried. */
struct wire_request {
	unsigned char msg[AL_SERVE_REQUEST_MAX];
	size_t len;
	int fds[AL_SERVE_NFDS];
	struct wire_job job;
};

#define WIRE_ERR_MAX 256

/*
 * Builds a request from argv/envp (NULL-terminated) into buf of
 * AL_SERVE_REQUEST_MAX bytes. Returns its length, or 0 with err naming the
 * limit that was exceeded.
 */
size_t wire_build_request(void *buf, char *const *argv, char *const *envp,
			  uint32_t flags, uint32_t memory_mib,
			  uint64_t timeout_ms, char *err, size_t errlen);

/* One message with nfds descriptors (0: none). 0 or -1 (errno). */
int wire_send(int sock, const void *msg, size_t len, const int *fds,
	      unsigned nfds);

/*
 * Receives one request with exactly AL_SERVE_NFDS descriptors into r and
 * checks it (wire_check_request). Returns 1, 0 on end of file, or -1 with
 * err saying what was wrong; on anything but 1 no descriptor is left open.
 */
int wire_recv_request(int sock, struct wire_request *r, char *err,
		      size_t errlen);

/* Checks r->msg (r->len bytes) and fills r->job. 0, or -1 with err. */
int wire_check_request(struct wire_request *r, char *err, size_t errlen);

void wire_close_fds(struct wire_request *r);

/* Replies: a filled result, or a refusal with exit status 125. */
int wire_send_reply(int sock, const struct airlock_result *res);
int wire_send_refusal(int sock, const char *reason);

/* Waits for the reply. 0, or -1 with err (the server went away, or its
 * reply is malformed). Strings in res are then terminated. */
int wire_recv_reply(int sock, struct airlock_result *res, char *err,
		    size_t errlen);

#endif
