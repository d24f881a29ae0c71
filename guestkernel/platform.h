/*
 * The platform layer: every privileged operation of the guest kernel, and
 * nothing else. On PVM each ring-0 instruction is emulated, so these are
 * inline and tiny. A PVM-native mode (hypercalls instead of hlt, iretq and
 * page-table writes) replaces this file and platform.c, not their callers.
 *
 * Not here on purpose: MMIO register access (plain loads and stores to an
 * uncached window, see virtq.c) and page-table *contents* (mm.c edits the
 * flat PTE array the VMM built; only the TLB flush is privileged).
 */
#ifndef GK_PLATFORM_H
#define GK_PLATFORM_H

#include <stdint.h>

/* Stores the longest sleep the kernel wants (0: until a device has
 * something) and executes `hlt`, which exits to the VMM. */
void pf_halt(uint64_t wake_after_ns);

/* `cli; hlt` forever: after a panic. */
__attribute__((noreturn)) void pf_stop(void);

/* Enters the job in ring 3 with iretq at rip/rsp, every other register
 * zero (entry.S). sysretq is not an option: it triple-faults on PVM once the
 * vCPU has been in user mode. */
__attribute__((noreturn)) void pf_enter_user(uint64_t rip, uint64_t rsp);

static inline uint64_t pf_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t pf_read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

#define PF_MSR_FS_BASE 0xc0000100u
#define PF_MSR_GS_BASE 0xc0000101u

/* value must be canonical (callers check): wrmsr #GPs otherwise. */
static inline void pf_wrmsr(uint32_t msr, uint64_t value)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)value),
			 "d"((uint32_t)(value >> 32))
			 : "memory");
}

static inline void pf_set_fs_base(uint64_t base)
{
	pf_wrmsr(PF_MSR_FS_BASE, base);
}

static inline void pf_set_gs_base(uint64_t base)
{
	pf_wrmsr(PF_MSR_GS_BASE, base);
}

/* After a PTE edit: drop one page's translation. */
static inline void pf_tlb_flush_page(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}

/* After many PTE edits: reload CR3 (user pages are not global). */
static inline void pf_tlb_flush_all(void)
{
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3)::"memory");
}

static inline void pf_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

#endif
