/* READY, then a RESULT whose exit code is out of range (and, had that
 * passed, one with a signal number no signal has). */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	struct al_result_msg r = {.kind = AL_EXIT_CODE, .value = 256};

	(void)bi;
	hl_ready();
	hl_send_msg(AL_MSG_RESULT, &r, sizeof(r));
	r = (struct al_result_msg){.kind = AL_EXIT_SIGNAL, .value = 65};
	hl_send_msg(AL_MSG_RESULT, &r, sizeof(r));
}
