/*
 * vmm: the KVM monitor. Boots the built-in guest kernel in a fresh micro-VM,
 * hands it one job and reports how the job ended. Knows nothing of the
 * command line: the caller opens every host resource and passes descriptors.
 */
#ifndef AIRLOCK_VMM_H
#define AIRLOCK_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "airlock/proto.h"

/* How a job binary failed the host-side check (vmm_check_job). */
enum vmm_job_check {
	VMM_JOB_OK = 0,
	VMM_JOB_NOT_EXECUTABLE, /* not ELF, not x86-64, dynamic, malformed: 126 */
	VMM_JOB_IO_ERROR,       /* could not read it: 125 */
};

/* What the host learned from a job's ELF headers. */
struct vmm_job_image {
	uint64_t load_bias; /* chosen for ET_DYN, 0 for ET_EXEC */
	uint64_t lo, hi;    /* page-aligned guest range the segments occupy */
	uint64_t entry;     /* with the bias applied */
	bool pie;
};

/*
 * Checks that fd holds a static x86-64 ELF executable (ET_EXEC, or ET_DYN
 * without PT_INTERP) whose segments fit a guest of mem_bytes. On failure
 * writes a one-line reason naming the file to err (e.g. "PROG is dynamically
 * linked: build it with -static").
 */
enum vmm_job_check vmm_check_job(int fd, const char *name, uint64_t mem_bytes,
				 struct vmm_job_image *img, char *err,
				 size_t errlen);

/* One drive: an image the supervisor opened read-only (a regular file; a
 * size that is not a multiple of 512 reads as zeros up to the next one). A
 * writable drive writes to a private copy-on-write overlay in VMM memory
 * that dies with the job, 64 MiB for all drives of a run together (then the
 * guest's writes fail with EIO); the image itself is never written. */
struct vmm_drive {
	int fd;
	const char *mount; /* absolute guest path, shorter than AL_MOUNT_MAX */
	bool writable;
};

/* A host service the guest may connect to: a guest connection to host CID 2
 * port `port` is proxied, both ways, to fd, a stream socket the caller
 * connected (-1: it could not be reached; the guest's connection is then
 * reset). One guest connection per port per job; a second one is reset. The
 * fd becomes non-blocking for the run and is shut down when the guest's
 * connection ends; closing it stays the caller's. */
struct vmm_vsock_port {
	uint32_t port; /* 1 .. AL_PORT_RESERVED_MIN - 1, each port once */
	int fd;
};

#define VMM_VSOCK_PORTS_MAX 16

struct vmm_config {
	int kvm_fd;                /* open /dev/kvm */
	uint32_t mem_mib;          /* AL_MEM_MIN_MIB .. AL_MEM_MAX_MIB */
	const void *kernel;        /* guest kernel ELF image */
	size_t kernel_len;
	int job_fd;                /* the job binary, checked by vmm_check_job */
	const char *job_name;      /* for messages */
	char *const *argv;         /* NULL-terminated, argv[0] set */
	char *const *envp;         /* NULL-terminated */
	int stdin_fd, stdout_fd, stderr_fd;
	uint64_t timeout_ms;       /* wall-clock limit of the whole run; > 0 */
	uint64_t stack_bytes;      /* job stack size; 0 for the default 8 MiB */
	bool verbose;              /* name unimplemented syscalls on stderr */
	const struct vmm_drive *drives; /* at most AL_DRIVES_MAX */
	unsigned ndrives;
	/* The job's host sockets, at most VMM_VSOCK_PORTS_MAX. */
	const struct vmm_vsock_port *vsock_ports;
	unsigned nvsock_ports;
	/* With stream_caps, the bytes each stream may carry: output past the
	 * cap is dropped (the job goes on) and reported truncated, stdin past
	 * it reads as end of file. Without, streams are unbounded. */
	bool stream_caps;
	uint64_t stdin_max, stdout_max, stderr_max;
	/* Guest syscalls refused (bit n of word n / 64), and how. */
	uint64_t syscall_refused[AL_SYSCALL_NR_MAX / 64];
	unsigned syscall_action;   /* enum al_syscall_action */
	/* Fuzzing: each input's output goes to the job's streams, as a
	 * run's would (replay, triage), instead of nowhere. */
	bool fuzz_output;
	/*
	 * Called once after the VM is created and booted but before the first
	 * KVM_RUN, i.e. before any guest instruction runs (the jail installs
	 * its seccomp filter here). Nonzero ends the run with VMM_ERROR and
	 * the message it wrote to err (VMM_HOOK_ERR_MAX bytes). May be NULL.
	 */
	int (*before_first_run)(void *arg, char *err);
	void *hook_arg;
};

#define VMM_HOOK_ERR_MAX 256

/*
 * The ioctl request numbers vmm_run issues after before_first_run (the run
 * loop and teardown), for a seccomp allowlist. vmm_run_ioctls_n entries.
 */
extern const unsigned long vmm_run_ioctls[];
extern const size_t vmm_run_ioctls_n;

/* What a warm VM's vmm_job issues beyond vmm_run_ioctls (the revert). */
extern const unsigned long vmm_warm_ioctls[];
extern const size_t vmm_warm_ioctls_n;

enum vmm_outcome {
	VMM_EXITED = 1,  /* value: exit code */
	VMM_SIGNALED,    /* value: signal number */
	VMM_TIMED_OUT,   /* the wall-clock limit hit */
	VMM_EXEC_FAILED, /* the guest refused the job (126); message says why */
	VMM_ERROR,       /* VMM or guest kernel failure (125); message says why */
};

/* What putting a VM back to its pristine snapshot took. */
struct vmm_revert_stats {
	uint64_t pages; /* pages copied back (dirtied by the job or the VMM) */
	bool full;      /* most of RAM was dirty: everything copied back */
	uint64_t us;
	uint64_t vcpu_us; /* of which putting the vCPU state back */
};

#define VMM_REVERT_ERR_MAX 256

struct vmm_stream_stats {
	uint64_t bytes;
	bool truncated; /* output dropped because the reader went away */
};

struct vmm_result {
	enum vmm_outcome outcome;
	int value;
	char message[512]; /* for VMM_ERROR and VMM_EXEC_FAILED; else empty */
	uint64_t fault_addr, fault_rip;
	uint64_t syscalls;
	struct vmm_stream_stats in, out, err;
	/* phase timings in microseconds */
	uint64_t create_us, boot_us, load_us, run_us, teardown_us;
	uint64_t cov_us; /* fuzzing: copying the coverage map out */
	/* A warm VM's job (vmm_job): how it went back to the snapshot. */
	struct vmm_revert_stats revert;
	char revert_error[VMM_REVERT_ERR_MAX]; /* empty unless it failed */
};

/*
 * Boots a VM, runs the job, tears the VM down. Never returns before the VM is
 * gone. Returns 0 with result filled in for every outcome, including guest
 * failures; -1 only if result itself could not be produced (never so far).
 */
int vmm_run(const struct vmm_config *cfg, struct vmm_result *result);

/*
 * A warm VM: booted once, snapshotted when the guest kernel is ready for a
 * job, then given jobs one at a time, each put back to the snapshot after
 * it ends so that nothing one job did can be seen by the next.
 *
 * vmm_boot uses the VM's part of cfg (kvm_fd, mem_mib, kernel, drives,
 * verbose, before_first_run; timeout_ms bounds the boot) and returns NULL
 * with result saying why if the VM could not be made ready. The descriptors
 * in cfg must stay open while the VM lives.
 */
struct vmm;
struct vmm *vmm_boot(const struct vmm_config *cfg, struct vmm_result *result);

/*
 * Runs one job on a warm VM with the job's part of cfg (job_fd, argv, envp,
 * standard streams, host sockets, timeout, stack, stream caps, syscall
 * policy) and reverts the VM. result is filled as by vmm_run, plus
 * result->revert. Returns 0, or -1 when the VM could not be reverted
 * (result->revert_error says why): it then refuses further jobs; destroy
 * it.
 */
int vmm_job(struct vmm *vm, const struct vmm_config *cfg,
	    struct vmm_result *result);

/*
 * Fuzzing mode: one job, many inputs (include/airlock/fuzz.h). vmm_fuzz_start
 * boots a VM and runs the job, in fuzzing mode, to its snapshot point (its
 * first read of the input, or AL_FUZZ_CALL_POINT) within cfg->timeout_ms,
 * and snapshots it there. NULL with result saying why when the job ends or
 * fails before that point.
 */
struct vmm *vmm_fuzz_start(const struct vmm_config *cfg,
			   struct vmm_result *result);

/*
 * The same for `serve --preload`: the job (cfg's, with its streams for what
 * it writes before the point) runs to its AL_FUZZ_CALL_POINT, and every
 * vmm_job on this VM then resumes it there with the job's own streams,
 * timeout and a fresh seed, ignoring the job's binary and arguments. cfg
 * must stay valid while the VM lives.
 */
struct vmm *vmm_boot_at_point(const struct vmm_config *cfg,
			      struct vmm_result *result);

/* Bytes of the coverage map the job registered by its point; 0 if none. */
uint64_t vmm_fuzz_map_len(const struct vmm *vm);

/*
 * Runs one input (at most AL_FUZZ_INPUT_MAX bytes) from the snapshot point
 * for at most timeout_ms and copies the job's coverage map into cov (up to
 * cov_max bytes). result as for vmm_run. The VM stays where the input left
 * it, so that the caller can report the verdict before paying for the
 * revert: vmm_fuzz_reset must come before the next input. -1 when the VM
 * is not at its point (destroy it).
 */
int vmm_fuzz_input(struct vmm *vm, const void *data, size_t len,
		   uint64_t timeout_ms, uint8_t *cov, size_t cov_max,
		   struct vmm_result *result);

/* Puts the VM back to its point after an input; result->revert says what
 * that took. -1 when it could not (result->revert_error says why):
 * destroy the VM. */
int vmm_fuzz_reset(struct vmm *vm, struct vmm_result *result);

void vmm_destroy(struct vmm *vm);

#endif
