/*
 * The seccomp allowlist of the jailed VMM's run loop. Default: kill the
 * whole process (SIGSYS). Everything the VMM needs to create a VM (opening
 * memfds, KVM_CREATE_*, KVM_SET_*) happens before the filter goes in, so the
 * list below is only what running, serving the guest's devices and tearing
 * down take. A guest that takes over the VMM can then move bytes on the
 * descriptors it already has and nothing else: no open, exec, socket, clone,
 * ptrace, mount, kill, bpf, keyctl, module or kexec calls.
 */
#include <fcntl.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "jail/jail_impl.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

bool jail_seccomp_sanitizer_lenient(void)
{
	return SANITIZED;
}

/* One rule per syscall, no argument checks; why is next to each use. */
static int allow(scmp_filter_ctx f, int nr)
{
	return seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 0);
}

static int allow_fixed(scmp_filter_ctx f)
{
	int rc = 0;
	/* Running the guest. */
	rc |= allow(f, SCMP_SYS(ppoll));   /* waiting for stdio when halted */
	rc |= allow(f, SCMP_SYS(readv));   /* job stdin into guest buffers */
	rc |= allow(f, SCMP_SYS(writev));  /* job stdout/stderr out */
	rc |= allow(f, SCMP_SYS(shutdown)); /* a guest connection to a
					       host socket ended */
	rc |= allow(f, SCMP_SYS(pread64)); /* loading the job binary (fd 4) */
	rc |= allow(f, SCMP_SYS(fallocate)); /* zeroing guest RAM by hole punch */
	rc |= allow(f, SCMP_SYS(clock_gettime)); /* when the vDSO falls back */
	/* The wall-clock limit: SIGALRM interrupts KVM_RUN, the handler
	 * returns through rt_sigreturn; teardown restores the signal state.
	 * SIGPIPE is ignored in the jailed VMM (inherited from the
	 * supervisor), so no pending one is ever swallowed. */
	rc |= allow(f, SCMP_SYS(rt_sigreturn));
	rc |= allow(f, SCMP_SYS(rt_sigaction));
	rc |= allow(f, SCMP_SYS(rt_sigprocmask));
	rc |= allow(f, SCMP_SYS(timer_delete));
	/* malloc and teardown (kvm_run and guest RAM unmapped). */
	rc |= allow(f, SCMP_SYS(brk));
	rc |= allow(f, SCMP_SYS(munmap));
	rc |= allow(f, SCMP_SYS(close));
	rc |= allow(f, SCMP_SYS(exit_group));
	return rc;
}

/* mmap and mprotect never with PROT_EXEC: no new code in the VMM. */
static int allow_noexec(scmp_filter_ctx f)
{
	int rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				  SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (SANITIZED) /* the sanitizer runtime reprotects its own pages */
		rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	return rc;
}

/* fstat of the job binary (glibc: newfstatat(fd, "", AT_EMPTY_PATH));
 * a path argument would resolve in the empty root anyway. */
static int allow_fstat(scmp_filter_ctx f)
{
	return seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
				SCMP_A3(SCMP_CMP_EQ, AT_EMPTY_PATH));
}

/* fcntl only to read and restore the O_NONBLOCK of the stdio fds, and
 * F_GETFD, libelf's check that the job's descriptor is open. */
static int allow_fcntl(scmp_filter_ctx f)
{
	return seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				SCMP_A1(SCMP_CMP_EQ, F_GETFD)) |
	       seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				SCMP_A1(SCMP_CMP_EQ, F_GETFL)) |
	       seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				SCMP_A1(SCMP_CMP_EQ, F_SETFL));
}

/* ioctl only with the requests the caller names (KVM_RUN and friends). */
static int allow_ioctls(scmp_filter_ctx f, const struct jail_seccomp *sc)
{
	int rc = 0;
	for (size_t i = 0; i < sc->nioctls; i++)
		rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_EQ, sc->ioctls[i]));
	return rc;
}

/* write(2) only on named fds: log lines on stderr, the report record. */
static int allow_writes(scmp_filter_ctx f, const struct jail_seccomp *sc)
{
	int rc = 0;
	for (size_t i = 0; i < sc->nwrite_fds; i++)
		rc |= seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
				       SCMP_A0(SCMP_CMP_EQ,
					       (scmp_datum_t)sc->write_fds[i]));
	return rc;
}

/*
 * A warm worker runs job after job on one VM. Per job it re-arms the
 * wall-clock timer (timer_settime) and reseeds the guest (getrandom); it
 * receives the job's descriptors as SCM_RIGHTS on its control socket
 * (recvmsg, on that descriptor only; the report goes back with write), and
 * moves the job's stderr onto fd 2 for the VMM's --verbose lines and back
 * (dup3: only reshuffles descriptors it already holds). The pristine
 * snapshot is taken after the first guest instruction, so its copy of RAM
 * is mapped under the filter and kept out of core dumps (madvise, only
 * MADV_DONTDUMP), and only the parts of RAM that hold data are copied
 * (lseek SEEK_DATA/SEEK_HOLE on the guest memfd; moves an offset only).
 */
static int allow_warm(scmp_filter_ctx f, const struct jail_seccomp *sc)
{
	if (!sc->warm)
		return 0;
	return allow(f, SCMP_SYS(timer_settime)) | allow(f, SCMP_SYS(getrandom)) |
	       allow(f, SCMP_SYS(dup3)) | allow(f, SCMP_SYS(lseek)) |
	       /* sanitizer builds allow every madvise (allow_sanitizer) */
	       (SANITIZED ? 0
			  : seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(madvise),
					     1, SCMP_A2(SCMP_CMP_EQ,
							MADV_DONTDUMP))) |
	       seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(recvmsg), 1,
				SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sc->ctl_fd));
}

/*
 * Sanitizer builds only (tests): ASan/UBSan's runtime frees shadow and
 * quarantine memory and, on a report, asks who it is and yields; reports
 * go to stderr (fd 2), already allowed. None of these opens anything or
 * reaches beyond the process. A release build has none of them.
 */
static int allow_sanitizer(scmp_filter_ctx f)
{
	if (!SANITIZED)
		return 0;
	return allow(f, SCMP_SYS(madvise)) | allow(f, SCMP_SYS(sigaltstack)) |
	       allow(f, SCMP_SYS(getpid)) | allow(f, SCMP_SYS(gettid)) |
	       allow(f, SCMP_SYS(sched_yield)) | allow(f, SCMP_SYS(futex));
}

static scmp_filter_ctx build(const struct jail_seccomp *sc)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!f)
		return NULL;
	/* Every thread at once; no_new_privs is already set by the jail but
	 * libseccomp sets it again, harmless and needed for tests. */
	if (seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1) != 0 ||
	    allow_fixed(f) || allow_noexec(f) || allow_fcntl(f) || allow_fstat(f) ||
	    allow_ioctls(f, sc) || allow_writes(f, sc) || allow_warm(f, sc) ||
	    allow_sanitizer(f)) {
		seccomp_release(f);
		return NULL;
	}
	return f;
}

int jail_seccomp_install(const struct jail_seccomp *sc, char *err,
			 size_t errlen)
{
	scmp_filter_ctx f = build(sc);
	if (!f)
		return jail_errf(err, errlen, "seccomp_rule_add", EINVAL,
				 "libseccomp could not build the filter");
	int rc = seccomp_load(f);
	seccomp_release(f);
	if (rc < 0)
		return jail_errf(err, errlen, "seccomp(SECCOMP_SET_MODE_FILTER)",
				 -rc, "the kernel needs CONFIG_SECCOMP_FILTER");
	return 0;
}

int jail_seccomp_export(FILE *out, const struct jail_seccomp *sc)
{
	scmp_filter_ctx f = build(sc);
	if (!f)
		return -1;
	fflush(out);
	int rc = seccomp_export_pfc(f, fileno(out));
	seccomp_release(f);
	return rc == 0 ? 0 : -1;
}

int jail_lock(const struct jail_seccomp *sc, char *err, size_t errlen)
{
	if (jail_limit_nproc(err, errlen) < 0)
		return -1;
	if (sc->fsize_zero && jail_limit_fsize(err, errlen) < 0)
		return -1;
	return jail_seccomp_install(sc, err, errlen);
}
