/*
 * The pristine VM and the way back to it. At the snapshot the guest kernel
 * has booted and waits for a job: its RAM is copied (only the pages that
 * hold data: holes of the memfd stay holes) and the vCPU state saved. After
 * a job only the pages the job dirtied are put back: those KVM's dirty log
 * names (the guest's writes) and those the VMM marked (its own writes into
 * guest RAM: the job's ELF, virtqueue buffers). When most of RAM is dirty
 * one pass over everything is cheaper: the memfd is emptied and the data
 * pages copied back whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "vmm/vmm_impl.h"

static uint64_t words_of(const struct guest_mem *gm)
{
	return (gm->size / AL_PAGE_SIZE + 63) / 64;
}

static int add_range(struct snapshot *s, uint64_t lo, uint64_t hi, char *err)
{
	if (s->nranges == s->cap_ranges) {
		size_t cap = s->cap_ranges ? 2 * s->cap_ranges : 16;
		struct snap_range *r = realloc(s->ranges, cap * sizeof(*r));
		if (!r) {
			vmm_errf(err, VMM_ERR_MAX,
				 "out of memory for the snapshot");
			return -1;
		}
		s->ranges = r;
		s->cap_ranges = cap;
	}
	s->ranges[s->nranges++] = (struct snap_range){lo, hi};
	return 0;
}

/* The data ranges of the memfd (SEEK_DATA/SEEK_HOLE), or all of RAM where
 * the file system cannot say. */
static int find_data(struct snapshot *s, const struct guest_mem *gm,
		     char *err)
{
	off_t pos = 0, end = (off_t)gm->size;
	while (pos < end) {
		off_t lo = lseek(gm->fd, pos, SEEK_DATA);
		if (lo < 0 && errno == ENXIO)
			return 0;
		if (lo < 0)
			return add_range(s, 0, gm->size, err);
		off_t hi = lseek(gm->fd, lo, SEEK_HOLE);
		if (hi < 0 || hi > end)
			hi = end;
		if (add_range(s, (uint64_t)lo, (uint64_t)hi, err) < 0)
			return -1;
		pos = hi;
	}
	return 0;
}

int snapshot_memory(struct snapshot *s, const struct guest_mem *gm, char *err)
{
	memset(s, 0, sizeof(*s));
	s->size = gm->size;
	s->dirty = calloc(words_of(gm), 8);
	/* Private and anonymous: pages never copied in read as zero and
	 * cost nothing. */
	void *p = mmap(NULL, gm->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!s->dirty || p == MAP_FAILED) {
		vmm_errf(err, VMM_ERR_MAX, "out of memory for the snapshot");
		free(s->dirty);
		s->dirty = NULL;
		return -1;
	}
	madvise(p, gm->size, MADV_DONTDUMP);
	s->saved = p;
	if (find_data(s, gm, err) < 0) {
		snapshot_free(s);
		return -1;
	}
	for (size_t i = 0; i < s->nranges; i++) {
		const struct snap_range *r = &s->ranges[i];
		memcpy(s->saved + r->lo, gm_ptr(gm, r->lo, r->hi - r->lo),
		       r->hi - r->lo);
		s->data_pages += (r->hi - r->lo) / AL_PAGE_SIZE;
	}
	memset(gm->host_dirty, 0, words_of(gm) * 8);
	return 0;
}

void snapshot_free(struct snapshot *s)
{
	if (s->saved)
		munmap(s->saved, s->size);
	free(s->ranges);
	free(s->dirty);
	memset(s, 0, sizeof(*s));
}

static uint64_t count_bits(const uint64_t *w, uint64_t n)
{
	uint64_t c = 0;
	for (uint64_t i = 0; i < n; i++)
		c += (uint64_t)__builtin_popcountll(w[i]);
	return c;
}

static void restore_each(const struct snapshot *s, struct guest_mem *gm,
			 uint64_t words)
{
	for (uint64_t i = 0; i < words; i++) {
		for (uint64_t w = s->dirty[i]; w; w &= w - 1) {
			uint64_t off = (i * 64 + (uint64_t)__builtin_ctzll(w)) *
				       AL_PAGE_SIZE;
			memcpy(gm_ptr(gm, off, AL_PAGE_SIZE), s->saved + off,
			       AL_PAGE_SIZE);
		}
	}
}

static int restore_all(const struct snapshot *s, struct guest_mem *gm,
		       char *err)
{
	if (fallocate(gm->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		      (off_t)gm->size) < 0) {
		vmm_errf(err, VMM_ERR_MAX, "fallocate(PUNCH_HOLE) of guest "
					   "memory: %s",
			 strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < s->nranges; i++) {
		const struct snap_range *r = &s->ranges[i];
		memcpy(gm_ptr(gm, r->lo, r->hi - r->lo), s->saved + r->lo,
		       r->hi - r->lo);
	}
	return 0;
}

int snapshot_restore_memory(struct snapshot *s, struct guest_mem *gm,
			    struct vmm_revert_stats *st, char *err)
{
	uint64_t words = words_of(gm);
	uint64_t logged = count_bits(s->dirty, words);
	for (uint64_t i = 0; i < words; i++) {
		s->dirty[i] |= gm->host_dirty[i];
		gm->host_dirty[i] = 0;
	}
	st->pages = count_bits(s->dirty, words);
	st->full = st->pages * SNAPSHOT_FULL_RATIO > gm->size / AL_PAGE_SIZE;
	int rc = 0;
	if (st->full)
		rc = restore_all(s, gm, err);
	else
		restore_each(s, gm, words);
	memset(s->dirty, 0, words * 8);
	s->reprotect = st->full || logged > SNAPSHOT_HOT_MAX;
	return rc;
}

/* KVM's log of the guest's writes since the last call, into s->dirty;
 * reading it also re-arms it. */
static int fetch_dirty_log(struct kvm_vm *vm, struct snapshot *s, char *err)
{
	struct kvm_dirty_log log = {.slot = 0, .dirty_bitmap = s->dirty};
	if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
		vmm_errf(err, VMM_ERR_MAX, "KVM_GET_DIRTY_LOG: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Every page a job writes costs a write fault the first time after the log
 * write-protects it (~30-50 us on PVM), the same pages job after job. With
 * the manual dirty log the pages once written stay writable and named in
 * the log, so each revert copies them back whether this job wrote them or
 * not (a 4 KiB copy is far cheaper than the fault); only when that hot set
 * grows past SNAPSHOT_HOT_MAX are they protected again.
 */
static void enable_manual_log(struct kvm_vm *vm)
{
	struct kvm_enable_cap cap = {
	    .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
	    .args = {KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE}};
	int have = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION,
			 KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
	vm->dirty_manual = have > 0 &&
			   (have & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE) &&
			   ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) == 0;
}

int snapshot_track(struct kvm_vm *vm, const struct guest_mem *gm, char *err)
{
	enable_manual_log(vm);
	return kvm_vm_set_memory(vm, gm, KVM_MEM_LOG_DIRTY_PAGES, err);
}

/* Write-protects every page again and empties the log (s->dirty is the
 * all-ones bitmap KVM wants for that, then zero again). */
static int reprotect_all(struct snapshot *s, struct kvm_vm *vm,
			 const struct guest_mem *gm, char *err)
{
	struct kvm_clear_dirty_log c = {
	    .slot = 0,
	    .num_pages = (uint32_t)(gm->size / AL_PAGE_SIZE),
	    .first_page = 0,
	    .dirty_bitmap = s->dirty};
	if (!vm->dirty_manual)
		return 0;
	memset(s->dirty, 0xff, words_of(gm) * 8);
	int rc = ioctl(vm->vm_fd, KVM_CLEAR_DIRTY_LOG, &c);
	memset(s->dirty, 0, words_of(gm) * 8);
	if (rc < 0) {
		vmm_errf(err, VMM_ERR_MAX, "KVM_CLEAR_DIRTY_LOG: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

int snapshot_take(struct snapshot *s, struct kvm_vm *vm, struct guest_mem *gm,
		  char *err)
{
	if (snapshot_memory(s, gm, err) < 0)
		return -1;
	/* What boot dirtied is in the copy; start the log afresh. */
	if (fetch_dirty_log(vm, s, err) < 0 ||
	    reprotect_all(s, vm, gm, err) < 0 ||
	    cpu_state_save(vm, &s->cpu, err) < 0) {
		snapshot_free(s);
		return -1;
	}
	memset(s->dirty, 0, words_of(gm) * 8);
	return 0;
}

int snapshot_revert(struct snapshot *s, struct kvm_vm *vm,
		    struct guest_mem *gm, struct vmm_revert_stats *st,
		    char *err)
{
	uint64_t t0 = vmm_now_ns();
	if (fetch_dirty_log(vm, s, err) < 0 ||
	    snapshot_restore_memory(s, gm, st, err) < 0 ||
	    (s->reprotect && reprotect_all(s, vm, gm, err) < 0))
		return -1;
	uint64_t t1 = vmm_now_ns();
	if (cpu_state_restore(vm, &s->cpu, err) < 0)
		return -1;
	uint64_t t2 = vmm_now_ns();
	st->us = (t2 - t0) / 1000;
	st->vcpu_us = (t2 - t1) / 1000;
	return 0;
}
