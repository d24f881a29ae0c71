/*
 * vmm_run's refusals and failure paths, which must leave nothing behind:
 * no descriptor, no signal handler, no blocked signal. Runs without
 * /dev/kvm (a descriptor that is not KVM stands in for it).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "vmm/vmm_impl.h"

static const char fake_kernel[64] = "\x7f"
				    "ELF";
static char *argv[] = {"prog", NULL}, *envp[] = {NULL};

static struct vmm_config base_config(int kvm_fd)
{
	struct vmm_config c;
	memset(&c, 0, sizeof(c));
	c.kvm_fd = kvm_fd;
	c.mem_mib = 64;
	c.kernel = fake_kernel;
	c.kernel_len = sizeof(fake_kernel);
	c.job_fd = -1;
	c.job_name = "prog";
	c.argv = argv;
	c.envp = envp;
	c.stdin_fd = c.stdout_fd = c.stderr_fd = -1;
	c.timeout_ms = 5000;
	return c;
}

static int lowest_free_fd(void)
{
	int fd = dup(0);
	close(fd);
	return fd;
}

Test(vmm_run, not_kvm_fails_cleanly)
{
	struct sigaction before, after;
	sigset_t mask_before, mask_after;
	int null = open("/dev/null", O_RDWR);
	int fl = fcntl(null, F_GETFL);
	struct vmm_config c = base_config(null);
	struct vmm_result r;

	c.stdout_fd = null;
	sigaction(SIGALRM, NULL, &before);
	pthread_sigmask(SIG_SETMASK, NULL, &mask_before);
	int free_fd = lowest_free_fd();
	cr_assert_eq(vmm_run(&c, &r), 0);
	cr_assert_eq(r.outcome, VMM_ERROR);
	cr_assert(strstr(r.message, "KVM_GET_API_VERSION"), "%s", r.message);
	sigaction(SIGALRM, NULL, &after);
	pthread_sigmask(SIG_SETMASK, NULL, &mask_after);
	cr_assert_eq(after.sa_handler, before.sa_handler);
	cr_assert_eq(sigismember(&mask_after, SIGPIPE),
		     sigismember(&mask_before, SIGPIPE));
	cr_assert_eq(sigismember(&mask_after, SIGALRM),
		     sigismember(&mask_before, SIGALRM));
	cr_assert_eq(lowest_free_fd(), free_fd, "a descriptor leaked");
	cr_assert_eq(fcntl(null, F_GETFL), fl);
	close(null);
}

Test(vmm_run, argument_list_too_long_is_an_exec_failure)
{
	static char big[300000];
	char *long_argv[] = {"prog", big, NULL};
	struct vmm_config c = base_config(-1);
	struct vmm_result r;

	memset(big, 'x', sizeof(big) - 1);
	c.argv = long_argv;
	cr_assert_eq(vmm_run(&c, &r), 0);
	cr_assert_eq(r.outcome, VMM_EXEC_FAILED);
	cr_assert(strstr(r.message, "prog: argument list too long"), "%s",
		  r.message);
}

Test(vmm_run, bad_configs_are_errors)
{
	struct vmm_config c = base_config(-1);
	struct vmm_result r;

	c.mem_mib = 8;
	cr_assert_eq(vmm_run(&c, &r), 0);
	cr_assert_eq(r.outcome, VMM_ERROR);
	cr_assert(strstr(r.message, "MiB"), "%s", r.message);
	c = base_config(-1);
	c.kernel = NULL;
	cr_assert_eq(vmm_run(&c, &r), 0);
	cr_assert_eq(r.outcome, VMM_ERROR);
	c = base_config(-1);
	c.timeout_ms = 0;
	cr_assert_eq(vmm_run(&c, &r), 0);
	cr_assert_eq(r.outcome, VMM_ERROR);
	c = base_config(-1);
	c.stack_bytes = 1ull << 40;
	cr_assert_eq(vmm_run(&c, &r), 0);
	cr_assert_eq(r.outcome, VMM_ERROR);
	c = base_config(-1);
	cr_assert_eq(vmm_run(&c, &r), 0);
	cr_assert_eq(r.outcome, VMM_ERROR);
	cr_assert(strstr(r.message, "KVM"), "%s", r.message);
}
