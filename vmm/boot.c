/*
 * Everything the guest kernel finds ready at its first instruction: its
 * segments in RAM, identity page tables, GDT, TSS, IDT, the boot
 * information block and the register state. The kernel runs no set-up code
 * of its own because ring 0 is emulated instruction by instruction on PVM.
 */
#include <gelf.h>
#include <libelf.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>

#include <linux/kvm.h>

#include "vmm/vmm_impl.h"

#define PAGE AL_PAGE_SIZE
#define PTES_PER_PAGE 512u

/* RAM (at most 2 GiB) uses PDPT entries 0 and 1; the MMIO windows need an
 * entry of their own and must fit in one page table. */
_Static_assert((AL_MMIO_VA >> 30) >= (((uint64_t)AL_MEM_MAX_MIB << 20) >> 30),
	       "MMIO windows overlap RAM's PDPT entries");
_Static_assert(((AL_MMIO_VA >> 12) & 511) + AL_MMIO_MAX <= 512,
	       "MMIO windows cross a page table");
_Static_assert(sizeof(struct al_bootinfo) <= PAGE, "bootinfo exceeds a page");

/* ---- memory layout ---- */

int layout_init(struct vm_layout *l, uint64_t mem_bytes, char *err)
{
	memset(l, 0, sizeof(*l));
	if (mem_bytes < ((uint64_t)AL_MEM_MIN_MIB << 20) ||
	    mem_bytes > ((uint64_t)AL_MEM_MAX_MIB << 20) ||
	    mem_bytes % (1ull << 20) != 0) {
		vmm_errf(err, VMM_ERR_MAX,
			 "guest memory of %llu bytes: must be whole MiB "
			 "between %u and %u MiB",
			 (unsigned long long)mem_bytes, AL_MEM_MIN_MIB,
			 AL_MEM_MAX_MIB);
		return -1;
	}
	uint64_t pages = mem_bytes / PAGE;
	l->mem_bytes = mem_bytes;
	l->n_pt = (pages + PTES_PER_PAGE - 1) / PTES_PER_PAGE;
	l->n_pd = (l->n_pt + PTES_PER_PAGE - 1) / PTES_PER_PAGE;
	uint64_t total = l->n_pt + l->n_pd + 4; /* mmio PD + PT, PDPT, PML4 */
	l->pt_base = mem_bytes - total * PAGE;
	l->pte_gpa = l->pt_base;
	l->pd_gpa = l->pte_gpa + l->n_pt * PAGE;
	l->mmio_pd_gpa = l->pd_gpa + l->n_pd * PAGE;
	l->mmio_pt_gpa = l->mmio_pd_gpa + PAGE;
	l->pdpt_gpa = l->mmio_pt_gpa + PAGE;
	l->pml4_gpa = l->pdpt_gpa + PAGE;
	l->job_base = AL_JOB_GPA;
	l->job_end = l->pt_base;
	return 0;
}

/* ---- guest kernel image ---- */

static bool libelf_ready(void)
{
	static int ok = -1;

	if (ok < 0)
		ok = elf_version(EV_CURRENT) != EV_NONE;
	return ok;
}

static int load_kernel_segment(const struct guest_mem *gm, const uint8_t *img,
			       size_t len, const Elf64_Phdr *ph,
			       struct kernel_info *ki, unsigned i, char *err)
{
	uint64_t pa = ph->p_paddr;

	if (ph->p_filesz > ph->p_memsz || ph->p_offset > len ||
	    ph->p_filesz > len - ph->p_offset) {
		vmm_errf(err, VMM_ERR_MAX,
			 "guest kernel: segment %u lies outside the image", i);
		return -1;
	}
	if (pa < AL_KERNEL_GPA || pa > AL_JOB_GPA ||
	    ph->p_memsz > AL_JOB_GPA - pa) {
		vmm_errf(err, VMM_ERR_MAX,
			 "guest kernel: segment %u at 0x%llx+0x%llx is outside "
			 "0x%llx..0x%llx",
			 i, (unsigned long long)pa,
			 (unsigned long long)ph->p_memsz,
			 (unsigned long long)AL_KERNEL_GPA,
			 (unsigned long long)AL_JOB_GPA);
		return -1;
	}
	if (ph->p_vaddr != pa) {
		vmm_errf(err, VMM_ERR_MAX,
			 "guest kernel: segment %u has vaddr 0x%llx != paddr "
			 "0x%llx (the kernel runs identity-mapped)",
			 i, (unsigned long long)ph->p_vaddr,
			 (unsigned long long)pa);
		return -1;
	}
	if (ph->p_memsz == 0)
		return 0;
	if (gm_write(gm, pa, img + ph->p_offset, ph->p_filesz) < 0 ||
	    gm_zero(gm, pa + ph->p_filesz, ph->p_memsz - ph->p_filesz) < 0) {
		vmm_errf(err, VMM_ERR_MAX,
			 "guest kernel: segment %u does not fit in guest RAM",
			 i);
		return -1;
	}
	uint8_t f = KPAGE_P;
	if (ph->p_flags & PF_W)
		f |= KPAGE_W;
	if (ph->p_flags & PF_X)
		f |= KPAGE_X;
	uint64_t first = (pa - AL_KERNEL_GPA) / PAGE;
	uint64_t end = (pa + ph->p_memsz - AL_KERNEL_GPA + PAGE - 1) / PAGE;
	/* Pages shared by two segments get the union of their rights. */
	for (uint64_t p = first; p < end; p++)
		ki->page_flags[p] |= f;
	return 0;
}

static bool kernel_text(const struct kernel_info *ki, uint64_t a)
{
	if (a < AL_KERNEL_GPA || a >= AL_JOB_GPA)
		return false;
	uint8_t f = ki->page_flags[(a - AL_KERNEL_GPA) / PAGE];
	return (f & KPAGE_P) && (f & KPAGE_X);
}

static bool kernel_stack(const struct kernel_info *ki, uint64_t top)
{
	if (top <= AL_KERNEL_GPA || top > AL_JOB_GPA || top % 16 != 0)
		return false;
	uint8_t f = ki->page_flags[(top - 1 - AL_KERNEL_GPA) / PAGE];
	return (f & KPAGE_P) && (f & KPAGE_W);
}

static int check_kernel_header(const struct kernel_info *ki, char *err)
{
	const struct al_kernel_header *h = &ki->hdr;

	if (h->magic != AL_KHDR_MAGIC || h->version != AL_KHDR_VERSION) {
		vmm_errf(err, VMM_ERR_MAX,
			 "guest kernel: " AL_KHDR_SECTION
			 " has magic 0x%x version %u, expected 0x%x version %u",
			 h->magic, h->version, AL_KHDR_MAGIC, AL_KHDR_VERSION);
		return -1;
	}
	if (!kernel_text(ki, h->entry) || !kernel_text(ki, h->syscall_entry)) {
		vmm_errf(err, VMM_ERR_MAX,
			 "guest kernel: entry 0x%llx or syscall entry 0x%llx "
			 "is not in an executable segment",
			 (unsigned long long)h->entry,
			 (unsigned long long)h->syscall_entry);
		return -1;
	}
	for (unsigned v = 0; v < AL_KHDR_VECTORS; v++) {
		if (h->vectors[v] && !kernel_text(ki, h->vectors[v])) {
			vmm_errf(err, VMM_ERR_MAX,
				 "guest kernel: vector %u handler 0x%llx is "
				 "not in an executable segment",
				 v, (unsigned long long)h->vectors[v]);
			return -1;
		}
	}
	if (!kernel_stack(ki, h->stack_top) ||
	    !kernel_stack(ki, h->ist_stack_top)) {
		vmm_errf(err, VMM_ERR_MAX,
			 "guest kernel: stack top 0x%llx or IST stack top "
			 "0x%llx is not 16-byte aligned in a writable segment",
			 (unsigned long long)h->stack_top,
			 (unsigned long long)h->ist_stack_top);
		return -1;
	}
	return 0;
}

static int find_kernel_header(Elf *e, struct kernel_info *ki, char *err)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(e, &shstrndx) != 0) {
		vmm_errf(err, VMM_ERR_MAX, "guest kernel: no section names: %s",
			 elf_errmsg(-1));
		return -1;
	}
	while ((scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr shdr, *sh = gelf_getshdr(scn, &shdr);
		if (!sh)
			continue;
		const char *name = elf_strptr(e, shstrndx, sh->sh_name);
		if (!name || strcmp(name, AL_KHDR_SECTION) != 0)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (sh->sh_type != SHT_PROGBITS || !d || !d->d_buf ||
		    d->d_size < sizeof(ki->hdr)) {
			vmm_errf(err, VMM_ERR_MAX,
				 "guest kernel: section " AL_KHDR_SECTION
				 " is shorter than struct al_kernel_header");
			return -1;
		}
		memcpy(&ki->hdr, d->d_buf, sizeof(ki->hdr));
		return check_kernel_header(ki, err);
	}
	vmm_errf(err, VMM_ERR_MAX,
		 "guest kernel: no " AL_KHDR_SECTION " section");
	return -1;
}

int boot_load_kernel(const struct guest_mem *gm, const void *image, size_t len,
		     struct kernel_info *ki, char *err)
{
	int ret = -1;
	size_t phnum;

	memset(ki, 0, sizeof(*ki));
	if (!libelf_ready()) {
		vmm_errf(err, VMM_ERR_MAX, "libelf: %s", elf_errmsg(-1));
		return -1;
	}
	/* libelf only reads a native-endian image in place; the cast drops
	 * const for its signature, not to write. */
	Elf *e = elf_memory((char *)(uintptr_t)image, len);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		vmm_errf(err, VMM_ERR_MAX, "guest kernel: not an ELF image");
		goto out;
	}
	Elf64_Ehdr *eh = elf64_getehdr(e);
	if (!eh || eh->e_machine != EM_X86_64 || eh->e_type != ET_EXEC) {
		vmm_errf(err, VMM_ERR_MAX,
			 "guest kernel: not an ELF64 x86-64 ET_EXEC image");
		goto out;
	}
	/* Headers are copied out with gelf_get*: in an image read in place,
	 * libelf's own pointers follow e_phoff and e_shoff, which need not be
	 * aligned. */
	if (elf_getphdrnum(e, &phnum) != 0 || !elf64_getphdr(e)) {
		vmm_errf(err, VMM_ERR_MAX,
			 "guest kernel: bad program headers: %s",
			 elf_errmsg(-1));
		goto out;
	}
	unsigned loads = 0;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (load_kernel_segment(gm, image, len, &ph, ki, (unsigned)i,
					err) < 0)
			goto out;
		loads++;
	}
	if (loads == 0) {
		vmm_errf(err, VMM_ERR_MAX, "guest kernel: no PT_LOAD segment");
		goto out;
	}
	ret = find_kernel_header(e, ki, err);
out:
	if (e)
		elf_end(e);
	return ret;
}

/* ---- page tables ---- */

#define PTE_KRW (AL_PTE_P | AL_PTE_W | AL_PTE_A | AL_PTE_D | AL_PTE_NX)
#define PTE_URW (PTE_KRW | AL_PTE_U)
/* Upper levels allow everything; the leaf decides. */
#define PTE_TABLE (AL_PTE_P | AL_PTE_W | AL_PTE_U | AL_PTE_A)

static uint64_t leaf_flags(const struct vm_layout *l,
			   const struct kernel_info *ki, uint64_t a)
{
	if (a >= AL_BOOTINFO_GPA && a < AL_JOBHDR_GPA + AL_JOBHDR_SIZE)
		return PTE_KRW;
	if (a >= AL_KERNEL_GPA && a < AL_JOB_GPA) {
		uint8_t f = ki->page_flags[(a - AL_KERNEL_GPA) / PAGE];
		if (!(f & KPAGE_P))
			return 0;
		uint64_t v = AL_PTE_P | AL_PTE_A;
		if (f & KPAGE_W)
			v |= AL_PTE_W | AL_PTE_D;
		if (!(f & KPAGE_X))
			v |= AL_PTE_NX;
		return v;
	}
	if (a >= l->job_base && a < l->job_end)
		return PTE_URW;
	if (a >= l->pt_base && a < l->mem_bytes)
		return PTE_KRW;
	/* page 0 (NULL guard) and the unused low and kernel pages */
	return 0;
}

static int build_page_tables(const struct guest_mem *gm,
			     const struct vm_layout *l,
			     const struct kernel_info *ki, unsigned mmio_count,
			     char *err)
{
	uint64_t n_ptes = l->n_pt * PTES_PER_PAGE;
	uint64_t upper = (l->n_pd + 4) * PAGE;
	uint64_t *pte = gm_ptr(gm, l->pte_gpa, n_ptes * 8);
	uint64_t *pd = gm_ptr(gm, l->pd_gpa, l->n_pd * PAGE);
	uint64_t *mpd = gm_ptr(gm, l->mmio_pd_gpa, PAGE);
	uint64_t *mpt = gm_ptr(gm, l->mmio_pt_gpa, PAGE);
	uint64_t *pdpt = gm_ptr(gm, l->pdpt_gpa, PAGE);
	uint64_t *pml4 = gm_ptr(gm, l->pml4_gpa, PAGE);

	if (!pte || !pd || !mpd || !mpt || !pdpt || !pml4 ||
	    gm_zero(gm, l->pd_gpa, upper) < 0 || mmio_count > AL_MMIO_MAX) {
		vmm_errf(err, VMM_ERR_MAX, "page tables do not fit in RAM");
		return -1;
	}
	gm_mark(gm, l->pte_gpa, n_ptes * 8);
	for (uint64_t i = 0; i < n_ptes; i++) {
		uint64_t a = i * PAGE;
		uint64_t f = a < l->mem_bytes ? leaf_flags(l, ki, a) : 0;
		pte[i] = f ? (a | f) : 0;
	}
	for (uint64_t i = 0; i < l->n_pt; i++)
		pd[i] = (l->pte_gpa + i * PAGE) | PTE_TABLE;
	for (uint64_t i = 0; i < l->n_pd; i++)
		pdpt[i] = (l->pd_gpa + i * PAGE) | PTE_TABLE;

	/* MMIO windows: supervisor only, uncached, never executable. Only
	 * the slots in use, so a stray access faults in the guest. */
	pdpt[(AL_MMIO_VA >> 30) & 511] =
	    l->mmio_pd_gpa | AL_PTE_P | AL_PTE_W | AL_PTE_A;
	mpd[(AL_MMIO_VA >> 21) & 511] =
	    l->mmio_pt_gpa | AL_PTE_P | AL_PTE_W | AL_PTE_A;
	for (unsigned i = 0; i < mmio_count; i++)
		mpt[((AL_MMIO_VA >> 12) & 511) + i] =
		    (AL_MMIO_GPA + i * AL_MMIO_SLOT_SIZE) | AL_PTE_P |
		    AL_PTE_W | AL_PTE_PCD | AL_PTE_PWT | AL_PTE_A | AL_PTE_D |
		    AL_PTE_NX;
	pml4[0] = l->pdpt_gpa | PTE_TABLE;
	return 0;
}

/* ---- GDT, TSS, IDT ---- */

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss64) == 104, "TSS layout");

#define TSS_LIMIT (sizeof(struct tss64) - 1)
#define GDT_ENTRIES 7 /* null, kcode, kdata, udata, ucode, TSS (2) */
#define GDT_LIMIT (GDT_ENTRIES * 8 - 1)
_Static_assert(AL_TSS_GPA >= AL_GDT_GPA + GDT_ENTRIES * 8, "GDT hits TSS");

/* Access bytes: P | DPL | S | type. Code 0xB = execute/read, accessed;
 * data 0x3 = read/write, accessed (set so the CPU never writes the GDT). */
#define ACC_KCODE 0x9b
#define ACC_KDATA 0x93
#define ACC_UDATA 0xf3
#define ACC_UCODE 0xfb
#define ACC_TSS_BUSY 0x8b /* matches TR as loaded: type 11, busy */
#define FLG_CODE64 0xa	  /* G, L */
#define FLG_DATA 0xc	  /* G, D/B */

static uint64_t gdt_entry(uint32_t base, uint32_t limit, uint8_t access,
			  uint8_t flags)
{
	return (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) |
	       ((uint64_t)access << 40) |
	       ((uint64_t)((limit >> 16) & 0xf) << 48) |
	       ((uint64_t)(flags & 0xf) << 52) | ((uint64_t)(base >> 24) << 56);
}

static int build_gdt_tss(const struct guest_mem *gm,
			 const struct al_kernel_header *k)
{
	uint64_t gdt[GDT_ENTRIES] = {
	    0,
	    gdt_entry(0, 0xfffff, ACC_KCODE, FLG_CODE64),
	    gdt_entry(0, 0xfffff, ACC_KDATA, FLG_DATA),
	    gdt_entry(0, 0xfffff, ACC_UDATA, FLG_DATA),
	    gdt_entry(0, 0xfffff, ACC_UCODE, FLG_CODE64),
	    gdt_entry((uint32_t)AL_TSS_GPA, TSS_LIMIT, ACC_TSS_BUSY, 0),
	    AL_TSS_GPA >> 32,
	};
	struct tss64 tss;

	memset(&tss, 0, sizeof(tss));
	tss.rsp[0] = k->stack_top;
	tss.ist[0] = k->ist_stack_top;
	/* Bitmap offset past the limit: no I/O permission bitmap, so ring 3
	 * port I/O always faults. */
	tss.iomap_base = sizeof(tss);
	if (gm_write(gm, AL_GDT_GPA, gdt, sizeof(gdt)) < 0 ||
	    gm_write(gm, AL_TSS_GPA, &tss, sizeof(tss)) < 0)
		return -1;
	return 0;
}

#define GATE_INTR 0x8e /* P, DPL 0, 64-bit interrupt gate */

static int build_idt(const struct guest_mem *gm,
		     const struct al_kernel_header *k)
{
	uint64_t *idt = gm_ptr(gm, AL_IDT_GPA, 256 * 16);

	if (!idt)
		return -1;
	gm_mark(gm, AL_IDT_GPA, 256 * 16);
	memset(idt, 0, 256 * 16);
	for (unsigned v = 0; v < AL_KHDR_VECTORS; v++) {
		uint64_t off = k->vectors[v];
		if (!off)
			continue;
		/* NMI, #DF and #MC switch to the IST stack: they can arrive
		 * with a broken kernel stack. */
		uint64_t ist = (v == 2 || v == 8 || v == 18) ? 1 : 0;
		idt[2 * v] = (off & 0xffff) | ((uint64_t)AL_SEL_KCODE << 16) |
			     (ist << 32) | ((uint64_t)GATE_INTR << 40) |
			     (((off >> 16) & 0xffff) << 48);
		idt[2 * v + 1] = off >> 32;
	}
	return 0;
}

int boot_build_tables(const struct guest_mem *gm, const struct vm_layout *l,
		      const struct kernel_info *ki, unsigned mmio_count,
		      char *err)
{
	if (build_page_tables(gm, l, ki, mmio_count, err) < 0)
		return -1;
	if (build_gdt_tss(gm, &ki->hdr) < 0 || build_idt(gm, &ki->hdr) < 0) {
		vmm_errf(err, VMM_ERR_MAX, "GDT/IDT do not fit in guest RAM");
		return -1;
	}
	return 0;
}

/* ---- boot information ---- */

int boot_write_bootinfo(const struct guest_mem *gm, const struct vm_layout *l,
			const struct al_mmio_slot *slots, unsigned mmio_count,
			uint64_t tsc_khz, uint32_t flags, char *err)
{
	struct al_bootinfo bi;

	memset(&bi, 0, sizeof(bi));
	if (mmio_count > AL_MMIO_MAX) {
		vmm_errf(err, VMM_ERR_MAX, "too many devices (%u)", mmio_count);
		return -1;
	}
	bi.magic = AL_BOOTINFO_MAGIC;
	bi.version = AL_BOOT_VERSION;
	bi.mem_bytes = l->mem_bytes;
	bi.job_base = l->job_base;
	bi.job_end = l->job_end;
	bi.pt_base = l->pt_base;
	bi.pml4_gpa = l->pml4_gpa;
	bi.pte_gpa = l->pte_gpa;
	bi.tsc_khz = tsc_khz;
	if (getrandom(&bi.fresh, sizeof(bi.fresh), 0) !=
	    (ssize_t)sizeof(bi.fresh)) {
		vmm_errf(err, VMM_ERR_MAX,
			 "getrandom for the guest seed failed");
		return -1;
	}
	bi.flags = flags;
	bi.mmio_count = mmio_count;
	for (unsigned i = 0; i < mmio_count; i++)
		bi.mmio[i] = slots[i];
	if (gm_write(gm, AL_BOOTINFO_GPA, &bi, sizeof(bi)) < 0) {
		vmm_errf(err, VMM_ERR_MAX, "boot information outside RAM");
		return -1;
	}
	return 0;
}

int boot_set_clock(const struct guest_mem *gm, uint64_t tsc_base,
		   uint64_t realtime_ns)
{
	uint64_t gpa = AL_BOOTINFO_GPA;

	if (gm_write(gm, gpa + offsetof(struct al_bootinfo, tsc_base),
		     &tsc_base, 8) < 0 ||
	    gm_write(gm, gpa + offsetof(struct al_bootinfo, realtime_ns),
		     &realtime_ns, 8) < 0)
		return -1;
	return 0;
}

/* ---- registers ---- */

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18) /* the job's RFLAGS.AC gives #AC, as on Linux */
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_PGE (1ull << 7)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_SMEP (1ull << 20)
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

static struct kvm_segment flat_segment(uint16_t sel, uint8_t type, bool code)
{
	struct kvm_segment s;

	memset(&s, 0, sizeof(s));
	s.base = 0;
	s.limit = 0xffffffff;
	s.selector = sel;
	s.type = type;
	s.present = 1;
	s.dpl = 0;
	s.s = 1;
	s.g = 1;
	s.l = code;   /* 64-bit code */
	s.db = !code; /* must be 0 when L is set */
	return s;
}

void boot_sregs(struct kvm_sregs *s, uint64_t cr3, bool smep)
{
	s->cs = flat_segment(AL_SEL_KCODE, 11, true);
	s->ds = flat_segment(AL_SEL_KDATA, 3, false);
	s->es = s->ds;
	s->ss = s->ds;
	/* FS and GS: null selectors with base 0, the cache left usable so
	 * every VM-entry check passes. */
	s->fs = flat_segment(0, 3, false);
	s->gs = s->fs;

	memset(&s->tr, 0, sizeof(s->tr));
	s->tr.base = AL_TSS_GPA;
	s->tr.limit = TSS_LIMIT;
	s->tr.selector = AL_SEL_TSS;
	s->tr.type = 11; /* 64-bit TSS, busy */
	s->tr.present = 1;

	memset(&s->ldt, 0, sizeof(s->ldt));
	s->ldt.limit = 0xffff;
	s->ldt.type = 2;
	s->ldt.present = 1;

	memset(&s->gdt, 0, sizeof(s->gdt));
	s->gdt.base = AL_GDT_GPA;
	s->gdt.limit = GDT_LIMIT;
	memset(&s->idt, 0, sizeof(s->idt));
	s->idt.base = AL_IDT_GPA;
	s->idt.limit = 256 * 16 - 1;

	s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	s->cr2 = 0;
	s->cr3 = cr3;
	s->cr4 = CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	if (smep)
		s->cr4 |= CR4_SMEP;
	s->cr8 = 0;
	s->efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
}

void boot_regs(struct kvm_regs *r, const struct al_kernel_header *k)
{
	memset(r, 0, sizeof(*r));
	r->rflags = 0x2;
	r->rip = k->entry;
	r->rsp = k->stack_top;
	r->rdi = AL_BOOTINFO_GPA;
}

int boot_reseed(const struct guest_mem *gm, char *err)
{
	struct al_fresh f;
	if (getrandom(&f, sizeof(f), 0) != (ssize_t)sizeof(f) ||
	    gm_write(gm, AL_BOOTINFO_GPA + offsetof(struct al_bootinfo, fresh),
		     &f, sizeof(f)) < 0) {
		vmm_errf(err, VMM_ERR_MAX,
			 "getrandom for the guest seed failed");
		return -1;
	}
	return 0;
}
