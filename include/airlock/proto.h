/*
 * The host <-> guest protocol of the built-in guest kernel, carried over
 * virtio-vsock streams (host CID 2, guest CID 3). Compiles hosted and
 * freestanding. Every length here is checked by the receiver against the
 * bounds below; the host treats everything the guest sends as hostile.
 *
 * Connections. At boot the guest connects from port AL_GUEST_PORT(n) to host
 * port n for each of the four streams below (REQUEST, answered by RESPONSE).
 * A guest REQUEST to any other host port is answered with RST, unless the
 * job's policy maps that port to a host socket (vsock.connect; ports below
 * AL_PORT_RESERVED_MIN): the first REQUEST to it in a job gets RESPONSE and
 * the VMM proxies the stream to that socket, any later one gets RST. The
 * guest picks its own ports for those connections.
 *
 *   AL_PORT_CONTROL  both ways: messages framed by struct al_msg_hdr
 *   AL_PORT_STDIN    host -> guest: the job's standard input, then SHUTDOWN
 *   AL_PORT_STDOUT   guest -> host: the job's standard output
 *   AL_PORT_STDERR   guest -> host: the job's standard error
 *
 * Flow control is virtio-vsock's: a sender may have at most
 * peer.buf_alloc - (tx_cnt - peer.fwd_cnt) payload bytes unacknowledged.
 *  - The host gives each guest->host stream AL_HOST_STREAM_BUF of credit and
 *    sends CREDIT_UPDATE as it drains. A guest out of credit posts a receive
 *    buffer, may send CREDIT_REQUEST, and waits with `hlt`.
 *  - The guest grants host->guest credit only for the receive buffer it has
 *    posted: before it posts a buffer of L payload bytes for connection X it
 *    sends CREDIT_UPDATE(X, fwd_cnt = bytes received, buf_alloc = L), and
 *    withdraws credit left on any other connection (buf_alloc = 0) in the
 *    same batch. So host payload always lands in the buffer meant for it.
 *
 * Device rules the guest relies on (the VMM's virtio-vsock):
 *  - On every QueueNotify and every wake from `hlt`, the device first
 *    consumes all available TX chains in order, then fills available RX
 *    chains with pending packets, one packet per chain: the header in the
 *    first sizeof(struct virtio_vsock_hdr) bytes, payload after it. A chain
 *    too small for any payload receives only payload-less packets; when
 *    such a chain is at the head and only payload is pending, RX filling
 *    stops there, so a guest never posts a header-only chain ahead of a
 *    payload buffer.
 *  - TX chains: header descriptor first, payload in the following
 *    device-readable descriptors (they may point straight at job memory).
 *  - Payload bytes of one RW packet are at most AL_VSOCK_MAX_PAYLOAD.
 */
#ifndef AIRLOCK_PROTO_H
#define AIRLOCK_PROTO_H

#include <stdint.h>

#define AL_HOST_CID 2u
#define AL_GUEST_CID 3u

/* Host ports reserved for airlock's own streams (policy ports stay below). */
#define AL_PORT_CONTROL 0xa1000000u
#define AL_PORT_STDIN 0xa1000001u
#define AL_PORT_STDOUT 0xa1000002u
#define AL_PORT_STDERR 0xa1000003u
#define AL_PORT_RESERVED_MIN 0xa1000000u
#define AL_GUEST_PORT(host_port) ((host_port) - AL_PORT_RESERVED_MIN + 1024u)

#define AL_HOST_STREAM_BUF (256u * 1024u)
#define AL_VSOCK_MAX_PAYLOAD (64u * 1024u)

/* Control messages: a header, then exactly `len` payload bytes. */
#define AL_MSG_MAGIC 0x474d4c41u /* "ALMG" */
#define AL_PROTO_VERSION 1u

enum al_msg_type {
	AL_MSG_READY = 1,      /* guest -> host: booted, waiting for a job */
	AL_MSG_JOB = 2,        /* host -> guest: struct al_job + strings */
	AL_MSG_RESULT = 3,     /* guest -> host: struct al_result_msg */
	AL_MSG_ENOSYS = 4,     /* guest -> host: struct al_enosys_msg */
	AL_MSG_EXEC_ERROR = 5, /* guest -> host: job refused, text in payload */
	AL_MSG_DRIVE_ERROR = 6, /* guest -> host: a drive would not mount: its
				   index (one byte), then text */
};

struct al_msg_hdr {
	uint32_t magic;   /* AL_MSG_MAGIC */
	uint16_t version; /* AL_PROTO_VERSION */
	uint16_t type;    /* enum al_msg_type */
	uint32_t len;     /* payload bytes, at most AL_MSG_MAX_PAYLOAD */
	uint32_t reserved;
};

#define AL_ARGS_MAX_BYTES (256u * 1024u) /* argv + envp strings, NULs included */
#define AL_ARGS_MAX_COUNT 16384u         /* argc + envc */
#define AL_MSG_MAX_PAYLOAD (sizeof(struct al_job) + AL_ARGS_MAX_BYTES)
#define AL_EXEC_ERROR_MAX 256u

/* Syscall numbers the guest kernel knows of; larger ones are always ENOSYS. */
#define AL_SYSCALL_NR_MAX 512u

enum al_syscall_action {
	AL_SYSCALL_ERRNO = 0, /* a refused call fails with EPERM */
	AL_SYSCALL_KILL = 1,  /* a refused call ends the job with SIGSYS */
};

/* One virtio-blk drive of the job: the device in bootinfo's mmio[] slot
 * mmio_index, mounted read-only (or over a private overlay when writable)
 * at mount, an absolute NUL-terminated guest path. */
#define AL_DRIVES_MAX 16u
#define AL_MOUNT_MAX 256u /* bytes, with the NUL */
#define AL_DRIVE_F_WRITABLE 1u

/* Fuzzing mode (include/airlock/fuzz.h): the job's input and end go
 * through the boot block's struct al_fuzz_state. */
#define AL_JOB_F_FUZZ 1u
/* A warm point for serve (AL_FUZZ_CALL_POINT snapshots the job, later jobs
 * resume there with their own streams); input and result as usual. */
#define AL_JOB_F_POINT 2u
/* With AL_JOB_F_FUZZ: the job's stdout and stderr after the point go out
 * as in any run (replay and triage), instead of nowhere (under a fuzzer). */
#define AL_JOB_F_OUTPUT 4u

struct al_job_drive {
	uint32_t mmio_index;
	uint32_t flags; /* AL_DRIVE_F_* */
	char mount[AL_MOUNT_MAX];
};

/*
 * The job. Before sending it, the VMM has written every PT_LOAD segment of
 * the job's ELF file at its final guest address (p_vaddr + load_bias; bytes
 * past p_filesz are zero) and the file's first hdr_len bytes (ELF header,
 * program headers at e_phoff) at AL_JOBHDR_GPA. The guest validates the
 * headers, tightens page permissions and enters the job; it copies nothing.
 * The stack is the top stack_bytes of the job region; its lowest page is
 * left not present as the guard.
 */
struct al_job {
	uint64_t load_bias;   /* 0 for ET_EXEC; chosen by the VMM for ET_DYN */
	uint32_t hdr_len;     /* bytes valid at AL_JOBHDR_GPA */
	uint32_t argc;        /* >= 1 */
	uint32_t envc;
	uint32_t strings_len; /* argv strings, then envp strings, each NUL-ended */
	uint64_t stack_bytes; /* stack region size, a multiple of the page size */
	/* The policy's guest.syscalls, as a bitmap of refused numbers. */
	uint32_t syscall_action; /* enum al_syscall_action */
	uint32_t ndrives;        /* entries of drives[] in use */
	uint32_t flags;          /* AL_JOB_F_* */
	uint32_t reserved;
	uint64_t syscall_refused[AL_SYSCALL_NR_MAX / 64];
	struct al_job_drive drives[AL_DRIVES_MAX];
	/* followed by strings_len bytes of strings */
};

enum al_exit_kind {
	AL_EXIT_CODE = 1,   /* value: exit status 0..255 */
	AL_EXIT_SIGNAL = 2, /* value: signal 1..64 */
};

struct al_result_msg {
	uint32_t kind;  /* enum al_exit_kind */
	uint32_t value;
	uint64_t fault_addr; /* for SIGSEGV/SIGBUS: the address; else 0 */
	uint64_t fault_rip;  /* for a fault: the job's RIP; else 0 */
	uint64_t syscalls;   /* syscalls the job made */
};

/* --verbose: a syscall the job could not make, each number once. */
struct al_enosys_msg {
	uint32_t nr;      /* syscall number */
	uint32_t refused; /* 1: the policy refused it; 0: not implemented */
};

#endif
