/*
 * bench: runs a command N times (fork + exec + wait, output to /dev/null) and
 * prints the median, 10th and 90th percentile wall time in microseconds.
 *   bench [--bytes B] LABEL N CMD [ARG...]
 * Also the 99th percentile and how many such runs one after another make
 * per second. With --bytes, also the throughput at the median, for a command that moves
 * B bytes. Fails if any run exits non-zero, so a broken command cannot look
 * fast.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double run_once(char **argv)
{
	double t0 = now_us();
	pid_t pid = fork();
	if (pid < 0) {
		perror("bench: fork");
		exit(2);
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		execv(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "bench: %s failed (status 0x%x)\n", argv[0],
			st);
		exit(1);
	}
	return now_us() - t0;
}

int main(int argc, char **argv)
{
	double bytes = 0;
	if (argc > 2 && strcmp(argv[1], "--bytes") == 0) {
		bytes = atof(argv[2]);
		argc -= 2;
		argv += 2;
	}
	if (argc < 4) {
		fprintf(stderr,
			"usage: bench [--bytes B] LABEL N CMD [ARG...]\n");
		return 2;
	}
	int n = atoi(argv[2]);
	if (n < 1)
		n = 1;
	double *t = calloc((size_t)n, sizeof(*t));
	if (!t)
		return 2;
	run_once(argv + 3); /* warm the page cache */
	for (int i = 0; i < n; i++)
		t[i] = run_once(argv + 3);
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += t[i];
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("%-34s median %9.0f us   p10 %9.0f   p90 %9.0f   p99 %9.0f   "
	       "%7.1f/s   (n=%d)",
	       argv[1], t[n / 2], t[n / 10], t[(n * 9) / 10], t[(n * 99) / 100],
	       1e6 * n / sum, n);
	if (bytes > 0)
		printf("   %.1f MiB/s", bytes / (1 << 20) / (t[n / 2] / 1e6));
	putchar('\n');
	free(t);
	return 0;
}
