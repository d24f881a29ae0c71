/* Job binary check and loader, on ELF files built byte by byte (and, where
 * musl-gcc is installed, on real static programs). No /dev/kvm. */
#include <criterion/criterion.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/vmm_impl.h"

#define MEM16 (16ull << 20)

static char err[VMM_ERR_MAX];

struct spec {
	uint16_t type, machine;
	uint8_t class;
	uint64_t entry;
	unsigned nph;
	Elf64_Phdr ph[70];
	uint16_t phnum_field; /* if non-zero, written instead of nph */
	size_t file_size;
};

/* Two segments: text (RX) at 0x400000 and data+bss (RW) after it. */
static struct spec base_spec(void)
{
	struct spec s;
	memset(&s, 0, sizeof(s));
	s.type = ET_EXEC;
	s.machine = EM_X86_64;
	s.class = ELFCLASS64;
	s.entry = 0x400100;
	s.nph = 2;
	s.ph[0] = (Elf64_Phdr){PT_LOAD,	 PF_R | PF_X, 0,      0x400000,
			       0x400000, 0x1000,      0x1000, 0x1000};
	s.ph[1] = (Elf64_Phdr){PT_LOAD,	 PF_R | PF_W, 0x1000, 0x401000,
			       0x401000, 0x100,	      0x2000, 0x1000};
	s.file_size = 0x1100;
	return s;
}

static void pie(struct spec *s)
{
	s->type = ET_DYN;
	s->entry = 0x100;
	s->ph[0].p_vaddr = s->ph[0].p_paddr = 0;
	s->ph[1].p_vaddr = s->ph[1].p_paddr = 0x1000;
}

static int make(const struct spec *s)
{
	int fd = memfd_create("job", 0);
	size_t size = s->file_size;
	uint8_t *buf = calloc(1, size < 0x2000 ? 0x2000 : size);
	cr_assert_not_null(buf);
	Elf64_Ehdr eh;
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = s->class;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = s->type;
	eh.e_machine = s->machine;
	eh.e_version = EV_CURRENT;
	eh.e_entry = s->entry;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = s->phnum_field ? s->phnum_field : (uint16_t)s->nph;
	memcpy(buf, &eh, sizeof(eh));
	size_t phbytes = s->nph * sizeof(Elf64_Phdr);
	if (sizeof(eh) + phbytes <= size)
		memcpy(buf + sizeof(eh), s->ph, phbytes);
	/* recognisable segment bytes after the headers */
	for (size_t i = 0x200; i < size; i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	cr_assert_eq(write(fd, buf, size), (ssize_t)size);
	free(buf);
	return fd;
}

static enum vmm_job_check check(const struct spec *s, struct vmm_job_image *img)
{
	int fd = make(s);
	enum vmm_job_check r =
	    vmm_check_job(fd, "prog", MEM16, img, err, sizeof(err));
	close(fd);
	return r;
}

static void refused(const struct spec *s, const char *why)
{
	struct vmm_job_image img;
	cr_assert_eq(check(s, &img), VMM_JOB_NOT_EXECUTABLE,
		     "accepted; want %s", why);
	cr_assert(strstr(err, why), "message \"%s\" lacks \"%s\"", err, why);
	cr_assert(strstr(err, "prog"), "message \"%s\" does not name the file",
		  err);
}

Test(vmm_elf, static_exec_is_accepted)
{
	struct spec s = base_spec();
	struct vmm_job_image img;
	cr_assert_eq(check(&s, &img), VMM_JOB_OK, "%s", err);
	cr_assert_eq(img.load_bias, 0);
	cr_assert_eq(img.lo, 0x400000);
	cr_assert_eq(img.hi, 0x403000);
	cr_assert_eq(img.entry, 0x400100);
	cr_assert_not(img.pie);
}

Test(vmm_elf, static_pie_gets_a_bias)
{
	struct spec s = base_spec();
	struct vmm_job_image img;
	pie(&s);
	cr_assert_eq(check(&s, &img), VMM_JOB_OK, "%s", err);
	cr_assert_eq(img.load_bias, AL_JOB_GPA);
	cr_assert_eq(img.lo, AL_JOB_GPA);
	cr_assert_eq(img.entry, AL_JOB_GPA + 0x100);
	cr_assert(img.pie);
}

Test(vmm_elf, dynamic_is_refused_with_the_reason)
{
	struct spec s = base_spec();
	s.ph[2] =
	    (Elf64_Phdr){PT_INTERP, PF_R, 0x200, 0x400200, 0x400200, 28, 28, 1};
	s.nph = 3;
	refused(&s, "prog is dynamically linked: build it with -static");
}

Test(vmm_elf, not_elf_is_refused)
{
	int fd = memfd_create("job", 0);
	cr_assert_eq(write(fd, "hello, this is text\n", 20), 20);
	cr_assert_eq(vmm_check_job(fd, "prog", MEM16, NULL, err, sizeof(err)),
		     VMM_JOB_NOT_EXECUTABLE);
	cr_assert(strstr(err, "prog: not an ELF"), "%s", err);
	close(fd);
	fd = memfd_create("job", 0);
	cr_assert_eq(vmm_check_job(fd, "prog", MEM16, NULL, err, sizeof(err)),
		     VMM_JOB_NOT_EXECUTABLE); /* empty */
	cr_assert_eq(write(fd, "#!/bin/sh\n", 10), 10);
	cr_assert_eq(vmm_check_job(fd, "prog", MEM16, NULL, err, sizeof(err)),
		     VMM_JOB_NOT_EXECUTABLE);
	cr_assert(strstr(err, "script"), "%s", err);
	close(fd);
}

Test(vmm_elf, wrong_machine_and_class_are_refused)
{
	struct spec s = base_spec();
	s.machine = EM_AARCH64;
	refused(&s, "not an x86-64");
	s = base_spec();
	s.class = ELFCLASS32;
	refused(&s, "64-bit");
	s = base_spec();
	s.type = ET_REL;
	refused(&s, "not an executable");
	s.type = ET_CORE;
	refused(&s, "not an executable");
}

Test(vmm_elf, truncated_files_are_refused)
{
	struct spec s = base_spec();
	s.file_size = 40; /* inside the ELF header */
	refused(&s, "truncated");
	s.file_size = 100; /* inside the program headers */
	refused(&s, "truncated");
	s.file_size = 0x800; /* segments past the end */
	refused(&s, "past the end");
}

Test(vmm_elf, huge_phnum_is_refused)
{
	struct spec s = base_spec();
	s.nph = 65;
	for (unsigned i = 2; i < 65; i++)
		s.ph[i] = (Elf64_Phdr){PT_NOTE, PF_R, 0x200, 0, 0, 4, 4, 4};
	s.file_size = 0x2000;
	refused(&s, "too many program headers");
	s = base_spec();
	s.phnum_field = 0xffff; /* PN_XNUM without a section 0 */
	struct vmm_job_image img;
	cr_assert_eq(check(&s, &img), VMM_JOB_NOT_EXECUTABLE);
	s = base_spec();
	s.phnum_field = 0;
	s.nph = 0;
	refused(&s, "no program headers");
}

Test(vmm_elf, overlapping_segments_are_refused)
{
	struct spec s = base_spec();
	s.ph[1].p_vaddr = 0x400800;
	s.ph[1].p_align = 0;
	refused(&s, "overlap");
}

Test(vmm_elf, overflowing_segments_are_refused)
{
	struct spec s = base_spec();
	s.ph[1].p_vaddr = 0xfffffffffffff000ull;
	s.ph[1].p_memsz = 0x2000;
	refused(&s, "overflow");
	s = base_spec();
	s.ph[1].p_memsz = 0xffffffffffffff00ull;
	refused(&s, "overflow");
	s = base_spec();
	s.ph[1].p_offset = 0xfffffffffffff000ull;
	s.ph[1].p_vaddr = 0x401000;
	refused(&s, "past the end");
	s = base_spec();
	pie(&s);
	s.ph[1].p_vaddr = 0x7ffffffffffff000ull; /* PIE spanning the world */
	refused(&s, "raise --memory");
}

Test(vmm_elf, filesz_larger_than_memsz_is_refused)
{
	struct spec s = base_spec();
	s.ph[1].p_memsz = 0x10;
	refused(&s, "file size larger than memory size");
}

Test(vmm_elf, misaligned_segment_is_refused)
{
	struct spec s = base_spec();
	s.ph[1].p_vaddr = 0x401010; /* offset 0x1000, align 0x1000 */
	refused(&s, "misaligned");
	s = base_spec();
	s.ph[1].p_align = 0x1800; /* not a power of two */
	refused(&s, "misaligned");
}

Test(vmm_elf, segments_must_fit_the_job_region)
{
	struct spec s = base_spec();
	s.ph[0].p_vaddr = 0x10000; /* below the job region */
	s.ph[1].p_vaddr = 0x11000;
	s.entry = 0x10100;
	refused(&s, "below the guest's job region");
	s = base_spec();
	s.ph[1].p_memsz = 100ull << 20; /* a 100 MiB bss in a 16 MiB guest */
	refused(&s, "raise --memory");
	/* the stack reserve counts: 16 MiB - page tables - 8 MiB */
	s.ph[1].p_memsz = (7ull << 20);
	refused(&s, "raise --memory");
	struct vmm_job_image img;
	int fd = make(&s);
	cr_assert_eq(
	    vmm_check_job(fd, "prog", 64ull << 20, &img, err, sizeof(err)),
	    VMM_JOB_OK, "%s", err);
	close(fd);
}

Test(vmm_elf, entry_outside_text_is_refused)
{
	struct spec s = base_spec();
	s.entry = 0x401010; /* in the data segment */
	refused(&s, "entry point");
}

Test(vmm_elf, no_load_segments_is_refused)
{
	struct spec s = base_spec();
	s.ph[0].p_type = PT_NOTE;
	s.ph[1].p_type = PT_NOTE;
	refused(&s, "no loadable segments");
}

Test(vmm_elf, bad_memory_size_is_an_io_error)
{
	struct spec s = base_spec();
	int fd = make(&s);
	cr_assert_eq(
	    vmm_check_job(fd, "prog", 3ull << 20, NULL, err, sizeof(err)),
	    VMM_JOB_IO_ERROR);
	cr_assert_eq(vmm_check_job(-1, "prog", MEM16, NULL, err, sizeof(err)),
		     VMM_JOB_IO_ERROR);
	cr_assert(strstr(err, "prog"), "%s", err);
	close(fd);
}

Test(vmm_elf, loader_places_segments_and_headers)
{
	struct guest_mem gm;
	struct vmm_job_image img;
	uint32_t hdr_len;
	struct spec s = base_spec();
	uint8_t file[0x1100];

	cr_assert_eq(gm_create(&gm, MEM16, err), 0, "%s", err);
	memset(gm.base + 0x401000, 0xee, 0x3000); /* pretend it was used */
	int fd = make(&s);
	cr_assert_eq(pread(fd, file, sizeof(file), 0), (ssize_t)sizeof(file));
	cr_assert_eq(job_load(&gm, fd, "prog", VMM_STACK_DEFAULT, &img,
			      &hdr_len, err, sizeof(err)),
		     VMM_JOB_OK, "%s", err);
	cr_assert_eq(hdr_len, sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr));
	cr_assert_arr_eq(gm.base + AL_JOBHDR_GPA, file, hdr_len);
	cr_assert_eq(gm.base[AL_JOBHDR_GPA + hdr_len], 0);
	cr_assert_arr_eq(gm.base + 0x400000, file, 0x1000);
	cr_assert_arr_eq(gm.base + 0x401000, file + 0x1000, 0x100);
	for (uint64_t a = 0x401100; a < 0x403000; a++)
		cr_assert_eq(gm.base[a], 0, "bss at 0x%llx not zero",
			     (unsigned long long)a);
	cr_assert_eq(gm.base[0x403000], 0xee);
	close(fd);

	pie(&s);
	fd = make(&s);
	cr_assert_eq(job_load(&gm, fd, "prog", VMM_STACK_DEFAULT, &img,
			      &hdr_len, err, sizeof(err)),
		     VMM_JOB_OK, "%s", err);
	cr_assert_eq(img.load_bias, AL_JOB_GPA);
	cr_assert_arr_eq(gm.base + AL_JOB_GPA + 0x1000, file + 0x1000, 0x100);
	close(fd);
	gm_destroy(&gm);
}

/* Real programs, when the toolchain is there. */
static char path_cc[64];

static void real_binary(const char *cc, const char *flags, bool want_pie)
{
	snprintf(path_cc, sizeof(path_cc), "/usr/bin/%s", cc);
	if (access(path_cc, X_OK) != 0)
		cr_skip_test("%s not installed", cc);
	char dir[] = "/tmp/vmmelfXXXXXX", cmd[512], path[300];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/hello", dir);
	snprintf(cmd, sizeof(cmd),
		 "printf 'int main(void){return 3;}' > %s/h.c && "
		 "%s %s -O1 -o %s %s/h.c 2>/dev/null",
		 dir, cc, flags, path, dir);
	int rc = system(cmd);
	if (rc != 0)
		cr_skip_test("%s %s failed", cc, flags);
	int fd = open(path, O_RDONLY);
	struct vmm_job_image img;
	enum vmm_job_check r =
	    vmm_check_job(fd, path, MEM16, &img, err, sizeof(err));
	cr_assert_eq(r, VMM_JOB_OK, "%s", err);
	cr_assert_eq(img.pie, want_pie);
	cr_assert_geq(img.lo, AL_JOB_GPA);
	cr_assert(img.entry >= img.lo && img.entry < img.hi);
	struct guest_mem gm;
	uint32_t hdr_len;
	cr_assert_eq(gm_create(&gm, MEM16, err), 0);
	cr_assert_eq(job_load(&gm, fd, path, VMM_STACK_DEFAULT, &img, &hdr_len,
			      err, sizeof(err)),
		     VMM_JOB_OK, "%s", err);
	cr_assert_arr_eq(gm.base + AL_JOBHDR_GPA, ELFMAG, SELFMAG);
	gm_destroy(&gm);
	close(fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(vmm_elf, real_static_musl_binary)
{
	real_binary("musl-gcc", "-static", false);
}

Test(vmm_elf, real_static_glibc_binary)
{
	real_binary("gcc", "-static", false);
}

/* (Debian's musl-gcc cannot make a static PIE: it adds PT_INTERP.) */
Test(vmm_elf, real_static_pie_glibc_binary)
{
	real_binary("gcc", "-static-pie", true);
}

Test(vmm_elf, real_dynamic_binary_is_refused)
{
	int fd = open("/bin/true", O_RDONLY);
	if (fd < 0)
		cr_skip_test("no /bin/true");
	cr_assert_eq(
	    vmm_check_job(fd, "/bin/true", MEM16, NULL, err, sizeof(err)),
	    VMM_JOB_NOT_EXECUTABLE);
	cr_assert_str_eq(
	    err, "/bin/true is dynamically linked: build it with -static");
	close(fd);
}
