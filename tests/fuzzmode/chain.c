/*
 * Fuzzing-mode target: aborts only on an input that starts with "AIRLOCK!",
 * which a fuzzer can reach only by following coverage, one byte at a time.
 * Reads standard input, or the file named by argv[1] (AFL's @@). An input
 * starting with "HANG" never finishes, for the per-input timeout; one
 * starting with "SLOW" ends normally after 20 ms. Before it aborts it says
 * so on stderr, as a failed assertion would, for triage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static unsigned char input[4096];

/* Stores between the branches keep the compiler from folding the
 * comparisons into one wide compare, which would hide the progress from
 * the coverage map. */
static volatile int depth;

static size_t read_input(int fd)
{
	size_t len = 0;
	while (len < sizeof(input)) {
		ssize_t r = read(fd, input + len, sizeof(input) - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	return len;
}

/* No length check: bytes past the input are zero and never match, and a
 * short input can make progress too. */
static int matches(void)
{
	if (input[0] != 'A')
		return 0;
	depth = 1;
	if (input[1] != 'I')
		return 0;
	depth = 2;
	if (input[2] != 'R')
		return 0;
	depth = 3;
	if (input[3] != 'L')
		return 0;
	depth = 4;
	if (input[4] != 'O')
		return 0;
	depth = 5;
	if (input[5] != 'C')
		return 0;
	depth = 6;
	if (input[6] != 'K')
		return 0;
	depth = 7;
	return input[7] == '!';
}

static void spin_ms(long ms)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000 +
		   (t.tv_nsec - t0.tv_nsec) / 1000000 <
	       ms);
}

int main(int argc, char **argv)
{
	int fd = 0;
	if (argc > 1 && (fd = open(argv[1], O_RDONLY)) < 0)
		return 2;
	size_t len = read_input(fd);
	/* One 4-byte compare: a fuzzer without comparison logging practically
	 * never stumbles on it, so fuzzing runs are not slowed by hangs. */
	if (len >= 4 && memcmp(input, "HANG", 4) == 0)
		for (;;)
			depth = -1;
	if (len >= 4 && memcmp(input, "SLOW", 4) == 0)
		spin_ms(20);
	if (matches()) {
		fputs("chain: matched AIRLOCK!\n", stderr);
		abort();
	}
	return 0;
}
