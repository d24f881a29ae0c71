/*
 * Fuzzing mode of the guest kernel (fuzz.c): standard input and
 * AL_FUZZ_INPUT_PATH read the current input from the VMM, the first such
 * read (or AL_FUZZ_CALL_POINT) is the snapshot point, and after it the job's
 * end is reported to the VMM through the boot block, not the control
 * stream. Without AL_JOB_F_FUZZ in the job message nothing changes.
 */
#ifndef GK_FUZZ_H
#define GK_FUZZ_H

#include <airlock/fuzz.h>

#include "gk.h"

/* Takes the job's fuzz settings; before the job's descriptors are used. */
void fuzz_job(const struct al_job *job);
/* AL_SYS_AIRLOCK. */
long fuzz_call(long call, long a1, long a2);
/* After the point the job's stdout and stderr go nowhere (AFL never reads
 * them, and each write would cost exits), unless the VMM asked for them
 * with AL_JOB_F_OUTPUT. */
bool fuzz_drops_output(void);
/* The job ended after the point: tells the VMM, which reverts; false when
 * the result is to go out on the control stream as usual. */
bool fuzz_done(const struct al_result_msg *r);

#endif
