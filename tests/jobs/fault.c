/* Dies of the fault named by argv[1], the way a buggy program would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void misaligned_with_ac(void)
{
	static char buf[16] __attribute__((aligned(16)));
	__asm__ volatile("pushfq; orq $0x40000, (%%rsp); popfq" ::: "cc");
	volatile int *p = (volatile int *)(buf + 1);
	*p = 1;
}

int main(int argc, char **argv)
{
	const char *kind = argc > 1 ? argv[1] : "";
	fflush(stdout);
	if (!strcmp(kind, "segv"))
		*(volatile int *)0 = 1;
	else if (!strcmp(kind, "segv-wild"))
		*(volatile int *)0x7fff12345000 = 1;
	else if (!strcmp(kind, "segv-kernel"))
		*(volatile int *)0x100000 = 1;
	else if (!strcmp(kind, "exec-data")) {
		static unsigned char ret = 0xc3;
		((void (*)(void))&ret)();
	} else if (!strcmp(kind, "hlt"))
		__asm__ volatile("hlt");
	else if (!strcmp(kind, "out"))
		__asm__ volatile("outb %%al, $0x80" ::"a"(0));
	else if (!strcmp(kind, "in"))
		__asm__ volatile("inb $0x60, %%al" ::: "eax");
	else if (!strcmp(kind, "abort"))
		abort();
	else if (!strcmp(kind, "ill"))
		__asm__ volatile("ud2");
	else if (!strcmp(kind, "fpe"))
		__asm__ volatile("xorl %%ecx, %%ecx; movl $1, %%eax; cltd; "
				 "idivl %%ecx" ::: "eax", "ecx", "edx");
	else if (!strcmp(kind, "bus"))
		misaligned_with_ac();
	else if (!strcmp(kind, "stack")) {
		volatile char big[1 << 20];
		big[0] = 1;
		return main(argc, argv) + big[0];
	}
	fprintf(stderr, "fault: unknown or harmless kind '%s'\n", kind);
	return 3;
}
