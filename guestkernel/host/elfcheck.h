/*
 * Validation of a job's ELF header and program headers, as the VMM copied
 * them to AL_JOBHDR_GPA. Pure C with no privileged operation: compiled into
 * the guest kernel (elf.c includes elfcheck.c) and hosted into the unit
 * tests. Everything in the input is untrusted: every offset, count and
 * address is bounds- and overflow-checked before use.
 */
#ifndef GK_ELFCHECK_H
#define GK_ELFCHECK_H

#include <stdint.h>

#define GK_ELF_MAX_PHNUM 64
#define GK_ELF_PAGE 4096ull

/* Page permissions a range needs beyond present + user + read. */
#define GK_SEG_W 1u
#define GK_SEG_X 2u

/* A page-aligned range of job memory and the permissions of its pages. */
struct gk_elf_range {
	uint64_t lo, hi;
	uint32_t flags; /* GK_SEG_* */
};

struct gk_elf_info {
	uint64_t entry; /* load bias applied */
	uint64_t phdr;  /* AT_PHDR: the phdrs in the loaded image, or 0 */
	uint32_t phnum, phent;
	uint64_t brk; /* page-aligned end of the highest segment */
	uint32_t nranges;
	/* Segment pages in ascending order; a page two segments share is a
	 * range of its own with the union of their permissions. */
	struct gk_elf_range ranges[2 * GK_ELF_MAX_PHNUM];
};

/*
 * Checks the hdr_len bytes at hdr (ELF header, program headers at e_phoff)
 * for a static x86-64 executable (ET_EXEC, or ET_DYN without PT_INTERP)
 * whose PT_LOAD segments, moved by bias, lie inside [lo, hi). Returns NULL
 * and fills *out, or returns a reason fit for the user.
 */
const char *gk_elf_check(const void *hdr, uint64_t hdr_len, uint64_t bias,
			 uint64_t lo, uint64_t hi, struct gk_elf_info *out);

#endif
