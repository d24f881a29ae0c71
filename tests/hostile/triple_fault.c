/* An exception with no IDT gate: #UD, then #GP, then #DF, then shutdown. */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	(void)bi;
	__asm__ volatile("ud2");
}
