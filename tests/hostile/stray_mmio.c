/*
 * MMIO outside every device window: the guest maps the window of slot 5,
 * which has no device, into its own page tables and writes to it.
 */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	uint64_t va = AL_MMIO_VA + 5 * AL_MMIO_SLOT_SIZE;
	uint64_t *pml4 = (uint64_t *)bi->pml4_gpa;
	uint64_t *pdpt = (uint64_t *)(pml4[0] & AL_PTE_ADDR);
	uint64_t *pd = (uint64_t *)(pdpt[(va >> 30) & 511] & AL_PTE_ADDR);
	uint64_t *pt = (uint64_t *)(pd[(va >> 21) & 511] & AL_PTE_ADDR);

	pt[(va >> 12) & 511] = (AL_MMIO_GPA + 5 * AL_MMIO_SLOT_SIZE) |
			       AL_PTE_P | AL_PTE_W | AL_PTE_PCD;
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
	*(volatile uint32_t *)va = 0xdeadbeef;
}
