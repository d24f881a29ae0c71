/* The --result record: one JSON object a program can read after the run. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "runner/runner.h"

static const char *const signal_names[] = {
	[SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",   [SIGQUIT] = "SIGQUIT",
	[SIGILL] = "SIGILL",   [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
	[SIGBUS] = "SIGBUS",   [SIGFPE] = "SIGFPE",   [SIGKILL] = "SIGKILL",
	[SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
	[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
	[SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT", [SIGSTOP] = "SIGSTOP",
	[SIGTSTP] = "SIGTSTP", [SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU",
	[SIGURG] = "SIGURG",   [SIGXCPU] = "SIGXCPU", [SIGXFSZ] = "SIGXFSZ",
	[SIGSYS] = "SIGSYS",
};

void killed_by(int sig, char *buf, size_t len)
{
	const char *name = signal_name(sig);
	snprintf(buf, len, "killed by %s", name ? name : "signal (unnamed)");
}

const char *signal_name(int sig)
{
	if (sig <= 0 || (size_t)sig >= sizeof(signal_names) / sizeof(*signal_names))
		return NULL;
	return signal_names[sig];
}

static json_t *stream_json(const struct vmm_stream_stats *s)
{
	return json_pack("{s:I, s:b}", "bytes", (json_int_t)s->bytes,
			 "truncated", s->truncated);
}

static json_t *timings_json(const struct vmm_result *r,
			    const struct run_report *rep)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "jail",
			 (json_int_t)rep->jail_us, "create",
			 (json_int_t)r->create_us, "boot", (json_int_t)r->boot_us,
			 "job_load", (json_int_t)r->load_us, "run",
			 (json_int_t)r->run_us, "teardown",
			 (json_int_t)r->teardown_us, "total",
			 (json_int_t)rep->total_us);
}

static json_t *revert_json(const struct vmm_revert_stats *r)
{
	return json_pack("{s:I, s:b, s:I}", "pages", (json_int_t)r->pages,
			 "full", r->full, "us", (json_int_t)r->us);
}

static json_t *report_json(const struct run_report *rep)
{
	static const struct vmm_result none;
	const struct vmm_result *r = rep->vm ? rep->vm : &none;
	bool exited = rep->vm && r->outcome == VMM_EXITED;
	bool signaled = rep->vm && r->outcome == VMM_SIGNALED;
	const char *signame = signaled ? signal_name(r->value) : NULL;
	json_t *o = json_pack(
		"{s:i, s:s, s:o, s:o, s:o, s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:o}",
		"exit_status", rep->exit_status, "status", rep->status,
		"exit_code", exited ? json_integer(r->value) : json_null(),
		"signal", signaled ? json_integer(r->value) : json_null(),
		"signal_name", signame ? json_string(signame) : json_null(),
		"reason", rep->reason, "fault_addr", (json_int_t)r->fault_addr,
		"fault_rip", (json_int_t)r->fault_rip, "syscalls",
		(json_int_t)r->syscalls, "stdin", stream_json(&r->in), "stdout",
		stream_json(&r->out), "stderr", stream_json(&r->err),
		"timings_us", timings_json(r, rep));
	/* A warm VM's job also says what putting the VM back took. */
	if (o && rep->warm && rep->vm &&
	    json_object_set_new(o, "revert", revert_json(&r->revert)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int result_write(const char *path, const struct run_report *rep)
{
	json_t *obj = report_json(rep);
	if (!obj) {
		errno = ENOMEM;
		return -1;
	}
	int rc = json_dump_file(obj, path, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	json_decref(obj);
	if (rc != 0 && errno == 0)
		errno = EIO;
	return rc == 0 ? 0 : -1;
}
