/*
 * What the VMM's modules offer each other. Nothing here is public: the
 * runner sees only vmm/vmm.h.
 *
 *   util.c     errors, clocks, text sanitizing
 *   mem.c      guest RAM and the one checked guest-physical accessor
 *   kvm.c      VM and vCPU lifecycle, register and clock ioctls
 *   boot.c     memory layout, guest kernel ELF, page tables, GDT/TSS/IDT,
 *              boot information block, register state at entry
 *   elf.c      job binary check (vmm_check_job) and loader
 *   virtq.c    split virtqueue, device side
 *   mmio.c     virtio-mmio version 2 transport
 *   vsock.c    virtio-vsock device, the four streams of proto.h and the
 *              connections to the policy's host sockets
 *   blk.c      virtio-blk device: one per drive, copy-on-write overlay
 *   control.c  control-stream messages (READY, JOB, RESULT, ...)
 *   syscalls.c x86-64 syscall names for --verbose
 *   run.c      vmm_run: the run loop
 *
 * Error convention: functions that can fail take `char *err` pointing at
 * VMM_ERR_MAX bytes (or an explicit length) and return -1 with a one-line
 * message there naming what failed.
 */
#ifndef AIRLOCK_VMM_IMPL_H
#define AIRLOCK_VMM_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/kvm.h>

#include "airlock/boot.h"
#include "airlock/proto.h"
#include "airlock/virtio.h"
#include "vmm/vmm.h"

#define VMM_ERR_MAX 256

/* ---- util.c ---- */

void vmm_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uint64_t vmm_now_ns(void);	/* CLOCK_MONOTONIC */
uint64_t vmm_realtime_ns(void); /* CLOCK_REALTIME */
/* Copies at most srclen bytes, stopping at NUL, replacing anything that is
 * not printable ASCII with '?'. dst is always NUL-terminated. */
void vmm_sanitize(char *dst, size_t dstlen, const void *src, size_t srclen);
/* Diagnostics of the VMM itself: stderr of the VMM process, never the
 * job's stdout. */
void vmm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Scatter-gather helpers over host iovecs (already validated guest
 * buffers). Both return the bytes copied. */
size_t iov_to(const struct iovec *iov, unsigned n, size_t off, const void *src,
	      size_t len);
size_t iov_from(const struct iovec *iov, unsigned n, size_t off, void *dst,
		size_t len);
/* Fills dst with the part [off, off+len) of iov; returns the entries used
 * (at most max). */
unsigned iov_slice(const struct iovec *iov, unsigned n, size_t off, size_t len,
		   struct iovec *dst, unsigned max);

/* ---- mem.c ---- */

struct guest_mem {
	uint8_t *base; /* host mapping of guest-physical 0 */
	uint64_t size; /* bytes of RAM, a multiple of the page size */
	int fd;	       /* the memfd behind it; -1 if none */
	/* Pages the VMM itself wrote (KVM's dirty log sees only the
	 * guest's writes): one bit per page, for the revert. */
	uint64_t *host_dirty;
};

int gm_create(struct guest_mem *gm, uint64_t size, char *err);
void gm_destroy(struct guest_mem *gm);
/*
 * THE accessor: a host pointer to guest-physical [gpa, gpa + len), or NULL
 * unless that range lies entirely inside RAM. Every guest-physical access in
 * the VMM goes through here.
 */
void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);
/* Records that the VMM writes [gpa, gpa + len) (clipped to RAM). Every
 * write through a gm_ptr pointer is paired with one. */
void gm_mark(const struct guest_mem *gm, uint64_t gpa, uint64_t len);
int gm_read(const struct guest_mem *gm, uint64_t gpa, void *dst, uint64_t len);
int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src,
	     uint64_t len);
/* Zeroes guest RAM; large page-aligned parts are released to the memfd
 * instead of being touched. */
int gm_zero(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* ---- cpustate.c ---- */

#define CPU_STATE_MSRS 5
struct cpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_debugregs dregs;
	/* struct kvm_xsave, when has_xsave; a plain array because newer
	 * headers end that struct in a flexible member. */
	uint32_t xsave[4096]; /* room for KVM_CAP_XSAVE2 sizes (AMX) */
	struct kvm_fpu fpu;     /* otherwise */
	bool has_xsave;
	uint64_t msr[CPU_STATE_MSRS];
};
struct kvm_vm;
int cpu_state_save(const struct kvm_vm *vm, struct cpu_state *c, char *err);
int cpu_state_restore(const struct kvm_vm *vm, const struct cpu_state *c,
		      char *err);

/* ---- snapshot.c ---- */

/* Past 1/SNAPSHOT_FULL_RATIO of RAM dirty, copy everything back instead. */
#define SNAPSHOT_FULL_RATIO 4
/* With the manual dirty log, pages a job wrote stay writable and are
 * copied back after every later job too, until more than this many are:
 * then they are write-protected again. */
#define SNAPSHOT_HOT_MAX 512

struct snap_range {
	uint64_t lo, hi; /* guest-physical bytes that held data */
};

struct snapshot {
	uint8_t *saved; /* RAM at the snapshot; a private, sparse copy */
	uint64_t size;
	struct snap_range *ranges;
	size_t nranges, cap_ranges;
	uint64_t data_pages;
	uint64_t *dirty; /* one bit per page: to be copied back */
	bool reprotect;  /* the last restore asks for a fresh dirty log */
	struct cpu_state cpu;
};

/* Starts KVM's dirty log for guest RAM (before the guest first runs). */
int snapshot_track(struct kvm_vm *vm, const struct guest_mem *gm, char *err);
/* Snapshots RAM and vCPU; the guest must be stopped at a clean point. */
int snapshot_take(struct snapshot *s, struct kvm_vm *vm, struct guest_mem *gm,
		  char *err);
/* Puts RAM and vCPU back as they were at snapshot_take. */
int snapshot_revert(struct snapshot *s, struct kvm_vm *vm,
		    struct guest_mem *gm, struct vmm_revert_stats *st,
		    char *err);
void snapshot_free(struct snapshot *s);
/* The memory halves alone (no KVM), for tests: copy RAM, and copy back
 * the pages in s->dirty or gm->host_dirty. */
int snapshot_memory(struct snapshot *s, const struct guest_mem *gm, char *err);
int snapshot_restore_memory(struct snapshot *s, struct guest_mem *gm,
			    struct vmm_revert_stats *st, char *err);

/* ---- boot.c: memory layout ---- */

/*
 * Page tables sit at the top of RAM: first the PT pages covering RAM (so the
 * PTEs form one flat array indexed by address >> 12), then the page
 * directories, the page directory and table of the MMIO windows, the PDPT
 * and the PML4.
 */
struct vm_layout {
	uint64_t mem_bytes;
	uint64_t job_base, job_end; /* job_end == pt_base */
	uint64_t pt_base;
	uint64_t pte_gpa; /* == pt_base */
	uint64_t n_pt;	  /* PT pages covering RAM */
	uint64_t pd_gpa;  /* n_pd page directories covering RAM */
	uint64_t n_pd;
	uint64_t mmio_pd_gpa, mmio_pt_gpa;
	uint64_t pdpt_gpa, pml4_gpa;
};

int layout_init(struct vm_layout *l, uint64_t mem_bytes, char *err);

/* ---- boot.c: guest kernel and boot state ---- */

#define KERNEL_PAGES ((AL_JOB_GPA - AL_KERNEL_GPA) / AL_PAGE_SIZE)
#define KPAGE_P 1u /* some segment covers the page */
#define KPAGE_W 2u
#define KPAGE_X 4u

struct kernel_info {
	struct al_kernel_header hdr;
	uint8_t page_flags[KERNEL_PAGES]; /* KPAGE_* per kernel page */
};

/* Loads the kernel ELF image's segments into guest RAM. */
int boot_load_kernel(const struct guest_mem *gm, const void *image, size_t len,
		     struct kernel_info *ki, char *err);
/* Writes the page tables, GDT, TSS and IDT. */
int boot_build_tables(const struct guest_mem *gm, const struct vm_layout *l,
		      const struct kernel_info *ki, unsigned mmio_count,
		      char *err);
/* Writes the boot information block (without the clock). */
int boot_write_bootinfo(const struct guest_mem *gm, const struct vm_layout *l,
			const struct al_mmio_slot *slots, unsigned mmio_count,
			uint64_t tsc_khz, uint32_t flags, char *err);
/* Fresh random bytes in bootinfo (struct al_fresh), for the next job of
 * a warm VM. */
int boot_reseed(const struct guest_mem *gm, char *err);
int boot_set_clock(const struct guest_mem *gm, uint64_t tsc_base,
		   uint64_t realtime_ns);

struct kvm_sregs;
struct kvm_regs;
/* The register state of boot.h's "CPU state at entry". */
void boot_sregs(struct kvm_sregs *s, uint64_t cr3, bool smep);
void boot_regs(struct kvm_regs *r, const struct al_kernel_header *k);

/* ---- kvm.c ---- */

struct kvm_run;

struct kvm_vm {
	int vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	uint64_t tsc_khz;
	bool smep; /* the CPU offers SMEP */
	/* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: pages the log names stay
	 * writable until we clear them (snapshot.c). */
	bool dirty_manual;
	/* KVM_CAP_SYNC_REGS: registers and segment registers can reach
	 * the next KVM_RUN through kvm_run, without an ioctl each. */
	bool sync_regs;
};

int kvm_vm_create(struct kvm_vm *vm, int kvm_fd, char *err);
/* Guest RAM as memory slot 0; flags: KVM_MEM_* (dirty logging). Called
 * again to change the flags. */
int kvm_vm_set_memory(struct kvm_vm *vm, const struct guest_mem *gm,
		      uint32_t flags, char *err);
void kvm_vm_destroy(struct kvm_vm *vm);
/* Sets sregs, regs and the syscall MSRs for the kernel's entry. */
int kvm_vm_boot_cpu(struct kvm_vm *vm, const struct vm_layout *l,
		    const struct al_kernel_header *k, char *err);
int kvm_vm_read_tsc(struct kvm_vm *vm, uint64_t *tsc, char *err);
/* Guest RIP for messages; 0 if it cannot be read. */
uint64_t kvm_vm_rip(struct kvm_vm *vm);

/* ---- elf.c ---- */

#define VMM_STACK_DEFAULT (8ull << 20)

/*
 * Re-checks the job (the file may have changed since vmm_check_job) and
 * writes its segments and its ELF + program headers into guest RAM.
 * *hdr_len receives the bytes valid at AL_JOBHDR_GPA.
 */
enum vmm_job_check job_load(const struct guest_mem *gm, int fd,
			    const char *name, uint64_t stack_bytes,
			    struct vmm_job_image *img, uint32_t *hdr_len,
			    char *err, size_t errlen);

/* ---- virtq.c ---- */

#define VQ_MAX_SIZE 256u
/* No guest chain may describe more bytes than this (a request never needs
 * more; it keeps every length sum far from overflow). */
#define VQ_MAX_CHAIN_BYTES (1ull << 30)

struct virtq {
	uint16_t num; /* queue size, a power of two <= VQ_MAX_SIZE */
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t last_avail; /* next avail ring entry the device reads */
	uint16_t used_idx;   /* next used ring entry the device writes */
};

/* One descriptor chain as host buffers: iov[0..nr) device-readable, then
 * iov[nr..nr+nw) device-writable. */
struct vq_chain {
	uint16_t head;
	unsigned nr, nw;
	uint64_t rlen, wlen;
	struct iovec iov[VQ_MAX_SIZE];
};

/* Checks the size and that the rings lie in RAM; on success ready may be
 * set. */
int vq_validate(const struct guest_mem *gm, const struct virtq *vq, char *err);
/* 1: a chain was taken; 0: none available; -1: malformed ring or chain. */
int vq_pop(const struct guest_mem *gm, struct virtq *vq, struct vq_chain *c,
	   char *err);
/* Gives back the chain just popped (nothing was written to it). */
void vq_unpop(struct virtq *vq);
int vq_push(const struct guest_mem *gm, struct virtq *vq, uint16_t head,
	    uint32_t len, char *err);
/* Whether the driver has made chains available (-1 if the ring is bad). */
int vq_pending(const struct guest_mem *gm, const struct virtq *vq);

/* ---- mmio.c ---- */

#define VIRTIO_MAX_QUEUES 3

struct virtio_dev {
	/* filled in by the device model */
	uint32_t device_id;
	uint64_t features; /* offered in addition to VIRTIO_F_VERSION_1 */
	unsigned num_queues;
	/* -1 ends the VM with err set */
	int (*notify)(struct virtio_dev *d, unsigned queue);
	void (*read_config)(struct virtio_dev *d, uint32_t off, void *buf,
			    uint32_t len);
	void (*reset)(struct virtio_dev *d);

	/* transport state */
	const struct guest_mem *gm;
	uint64_t gpa; /* window base */
	uint32_t status;
	uint32_t dev_features_sel, drv_features_sel;
	uint64_t drv_features;
	uint32_t queue_sel;
	uint32_t isr;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	char err[VMM_ERR_MAX];
};

void mmio_init(struct virtio_dev *d, const struct guest_mem *gm, uint64_t gpa);
/* A guest access at window offset off; data holds len (1, 2, 4 or 8)
 * bytes. Returns -1 (d->err set) when the VM must end. */
int mmio_access(struct virtio_dev *d, uint64_t off, void *data, uint32_t len,
		bool is_write);
bool mmio_driver_ok(const struct virtio_dev *d);

/* ---- control.c ---- */

enum ctl_state {
	CTL_BOOTING, /* waiting for READY */
	CTL_READY,   /* READY seen, JOB not sent yet */
	CTL_RUNNING, /* JOB sent */
	CTL_DONE,    /* RESULT, EXEC_ERROR or DRIVE_ERROR seen */
};

struct vmm_control {
	enum ctl_state state;
	bool exec_error;       /* the job never started: exec_msg says why */
	unsigned drive_error;  /* with exec_error: 1 + the drive that would
				  not mount, or 0 */
	struct al_result_msg result;
	char exec_msg[AL_EXEC_ERROR_MAX + 1];
	bool verbose;
	/* framing of guest -> host bytes */
	struct al_msg_hdr hdr;
	uint32_t hdr_got;
	uint8_t payload[AL_EXEC_ERROR_MAX];
	uint32_t payload_got;
	/* ENOSYS numbers already named */
	uint8_t enosys_seen[1024 / 8];
	uint32_t enosys_other[16]; /* numbers past the bitmap */
	unsigned n_enosys_other;
};

void control_init(struct vmm_control *c, bool verbose);
/* Guest -> host control-stream bytes. -1 on a protocol error. */
int control_feed(struct vmm_control *c, const uint8_t *p, size_t len,
		 char *err);
/* Checks argv + envp against AL_ARGS_MAX_*; -1 with "argument list too
 * long" in err otherwise. */
int control_check_args(char *const *argv, char *const *envp, uint32_t *count,
		       uint32_t *bytes, char *err);
/* Builds the JOB message (header + struct al_job + strings), malloc'd.
 * drives: ndrives (at most AL_DRIVES_MAX) entries for al_job.drives. */
int control_build_job(char *const *argv, char *const *envp,
		      const struct vmm_job_image *img, uint32_t hdr_len,
		      uint64_t stack_bytes, const struct al_job_drive *drives,
		      uint32_t ndrives, uint8_t **msg, size_t *len, char *err);
/* Adds the guest's part of the policy (refused syscalls) and the job's
 * AL_JOB_F_* flags to a JOB message control_build_job made. */
void control_job_policy(uint8_t *msg, const struct vmm_config *cfg,
			uint32_t flags);

/* ---- vsock.c ---- */

/* Streams 0-3 are airlock's own (proto.h); the policy's host sockets
 * follow, one slot per mapped port. */
enum { VS_CONTROL, VS_STDIN, VS_STDOUT, VS_STDERR, VS_NSTREAMS };
#define VS_PROXY_MAX VMM_VSOCK_PORTS_MAX
#define VS_MAX (VS_NSTREAMS + VS_PROXY_MAX)
#define VS_RST_MAX 16
/* Host descriptors vsock_poll_fds may return: stdin, stdout, stderr and
 * one per proxy. */
#define VSOCK_POLL_MAX (3 + VS_PROXY_MAX)

enum vs_kind {
	VS_KIND_CONTROL, /* messages both ways, no host fd */
	VS_KIND_INPUT,	 /* host fd -> guest */
	VS_KIND_OUTPUT,	 /* guest -> host fd */
	VS_KIND_PROXY,	 /* both ways between the guest and a host socket */
};

struct vs_stream {
	enum vs_kind kind;
	char name[24]; /* for messages: "stdout", "port 5000" */
	uint32_t host_port, guest_port;
	bool open; /* connected */
	bool used; /* was connected once; never reopened */
	bool want_response, want_credit, want_rst;
	bool shutdown_sent;
	bool host_shut; /* proxy: the host socket was shut down for writing */
	uint32_t peer_shut; /* VIRTIO_VSOCK_SHUTDOWN_* the guest sent */
	/* host -> guest: the guest's credit */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	/* guest -> host: our credit */
	uint32_t rx_cnt, fwd_cnt, fwd_sent;
	/* host side */
	int fd;	      /* -1: discard output / empty input / unreachable */
	bool eof;     /* input: nothing more to read */
	bool blocked; /* input: read would block in this pass */
	struct vmm_stream_stats *stats;
	uint64_t room; /* bytes the policy still lets through this stream */
	uint8_t *buf; /* output not yet written, ring of AL_HOST_STREAM_BUF */
	uint32_t buf_head, buf_len;
	uint8_t *out; /* control: message bytes to send to the guest */
	size_t out_len, out_off;
};

struct vsock {
	struct virtio_dev vdev; /* first: the transport hands us this */
	struct vs_stream s[VS_MAX];
	struct {
		uint32_t src_port, dst_port; /* of the RST we send */
	} rst[VS_RST_MAX];
	unsigned nrst;
	struct vmm_control *ctl;
	/* Counters of the streams nobody reports on. */
	struct vmm_stream_stats ctl_stats, proxy_stats[VS_PROXY_MAX];
	unsigned rx_pushed; /* packets given to the guest, for the run loop */
	struct vq_chain chain;
};

struct pollfd;

struct vsock_fds {
	int in, out, err;
	struct vmm_stream_stats *in_stats, *out_stats, *err_stats;
	uint64_t in_max, out_max, err_max; /* bytes each stream may carry */
	const struct vmm_vsock_port *ports; /* the job's host sockets */
	unsigned nports;		    /* at most VS_PROXY_MAX */
	/* in < 0 reads as empty, unless a later attach brings the input
	 * (serve --preload: the jobs resumed at the point). */
	bool in_later;
};

void vsock_init(struct vsock *vs, const struct guest_mem *gm, uint64_t gpa,
		struct vmm_control *ctl, const struct vsock_fds *fds);
void vsock_destroy(struct vsock *vs);
/* Binds the streams to a job's descriptors, counters and caps. */
void vsock_attach(struct vsock *vs, const struct vsock_fds *fds);
/* The device at the pristine point, and back to it after a job (its
 * buffers freed). Saving fails while bytes are in flight. */
int vsock_save(const struct vsock *vs, struct vsock *snap, char *err);
void vsock_restore(struct vsock *vs, const struct vsock *snap);
/* The device rule: consume all TX chains, then fill RX chains. */
int vsock_process(struct vsock *vs);
/* Writes buffered output to the host fds; queues credit updates. */
void vsock_flush(struct vsock *vs);
/* The guest halted: tell it about every credit it has not heard of. */
void vsock_on_halt(struct vsock *vs);
/* Takes ownership of msg (malloc'd); sent on the control stream. */
void vsock_send_control(struct vsock *vs, uint8_t *msg, size_t len);
/* Fills fds with the host descriptors worth waiting for; returns how many
 * (at most VSOCK_POLL_MAX). */
unsigned vsock_poll_fds(struct vsock *vs, struct pollfd *fds);
/* Output still buffered on the host side. */
bool vsock_buffered(const struct vsock *vs);
/* Gives up on buffered output (marks those streams truncated). */
void vsock_drop_buffered(struct vsock *vs);
/* Why the guest may be waiting, for "nothing to wait for" messages. */
void vsock_describe_wait(const struct vsock *vs, char *buf, size_t len);

/* ---- blk.c ---- */

/* Data bytes one request may carry (IOERR beyond): what size_max and
 * seg_max announce, BLK_MAX_DATA / BLK_SEG_BYTES segments of BLK_SEG_BYTES. */
#define BLK_MAX_DATA (4u << 20)
#define BLK_SEG_BYTES (1u << 20)
/* The overlays of writable drives: dirty chunks of BLK_CHUNK_SIZE bytes, at
 * most BLK_OVERLAY_MAX bytes of them for all drives of a VM together. */
#define BLK_CHUNK_SIZE 4096u
#define BLK_OVERLAY_MAX (64u << 20)

struct blk_overlay {
	struct {
		uint64_t chunk;
		uint8_t *data; /* BLK_CHUNK_SIZE bytes; NULL: slot empty */
	} *slot;
	uint32_t cap; /* slots, a power of two; 0 before the first write */
	uint32_t used;
};

struct blk {
	struct virtio_dev vdev; /* first: the transport hands us this */
	int fd;			/* the image, only ever pread */
	uint64_t sectors;	/* capacity: the image size rounded up */
	bool writable;
	unsigned index; /* drive number, for messages and GET_ID */
	struct blk_overlay ov;
	uint32_t *room; /* chunks the VM's overlays may still take */
	struct vq_chain chain;
	struct iovec part[VQ_MAX_SIZE]; /* a slice of the chain's buffers */
};

/* Checks the image (a regular file) and sets up the device for drive
 * number index at window gpa. overlay_room is shared by the VM's drives and
 * starts at BLK_OVERLAY_MAX / BLK_CHUNK_SIZE. */
int blk_init(struct blk *b, const struct guest_mem *gm, uint64_t gpa,
	     const struct vmm_drive *drive, unsigned index,
	     uint32_t *overlay_room, char *err);
/* Frees the overlay; the image descriptor stays the caller's. */
void blk_destroy(struct blk *b);
/* Back to the pristine point: the overlay dropped, the transport and
 * queues as saved in vdev. */
void blk_restore(struct blk *b, const struct virtio_dev *vdev);
/* Serves every available request (what a notify does). -1 (vdev.err set)
 * only when the ring itself is broken. */
int blk_process(struct blk *b);

/* ---- syscalls.c ---- */

const char *syscall_name(uint32_t nr); /* NULL if unknown */

#endif
