/* For the revert benchmark: allocates N pages (argv[1], default 16) and
 * writes one byte into each, so the job dirties about N pages beyond what
 * every job touches. */
#include <stdlib.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 16;
	if (n < 0 || n > 65536)
		return 2;
	volatile char *p = malloc((size_t)n * 4096 + 1);
	if (!p)
		return 1;
	for (long i = 0; i < n; i++)
		p[i * 4096] = 1;
	return 0;
}
