/*
 * The job's ELF image: the VMM already wrote every segment at its final
 * address and copied the headers to AL_JOBHDR_GPA. Here they are validated
 * (host/elfcheck.c, shared with the unit tests) and the segment pages get
 * their permissions. The TLB is flushed once, by exec, afterwards.
 */
#include "gk.h"

#include "host/elfcheck.c"

const char *elf_prepare(const struct gk_job *job, struct gk_elf_info *info)
{
	if (job->hdr->hdr_len > AL_JOBHDR_SIZE)
		return "ELF headers larger than the header page";
	/* Segments end below the stack region (the VMM placed them so). */
	const char *why = gk_elf_check((const void *)AL_JOBHDR_GPA,
				       job->hdr->hdr_len, job->hdr->load_bias,
				       mm_job_base(), job->stack_lo, info);
	if (why)
		return why;
	for (uint32_t i = 0; i < info->nranges; i++) {
		const struct gk_elf_range *r = &info->ranges[i];
		unsigned long prot = 1 /* PROT_READ */;
		if (r->flags & GK_SEG_W)
			prot |= 2; /* PROT_WRITE */
		if (r->flags & GK_SEG_X)
			prot |= 4; /* PROT_EXEC */
		mm_set_pte_bits_noflush(r->lo, r->hi, mm_prot_bits(prot));
	}
	return 0;
}
