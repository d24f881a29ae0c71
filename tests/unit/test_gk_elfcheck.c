/* Unit tests for the guest kernel's ELF header checks (guestkernel/host). */
#include <criterion/criterion.h>
#include <elf.h>
#include <stdint.h>
#include <string.h>

#include "guestkernel/host/elfcheck.h"

#define LO 0x400000ull
#define HI 0x4000000ull

static union {
	unsigned char bytes[4096];
	uint64_t align;
} img;

static Elf64_Ehdr *eh(void)
{
	return (Elf64_Ehdr *)img.bytes;
}

static Elf64_Phdr *ph(unsigned i)
{
	return (Elf64_Phdr *)(img.bytes + sizeof(Elf64_Ehdr)) + i;
}

static void set_load(unsigned i, uint64_t off, uint64_t vaddr, uint64_t filesz,
		     uint64_t memsz, uint32_t flags)
{
	*ph(i) = (Elf64_Phdr){.p_type = PT_LOAD,
			      .p_flags = flags,
			      .p_offset = off,
			      .p_vaddr = vaddr,
			      .p_paddr = vaddr,
			      .p_filesz = filesz,
			      .p_memsz = memsz,
			      .p_align = 4096};
}

/* A typical static executable: R, RX, R, RW(+bss) segments. */
static void make_exec(uint16_t type, uint64_t base)
{
	memset(&img, 0, sizeof(img));
	memcpy(eh()->e_ident, ELFMAG, SELFMAG);
	eh()->e_ident[EI_CLASS] = ELFCLASS64;
	eh()->e_ident[EI_DATA] = ELFDATA2LSB;
	eh()->e_ident[EI_VERSION] = EV_CURRENT;
	eh()->e_type = type;
	eh()->e_machine = EM_X86_64;
	eh()->e_version = EV_CURRENT;
	eh()->e_entry = base + 0x1000 + 0x40;
	eh()->e_phoff = sizeof(Elf64_Ehdr);
	eh()->e_ehsize = sizeof(Elf64_Ehdr);
	eh()->e_phentsize = sizeof(Elf64_Phdr);
	eh()->e_phnum = 4;
	set_load(0, 0, base, 0x500, 0x500, PF_R);
	set_load(1, 0x1000, base + 0x1000, 0x2345, 0x2345, PF_R | PF_X);
	set_load(2, 0x4000, base + 0x4000, 0x800, 0x800, PF_R);
	/* data shares its first page with nothing, its bss runs on */
	set_load(3, 0x4e10, base + 0x5e10, 0x100, 0x3000, PF_R | PF_W);
}

static const char *check(uint64_t len, uint64_t bias, struct gk_elf_info *o)
{
	return gk_elf_check(img.bytes, len, bias, LO, HI, o);
}

Test(gk_elfcheck, valid_static_exec)
{
	struct gk_elf_info o;
	make_exec(ET_EXEC, LO);
	const char *why = check(sizeof(img), 0, &o);
	cr_assert_null(why, "%s", why);
	cr_expect_eq(o.entry, LO + 0x1040);
	cr_expect_eq(o.phdr, LO + sizeof(Elf64_Ehdr));
	cr_expect_eq(o.phnum, 4);
	cr_expect_eq(o.phent, sizeof(Elf64_Phdr));
	cr_expect_eq(o.brk, LO + 0x9000);
	cr_assert_eq(o.nranges, 4);
	cr_expect_eq(o.ranges[1].lo, LO + 0x1000);
	cr_expect_eq(o.ranges[1].hi, LO + 0x4000);
	cr_expect_eq(o.ranges[1].flags, GK_SEG_X);
	cr_expect_eq(o.ranges[2].flags, 0);
	cr_expect_eq(o.ranges[3].lo, LO + 0x5000);
	cr_expect_eq(o.ranges[3].hi, LO + 0x9000);
	cr_expect_eq(o.ranges[3].flags, GK_SEG_W);
}

Test(gk_elfcheck, valid_static_pie_with_bias)
{
	struct gk_elf_info o;
	make_exec(ET_DYN, 0);
	const char *why = check(sizeof(img), 0x800000, &o);
	cr_assert_null(why, "%s", why);
	cr_expect_eq(o.entry, 0x801040);
	cr_expect_eq(o.phdr, 0x800040);
	cr_expect_eq(o.brk, 0x809000);
	cr_expect_eq(o.ranges[0].lo, 0x800000);
}

Test(gk_elfcheck, pt_phdr_wins)
{
	struct gk_elf_info o;
	make_exec(ET_EXEC, LO);
	eh()->e_phnum = 5;
	*ph(4) = (Elf64_Phdr){.p_type = PT_PHDR, .p_vaddr = LO + 0x4100};
	cr_assert_null(check(sizeof(img), 0, &o));
	cr_expect_eq(o.phdr, LO + 0x4100);
}

Test(gk_elfcheck, shared_boundary_page_gets_union)
{
	struct gk_elf_info o;
	make_exec(ET_EXEC, LO);
	/* text ends mid-page 0x3000; rodata starts in the same page */
	set_load(2, 0x3400, LO + 0x3400, 0x800, 0x800, PF_R | PF_W);
	cr_assert_null(check(sizeof(img), 0, &o));
	cr_assert_eq(o.nranges, 4);
	cr_expect_eq(o.ranges[1].hi, LO + 0x3000);
	cr_expect_eq(o.ranges[2].lo, LO + 0x3000);
	cr_expect_eq(o.ranges[2].hi, LO + 0x4000);
	cr_expect_eq(o.ranges[2].flags, GK_SEG_X | GK_SEG_W);
}

Test(gk_elfcheck, rejects_bad_ident_and_machine)
{
	struct gk_elf_info o;
	make_exec(ET_EXEC, LO);
	img.bytes[1] = 'X';
	cr_expect_str_eq(check(sizeof(img), 0, &o), "not an ELF file");
	make_exec(ET_EXEC, LO);
	img.bytes[EI_CLASS] = ELFCLASS32;
	cr_expect_not_null(strstr(check(sizeof(img), 0, &o), "64-bit"));
	make_exec(ET_EXEC, LO);
	eh()->e_machine = EM_AARCH64;
	cr_expect_not_null(strstr(check(sizeof(img), 0, &o), "x86-64"));
	make_exec(ET_REL, LO);
	cr_expect_not_null(strstr(check(sizeof(img), 0, &o), "executable"));
}

Test(gk_elfcheck, rejects_dynamic)
{
	struct gk_elf_info o;
	make_exec(ET_DYN, 0);
	eh()->e_phnum = 5;
	*ph(4) = (Elf64_Phdr){.p_type = PT_INTERP};
	const char *why = check(sizeof(img), 0x800000, &o);
	cr_assert_not_null(why);
	cr_expect_not_null(strstr(why, "dynamically linked"));
	cr_expect_not_null(strstr(why, "-static"));
}

Test(gk_elfcheck, rejects_truncated_header_copy)
{
	struct gk_elf_info o;
	make_exec(ET_EXEC, LO);
	cr_expect_not_null(check(0, 0, &o));
	cr_expect_not_null(check(63, 0, &o));
	/* ELF header fits, the program headers do not */
	cr_expect_not_null(check(64 + 4 * 56 - 1, 0, &o));
	cr_expect_null(check(64 + 4 * 56, 0, &o));
}

Test(gk_elfcheck, rejects_hostile_phdr_table)
{
	struct gk_elf_info o;
	make_exec(ET_EXEC, LO);
	eh()->e_phnum = 65;
	cr_expect_not_null(strstr(check(sizeof(img), 0, &o), "64"));
	make_exec(ET_EXEC, LO);
	eh()->e_phnum = 0xffff;
	cr_expect_not_null(check(sizeof(img), 0, &o));
	make_exec(ET_EXEC, LO);
	eh()->e_phnum = 0;
	cr_expect_not_null(check(sizeof(img), 0, &o));
	make_exec(ET_EXEC, LO);
	eh()->e_phentsize = 32;
	cr_expect_not_null(check(sizeof(img), 0, &o));
	make_exec(ET_EXEC, LO);
	eh()->e_phoff = UINT64_MAX - 8 * 7; /* aligned, wraps when added */
	cr_expect_not_null(check(sizeof(img), 0, &o));
	make_exec(ET_EXEC, LO);
	eh()->e_phoff = 4096 - 56; /* one entry fits, four do not */
	cr_expect_not_null(check(sizeof(img), 0, &o));
	make_exec(ET_EXEC, LO);
	eh()->e_phoff = 65; /* misaligned */
	cr_expect_not_null(check(sizeof(img), 0, &o));
}

Test(gk_elfcheck, rejects_overlapping_and_unordered_segments)
{
	struct gk_elf_info o;
	make_exec(ET_EXEC, LO);
	set_load(2, 0x3000, LO + 0x3000, 0x800, 0x800, PF_R); /* in text */
	cr_expect_not_null(strstr(check(sizeof(img), 0, &o), "overlap"));
	make_exec(ET_EXEC, LO);
	set_load(0, 0, LO + 0x10000, 0x500, 0x500, PF_R); /* after others */
	cr_expect_not_null(check(sizeof(img), 0, &o));
}

Test(gk_elfcheck, rejects_overflow_and_outside_region)
{
	struct gk_elf_info o;
	make_exec(ET_EXEC, LO);
	set_load(3, 0x4e10, LO + 0x5e10, 0x100, UINT64_MAX - 0x100, PF_R);
	cr_expect_not_null(strstr(check(sizeof(img), 0, &o), "overflow"));
	make_exec(ET_EXEC, LO);
	set_load(3, 0x4e10, LO + 0x5e10, 0x200, 0x100, PF_R | PF_W);
	cr_expect_not_null(strstr(check(sizeof(img), 0, &o), "file bytes"));
	make_exec(ET_EXEC, LO);
	set_load(3, 0x4e10, HI - 0x100, 0x100, 0x200, PF_R | PF_W);
	cr_expect_not_null(strstr(check(sizeof(img), 0, &o), "outside"));
	make_exec(ET_EXEC, 0x1000); /* below the job region: kernel memory */
	eh()->e_entry = 0x2040;
	cr_expect_not_null(strstr(check(sizeof(img), 0, &o), "outside"));
	make_exec(ET_DYN, 0);
	cr_expect_not_null(check(sizeof(img), UINT64_MAX & ~0xfffull, &o));
	make_exec(ET_DYN, 0);
	cr_expect_not_null(check(sizeof(img), 0x800001, &o)); /* unaligned */
	make_exec(ET_EXEC, LO);
	cr_expect_not_null(check(sizeof(img), 0x1000, &o)); /* EXEC + bias */
}

Test(gk_elfcheck, rejects_entry_outside_text)
{
	struct gk_elf_info o;
	make_exec(ET_EXEC, LO);
	eh()->e_entry = LO + 0x4010; /* read-only data */
	cr_expect_not_null(strstr(check(sizeof(img), 0, &o), "entry"));
	make_exec(ET_EXEC, LO);
	eh()->e_entry = 0xffff800000000000ull; /* non-canonical for iretq */
	cr_expect_not_null(check(sizeof(img), 0, &o));
}
