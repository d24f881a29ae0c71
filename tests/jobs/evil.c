/*
 * Hostile jobs for the guest kernel, one per argv[1]; each prints what it
 * saw and exits 0 when the kernel held, or dies the way Linux would make it.
 *   fork     a fork bomb: every way to make a process must fail cleanly
 *   membomb  mmap and brk until memory runs out, touching all of it
 *   jit      write code, make it executable, run it, rewrite it, run again
 *   smc      write into the program's own text: SIGSEGV, as on Linux
 *   efault   every pointer argument aimed at guest-kernel memory: EFAULT
 *            (give it input: reads from an empty stdin need no buffer)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fork_bomb(void)
{
	static const long calls[] = {SYS_fork, SYS_vfork, SYS_clone, SYS_clone3};
	for (int round = 0; round < 1000; round++)
		for (size_t i = 0; i < sizeof(calls) / sizeof(*calls); i++) {
			long r = syscall(calls[i], SIGCHLD, 0, 0, 0, 0);
			if (r == 0)
				_exit(0); /* a child: the bomb went off */
			if (r > 0 || errno != ENOSYS) {
				printf("call %ld: %ld (%s)\n", calls[i], r,
				       strerror(errno));
				return 1;
			}
		}
	puts("fork bomb: ENOSYS");
	return 0;
}

static int mem_bomb(void)
{
	size_t chunk = 4 << 20, maps = 0;
	for (;;) {
		char *p = mmap(NULL, chunk, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			break;
		memset(p, 0x5a, chunk);
		maps++;
	}
	int mmap_errno = errno;
	char *top = sbrk(0), *want = top + ((size_t)1 << 40);
	long r = syscall(SYS_brk, want);
	printf("membomb: %zu MiB mapped, then %s; brk of 1 TiB %s\n",
	       maps * 4, strerror(mmap_errno),
	       (char *)r == want ? "granted" : "refused");
	return mmap_errno == ENOMEM && (char *)r != want ? 0 : 1;
}

typedef int (*fn)(void);

static int jit(void)
{
	/* mov $N, %eax; ret */
	unsigned char code[] = {0xb8, 42, 0, 0, 0, 0xc3};
	unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	memcpy(p, code, sizeof(code));
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC))
		return 2;
	int a = ((fn)p)();
	if (mprotect(p, 4096, PROT_READ | PROT_WRITE))
		return 3;
	p[1] = 43;
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC))
		return 4;
	int b = ((fn)p)();
	printf("jit: %d %d\n", a, b);
	return a == 42 && b == 43 ? 0 : 5;
}

static int smc(void)
{
	fflush(stdout);
	*(volatile unsigned char *)(uintptr_t)&smc = 0xc3;
	puts("smc: wrote into the program's text");
	return 1;
}

/* Guest-kernel addresses: boot block, kernel image, its last page, the
 * virtio-mmio window, the top of the address space. */
static const uintptr_t kernel_addrs[] = {0x1000, 0x100000, 0x3ff000,
					 0xbf000000, 0xfffffffffffff000};

/* One syscall with its pointer argument at k; -errno. */
static long with_ptr(int which, uintptr_t k)
{
	char buf[sizeof(struct stat)];
	void *K = (void *)k;
	struct iovec bad_iov = {K, 16};
	switch (which) {
	case 0: return syscall(SYS_write, 1, K, 16);
	case 1: return syscall(SYS_read, 0, K, 16);
	case 2: return syscall(SYS_writev, 1, K, 1);
	case 3: return syscall(SYS_writev, 1, &bad_iov, 1);
	case 4: return syscall(SYS_fstat, 1, K);
	case 5: return syscall(SYS_uname, K);
	case 6: return syscall(SYS_clock_gettime, CLOCK_MONOTONIC, K);
	case 7: return syscall(SYS_gettimeofday, K, 0);
	case 8: return syscall(SYS_nanosleep, K, 0);
	case 9: return syscall(SYS_getrandom, K, 16, 0);
	case 10: return syscall(SYS_rt_sigaction, SIGUSR1, K, 0, 8);
	case 11: return syscall(SYS_rt_sigaction, SIGUSR1, 0, K, 8);
	case 12: return syscall(SYS_rt_sigprocmask, SIG_BLOCK, K, 0, 8);
	case 13: return syscall(SYS_getcwd, K, 64);
	case 14: return syscall(SYS_getrlimit, RLIMIT_STACK, K);
	case 15: return syscall(SYS_getrusage, 0, K);
	case 16: return syscall(SYS_clock_getres, CLOCK_MONOTONIC, K);
	case 17: return syscall(SYS_sched_getaffinity, 0, 128, K);
	case 18: return syscall(SYS_prlimit64, 0, RLIMIT_STACK, 0, K);
	case 19: return syscall(SYS_newfstatat, AT_FDCWD, K, buf, 0);
	case 20: return syscall(SYS_poll, K, 1, 0);
	case 21: return syscall(SYS_sigaltstack, K, 0);
	case 22: return syscall(SYS_readv, 0, &bad_iov, 1);
	case 23: return syscall(SYS_times, K);
	case 24: return syscall(SYS_time, K);
	case 25: return syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, K, 0);
	default: return -1;
	}
}
#define NCALLS 26

static int efault(void)
{
	int bad = 0;
	for (int c = 0; c < NCALLS; c++)
		for (size_t a = 0; a < sizeof(kernel_addrs) / sizeof(*kernel_addrs);
		     a++) {
			long r = with_ptr(c, kernel_addrs[a]);
			if (r != -1 || errno != EFAULT) {
				printf("case %d at %#lx: %ld (%s)\n", c,
				       (unsigned long)kernel_addrs[a], r,
				       r == -1 ? strerror(errno) : "no error");
				bad++;
			}
		}
	printf("efault: %d of %d calls wrong\n", bad,
	       NCALLS * (int)(sizeof(kernel_addrs) / sizeof(*kernel_addrs)));
	return bad != 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(void);
	} modes[] = {{"fork", fork_bomb}, {"membomb", mem_bomb},
		     {"jit", jit},        {"smc", smc},
		     {"efault", efault}};
	for (size_t i = 0; argc > 1 && i < sizeof(modes) / sizeof(*modes); i++)
		if (strcmp(argv[1], modes[i].name) == 0)
			return modes[i].run();
	fprintf(stderr, "usage: evil fork|membomb|jit|smc|efault\n");
	return 2;
}
