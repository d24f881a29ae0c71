/* ELF header checks for the job; see elfcheck.h. */
#include "elfcheck.h"

/* The ELF64 structures, spelled out: no <elf.h> when freestanding. */
struct gk_ehdr {
	unsigned char ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct gk_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

#define GK_ET_EXEC 2
#define GK_ET_DYN 3
#define GK_EM_X86_64 62
#define GK_PT_LOAD 1
#define GK_PT_INTERP 3
#define GK_PT_PHDR 6
#define GK_PF_X 1u
#define GK_PF_W 2u

static uint64_t page_down(uint64_t a)
{
	return a & ~(GK_ELF_PAGE - 1);
}

static const char *check_ident(const struct gk_ehdr *eh)
{
	const unsigned char *id = eh->ident;
	if (id[0] != 0x7f || id[1] != 'E' || id[2] != 'L' || id[3] != 'F')
		return "not an ELF file";
	if (id[4] != 2) /* ELFCLASS64 */
		return "not a 64-bit ELF file";
	if (id[5] != 1) /* ELFDATA2LSB */
		return "not a little-endian ELF file";
	if (id[6] != 1 || eh->version != 1)
		return "unknown ELF version";
	if (eh->machine != GK_EM_X86_64)
		return "not an x86-64 program";
	if (eh->type != GK_ET_EXEC && eh->type != GK_ET_DYN)
		return "not an executable (ELF type is neither EXEC nor DYN)";
	return 0;
}

static const char *check_phdr_table(const struct gk_ehdr *eh,
				    uint64_t hdr_len)
{
	if (eh->phentsize != sizeof(struct gk_phdr))
		return "unexpected ELF program header size";
	if (eh->phnum == 0)
		return "ELF file has no program headers";
	if (eh->phnum > GK_ELF_MAX_PHNUM)
		return "ELF file has more than 64 program headers";
	if (eh->phoff % 8 != 0)
		return "ELF program headers are misaligned";
	/* phnum <= 64, so the product cannot overflow; phoff can be huge. */
	uint64_t size = (uint64_t)eh->phnum * sizeof(struct gk_phdr);
	if (eh->phoff > hdr_len || size > hdr_len - eh->phoff)
		return "ELF program headers lie outside the header copy";
	return 0;
}

/* Appends [lo, hi) with flags, merging a page shared with the previous
 * range (byte ranges never overlap, so at most one page is shared). */
static void add_range(struct gk_elf_info *out, uint64_t lo, uint64_t hi,
		      uint32_t flags)
{
	struct gk_elf_range *last =
		out->nranges ? &out->ranges[out->nranges - 1] : 0;
	if (last && last->hi > lo) {
		uint32_t both = last->flags | flags;
		last->hi = lo; /* lo is the shared page */
		if (last->lo == last->hi)
			out->nranges--;
		out->ranges[out->nranges++] =
			(struct gk_elf_range){lo, lo + GK_ELF_PAGE, both};
		lo += GK_ELF_PAGE;
	}
	if (lo < hi)
		out->ranges[out->nranges++] =
			(struct gk_elf_range){lo, hi, flags};
}

/* Where the program headers are in the loaded image, if anywhere. */
static uint64_t find_phdr_addr(const struct gk_ehdr *eh,
			       const struct gk_phdr *ph, uint64_t bias)
{
	uint64_t size = (uint64_t)eh->phnum * sizeof(struct gk_phdr);
	for (unsigned i = 0; i < eh->phnum; i++)
		if (ph[i].type == GK_PT_PHDR)
			return ph[i].vaddr + bias;
	for (unsigned i = 0; i < eh->phnum; i++) {
		const struct gk_phdr *p = &ph[i];
		if (p->type == GK_PT_LOAD && p->offset <= eh->phoff &&
		    eh->phoff - p->offset <= p->filesz &&
		    size <= p->filesz - (eh->phoff - p->offset))
			return p->vaddr + (eh->phoff - p->offset) + bias;
	}
	return 0;
}

static const char *check_load(const struct gk_phdr *p, uint64_t bias,
			      uint64_t lo, uint64_t hi, uint64_t prev_end,
			      uint64_t *start, uint64_t *end)
{
	if (p->filesz > p->memsz)
		return "ELF segment has more file bytes than memory bytes";
	uint64_t s = p->vaddr + bias;
	if (s < p->vaddr)
		return "ELF segment address overflows";
	uint64_t e = s + p->memsz;
	if (e < s)
		return "ELF segment size overflows";
	if (s < lo || e > hi)
		return "ELF segment lies outside job memory";
	if (s < prev_end)
		return "ELF segments overlap or are out of order";
	*start = s;
	*end = e;
	return 0;
}

/* Walks the PT_LOAD segments, filling ranges, brk and the entry check. */
static const char *check_segments(const struct gk_ehdr *eh,
				  const struct gk_phdr *ph, uint64_t bias,
				  uint64_t lo, uint64_t hi,
				  struct gk_elf_info *out)
{
	uint64_t prev_end = lo;
	int entry_ok = 0, loads = 0;
	for (unsigned i = 0; i < eh->phnum; i++) {
		const struct gk_phdr *p = &ph[i];
		if (p->type == GK_PT_INTERP)
			return "dynamically linked (it names an ELF "
			       "interpreter): build it with -static";
		if (p->type != GK_PT_LOAD || p->memsz == 0)
			continue;
		uint64_t s, e;
		const char *why = check_load(p, bias, lo, hi, prev_end, &s, &e);
		if (why)
			return why;
		uint32_t flags = (p->flags & GK_PF_W ? GK_SEG_W : 0) |
				 (p->flags & GK_PF_X ? GK_SEG_X : 0);
		/* hi is page-aligned, so rounding e up cannot overflow. */
		uint64_t pe = page_down(e + GK_ELF_PAGE - 1);
		add_range(out, page_down(s), pe, flags);
		if ((p->flags & GK_PF_X) && out->entry >= s && out->entry < e)
			entry_ok = 1;
		prev_end = e;
		out->brk = pe;
		loads++;
	}
	if (!loads)
		return "ELF file has no loadable segment";
	if (!entry_ok)
		return "ELF entry point is not inside an executable segment";
	return 0;
}

const char *gk_elf_check(const void *hdr, uint64_t hdr_len, uint64_t bias,
			 uint64_t lo, uint64_t hi, struct gk_elf_info *out)
{
	const struct gk_ehdr *eh = hdr;
	if (hdr_len < sizeof(*eh))
		return "file too short for an ELF header";
	const char *why = check_ident(eh);
	if (!why)
		why = check_phdr_table(eh, hdr_len);
	if (why)
		return why;
	if (bias % GK_ELF_PAGE != 0 || (eh->type == GK_ET_EXEC && bias != 0))
		return "invalid load bias for this ELF type";
	if (lo % GK_ELF_PAGE != 0 || hi % GK_ELF_PAGE != 0 || lo >= hi)
		return "invalid job memory range";
	const struct gk_phdr *ph =
		(const struct gk_phdr *)((const char *)hdr + eh->phoff);
	out->nranges = 0;
	out->brk = 0;
	out->entry = eh->entry + bias;
	if (out->entry < eh->entry)
		return "ELF entry point overflows";
	why = check_segments(eh, ph, bias, lo, hi, out);
	if (why)
		return why;
	out->phdr = find_phdr_addr(eh, ph, bias);
	out->phnum = eh->phnum;
	out->phent = eh->phentsize;
	return 0;
}
