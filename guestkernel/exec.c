/*
 * Starting the job: the initial stack of the x86-64 SysV ABI, as musl's and
 * glibc's static start-up code read it, then iretq into ring 3.
 *
 *   job_end   strings (argv, then envp; the device put them here)
 *             AT_RANDOM bytes (16), "x86_64" (AT_PLATFORM)
 *             auxv pairs, envp[] NULL, argv[] NULL, argc   <- RSP, 16-aligned
 */
#include "fuzz.h"
#include "gk.h"
#include "vfs.h"

#define AT_NULL 0
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_BASE 7
#define AT_FLAGS 8
#define AT_ENTRY 9
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_PLATFORM 15
#define AT_HWCAP 16
#define AT_CLKTCK 17
#define AT_SECURE 23
#define AT_RANDOM 25
#define AT_HWCAP2 26
#define AT_EXECFN 31
#define NAUXV 19


/* A byte of w (bytes past the end forced non-zero) is zero. */
static bool has_zero_byte(uint64_t w)
{
	return ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull) != 0;
}

/*
 * Points argv[0..argc) and envp[0..envc) (envp = argv + argc + 1) at the
 * NUL-terminated strings in [s, s + len), a word at a time: the strings
 * must be exactly argc + envc of them, filling len.
 */
static bool point_at_strings(uint64_t s, uint64_t len, uint64_t *argv,
			     uint32_t argc, uint32_t count)
{
	uint64_t end = s + len, start = s;
	uint32_t found = 0;
	for (uint64_t p = s; p < end; p += 8) {
		uint64_t w = *(const uint64_t *)p;
		if (end - p < 8)
			w |= ~0ull << ((end - p) * 8);
		if (!has_zero_byte(w))
			continue;
		for (unsigned b = 0; b < 8; b++) {
			if ((w >> (b * 8)) & 0xff)
				continue;
			if (found == count)
				return false;
			argv[found + (found >= argc)] = start;
			found++;
			start = p + b + 1;
		}
	}
	return found == count && start == end;
}

static uint64_t *put_aux(uint64_t *a, uint64_t type, uint64_t value)
{
	a[0] = type;
	a[1] = value;
	return a + 2;
}

static void fill_auxv(uint64_t *a, const struct gk_elf_info *info,
		      uint64_t random, uint64_t platform, uint64_t execfn)
{
	uint32_t cpuid[4];
	pf_cpuid(1, 0, cpuid);
	a = put_aux(a, AT_PHDR, info->phdr);
	a = put_aux(a, AT_PHENT, info->phent);
	a = put_aux(a, AT_PHNUM, info->phnum);
	a = put_aux(a, AT_PAGESZ, AL_PAGE_SIZE);
	a = put_aux(a, AT_BASE, 0);
	a = put_aux(a, AT_FLAGS, 0);
	a = put_aux(a, AT_ENTRY, info->entry);
	a = put_aux(a, AT_UID, GK_JOB_UID);
	a = put_aux(a, AT_EUID, GK_JOB_UID);
	a = put_aux(a, AT_GID, GK_JOB_UID);
	a = put_aux(a, AT_EGID, GK_JOB_UID);
	a = put_aux(a, AT_SECURE, 0);
	a = put_aux(a, AT_RANDOM, random);
	a = put_aux(a, AT_HWCAP, cpuid[3]);
	a = put_aux(a, AT_HWCAP2, 0);
	a = put_aux(a, AT_CLKTCK, 100);
	a = put_aux(a, AT_EXECFN, execfn);
	a = put_aux(a, AT_PLATFORM, platform);
	put_aux(a, AT_NULL, 0);
}

/* Lays out the initial stack below the strings; returns the job's RSP. */
static uint64_t build_stack(const struct gk_job *job,
			    const struct gk_elf_info *info)
{
	const struct al_job *j = job->hdr;
	uint64_t random = job->strings - 16;
	uint64_t platform = random - 8;
	gk_copy((void *)(uintptr_t)random, GK_BI->fresh.at_random, 16);
	/* "x86_64" and its NUL, in one store */
	*(uint64_t *)platform = 0x000034365f363878ull;
	uint64_t words = 1 + (j->argc + 1ull) + (j->envc + 1ull) + 2 * NAUXV;
	uint64_t sp = (platform - words * 8) & ~15ull;
	if (sp < job->stack_lo + 4 * AL_PAGE_SIZE)
		exec_refuse("arguments and environment do not fit the stack");
	uint64_t *w = (uint64_t *)sp;
	uint64_t *argv = w + 1, *envp = argv + j->argc + 1;
	w[0] = j->argc;
	if (!point_at_strings(job->strings, j->strings_len, argv, j->argc,
			      j->argc + j->envc))
		gk_panic("job message strings are not %u NUL-terminated "
			 "strings",
			 (uint64_t)j->argc + j->envc);
	argv[j->argc] = 0;
	envp[j->envc] = 0;
	fill_auxv(envp + j->envc + 1, info, random, platform, argv[0]);
	return sp;
}

/*
 * Room kept free below the stack guard, as Linux keeps a gap below the
 * stack: a function with a huge frame jumps the one guard page, and should
 * land in unused memory rather than in the job's newest mapping.
 */
static uint64_t stack_gap(uint64_t brk, uint64_t guard)
{
	uint64_t gap = GK_MIN((uint64_t)1 << 20, (guard - brk) / 16);
	return gk_page_down(gap);
}

void exec_stop(uint16_t type, const void *msg, uint32_t len)
{
	vsock_send_msg(type, msg, len);
	for (;;)
		pf_halt(0);
}

void exec_refuse(const char *why)
{
	exec_stop(AL_MSG_EXEC_ERROR, why,
		  (uint32_t)GK_MIN(gk_strlen(why), (size_t)AL_EXEC_ERROR_MAX));
}

void exec_job(const struct gk_job *job)
{
	static struct gk_elf_info info;
	const char *why = elf_prepare(job, &info);
	if (why)
		exec_refuse(why);
	random_seed();
	uint64_t sp = build_stack(job, &info);
	/* The lowest page of the stack region is its guard: the VMM reserved
	 * stack_bytes below job_end and nothing more. */
	uint64_t guard = job->stack_lo;
	mm_set_pte_bits_noflush(guard, guard + AL_PAGE_SIZE, 0);
	mm_job_init(info.brk, guard - stack_gap(info.brk, guard));
	pf_tlb_flush_all(); /* once, for every PTE tightened above */
	gk_proc.stack_bytes = job->hdr->stack_bytes;
	gk_proc.umask = 022;
	/* The tree and descriptors 0-2 were set up at boot. */
	devfs_job((const char *)(uintptr_t)job->strings);
	ext2fs_mount_drives(job->hdr);
	syscall_policy(job->hdr);
	fuzz_job(job->hdr);
	gk_proc.start_tsc = pf_rdtsc();
	pf_enter_user(info.entry, sp);
}
