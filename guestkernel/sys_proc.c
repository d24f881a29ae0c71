/*
 * The process: one process (pid 1) with one thread, uid and gid 1000, one
 * CPU, limits that describe the VM.
 */
#include "sys.h"

#define USER_TOP 0x800000000000ull /* first non-canonical user address */
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004
#define RLIM_NLIMITS 16
#define RLIM_INFINITY UINT64_MAX
#define RLIMIT_STACK 3
#define RLIMIT_NOFILE 7
#define RLIMIT_AS 9
#define GRND_ALL 7 /* NONBLOCK | RANDOM | INSECURE */
#define GETRANDOM_MAX 0x1ffffffull

GK_SYSCALL(sys_exit_group)
{
	proc_exit((int)a0);
}

GK_SYSCALL(sys_getpid)
{
	return 1;
}

GK_SYSCALL(sys_getppid)
{
	return 0;
}

/* gettid, getpgrp, getpgid, getsid: all 1. */
GK_SYSCALL(sys_getid)
{
	return 1;
}

/* getuid, geteuid, getgid, getegid */
GK_SYSCALL(sys_getuid)
{
	return GK_JOB_UID;
}

GK_SYSCALL(sys_getgroups)
{
	return a0 < 0 ? -EINVAL : 0;
}

GK_SYSCALL(sys_umask)
{
	uint32_t old = gk_proc.umask;
	gk_proc.umask = (uint32_t)a0 & 0777;
	return old;
}

GK_SYSCALL(sys_zero)
{
	return 0;
}

GK_SYSCALL(sys_sched_yield)
{
	return 0;
}

/* struct utsname: six fields of 65 bytes. */
static const char utsname[6][65] = {
	"Linux", "airlock", "6.1.0-airlock", "#1 airlock", "x86_64", "(none)",
};

GK_SYSCALL(sys_uname)
{
	if (!user_ok((uint64_t)a0, sizeof(utsname), true))
		return -EFAULT;
	gk_copy((void *)(uintptr_t)a0, utsname, sizeof(utsname));
	return 0;
}

GK_SYSCALL(sys_arch_prctl)
{
	uint64_t addr = (uint64_t)a1;
	switch (a0) {
	case ARCH_SET_FS:
	case ARCH_SET_GS:
		if (addr >= USER_TOP) /* wrmsr would #GP on non-canonical */
			return -EPERM;
		if (a0 == ARCH_SET_FS) {
			gk_proc.fs_base = addr;
			pf_set_fs_base(addr);
		} else {
			gk_proc.gs_base = addr;
			pf_set_gs_base(addr);
		}
		return 0;
	case ARCH_GET_FS:
	case ARCH_GET_GS:
		if (!user_ok(addr, 8, true))
			return -EFAULT;
		*(uint64_t *)(uintptr_t)addr =
			a0 == ARCH_GET_FS ? gk_proc.fs_base : gk_proc.gs_base;
		return 0;
	default:
		return -EINVAL;
	}
}

GK_SYSCALL(sys_set_tid_address)
{
	return 1;
}

GK_SYSCALL(sys_set_robust_list)
{
	return a1 == 24 ? 0 : -EINVAL;
}

static uint64_t limits[RLIM_NLIMITS][2];
static bool limits_set;

static void limits_init(void)
{
	for (unsigned i = 0; i < RLIM_NLIMITS; i++)
		limits[i][0] = limits[i][1] = RLIM_INFINITY;
	limits[RLIMIT_STACK][0] = limits[RLIMIT_STACK][1] = gk_proc.stack_bytes;
	limits[RLIMIT_NOFILE][0] = limits[RLIMIT_NOFILE][1] = 1024;
	limits[RLIMIT_AS][0] = limits[RLIMIT_AS][1] =
		mm_job_end() - mm_job_base();
	limits_set = true;
}

GK_SYSCALL(sys_prlimit64)
{
	uint64_t res = (uint64_t)a1;
	if (a0 != 0 && a0 != 1)
		return -ESRCH;
	if (res >= RLIM_NLIMITS)
		return -EINVAL;
	if (!limits_set)
		limits_init();
	uint64_t *lim = limits[res];
	if (a2 && !user_ok((uint64_t)a2, 16, false))
		return -EFAULT;
	if (a3) {
		if (!user_ok((uint64_t)a3, 16, true))
			return -EFAULT;
		uint64_t *old = (uint64_t *)(uintptr_t)a3;
		old[0] = lim[0];
		old[1] = lim[1];
	}
	if (a2) {
		const uint64_t *want = (const uint64_t *)(uintptr_t)a2;
		if (want[0] > want[1])
			return -EINVAL;
		lim[0] = want[0]; /* accepted; nothing enforces it */
		lim[1] = want[1];
	}
	return 0;
}

GK_SYSCALL(sys_getrlimit)
{
	return sys_prlimit64(0, a0, 0, a1, 0, 0);
}

GK_SYSCALL(sys_setrlimit)
{
	return sys_prlimit64(0, a0, a1, 0, 0, 0);
}

GK_SYSCALL(sys_getrandom)
{
	uint64_t len = GK_MIN((uint64_t)a1, GETRANDOM_MAX);
	if ((unsigned long)a2 & ~(unsigned long)GRND_ALL)
		return -EINVAL;
	if (!user_ok((uint64_t)a0, len, true))
		return -EFAULT;
	random_fill((uint64_t)a0, len);
	return (long)len;
}

GK_SYSCALL(sys_sched_getaffinity)
{
	if (a0 != 0 && a0 != 1)
		return -ESRCH;
	if ((uint64_t)a1 < 8 || (a1 & 7))
		return -EINVAL;
	if (!user_ok((uint64_t)a2, 8, true))
		return -EFAULT;
	*(uint64_t *)(uintptr_t)a2 = 1; /* CPU 0 only */
	return 8;
}

GK_SYSCALL(sys_sched_setaffinity)
{
	return a0 == 0 || a0 == 1 ? 0 : -ESRCH;
}

/*
 * futex with one thread: nobody to wake, and nobody to wake us. A wait on a
 * matching value either times out or would wait forever (-EDEADLK).
 */
GK_SYSCALL(sys_futex)
{
	long cmd = a1 & 0x7f; /* without PRIVATE and CLOCK_REALTIME */
	switch (cmd) {
	case 0: /* FUTEX_WAIT: relative timeout */
	case 9: /* FUTEX_WAIT_BITSET: absolute timeout */
		break;
	case 1:  /* WAKE */
	case 3:  /* REQUEUE */
	case 4:  /* CMP_REQUEUE */
	case 5:  /* WAKE_OP */
	case 10: /* WAKE_BITSET */
		return 0;
	default:
		return -ENOSYS;
	}
	if (a0 & 3)
		return -EINVAL;
	if (!user_ok((uint64_t)a0, 4, false))
		return -EFAULT;
	if (*(const uint32_t *)(uintptr_t)a0 != (uint32_t)a2)
		return -EAGAIN;
	if (!a3)
		return -EDEADLK;
	uint64_t ns, now = time_monotonic_ns();
	long r = sys_timespec_ns((uint64_t)a3, &ns);
	if (r)
		return r;
	if (cmd == 9) {
		uint64_t clock = (a1 & 256) ? time_realtime_ns() : now;
		ns = ns > clock ? ns - clock : 0;
	}
	time_sleep_until(ns > UINT64_MAX - now ? UINT64_MAX : now + ns);
	return -ETIMEDOUT;
}

/* struct sysinfo: one process, memory as the job region. */
GK_SYSCALL(sys_sysinfo)
{
	if (!user_ok((uint64_t)a0, 112, true))
		return -EFAULT;
	uint64_t *si = (uint64_t *)(uintptr_t)a0;
	gk_zero(si, 112);
	si[0] = time_monotonic_ns() / 1000000000ull; /* uptime */
	si[4] = GK_BI->mem_bytes;                    /* totalram */
	si[5] = mm_job_end() - mm_job_base();        /* freeram */
	*(uint16_t *)&si[10] = 1;                    /* procs */
	*(uint32_t *)&si[13] = 1;                    /* mem_unit */
	return 0;
}

/* One CPU, one NUMA node. */
GK_SYSCALL(sys_getcpu)
{
	if ((a0 && !user_ok((uint64_t)a0, 4, true)) ||
	    (a1 && !user_ok((uint64_t)a1, 4, true)))
		return -EFAULT;
	if (a0)
		*(uint32_t *)(uintptr_t)a0 = 0;
	if (a1)
		*(uint32_t *)(uintptr_t)a1 = 0;
	return 0;
}
