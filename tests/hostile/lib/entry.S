/*
 * Entry of every hostile guest. guestkernel/kernel.ld, which the hostile
 * guests link with, names gk_entry as the ELF entry; the VMM enters at the
 * header's entry field with RSP = hl_stack_top and RDI = the boot block.
 */
	.text
	.globl gk_entry
gk_entry:
	call hostile_main
	call hl_halt

/* A hostile guest never enters user mode; a syscall would be a bug. */
	.globl hl_syscall_entry
hl_syscall_entry:
	ud2

	.bss
	.balign 16
	.space 16384
	.globl hl_stack_top
hl_stack_top:
	.space 4096
	.globl hl_ist_top
hl_ist_top:

	.section .note.GNU-stack,"",@progbits
