/* A million notifies with nothing to do: each costs the VMM an exit, and
 * the wall-clock limit still holds. */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	(void)bi;
	hl_vsock_up();
	for (unsigned i = 0; i < 1000000; i++)
		hl_notify(i % 4);
}
