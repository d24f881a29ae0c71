/*
 * VM and vCPU lifecycle. One vCPU, no in-kernel irqchip (it costs ~24 ms per
 * VM on PVM, and the built-in guest kernel polls its queues), guest RAM in
 * memory slot 0 at guest-physical 0.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "vmm/vmm_impl.h"

#define MSR_IA32_TSC 0x00000010u
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_SYSCALL_MASK 0xc0000084u

/* A zeroed, aligned buffer for struct kvm_msrs with n entries. */
#define MSR_BUF(name, n)                                                       \
	uint64_t name[(sizeof(struct kvm_msrs) +                               \
		       (n) * sizeof(struct kvm_msr_entry) + 7) /               \
		      8];                                                      \
	memset(name, 0, sizeof(name))

/* Identity-map and TSS pages KVM needs on Intel for real-mode emulation;
 * outside RAM (< 2 GiB) and the MMIO windows. */
#define KVM_TSS_GPA 0xfffbd000ull

/*
 * What does not change between VMs of one process: the supported CPUID
 * (KVM_GET_SUPPORTED_CPUID costs ~600 us on PVM) and the kvm_run size.
 */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kvm_cpuid2 *cached_cpuid;
static int cached_run_size;
static bool cached_smep;
static bool cached_tss_cap;

static int kvm_ioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do
		r = ioctl(fd, req, arg);
	while (r < 0 && errno == EINTR);
	return r;
}

static struct kvm_cpuid2 *fetch_cpuid(int kvm_fd, char *err)
{
	for (unsigned n = 128; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c =
		    calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
		if (!c) {
			vmm_errf(err, VMM_ERR_MAX, "out of memory for CPUID");
			return NULL;
		}
		c->nent = n;
		if (kvm_ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		int e = errno;
		free(c);
		if (e != E2BIG) {
			vmm_errf(err, VMM_ERR_MAX,
				 "KVM_GET_SUPPORTED_CPUID: %s", strerror(e));
			return NULL;
		}
	}
	vmm_errf(err, VMM_ERR_MAX, "KVM_GET_SUPPORTED_CPUID: too many entries");
	return NULL;
}

static bool cpuid_has_smep(const struct kvm_cpuid2 *c)
{
	for (unsigned i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function == 7 && e->index == 0)
			return (e->ebx >> 7) & 1;
	}
	return false;
}

static int load_cache(int kvm_fd, char *err)
{
	int ret = 0;

	pthread_mutex_lock(&cache_lock);
	if (cached_cpuid)
		goto out;
	int v = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION) {
		vmm_errf(err, VMM_ERR_MAX,
			 "KVM_GET_API_VERSION: %s (got %d, need %d)",
			 v < 0 ? strerror(errno) : "unsupported version", v,
			 KVM_API_VERSION);
		ret = -1;
		goto out;
	}
	int sz = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run)) {
		vmm_errf(err, VMM_ERR_MAX, "KVM_GET_VCPU_MMAP_SIZE: %s",
			 sz < 0 ? strerror(errno) : "size too small");
		ret = -1;
		goto out;
	}
	/* KVM_RUN must be interruptible without a race (see run.c). */
	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0) {
		vmm_errf(err, VMM_ERR_MAX,
			 "KVM lacks KVM_CAP_IMMEDIATE_EXIT (Linux 4.11+)");
		ret = -1;
		goto out;
	}
	struct kvm_cpuid2 *c = fetch_cpuid(kvm_fd, err);
	if (!c) {
		ret = -1;
		goto out;
	}
	cached_tss_cap =
	    ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0;
	cached_run_size = sz;
	cached_smep = cpuid_has_smep(c);
	cached_cpuid = c;
out:
	pthread_mutex_unlock(&cache_lock);
	return ret;
}

/*
 * The first KVM_RUN of a VM makes KVM start a kernel worker task of ours
 * (the NX huge page recovery thread), charged to our uid: under the jail's
 * RLIMIT_NPROC of 0 that KVM_RUN fails with EAGAIN. Make it now, with
 * immediate_exit so that no guest instruction runs; the jail sets
 * RLIMIT_NPROC only at lock-down.
 */
static int prime_vcpu(struct kvm_vm *vm, char *err)
{
	vm->run->immediate_exit = 1;
	int r = ioctl(vm->vcpu_fd, KVM_RUN, 0);
	int e = errno;
	vm->run->immediate_exit = 0;
	if (r < 0 && e != EINTR) {
		vmm_errf(err, VMM_ERR_MAX, "KVM_RUN (first, immediate exit): %s",
			 strerror(e));
		return -1;
	}
	return 0;
}

#define SYNC_REGS_USED (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)

int kvm_vm_create(struct kvm_vm *vm, int kvm_fd, char *err)
{
	memset(vm, 0, sizeof(*vm));
	vm->vm_fd = vm->vcpu_fd = -1;
	vm->run = MAP_FAILED;

	if (load_cache(kvm_fd, err) < 0)
		return -1;
	do
		vm->vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0) {
		vmm_errf(err, VMM_ERR_MAX, "KVM_CREATE_VM: %s",
			 strerror(errno));
		goto fail;
	}
	if (cached_tss_cap && ioctl(vm->vm_fd, KVM_SET_TSS_ADDR,
				    (unsigned long)KVM_TSS_GPA) < 0) {
		vmm_errf(err, VMM_ERR_MAX, "KVM_SET_TSS_ADDR: %s",
			 strerror(errno));
		goto fail;
	}
	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0) {
		vmm_errf(err, VMM_ERR_MAX, "KVM_CREATE_VCPU: %s",
			 strerror(errno));
		goto fail;
	}
	vm->run_size = (size_t)cached_run_size;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED) {
		vmm_errf(err, VMM_ERR_MAX, "mmap of kvm_run: %s",
			 strerror(errno));
		goto fail;
	}
	/* Before KVM_SET_SREGS: KVM checks CR4 bits against guest CPUID. */
	if (kvm_ioctl(vm->vcpu_fd, KVM_SET_CPUID2, cached_cpuid) < 0) {
		vmm_errf(err, VMM_ERR_MAX, "KVM_SET_CPUID2: %s",
			 strerror(errno));
		goto fail;
	}
	int khz = ioctl(vm->vcpu_fd, KVM_GET_TSC_KHZ, 0);
	if (khz <= 0) {
		vmm_errf(err, VMM_ERR_MAX, "KVM_GET_TSC_KHZ: %s",
			 khz < 0 ? strerror(errno) : "returned 0");
		goto fail;
	}
	vm->tsc_khz = (uint64_t)khz;
	vm->smep = cached_smep;
	int sync = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
	vm->sync_regs = sync > 0 && (sync & SYNC_REGS_USED) == SYNC_REGS_USED;
	if (prime_vcpu(vm, err) < 0)
		goto fail;
	return 0;
fail:
	kvm_vm_destroy(vm);
	return -1;
}

int kvm_vm_set_memory(struct kvm_vm *vm, const struct guest_mem *gm,
		      uint32_t flags, char *err)
{
	struct kvm_userspace_memory_region r = {
	    .slot = 0,
	    .flags = flags,
	    .guest_phys_addr = 0,
	    .memory_size = gm->size,
	    .userspace_addr = (uint64_t)(uintptr_t)gm->base,
	};

	if (kvm_ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		vmm_errf(err, VMM_ERR_MAX, "KVM_SET_USER_MEMORY_REGION: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
	if (vm->run != MAP_FAILED && vm->run)
		munmap(vm->run, vm->run_size);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	vm->run = MAP_FAILED;
	vm->vcpu_fd = vm->vm_fd = -1;
}

int kvm_vm_boot_cpu(struct kvm_vm *vm, const struct vm_layout *l,
		    const struct al_kernel_header *k, char *err)
{
	struct kvm_sregs s;
	struct kvm_regs r;

	/* Start from KVM's reset state so fields we do not own (APIC base,
	 * pending interrupts) keep values KVM accepts. */
	if (kvm_ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0) {
		vmm_errf(err, VMM_ERR_MAX, "KVM_GET_SREGS: %s",
			 strerror(errno));
		return -1;
	}
	boot_sregs(&s, l->pml4_gpa, vm->smep);
	if (kvm_ioctl(vm->vcpu_fd, KVM_SET_SREGS, &s) < 0) {
		vmm_errf(err, VMM_ERR_MAX, "KVM_SET_SREGS: %s",
			 strerror(errno));
		return -1;
	}
	boot_regs(&r, k);
	if (kvm_ioctl(vm->vcpu_fd, KVM_SET_REGS, &r) < 0) {
		vmm_errf(err, VMM_ERR_MAX, "KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}

	MSR_BUF(buf, 3);
	struct kvm_msrs *m = (struct kvm_msrs *)buf;
	m->nmsrs = 3;
	m->entries[0].index = MSR_STAR;
	m->entries[0].data =
	    ((uint64_t)0x10 << 48) | ((uint64_t)AL_SEL_KCODE << 32);
	m->entries[1].index = MSR_LSTAR;
	m->entries[1].data = k->syscall_entry;
	m->entries[2].index = MSR_SYSCALL_MASK;
	m->entries[2].data = AL_SFMASK;
	int n = kvm_ioctl(vm->vcpu_fd, KVM_SET_MSRS, m);
	if (n != 3) {
		vmm_errf(err, VMM_ERR_MAX,
			 "KVM_SET_MSRS (STAR, LSTAR, SFMASK): %s",
			 n < 0 ? strerror(errno) : "MSR refused");
		return -1;
	}
	return 0;
}

int kvm_vm_read_tsc(struct kvm_vm *vm, uint64_t *tsc, char *err)
{
	MSR_BUF(buf, 1);
	struct kvm_msrs *m = (struct kvm_msrs *)buf;

	m->nmsrs = 1;
	m->entries[0].index = MSR_IA32_TSC;
	if (kvm_ioctl(vm->vcpu_fd, KVM_GET_MSRS, m) != 1) {
		vmm_errf(err, VMM_ERR_MAX, "KVM_GET_MSRS (IA32_TSC): %s",
			 strerror(errno));
		return -1;
	}
	*tsc = m->entries[0].data;
	return 0;
}

uint64_t kvm_vm_rip(struct kvm_vm *vm)
{
	struct kvm_regs r;

	if (kvm_ioctl(vm->vcpu_fd, KVM_GET_REGS, &r) < 0)
		return 0;
	return r.rip;
}
