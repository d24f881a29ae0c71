/*
 * Boot state without /dev/kvm: a guest kernel ELF built byte by byte is
 * loaded, the page tables are walked in software, and GDT, TSS, IDT,
 * boot information and register state are checked field by field.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <stddef.h>
#include <string.h>

#include <linux/kvm.h>

#include "vmm/vmm_impl.h"

#define TEXT 0x100000ull
#define DATA 0x102000ull
#define HDR_OFF 0x2000u /* file offset of the data segment */
#define STR_OFF 0x3000u
#define SH_OFF 0x3040u
#define FILE_SIZE (SH_OFF + 3 * sizeof(Elf64_Shdr))

static uint8_t image[FILE_SIZE];
static struct guest_mem gm;
static struct vm_layout lay;
static struct kernel_info ki;
static char err[VMM_ERR_MAX];

static struct al_kernel_header khdr(void)
{
	struct al_kernel_header h;
	memset(&h, 0, sizeof(h));
	h.magic = AL_KHDR_MAGIC;
	h.version = AL_KHDR_VERSION;
	h.entry = TEXT + 0x10;
	h.syscall_entry = TEXT + 0x20;
	h.stack_top = DATA + 0x3000; /* top of the bss */
	h.ist_stack_top = DATA + 0x2000;
	for (unsigned v = 0; v < AL_KHDR_VECTORS; v++)
		if (v != 15) /* reserved vector left empty */
			h.vectors[v] = TEXT + 0x100 + 16 * v;
	return h;
}

static void build_image(const struct al_kernel_header *h)
{
	memset(image, 0, sizeof(image));
	Elf64_Ehdr eh = {0};
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = h->entry;
	eh.e_phoff = sizeof(eh);
	eh.e_shoff = SH_OFF;
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 2;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 3;
	eh.e_shstrndx = 2;
	memcpy(image, &eh, sizeof(eh));
	Elf64_Phdr ph[2] = {
	    {PT_LOAD, PF_R | PF_X, 0x1000, TEXT, TEXT, 0x1000, 0x1000, 0x1000},
	    {PT_LOAD, PF_R | PF_W, HDR_OFF, DATA, DATA, 0x1000, 0x3000, 0x1000},
	};
	memcpy(image + sizeof(eh), ph, sizeof(ph));
	memset(image + 0x1000, 0x90, 0x1000); /* nops */
	memcpy(image + HDR_OFF, h, sizeof(*h));
	static const char names[] = "\0.al_header\0.shstrtab";
	memcpy(image + STR_OFF, names, sizeof(names));
	Elf64_Shdr sh[3] = {
	    {0},
	    {1, SHT_PROGBITS, SHF_ALLOC, DATA, HDR_OFF, sizeof(*h), 0, 0, 8, 0},
	    {12, SHT_STRTAB, 0, 0, STR_OFF, sizeof(names), 0, 0, 1, 0},
	};
	memcpy(image + SH_OFF, sh, sizeof(sh));
}

static void boot(uint64_t mem)
{
	cr_assert_eq(layout_init(&lay, mem, err), 0, "%s", err);
	cr_assert_eq(gm_create(&gm, mem, err), 0, "%s", err);
	cr_assert_eq(boot_load_kernel(&gm, image, sizeof(image), &ki, err), 0,
		     "%s", err);
	cr_assert_eq(boot_build_tables(&gm, &lay, &ki, 1, err), 0, "%s", err);
}

static void setup(void)
{
	struct al_kernel_header h = khdr();
	build_image(&h);
}

static void teardown(void)
{
	gm_destroy(&gm);
}

TestSuite(vmm_boot, .init = setup, .fini = teardown);

static uint64_t q(uint64_t gpa)
{
	uint64_t v;
	cr_assert_eq(gm_read(&gm, gpa, &v, 8), 0, "read at 0x%llx",
		     (unsigned long long)gpa);
	return v;
}

/* Software page walk: the leaf PTE's address (0 if not present above). */
static uint64_t walk(uint64_t va, uint64_t *leaf_gpa)
{
	uint64_t t = lay.pml4_gpa;
	for (int level = 3; level >= 0; level--) {
		uint64_t e_gpa = t + ((va >> (12 + 9 * level)) & 511) * 8;
		uint64_t e = q(e_gpa);
		if (level == 0) {
			*leaf_gpa = e_gpa;
			return e;
		}
		if (!(e & AL_PTE_P))
			return 0;
		cr_assert_eq(e & (1 << 7), 0, "no large pages");
		cr_assert_eq(e & AL_PTE_NX, 0);
		t = e & AL_PTE_ADDR;
	}
	return 0;
}

static void check_page(uint64_t a, uint64_t want_flags)
{
	uint64_t leaf = 0;
	uint64_t e = walk(a, &leaf);
	uint64_t mask = AL_PTE_P | AL_PTE_W | AL_PTE_U | AL_PTE_NX |
			AL_PTE_PCD | AL_PTE_PWT;
	cr_assert_eq(e & mask, want_flags, "page 0x%llx: pte 0x%llx",
		     (unsigned long long)a, (unsigned long long)e);
	if (e & AL_PTE_P) {
		cr_assert_eq(e & AL_PTE_ADDR, a, "identity at 0x%llx",
			     (unsigned long long)a);
		/* and the leaf sits in the flat array */
		cr_assert_eq(leaf, lay.pte_gpa + (a >> 12) * 8,
			     "flat PTE index for 0x%llx",
			     (unsigned long long)a);
	}
}

#define KRW (AL_PTE_P | AL_PTE_W | AL_PTE_NX)
#define URW (KRW | AL_PTE_U)

Test(vmm_boot, page_tables_follow_the_memory_map)
{
	boot(16ull << 20);
	check_page(0, 0);
	check_page(AL_BOOTINFO_GPA, KRW);
	check_page(AL_GDT_GPA, KRW);
	check_page(AL_IDT_GPA, KRW);
	check_page(AL_JOBHDR_GPA, KRW);
	check_page(0x5000, 0);
	check_page(0xff000, 0);
	check_page(TEXT, AL_PTE_P);	/* RX */
	check_page(TEXT + 0x1000, 0);	/* gap */
	check_page(DATA, KRW);		/* data */
	check_page(DATA + 0x2000, KRW); /* bss */
	check_page(DATA + 0x3000, 0);
	check_page(AL_JOB_GPA, URW);
	check_page(lay.job_end - 0x1000, URW);
	check_page(lay.pt_base, KRW);
	check_page(lay.pml4_gpa, KRW);
	check_page((16ull << 20) - 0x1000, KRW);
	/* past RAM: nothing */
	uint64_t leaf;
	cr_assert_eq(walk(16ull << 20, &leaf), 0);
}

Test(vmm_boot, mmio_window_is_mapped_uncached)
{
	uint64_t leaf;
	boot(16ull << 20);
	uint64_t e = walk(AL_MMIO_VA, &leaf);
	cr_assert_eq(e & AL_PTE_ADDR, AL_MMIO_GPA);
	cr_assert(e & AL_PTE_P);
	cr_assert(e & AL_PTE_W);
	cr_assert(e & AL_PTE_NX);
	cr_assert(e & AL_PTE_PCD);
	cr_assert(e & AL_PTE_PWT);
	cr_assert_not(e & AL_PTE_U);
	/* only the slots in use */
	cr_assert_eq(walk(AL_MMIO_VA + AL_MMIO_SLOT_SIZE, &leaf), 0);
}

Test(vmm_boot, layout_for_all_sizes)
{
	for (uint64_t mib = AL_MEM_MIN_MIB; mib <= AL_MEM_MAX_MIB; mib *= 2) {
		struct vm_layout l;
		uint64_t mem = mib << 20;
		cr_assert_eq(layout_init(&l, mem, err), 0, "%s", err);
		cr_assert_eq(l.pml4_gpa + AL_PAGE_SIZE, mem);
		cr_assert_eq(l.pte_gpa, l.pt_base);
		cr_assert_eq(l.job_end, l.pt_base);
		cr_assert_geq(l.n_pt * 512 * AL_PAGE_SIZE, mem);
		cr_assert_eq(l.pt_base % AL_PAGE_SIZE, 0);
	}
	struct vm_layout l;
	cr_assert_eq(layout_init(&l, 8ull << 20, err), -1);
	cr_assert_eq(layout_init(&l, 4096ull << 20, err), -1);
	cr_assert_eq(layout_init(&l, (16ull << 20) + 4096, err), -1);
}

Test(vmm_boot, large_guest_maps_every_page, .timeout = 30)
{
	boot(1024ull << 20);
	check_page(AL_JOB_GPA, URW);
	check_page(lay.pt_base - 0x1000, URW);
	check_page(lay.pt_base, KRW);
	check_page(0x20000000, URW);
}

Test(vmm_boot, gdt_tss_idt)
{
	boot(16ull << 20);
	cr_assert_eq(q(AL_GDT_GPA + 0x00), 0);
	cr_assert_eq(q(AL_GDT_GPA + 0x08), 0x00af9b000000ffffull);
	cr_assert_eq(q(AL_GDT_GPA + 0x10), 0x00cf93000000ffffull);
	cr_assert_eq(q(AL_GDT_GPA + 0x18), 0x00cff3000000ffffull);
	cr_assert_eq(q(AL_GDT_GPA + 0x20), 0x00affb000000ffffull);
	/* TSS: base 0x2100, limit 103, busy 64-bit TSS, present */
	cr_assert_eq(q(AL_GDT_GPA + 0x28), 0x00008b0021000067ull);
	cr_assert_eq(q(AL_GDT_GPA + 0x30), 0);

	struct al_kernel_header h = khdr();
	cr_assert_eq(q(AL_TSS_GPA + 4), h.stack_top);	   /* RSP0 */
	cr_assert_eq(q(AL_TSS_GPA + 36), h.ist_stack_top); /* IST1 */
	uint16_t iomap;
	gm_read(&gm, AL_TSS_GPA + 102, &iomap, 2);
	cr_assert_eq(iomap, 104);

	for (unsigned v = 0; v < 256; v++) {
		uint64_t lo = q(AL_IDT_GPA + 16 * v),
			 hi = q(AL_IDT_GPA + 16 * v + 8);
		if (v >= AL_KHDR_VECTORS || !h.vectors[v]) {
			cr_assert_eq(lo, 0, "vector %u", v);
			cr_assert_eq(hi, 0);
			continue;
		}
		uint64_t off =
		    (lo & 0xffff) | ((lo >> 32) & 0xffff0000) | (hi << 32);
		cr_assert_eq(off, h.vectors[v], "vector %u", v);
		cr_assert_eq((lo >> 16) & 0xffff, AL_SEL_KCODE);
		cr_assert_eq((lo >> 40) & 0xff, 0x8e, "vector %u type", v);
		unsigned ist = (lo >> 32) & 7;
		cr_assert_eq(ist, (v == 2 || v == 8 || v == 18) ? 1 : 0,
			     "vector %u ist", v);
	}
}

Test(vmm_boot, bootinfo_fields)
{
	struct al_mmio_slot slot = {AL_MMIO_GPA, AL_MMIO_VA, VIRTIO_ID_VSOCK,
				    0};
	struct al_bootinfo bi, bi2;
	boot(32ull << 20);
	cr_assert_eq(boot_write_bootinfo(&gm, &lay, &slot, 1, 2000000,
					 AL_BOOT_F_VERBOSE, err),
		     0, "%s", err);
	cr_assert_eq(boot_set_clock(&gm, 12345, 67890), 0);
	gm_read(&gm, AL_BOOTINFO_GPA, &bi, sizeof(bi));
	cr_assert_eq(bi.magic, AL_BOOTINFO_MAGIC);
	cr_assert_eq(bi.version, AL_BOOT_VERSION);
	cr_assert_eq(bi.mem_bytes, 32ull << 20);
	cr_assert_eq(bi.job_base, AL_JOB_GPA);
	cr_assert_eq(bi.job_end, lay.pt_base);
	cr_assert_eq(bi.pt_base, lay.pt_base);
	cr_assert_eq(bi.pml4_gpa, lay.pml4_gpa);
	cr_assert_eq(bi.pte_gpa, lay.pte_gpa);
	cr_assert_eq(bi.tsc_khz, 2000000);
	cr_assert_eq(bi.tsc_base, 12345);
	cr_assert_eq(bi.realtime_ns, 67890);
	cr_assert_eq(bi.flags, AL_BOOT_F_VERBOSE);
	cr_assert_eq(bi.mmio_count, 1);
	cr_assert_eq(bi.mmio[0].gpa, AL_MMIO_GPA);
	cr_assert_eq(bi.mmio[0].va, AL_MMIO_VA);
	cr_assert_eq(bi.mmio[0].device_id, VIRTIO_ID_VSOCK);
	cr_assert_eq(bi.panic_flag, 0);
	cr_assert_eq(bi.wake_after_ns, 0);
	/* a fresh seed and AT_RANDOM every time */
	cr_assert_eq(boot_write_bootinfo(&gm, &lay, &slot, 1, 1, 0, err), 0);
	gm_read(&gm, AL_BOOTINFO_GPA, &bi2, sizeof(bi2));
	cr_assert(memcmp(bi.fresh.seed, bi2.fresh.seed,
			 sizeof(bi.fresh.seed)) != 0);
	cr_assert(memcmp(bi.fresh.at_random, bi2.fresh.at_random,
			 sizeof(bi.fresh.at_random)) != 0);
}

Test(vmm_boot, register_state_at_entry)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	struct al_kernel_header h = khdr();

	memset(&s, 0xff, sizeof(s));
	boot_sregs(&s, 0xabc000, false);
	cr_assert_eq(s.cs.selector, AL_SEL_KCODE);
	cr_assert_eq(s.cs.type, 11);
	cr_assert_eq(s.cs.s, 1);
	cr_assert_eq(s.cs.l, 1);
	cr_assert_eq(s.cs.db, 0);
	cr_assert_eq(s.cs.dpl, 0);
	cr_assert_eq(s.cs.present, 1);
	cr_assert_eq(s.cs.g, 1);
	cr_assert_eq(s.cs.unusable, 0);
	const struct kvm_segment *data[] = {&s.ds, &s.es, &s.ss};
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(data[i]->selector, AL_SEL_KDATA);
		cr_assert_eq(data[i]->type, 3);
		cr_assert_eq(data[i]->s, 1);
		cr_assert_eq(data[i]->l, 0);
		cr_assert_eq(data[i]->db, 1);
		cr_assert_eq(data[i]->present, 1);
		cr_assert_eq(data[i]->base, 0);
	}
	cr_assert_eq(s.fs.selector, 0);
	cr_assert_eq(s.fs.base, 0);
	cr_assert_eq(s.gs.selector, 0);
	cr_assert_eq(s.gs.base, 0);
	cr_assert_eq(s.tr.selector, AL_SEL_TSS);
	cr_assert_eq(s.tr.type, 11);
	cr_assert_eq(s.tr.s, 0);
	cr_assert_eq(s.tr.present, 1);
	cr_assert_eq(s.tr.base, AL_TSS_GPA);
	cr_assert_eq(s.tr.limit, 103);
	cr_assert_eq(s.gdt.base, AL_GDT_GPA);
	cr_assert_eq(s.gdt.limit, 0x37);
	cr_assert_eq(s.idt.base, AL_IDT_GPA);
	cr_assert_eq(s.idt.limit, 4095);
	cr_assert_eq(s.cr0, 0x80050033ull); /* PE MP ET NE WP AM PG */
	cr_assert_eq(s.cr3, 0xabc000);
	cr_assert_eq(s.cr4, 0x6a0ull);
	cr_assert_eq(s.efer, 0xd01ull);
	boot_sregs(&s, 0xabc000, true);
	cr_assert_eq(s.cr4, 0x6a0ull | (1ull << 20));

	boot_regs(&r, &h);
	cr_assert_eq(r.rip, h.entry);
	cr_assert_eq(r.rsp, h.stack_top);
	cr_assert_eq(r.rdi, AL_BOOTINFO_GPA);
	cr_assert_eq(r.rflags, 2);
}

Test(vmm_boot, kernel_segments_and_bss)
{
	boot(16ull << 20);
	cr_assert_eq(gm.base[TEXT], 0x90);
	struct al_kernel_header h;
	gm_read(&gm, DATA, &h, sizeof(h));
	cr_assert_eq(h.magic, AL_KHDR_MAGIC);
	cr_assert_eq(gm.base[DATA + 0x1000], 0);
	cr_assert_eq(ki.hdr.entry, TEXT + 0x10);
}

static void kernel_refused(const char *why)
{
	cr_assert_eq(gm_create(&gm, 16ull << 20, err), 0);
	cr_assert_eq(boot_load_kernel(&gm, image, sizeof(image), &ki, err), -1);
	cr_assert(strstr(err, why), "\"%s\" lacks \"%s\"", err, why);
}

Test(vmm_boot, bad_kernel_header_is_refused)
{
	struct al_kernel_header h = khdr();
	h.magic = 0;
	build_image(&h);
	kernel_refused("magic");
}

Test(vmm_boot, kernel_entry_outside_text_is_refused)
{
	struct al_kernel_header h = khdr();
	h.entry = DATA;
	build_image(&h);
	kernel_refused("executable");
}

Test(vmm_boot, kernel_stack_outside_data_is_refused)
{
	struct al_kernel_header h = khdr();
	h.stack_top = TEXT + 0x800;
	build_image(&h);
	kernel_refused("stack");
}

Test(vmm_boot, kernel_segment_outside_its_range_is_refused)
{
	struct al_kernel_header h = khdr();
	build_image(&h);
	Elf64_Phdr ph;
	memcpy(&ph, image + sizeof(Elf64_Ehdr), sizeof(ph));
	ph.p_paddr = ph.p_vaddr = AL_JOB_GPA - 0x800;
	memcpy(image + sizeof(Elf64_Ehdr), &ph, sizeof(ph));
	kernel_refused("outside");
}

Test(vmm_boot, kernel_not_elf_is_refused)
{
	memset(image, 0, 64);
	kernel_refused("not an ELF");
}
