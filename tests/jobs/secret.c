/*
 * For the warm-VM isolation tests. "plant" leaves a secret in heap memory,
 * in the stack, in a file under /tmp and in the environment of nothing but
 * itself; "seek" looks for it everywhere it can reach: fresh heap and stack
 * pages and the file. Both print eight bytes from getrandom ("random")
 * and eight of AT_RANDOM ("aux"), which must differ between jobs.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <unistd.h>

#define SECRET "airlock-secret-7d1f3c"
#define HEAP (8u << 20)

static void plant(void)
{
	char *p = malloc(HEAP);
	for (size_t i = 0; p && i + sizeof(SECRET) <= HEAP; i += 4096)
		memcpy(p + i, SECRET, sizeof(SECRET));
	volatile char stack[64 * 1024];
	for (size_t i = 0; i + sizeof(SECRET) <= sizeof(stack); i += 512)
		memcpy((char *)stack + i, SECRET, sizeof(SECRET));
	int fd = open("/tmp/secret", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		if (write(fd, SECRET, sizeof(SECRET)) < 0)
			perror("write /tmp/secret");
		close(fd);
	}
	puts("planted");
}

static int found_in(const char *p, size_t n)
{
	for (size_t i = 0; i + sizeof(SECRET) <= n; i++)
		if (p[i] == 'a' && memcmp(p + i, SECRET, sizeof(SECRET)) == 0)
			return 1;
	return 0;
}

static void seek(void)
{
	char *p = malloc(HEAP);
	volatile char stack[64 * 1024];
	char buf[64] = "";
	int fd = open("/tmp/secret", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : 0;
	int hit = (p && found_in(p, HEAP)) ||
		  found_in((const char *)stack, sizeof(stack)) ||
		  (n > 0 && found_in(buf, (size_t)n)) || fd >= 0;
	puts(hit ? "found" : "clean");
}

static void print_hex(const char *what, const unsigned char *r)
{
	printf("%s %02x%02x%02x%02x%02x%02x%02x%02x\n", what, r[0], r[1], r[2],
	       r[3], r[4], r[5], r[6], r[7]);
}

int main(int argc, char **argv)
{
	unsigned char r[8];
	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return 2;
	if (argc > 1 && strcmp(argv[1], "plant") == 0)
		plant();
	else
		seek();
	print_hex("random", r);
	print_hex("aux", (const unsigned char *)getauxval(AT_RANDOM));
	return 0;
}
