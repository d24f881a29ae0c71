/*
 * A "panic" whose message is terminal escape sequences and bytes of every
 * value, with a length far past the field: what reaches the operator's
 * stderr must be bounded and printable.
 */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	static const char esc[] = "\033]0;pwned\007\033[2J\033[31m";
	for (unsigned i = 0; i < AL_PANIC_MSG_MAX; i++)
		bi->panic_msg[i] = i < sizeof(esc) - 1 ? esc[i] : (char)(i | 1);
	bi->panic_len = 0xffffffffu;
	bi->panic_flag = AL_PANIC_MAGIC;
}
