/* Clocks and sleeping. No vDSO: every clock read is a syscall. */
#include "sys.h"

#define NS 1000000000ull
#define TIMER_ABSTIME 1
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define CLOCK_BOOTTIME 7

/* The job started just now and runs alone: CPU time is time since start,
 * boot time is monotonic time. */
static long clock_read(long clk, uint64_t *ns)
{
	switch (clk) {
	case CLOCK_REALTIME:
	case 5:  /* REALTIME_COARSE */
	case 8:  /* REALTIME_ALARM */
	case 11: /* TAI */
		*ns = time_realtime_ns();
		return 0;
	case CLOCK_MONOTONIC:
	case 4: /* MONOTONIC_RAW */
	case 6: /* MONOTONIC_COARSE */
	case CLOCK_BOOTTIME:
	case 9: /* BOOTTIME_ALARM */
		*ns = time_monotonic_ns();
		return 0;
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
		*ns = time_cpu_ns();
		return 0;
	default:
		return -EINVAL;
	}
}

static long put_pair(uint64_t uaddr, uint64_t a, uint64_t b)
{
	if (!user_ok(uaddr, 16, true))
		return -EFAULT;
	uint64_t *p = (uint64_t *)(uintptr_t)uaddr;
	p[0] = a;
	p[1] = b;
	return 0;
}

long sys_timespec_ns(uint64_t uaddr, uint64_t *ns)
{
	if (!user_ok(uaddr, 16, false))
		return -EFAULT;
	const int64_t *ts = (const int64_t *)(uintptr_t)uaddr;
	int64_t sec = ts[0], nsec = ts[1];
	if (sec < 0 || nsec < 0 || (uint64_t)nsec >= NS)
		return -EINVAL;
	/* Beyond ~292 years the sleep is forever anyway. */
	*ns = (uint64_t)sec > UINT64_MAX / NS - 1
		      ? UINT64_MAX
		      : (uint64_t)sec * NS + (uint64_t)nsec;
	return 0;
}

GK_SYSCALL(sys_clock_gettime)
{
	uint64_t ns;
	long r = clock_read(a0, &ns);
	return r ? r : put_pair((uint64_t)a1, ns / NS, ns % NS);
}

GK_SYSCALL(sys_clock_getres)
{
	uint64_t ns;
	long r = clock_read(a0, &ns);
	if (r || !a1)
		return r;
	return put_pair((uint64_t)a1, 0, 1);
}

GK_SYSCALL(sys_gettimeofday)
{
	uint64_t ns = time_realtime_ns();
	if (a0 && put_pair((uint64_t)a0, ns / NS, ns % NS / 1000))
		return -EFAULT;
	if (a1) { /* struct timezone: UTC */
		if (!user_ok((uint64_t)a1, 8, true))
			return -EFAULT;
		*(uint64_t *)(uintptr_t)a1 = 0;
	}
	return 0;
}

GK_SYSCALL(sys_time)
{
	uint64_t sec = time_realtime_ns() / NS;
	if (a0) {
		if (!user_ok((uint64_t)a0, 8, true))
			return -EFAULT;
		*(uint64_t *)(uintptr_t)a0 = sec;
	}
	return (long)sec;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

GK_SYSCALL(sys_nanosleep)
{
	uint64_t ns;
	long r = sys_timespec_ns((uint64_t)a0, &ns);
	if (r)
		return r;
	time_sleep_until(add_sat(time_monotonic_ns(), ns));
	return 0;
}

GK_SYSCALL(sys_clock_nanosleep)
{
	long clk = a0;
	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC &&
	    clk != CLOCK_BOOTTIME && clk != CLOCK_PROCESS_CPUTIME_ID)
		return -EINVAL;
	uint64_t ns, now = 0;
	long r = sys_timespec_ns((uint64_t)a2, &ns);
	if (r)
		return r;
	if (a1 & TIMER_ABSTIME) {
		clock_read(clk, &now);
		ns = ns > now ? ns - now : 0; /* to a relative sleep */
	}
	time_sleep_until(add_sat(time_monotonic_ns(), ns));
	return 0;
}

GK_SYSCALL(sys_times)
{
	uint64_t ticks = time_cpu_ns() / (NS / 100); /* clock_t: 1/100 s */
	if (a0) {
		if (!user_ok((uint64_t)a0, 32, true))
			return -EFAULT;
		uint64_t *t = (uint64_t *)(uintptr_t)a0;
		t[0] = ticks; /* tms_utime: it all counts as user time */
		t[1] = t[2] = t[3] = 0;
	}
	return (long)(time_monotonic_ns() / (NS / 100));
}

GK_SYSCALL(sys_getrusage)
{
	if (a0 != 0 && a0 != -1 && a0 != 1)
		return -EINVAL;
	if (!user_ok((uint64_t)a1, 144, true))
		return -EFAULT;
	gk_zero((void *)(uintptr_t)a1, 144);
	if (a0 != -1) { /* no children */
		uint64_t ns = time_cpu_ns();
		uint64_t *ru = (uint64_t *)(uintptr_t)a1;
		ru[0] = ns / NS;
		ru[1] = ns % NS / 1000;
	}
	return 0;
}
