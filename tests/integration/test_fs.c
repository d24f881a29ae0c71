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

static const char *fixture(const char *name, const char *libc)
{
	static char buf[4][128];
	static unsigned n;
	char *p = buf[n++ % 4];
	snprintf(p, sizeof(buf[0]), "%s.%s", name, libc);
	return job(p);
}

static const char *fsops(const char *libc)
{
	return fixture("fsops", libc);
}

/* A fresh directory NAME in the build tree (host /tmp may be read-only
 * where VM tests run), as an absolute path the caller frees. */
static char *fresh_dir(const char *name)
{
	char dir[256], cmd[600];
	/* Beside the fixtures (in the build tree), never in the checkout. */
	snprintf(dir, sizeof(dir), "%s/../%s", job(""), name);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	char *abs = realpath(dir, NULL);
	cr_assert_not_null(abs);
	return abs;
}

Test(fs, fsops_passes_natively)
{
	for (int i = 0; i < 2; i++) {
		char name[64];
		snprintf(name, sizeof(name), "fsops-native-%s", libcs[i]);
		char *abs = fresh_dir(name);
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

/* ---- drives ---------------------------------------------------------------- */

/* src/ with every kind of file the ext2 reader handles (indirect blocks
 * up to triple, holes, fast and slow links, a multi-block directory) and
 * ext2 images of it with 1 KiB and 4 KiB blocks, under dir. */
static void make_drives(const char *dir)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd '%s'; mkdir -p src/sub/deeper; "
		 "printf 'hello\\n' > src/small; "
		 "head -c 300000 /dev/urandom > src/sub/big; "
		 "truncate -s 70M src/sparse; printf END >> src/sparse; "
		 "ln -s small src/fast; "
		 "long=$(printf '%%080d' 0); "
		 "head -c 5000 /dev/urandom > src/sub/deeper/$long; "
		 "ln -s sub/deeper/$long src/slow; "
		 "for i in $(seq 1 150); do echo $i > src/sub/entry-$i; done; "
		 "for b in 1024 4096; do mke2fs -q -F -t ext2 -b $b -d src "
		 "img$b.ext2 16M >/dev/null 2>&1; done",
		 dir);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

Test(fs, ext2_drive_lists_and_reads_as_natively)
{
	require_kvm();
	char *dir = fresh_dir("fs-drives"), src[512], img[512], arg[600];
	make_drives(dir);
	snprintf(src, sizeof(src), "%s/src", dir);
	struct outcome native;
	run_cmd(&native, NULL, 0,
		(const char *const[]){fixture("tree", "glibc"), src, NULL});
	cr_assert_eq(native.status, 0, "natively: %s", native.err);
	for (int i = 0; i < 4; i++) {
		snprintf(img, sizeof(img), "%s/img%d.ext2", dir,
			 i < 2 ? 1024 : 4096);
		snprintf(arg, sizeof(arg), "%s:/mnt/data", img);
		struct outcome o;
		/* The 70 MiB sparse file's holes are zeroed in ring 0, about
		 * 40 s on PVM, where ring 0 is emulated: room to spare. */
		AIRLOCK(&o, "run", "--timeout", "300", "--drive", arg, "--",
			fixture("tree", libcs[i % 2]), "/mnt/data");
		cr_expect_eq(o.status, 0, "%s on %s: %s", libcs[i % 2], img,
			     o.err);
		cr_expect_str_eq(o.out, native.out, "%s on %s", libcs[i % 2],
				 img);
		outcome_free(&o);
	}
	outcome_free(&native);
	free(dir);
}

Test(fs, ext2_drive_is_read_only_and_mounted_in_the_tree)
{
	require_kvm();
	char *dir = fresh_dir("fs-drive-ro"), arg[600];
	make_drives(dir);
	/* Writable drives are read-only for now as well. */
	const char *modes[] = {"", ":rw"};
	for (int i = 0; i < 2; i++) {
		snprintf(arg, sizeof(arg), "%s/img1024.ext2:/mnt/data%s", dir,
			 modes[i]);
		struct outcome o;
		AIRLOCK(&o, "run", "--drive", arg, "--", fsops("musl"),
			"/mnt/data", "ro");
		cr_expect_eq(o.status, 0, "%s: %s%s", arg, o.out, o.err);
		outcome_free(&o);
	}
	free(dir);
}

/* An image that is not ext2 is the caller's mistake (125), named by its
 * place in the policy, not a program that cannot run (126). */
Test(fs, an_image_that_is_not_ext2_is_an_airlock_error)
{
	require_kvm();
	char *dir = fresh_dir("fs-not-ext2"), img[512], arg[600], cmd[700];
	snprintf(img, sizeof(img), "%s/zeros.img", dir);
	snprintf(cmd, sizeof(cmd), "truncate -s 1M '%s'", img);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	snprintf(arg, sizeof(arg), "%s:/mnt/data", img);
	struct outcome o;
	AIRLOCK(&o, "run", "--drive", arg, "--", job("hello.musl"));
	cr_expect_eq(o.status, 125, "status %d: %s", o.status, o.err);
	cr_expect(strstr(o.err, "drives[0], mounted at /mnt/data: not an ext2 "
				"image airlock can read: no ext2 magic number"),
		  "stderr: %s", o.err);
	cr_expect_eq(o.out_len, 0, "stdout: %s", o.out);
	outcome_free(&o);
	free(dir);
}
