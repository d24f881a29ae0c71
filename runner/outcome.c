/*
 * What a job came to, as `run`, `submit`, `serve` and the library report it:
 * the exit status and reason from a VMM result, and the same record in the
 * fixed layout of the library and the wire (struct airlock_result).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/runner.h"

void report_set(struct run_report *rep, int status, const char *what,
		const char *fmt, ...)
{
	rep->exit_status = status;
	rep->status = what;
	if (!fmt)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rep->reason, sizeof(rep->reason), fmt, ap);
	va_end(ap);
}

bool list_push(char ***list, size_t *n, char *item)
{
	char **l = realloc(*list, (*n + 2) * sizeof(*l));
	if (!l)
		return false;
	l[(*n)++] = item;
	l[*n] = NULL;
	*list = l;
	return true;
}

int job_open(const char *prog, struct run_report *rep)
{
	int fd = open(prog, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			return fd;
		close(fd);
		errno = S_ISDIR(st.st_mode) ? EISDIR : EACCES;
	}
	if (errno == ENOENT || errno == ENOTDIR)
		report_set(rep, EXIT_NOT_FOUND, "not_found", "%s: not found", prog);
	else
		report_set(rep, EXIT_CANNOT_EXECUTE, "cannot_execute",
		       "%s: cannot execute: %s", prog, strerror(errno));
	return -1;
}

void report_vm(struct run_report *rep, const struct vmm_result *r,
		      const char *prog)
{
	rep->vm = r;
	switch (r->outcome) {
	case VMM_EXITED:
		report_set(rep, r->value & 0xff, "exited", NULL);
		break;
	case VMM_SIGNALED: {
		char how[64];
		killed_by(r->value, how, sizeof(how));
		report_set(rep, 128 + r->value, "signaled", "%s: %s", prog, how);
		if (r->fault_rip)
			snprintf(rep->reason + strlen(rep->reason),
				 sizeof(rep->reason) - strlen(rep->reason),
				 " at address 0x%llx (rip 0x%llx)",
				 (unsigned long long)r->fault_addr,
				 (unsigned long long)r->fault_rip);
		break;
	}
	case VMM_TIMED_OUT:
		report_set(rep, EXIT_TIMEOUT, "timeout", "%s: %s", prog,
		       r->message[0] ? r->message : "wall-clock limit reached");
		break;
	case VMM_EXEC_FAILED: /* the VMM's message names the program */
		report_set(rep, EXIT_CANNOT_EXECUTE, "cannot_execute", "%s",
			   r->message);
		break;
	default:
		report_set(rep, EXIT_AIRLOCK_ERROR, "error", "%s", r->message);
		break;
	}
}

int job_check(int fd, const char *prog, uint64_t mem_bytes,
	      struct run_report *rep)
{
	struct vmm_job_image img;
	char why[512];
	enum vmm_job_check chk =
	    vmm_check_job(fd, prog, mem_bytes, &img, why, sizeof(why));
	if (chk == VMM_JOB_NOT_EXECUTABLE)
		report_set(rep, EXIT_CANNOT_EXECUTE, "cannot_execute", "%s", why);
	else if (chk != VMM_JOB_OK)
		report_set(rep, EXIT_AIRLOCK_ERROR, "error", "%s", why);
	return chk == VMM_JOB_OK ? 0 : -1;
}

static void stream_to(struct airlock_stream *d, const struct vmm_stream_stats *s)
{
	*d = (struct airlock_stream){.bytes = s->bytes, .truncated = s->truncated};
}

static void stream_from(struct vmm_stream_stats *d, const struct airlock_stream *s)
{
	*d = (struct vmm_stream_stats){.bytes = s->bytes,
				       .truncated = s->truncated != 0};
}

void result_from_report(const struct run_report *rep, struct airlock_result *a)
{
	static const struct vmm_result none;
	const struct vmm_result *r = rep->vm ? rep->vm : &none;
	memset(a, 0, sizeof(*a));
	a->exit_status = rep->exit_status;
	a->outcome = rep->vm ? (uint32_t)r->outcome : AIRLOCK_NO_JOB;
	a->value = r->value;
	snprintf(a->status, sizeof(a->status), "%s", rep->status);
	snprintf(a->reason, sizeof(a->reason), "%s", rep->reason);
	a->fault_addr = r->fault_addr;
	a->fault_rip = r->fault_rip;
	a->syscalls = r->syscalls;
	stream_to(&a->in, &r->in);
	stream_to(&a->out, &r->out);
	stream_to(&a->err, &r->err);
	a->jail_us = rep->jail_us;
	a->create_us = r->create_us;
	a->boot_us = r->boot_us;
	a->load_us = r->load_us;
	a->run_us = r->run_us;
	a->teardown_us = r->teardown_us;
	a->total_us = rep->total_us;
	a->revert_pages = r->revert.pages;
	a->revert_us = r->revert.us;
	a->revert_full = r->revert.full;
}

/* Strings from a peer: terminated, and printable for the terminal. */
static void printable(char *s, size_t n)
{
	s[n - 1] = '\0';
	for (size_t i = 0; s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			s[i] = '?';
}

void report_from_result(struct airlock_result *a, struct run_report *rep,
			struct vmm_result *r)
{
	printable(a->status, sizeof(a->status));
	printable(a->reason, sizeof(a->reason));
	memset(r, 0, sizeof(*r));
	r->outcome = (enum vmm_outcome)a->outcome;
	r->value = a->value;
	r->fault_addr = a->fault_addr;
	r->fault_rip = a->fault_rip;
	r->syscalls = a->syscalls;
	stream_from(&r->in, &a->in);
	stream_from(&r->out, &a->out);
	stream_from(&r->err, &a->err);
	r->create_us = a->create_us;
	r->boot_us = a->boot_us;
	r->load_us = a->load_us;
	r->run_us = a->run_us;
	r->teardown_us = a->teardown_us;
	r->revert = (struct vmm_revert_stats){
	    .pages = a->revert_pages, .full = a->revert_full != 0,
	    .us = a->revert_us};
	rep->exit_status = a->exit_status;
	rep->status = a->status;
	snprintf(rep->reason, sizeof(rep->reason), "%s", a->reason);
	rep->vm = a->outcome == AIRLOCK_NO_JOB ? NULL : r;
	rep->jail_us = a->jail_us;
	rep->total_us = a->total_us;
	rep->warm = true;
}

void result_of_vm(const struct vmm_result *res, const char *prog,
		  uint64_t jail_us, struct airlock_result *a)
{
	struct run_report rep = {.exit_status = EXIT_AIRLOCK_ERROR,
				 .status = "error",
				 .jail_us = jail_us,
				 .warm = true};
	report_vm(&rep, res, prog);
	result_from_report(&rep, a);
}

int report_finish(struct run_report *rep, const char *result_path)
{
	if (rep->reason[0] && rep->exit_status != 0 &&
	    strcmp(rep->status, "exited") != 0)
		fprintf(stderr, "airlock: %s\n", rep->reason);
	if (result_path && result_write(result_path, rep) != 0) {
		fprintf(stderr, "airlock: --result %s: %s\n", result_path,
			strerror(errno));
		if (rep->exit_status == 0)
			rep->exit_status = EXIT_AIRLOCK_ERROR;
	}
	return rep->exit_status;
}
