/*
 * Integration-test harness: runs the real `airlock` binary (path in $AIRLOCK)
 * on job fixtures (directory in $JOBS) and captures everything it does.
 */
#ifndef AIRLOCK_TEST_HARNESS_H
#define AIRLOCK_TEST_HARNESS_H

#include <stddef.h>

struct outcome {
	int status; /* exit status, or 128 + signal if airlock itself died */
	char *out, *err;
	size_t out_len, err_len;
	double seconds;
};

/* Skips the test when the machine has no /dev/kvm at all. */
void require_kvm(void);

/* Path of fixture NAME (e.g. "hello.musl") under $JOBS. */
const char *job(const char *name);

/*
 * Runs argv (argv[0] a path) feeding it `in`, capturing its output, and
 * fails the test if it does not finish within a generous limit.
 */
void run_cmd(struct outcome *o, const void *in, size_t in_len,
	     const char *const *argv);

/* run_cmd with a limit of the caller's, for runs longer by design. */
void run_cmd_within(struct outcome *o, const void *in, size_t in_len,
		    const char *const *argv, unsigned limit_s);

/*
 * Runs `airlock ARGS...` (NULL-terminated) feeding it `in`, and fails the
 * test if it does not finish within a generous limit.
 */
void run_airlock(struct outcome *o, const void *in, size_t in_len,
		 const char *const *args);

void outcome_free(struct outcome *o);

/* Fills buf with len reproducible pseudo-random bytes. */
void fill_random(void *buf, size_t len, unsigned seed);

/* The first MiB of a text file, NUL-ended; free it. Fails the test when
 * the file cannot be opened. */
char *slurp(const char *path);

#define AIRLOCK(o, ...)                                                        \
	run_airlock((o), NULL, 0, (const char *const[]){__VA_ARGS__, NULL})

#endif
