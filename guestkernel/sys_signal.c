/*
 * Signals. A signal the job raises itself (kill, tkill, tgkill, abort,
 * SIGPIPE) applies its disposition; a handler runs as the system call that
 * raised it (or unblocked it) returns to the job: the kernel builds Linux's
 * rt_sigframe on the job's stack (or its alternate stack) and rt_sigreturn
 * puts the interrupted state back. Nothing asynchronous happens in the VM,
 * and a fault still ends the job (no handler runs for it).
 *
 * The frame holds what a syscall may not change: RIP, RSP, RFLAGS and the
 * argument registers, and RAX, the call's result. RBX, RBP and R12-R15 read
 * as 0 in the context: the handler keeps them itself (SysV callee-saved),
 * so they survive without the kernel, and changing them in the context has
 * no effect. The FPU state is not saved either (fpstate is NULL): at a
 * system call the vector registers are the caller's to lose.
 */
#include "sys.h"

#define SIG_DFL 0
#define SIG_IGN 1
#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2
#define SS_ONSTACK 1
#define SS_DISABLE 2
#define SS_AUTODISARM (1u << 31)
#define MINSIGSTKSZ 2048
#define UNBLOCKABLE ((1ull << (GK_SIGKILL - 1)) | (1ull << (GK_SIGSTOP - 1)))
#define SA_ONSTACK 0x08000000u
#define SA_RESTORER 0x04000000u
#define SA_NODEFER 0x40000000u
#define SA_RESETHAND 0x80000000u
#define SI_USER 0
#define SI_TKILL (-6)
#define RED_ZONE 128
#define RFLAGS_TF 0x100u
#define RFLAGS_DF 0x400u

struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

static struct ksigaction actions[GK_NSIG];
static struct {
	uint64_t sp;
	uint32_t flags, pad;
	uint64_t size;
} altstack = {.flags = SS_DISABLE};
/* Pending signals sent by tkill/tgkill (si_code SI_TKILL). */
static uint64_t tkilled;

/* What entry.S left below gk_kstack_top for the job's syscall: the saved
 * argument registers, then the iretq frame back to the job. */
struct sysframe {
	uint64_t nr, r9, r8, r10, rdx, rsi, rdi;
	uint64_t rip, cs, rflags, rsp, ss;
};
_Static_assert(sizeof(struct sysframe) == GK_SYSFRAME_SIZE, "entry.S's frame");
extern struct sysframe gk_sysframe;
#define SYSFRAME (&gk_sysframe)

/* Linux's x86-64 struct sigcontext, ucontext and siginfo, and the frame a
 * handler is entered with (RSP at pretcode). */
struct sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate;
	uint64_t reserved[8];
};
struct ucontext {
	uint64_t flags, link;
	uint64_t ss_sp;
	uint32_t ss_flags, ss_pad;
	uint64_t ss_size;
	struct sigcontext mc;
	uint64_t sigmask;
};
struct siginfo {
	int32_t signo, err, code, pad;
	int32_t pid;
	uint32_t uid;
	uint8_t rest[104];
};
struct sigframe {
	uint64_t pretcode; /* sa_restorer: where the handler returns */
	struct ucontext uc;
	struct siginfo info;
};
_Static_assert(sizeof(struct sigcontext) == 256, "Linux's sigcontext");
_Static_assert(sizeof(struct ucontext) == 304, "Linux's ucontext");
_Static_assert(sizeof(struct siginfo) == 128, "Linux's siginfo");

static bool sig_valid(long sig)
{
	return sig >= 1 && sig <= GK_NSIG;
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
	uint64_t bit = 1ull << (sig - 1), h = actions[sig - 1].handler;
	/* Blocked: delivered when unblocked. Caught: the handler runs as
	 * this system call returns (signal_deliver). */
	if ((gk_proc.sigmask & bit) || (h != SIG_DFL && h != SIG_IGN)) {
		gk_proc.sigpending |= bit;
		return 0;
	}
	if (h == SIG_DFL && !default_ignores(sig))
		proc_kill(sig, 0, 0);
	return 0;
}

static long raise_tkill(int sig)
{
	long r = proc_raise(sig);
	if (r == 0 && sig_valid(sig))
		tkilled |= 1ull << (sig - 1);
	return r;
}

static bool canonical(uint64_t a)
{
	return a < (1ull << 47);
}

/* The frame's place: below the red zone, or at the top of the alternate
 * stack when the handler asks for it and the job is not on it already;
 * 16-aligned after pretcode, as after a call. */
static uint64_t frame_at(const struct ksigaction *a, uint64_t sp)
{
	bool on_alt = sp - altstack.sp < altstack.size;
	if ((a->flags & SA_ONSTACK) && altstack.flags == 0 && !on_alt)
		sp = altstack.sp + altstack.size;
	else
		sp -= RED_ZONE;
	return ((sp - sizeof(struct sigframe)) & ~15ull) - 8;
}

static void save_context(struct sigframe *fr, const struct sysframe *f,
			 long ret)
{
	struct sigcontext *mc = &fr->uc.mc;
	gk_zero(fr, sizeof(*fr));
	fr->uc.ss_sp = altstack.sp;
	fr->uc.ss_flags = altstack.flags;
	fr->uc.ss_size = altstack.size;
	mc->r8 = f->r8;
	mc->r9 = f->r9;
	mc->r10 = f->r10;
	mc->rdi = f->rdi;
	mc->rsi = f->rsi;
	mc->rdx = f->rdx;
	mc->rax = (uint64_t)ret;
	mc->rsp = f->rsp;
	mc->rip = f->rip;
	mc->eflags = f->rflags;
	mc->cs = (uint16_t)f->cs;
	mc->ss = (uint16_t)f->ss;
	mc->oldmask = gk_proc.sigmask;
	fr->uc.sigmask = gk_proc.sigmask;
}

/* One pending, unblocked signal (the lowest) as the syscall that returned
 * ret goes back to the job: its handler is entered with (sig, &info, &uc)
 * and the job's state in the frame. Returns what RAX gets. */
long signal_deliver(long ret)
{
	uint64_t ready = gk_proc.sigpending & ~gk_proc.sigmask;
	int sig = __builtin_ctzll(ready) + 1;
	uint64_t bit = 1ull << (sig - 1);
	struct ksigaction *a = &actions[sig - 1];
	struct sysframe *f = SYSFRAME;
	int32_t code = tkilled & bit ? SI_TKILL : SI_USER;
	gk_proc.sigpending &= ~bit;
	tkilled &= ~bit;
	if (a->handler == SIG_IGN ||
	    (a->handler == SIG_DFL && default_ignores(sig)))
		return ret;
	if (a->handler == SIG_DFL)
		proc_kill(sig, 0, 0);
	uint64_t sp = frame_at(a, f->rsp);
	/* As Linux: a signal that cannot be delivered is a SIGSEGV. */
	if (!(a->flags & SA_RESTORER) || !canonical(a->handler) ||
	    !user_ok(sp, sizeof(struct sigframe), true))
		proc_kill(GK_SIGSEGV, sp, f->rip);
	struct sigframe *fr = (struct sigframe *)(uintptr_t)sp;
	save_context(fr, f, ret);
	fr->pretcode = a->restorer;
	fr->info.signo = sig;
	fr->info.code = code;
	fr->info.pid = 1;
	fr->info.uid = GK_JOB_UID;
	gk_proc.sigmask |= a->mask | (a->flags & SA_NODEFER ? 0 : bit);
	gk_proc.sigmask &= ~UNBLOCKABLE;
	f->rip = a->handler;
	if (a->flags & SA_RESETHAND)
		a->handler = SIG_DFL;
	f->rsp = sp;
	f->rdi = (uint64_t)sig;
	f->rsi = (uint64_t)(uintptr_t)&fr->info;
	f->rdx = (uint64_t)(uintptr_t)&fr->uc;
	f->rflags &= ~(uint64_t)(RFLAGS_TF | RFLAGS_DF);
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

/* The handler returned through sa_restorer: its frame starts one word
 * below RSP (pretcode was popped). Everything in it is the job's to forge:
 * only a canonical RIP and RSP and the flags ring 3 may set go back. */
GK_SYSCALL(sys_rt_sigreturn)
{
	struct sysframe *f = SYSFRAME;
	uint64_t at = f->rsp - 8;
	if (!user_ok(at, sizeof(struct sigframe), false))
		proc_kill(GK_SIGSEGV, at, f->rip);
	const struct sigframe *fr = (const struct sigframe *)(uintptr_t)at;
	const struct sigcontext *mc = &fr->uc.mc;
	if (!canonical(mc->rip) || !canonical(mc->rsp))
		proc_kill(GK_SIGSEGV, mc->rip, f->rip);
	f->rip = mc->rip;
	f->rsp = mc->rsp;
	f->rflags = (mc->eflags & GK_USER_RFLAGS_MASK) | GK_USER_RFLAGS;
	f->r8 = mc->r8;
	f->r9 = mc->r9;
	f->r10 = mc->r10;
	f->rdi = mc->rdi;
	f->rsi = mc->rsi;
	f->rdx = mc->rdx;
	gk_proc.sigmask = fr->uc.sigmask & ~UNBLOCKABLE;
	return (long)mc->rax;
}

GK_SYSCALL(sys_sigaltstack)
{
	bool on_alt = SYSFRAME->rsp - altstack.sp < altstack.size;
	if (a1) {
		if (!user_ok((uint64_t)a1, sizeof(altstack), true))
			return -EFAULT;
		gk_copy((void *)(uintptr_t)a1, &altstack, sizeof(altstack));
		if (on_alt)
			((typeof(altstack) *)(uintptr_t)a1)->flags = SS_ONSTACK;
	}
	if (!a0)
		return 0;
	if (!user_ok((uint64_t)a0, sizeof(altstack), false))
		return -EFAULT;
	if (on_alt)
		return -EPERM;
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
	return a0 == 1 ? raise_tkill((int)a1) : (a0 <= 0 ? -EINVAL : -ESRCH);
}

GK_SYSCALL(sys_tgkill)
{
	if (a0 <= 0 || a1 <= 0)
		return -EINVAL;
	return a0 == 1 && a1 == 1 ? raise_tkill((int)a2) : -ESRCH;
}
