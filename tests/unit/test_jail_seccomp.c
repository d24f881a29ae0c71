/*
 * The VMM's seccomp allowlist, installed in a forked child: what the run
 * loop needs works, everything else kills the process with SIGSYS.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>

#include "jail/jail.h"

#define FAKE_REQ 0xAE80ul /* KVM_RUN's number; the filter only compares */

static const unsigned long ioctls[] = {FAKE_REQ};
static const int write_fds[] = {2};
static const struct jail_seccomp sc = {
    .ioctls = ioctls,
    .nioctls = 1,
    .write_fds = write_fds,
    .nwrite_fds = 1,
};

enum probe {
	P_ALLOWED, P_OPENAT, P_SOCKET, P_EXECVE, P_FORK, P_PTRACE, P_MOUNT,
	P_UNSHARE, P_KILL, P_BPF, P_MMAP_EXEC, P_IOCTL_OTHER, P_FCNTL_DUPFD,
	P_WRITE_STDOUT, P_SETUID, P_KEYCTL, P_UNLINK, P_RAW,
};

/* The syscall P_RAW makes, with every argument zero. */
static long raw_nr;

/* Runs the probe in a child under the filter; returns its wait status. */
static int probe(enum probe p)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char err[JAIL_ERR_MAX];
		if (jail_seccomp_install(&sc, err, sizeof(err)) != 0)
			syscall(SYS_exit_group, 99);
		int fd;
		switch (p) {
		case P_ALLOWED:
			fd = fcntl(0, F_GETFL);
			fcntl(0, F_SETFL, fd);
			syscall(SYS_ioctl, -1, FAKE_REQ, 0);
			void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (m == MAP_FAILED)
				syscall(SYS_exit_group, 98);
			munmap(m, 4096);
			syscall(SYS_write, 2, "", 0);
			break;
		case P_OPENAT:
			syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
			break;
		case P_SOCKET:
			syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
			break;
		case P_EXECVE:
			syscall(SYS_execve, "/bin/true", NULL, NULL);
			break;
		case P_FORK:
			syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
			break;
		case P_PTRACE:
			syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
			break;
		case P_MOUNT:
			syscall(SYS_mount, "none", "/", "tmpfs", 0, NULL);
			break;
		case P_UNSHARE:
			syscall(SYS_unshare, CLONE_NEWUSER);
			break;
		case P_KILL:
			syscall(SYS_kill, 1, 0);
			break;
		case P_BPF:
			syscall(SYS_bpf, 0, NULL, 0);
			break;
		case P_MMAP_EXEC:
			syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			break;
		case P_IOCTL_OTHER:
			syscall(SYS_ioctl, 0, TIOCSTI, "x");
			break;
		case P_FCNTL_DUPFD:
			syscall(SYS_fcntl, 0, F_DUPFD, 0);
			break;
		case P_WRITE_STDOUT:
			syscall(SYS_write, 1, "", 0);
			break;
		case P_SETUID:
			syscall(SYS_setuid, 0);
			break;
		case P_KEYCTL:
			syscall(SYS_keyctl, 0, 0, 0, 0, 0);
			break;
		case P_UNLINK:
			syscall(SYS_unlinkat, AT_FDCWD, "/nonexistent", 0);
			break;
		case P_RAW:
			syscall(raw_nr, 0, 0, 0, 0, 0, 0);
			break;
		}
		syscall(SYS_exit_group, 0);
	}
	int ws;
	cr_assert_eq(waitpid(pid, &ws, 0), pid);
	return ws;
}

Test(jail_seccomp, run_loop_syscalls_are_allowed)
{
	int ws = probe(P_ALLOWED);
	cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
		  "allowed probe ended with status 0x%x", ws);
}

/* Lock-down also leaves the process unable to make any other: the child
 * waits in ppoll (allowed) while its limits are read from outside. */
Test(jail_seccomp, lock_sets_nproc_zero)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char err[JAIL_ERR_MAX];
		close(p[1]);
		if (jail_lock(&sc, err, sizeof(err)) != 0)
			syscall(SYS_exit_group, 99);
		struct pollfd pfd = {.fd = p[0], .events = POLLIN};
		syscall(SYS_ppoll, &pfd, 1, NULL, NULL, 8);
		syscall(SYS_exit_group, 0);
	}
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	bool seen = false;
	for (int tries = 0; tries < 200 && !seen; tries++) {
		FILE *f = fopen(path, "r");
		cr_assert(f, "%s: %s", path, strerror(errno));
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "Max processes", 13) == 0)
				seen = strstr(line, " 0 ") != NULL;
		fclose(f);
		if (!seen)
			usleep(10000);
	}
	close(p[1]);
	int ws;
	cr_assert_eq(waitpid(pid, &ws, 0), pid);
	close(p[0]);
	cr_expect(seen, "RLIMIT_NPROC after jail_lock is not 0: %s", line);
	cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "status 0x%x", ws);
}

Test(jail_seccomp, everything_else_kills_with_sigsys)
{
	static const struct {
		enum probe p;
		const char *name;
	} forbidden[] = {
	    {P_OPENAT, "openat"},     {P_SOCKET, "socket"},
	    {P_EXECVE, "execve"},     {P_FORK, "clone"},
	    {P_PTRACE, "ptrace"},     {P_MOUNT, "mount"},
	    {P_UNSHARE, "unshare"},   {P_KILL, "kill"},
	    {P_BPF, "bpf"},           {P_MMAP_EXEC, "mmap(PROT_EXEC)"},
	    {P_IOCTL_OTHER, "ioctl(TIOCSTI)"},
	    {P_FCNTL_DUPFD, "fcntl(F_DUPFD)"},
	    {P_WRITE_STDOUT, "write(1)"}, {P_SETUID, "setuid"},
	    {P_KEYCTL, "keyctl"},     {P_UNLINK, "unlinkat"},
	};
	for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]);
	     i++) {
		int ws = probe(forbidden[i].p);
		cr_expect(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGSYS,
			  "%s: expected death by SIGSYS, got status 0x%x",
			  forbidden[i].name, ws);
	}
}

Test(jail_seccomp, export_is_readable)
{
	/* seccomp_export_pfc writes to a descriptor: a real temporary file. */
	FILE *f = tmpfile();
	cr_assert_not_null(f);
	cr_assert_eq(jail_seccomp_export(f, &sc), 0);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	cr_assert_gt(n, 0);
	rewind(f);
	char *text = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	cr_expect(strstr(text, "\"ioctl\""), "no ioctl rule in:\n%s", text);
	cr_expect(strstr(text, "KILL_PROCESS"), "default not kill:\n%s", text);
	/* DESIGN.md's ceiling for the run loop (sanitizer builds add a few
	 * for their runtime). */
	int calls = 0;
	for (const char *p = strstr(text, "filter for syscall"); p;
	     p = strstr(p + 1, "filter for syscall"))
		calls++;
	if (!jail_seccomp_sanitizer_lenient())
		cr_expect_leq(calls, 20, "%d syscalls allowed:\n%s", calls,
			      text);
	free(text);
}

/* Every call a VMM taken over by a guest would want, by name: each kills. */
Test(jail_seccomp, escape_syscalls_kill_by_name)
{
	static const char *const names[] = {
	    "open", "openat", "openat2", "creat", "execve", "execveat",
	    "socket", "socketpair", "connect", "bind", "listen", "accept4",
	    "clone", "clone3", "fork", "vfork", "ptrace", "mount", "umount2",
	    "pivot_root", "chroot", "unshare", "setns", "kill", "tkill",
	    "tgkill", "bpf", "keyctl", "add_key", "request_key", "init_module",
	    "finit_module", "delete_module", "kexec_load", "kexec_file_load",
	    "process_vm_readv", "process_vm_writev", "chmod", "fchmod",
	    "fchmodat", "chown", "unlink", "unlinkat", "rename", "mkdir",
	    "setuid", "setgid", "setresuid", "setresgid", "setgroups",
	    "capset", "prctl", "seccomp", "perf_event_open", "userfaultfd",
	    "io_uring_setup", "memfd_create", "mprotect", "reboot",
	    "personality", "sendmsg", "recvmsg", "name_to_handle_at",
	    "open_by_handle_at",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		/* Sanitizer builds let the runtime reprotect its pages. */
		if (jail_seccomp_sanitizer_lenient() &&
		    strcmp(names[i], "mprotect") == 0)
			continue;
		raw_nr = seccomp_syscall_resolve_name(names[i]);
		cr_assert_geq(raw_nr, 0, "libseccomp does not know %s",
			      names[i]);
		int ws = probe(P_RAW);
		cr_expect(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGSYS,
			  "%s: expected death by SIGSYS, got status 0x%x",
			  names[i], ws);
	}
}
