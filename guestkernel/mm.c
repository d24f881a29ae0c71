/*
 * Job memory. The VMM maps the whole job region eagerly (present, user,
 * writable, NX) and the kernel only edits leaf PTEs in the flat array at
 * bootinfo->pte_gpa. brk and mmap are bookkeeping over the free ranges
 * (host/extent.c); memory handed out a second time is zeroed here, memory
 * never handed out is still zero from the pristine image.
 */
#include "gk.h"

#include "host/extent.c"

#define PTE_PERM (AL_PTE_P | AL_PTE_W | AL_PTE_NX)
#define PTE_DEFAULT (AL_PTE_P | AL_PTE_W | AL_PTE_NX) /* as the VMM maps */
#define FLUSH_ALL_PAGES 32 /* above this, one CR3 reload beats invlpgs */

#define PROT_READ 1
#define PROT_WRITE 2
#define PROT_EXEC 4
#define MAP_FIXED 0x10
#define MAP_FIXED_NOREPLACE 0x100000
#define MREMAP_MAYMOVE 1
#define MADV_DONTNEED 4

extern char gk_kstack_guard[];

static uint64_t *ptes;
static uint64_t job_base, job_end;
static struct gk_extents free_ranges;
/* Job memory the kernel took for files ("free" here means kernel-held);
 * never given back, so chunks stay few and merged. */
static struct gk_extents kernel_ranges;
static uint64_t kernel_bytes;
static uint64_t brk_start, brk_cur, map_top;

static void check_layout(const struct al_bootinfo *bi)
{
	uint64_t pages = bi->mem_bytes >> AL_PAGE_SHIFT;
	bool ok = bi->job_base >= AL_JOB_GPA && bi->job_base < bi->job_end &&
		  bi->job_base % AL_PAGE_SIZE == 0 &&
		  bi->job_end % AL_PAGE_SIZE == 0 &&
		  bi->job_end <= bi->pt_base && bi->pt_base <= bi->mem_bytes &&
		  bi->mem_bytes <= AL_MMIO_VA && bi->pte_gpa >= bi->pt_base &&
		  bi->pte_gpa % 8 == 0 && bi->pte_gpa < bi->mem_bytes &&
		  pages <= (bi->mem_bytes - bi->pte_gpa) / 8;
	if (!ok)
		gk_panic("boot block memory layout is inconsistent (job %x-%x, "
			 "page tables %x, PTEs %x, RAM %x)",
			 bi->job_base, bi->job_end, bi->pt_base, bi->pte_gpa,
			 bi->mem_bytes);
}

void mm_boot(void)
{
	struct al_bootinfo *bi = GK_BI;
	check_layout(bi);
	ptes = (uint64_t *)bi->pte_gpa;
	job_base = bi->job_base;
	job_end = bi->job_end;
	/* An overflow of the kernel stack faults instead of corrupting. */
	uint64_t guard = (uint64_t)(uintptr_t)gk_kstack_guard;
	ptes[guard >> AL_PAGE_SHIFT] &= ~AL_PTE_P;
	pf_tlb_flush_page(guard);
}

uint64_t mm_job_base(void)
{
	return job_base;
}

uint64_t mm_job_end(void)
{
	return job_end;
}

static bool in_job(uint64_t addr, uint64_t len)
{
	return addr >= job_base && addr <= job_end && len <= job_end - addr;
}

bool user_ok(uint64_t addr, uint64_t len, bool write)
{
	if (!len)
		return true;
	if (!in_job(addr, len))
		return false;
	uint64_t need = AL_PTE_P | AL_PTE_U | (write ? AL_PTE_W : 0);
	uint64_t last = (addr + len - 1) >> AL_PAGE_SHIFT;
	for (uint64_t i = addr >> AL_PAGE_SHIFT; i <= last; i++)
		if ((ptes[i] & need) != need)
			return false;
	return true;
}

uint64_t mm_prot_bits(unsigned long prot)
{
	if (!(prot & (PROT_READ | PROT_WRITE | PROT_EXEC)))
		return 0; /* PROT_NONE: not present */
	uint64_t bits = AL_PTE_P;
	if (prot & PROT_WRITE)
		bits |= AL_PTE_W;
	if (!(prot & PROT_EXEC))
		bits |= AL_PTE_NX;
	return bits;
}

void mm_set_pte_bits_noflush(uint64_t lo, uint64_t hi, uint64_t bits)
{
	if (lo < job_base || hi > job_end || lo > hi)
		gk_panic("PTE edit %x-%x outside the job region", lo, hi);
	for (uint64_t i = lo >> AL_PAGE_SHIFT; i < hi >> AL_PAGE_SHIFT; i++)
		ptes[i] = (ptes[i] & ~PTE_PERM) | bits;
}

void mm_set_pte_bits(uint64_t lo, uint64_t hi, uint64_t bits)
{
	mm_set_pte_bits_noflush(lo, hi, bits);
	if ((hi - lo) >> AL_PAGE_SHIFT > FLUSH_ALL_PAGES) {
		pf_tlb_flush_all();
		return;
	}
	for (uint64_t a = lo; a < hi; a += AL_PAGE_SIZE)
		pf_tlb_flush_page(a);
}

/* ---- brk and mmap bookkeeping --------------------------------------------- */

/* The job may not map, unmap or re-protect memory the kernel holds. */
static bool kernel_holds(uint64_t lo, uint64_t hi)
{
	return gk_ext_any_free(&kernel_ranges, lo, hi);
}

void mm_job_init(uint64_t brk, uint64_t top)
{
	brk_start = brk_cur = brk;
	map_top = top;
	gk_ext_init(&free_ranges, brk, top);
}

/* Memory used before goes back to the job mapped read-write and zeroed. */
static void reuse_piece(uint64_t lo, uint64_t hi, void *ctx)
{
	(void)ctx;
	mm_set_pte_bits(lo, hi, PTE_DEFAULT);
	gk_zero((void *)(uintptr_t)lo, hi - lo);
}

/* Memory given back stops being accessible, as on Linux. */
static void unmap_piece(uint64_t lo, uint64_t hi, void *ctx)
{
	(void)ctx;
	mm_set_pte_bits(lo, hi, 0);
}

long mm_brk(uint64_t addr)
{
	if (addr < brk_start || addr > map_top)
		return (long)brk_cur;
	uint64_t old_top = gk_page_up(brk_cur), new_top = gk_page_up(addr);
	if (new_top > old_top) {
		if (!gk_ext_all_free(&free_ranges, old_top, new_top) ||
		    gk_ext_take(&free_ranges, old_top, new_top, reuse_piece,
				0) < 0)
			return (long)brk_cur;
	} else if (new_top < old_top) {
		if (gk_ext_release(&free_ranges, new_top, old_top, unmap_piece,
				   0) < 0)
			return (long)brk_cur;
	}
	brk_cur = addr;
	return (long)addr;
}

static long map_fixed(uint64_t addr, uint64_t len, unsigned long prot,
		      unsigned long flags)
{
	if (addr % AL_PAGE_SIZE)
		return -EINVAL;
	if (!in_job(addr, len) || kernel_holds(addr, addr + len))
		return -ENOMEM;
	if ((flags & MAP_FIXED_NOREPLACE) && !(flags & MAP_FIXED) &&
	    !gk_ext_all_free(&free_ranges, addr, addr + len))
		return -EEXIST;
	/* Whatever was there (in use or dirty) is replaced by zeroes. */
	if (gk_ext_take(&free_ranges, addr, addr + len, reuse_piece, 0) < 0)
		return -ENOMEM;
	mm_set_pte_bits(addr, addr + len, mm_prot_bits(prot));
	return (long)addr;
}

long mm_mmap(uint64_t addr, uint64_t len, unsigned long prot,
	     unsigned long flags)
{
	if (!len)
		return -EINVAL;
	if (len > job_end - job_base)
		return -ENOMEM;
	len = gk_page_up(len);
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))
		return map_fixed(addr, len, prot, flags);
	bool hint_ok = addr && addr % AL_PAGE_SIZE == 0 && in_job(addr, len) &&
		       gk_ext_all_free(&free_ranges, addr, addr + len);
	if (!hint_ok)
		addr = gk_ext_find(&free_ranges, len);
	if (!addr)
		return -ENOMEM;
	if (gk_ext_take(&free_ranges, addr, addr + len, reuse_piece, 0) < 0)
		return -ENOMEM;
	uint64_t bits = mm_prot_bits(prot);
	if (bits != PTE_DEFAULT)
		mm_set_pte_bits(addr, addr + len, bits);
	return (long)addr;
}

long mm_munmap(uint64_t addr, uint64_t len)
{
	if (addr % AL_PAGE_SIZE || !len || addr + len < addr)
		return -EINVAL;
	uint64_t lo = GK_MAX(addr, job_base);
	uint64_t hi = GK_MIN(gk_page_up(addr + len), job_end);
	if (lo >= hi)
		return 0; /* nothing of ours there */
	if (kernel_holds(lo, hi))
		return -EINVAL;
	if (gk_ext_release(&free_ranges, lo, hi, unmap_piece, 0) < 0)
		return -ENOMEM;
	return 0;
}

long mm_mprotect(uint64_t addr, uint64_t len, unsigned long prot)
{
	if (addr % AL_PAGE_SIZE ||
	    (prot & ~(unsigned long)(PROT_READ | PROT_WRITE | PROT_EXEC |
				     0x03000000 /* GROWSDOWN|GROWSUP */)))
		return -EINVAL;
	if (!len)
		return 0;
	len = gk_page_up(len);
	if (!len || !in_job(addr, len) ||
	    gk_ext_any_free(&free_ranges, addr, addr + len) ||
	    kernel_holds(addr, addr + len))
		return -ENOMEM;
	mm_set_pte_bits(addr, addr + len, mm_prot_bits(prot));
	return 0;
}

long mm_mremap(uint64_t old, uint64_t old_len, uint64_t new_len,
	       unsigned long flags)
{
	if (old % AL_PAGE_SIZE || !new_len || (flags & ~MREMAP_MAYMOVE))
		return -EINVAL;
	old_len = gk_page_up(old_len);
	new_len = gk_page_up(new_len);
	if (!old_len || !new_len || !in_job(old, old_len) ||
	    gk_ext_any_free(&free_ranges, old, old + old_len) ||
	    kernel_holds(old, old + old_len))
		return -EFAULT;
	if (new_len <= old_len) {
		if (gk_ext_release(&free_ranges, old + new_len, old + old_len,
				   unmap_piece, 0) < 0)
			return -ENOMEM;
		return (long)old;
	}
	/* Grow in place only: a move would copy in ring 0, while the C
	 * library's fallback (allocate, copy, free) copies natively. */
	uint64_t end = old + old_len, grow = new_len - old_len;
	if (!in_job(end, grow) ||
	    !gk_ext_all_free(&free_ranges, end, end + grow) ||
	    gk_ext_take(&free_ranges, end, end + grow, reuse_piece, 0) < 0)
		return -ENOMEM;
	uint64_t bits = ptes[(end - 1) >> AL_PAGE_SHIFT] & PTE_PERM;
	if (bits != PTE_DEFAULT)
		mm_set_pte_bits(end, end + grow, bits);
	return (long)old;
}

long mm_madvise(uint64_t addr, uint64_t len, long advice)
{
	if (addr % AL_PAGE_SIZE)
		return -EINVAL;
	if (advice != MADV_DONTNEED || !len)
		return 0; /* advice only */
	len = gk_page_up(len);
	if (!len || !in_job(addr, len) || kernel_holds(addr, addr + len))
		return -ENOMEM;
	/* DONTNEED on private anonymous memory reads back as zeroes. */
	for (uint64_t a = addr; a < addr + len; a += AL_PAGE_SIZE) {
		uint64_t pte = ptes[a >> AL_PAGE_SHIFT];
		if ((pte & (AL_PTE_P | AL_PTE_W)) == (AL_PTE_P | AL_PTE_W))
			gk_zero((void *)(uintptr_t)a, AL_PAGE_SIZE);
	}
	return 0;
}

/* ---- memory the kernel holds for files ----------------------------------- */

uint64_t mm_kernel_grow(uint64_t len)
{
	/* As Linux sizes tmpfs: at most half of memory goes to files. */
	if (len > (job_end - job_base) / 2 - kernel_bytes)
		return 0;
	uint64_t addr = gk_ext_find(&free_ranges, len);
	if (!addr || gk_ext_take(&free_ranges, addr, addr + len, reuse_piece,
				 0) < 0)
		return 0;
	if (gk_ext_release(&kernel_ranges, addr, addr + len, 0, 0) < 0) {
		gk_ext_release(&free_ranges, addr, addr + len, unmap_piece, 0);
		return 0;
	}
	/* Supervisor-only: the job's accesses fault, user_ok refuses it. */
	for (uint64_t a = addr; a < addr + len; a += AL_PAGE_SIZE)
		ptes[a >> AL_PAGE_SHIFT] &= ~AL_PTE_U;
	pf_tlb_flush_all();
	kernel_bytes += len;
	return addr;
}
