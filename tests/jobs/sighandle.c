/*
 * Signal handlers for signals the job sends itself: prints a transcript
 * that must be the same natively and in airlock, then dies of SIGTERM on
 * its second delivery (SA_RESETHAND). Covers siginfo, the mask while a
 * handler runs, delivery on unblock, nesting, the alternate stack,
 * SIGPIPE, siglongjmp out of abort(), and registers kept across a handler.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char altstack[65536];
static sigjmp_buf escape;

static void say(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (write(1, buf, (size_t)n) != n)
		_exit(3);
}

static int blocked(int sig)
{
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	return sigismember(&now, sig);
}

static void on_info(int sig, siginfo_t *si, void *uc)
{
	say("handler %d: signo %d code %s from us %d, %s blocked, uc %s\n",
	    sig, si->si_signo,
	    si->si_code == SI_TKILL  ? "tkill"
	    : si->si_code == SI_USER ? "user"
				     : "other",
	    si->si_pid == getpid() && si->si_uid == getuid(),
	    blocked(sig) ? "itself" : "not",
	    uc ? "given" : "missing");
}

static void on_usr1_nest(int sig)
{
	say("outer %d begins\n", sig);
	raise(SIGUSR2);
	say("outer %d ends\n", sig);
}

static void on_alt(int sig)
{
	char here;
	stack_t now;
	sigaltstack(NULL, &now);
	say("alt %d: on the alternate stack %d, SS_ONSTACK %d\n", sig,
	    &here >= altstack && &here < altstack + sizeof(altstack),
	    (now.ss_flags & SS_ONSTACK) != 0);
}

static void on_plain(int sig)
{
	say("plain handler %d\n", sig);
}

static void on_abort(int sig)
{
	say("abort handler %d\n", sig);
	siglongjmp(escape, 1);
}

static void catch(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigaction(sig, &sa, NULL);
}

static void catch_info(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_info;
	sa.sa_flags = SA_SIGINFO;
	sigaction(sig, &sa, NULL);
}

/* Values live in callee-saved registers across raise(): they survive the
 * handler. */
static void registers_survive(void)
{
	volatile long sum = 0;
	long a = 11, b = 22, c = 33, d = 44, e = 55, f = 66;
	for (int i = 0; i < 3; i++) {
		raise(SIGUSR1);
		sum += a * 1 + b * 2 + c * 3 + d * 4 + e * 5 + f * 6 + i;
		a++, b++, c++, d++, e++, f++;
	}
	say("registers survive: %ld\n", (long)sum);
}

int main(void)
{
	catch_info(SIGUSR1);
	catch_info(SIGUSR2);
	raise(SIGUSR1);
	kill(getpid(), SIGUSR2);
	say("after handlers, SIGUSR1 %s blocked\n",
	    blocked(SIGUSR1) ? "still" : "not");

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR1);
	say("raised while blocked\n");
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	say("unblocked\n");

	catch(SIGUSR1, on_usr1_nest, 0);
	raise(SIGUSR1);

	catch(SIGUSR1, on_plain, 0);
	registers_survive();

	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	sigaltstack(&ss, NULL);
	catch(SIGWINCH, on_alt, SA_ONSTACK);
	raise(SIGWINCH);

	catch(SIGPIPE, on_plain, 0);
	int p[2];
	if (pipe(p) == 0) {
		close(p[0]);
		errno = 0;
		long r = write(p[1], "x", 1);
		say("write to a closed pipe: %ld, EPIPE %d\n", r,
		    errno == EPIPE);
	}

	catch(SIGABRT, on_abort, 0);
	if (sigsetjmp(escape, 1) == 0)
		abort();
	say("escaped abort, SIGABRT %s blocked\n",
	    blocked(SIGABRT) ? "still" : "not");

	catch(SIGTERM, on_plain, SA_RESETHAND);
	raise(SIGTERM);
	say("once more\n");
	raise(SIGTERM);
	say("not reached\n");
	return 0;
}
