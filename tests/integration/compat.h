/*
 * Differential compatibility tests: one program and its arguments run
 * natively on the host and inside airlock must give the same stdout and the
 * same exit status. Expected output is never written down; the host is the
 * reference.
 *
 * Paths line up on both sides: the native run works in the fixture root
 * ($JOBS/compat/root, holding data/), and inside airlock that data/ is an
 * ext2 drive mounted at /data with the job's working directory at /, so a
 * case names its inputs relatively, as "data/words.txt".
 *
 * The guest job is not root (uid 1000) while the native run may be: no case
 * depends on who runs it.
 */
#ifndef AIRLOCK_TEST_COMPAT_H
#define AIRLOCK_TEST_COMPAT_H

#include <criterion/criterion.h>
#include <stdbool.h>

enum compat_prog {
	COMPAT_BUSYBOX, /* Debian's busybox-static */
	COMPAT_LUA,	/* $JOBS/compat/lua */
	COMPAT_PYTHON,	/* $JOBS/compat/python, stdlib on a second drive */
};

struct compat_case {
	const char *name;
	enum compat_prog prog;
	const char *const *args; /* after the program, NULL-terminated */
	/* A file under the fixture root fed as stdin on both sides, or NULL. */
	const char *stdin_file;
	/*
	 * The native run must exit with this, or the case itself is broken
	 * (a missing input file fails alike on both sides and would pass).
	 */
	int status;
};

/*
 * Runs the case natively and in airlock and compares. With on_drive, the
 * fixture root's data/ is attached as a drive; without, the job sees no
 * files and may only use its standard streams.
 */
void compat_check(const struct compat_case *c, bool on_drive);

#define COMPAT_ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define BUSYBOX(...) .prog = COMPAT_BUSYBOX, .args = COMPAT_ARGS(__VA_ARGS__)
#define LUA(...) .prog = COMPAT_LUA, .args = COMPAT_ARGS(__VA_ARGS__)
#define PYTHON(...) .prog = COMPAT_PYTHON, .args = COMPAT_ARGS(__VA_ARGS__)

/*
 * One Criterion test per case. Suite `compat`: standard streams only, passes
 * on main today. Suite `compat_fs`: needs drives and the guest filesystem
 * (issue 3) and fails loudly until they exist.
 */
#define COMPAT_STDIO(id, ...)                                                  \
	Test(compat, id)                                                       \
	{                                                                      \
		compat_check(                                                  \
		    &(const struct compat_case){.name = #id, __VA_ARGS__},     \
		    false);                                                    \
	}
#define COMPAT_DRIVE(id, ...)                                                  \
	Test(compat_fs, id)                                                    \
	{                                                                      \
		compat_check(                                                  \
		    &(const struct compat_case){.name = #id, __VA_ARGS__},     \
		    true);                                                     \
	}

#endif
