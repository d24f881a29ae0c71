/*
 * The built-in guest kernel's internal interface: what each part offers.
 *
 * The kernel boots on state the VMM prepared (include/airlock/boot.h), talks
 * to the host over virtio-vsock (include/airlock/proto.h), reads drives over
 * virtio-blk and runs one static Linux x86-64 job in ring 3 behind a Linux
 * syscall layer. Ring 0 is emulated instruction by instruction on PVM, so
 * every path here is short: no copies of job data (descriptors point into
 * job memory), no demand paging, `rep` string moves only for bulk, no
 * interrupts.
 *
 *   entry.S     boot entry, syscall entry, exception stubs, stacks
 *   header.c    the kernel header the VMM reads (.al_header)
 *   platform.*  privileged operations (hlt, iretq, TLB, MSRs, CR2)
 *   main.c      boot sequence
 *   panic.c     panic and a tiny formatter
 *   lib.c       memory and string helpers
 *   virtq.c     virtio-mmio device start-up, split virtqueues
 *   vsock.c     the vsock driver: streams and sockets, credit, zero-copy
 *               send/receive
 *   blk.c       the virtio-blk driver (blk.h): synchronous, zero-copy
 *   job.c       receiving the job message
 *   elf.c       validating the job's ELF headers (host/elfcheck.c), PTEs
 *   exec.c      the initial stack and entering the job
 *   mm.c        job memory: user-pointer checks, PTEs, brk/mmap bookkeeping
 *   syscall.c   the syscall table and dispatcher
 *   sys_*.c     syscalls, one file per family
 *   fault.c     exceptions: ring 3 ends the job with a signal, ring 0 panics
 *   proc.c      how the job ends (exit or signal)
 *   sys_signal.c  signal dispositions, raise
 *   time.c      clocks from the TSC
 *   random.c    the per-run ChaCha generator
 *   kmem.*      pages and small objects for the file system
 *   vfs.h       the file system: vfs.c, file.c, stdio.c, tmpfs.c, devfs.c,
 *               pipe.c, ext2fs.c (host/ext2.c) and their syscalls
 */
#ifndef GK_H
#define GK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <airlock/boot.h>
#include <airlock/proto.h>
#include <airlock/virtio.h>

#include "asmdefs.h"
#include "platform.h"

#define GK_NORETURN __attribute__((noreturn))
#define GK_UNUSED __attribute__((unused))
#define GK_MIN(a, b) ((a) < (b) ? (a) : (b))
#define GK_MAX(a, b) ((a) > (b) ? (a) : (b))
#define GK_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The boot block, at a fixed address (RDI at entry says the same). Fields
 * the VMM rewrites per job (seed, clock) are read fresh every time. */
#define GK_BI ((struct al_bootinfo *)AL_BOOTINFO_GPA)

static inline uint64_t gk_page_down(uint64_t a)
{
	return a & ~(AL_PAGE_SIZE - 1);
}

static inline uint64_t gk_page_up(uint64_t a)
{
	return (a + AL_PAGE_SIZE - 1) & ~(AL_PAGE_SIZE - 1);
}

static inline void gk_barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

/* Linux errno values returned negated by syscalls. */
#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define EBADF 9
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define EXDEV 18
#define ENODEV 19
#define ENOTDIR 20
#define EISDIR 21
#define EINVAL 22
#define ENFILE 23
#define EMFILE 24
#define ENOTTY 25
#define EFBIG 27
#define ENOSPC 28
#define ESPIPE 29
#define EROFS 30
#define EPIPE 32
#define ERANGE 34
#define EDEADLK 35
#define ENAMETOOLONG 36
#define ENOSYS 38
#define ENOTEMPTY 39
#define ELOOP 40
#define EOVERFLOW 75
#define ENOTSOCK 88
#define EPROTONOSUPPORT 93
#define ESOCKTNOSUPPORT 94
#define EOPNOTSUPP 95
#define EAFNOSUPPORT 97
#define ENETUNREACH 101
#define ECONNRESET 104
#define EISCONN 106
#define ENOTCONN 107
#define ETIMEDOUT 110
#define EUCLEAN 117

/* The job runs as uid and gid 1000: not root. */
#define GK_JOB_UID 1000u

/* Signals the kernel raises itself. */
#define GK_SIGILL 4
#define GK_SIGTRAP 5
#define GK_SIGABRT 6
#define GK_SIGBUS 7
#define GK_SIGFPE 8
#define GK_SIGKILL 9
#define GK_SIGSEGV 11
#define GK_SIGPIPE 13
#define GK_SIGSTOP 19
#define GK_SIGSYS 31
#define GK_NSIG 64

/* ---- main.c ------------------------------------------------------------ */
GK_NORETURN void gk_main(struct al_bootinfo *bi);

/* ---- panic.c ----------------------------------------------------------- */
/* Formats into buf (always NUL-terminated); returns the length. Supports
 * %s (const char *), %u and %x (uint64_t only: cast at the call site). */
size_t gk_vfmt(char *buf, size_t size, const char *fmt, va_list ap);
size_t gk_fmt(char *buf, size_t size, const char *fmt, ...);
/* Reports "guest kernel panic: MSG" to the VMM and stops the vCPU. */
GK_NORETURN void gk_panic(const char *fmt, ...);

/* ---- lib.c ------------------------------------------------------------- */
/* Copy and clear, `rep movsq`/`rep stosq` for the bulk (lib.c says why). */
void gk_copy(void *dst, const void *src, size_t n);
void gk_zero(void *dst, size_t n);
size_t gk_strlen(const char *s);
/* The compiler may emit calls to these. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* ---- vsock.c ----------------------------------------------------------- */
/* Connections: the four streams, then up to GK_NSOCKS of the job's sockets
 * (vsock_conn_alloc). The functions below take either. */
enum gk_stream { GK_CONTROL, GK_STDIN, GK_STDOUT, GK_STDERR, GK_NSTREAMS };
#define GK_NSOCKS 16

/* A byte range in guest memory; same layout as struct iovec. */
struct gk_iov {
	uint64_t base;
	uint64_t len;
};

/* Finds the vsock device, initializes it, connects the four streams. */
void vsock_init(void);
/* Sends up to max bytes from iov (already validated: the device reads them
 * directly), waiting for host credit as needed. Returns the bytes sent, or
 * -EPIPE when the host reset or shut the stream before any byte went. */
long vsock_send(unsigned conn, const struct gk_iov *iov, unsigned n,
		uint64_t max);
/* Queues a control message without sending it yet: the next notify carries
 * it (one exit instead of two). payload is copied. */
void vsock_queue_msg(uint16_t type, const void *payload, uint32_t len);
/* Sends a control message now. */
void vsock_send_msg(uint16_t type, const void *payload, uint32_t len);
/* Receives what one packet brings into iov (validated, writable; at most
 * AL_VSOCK_MAX_PAYLOAD bytes are used), the device writing it directly.
 * Blocks until data arrives (without wait: -EAGAIN when the host has none
 * at hand); returns the byte count, 0 at end of stream. */
long vsock_recv(unsigned conn, const struct gk_iov *iov, unsigned n,
		bool wait);
/* True once the host will send nothing more on conn. */
bool vsock_at_eof(unsigned conn);
/* A connection slot for a socket, or -ENFILE. */
long vsock_conn_alloc(void);
/* Connects slot conn to host port port: 0, or -ECONNRESET when the host
 * refuses (every port the policy does not map, or one used already). */
long vsock_connect(unsigned conn, uint32_t port);
/* Tells the host we send (VIRTIO_VSOCK_SHUTDOWN_SEND) or take
 * (VIRTIO_VSOCK_SHUTDOWN_RCV) nothing more. */
void vsock_shutdown(unsigned conn, uint32_t flags);
/* Shuts the connection down both ways and frees the slot. */
void vsock_conn_free(unsigned conn);
/* Our port of the connection (0 before the first connect). */
uint32_t vsock_local_port(unsigned conn);
/* Sleeps in `hlt` for at most ns (0: until a device has something), then
 * handles what arrived. */
void vsock_wait(uint64_t ns);

/* ---- job.c ------------------------------------------------------------- */
struct gk_job {
	const struct al_job *hdr; /* the job message, in kernel memory */
	uint64_t strings; /* where the argv/envp strings landed (8-aligned) */
	uint64_t stack_lo; /* lowest byte of the stack region */
};
/* Reports READY and receives the job: header into kernel memory, strings
 * straight into the top of the stack region. */
void job_receive(struct gk_job *job);

/* ---- elf.c / host/elfcheck.h ------------------------------------------- */
#include "host/elfcheck.h"
/* Validates the headers at AL_JOBHDR_GPA for the job and tightens the PTEs
 * of its segments. Returns NULL, or why the job cannot run. */
const char *elf_prepare(const struct gk_job *job, struct gk_elf_info *info);

/* ---- exec.c ------------------------------------------------------------ */
GK_NORETURN void exec_job(const struct gk_job *job);
/* Ends the job before it starts with one control message of this type;
 * exec_refuse: AL_MSG_EXEC_ERROR with why. */
GK_NORETURN void exec_stop(uint16_t type, const void *msg, uint32_t len);
GK_NORETURN void exec_refuse(const char *why);

/* ---- mm.c -------------------------------------------------------------- */
/* Boot: checks the memory layout in the boot block, guards the kernel
 * stack. */
void mm_boot(void);
uint64_t mm_job_base(void);
uint64_t mm_job_end(void);
/* True when [addr, addr + len) lies in the job region and every page is
 * present (and writable when write): then the kernel and the device may
 * touch it. len 0 is always fine. */
bool user_ok(uint64_t addr, uint64_t len, bool write);
/* PTE permission bits for a PROT_* combination. */
uint64_t mm_prot_bits(unsigned long prot);
/* Rewrites P/W/NX of the job pages in [lo, hi) (page-aligned) and flushes
 * their translations; the _noflush form leaves the flush to the caller. */
void mm_set_pte_bits(uint64_t lo, uint64_t hi, uint64_t bits);
void mm_set_pte_bits_noflush(uint64_t lo, uint64_t hi, uint64_t bits);
/* Sets up the job's address-space bookkeeping: heap from brk, mappings
 * below the stack guard at top. */
void mm_job_init(uint64_t brk, uint64_t top);
long mm_brk(uint64_t addr);
long mm_mmap(uint64_t addr, uint64_t len, unsigned long prot,
	     unsigned long flags);
long mm_munmap(uint64_t addr, uint64_t len);
long mm_mprotect(uint64_t addr, uint64_t len, unsigned long prot);
long mm_mremap(uint64_t old, uint64_t old_len, uint64_t new_len,
	       unsigned long flags);
long mm_madvise(uint64_t addr, uint64_t len, long advice);
/* Takes len (page multiple) bytes of free job memory for the kernel's own
 * use (file data and file-system objects): zeroed, no longer reachable by
 * the job, never given back. 0 when the job's memory, or the half of it
 * files may use, is exhausted. */
uint64_t mm_kernel_grow(uint64_t len);

/* ---- syscall.c --------------------------------------------------------- */
/* Called by the syscall entry stub with the job's arguments. */
long gk_syscall(long a0, long a1, long a2, long a3, long a4, long a5, long nr);
/* From now on, refuse the syscalls the job message's policy names. */
void syscall_policy(const struct al_job *job);

/* Every syscall handler has this shape; unused arguments are fine. */
#define GK_SYSARGS                                                            \
	long a0 GK_UNUSED, long a1 GK_UNUSED, long a2 GK_UNUSED,              \
	    long a3 GK_UNUSED, long a4 GK_UNUSED, long a5 GK_UNUSED
#define GK_SYSCALL(name) long name(GK_SYSARGS)

/* ---- proc.c ------------------------------------------------------------ */
/* As many descriptors as RLIMIT_NOFILE says (vfs.h has the table's API). */
#define GK_NFDS 1024
struct gk_file;
struct gk_inode;

struct gk_proc {
	uint64_t syscalls;    /* syscalls made, for the result */
	uint64_t start_tsc;   /* TSC when the job started */
	uint64_t stack_bytes; /* from the job message */
	uint64_t fs_base, gs_base;
	uint64_t sigmask;
	uint64_t sigpending; /* raised while blocked */
	uint32_t umask;
	struct gk_inode *cwd;
	struct gk_file *files[GK_NFDS];
	uint64_t cloexec[GK_NFDS / 64];
};
extern struct gk_proc gk_proc;
/* The job ends: report AL_MSG_RESULT and wait for the VMM to stop us. */
GK_NORETURN void proc_exit(int code);
GK_NORETURN void proc_kill(int sig, uint64_t fault_addr, uint64_t fault_rip);
/* A signal raised by the job itself or by the kernel (SIGPIPE): applies the
 * disposition. Returns 0 when the job goes on (ignored, blocked, or caught:
 * the handler runs as the syscall returns); does not return when it dies. */
long proc_raise(int sig);
/* sys_signal.c: enters the handler of a pending, unblocked signal as the
 * current syscall returns ret to the job; returns what RAX gets. */
long signal_deliver(long ret);

/* ---- fault.c ----------------------------------------------------------- */
struct gk_trapframe {
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};
GK_NORETURN void gk_exception(struct gk_trapframe *tf);

/* ---- time.c ------------------------------------------------------------ */
uint64_t time_tsc_to_ns(uint64_t cycles);
uint64_t time_ns_to_tsc(uint64_t ns);
uint64_t time_monotonic_ns(void); /* since the VMM's tsc_base */
uint64_t time_realtime_ns(void);
uint64_t time_cpu_ns(void); /* since the job started */
/* Sleeps until the monotonic clock reaches deadline. */
void time_sleep_until(uint64_t deadline_ns);

/* ---- random.c ---------------------------------------------------------- */
/* Keys the generator from the boot block's per-run seed. */
void random_seed(void);
/* Fills [dst, dst + n) (validated) with generator output. */
void random_fill(uint64_t dst, uint64_t n);

#endif
