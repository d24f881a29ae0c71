/*
 * The guest kernel's file system end to end: the fsops fixture checks every
 * file syscall group against Linux semantics. It runs natively first (so
 * its expectations are Linux's own), then inside airlock on the tmpfs.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

static const char *const libcs[] = {"musl", "glibc"};

static const char *fsops(const char *libc)
{
	static char name[64];
	snprintf(name, sizeof(name), "fsops.%s", libc);
	return job(name);
}

Test(fs, fsops_passes_natively)
{
	for (int i = 0; i < 2; i++) {
		/* A fresh directory in the build tree (host /tmp may be
		 * read-only where VM tests run). */
		char dir[256], cmd[600];
		snprintf(dir, sizeof(dir), "%s/../fsops-native-%s",
			 getenv("JOBS"), libcs[i]);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir,
			 dir);
		cr_assert_eq(system(cmd), 0);
		char *abs = realpath(dir, NULL);
		cr_assert_not_null(abs);
		struct outcome o;
		run_cmd(&o, NULL, 0, (const char *const[]){fsops(libcs[i]), abs,
							    NULL});
		cr_expect_eq(o.status, 0, "%s natively: %s%s", libcs[i], o.out,
			     o.err);
		outcome_free(&o);
		free(abs);
	}
}

Test(fs, fsops_passes_in_the_guest)
{
	require_kvm();
	for (int i = 0; i < 2; i++) {
		struct outcome o;
		AIRLOCK(&o, "run", "--", fsops(libcs[i]), "/tmp");
		cr_expect_eq(o.status, 0, "%s: status %d\n%s%s", libcs[i],
			     o.status, o.out, o.err);
		cr_expect(strstr(o.out, "fsops: 0 failures\n") != NULL, "%s: %s",
			  libcs[i], o.out);
		outcome_free(&o);
	}
}

Test(fs, files_fill_memory_to_enospc_not_a_panic)
{
	require_kvm();
	struct outcome o;
	AIRLOCK(&o, "run", "--memory", "64", "--", fsops("musl"), "/", "fill");
	cr_expect_eq(o.status, 0, "status %d\n%s%s", o.status, o.out, o.err);
	unsigned mib = 999;
	const char *at = strstr(o.out, "filled ");
	cr_assert_not_null(at, "%s", o.out);
	sscanf(at, "filled %u MiB", &mib);
	cr_expect(mib >= 8 && mib <= 32, "filled %u MiB of a 64 MiB guest",
		  mib);
	outcome_free(&o);
}
