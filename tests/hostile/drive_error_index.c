/* READY, then a DRIVE_ERROR for a drive the VM does not have (the VMM
 * offered none): the index is checked, never used to look one up. */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	static const char msg[] = "\xc8no such drive";

	(void)bi;
	hl_ready();
	hl_send_msg(AL_MSG_DRIVE_ERROR, msg, sizeof(msg) - 1);
}
