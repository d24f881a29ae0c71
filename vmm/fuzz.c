/*
 * Fuzzing mode: the job runs to its snapshot point once; then every input
 * (or, for serve --preload, every job) starts from that snapshot and the VM goes back to it afterwards, copying
 * back only the pages the input dirtied. The guest kernel asks for input
 * bytes and reports the input's end through the boot block's struct
 * al_fuzz_state (include/airlock/fuzz.h), each request a `hlt`.
 *
 * Everything in that record is the guest's to forge: offsets and lengths
 * are clipped to the input, buffers go through the checked accessor, and
 * the coverage map is taken once, at the point, and bounded.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/run.h"

#define FUZZ_GPA (AL_BOOTINFO_GPA + offsetof(struct al_bootinfo, fuzz))
#define FIELD_GPA(f) (FUZZ_GPA + offsetof(struct al_fuzz_state, f))

static void put_u64(struct run *r, uint64_t gpa, uint64_t v)
{
	gm_write(&r->gm, gpa, &v, sizeof(v));
}

static void clear_op(struct run *r)
{
	uint32_t none = AL_FUZZ_OP_NONE;
	gm_write(&r->gm, FIELD_GPA(op), &none, sizeof(none));
}

/* input[off..] into the guest's [buf, +len); how many bytes went. */
static void serve_read(struct run *r, uint64_t buf, uint64_t len,
		       uint64_t off)
{
	uint64_t n = off < r->input_len ? r->input_len - off : 0;
	if (n > len)
		n = len;
	if (n && gm_write(&r->gm, buf, r->input + off, n) < 0) {
		run_finish(r, VMM_ERROR,
			   "fuzz input read into 0x%llx+0x%llx, outside RAM",
			   (unsigned long long)buf, (unsigned long long)n);
		return;
	}
	put_u64(r, FIELD_GPA(got), n);
}

/* The job's map, fixed at the point; zeroed so that every input's count
 * starts from nothing. */
static int take_map(struct run *r, const struct al_fuzz_state *st)
{
	if (!st->cov_len)
		return 0;
	if (st->cov_len > AL_COV_MAP_MAX ||
	    !gm_ptr(&r->gm, st->cov_gpa, st->cov_len)) {
		run_finish(r, VMM_ERROR,
			   "coverage map at 0x%llx+0x%llx is outside RAM or "
			   "larger than %u bytes",
			   (unsigned long long)st->cov_gpa,
			   (unsigned long long)st->cov_len, AL_COV_MAP_MAX);
		return -1;
	}
	r->cov_gpa = st->cov_gpa;
	r->cov_len = st->cov_len;
	return gm_zero(&r->gm, r->cov_gpa, r->cov_len);
}

static void on_point(struct run *r, const struct al_fuzz_state *st)
{
	char err[VMM_ERR_MAX];

	if (r->snap.saved) {
		run_finish(r, VMM_ERROR, "the job asked for a second "
					 "fuzzing snapshot point");
		return;
	}
	if (take_map(r, st) < 0)
		return;
	/* What the job wrote before its point goes to the boot's streams,
	 * not into every later input's or job's. */
	if (vsock_process(&r->vs) < 0) {
		run_finish(r, VMM_ERROR, "%s", r->vs.vdev.err);
		return;
	}
	vsock_flush(&r->vs);
	vsock_drop_buffered(&r->vs);
	clear_op(r);
	if (run_save_pristine(r, err) < 0) {
		run_finish(r, VMM_ERROR, "snapshot at the fuzzing point: %s",
			   err);
		return;
	}
	r->pristine = true;
}

static void on_done(struct run *r, const struct al_fuzz_state *st)
{
	r->res->fault_addr = st->fault_addr;
	r->res->fault_rip = st->fault_rip;
	r->res->value = (int)(st->value & 0xff);
	run_finish(r, st->kind == AL_EXIT_SIGNAL ? VMM_SIGNALED : VMM_EXITED,
		   NULL);
}

bool fuzz_on_halt(struct run *r)
{
	struct al_fuzz_state st;

	if (gm_read(&r->gm, FUZZ_GPA, &st, sizeof(st)) < 0 ||
	    st.op == AL_FUZZ_OP_NONE)
		return false;
	switch (st.op) {
	case AL_FUZZ_OP_POINT:
		on_point(r, &st);
		break;
	case AL_FUZZ_OP_READ:
		if (!r->snap.saved) {
			run_finish(r, VMM_ERROR, "fuzz input read before the "
						 "snapshot point");
			break;
		}
		serve_read(r, st.buf, st.len, st.offset);
		clear_op(r);
		break;
	case AL_FUZZ_OP_DONE:
		on_done(r, &st);
		break;
	default:
		run_finish(r, VMM_ERROR, "guest asked for fuzz operation %u",
			   st.op);
		break;
	}
	return true;
}

static struct vmm *start_at_point(const struct vmm_config *cfg,
				  struct vmm_result *res, bool point_only)
{
	uint64_t t0 = vmm_now_ns();
	struct vmm *v = run_alloc(cfg, res);
	if (!v)
		return NULL;
	struct run *r = &v->r;
	if (run_check_all(r, cfg, false) < 0 ||
	    run_check_all(r, cfg, true) < 0) {
		free(v);
		return NULL;
	}
	r->fuzz = true;
	r->point_only = point_only;
	run_set_deadline(r, t0, cfg->timeout_ms);
	if (run_start_vm(r, t0) == 0) {
		run_fds_nonblock(r);
		run_vcpu(r);
		run_fds_restore(r);
	}
	return run_keep(v);
}

struct vmm *vmm_fuzz_start(const struct vmm_config *cfg,
			   struct vmm_result *res)
{
	return start_at_point(cfg, res, false);
}

struct vmm *vmm_boot_at_point(const struct vmm_config *cfg,
			      struct vmm_result *res)
{
	return start_at_point(cfg, res, true);
}

uint64_t vmm_fuzz_map_len(const struct vmm *v)
{
	return v->r.cov_len;
}

/* The point's read (if the point was a read) gets this input's first
 * bytes, and the guest this input's size. */
static void start_input(struct run *r)
{
	struct al_fuzz_state st;

	if (gm_read(&r->gm, FUZZ_GPA, &st, sizeof(st)) < 0)
		return;
	put_u64(r, FIELD_GPA(input_len), r->input_len);
	serve_read(r, st.buf, st.len, 0);
}

static void copy_map(struct run *r, uint8_t *cov, size_t cov_max)
{
	uint64_t t0 = vmm_now_ns();
	uint64_t n = r->cov_len < cov_max ? r->cov_len : cov_max;
	if (n)
		gm_read(&r->gm, r->cov_gpa, cov, n);
	r->res->cov_us = run_us_since(t0);
}

int vmm_fuzz_input(struct vmm *v, const void *data, size_t len,
		   uint64_t timeout_ms, uint8_t *cov, size_t cov_max,
		   struct vmm_result *res)
{
	char err[VMM_ERR_MAX];
	struct run *r = &v->r;
	uint64_t t0 = vmm_now_ns();

	memset(res, 0, sizeof(*res));
	r->res = res;
	r->done = false;
	if (r->broken || !r->pristine || !r->fuzz) {
		run_finish(r, VMM_ERROR, "this VM is not at its fuzzing "
					 "snapshot point: destroy it");
		return -1;
	}
	if (len > AL_FUZZ_INPUT_MAX) {
		run_finish(r, VMM_ERROR, "input of %zu bytes: at most %u",
			   len, AL_FUZZ_INPUT_MAX);
		return 0;
	}
	r->input = data;
	r->input_len = len;
	run_set_deadline(r, t0, timeout_ms);
	if (run_rearm(r, err) < 0) {
		run_finish(r, VMM_ERROR, "%s", err);
		return 0;
	}
	start_input(r);
	r->pristine = false;
	r->t_job = vmm_now_ns();
	if (r->cfg->fuzz_output)
		run_resume_with_output(r);
	else
		run_resume(r);
	res->run_us = run_us_since(r->t_job);
	copy_map(r, cov, cov_max);
	run_timer_disarm(r);
	r->input = NULL;
	return 0;
}

int vmm_fuzz_reset(struct vmm *v, struct vmm_result *res)
{
	struct run *r = &v->r;

	r->res = res;
	if (!r->pristine && !r->broken)
		run_revert(r);
	return r->broken ? -1 : 0;
}
