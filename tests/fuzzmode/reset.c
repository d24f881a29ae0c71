/*
 * Fuzzing-mode target: proves that every input starts from the snapshot.
 * Before the snapshot point it creates an empty file and sets up a counter;
 * after it, each input bumps the counter and appends a line to the file.
 * The exit code is counter * 10 + lines in the file: 11 when the input saw
 * the state as it was at the point, anything else when an earlier input's
 * memory or files leaked into it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "airlock/cov.h"

static int counter;

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int c, lines = 0;
	if (!f)
		return 0;
	while ((c = getc(f)) != EOF)
		lines += c == '\n';
	fclose(f);
	return lines;
}

int main(void)
{
	char path[64];
	/* The pid keeps concurrent native runs apart; truncating makes a
	 * native run start fresh too, so it also exits 11. */
	snprintf(path, sizeof(path), "/tmp/airlock-reset.%d", (int)getpid());
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	if (fd < 0)
		return 2;
	/* Heap state from before the point must come back as well. */
	char *line = malloc(32);
	if (!line)
		return 3;
	strcpy(line, "one input\n");
	airlock_fuzz_point();

	counter++;
	/* An earlier input's write to the heap shows as exit 99. */
	if (line[0] != 'o')
		return 99;
	char buf[256];
	ssize_t got = read(0, buf, sizeof(buf));
	if (write(fd, line, strlen(line)) < 0)
		return 4;
	line[0] = 'X';
	close(fd);
	int lines = count_lines(path);
	printf("counter %d, lines %d, input bytes %zd\n", counter, lines, got);
	fflush(stdout);
	unlink(path);
	return counter * 10 + lines;
}
