/*
 * Exceptions. From ring 3 the job dies of the signal Linux would send (no
 * handler ever runs: fault signals are fatal here); from ring 0 the guest
 * kernel is broken and panics. NMI, #DF and #MC always panic.
 */
#include "gk.h"

static const char *const vector_names[AL_KHDR_VECTORS] = {
	"#DE divide error",
	"#DB debug",
	"NMI",
	"#BP breakpoint",
	"#OF overflow",
	"#BR bound range",
	"#UD invalid opcode",
	"#NM device not available",
	"#DF double fault",
	"coprocessor segment overrun",
	"#TS invalid TSS",
	"#NP segment not present",
	"#SS stack fault",
	"#GP general protection",
	"#PF page fault",
	"reserved vector",
	"#MF x87 floating-point error",
	"#AC alignment check",
	"#MC machine check",
	"#XM SIMD floating-point error",
	"#VE virtualization exception",
	"#CP control protection",
	"reserved vector",
	"reserved vector",
	"reserved vector",
	"reserved vector",
	"reserved vector",
	"reserved vector",
	"#HV hypervisor injection",
	"#VC VMM communication",
	"#SX security exception",
	"reserved vector",
};

static int signal_for(uint64_t vector)
{
	switch (vector) {
	case 0: /* #DE */
	case 16: /* #MF */
	case 19: /* #XM */
		return GK_SIGFPE;
	case 1: /* #DB */
	case 3: /* #BP */
		return GK_SIGTRAP;
	case 6: /* #UD */
	case 7: /* #NM: the FPU is always on; treat as a bad instruction */
		return GK_SIGILL;
	case 11: /* #NP */
	case 17: /* #AC */
		return GK_SIGBUS;
	default: /* #PF, #GP (in/out/hlt/cli in ring 3), #SS, the rest */
		return GK_SIGSEGV;
	}
}

void gk_exception(struct gk_trapframe *tf)
{
	uint64_t v = tf->vector < AL_KHDR_VECTORS ? tf->vector : 15;
	uint64_t cr2 = v == 14 ? pf_read_cr2() : 0;
	bool fatal_anyway = v == 2 || v == 8 || v == 18;
	if ((tf->cs & 3) == 3 && !fatal_anyway)
		proc_kill(signal_for(v), cr2, tf->rip);
	gk_panic("%s (vector %u) in the guest kernel at rip %x, cr2 %x, "
		 "error code %x, rsp %x",
		 vector_names[v], v, tf->rip, cr2, tf->error, tf->rsp);
}
