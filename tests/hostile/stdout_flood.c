/* Floods stdout, ignoring the credit the host grants: output past the
 * policy's cap never reaches the host, and the overrun ends the VM. */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	static uint8_t text[AL_VSOCK_MAX_PAYLOAD];

	(void)bi;
	memset(text, 'A', sizeof(text));
	hl_vsock_up();
	hl_connect(AL_PORT_STDOUT, 0);
	for (;;)
		hl_send(AL_PORT_STDOUT, text, sizeof(text));
}
