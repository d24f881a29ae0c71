/*
 * Host-side checks and loading of guest kernel images (`airlock run
 * --kernel` hands the VMM any file): boot_load_kernel parses the ELF,
 * places its segments and checks the .al_header; for an image it accepts,
 * the page tables, GDT, TSS and IDT are built from what it found, as at
 * boot.
 */
#include <stdint.h>

#include "vmm/vmm_impl.h"

#define GUEST_MIB 16u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem gm;
	static struct vm_layout layout;
	static struct kernel_info ki;
	char err[VMM_ERR_MAX];
	if (!gm.base &&
	    (gm_create(&gm, (uint64_t)GUEST_MIB << 20, err) != 0 ||
	     layout_init(&layout, (uint64_t)GUEST_MIB << 20, err) != 0))
		return 0;
	if (boot_load_kernel(&gm, data, size, &ki, err) == 0)
		boot_build_tables(&gm, &layout, &ki, 1, err);
	return 0;
}
