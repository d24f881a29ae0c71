/* How the job ends: one AL_MSG_RESULT on the control stream (in fuzzing
 * mode after the snapshot point: AL_FUZZ_OP_DONE), then halt until the VMM
 * tears the VM down or reverts it. */
#include "fuzz.h"
#include "gk.h"

struct gk_proc gk_proc;

static GK_NORETURN void finish(const struct al_result_msg *r)
{
	if (!fuzz_done(r))
		vsock_send_msg(AL_MSG_RESULT, r, sizeof(*r));
	for (;;)
		pf_halt(0);
}

void proc_exit(int code)
{
	struct al_result_msg r = {.kind = AL_EXIT_CODE,
				  .value = (uint32_t)code & 0xff,
				  .syscalls = gk_proc.syscalls};
	finish(&r);
}

void proc_kill(int sig, uint64_t fault_addr, uint64_t fault_rip)
{
	struct al_result_msg r = {.kind = AL_EXIT_SIGNAL,
				  .value = (uint32_t)sig,
				  .fault_addr = fault_addr,
				  .fault_rip = fault_rip,
				  .syscalls = gk_proc.syscalls};
	finish(&r);
}
