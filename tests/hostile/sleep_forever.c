/* Halts asking to be woken in 584 years: only the wall-clock limit ends
 * it. */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	hl_vsock_up();
	for (;;) {
		bi->wake_after_ns = ~0ull;
		__asm__ volatile("cli; hlt");
	}
}
