/*
 * The run loop's state, shared by run.c (one job, or a warm VM's jobs) and
 * fuzz.c (one job, many inputs). Internal to vmm/.
 */
#ifndef AIRLOCK_VMM_RUN_H
#define AIRLOCK_VMM_RUN_H

#include <signal.h>
#include <time.h>

#include "vmm/vmm_impl.h"

/* Signal state borrowed for the run and given back afterwards. */
struct run_signals {
	struct sigaction old_alrm;
	sigset_t old_mask;
	bool pipe_blocked; /* by us, for the run */
	bool pipe_pending_before;
	timer_t timer;
	bool have_action, have_mask, have_timer;
};

struct run_fd {
	int fd;
	int old_flags;
};

struct run {
	const struct vmm_config *cfg;
	struct vmm_result *res;
	uint64_t deadline;
	uint64_t stack_bytes;
	bool done; /* res->outcome is final */

	struct guest_mem gm;
	struct kvm_vm vm;
	struct vm_layout layout;
	struct kernel_info kernel;
	struct vmm_control ctl;
	struct vsock vs;
	struct blk *blk; /* one per drive, slots 1.. */
	unsigned nblk;
	uint32_t overlay_room; /* chunks, shared by the drives */
	struct virtio_dev *devs[AL_MMIO_MAX];
	unsigned ndevs;
	bool vs_ready;

	struct run_signals sig;
	struct run_fd fds[3 + VMM_VSOCK_PORTS_MAX]; /* stdio, host sockets */
	unsigned nfds;

	uint64_t t_boot, t_ready, t_job;

	/* A warm VM (vmm_boot): it stops at the pristine point, waits there
	 * for each job and is put back there after it. */
	bool warm;
	bool pristine; /* stopped at the pristine point, no job given yet */
	bool hooked;   /* before_first_run has run */
	bool broken;   /* a revert failed: the VM must not run again */
	const struct vmm_config *vm_cfg; /* what the VM was booted with */
	struct snapshot snap;
	struct vsock vs_snap;
	struct vmm_control ctl_snap;
	struct virtio_dev *blk_snap; /* nblk transports */

	/* Fuzzing mode (fuzz.c): the snapshot is taken at the job's point
	 * instead of at READY, and each input is served from here. */
	bool fuzz;
	bool point_only; /* serve --preload: jobs resume at the point */
	const uint8_t *input;
	uint64_t input_len;
	uint64_t cov_gpa, cov_len; /* the job's map, as found at the point */
};

/* The VM: a one-shot run, a warm VM between jobs, or a fuzzing target. */
struct vmm {
	struct run r;
};


static inline uint64_t run_us_since(uint64_t t0)
{
	return (vmm_now_ns() - t0) / 1000;
}

void run_finish(struct run *r, enum vmm_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
struct vmm *run_alloc(const struct vmm_config *cfg, struct vmm_result *res);
/* 0, or -1 with the outcome final: a bad configuration. */
int run_check_all(struct run *r, const struct vmm_config *cfg, bool job);
void run_set_deadline(struct run *r, uint64_t t0, uint64_t timeout_ms);
/* Creates and boots the VM. 0, or -1 with the outcome final. */
int run_start_vm(struct run *r, uint64_t t0);
/* For the next job or input of a VM that ran before: a clean alarm state
 * and the timer armed for r->deadline. */
int run_rearm(struct run *r, char *err);
void run_timer_disarm(struct run *r);
void run_fds_nonblock(struct run *r);
void run_fds_restore(struct run *r);
/* Runs the vCPU until the outcome is final or the VM is pristine, with
 * the guest's clock set from the TSC now. */
void run_vcpu(struct run *r);
/* The same with the clock the guest has: a VM put back to a snapshot
 * whose clock is still right (the TSC it pairs with never stops). */
void run_resume(struct run *r);
/* run_resume for a fuzz input with cfg->fuzz_output. */
void run_resume_with_output(struct run *r);
/* The pristine point: RAM, vCPU and every device as they are now. */
int run_save_pristine(struct run *r, char *err);
/* Back to the pristine point, or the VM is marked broken. */
void run_revert(struct run *r);
/* A booted VM that is to be kept: v, or NULL (and v released) when the
 * outcome is final already; the boot's timer is disarmed. */
struct vmm *run_keep(struct vmm *v);

/* fuzz.c: an AL_FUZZ_OP the guest halted with; true when it was one. */
bool fuzz_on_halt(struct run *r);

#endif
