/*
 * `airlock fuzz`: the supervisor (fuzz.c) speaks AFL++'s forkserver
 * protocol or replays saved inputs; a jailed child (fuzz_child.c) holds the
 * VM at the job's snapshot point and runs each input from there. They share
 * one memory file (the input in, the coverage map out) and a
 * SOCK_SEQPACKET socketpair: one struct fuzz_request in, one struct
 * fuzz_reply out, per input.
 */
#ifndef AIRLOCK_RUNNER_FUZZ_H
#define AIRLOCK_RUNNER_FUZZ_H

#include <stdint.h>

#include "airlock/fuzz.h"
#include "jail/jail.h"
#include "vmm/vmm.h"

/* The shared memory file: the input's bytes, then the coverage map. */
#define FUZZ_SHM_INPUT 0
#define FUZZ_SHM_MAP AL_FUZZ_INPUT_MAX
#define FUZZ_SHM_SIZE (AL_FUZZ_INPUT_MAX + AL_COV_MAP_MAX)

/* The child's descriptors; the drive images follow from FUZZ_NFDS on.
 * FUZZ_ERR is stderr (fd 2, also the VMM's log), FUZZ_OUT the job's
 * stdout. */
enum { FUZZ_CTL, FUZZ_KVM, FUZZ_ERR, FUZZ_JOB, FUZZ_SHM, FUZZ_NULL,
       FUZZ_OUT, FUZZ_NFDS };

struct fuzz_request {
	uint64_t len;        /* input bytes at FUZZ_SHM_INPUT */
	uint64_t timeout_ms;
};

/* The first reply says whether the job reached its point and, if not,
 * how it ended (res); then one per input. */
struct fuzz_reply {
	struct vmm_result res;
	uint64_t map_len;  /* bytes of the map at FUZZ_SHM_MAP */
	uint32_t at_point; /* first reply: 1 when the job is at its point */
};

/* In the jailed child: never returns. cfg is the VM and job, its
 * descriptors the supervisor's (renumbered here). */
__attribute__((noreturn)) void fuzz_child(const struct vmm_config *cfg,
					  enum jail_side side,
					  const char *why);

#endif
