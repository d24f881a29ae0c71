/*
 * The job binary: the host-side check the runner calls before anything
 * else (vmm_check_job), and the loader that writes the segments and the
 * headers into guest RAM after the guest kernel is ready. The loader runs
 * the same checks again: the file may have changed in between.
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/vmm_impl.h"

#define JOB_MAX_PHDRS 64
#define PAGE AL_PAGE_SIZE

struct job_elf {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[JOB_MAX_PHDRS];
	size_t phnum;
	uint32_t hdr_len;
	struct vmm_job_image img;
};

static uint64_t page_down(uint64_t a)
{
	return a & ~(PAGE - 1);
}

static bool page_up(uint64_t a, uint64_t *out)
{
	if (a > UINT64_MAX - (PAGE - 1))
		return false;
	*out = (a + PAGE - 1) & ~(PAGE - 1);
	return true;
}

static bool libelf_ready(void)
{
	static int ok = -1;

	if (ok < 0)
		ok = elf_version(EV_CURRENT) != EV_NONE;
	return ok;
}

/* Checks the identity bytes before libelf sees the file, for precise
 * messages about what the file is instead. */
static enum vmm_job_check check_ident(int fd, const char *name, char *err,
				      size_t errlen)
{
	unsigned char id[sizeof(Elf64_Ehdr)];
	ssize_t n;

	do
		n = pread(fd, id, sizeof(id), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		vmm_errf(err, errlen, "%s: cannot read: %s", name,
			 strerror(errno));
		return VMM_JOB_IO_ERROR;
	}
	if (n >= 2 && id[0] == '#' && id[1] == '!') {
		vmm_errf(err, errlen,
			 "%s: not an ELF executable but a script: airlock "
			 "runs static x86-64 ELF programs",
			 name);
		return VMM_JOB_NOT_EXECUTABLE;
	}
	if (n < SELFMAG || memcmp(id, ELFMAG, SELFMAG) != 0) {
		vmm_errf(err, errlen, "%s: not an ELF executable", name);
		return VMM_JOB_NOT_EXECUTABLE;
	}
	if ((size_t)n < sizeof(id)) {
		vmm_errf(err, errlen, "%s: truncated ELF header (%zd bytes)",
			 name, n);
		return VMM_JOB_NOT_EXECUTABLE;
	}
	if (id[EI_CLASS] != ELFCLASS64) {
		vmm_errf(err, errlen,
			 "%s: not a 64-bit ELF file: airlock runs x86-64 "
			 "executables",
			 name);
		return VMM_JOB_NOT_EXECUTABLE;
	}
	if (id[EI_DATA] != ELFDATA2LSB) {
		vmm_errf(err, errlen, "%s: not a little-endian ELF file", name);
		return VMM_JOB_NOT_EXECUTABLE;
	}
	return VMM_JOB_OK;
}

static enum vmm_job_check read_headers(int fd, const char *name,
				       uint64_t file_size, struct job_elf *je,
				       char *err, size_t errlen)
{
	enum vmm_job_check r = VMM_JOB_NOT_EXECUTABLE;
	size_t phnum;

	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e) {
		vmm_errf(err, errlen, "%s: cannot read ELF: %s", name,
			 elf_errmsg(-1));
		return VMM_JOB_IO_ERROR;
	}
	Elf64_Ehdr *eh = elf_kind(e) == ELF_K_ELF ? elf64_getehdr(e) : NULL;
	if (!eh) {
		vmm_errf(err, errlen, "%s: malformed ELF header", name);
		goto out;
	}
	je->eh = *eh;
	if (eh->e_machine != EM_X86_64) {
		vmm_errf(err, errlen,
			 "%s: not an x86-64 executable (ELF machine %u)", name,
			 eh->e_machine);
		goto out;
	}
	if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN) {
		vmm_errf(err, errlen,
			 "%s: not an executable (ELF type %u; an object "
			 "file or core dump?)",
			 name, eh->e_type);
		goto out;
	}
	/* Before libelf looks at the table: is it in the file at all? */
	if (eh->e_phnum != PN_XNUM && (eh->e_phoff > file_size ||
				       (uint64_t)eh->e_phnum * eh->e_phentsize >
					   file_size - eh->e_phoff)) {
		vmm_errf(err, errlen,
			 "%s: truncated (program headers past the end of the "
			 "file)",
			 name);
		goto out;
	}
	if (elf_getphdrnum(e, &phnum) != 0) {
		vmm_errf(err, errlen, "%s: malformed program header count",
			 name);
		goto out;
	}
	if (phnum == 0) {
		vmm_errf(err, errlen, "%s: no program headers", name);
		goto out;
	}
	if (phnum > JOB_MAX_PHDRS) {
		vmm_errf(err, errlen,
			 "%s: too many program headers (%zu, at most %d)", name,
			 phnum, JOB_MAX_PHDRS);
		goto out;
	}
	if (eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phoff < sizeof(Elf64_Ehdr) || eh->e_phoff > file_size ||
	    phnum * sizeof(Elf64_Phdr) > file_size - eh->e_phoff) {
		vmm_errf(err, errlen,
			 "%s: truncated or malformed program header table",
			 name);
		goto out;
	}
	if (eh->e_phoff + phnum * sizeof(Elf64_Phdr) > AL_JOBHDR_SIZE) {
		vmm_errf(err, errlen,
			 "%s: program headers end past the first %llu bytes "
			 "of the file",
			 name, (unsigned long long)AL_JOBHDR_SIZE);
		goto out;
	}
	Elf64_Phdr *ph = elf64_getphdr(e);
	if (!ph) {
		vmm_errf(err, errlen, "%s: cannot read program headers: %s",
			 name, elf_errmsg(-1));
		goto out;
	}
	memcpy(je->ph, ph, phnum * sizeof(*ph));
	je->phnum = phnum;
	je->hdr_len = (uint32_t)(eh->e_phoff + phnum * sizeof(Elf64_Phdr));
	r = VMM_JOB_OK;
out:
	elf_end(e);
	return r;
}

static enum vmm_job_check check_segment(const Elf64_Phdr *p, unsigned i,
					const char *name, uint64_t file_size,
					char *err, size_t errlen)
{
	if (p->p_filesz > p->p_memsz) {
		vmm_errf(err, errlen,
			 "%s: segment %u is malformed (file size larger than "
			 "memory size)",
			 name, i);
		return VMM_JOB_NOT_EXECUTABLE;
	}
	if (p->p_offset > file_size || p->p_filesz > file_size - p->p_offset) {
		vmm_errf(err, errlen,
			 "%s: segment %u lies past the end of the file "
			 "(truncated?)",
			 name, i);
		return VMM_JOB_NOT_EXECUTABLE;
	}
	if (p->p_vaddr > UINT64_MAX - PAGE ||
	    p->p_memsz > UINT64_MAX - PAGE - p->p_vaddr) {
		vmm_errf(err, errlen,
			 "%s: segment %u overflows the address space", name, i);
		return VMM_JOB_NOT_EXECUTABLE;
	}
	if (p->p_align > 1 &&
	    ((p->p_align & (p->p_align - 1)) != 0 ||
	     p->p_vaddr % p->p_align != p->p_offset % p->p_align)) {
		vmm_errf(err, errlen, "%s: segment %u is misaligned", name, i);
		return VMM_JOB_NOT_EXECUTABLE;
	}
	return VMM_JOB_OK;
}

/* Segments must not share bytes (they may share a page). */
static bool segments_overlap(const struct job_elf *je)
{
	for (size_t i = 0; i < je->phnum; i++) {
		const Elf64_Phdr *a = &je->ph[i];
		if (a->p_type != PT_LOAD || a->p_memsz == 0)
			continue;
		for (size_t j = i + 1; j < je->phnum; j++) {
			const Elf64_Phdr *b = &je->ph[j];
			if (b->p_type != PT_LOAD || b->p_memsz == 0)
				continue;
			if (a->p_vaddr < b->p_vaddr + b->p_memsz &&
			    b->p_vaddr < a->p_vaddr + a->p_memsz)
				return true;
		}
	}
	return false;
}

static enum vmm_job_check check_segments(const char *name, uint64_t file_size,
					 uint64_t job_lo, uint64_t job_hi,
					 uint64_t mem_bytes, struct job_elf *je,
					 char *err, size_t errlen)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	bool entry_ok = false;
	enum vmm_job_check r;

	for (size_t i = 0; i < je->phnum; i++) {
		if (je->ph[i].p_type == PT_INTERP) {
			vmm_errf(err, errlen,
				 "%s is dynamically linked: build it with "
				 "-static",
				 name);
			return VMM_JOB_NOT_EXECUTABLE;
		}
	}
	for (size_t i = 0; i < je->phnum; i++) {
		const Elf64_Phdr *p = &je->ph[i];
		if (p->p_type != PT_LOAD)
			continue;
		r = check_segment(p, (unsigned)i, name, file_size, err, errlen);
		if (r != VMM_JOB_OK)
			return r;
		if (p->p_memsz == 0)
			continue;
		if (p->p_vaddr < lo)
			lo = p->p_vaddr;
		if (p->p_vaddr + p->p_memsz > hi)
			hi = p->p_vaddr + p->p_memsz;
	}
	if (hi == 0) {
		vmm_errf(err, errlen, "%s: no loadable segments", name);
		return VMM_JOB_NOT_EXECUTABLE;
	}
	if (segments_overlap(je)) {
		vmm_errf(err, errlen, "%s: loadable segments overlap", name);
		return VMM_JOB_NOT_EXECUTABLE;
	}
	lo = page_down(lo);
	if (!page_up(hi, &hi)) {
		vmm_errf(err, errlen, "%s: segments overflow the address space",
			 name);
		return VMM_JOB_NOT_EXECUTABLE;
	}

	struct vmm_job_image *img = &je->img;
	memset(img, 0, sizeof(*img));
	img->pie = je->eh.e_type == ET_DYN;
	if (img->pie) {
		/* Position-independent: put the lowest page at the start of
		 * the job region. Wraps modulo 2^64 like the addresses do. */
		img->load_bias = job_lo - lo;
	} else if (lo < job_lo) {
		vmm_errf(err, errlen,
			 "%s: linked at 0x%llx, below the guest's job region "
			 "at 0x%llx: link it at 0x%llx or build it with "
			 "-static-pie",
			 name, (unsigned long long)lo,
			 (unsigned long long)job_lo,
			 (unsigned long long)job_lo);
		return VMM_JOB_NOT_EXECUTABLE;
	}
	img->lo = lo + img->load_bias;
	img->hi = hi + img->load_bias;
	if (img->hi > job_hi || img->hi < img->lo) {
		vmm_errf(err, errlen,
			 "%s: needs guest memory up to 0x%llx, more than a "
			 "%llu MiB guest has for a program and its stack: "
			 "raise --memory",
			 name, (unsigned long long)img->hi,
			 (unsigned long long)(mem_bytes >> 20));
		return VMM_JOB_NOT_EXECUTABLE;
	}
	img->entry = je->eh.e_entry + img->load_bias;
	for (size_t i = 0; i < je->phnum; i++) {
		const Elf64_Phdr *p = &je->ph[i];
		if (p->p_type == PT_LOAD && (p->p_flags & PF_X) &&
		    je->eh.e_entry >= p->p_vaddr &&
		    je->eh.e_entry - p->p_vaddr < p->p_memsz)
			entry_ok = true;
	}
	if (!entry_ok) {
		vmm_errf(err, errlen,
			 "%s: entry point 0x%llx is not in an executable "
			 "segment",
			 name, (unsigned long long)je->eh.e_entry);
		return VMM_JOB_NOT_EXECUTABLE;
	}
	return VMM_JOB_OK;
}

static enum vmm_job_check job_inspect(int fd, const char *name,
				      uint64_t mem_bytes, uint64_t stack_bytes,
				      struct job_elf *je, char *err,
				      size_t errlen)
{
	struct vm_layout l;
	char lerr[VMM_ERR_MAX];
	struct stat st;
	enum vmm_job_check r;

	if (!name)
		name = "job";
	if (layout_init(&l, mem_bytes, lerr) < 0) {
		vmm_errf(err, errlen, "%s", lerr);
		return VMM_JOB_IO_ERROR;
	}
	if (!libelf_ready()) {
		vmm_errf(err, errlen, "libelf: %s", elf_errmsg(-1));
		return VMM_JOB_IO_ERROR;
	}
	if (fstat(fd, &st) < 0) {
		vmm_errf(err, errlen, "%s: cannot stat: %s", name,
			 strerror(errno));
		return VMM_JOB_IO_ERROR;
	}
	if (!S_ISREG(st.st_mode)) {
		vmm_errf(err, errlen, "%s: not a regular file", name);
		return VMM_JOB_NOT_EXECUTABLE;
	}
	r = check_ident(fd, name, err, errlen);
	if (r != VMM_JOB_OK)
		return r;
	r = read_headers(fd, name, (uint64_t)st.st_size, je, err, errlen);
	if (r != VMM_JOB_OK)
		return r;
	uint64_t region = l.job_end - l.job_base;
	uint64_t reserve = stack_bytes < region ? stack_bytes : region;
	return check_segments(name, (uint64_t)st.st_size, l.job_base,
			      l.job_end - reserve, mem_bytes, je, err, errlen);
}

enum vmm_job_check vmm_check_job(int fd, const char *name, uint64_t mem_bytes,
				 struct vmm_job_image *img, char *err,
				 size_t errlen)
{
	struct job_elf je;

	if (errlen)
		err[0] = '\0';
	enum vmm_job_check r = job_inspect(fd, name, mem_bytes,
					   VMM_STACK_DEFAULT, &je, err, errlen);
	if (r == VMM_JOB_OK && img)
		*img = je.img;
	return r;
}

/* Reads exactly len bytes at off, straight into guest RAM. */
static int pread_full(int fd, void *dst, uint64_t len, uint64_t off)
{
	uint8_t *p = dst;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? -2 : -1;
		p += n;
		len -= (uint64_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

enum vmm_job_check job_load(const struct guest_mem *gm, int fd,
			    const char *name, uint64_t stack_bytes,
			    struct vmm_job_image *img, uint32_t *hdr_len,
			    char *err, size_t errlen)
{
	struct job_elf je;

	if (!name)
		name = "job";
	enum vmm_job_check r =
	    job_inspect(fd, name, gm->size, stack_bytes, &je, err, errlen);
	if (r != VMM_JOB_OK)
		return r;
	for (size_t i = 0; i < je.phnum; i++) {
		const Elf64_Phdr *p = &je.ph[i];
		if (p->p_type != PT_LOAD || p->p_memsz == 0)
			continue;
		uint64_t at = p->p_vaddr + je.img.load_bias;
		void *dst = gm_ptr(gm, at, p->p_memsz);
		if (!dst) {
			vmm_errf(err, errlen,
				 "%s: segment %zu does not fit in guest RAM",
				 name, i);
			return VMM_JOB_NOT_EXECUTABLE;
		}
		gm_mark(gm, at, p->p_memsz);
		int pr = pread_full(fd, dst, p->p_filesz, p->p_offset);
		if (pr < 0) {
			vmm_errf(err, errlen, "%s: cannot read segment %zu: %s",
				 name, i,
				 pr == -2 ? "file shrank while loading"
					  : strerror(errno));
			return VMM_JOB_IO_ERROR;
		}
		/* The guest kernel may have used this RAM while booting. */
		gm_zero(gm, at + p->p_filesz, p->p_memsz - p->p_filesz);
	}
	void *hdr = gm_ptr(gm, AL_JOBHDR_GPA, AL_JOBHDR_SIZE);
	if (!hdr) {
		vmm_errf(err, errlen, "job header page outside guest RAM");
		return VMM_JOB_IO_ERROR;
	}
	gm_mark(gm, AL_JOBHDR_GPA, AL_JOBHDR_SIZE);
	memset(hdr, 0, AL_JOBHDR_SIZE);
	int pr = pread_full(fd, hdr, je.hdr_len, 0);
	if (pr < 0) {
		vmm_errf(err, errlen, "%s: cannot read headers: %s", name,
			 pr == -2 ? "file shrank while loading"
				  : strerror(errno));
		return VMM_JOB_IO_ERROR;
	}
	*img = je.img;
	*hdr_len = je.hdr_len;
	return VMM_JOB_OK;
}
