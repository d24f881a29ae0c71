/*
 * vmm_run: one job in one fresh micro-VM. Create the VM, prepare the boot
 * state, run the vCPU until the guest kernel reports READY, load the job
 * and send it, run until RESULT, flush the output, tear down.
 *
 * The wall-clock limit is a per-thread POSIX timer raising SIGALRM, whose
 * handler (installed without SA_RESTART) sets kvm_run->immediate_exit: a
 * signal that lands between two KVM_RUN calls still makes the next one
 * return at once, so there is no window in which the limit is missed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "vmm/run.h"

#define NSEC 1000000000ull
/* The MMIO slot of drive i: vsock has slot 0. */
#define DRIVE_SLOT(i) (1 + (i))

static __thread struct kvm_run *volatile alarm_run;
static __thread volatile sig_atomic_t alarm_fired;

static void on_alarm(int sig)
{
	struct kvm_run *r = alarm_run;

	(void)sig;
	alarm_fired = 1;
	if (r)
		r->immediate_exit = 1;
}


void run_finish(struct run *r, enum vmm_outcome o, const char *fmt, ...)
{
	va_list ap;

	if (r->done)
		return;
	r->done = true;
	r->res->outcome = o;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(r->res->message, sizeof(r->res->message), fmt, ap);
		va_end(ap);
	}
}

static void timed_out(struct run *r)
{
	run_finish(r, VMM_TIMED_OUT, NULL);
}

static bool past_deadline(const struct run *r)
{
	return alarm_fired || vmm_now_ns() >= r->deadline;
}

/* ---- signals, timer, descriptors ---- */

static int signals_arm(struct run *r, char *err)
{
	struct run_signals *s = &r->sig;
	struct sigaction sa;
	sigset_t set, pending;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: KVM_RUN and ppoll must see EINTR */
	if (sigaction(SIGALRM, &sa, &s->old_alrm) < 0) {
		vmm_errf(err, VMM_ERR_MAX, "sigaction(SIGALRM): %s",
			 strerror(errno));
		return -1;
	}
	s->have_action = true;

	/* SIGALRM must reach us; SIGPIPE must not kill us when the reader of
	 * the job's output goes away (we see EPIPE instead). Where it is
	 * ignored already (the jailed VMM) there is nothing to do, and
	 * nothing to swallow afterwards. */
	struct sigaction pipe_sa;
	sigaction(SIGPIPE, NULL, &pipe_sa);
	s->pipe_blocked = pipe_sa.sa_handler != SIG_IGN;
	sigemptyset(&set);
	if (s->pipe_blocked) {
		sigaddset(&set, SIGPIPE);
		sigpending(&pending);
		s->pipe_pending_before = sigismember(&pending, SIGPIPE);
	}
	pthread_sigmask(SIG_BLOCK, &set, &s->old_mask);
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	s->have_mask = true;

	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGALRM;
#ifdef sigev_notify_thread_id
	sev.sigev_notify_thread_id = gettid();
#else
	sev._sigev_un._tid = gettid();
#endif
	if (timer_create(CLOCK_MONOTONIC, &sev, &s->timer) < 0) {
		vmm_errf(err, VMM_ERR_MAX, "timer_create: %s", strerror(errno));
		return -1;
	}
	s->have_timer = true;
	return 0;
}

/* SIGALRM at r->deadline (0: never). */
static int timer_set(struct run *r, uint64_t deadline, char *err)
{
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(deadline / NSEC);
	its.it_value.tv_nsec = (long)(deadline % NSEC);
	if (timer_settime(r->sig.timer, TIMER_ABSTIME, &its, NULL) < 0) {
		vmm_errf(err, VMM_ERR_MAX, "timer_settime: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

static int run_timer_arm(struct run *r, char *err)
{
	return timer_set(r, r->deadline, err);
}

/* A warm VM between jobs has no deadline. */
int run_rearm(struct run *r, char *err)
{
	alarm_fired = 0;
	r->vm.run->immediate_exit = 0;
	return run_timer_arm(r, err);
}

void run_timer_disarm(struct run *r)
{
	char err[VMM_ERR_MAX];
	timer_set(r, 0, err);
	alarm_fired = 0;
}

static void signals_restore(struct run *r)
{
	struct run_signals *s = &r->sig;

	if (s->have_timer)
		timer_delete(s->timer);
	alarm_run = NULL;
	if (s->have_mask) {
		sigset_t pending, pipe;
		/* Swallow the SIGPIPE our own writes raised, if any. */
		if (s->pipe_blocked && !sigpending(&pending) &&
		    sigismember(&pending, SIGPIPE) && !s->pipe_pending_before) {
			struct timespec zero = {0, 0};
			sigemptyset(&pipe);
			sigaddset(&pipe, SIGPIPE);
			sigtimedwait(&pipe, NULL, &zero);
		}
		pthread_sigmask(SIG_SETMASK, &s->old_mask, NULL);
	}
	if (s->have_action)
		sigaction(SIGALRM, &s->old_alrm, NULL);
	s->have_timer = s->have_mask = s->have_action = false;
	alarm_fired = 0;
}

/* The host fds become nonblocking for the run: the run loop never blocks
 * anywhere but in ppoll and KVM_RUN. Flags are restored in reverse order,
 * so descriptors sharing one open file end as they started. */
static void fd_nonblock(struct run *r, int fd)
{
	int fl = fd < 0 ? -1 : fcntl(fd, F_GETFL);

	if (fl < 0)
		return;
	r->fds[r->nfds].fd = fd;
	r->fds[r->nfds].old_flags = fl;
	r->nfds++;
	if (!(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

void run_fds_nonblock(struct run *r)
{
	const struct vmm_config *cfg = r->cfg;

	fd_nonblock(r, cfg->stdin_fd);
	fd_nonblock(r, cfg->stdout_fd);
	fd_nonblock(r, cfg->stderr_fd);
	for (unsigned i = 0; i < cfg->nvsock_ports; i++)
		fd_nonblock(r, cfg->vsock_ports[i].fd);
}

void run_fds_restore(struct run *r)
{
	while (r->nfds > 0) {
		r->nfds--;
		fcntl(r->fds[r->nfds].fd, F_SETFL, r->fds[r->nfds].old_flags);
	}
}

/* ---- the job ---- */

/* Where the guest finds each drive and where it mounts it. */
static void drive_table(const struct run *r, struct al_job_drive *t)
{
	for (unsigned i = 0; i < r->nblk; i++) {
		const struct vmm_drive *d = &r->vm_cfg->drives[i];
		memset(&t[i], 0, sizeof(t[i]));
		t[i].mmio_index = DRIVE_SLOT(i);
		t[i].flags = d->writable ? AL_DRIVE_F_WRITABLE : 0;
		/* check_config bounded the length. */
		memcpy(t[i].mount, d->mount, strlen(d->mount) + 1);
	}
}

static uint32_t job_flags(const struct run *r)
{
	if (!r->fuzz)
		return 0;
	if (r->point_only)
		return AL_JOB_F_POINT;
	return AL_JOB_F_FUZZ | (r->cfg->fuzz_output ? AL_JOB_F_OUTPUT : 0);
}

static void send_job(struct run *r)
{
	const struct vmm_config *cfg = r->cfg;
	char err[VMM_ERR_MAX];
	struct vmm_job_image img;
	struct al_job_drive drives[AL_DRIVES_MAX];
	uint32_t hdr_len;
	uint8_t *msg;
	size_t len;

	r->t_ready = vmm_now_ns();
	r->res->boot_us = (r->t_ready - r->t_boot) / 1000;
	enum vmm_job_check c =
	    job_load(&r->gm, cfg->job_fd, cfg->job_name, r->stack_bytes, &img,
		     &hdr_len, r->res->message, sizeof(r->res->message));
	if (c != VMM_JOB_OK) {
		char why[sizeof(r->res->message)];
		memcpy(why, r->res->message, sizeof(why));
		run_finish(r, c == VMM_JOB_IO_ERROR ? VMM_ERROR : VMM_EXEC_FAILED,
		       "%s", why);
		return;
	}
	drive_table(r, drives);
	if (control_build_job(cfg->argv, cfg->envp, &img, hdr_len,
			      r->stack_bytes, drives, r->nblk, &msg, &len,
			      err) < 0) {
		run_finish(r, VMM_ERROR, "%s", err);
		return;
	}
	control_job_policy(msg, cfg, job_flags(r));
	vsock_send_control(&r->vs, msg, len);
	r->ctl.state = CTL_RUNNING;
	r->t_job = vmm_now_ns();
	r->res->load_us = (r->t_job - r->t_ready) / 1000;
}

/* A drive the guest could not mount is the caller's error (its image),
 * not the program's. */
static void take_drive_error(struct run *r, unsigned i)
{
	if (i >= r->cfg->ndrives)
		run_finish(r, VMM_ERROR, "the guest reported a mount error for "
					 "drive %u of %u",
			   i, r->cfg->ndrives);
	else
		run_finish(r, VMM_ERROR, "drives[%u], mounted at %s: %s", i,
			   r->cfg->drives[i].mount, r->ctl.exec_msg);
}

static void take_result(struct run *r)
{
	struct vmm_result *res = r->res;

	if (r->ctl.drive_error) {
		take_drive_error(r, r->ctl.drive_error - 1);
		return;
	}
	if (r->ctl.exec_error) {
		run_finish(r, VMM_EXEC_FAILED, "%s: %s",
		       r->cfg->job_name ? r->cfg->job_name : "job",
		       r->ctl.exec_msg);
		return;
	}
	const struct al_result_msg *m = &r->ctl.result;
	res->fault_addr = m->fault_addr;
	res->fault_rip = m->fault_rip;
	res->syscalls = m->syscalls;
	res->value = (int)m->value;
	run_finish(r, m->kind == AL_EXIT_SIGNAL ? VMM_SIGNALED : VMM_EXITED, NULL);
}

/* After any device activity: the guest may have become ready or done. */
static void run_advance(struct run *r)
{
	if (r->done)
		return;
	if (r->ctl.state == CTL_READY) {
		if (r->warm && !r->t_ready)
			return; /* the job comes later, from the snapshot */
		send_job(r);
		if (!r->done && vsock_process(&r->vs) < 0)
			run_finish(r, VMM_ERROR, "%s", r->vs.vdev.err);
	}
	if (!r->done && r->ctl.state == CTL_DONE)
		take_result(r);
}

static int device_call(struct run *r, int rc, struct virtio_dev *d)
{
	if (rc < 0) {
		run_finish(r, VMM_ERROR, "%s", d->err);
		return -1;
	}
	run_advance(r);
	return 0;
}

/* ---- exits ---- */

static void on_mmio(struct run *r)
{
	struct kvm_run *run = r->vm.run;
	uint64_t a = run->mmio.phys_addr;

	for (unsigned i = 0; i < r->ndevs; i++) {
		struct virtio_dev *d = r->devs[i];
		if (a >= d->gpa && a - d->gpa < AL_MMIO_SLOT_SIZE) {
			int rc = mmio_access(d, a - d->gpa, run->mmio.data,
					     run->mmio.len, run->mmio.is_write);
			device_call(r, rc, d);
			return;
		}
	}
	run_finish(r, VMM_ERROR, "unexpected MMIO %s at 0x%llx (rip 0x%llx)",
	       run->mmio.is_write ? "write" : "read", (unsigned long long)a,
	       (unsigned long long)kvm_vm_rip(&r->vm));
}

static bool check_panic(struct run *r)
{
	const uint64_t bi = AL_BOOTINFO_GPA;
	uint32_t flag = 0, len = 0;
	char raw[AL_PANIC_MSG_MAX], msg[AL_PANIC_MSG_MAX + 1];

	gm_read(&r->gm, bi + offsetof(struct al_bootinfo, panic_flag), &flag,
		sizeof(flag));
	if (flag != AL_PANIC_MAGIC)
		return false;
	gm_read(&r->gm, bi + offsetof(struct al_bootinfo, panic_len), &len,
		sizeof(len));
	if (len > AL_PANIC_MSG_MAX)
		len = AL_PANIC_MSG_MAX;
	memset(raw, 0, sizeof(raw));
	gm_read(&r->gm, bi + offsetof(struct al_bootinfo, panic_msg), raw, len);
	vmm_sanitize(msg, sizeof(msg), raw, len);
	run_finish(r, VMM_ERROR, "guest kernel panic: %s", msg);
	return true;
}

static void wait_host(struct run *r)
{
	struct pollfd fds[VSOCK_POLL_MAX];
	uint64_t wake = 0;

	unsigned n = vsock_poll_fds(&r->vs, fds);
	gm_read(&r->gm,
		AL_BOOTINFO_GPA + offsetof(struct al_bootinfo, wake_after_ns),
		&wake, sizeof(wake));
	if (n == 0 && wake == 0) {
		/* Nothing on our side can ever wake it: a guest bug. */
		char why[160];
		vsock_describe_wait(&r->vs, why, sizeof(why));
		run_finish(r, VMM_ERROR,
		       "guest halted with nothing to wait for (rip 0x%llx; "
		       "%s)",
		       (unsigned long long)kvm_vm_rip(&r->vm), why);
		return;
	}
	uint64_t now = vmm_now_ns();
	if (now >= r->deadline) {
		timed_out(r);
		return;
	}
	uint64_t t = r->deadline - now;
	if (wake && wake < t)
		t = wake;
	struct timespec ts = {.tv_sec = (time_t)(t / NSEC),
			      .tv_nsec = (long)(t % NSEC)};
	if (ppoll(fds, n, &ts, NULL) < 0 && errno != EINTR) {
		run_finish(r, VMM_ERROR, "ppoll: %s", strerror(errno));
		return;
	}
	vsock_flush(&r->vs);
	device_call(r, vsock_process(&r->vs), &r->vs.vdev);
}

static void on_hlt(struct run *r)
{
	if (check_panic(r))
		return;
	if (r->fuzz && fuzz_on_halt(r))
		return;
	/* Ready and now waiting for its job: the pristine point. */
	if (r->warm && !r->t_ready && r->ctl.state == CTL_READY) {
		r->pristine = true;
		return;
	}
	vsock_flush(&r->vs);
	vsock_on_halt(&r->vs);
	r->vs.rx_pushed = 0;
	if (device_call(r, vsock_process(&r->vs), &r->vs.vdev) < 0 || r->done)
		return;
	if (r->vs.rx_pushed)
		return; /* something new for the guest already */
	wait_host(r);
}

static void on_internal_error(struct run *r)
{
	struct kvm_run *run = r->vm.run;
	uint64_t rip = kvm_vm_rip(&r->vm);
	char bytes[15 * 3 + 1] = "";
	unsigned k = 15;

	/* RAM is identity-mapped, so the RIP is the guest-physical address
	 * of the instruction. */
	while (k > 0 && !gm_ptr(&r->gm, rip, k))
		k--;
	const uint8_t *p = gm_ptr(&r->gm, rip, k);
	for (unsigned i = 0; p && i < k; i++)
		snprintf(bytes + 3 * i, sizeof(bytes) - 3 * i, "%02x ", p[i]);
	if (k)
		bytes[3 * k - 1] = '\0';
	run_finish(r, VMM_ERROR,
	       "KVM internal error %s(suberror %u) at rip 0x%llx, "
	       "instruction bytes: %s",
	       run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
		   ? "emulating a guest instruction "
		   : "",
	       run->internal.suberror, (unsigned long long)rip,
	       k ? bytes : "(not in RAM)");
}

static void handle_exit(struct run *r)
{
	struct kvm_run *run = r->vm.run;

	switch (run->exit_reason) {
	case KVM_EXIT_MMIO:
		on_mmio(r);
		break;
	case KVM_EXIT_HLT:
		on_hlt(r);
		break;
	case KVM_EXIT_IO:
		run_finish(r, VMM_ERROR,
		       "unexpected port I/O %s at port 0x%x (rip 0x%llx)",
		       run->io.direction == KVM_EXIT_IO_OUT ? "write" : "read",
		       run->io.port, (unsigned long long)kvm_vm_rip(&r->vm));
		break;
	case KVM_EXIT_SHUTDOWN:
		run_finish(r, VMM_ERROR, "guest triple fault (rip 0x%llx)",
		       (unsigned long long)kvm_vm_rip(&r->vm));
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		on_internal_error(r);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		run_finish(r, VMM_ERROR,
		       "KVM could not enter the guest (hardware reason 0x%llx)",
		       (unsigned long long)
			   run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTR:
		break;
	default:
		run_finish(r, VMM_ERROR, "unexpected KVM exit %u (rip 0x%llx)",
		       run->exit_reason,
		       (unsigned long long)kvm_vm_rip(&r->vm));
		break;
	}
}

static void start_clock(struct run *r)
{
	char err[VMM_ERR_MAX];
	uint64_t tsc;

	/* Real time taken on both sides of the TSC read; the midpoint is
	 * the best estimate of when the TSC had that value. */
	uint64_t t0 = vmm_realtime_ns();
	if (kvm_vm_read_tsc(&r->vm, &tsc, err) < 0) {
		run_finish(r, VMM_ERROR, "%s", err);
		return;
	}
	uint64_t t1 = vmm_realtime_ns();
	boot_set_clock(&r->gm, tsc, t0 + (t1 - t0) / 2);
}

/* Everything the loop below, exit handlers and teardown pass to ioctl. */
const unsigned long vmm_run_ioctls[] = {KVM_RUN, KVM_GET_REGS};
const size_t vmm_run_ioctls_n =
    sizeof(vmm_run_ioctls) / sizeof(vmm_run_ioctls[0]);

/* A warm VM snapshots at the pristine point, after the first guest
 * instruction (the vCPU read, cpustate.c), and vmm_job reverts: the dirty
 * log, then the vCPU put back. */
const unsigned long vmm_warm_ioctls[] = {
    KVM_GET_DIRTY_LOG, KVM_CLEAR_DIRTY_LOG, KVM_GET_SREGS, KVM_GET_DEBUGREGS, KVM_GET_XSAVE,
    KVM_GET_FPU,       KVM_GET_MSRS,  KVM_SET_REGS,      KVM_SET_SREGS,
    KVM_SET_DEBUGREGS, KVM_SET_MSRS,  KVM_SET_XSAVE,     KVM_SET_FPU};
const size_t vmm_warm_ioctls_n =
    sizeof(vmm_warm_ioctls) / sizeof(vmm_warm_ioctls[0]);

void run_vcpu(struct run *r)
{
	start_clock(r);
	run_resume(r);
}

void run_resume(struct run *r)
{
	struct kvm_run *run = r->vm.run;
	char err[VMM_HOOK_ERR_MAX];

	if (!r->done && !r->hooked && r->vm_cfg->before_first_run) {
		err[0] = '\0';
		r->hooked = true;
		if (r->vm_cfg->before_first_run(r->vm_cfg->hook_arg, err) != 0)
			run_finish(r, VMM_ERROR, "%s", err[0] ? err : "hook failed");
	}
	while (!r->done && !r->pristine) {
		if (past_deadline(r)) {
			timed_out(r);
			break;
		}
		if (ioctl(r->vm.vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/* Only the alarm sets immediate_exit, and
				 * then we stop; any other signal resumes. */
				if (!alarm_fired)
					run->immediate_exit = 0;
				continue;
			}
			run_finish(r, VMM_ERROR, "KVM_RUN: %s", strerror(errno));
			break;
		}
		handle_exit(r);
	}
}

/* Output the job wrote before it ended goes out, within the deadline. */
static void drain_output(struct run *r)
{
	while (vsock_buffered(&r->vs)) {
		struct pollfd fds[VSOCK_POLL_MAX];
		uint64_t now = vmm_now_ns();
		if (now >= r->deadline || alarm_fired)
			break;
		unsigned n = vsock_poll_fds(&r->vs, fds);
		uint64_t t = r->deadline - now;
		struct timespec ts = {.tv_sec = (time_t)(t / NSEC),
				      .tv_nsec = (long)(t % NSEC)};
		if (ppoll(fds, n, &ts, NULL) < 0 && errno != EINTR)
			break;
		vsock_flush(&r->vs);
	}
	vsock_drop_buffered(&r->vs);
}

/* ---- set-up ---- */

static int create_vm(struct run *r, char *err)
{
	const struct vmm_config *cfg = r->cfg;
	uint64_t mem = (uint64_t)cfg->mem_mib << 20;

	if (layout_init(&r->layout, mem, err) < 0)
		return -1;
	if (gm_create(&r->gm, mem, err) < 0)
		return -1;
	if (kvm_vm_create(&r->vm, cfg->kvm_fd, err) < 0)
		return -1;
	if (kvm_vm_set_memory(&r->vm, &r->gm, 0, err) < 0)
		return -1;
	return 0;
}

static void add_slot(struct run *r, struct al_mmio_slot *slots,
		     struct virtio_dev *d)
{
	unsigned i = r->ndevs++;

	r->devs[i] = d;
	memset(&slots[i], 0, sizeof(slots[i]));
	slots[i].gpa = AL_MMIO_GPA + i * AL_MMIO_SLOT_SIZE;
	slots[i].va = AL_MMIO_VA + i * AL_MMIO_SLOT_SIZE;
	slots[i].device_id = d->device_id;
}

/* Slots 1..: one virtio-blk device per drive. */
static int add_drives(struct run *r, struct al_mmio_slot *slots, char *err)
{
	const struct vmm_config *cfg = r->cfg;

	if (cfg->ndrives == 0)
		return 0;
	r->blk = calloc(cfg->ndrives, sizeof(*r->blk));
	if (!r->blk) {
		vmm_errf(err, VMM_ERR_MAX, "out of memory for %u drives",
			 cfg->ndrives);
		return -1;
	}
	r->overlay_room = BLK_OVERLAY_MAX / BLK_CHUNK_SIZE;
	for (unsigned i = 0; i < cfg->ndrives; i++) {
		uint64_t gpa = AL_MMIO_GPA + DRIVE_SLOT(i) * AL_MMIO_SLOT_SIZE;
		if (blk_init(&r->blk[i], &r->gm, gpa, &cfg->drives[i], i,
			     &r->overlay_room, err) < 0)
			return -1;
		r->nblk++;
		add_slot(r, slots, &r->blk[i].vdev);
	}
	return 0;
}

/* The job's descriptors, counters and caps for the VM's streams. */
static struct vsock_fds streams_of(const struct run *r)
{
	const struct vmm_config *cfg = r->cfg;
	return (struct vsock_fds){
	    .in = cfg->stdin_fd,
	    .out = cfg->stdout_fd,
	    .err = cfg->stderr_fd,
	    .in_stats = &r->res->in,
	    .out_stats = &r->res->out,
	    .err_stats = &r->res->err,
	    .in_max = cfg->stream_caps ? cfg->stdin_max : UINT64_MAX,
	    .out_max = cfg->stream_caps ? cfg->stdout_max : UINT64_MAX,
	    .err_max = cfg->stream_caps ? cfg->stderr_max : UINT64_MAX,
	    .ports = cfg->vsock_ports,
	    .nports = cfg->nvsock_ports,
	    .in_later = r->point_only && !r->snap.saved,
	};
}

/* A warm VM's next job or input: its streams, counted into r->res. */
static void attach_streams(struct run *r)
{
	struct vsock_fds vf = streams_of(r);
	vsock_attach(&r->vs, &vf);
}

static int boot_vm(struct run *r, char *err)
{
	const struct vmm_config *cfg = r->cfg;
	struct al_mmio_slot slots[AL_MMIO_MAX];

	if (boot_load_kernel(&r->gm, cfg->kernel, cfg->kernel_len, &r->kernel,
			     err) < 0)
		return -1;

	/* Slot 0: virtio-vsock. */
	control_init(&r->ctl, cfg->verbose);
	struct vsock_fds vf = streams_of(r);
	vsock_init(&r->vs, &r->gm, AL_MMIO_GPA, &r->ctl, &vf);
	r->vs_ready = true;
	add_slot(r, slots, &r->vs.vdev);
	if (add_drives(r, slots, err) < 0)
		return -1;

	if (boot_build_tables(&r->gm, &r->layout, &r->kernel, r->ndevs, err) <
	    0)
		return -1;
	if (boot_write_bootinfo(&r->gm, &r->layout, slots, r->ndevs,
				r->vm.tsc_khz,
				cfg->verbose ? AL_BOOT_F_VERBOSE : 0, err) < 0)
		return -1;
	return kvm_vm_boot_cpu(&r->vm, &r->layout, &r->kernel.hdr, err);
}

static int check_drives(const struct vmm_config *cfg, char *err)
{
	if (cfg->ndrives > AL_DRIVES_MAX) {
		vmm_errf(err, VMM_ERR_MAX, "%u drives: at most %u",
			 cfg->ndrives, AL_DRIVES_MAX);
		return -1;
	}
	if (cfg->ndrives && !cfg->drives) {
		vmm_errf(err, VMM_ERR_MAX, "%u drives but no drive table",
			 cfg->ndrives);
		return -1;
	}
	for (unsigned i = 0; i < cfg->ndrives; i++) {
		const char *m = cfg->drives[i].mount;
		if (!m || m[0] != '/' || strlen(m) >= AL_MOUNT_MAX) {
			vmm_errf(err, VMM_ERR_MAX,
				 "drive %u: the guest path must be absolute "
				 "and shorter than %u bytes",
				 i, AL_MOUNT_MAX);
			return -1;
		}
	}
	return 0;
}

static int check_vm_config(const struct vmm_config *cfg, char *err)
{
	if (!cfg->kernel || cfg->kernel_len == 0) {
		vmm_errf(err, VMM_ERR_MAX, "no guest kernel image");
		return -1;
	}
	if (cfg->mem_mib < AL_MEM_MIN_MIB || cfg->mem_mib > AL_MEM_MAX_MIB) {
		vmm_errf(err, VMM_ERR_MAX,
			 "guest memory of %u MiB: must be %u..%u MiB",
			 cfg->mem_mib, AL_MEM_MIN_MIB, AL_MEM_MAX_MIB);
		return -1;
	}
	if (cfg->timeout_ms == 0) {
		vmm_errf(err, VMM_ERR_MAX, "timeout must be positive");
		return -1;
	}
	return check_drives(cfg, err);
}

static int check_vsock_ports(const struct vmm_config *cfg, char *err)
{
	if (cfg->nvsock_ports > VMM_VSOCK_PORTS_MAX ||
	    (cfg->nvsock_ports && !cfg->vsock_ports)) {
		vmm_errf(err, VMM_ERR_MAX,
			 "%u host sockets: at most %u, in a table",
			 cfg->nvsock_ports, VMM_VSOCK_PORTS_MAX);
		return -1;
	}
	for (unsigned i = 0; i < cfg->nvsock_ports; i++) {
		uint32_t port = cfg->vsock_ports[i].port;
		bool dup = false;
		for (unsigned j = 0; j < i; j++)
			dup |= cfg->vsock_ports[j].port == port;
		if (port == 0 || port >= AL_PORT_RESERVED_MIN || dup) {
			vmm_errf(err, VMM_ERR_MAX,
				 "host socket %u: port %u is %s", i, port,
				 dup ? "mapped twice"
				     : "outside 1..0xa0ffffff");
			return -1;
		}
	}
	return 0;
}

/* The job's part of cfg, for a VM of mem_mib. 0, -1 (VMM_ERROR) or -2
 * (VMM_EXEC_FAILED), with err set. */
static int check_job_config(struct run *r, const struct vmm_config *cfg,
			    char *err)
{
	uint32_t count, bytes;

	if (cfg->timeout_ms == 0) {
		vmm_errf(err, VMM_ERR_MAX, "timeout must be positive");
		return -1;
	}
	if (!cfg->argv || !cfg->argv[0]) {
		vmm_errf(err, VMM_ERR_MAX,
			 "empty argument list (argv[0] unset)");
		return -1;
	}
	uint64_t stack =
	    cfg->stack_bytes ? cfg->stack_bytes : VMM_STACK_DEFAULT;
	uint32_t mib = r->vm_cfg->mem_mib;
	if (stack >= (uint64_t)mib << 20) {
		vmm_errf(err, VMM_ERR_MAX,
			 "stack of %llu bytes does not fit a %u MiB guest",
			 (unsigned long long)stack, mib);
		return -1;
	}
	r->stack_bytes = (stack + AL_PAGE_SIZE - 1) & ~(AL_PAGE_SIZE - 1);
	if (check_vsock_ports(cfg, err) < 0)
		return -1;
	if (control_check_args(cfg->argv, cfg->envp, &count, &bytes, err) <
	    0) {
		char why[VMM_ERR_MAX];
		memcpy(why, err, sizeof(why));
		vmm_errf(err, VMM_ERR_MAX, "%s: %s",
			 cfg->job_name ? cfg->job_name : "job", why);
		return -2;
	}
	return 0;
}

static void teardown(struct run *r)
{
	uint64_t t0 = vmm_now_ns();

	run_fds_restore(r);
	if (r->vs_ready)
		vsock_destroy(&r->vs);
	for (unsigned i = 0; i < r->nblk; i++)
		blk_destroy(&r->blk[i]);
	free(r->blk);
	kvm_vm_destroy(&r->vm);
	gm_destroy(&r->gm);
	signals_restore(r);
	r->res->teardown_us = run_us_since(t0);
}


struct vmm *run_alloc(const struct vmm_config *cfg,
			     struct vmm_result *res)
{
	memset(res, 0, sizeof(*res));
	struct vmm *v = calloc(1, sizeof(*v));
	if (!v) {
		res->outcome = VMM_ERROR;
		snprintf(res->message, sizeof(res->message),
			 "out of memory for the VM state");
		return NULL;
	}
	struct run *r = &v->r;
	r->cfg = r->vm_cfg = cfg;
	r->res = res;
	r->gm.fd = -1;
	r->vm.vm_fd = r->vm.vcpu_fd = -1;
	return v;
}

void run_set_deadline(struct run *r, uint64_t t0, uint64_t timeout_ms)
{
	/* A timeout beyond ~290 years is as good as none. */
	if (timeout_ms > (1ull << 53) / 1000000ull)
		timeout_ms = (1ull << 53) / 1000000ull;
	r->deadline = t0 + timeout_ms * 1000000ull;
}

/* Creates and boots the VM. 0, or -1 with the outcome final. */
int run_start_vm(struct run *r, uint64_t t0)
{
	char err[VMM_ERR_MAX];

	if (signals_arm(r, err) < 0 || run_timer_arm(r, err) < 0 ||
	    create_vm(r, err) < 0 ||
	    ((r->warm || r->fuzz) && snapshot_track(&r->vm, &r->gm, err) < 0)) {
		run_finish(r, VMM_ERROR, "%s", err);
		return -1;
	}
	r->res->create_us = run_us_since(t0);
	r->t_boot = vmm_now_ns();
	alarm_run = r->vm.run;
	if (alarm_fired)
		r->vm.run->immediate_exit = 1;
	if (boot_vm(r, err) < 0) {
		run_finish(r, VMM_ERROR, "%s", err);
		return -1;
	}
	return 0;
}

/* Runs the guest until the job ends; its output goes out. */
static void run_job(struct run *r)
{
	run_fds_nonblock(r);
	run_vcpu(r);
	if (r->ctl.state == CTL_DONE && !r->ctl.exec_error)
		drain_output(r);
	if (r->t_job)
		r->res->run_us = run_us_since(r->t_job);
	else if (!r->t_ready)
		r->res->boot_us = run_us_since(r->t_boot);
	run_fds_restore(r);
}

/* An input whose output goes out: it counts into this input's result
 * and what is buffered when the job ends goes out before the revert. */
void run_resume_with_output(struct run *r)
{
	attach_streams(r);
	run_fds_nonblock(r);
	run_resume(r);
	if (r->res->outcome == VMM_EXITED || r->res->outcome == VMM_SIGNALED)
		drain_output(r);
	run_fds_restore(r);
}

/* 0, or -1 with the outcome final: a bad configuration. */
int run_check_all(struct run *r, const struct vmm_config *cfg, bool job)
{
	char err[VMM_ERR_MAX];
	int c = job ? check_job_config(r, cfg, err) : check_vm_config(cfg, err);
	if (c < 0)
		run_finish(r, c == -2 ? VMM_EXEC_FAILED : VMM_ERROR, "%s", err);
	return c < 0 ? -1 : 0;
}

static void run_release(struct vmm *v)
{
	struct run *r = &v->r;
	alarm_run = NULL;
	teardown(r);
	snapshot_free(&r->snap);
	vsock_destroy(&r->vs_snap);
	free(r->blk_snap);
	free(v);
}

int vmm_run(const struct vmm_config *cfg, struct vmm_result *res)
{
	uint64_t t0 = vmm_now_ns();
	struct vmm *v = run_alloc(cfg, res);
	if (!v)
		return 0;
	struct run *r = &v->r;
	if (run_check_all(r, cfg, false) < 0 || run_check_all(r, cfg, true) < 0) {
		free(v);
		return 0;
	}
	run_set_deadline(r, t0, cfg->timeout_ms);
	if (run_start_vm(r, t0) == 0)
		run_job(r);
	run_release(v);
	return 0;
}

/* The pristine point: RAM, vCPU and every device as they are now. */
int run_save_pristine(struct run *r, char *err)
{
	if (snapshot_take(&r->snap, &r->vm, &r->gm, err) < 0 ||
	    vsock_save(&r->vs, &r->vs_snap, err) < 0)
		return -1;
	r->ctl_snap = r->ctl;
	r->blk_snap = calloc(r->nblk ? r->nblk : 1, sizeof(*r->blk_snap));
	if (!r->blk_snap) {
		vmm_errf(err, VMM_ERR_MAX, "out of memory for the snapshot");
		return -1;
	}
	for (unsigned i = 0; i < r->nblk; i++)
		r->blk_snap[i] = r->blk[i].vdev;
	return 0;
}

struct vmm *vmm_boot(const struct vmm_config *cfg, struct vmm_result *res)
{
	char err[VMM_ERR_MAX];
	uint64_t t0 = vmm_now_ns();
	struct vmm *v = run_alloc(cfg, res);
	if (!v)
		return NULL;
	struct run *r = &v->r;
	if (run_check_all(r, cfg, false) < 0) {
		free(v);
		return NULL;
	}
	r->warm = true;
	run_set_deadline(r, t0, cfg->timeout_ms);
	if (run_start_vm(r, t0) == 0)
		run_vcpu(r);
	if (!r->done && !r->pristine)
		run_finish(r, VMM_ERROR, "the guest kernel stopped before it was "
				     "ready for a job");
	if (!r->done && run_save_pristine(r, err) < 0)
		run_finish(r, VMM_ERROR, "snapshot: %s", err);
	return run_keep(v);
}

struct vmm *run_keep(struct vmm *v)
{
	struct run *r = &v->r;
	if (r->done) {
		run_release(v);
		return NULL;
	}
	r->res->boot_us = run_us_since(r->t_boot);
	run_timer_disarm(r);
	return v;
}

/* Back to the pristine point, or the VM is marked broken. */
void run_revert(struct run *r)
{
	char err[VMM_ERR_MAX];

	if (snapshot_revert(&r->snap, &r->vm, &r->gm, &r->res->revert, err) <
	    0) {
		r->broken = true;
		snprintf(r->res->revert_error, sizeof(r->res->revert_error),
			 "%s", err);
		return;
	}
	vsock_restore(&r->vs, &r->vs_snap);
	r->ctl = r->ctl_snap;
	for (unsigned i = 0; i < r->nblk; i++)
		blk_restore(&r->blk[i], &r->blk_snap[i]);
	r->overlay_room = BLK_OVERLAY_MAX / BLK_CHUNK_SIZE;
	r->pristine = true;
}

int vmm_job(struct vmm *v, const struct vmm_config *cfg,
	    struct vmm_result *res)
{
	char err[VMM_ERR_MAX];
	uint64_t t0 = vmm_now_ns();
	struct run *r = &v->r;

	memset(res, 0, sizeof(*res));
	r->res = res;
	r->cfg = cfg;
	r->done = false;
	r->t_ready = r->t_job = 0;
	if (r->broken || !r->pristine) {
		run_finish(r, VMM_ERROR, "this VM could not be reverted after an "
				     "earlier job: destroy it");
		return -1;
	}
	if (run_check_all(r, cfg, true) < 0)
		return 0;
	run_set_deadline(r, t0, cfg->timeout_ms);
	if (run_rearm(r, err) < 0 || boot_reseed(&r->gm, err) < 0) {
		run_finish(r, VMM_ERROR, "%s", err);
		return 0;
	}
	attach_streams(r);
	r->pristine = false;
	r->t_boot = t0;
	if (r->point_only) /* the job is there already, at its point */
		r->t_ready = r->t_job = vmm_now_ns();
	else
		send_job(r);
	if (!r->done)
		device_call(r, vsock_process(&r->vs), &r->vs.vdev);
	run_job(r);
	run_timer_disarm(r);
	run_revert(r);
	return r->broken ? -1 : 0;
}

void vmm_destroy(struct vmm *v)
{
	struct vmm_result scratch;

	if (!v)
		return;
	v->r.res = &scratch;
	run_release(v);
}
