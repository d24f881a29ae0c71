/*
 * Calls getrandom(2) and getpid(2) directly and prints what each returned,
 * so that a test can see the policy's guest.syscalls at work.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void try(const char *name, long nr)
{
	char buf[8];
	long r = nr == SYS_getrandom ? syscall(nr, buf, sizeof(buf), 0)
				     : syscall(nr);
	if (r < 0)
		printf("%s: %s\n", name, strerror(errno));
	else
		printf("%s: ok\n", name);
	fflush(stdout);
}

int main(void)
{
	try("getrandom", SYS_getrandom);
	try("getpid", SYS_getpid);
	return 0;
}
