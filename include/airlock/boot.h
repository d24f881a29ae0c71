/*
 * Boot ABI of the built-in guest kernel: the guest-physical memory map, the
 * boot information block, the kernel image header and the CPU state at entry.
 * Shared by vmm/ (which prepares everything) and guestkernel/ (which runs on
 * it). Freestanding.
 *
 * Guest RAM is identity-mapped: guest-virtual == guest-physical for all RAM.
 * The job runs at its own guest-physical addresses, so a user pointer is also
 * the address the VMM sees in a descriptor (zero-copy I/O), and the kernel
 * changes a mapping by editing one entry in a flat PTE array.
 *
 *   0x0000_0000  page 0: not present (NULL guard)
 *   0x0000_1000  struct al_bootinfo                      supervisor RW
 *   0x0000_2000  GDT, then the TSS in the same page      supervisor RW
 *   0x0000_3000  IDT (256 gates)                          supervisor RW
 *   0x0000_4000  job header page: ELF header + phdrs      supervisor RW
 *   0x0010_0000  guest kernel image (ELF physical addrs)  per segment flags
 *   0x0040_0000  job region: job_base .. job_end          user RW NX, present
 *   pt_base      page tables, to the end of RAM           supervisor RW
 *   AL_MMIO_VA   virtio-mmio windows (-> AL_MMIO_GPA)     supervisor RW, UC
 *
 * Every page of the job region is present, user, writable and non-executable
 * when the kernel is entered: job memory is mapped eagerly, so the job takes
 * no demand-paging faults. The kernel only tightens entries (text executable
 * and read-only, guard pages not present).
 */
#ifndef AIRLOCK_BOOT_H
#define AIRLOCK_BOOT_H

#include <stdint.h>

#include "airlock/fuzz.h"

#define AL_PAGE_SIZE 4096ull
#define AL_PAGE_SHIFT 12

#define AL_BOOTINFO_GPA 0x1000ull
#define AL_GDT_GPA 0x2000ull
#define AL_TSS_GPA (AL_GDT_GPA + 0x100) /* 104-byte TSS inside the GDT page */
#define AL_IDT_GPA 0x3000ull
#define AL_JOBHDR_GPA 0x4000ull
#define AL_JOBHDR_SIZE AL_PAGE_SIZE
#define AL_KERNEL_GPA 0x100000ull /* lowest address a kernel segment may use */
#define AL_JOB_GPA 0x400000ull    /* kernel segments must end below this */

/*
 * virtio-mmio windows: device slot i is at AL_MMIO_GPA + i * AL_MMIO_SLOT_SIZE.
 * The kernel reaches them through AL_MMIO_VA, a linear address below 3 GiB
 * (PVM faults linear accesses at 0xC0000000-0xFFFFFFFF; see DESIGN.md).
 */
#define AL_MMIO_GPA 0xD0000000ull
#define AL_MMIO_VA 0xBF000000ull
#define AL_MMIO_SLOT_SIZE 0x1000ull
#define AL_MMIO_MAX 17 /* vsock + AL_DRIVES_MAX (proto.h) drives */

/* Guest RAM bounds: RAM must stay below AL_MMIO_VA. */
#define AL_MEM_MIN_MIB 16u
#define AL_MEM_MAX_MIB 2048u

/* GDT selectors. User selectors follow the SYSRET layout (STAR[63:48] = 0x10). */
#define AL_SEL_KCODE 0x08
#define AL_SEL_KDATA 0x10
#define AL_SEL_UDATA 0x1b /* 0x18 | RPL 3 */
#define AL_SEL_UCODE 0x23 /* 0x20 | RPL 3 */
#define AL_SEL_TSS 0x28   /* 16-byte system descriptor */

/* x86-64 page-table entry bits used by both sides. */
#define AL_PTE_P (1ull << 0)
#define AL_PTE_W (1ull << 1)
#define AL_PTE_U (1ull << 2)
#define AL_PTE_PWT (1ull << 3)
#define AL_PTE_PCD (1ull << 4)
#define AL_PTE_A (1ull << 5)
#define AL_PTE_D (1ull << 6)
#define AL_PTE_NX (1ull << 63)
#define AL_PTE_ADDR 0x000ffffffffff000ull

#define AL_BOOTINFO_MAGIC 0x4f4f424bu /* "KBOO" */
#define AL_BOOT_VERSION 2u

#define AL_BOOT_F_VERBOSE 1u /* report each unimplemented syscall once */

#define AL_PANIC_MAGIC 0x43494e50u /* "PNIC" */
#define AL_PANIC_MSG_MAX 512u

struct al_mmio_slot {
	uint64_t gpa;       /* AL_MMIO_GPA + i * AL_MMIO_SLOT_SIZE */
	uint64_t va;        /* AL_MMIO_VA + i * AL_MMIO_SLOT_SIZE */
	uint32_t device_id; /* VIRTIO_ID_* */
	uint32_t reserved;
};

/* Random bytes the VMM draws afresh for every run (boot and each job of a
 * warm VM): the key of the guest's generator, and the job's AT_RANDOM
 * bytes as they are, which would otherwise cost a generator block of
 * ring-0 work per exec. */
struct al_fresh {
	uint64_t seed[4];
	uint8_t at_random[16];
};

/*
 * The boot information block at AL_BOOTINFO_GPA. Written by the VMM before
 * the first instruction; the fields below "guest -> host" are written by the
 * guest and read by the VMM only through its checked accessor, as untrusted.
 */
struct al_bootinfo {
	uint32_t magic;   /* AL_BOOTINFO_MAGIC */
	uint32_t version; /* AL_BOOT_VERSION */
	uint64_t mem_bytes;
	uint64_t job_base; /* first byte of the job region (AL_JOB_GPA) */
	uint64_t job_end;  /* one past the last byte of the job region */
	uint64_t pt_base;  /* first page-table page; RAM above is page tables */
	uint64_t pml4_gpa;
	/* PTE of the page at guest address A is ((uint64_t *)pte_gpa)[A >> 12],
	 * for every A below mem_bytes. */
	uint64_t pte_gpa;
	/* Guest wall clock: realtime_ns + (rdtsc() - tsc_base) * 1e6 / tsc_khz. */
	uint64_t tsc_khz;
	uint64_t tsc_base;
	uint64_t realtime_ns;
	struct al_fresh fresh;
	uint32_t flags;   /* AL_BOOT_F_* */
	uint32_t mmio_count;
	struct al_mmio_slot mmio[AL_MMIO_MAX];
	char cmdline[256]; /* NUL-terminated */

	/* guest -> host */
	/* Before `hlt`, the guest stores the longest it wants to sleep, in ns;
	 * 0 means until a device has something for it. The VMM wakes it earlier
	 * when a device does. */
	uint64_t wake_after_ns;
	/* A guest-kernel panic: message first, then panic_flag = AL_PANIC_MAGIC,
	 * then `cli; hlt`. The VMM ends the VM with "guest kernel panic: MSG". */
	uint32_t panic_flag;
	uint32_t panic_len;
	char panic_msg[AL_PANIC_MSG_MAX];
	/* Fuzzing mode only: the current input, both ways. */
	struct al_fuzz_state fuzz;
};

#define AL_KHDR_MAGIC 0x5244484bu /* "KHDR" */
#define AL_KHDR_VERSION 1u
#define AL_KHDR_SECTION ".al_header"
#define AL_KHDR_VECTORS 32

/*
 * The guest kernel image carries this header in an ELF section named
 * AL_KHDR_SECTION. The VMM reads it to build the IDT, the TSS and the boot
 * registers, so the kernel runs no set-up code of its own (ring 0 is emulated
 * instruction by instruction on PVM).
 */
struct al_kernel_header {
	uint32_t magic;   /* AL_KHDR_MAGIC */
	uint32_t version; /* AL_KHDR_VERSION */
	uint64_t entry;   /* first instruction; RDI = AL_BOOTINFO_GPA */
	uint64_t stack_top;       /* RSP at entry and TSS.RSP0 */
	uint64_t ist_stack_top;   /* TSS.IST1: #DF, NMI and #MC run here */
	uint64_t syscall_entry;   /* MSR_LSTAR */
	uint64_t vectors[AL_KHDR_VECTORS]; /* interrupt gates for vectors 0..31;
					      0 leaves the gate not present */
};

/*
 * CPU state at entry, set by the VMM:
 *   64-bit mode, CPL 0, CS = AL_SEL_KCODE, DS = ES = SS = AL_SEL_KDATA,
 *   FS = GS = 0 with base 0, TR = AL_SEL_TSS, GDTR = AL_GDT_GPA,
 *   IDTR = AL_IDT_GPA (limit 4095), CR3 = pml4_gpa,
 *   CR0 = PE | MP | ET | NE | WP | AM | PG, CR4 = PAE | PGE | OSFXSR | OSXMMEXCPT
 *   (+ SMEP when the CPU has it), EFER = SCE | LME | LMA | NXE,
 *   RFLAGS = 0x2 (interrupts off), RSP = stack_top, RIP = entry,
 *   RDI = AL_BOOTINFO_GPA, STAR = (0x10 << 48) | (AL_SEL_KCODE << 32),
 *   LSTAR = syscall_entry, SFMASK = TF | IF | DF | IOPL | AC | NT.
 * IST1 is used by the gates for vectors 2, 8 and 18; every gate has DPL 0.
 */
#define AL_SFMASK 0x47700ull

#endif
