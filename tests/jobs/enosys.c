/* Calls a syscall the guest kernel does not offer and reports what it got. */
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	long r = syscall(SYS_acct, NULL);
	printf("acct: %ld %s\n", r, r < 0 && errno == ENOSYS ? "ENOSYS" : "?");
	return 0;
}
