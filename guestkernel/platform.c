/* Privileged operations that are not inline; see platform.h. */
#include "gk.h"

_Static_assert(GK_SEL_UCODE == AL_SEL_UCODE, "user code selector");
_Static_assert(GK_SEL_UDATA == AL_SEL_UDATA, "user data selector");
_Static_assert(AL_SEL_UCODE == AL_SEL_UDATA + 8, "SYSRET selector layout");

void pf_halt(uint64_t wake_after_ns)
{
	GK_BI->wake_after_ns = wake_after_ns;
	/* The store must be visible before the exit: the asm clobbers
	 * memory. Interrupts are off and there is no irqchip: hlt exits. */
	__asm__ volatile("hlt" ::: "memory");
}

void pf_stop(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

