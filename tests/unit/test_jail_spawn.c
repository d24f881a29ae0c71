/*
 * jail_spawn on this machine (no KVM needed): the child checks its own
 * confinement and answers with a bit mask of what failed.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jail/jail.h"

enum {
	BAD_UID = 1 << 0,
	BAD_ROOT = 1 << 1,
	BAD_OPEN = 1 << 2,
	BAD_FDS = 1 << 3,
	BAD_CAPS = 1 << 4,
	BAD_PRCTL = 1 << 5,
	BAD_RLIMIT = 1 << 6,
	BAD_PID = 1 << 7,
};

static int root_entries(void)
{
	DIR *d = opendir("/");
	int n = 0;
	struct dirent *e;
	if (!d)
		return 0; /* cannot even open it: fine, nothing reachable */
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int caps_nonempty(void)
{
	cap_t c = cap_get_proc();
	cap_t none = cap_init();
	int diff = cap_compare(c, none);
	cap_free(c);
	cap_free(none);
	if (diff)
		return 1;
	/* bounding set: 1 = still there, 0 = dropped */
	return cap_get_bound(CAP_SYS_ADMIN) == 1 || cap_get_bound(0) == 1;
}

static int check_inside(uid_t want_uid)
{
	int bad = 0;
	if (getuid() != want_uid || geteuid() != want_uid)
		bad |= BAD_UID;
	if (root_entries() != 0)
		bad |= BAD_ROOT;
	if (open("/etc/passwd", O_RDONLY) >= 0 ||
	    mkdir("/x", 0700) == 0)
		bad |= BAD_OPEN;
	/* Kept: 0 (was our pipe end), 1, 2; nothing above. */
	if (fcntl(0, F_GETFD) < 0 || fcntl(3, F_GETFD) >= 0 ||
	    fcntl(4, F_GETFD) >= 0)
		bad |= BAD_FDS;
	if (caps_nonempty())
		bad |= BAD_CAPS;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1 ||
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		bad |= BAD_PRCTL;
	struct rlimit rl;
	/* RLIMIT_NPROC comes with jail_lock (test_jail_seccomp.c). */
	if (getrlimit(RLIMIT_CORE, &rl) < 0 || rl.rlim_max != 0)
		bad |= BAD_RLIMIT;
	if (getpid() != 1)
		bad |= BAD_PID;
	return bad;
}

Test(jail_spawn, child_is_confined)
{
	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	int extra = open("/dev/null", O_RDONLY); /* must not survive */
	const int keep[] = {p[1], 1, 2};
	struct jail_config jc = {.keep_fds = keep, .nkeep = 3};
	struct jail j;
	char err[JAIL_ERR_MAX];
	uid_t want = geteuid() == 0 ? 65534 : geteuid();
	enum jail_side s = jail_spawn(&jc, &j, err, sizeof(err));
	if (s == JAIL_CHILD || s == JAIL_CHILD_FAILED) {
		unsigned char bad = s == JAIL_CHILD ? (unsigned char)check_inside(want)
						    : 0xff;
		if (write(0, &bad, 1) != 1)
			syscall(SYS_exit_group, 1);
		syscall(SYS_exit_group, 0);
	}
	close(p[1]);
	close(extra);
	if (s == JAIL_ERROR)
		cr_skip_test("no namespaces here: %s", err);
	unsigned char bad = 0xee;
	cr_assert_eq(read(p[0], &bad, 1), 1);
	close(p[0]);
	int ws;
	cr_assert_eq(waitpid(j.pid, &ws, 0), j.pid);
	jail_cleanup(&j);
	cr_expect_eq(bad, 0, "confinement failures (bit mask): 0x%x", bad);
	cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "status 0x%x", ws);
}
