/* READY, then an EXEC_ERROR whose text is terminal escape sequences: it
 * reaches the operator only as printable characters. */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	static const char text[] = "\033]0;pwned\007\033[2J\033[31mgone\r\n\177";

	(void)bi;
	hl_ready();
	hl_send_msg(AL_MSG_EXEC_ERROR, text, sizeof(text) - 1);
}
