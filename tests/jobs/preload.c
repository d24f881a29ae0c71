/*
 * A program with a costly start-up for `serve --preload`: it fills a table,
 * says so on stdout (the server's log), then marks its snapshot point. Each
 * request resumes after the point: it reads a line of input and prints how
 * often start-up and the part after the point ran (1 and 1 every time when
 * each job starts from the snapshot), and 8 random bytes.
 */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "airlock/fuzz.h"

static long table[1 << 16];
static int started, served;

int main(void)
{
	for (long i = 0; i < (1 << 16); i++)
		table[i] = i * i % 9973;
	started++;
	puts("warming done");
	fflush(stdout);
	syscall(AL_SYS_AIRLOCK, AL_FUZZ_CALL_POINT);
	served++;
	char line[128] = "";
	if (!fgets(line, sizeof(line), stdin))
		line[0] = '\0';
	unsigned char r[8] = {0};
	FILE *u = fopen("/dev/urandom", "r");
	if (!u || fread(r, 1, sizeof(r), u) != sizeof(r))
		return 1;
	fclose(u);
	printf("started %d time, served %d, table %ld, got %s", started, served,
	       table[12345], line);
	for (unsigned i = 0; i < sizeof(r); i++)
		printf("%02x", r[i]);
	printf("\n");
	return 7;
}
