/* For the revert benchmark: writes one byte into each of N fresh pages
 * (argv[1], default 16) of a static buffer, so the job dirties about N
 * pages beyond what any job touches. */
#include <stdlib.h>

#define MAX_PAGES 4096
static char pages[MAX_PAGES][4096];

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 16;
	if (n < 0 || n > MAX_PAGES)
		return 2;
	for (long i = 0; i < n; i++)
		((volatile char *)pages[i])[0] = 1;
	return 0;
}
