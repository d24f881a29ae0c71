/*
 * The guest kernel's only assembly: the boot entry, the syscall entry, the
 * 32 exception stubs, the return to user mode, and the stacks. The VMM built
 * GDT, TSS, IDT, page tables and MSRs from header.c, so nothing is set up
 * here. Every instruction in ring 0 is emulated on PVM: keep paths short.
 */
#include "asmdefs.h"

	.text

/* RSP = gk_kstack_top (16-aligned), RDI = boot block: straight into C. */
	.globl gk_entry
gk_entry:
	call gk_main
	ud2

/*
 * A job's `syscall` arrives one of two ways, and both end up with the same
 * iretq frame (SS, RSP, RFLAGS, CS, RIP) at gk_kstack_top:
 *  - on hardware KVM, SYSCALL enters here in ring 0: RCX = user RIP,
 *    R11 = user RFLAGS, RSP still the user's (one vCPU, so no swapgs: the
 *    user RSP goes to a fixed variable and the frame is built by hand);
 *  - on PVM, SYSCALL from a non-PVM guest's ring 3 jumps to LSTAR without
 *    leaving ring 3, so fetching this supervisor page faults (#PF, error
 *    P|U|I) and the CPU pushes the frame through TSS.RSP0 (gk_vec14 below
 *    sends such a fault to gk_syscall_fault).
 * sysretq is never used (it triple-faults on PVM once the vCPU has been in
 * user mode).
 */
	.globl gk_syscall_entry
gk_syscall_entry:
	movq %rsp, gk_user_rsp(%rip)
	leaq gk_kstack_top(%rip), %rsp
	pushq $GK_SEL_UDATA
	pushq gk_user_rsp(%rip)
	pushq %r11
	pushq $GK_SEL_UCODE
	pushq %rcx
	jmp gk_syscall_frame

/* From gk_vec14: the error code is still on the stack; the frame's RIP is
 * LSTAR and its RFLAGS the masked ones, so put the user's back. */
gk_syscall_fault:
	addq $8, %rsp
	movq %rcx, (%rsp)
	movq %r11, 16(%rsp)

gk_syscall_frame:
	/* SFMASK cleared DF unless the job jumped to LSTAR itself; rep
	 * moves in C need it clear. */
	cld
	/* R11 is the job's to choose when it jumps to LSTAR itself: keep only
	 * the flags ring 3 may set (never IOPL, NT, VM, VIF/VIP), IF on. */
	andq $GK_USER_RFLAGS_MASK, 16(%rsp)
	orq $GK_USER_RFLAGS, 16(%rsp)
	/* Linux preserves every register but RAX, RCX and R11. The C code
	 * keeps RBX, RBP, R12-R15 itself (SysV callee-saved). */
	pushq %rdi
	pushq %rsi
	pushq %rdx
	pushq %r10
	pushq %r8
	pushq %r9
	/* 12 pushes from a 16-aligned top: RSP is 16-aligned at the call, and
	 * the syscall number is the 7th C argument, on the stack. */
	pushq %rax
	movq %r10, %rcx
	call gk_syscall
	addq $8, %rsp
	popq %r9
	popq %r8
	popq %r10
	popq %rdx
	popq %rsi
	popq %rdi
	/* As after sysret: RCX = RIP, R11 = RFLAGS (and no kernel values). */
	movq (%rsp), %rcx
	movq 16(%rsp), %r11
	iretq

/* pf_enter_user(rip = RDI, rsp = RSI): first entry into the job. */
	.globl pf_enter_user
pf_enter_user:
	pushq $GK_SEL_UDATA
	pushq %rsi
	pushq $GK_USER_RFLAGS
	pushq $GK_SEL_UCODE
	pushq %rdi
	xorl %eax, %eax
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %esi, %esi
	xorl %edi, %edi
	xorl %ebp, %ebp
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	xorl %r11d, %r11d
	xorl %r12d, %r12d
	xorl %r13d, %r13d
	xorl %r14d, %r14d
	xorl %r15d, %r15d
	iretq

/*
 * Exception stubs for vectors 0-31. Each leaves the same frame: vector, error
 * code (0 when the CPU pushes none), then the CPU's RIP, CS, RFLAGS, RSP, SS
 * (struct gk_trapframe). Nothing returns: a ring-3 fault ends the job, a
 * ring-0 fault is a panic, so no registers are saved.
 */
.macro VEC_NOERR n
	.globl gk_vec\n
gk_vec\n:
	pushq $0
	pushq $\n
	jmp gk_trap_common
.endm

.macro VEC_ERR n
	.globl gk_vec\n
gk_vec\n:
	pushq $\n
	jmp gk_trap_common
.endm

VEC_NOERR 0
VEC_NOERR 1
VEC_NOERR 2
VEC_NOERR 3
VEC_NOERR 4
VEC_NOERR 5
VEC_NOERR 6
VEC_NOERR 7
VEC_ERR 8
VEC_NOERR 9
VEC_ERR 10
VEC_ERR 11
VEC_ERR 12
VEC_ERR 13
/* #PF: a job's syscall on PVM (see gk_syscall_entry), or a real fault. */
	.globl gk_vec14
gk_vec14:
	cmpq $gk_syscall_entry, 8(%rsp)
	jne 1f
	cmpq $GK_SEL_UCODE, 16(%rsp)
	je gk_syscall_fault
1:	pushq $14
	jmp gk_trap_common
VEC_NOERR 15
VEC_NOERR 16
VEC_ERR 17
VEC_NOERR 18
VEC_NOERR 19
VEC_NOERR 20
VEC_ERR 21
VEC_NOERR 22
VEC_NOERR 23
VEC_NOERR 24
VEC_NOERR 25
VEC_NOERR 26
VEC_NOERR 27
VEC_NOERR 28
VEC_ERR 29
VEC_ERR 30
VEC_NOERR 31

gk_trap_common:
	cld
	movq %rsp, %rdi
	andq $-16, %rsp
	call gk_exception
	ud2

/*
 * Stacks. The page below the kernel stack is made not present at boot
 * (mm_boot), so an overflow faults, double-faults onto IST1 and panics.
 */
	.bss
	.balign 4096
	.globl gk_kstack_guard
gk_kstack_guard:
	.skip 4096
	.skip GK_KSTACK_SIZE - GK_SYSFRAME_SIZE
/* The top of the stack while a syscall runs: what gk_syscall_frame saved
 * and the iretq frame back to the job (struct sysframe, sys_signal.c). */
	.globl gk_sysframe
gk_sysframe:
	.skip GK_SYSFRAME_SIZE
	.globl gk_kstack_top
gk_kstack_top:
	.skip GK_ISTACK_SIZE
	.globl gk_istack_top
gk_istack_top:
	.balign 8
gk_user_rsp:
	.skip 8

	.section .note.GNU-stack,"",@progbits
