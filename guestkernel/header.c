/*
 * The kernel header, in the ELF section the VMM looks for. From it the VMM
 * builds the IDT (vectors), the TSS (RSP0 = stack_top, IST1 = ist_stack_top)
 * and the boot registers (RIP = entry, LSTAR = syscall_entry), so the kernel
 * itself runs no set-up code.
 */
#include "gk.h"

extern char gk_entry[], gk_syscall_entry[], gk_kstack_top[], gk_istack_top[];
#define GK_VEC(n) extern char gk_vec##n[];
GK_VEC(0) GK_VEC(1) GK_VEC(2) GK_VEC(3) GK_VEC(4) GK_VEC(5) GK_VEC(6)
GK_VEC(7) GK_VEC(8) GK_VEC(9) GK_VEC(10) GK_VEC(11) GK_VEC(12) GK_VEC(13)
GK_VEC(14) GK_VEC(15) GK_VEC(16) GK_VEC(17) GK_VEC(18) GK_VEC(19) GK_VEC(20)
GK_VEC(21) GK_VEC(22) GK_VEC(23) GK_VEC(24) GK_VEC(25) GK_VEC(26) GK_VEC(27)
GK_VEC(28) GK_VEC(29) GK_VEC(30) GK_VEC(31)
#undef GK_VEC

#define V(n) (uint64_t)gk_vec##n

__attribute__((section(AL_KHDR_SECTION), used, aligned(8)))
const struct al_kernel_header gk_header = {
	.magic = AL_KHDR_MAGIC,
	.version = AL_KHDR_VERSION,
	.entry = (uint64_t)gk_entry,
	.stack_top = (uint64_t)gk_kstack_top,
	.ist_stack_top = (uint64_t)gk_istack_top,
	.syscall_entry = (uint64_t)gk_syscall_entry,
	.vectors = {V(0),  V(1),  V(2),  V(3),  V(4),  V(5),  V(6),  V(7),
		    V(8),  V(9),  V(10), V(11), V(12), V(13), V(14), V(15),
		    V(16), V(17), V(18), V(19), V(20), V(21), V(22), V(23),
		    V(24), V(25), V(26), V(27), V(28), V(29), V(30), V(31)},
};
