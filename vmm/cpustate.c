/*
 * The vCPU's whole architectural state, saved at the pristine point and put
 * back after every job: registers, segment and control registers, FPU/SSE/
 * AVX (XSAVE where KVM offers it), debug registers and the MSRs the guest
 * kernel or a job can change. Nothing a job leaves in a register survives.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "vmm/vmm_impl.h"

/* STAR, LSTAR and SFMASK are the kernel's; KERNEL_GS_BASE and TSC_AUX can
 * be written from ring 0. FS and GS bases travel in sregs. */
static const uint32_t saved_msrs[CPU_STATE_MSRS] = {
    0xc0000081u, 0xc0000082u, 0xc0000084u, 0xc0000102u, 0xc0000103u,
};

static int vcpu_ioctl(const struct kvm_vm *vm, unsigned long req, void *arg,
		      const char *name, char *err)
{
	int rc;
	do
		rc = ioctl(vm->vcpu_fd, req, arg);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		vmm_errf(err, VMM_ERR_MAX, "%s: %s", name, strerror(errno));
	return rc;
}

static int msrs_io(const struct kvm_vm *vm, struct cpu_state *c, bool set,
		   char *err)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[CPU_STATE_MSRS];
	} m;
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = CPU_STATE_MSRS;
	for (unsigned i = 0; i < CPU_STATE_MSRS; i++) {
		m.e[i].index = saved_msrs[i];
		m.e[i].data = c->msr[i];
	}
	int n = vcpu_ioctl(vm, set ? KVM_SET_MSRS : KVM_GET_MSRS, &m,
			   set ? "KVM_SET_MSRS" : "KVM_GET_MSRS", err);
	if (n < 0)
		return -1;
	if (n != CPU_STATE_MSRS) {
		vmm_errf(err, VMM_ERR_MAX, "%s: MSR 0x%x refused",
			 set ? "KVM_SET_MSRS" : "KVM_GET_MSRS",
			 saved_msrs[n]);
		return -1;
	}
	for (unsigned i = 0; !set && i < CPU_STATE_MSRS; i++)
		c->msr[i] = m.e[i].data;
	return 0;
}

int cpu_state_save(const struct kvm_vm *vm, struct cpu_state *c, char *err)
{
	memset(c, 0, sizeof(*c));
	if (vcpu_ioctl(vm, KVM_GET_REGS, &c->regs, "KVM_GET_REGS", err) < 0 ||
	    vcpu_ioctl(vm, KVM_GET_SREGS, &c->sregs, "KVM_GET_SREGS", err) <
		0 ||
	    vcpu_ioctl(vm, KVM_GET_DEBUGREGS, &c->dregs, "KVM_GET_DEBUGREGS",
		       err) < 0 ||
	    msrs_io(vm, c, false, err) < 0)
		return -1;
	/* XSAVE covers what KVM_GET_FPU does and the AVX state beside it. */
	c->has_xsave = ioctl(vm->vcpu_fd, KVM_GET_XSAVE, c->xsave) == 0;
	if (!c->has_xsave &&
	    vcpu_ioctl(vm, KVM_GET_FPU, &c->fpu, "KVM_GET_FPU", err) < 0)
		return -1;
	return 0;
}

/* Registers and segment registers through kvm_run where KVM takes them
 * there: the next KVM_RUN loads them, two ioctls fewer per revert. */
static int set_regs(const struct kvm_vm *vm, const struct cpu_state *c,
		    char *err)
{
	if (vm->sync_regs) {
		vm->run->s.regs.regs = c->regs;
		vm->run->s.regs.sregs = c->sregs;
		vm->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
		return 0;
	}
	if (vcpu_ioctl(vm, KVM_SET_SREGS, (void *)&c->sregs, "KVM_SET_SREGS",
		       err) < 0 ||
	    vcpu_ioctl(vm, KVM_SET_REGS, (void *)&c->regs, "KVM_SET_REGS",
		       err) < 0)
		return -1;
	return 0;
}

/* The SET ioctls only read their buffers: const is cast away for them. */
int cpu_state_restore(const struct kvm_vm *vm, const struct cpu_state *c,
		      char *err)
{
	struct cpu_state *w = (struct cpu_state *)c;
	if (set_regs(vm, c, err) < 0 ||
	    vcpu_ioctl(vm, KVM_SET_DEBUGREGS, &w->dregs, "KVM_SET_DEBUGREGS",
		       err) < 0 ||
	    msrs_io(vm, w, true, err) < 0)
		return -1;
	if (c->has_xsave)
		return vcpu_ioctl(vm, KVM_SET_XSAVE, w->xsave, "KVM_SET_XSAVE",
				  err) < 0
			   ? -1
			   : 0;
	return vcpu_ioctl(vm, KVM_SET_FPU, &w->fpu, "KVM_SET_FPU", err) < 0
		   ? -1
		   : 0;
}
