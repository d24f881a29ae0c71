/*
 * The kernel header of every hostile guest. No exception vectors: any
 * exception becomes a triple fault, the bluntest way for a guest to end.
 */
#include "hl.h"

extern char gk_entry[], hl_syscall_entry[], hl_stack_top[], hl_ist_top[];

__attribute__((section(AL_KHDR_SECTION), used, aligned(8)))
const struct al_kernel_header hl_header = {
	.magic = AL_KHDR_MAGIC,
	.version = AL_KHDR_VERSION,
	.entry = (uint64_t)gk_entry,
	.stack_top = (uint64_t)hl_stack_top,
	.ist_stack_top = (uint64_t)hl_ist_top,
	.syscall_entry = (uint64_t)hl_syscall_entry,
};
