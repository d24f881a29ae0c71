/* The guest kernel image, embedded so that `airlock run` needs no other file. */
	.section .rodata
	.balign 16
	.globl airlock_kernel_start, airlock_kernel_end
airlock_kernel_start:
	.incbin KERNEL_PATH
airlock_kernel_end:
	.section .note.GNU-stack,"",@progbits
