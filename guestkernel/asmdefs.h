/*
 * Constants shared by the assembly files and C. Plain #defines only, so that
 * .S files can include this; platform.c checks them against the shared
 * headers with static assertions.
 */
#ifndef GK_ASMDEFS_H
#define GK_ASMDEFS_H

#define GK_SEL_UCODE 0x23 /* AL_SEL_UCODE */
#define GK_SEL_UDATA 0x1b /* AL_SEL_UDATA */

/*
 * RFLAGS of the job at entry: IF set as on Linux (bit 1 is reserved-one).
 * Nothing ever interrupts the guest (no irqchip, no timer), so IF only makes
 * `pushf` in the job read what Linux programs expect.
 */
#define GK_USER_RFLAGS 0x202
/* The RFLAGS bits a job may set itself (CF PF AF ZF SF TF DF OF AC ID). */
#define GK_USER_RFLAGS_MASK 0x240dd5

#define GK_KSTACK_SIZE 16384 /* kernel stack: boot, syscalls, exceptions */
#define GK_ISTACK_SIZE 4096  /* IST1: #DF, NMI, #MC */
/* A job syscall's registers and iretq frame at the top of the kernel stack */
#define GK_SYSFRAME_SIZE 96

#endif
