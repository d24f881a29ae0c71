/* Halting, failing, randomness and the two functions the compiler calls. */
#include "hl.h"

void hl_halt(void)
{
	volatile struct al_bootinfo *bi = (void *)AL_BOOTINFO_GPA;
	bi->wake_after_ns = 0;
	for (;;)
		__asm__ volatile("cli; hlt");
}

void hl_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

void hl_fail(unsigned code)
{
	hl_outb((uint16_t)(0xbad0 + code), 0);
	hl_halt();
}

uint64_t hl_rand(void)
{
	static uint64_t s = 0x9e3779b97f4a7c15ull;
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return s;
}

void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;
	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}
