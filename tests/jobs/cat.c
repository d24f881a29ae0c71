/*
 * Copies stdin to stdout with plain read/write, as `cat` would; with an
 * argument, also writes that argument to stderr first.
 */
#include <string.h>
#include <unistd.h>

static char buf[1 << 16];

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && (write_all(2, argv[1], strlen(argv[1])) ||
			 write_all(2, "\n", 1)))
		return 2;
	for (;;) {
		ssize_t r = read(0, buf, sizeof(buf));
		if (r == 0)
			return 0;
		if (r < 0 || write_all(1, buf, (size_t)r))
			return 1;
	}
}
