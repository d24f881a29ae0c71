/*
 * Allocates and touches memory in 1 MiB steps until malloc says no, then
 * reports how far it got: more than the guest has must fail cleanly, not
 * crash the job or the VM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	size_t mib = 0;
	if (malloc((size_t)1 << 40) != NULL) {
		puts("a 1 TiB allocation succeeded");
		return 1;
	}
	for (;;) {
		char *p = malloc(1 << 20);
		if (!p)
			break;
		memset(p, 0xa5, 1 << 20);
		mib++;
	}
	printf("allocation failed cleanly after %zu MiB\n", mib);
	return mib > 0 ? 0 : 1;
}
