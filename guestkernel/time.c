/*
 * Clocks from the TSC and the VMM's boot block:
 *   realtime  = realtime_ns + monotonic
 *   monotonic = (rdtsc - tsc_base) in ns
 * Conversions split the division so that nothing overflows 64 bits (and no
 * 128-bit division, which would need libgcc).
 */
#include "gk.h"

uint64_t time_tsc_to_ns(uint64_t cycles)
{
	uint64_t khz = GK_BI->tsc_khz;
	return cycles / khz * 1000000 + cycles % khz * 1000000 / khz;
}

uint64_t time_ns_to_tsc(uint64_t ns)
{
	uint64_t khz = GK_BI->tsc_khz;
	return ns / 1000000 * khz + ns % 1000000 * khz / 1000000;
}

uint64_t time_monotonic_ns(void)
{
	uint64_t now = pf_rdtsc(), base = GK_BI->tsc_base;
	return now > base ? time_tsc_to_ns(now - base) : 0;
}

uint64_t time_realtime_ns(void)
{
	return GK_BI->realtime_ns + time_monotonic_ns();
}

uint64_t time_cpu_ns(void)
{
	uint64_t now = pf_rdtsc();
	return now > gk_proc.start_tsc ? time_tsc_to_ns(now - gk_proc.start_tsc)
				       : 0;
}

void time_sleep_until(uint64_t deadline_ns)
{
	for (;;) {
		uint64_t now = time_monotonic_ns();
		if (now >= deadline_ns)
			return;
		/* hlt exits to the VMM, which resumes us after the time or
		 * earlier when a device has something: check again. */
		vsock_wait(deadline_ns - now);
	}
}
