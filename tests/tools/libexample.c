/*
 * libexample: the smallest program built on libairlock (include/airlock/
 * airlock.h). Boots one sandbox under the default policy and runs PROG on
 * it three times, collecting each run's output in buffers.
 *
 *   libexample PROG [ARG...]
 *
 * Prints PROG's stdout once, then one line per run on stderr:
 *   libexample: run K exit_status S stdout N bytes revert P pages U us
 * Exits with the last run's exit status, or 125 if the sandbox failed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "airlock/airlock.h"

int main(int argc, char **argv)
{
	char err[AIRLOCK_ERR_MAX];
	if (argc < 2) {
		fprintf(stderr, "usage: libexample PROG [ARG...]\n");
		return 125;
	}
	struct airlock *box = airlock_create(NULL, err, sizeof(err));
	if (!box) {
		fprintf(stderr, "libexample: %s\n", err);
		return 125;
	}
	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		airlock_destroy(box);
		return 127;
	}
	struct airlock_job job = {.argv = argv + 1, .job_fd = fd};
	struct airlock_result res = {.exit_status = 125};
	for (int k = 0; k < 3; k++) {
		char *out, *errbuf;
		size_t out_len, err_len;
		airlock_run_buffers(box, &job, NULL, 0, &out, &out_len, &errbuf,
				    &err_len, &res);
		if (k == 0 && out)
			fwrite(out, 1, out_len, stdout);
		fprintf(stderr,
			"libexample: run %d exit_status %d stdout %zu bytes "
			"revert %llu pages %llu us%s%s\n",
			k, res.exit_status, out_len,
			(unsigned long long)res.revert_pages,
			(unsigned long long)res.revert_us,
			res.reason[0] ? ": " : "", res.reason);
		free(out);
		free(errbuf);
	}
	close(fd);
	airlock_destroy(box);
	return res.exit_status;
}
