/*
 * Fuzzing mode (`airlock fuzz`): the one system call a job may make to the
 * guest kernel beyond Linux's, used by the coverage runtime that targets
 * link (libairlock-cov.a), and the record the guest kernel and the VMM
 * share about the current input. Compiles hosted and freestanding.
 *
 *   syscall(AL_SYS_AIRLOCK, AL_FUZZ_CALL_COVERAGE, map, len)
 *       edges are counted in map[0..len), len at most AL_COV_MAP_MAX; the
 *       VMM reads it after every input (AFL's shared map). 0, or -EINVAL
 *       for a map outside the job's writable memory.
 *   syscall(AL_SYS_AIRLOCK, AL_FUZZ_CALL_POINT)
 *       the snapshot point: every input starts here, with the job's state
 *       as it is now. Without this call the point is the job's first read
 *       of its input (standard input, or the input file).
 * Outside fuzzing mode both return -ENOSYS and change nothing, except under
 * `airlock serve --preload`, where AL_FUZZ_CALL_POINT is the point every
 * request resumes from (with its own standard streams and randomness).
 */
#ifndef AIRLOCK_FUZZ_H
#define AIRLOCK_FUZZ_H

#include <stdint.h>

#define AL_SYS_AIRLOCK 0x414c /* far above Linux's syscall numbers */

enum al_fuzz_call {
	AL_FUZZ_CALL_COVERAGE = 1,
	AL_FUZZ_CALL_POINT = 2,
};

#define AL_COV_MAP_MAX (1u << 16) /* AFL's default map */
#define AL_FUZZ_INPUT_MAX (1u << 20) /* AFL's largest test case */

/* The job's path of the input file: a job argument that names the input
 * (`@@`) is replaced by this. Reads of it, like reads of standard input,
 * return the current input. */
#define AL_FUZZ_INPUT_PATH "/dev/fuzz-input"

/*
 * Guest kernel <-> VMM, in the boot information block. The guest sets op
 * and its arguments, then halts; the VMM acts and clears op before the
 * guest runs again. Everything the guest wrote is untrusted.
 */
enum al_fuzz_op {
	AL_FUZZ_OP_NONE = 0,
	AL_FUZZ_OP_POINT = 1, /* snapshot now; then satisfy the read below */
	AL_FUZZ_OP_READ = 2,  /* copy input[offset..] to buf, at most len */
	AL_FUZZ_OP_DONE = 3,  /* the input is done: kind, value, fault_* */
};

struct al_fuzz_state {
	uint32_t op; /* enum al_fuzz_op */
	uint32_t kind; /* DONE: enum al_exit_kind (proto.h) */
	uint32_t value;
	uint32_t reserved;
	uint64_t fault_addr, fault_rip;
	uint64_t buf, len, offset; /* POINT, READ */
	uint64_t got;              /* host -> guest: bytes copied to buf */
	uint64_t input_len;        /* host -> guest: size of this input */
	uint64_t cov_gpa, cov_len; /* the job's map (AL_FUZZ_CALL_COVERAGE) */
};
_Static_assert(sizeof(struct al_fuzz_state) == 88,
	       "the layout fuzz/corpus/fuzz_fuzzstate was written for");

#endif
