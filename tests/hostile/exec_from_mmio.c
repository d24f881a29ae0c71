/*
 * Makes the virtio-mmio window executable in its own page tables and jumps
 * into it: KVM cannot fetch instructions from MMIO, and the VMM must turn
 * that into a clear error rather than read "instruction bytes" from outside
 * guest RAM.
 */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	uint64_t va = AL_MMIO_VA;
	uint64_t *pml4 = (uint64_t *)bi->pml4_gpa;
	uint64_t *pdpt = (uint64_t *)(pml4[0] & AL_PTE_ADDR);
	uint64_t *pd = (uint64_t *)(pdpt[(va >> 30) & 511] & AL_PTE_ADDR);
	uint64_t *pt = (uint64_t *)(pd[(va >> 21) & 511] & AL_PTE_ADDR);

	pt[(va >> 12) & 511] &= ~AL_PTE_NX;
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
	((void (*)(void))va)();
}
