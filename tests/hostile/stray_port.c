/* Port I/O: there are no port devices at all. */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	(void)bi;
	hl_outb(0x3f8, 'x'); /* a serial port a guest might hope for */
}
