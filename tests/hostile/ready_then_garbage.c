/* READY, then random bytes on the control stream where framed messages
 * belong. */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	static uint64_t junk[64];

	(void)bi;
	hl_ready();
	for (;;) {
		for (unsigned i = 0; i < 64; i++)
			junk[i] = hl_rand();
		hl_send(AL_PORT_CONTROL, junk, sizeof(junk));
	}
}
