/*
 * Writes random values to random virtio-mmio registers, in random widths,
 * the configuration space included. The VMM must refuse the first write it
 * cannot make sense of and end the VM, never act on garbage.
 */
#include "hl.h"

void hostile_main(struct al_bootinfo *bi)
{
	(void)bi;
	for (;;) {
		uint64_t r = hl_rand();
		uint32_t off = (uint32_t)(r % 0x200) & ~3u;
		uint32_t v = (uint32_t)(r >> 32);
		volatile uint8_t *p = (volatile uint8_t *)(AL_MMIO_VA + off);
		switch ((r >> 12) % 8) {
		case 0:
			*p = (uint8_t)v;
			break;
		case 1:
			*(volatile uint16_t *)p = (uint16_t)v;
			break;
		case 2:
			(void)*(volatile uint64_t *)p;
			break;
		default:
			hl_reg_write(off, v);
		}
	}
}
