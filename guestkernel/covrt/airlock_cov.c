/*
 * libairlock-cov.a: the edge counters of a target fuzzed by `airlock fuzz`,
 * in AFL++'s PCGUARD style (one counter per guard, no previous-location
 * hash). Linked into the job, not the guest kernel. It calls no libc at all,
 * so one archive serves musl and glibc static programs; and it is never built
 * with coverage itself, since every guard callback would recurse into it.
 */
#include <stdint.h>

#include "airlock/cov.h"
#include "airlock/fuzz.h"

/* The instrumentation's own callees must stay uninstrumented even if
 * someone builds this file with the target's flags. */
#define AL_NO_COV __attribute__((no_sanitize("coverage")))

/* AFL++ reads whole cache lines of it; 64-byte alignment also keeps the
 * registered range inside as few guest pages as possible. */
static uint8_t al_map[AL_COV_MAP_MAX] __attribute__((aligned(64)));

/* Guard ids continue across modules (each has its own guard section and
 * its own init call); 0 stays unused so an unset guard is harmless. */
static uint32_t al_next_id = 1;
static uint32_t al_top_id;

/* A raw syscall: the runtime may run before libc is set up (constructors)
 * and must not care which libc it is linked with. */
AL_NO_COV static long al_airlock_call(long call, long a1, long a2)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"((long)AL_SYS_AIRLOCK), "D"(call), "S"(a1),
			   "d"(a2)
			 : "rcx", "r11", "memory");
	return ret;
}

/* A target with more guards than the map shares counters among them, as
 * AFL does with a too-small map, rather than writing past the end. */
AL_NO_COV static uint32_t al_take_id(void)
{
	uint32_t id = al_next_id;
	if (++al_next_id == AL_COV_MAP_MAX)
		al_next_id = 1;
	if (id > al_top_id)
		al_top_id = id;
	return id;
}

/* Only the part of the map in use is registered, so the VMM copies and
 * clears no more than it must after each input. */
AL_NO_COV static void al_register_map(void)
{
	uint64_t len = ((uint64_t)al_top_id + 1 + 63) & ~(uint64_t)63;
	if (len > AL_COV_MAP_MAX)
		len = AL_COV_MAP_MAX;
	/* -ENOSYS outside fuzzing mode: the target then simply runs. */
	(void)al_airlock_call(AL_FUZZ_CALL_COVERAGE, (long)(uintptr_t)al_map,
			      (long)len);
}

AL_NO_COV void __sanitizer_cov_trace_pc_guard_init(uint32_t *start,
						   uint32_t *stop)
{
	/* A module's constructor may run this more than once. */
	if (start == stop || *start != 0)
		return;
	for (uint32_t *g = start; g < stop; g++)
		*g = al_take_id();
	al_register_map();
}

AL_NO_COV void __sanitizer_cov_trace_pc_guard(uint32_t *guard)
{
	al_map[*guard]++;
}

AL_NO_COV void airlock_fuzz_point(void)
{
	(void)al_airlock_call(AL_FUZZ_CALL_POINT, 0, 0);
}
