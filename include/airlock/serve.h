/*
 * The wire protocol between `airlock submit` (client) and `airlock serve`,
 * and between serve and its jailed workers.
 *
 * Transport: a unix SOCK_SEQPACKET socket (message boundaries kept, peer
 * credentials available). One connection carries exactly one job:
 *
 *   client -> server   one request message: struct al_serve_request, then
 *                      argc + envc NUL-terminated strings (argv first, then
 *                      the environment as NAME=VALUE), nothing after; with
 *                      exactly AL_SERVE_NFDS descriptors in one SCM_RIGHTS
 *                      message, in enum al_serve_fd order: the job's stdin,
 *                      stdout, stderr, and the already-opened job binary.
 *   server -> client   one struct al_serve_reply, then the server closes.
 *
 * All integers are in the host's byte order (a unix socket never leaves the
 * machine). The server trusts nothing in a request: the magic, version,
 * length, counts, flags, the strings' NUL termination and the number and
 * kind of descriptors are all checked, and any failure is answered with a
 * reply whose result has outcome AIRLOCK_NO_JOB, exit_status 125 and a
 * reason naming the field; the connection is then closed. A request for more
 * time or memory than the server's policy is refused the same way: a client
 * may only tighten the policy.
 *
 * A server that cannot take the job now (every worker busy and the queue of
 * waiting clients full) replies "server busy" (exit_status 125) at once.
 */
#ifndef AIRLOCK_SERVE_H
#define AIRLOCK_SERVE_H

#include <stdint.h>

#include "airlock/airlock.h"

#define AL_SERVE_MAGIC 0x56534c41u /* "ALSV" */
#define AL_SERVE_VERSION 1u

#define AL_SERVE_ARGS_MAX 256
#define AL_SERVE_ENV_MAX 128
#define AL_SERVE_STRINGS_MAX 65536 /* bytes of all strings together */

enum al_serve_fd {
	AL_SERVE_FD_STDIN,
	AL_SERVE_FD_STDOUT,
	AL_SERVE_FD_STDERR,
	AL_SERVE_FD_JOB,
	AL_SERVE_NFDS,
};

/* Request flags; any other bit is refused. */
#define AL_SERVE_F_VERBOSE 1u /* name unimplemented syscalls on stderr */
#define AL_SERVE_F_ALL AL_SERVE_F_VERBOSE

struct al_serve_request {
	uint32_t magic;       /* AL_SERVE_MAGIC */
	uint32_t version;     /* AL_SERVE_VERSION */
	uint32_t length;      /* whole message: this header plus the strings */
	uint32_t flags;       /* AL_SERVE_F_* */
	uint32_t argc;        /* 1 .. AL_SERVE_ARGS_MAX; argv[0] names the job */
	uint32_t envc;        /* 0 .. AL_SERVE_ENV_MAX */
	uint32_t memory_mib;  /* 0: the server's; else at most the server's */
	uint32_t reserved;    /* 0 */
	uint64_t timeout_ms;  /* 0: the server's; else at most the server's */
};

#define AL_SERVE_REQUEST_MAX                                                   \
	(sizeof(struct al_serve_request) + AL_SERVE_STRINGS_MAX)

struct al_serve_reply {
	uint32_t magic;   /* AL_SERVE_MAGIC */
	uint32_t version; /* AL_SERVE_VERSION */
	uint32_t length;  /* sizeof(struct al_serve_reply) */
	uint32_t reserved;
	struct airlock_result result; /* strings NUL-terminated */
};

#endif
