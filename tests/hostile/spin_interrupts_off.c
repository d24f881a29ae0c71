/* Spins in ring 0 with interrupts off, never exiting to the VMM: only the
 * wall-clock limit can end it. */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	(void)bi;
	__asm__ volatile("cli");
	for (;;)
		__asm__ volatile("" ::: "memory");
}
