/*
 * Signal dispositions. Handlers are recorded and reported back, never run:
 * nothing asynchronous happens in the VM, faults are fatal, and a signal the
 * job raises itself (abort, raise, SIGPIPE) applies its disposition as if a
 * handler had run and returned.
 */
#include "sys.h"

#define SIG_DFL 0
#define SIG_IGN 1
#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2
#define SS_DISABLE 2
#define SS_AUTODISARM (1u << 31)
#define MINSIGSTKSZ 2048
#define UNBLOCKABLE ((1ull << (GK_SIGKILL - 1)) | (1ull << (GK_SIGSTOP - 1)))

struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

static struct ksigaction actions[GK_NSIG];
static struct {
	uint64_t sp;
	uint32_t flags, pad;
	uint64_t size;
} altstack = {.flags = SS_DISABLE};

static bool sig_valid(long sig)
{
	return sig >= 1 && sig <= GK_NSIG;
}

uint64_t proc_handler(int sig)
{
	return sig_valid(sig) ? actions[sig - 1].handler : SIG_DFL;
}

/* Signals whose default action is to do nothing (or to stop/continue,
 * which means nothing for a job nobody controls). */
static bool default_ignores(int sig)
{
	switch (sig) {
	case 17: /* SIGCHLD */
	case 18: /* SIGCONT */
	case 19: /* SIGSTOP */
	case 20: /* SIGTSTP */
	case 21: /* SIGTTIN */
	case 22: /* SIGTTOU */
	case 23: /* SIGURG */
	case 28: /* SIGWINCH */
		return true;
	default:
		return false;
	}
}

long proc_raise(int sig)
{
	if (sig == 0)
		return 0;
	if (!sig_valid(sig))
		return -EINVAL;
	if (sig == GK_SIGKILL)
		proc_kill(sig, 0, 0);
	if (gk_proc.sigmask & (1ull << (sig - 1))) {
		gk_proc.sigpending |= 1ull << (sig - 1);
		return 0; /* delivered when unblocked */
	}
	uint64_t h = actions[sig - 1].handler;
	if (h == SIG_DFL && !default_ignores(sig))
		proc_kill(sig, 0, 0);
	return 0;
}

GK_SYSCALL(sys_rt_sigaction)
{
	long sig = a0;
	if (a3 != 8 || !sig_valid(sig))
		return -EINVAL;
	if (a1 && (sig == GK_SIGKILL || sig == GK_SIGSTOP))
		return -EINVAL;
	struct ksigaction *act = &actions[sig - 1];
	if (a1 && !user_ok((uint64_t)a1, sizeof(*act), false))
		return -EFAULT;
	if (a2) {
		if (!user_ok((uint64_t)a2, sizeof(*act), true))
			return -EFAULT;
		*(struct ksigaction *)(uintptr_t)a2 = *act;
	}
	if (a1)
		*act = *(const struct ksigaction *)(uintptr_t)a1;
	return 0;
}

GK_SYSCALL(sys_rt_sigprocmask)
{
	if (a3 != 8)
		return -EINVAL;
	if (a2) {
		if (!user_ok((uint64_t)a2, 8, true))
			return -EFAULT;
		*(uint64_t *)(uintptr_t)a2 = gk_proc.sigmask;
	}
	if (!a1)
		return 0;
	if (!user_ok((uint64_t)a1, 8, false))
		return -EFAULT;
	uint64_t set = *(const uint64_t *)(uintptr_t)a1;
	switch (a0) {
	case SIG_BLOCK:
		gk_proc.sigmask |= set;
		break;
	case SIG_UNBLOCK:
		gk_proc.sigmask &= ~set;
		break;
	case SIG_SETMASK:
		gk_proc.sigmask = set;
		break;
	default:
		return -EINVAL;
	}
	gk_proc.sigmask &= ~UNBLOCKABLE;
	/* musl's raise() blocks every signal around its tkill: an abort()
	 * lands here, as Linux would deliver it on the way out. */
	uint64_t now = gk_proc.sigpending & ~gk_proc.sigmask;
	gk_proc.sigpending &= ~now;
	for (int sig = 1; now; sig++, now >>= 1)
		if (now & 1)
			proc_raise(sig);
	return 0;
}

/* No handler ever ran, so there is no frame to return through. */
GK_SYSCALL(sys_rt_sigreturn)
{
	proc_kill(GK_SIGSEGV, 0, 0);
}

GK_SYSCALL(sys_sigaltstack)
{
	if (a1) {
		if (!user_ok((uint64_t)a1, sizeof(altstack), true))
			return -EFAULT;
		gk_copy((void *)(uintptr_t)a1, &altstack, sizeof(altstack));
	}
	if (!a0)
		return 0;
	if (!user_ok((uint64_t)a0, sizeof(altstack), false))
		return -EFAULT;
	const typeof(altstack) *ss = (const void *)(uintptr_t)a0;
	uint32_t flags = ss->flags & ~SS_AUTODISARM;
	if (flags != 0 && flags != SS_DISABLE)
		return -EINVAL;
	if (flags == 0 && ss->size < MINSIGSTKSZ)
		return -ENOMEM;
	gk_copy(&altstack, ss, sizeof(altstack));
	return 0;
}

/* kill(pid, sig): only ourselves (or "everyone", which is us). */
GK_SYSCALL(sys_kill)
{
	if (a0 != 1 && a0 != 0 && a0 != -1)
		return -ESRCH;
	return proc_raise((int)a1);
}

GK_SYSCALL(sys_tkill)
{
	return a0 == 1 ? proc_raise((int)a1) : (a0 <= 0 ? -EINVAL : -ESRCH);
}

GK_SYSCALL(sys_tgkill)
{
	if (a0 <= 0 || a1 <= 0)
		return -EINVAL;
	return a0 == 1 && a1 == 1 ? proc_raise((int)a2) : -ESRCH;
}
