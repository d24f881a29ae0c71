/*
 * A hostile job: thousands of system calls with random numbers and random
 * arguments, many of them pointers into the guest kernel. The guest kernel
 * must answer each with a result or an error, never a panic. Calls that
 * would end, block or unmap the job itself are skipped, so a run that gets
 * to the end proves nothing went wrong. argv[1] seeds, argv[2] counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned long long state;

static unsigned long long next(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static int skipped(long nr)
{
	static const long skip[] = {
		SYS_exit, SYS_exit_group, SYS_rt_sigreturn, SYS_nanosleep,
		SYS_clock_nanosleep, SYS_pause, SYS_futex, SYS_rt_sigsuspend,
		SYS_poll, SYS_ppoll, SYS_select, SYS_pselect6, SYS_epoll_wait,
		SYS_epoll_pwait, SYS_kill, SYS_tkill, SYS_tgkill, SYS_mmap,
		SYS_mprotect, SYS_munmap, SYS_brk, SYS_mremap, SYS_madvise,
		SYS_arch_prctl, SYS_set_tid_address, SYS_rt_sigtimedwait,
		SYS_wait4, SYS_waitid, SYS_sched_yield, SYS_alarm, SYS_setitimer,
		SYS_vfork, SYS_fork, SYS_clone, SYS_clone3, SYS_execve,
		SYS_execveat, SYS_rseq, SYS_prctl, SYS_sigaltstack,
		SYS_rt_sigprocmask, SYS_rt_sigaction, SYS_close, SYS_dup2,
		SYS_dup3, SYS_close_range, SYS_shmat, SYS_mlock, SYS_munlock,
	};
	for (size_t i = 0; i < sizeof(skip) / sizeof(*skip); i++)
		if (nr == skip[i])
			return 1;
	return 0;
}

/*
 * Arguments: small numbers, guest-kernel addresses, the job's own buffer,
 * or garbage. When a call gets the buffer, its other arguments stay small,
 * so that it cannot legitimately write past the buffer into the job's own
 * stack (Linux would let it, too).
 */
static void args(long a[6], void *job_buf)
{
	unsigned kinds[6];
	int has_buf = 0;
	for (int i = 0; i < 6; i++) {
		kinds[i] = (unsigned)(next() % 6);
		has_buf |= kinds[i] == 2;
	}
	for (int i = 0; i < 6; i++) {
		unsigned long long r = next();
		switch (kinds[i]) {
		case 0:
			a[i] = (long)(r % 64);
			break;
		case 1:
			a[i] = has_buf ? (long)(r % 64)
				       : 0x1000 + (long)(r % 0x3ff000);
			break;
		case 2:
			a[i] = (long)job_buf;
			break;
		case 3:
			a[i] = -1;
			break;
		case 4:
			a[i] = 0;
			break;
		default:
			a[i] = has_buf ? 0 : (long)r;
		}
	}
}

int main(int argc, char **argv)
{
	static char buf[1 << 16];
	state = argc > 1 ? strtoull(argv[1], NULL, 0) * 2654435761u + 1 : 1;
	long count = argc > 2 ? atol(argv[2]) : 5000;
	long done = 0;
	while (done < count) {
		long nr = (long)(next() % 335);
		if (skipped(nr))
			continue;
		long a[6];
		args(a, buf);
		if ((nr == SYS_write || nr == SYS_writev || nr == SYS_pwrite64 ||
		     nr == SYS_sendfile) && a[0] >= 1 && a[0] <= 2)
			continue; /* keep the job's own output readable */
		syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		done++;
	}
	printf("survived %ld calls\n", done);
	return 0;
}
