/*
 * Guest RAM: a memfd mapped shared, so that a later snapshot can share pages
 * with the pristine image. gm_ptr is the only way the VMM turns a
 * guest-physical address into a host pointer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/vmm_impl.h"

int gm_create(struct guest_mem *gm, uint64_t size, char *err)
{
	gm->base = NULL;
	gm->size = 0;
	gm->fd = -1;
	gm->host_dirty = NULL;
	if (size == 0 || size % AL_PAGE_SIZE != 0) {
		vmm_errf(err, VMM_ERR_MAX,
			 "guest memory size %llu is not a positive multiple "
			 "of the page size",
			 (unsigned long long)size);
		return -1;
	}
	int fd = memfd_create("airlock-guest", MFD_CLOEXEC);
	if (fd < 0) {
		vmm_errf(err, VMM_ERR_MAX, "memfd_create: %s", strerror(errno));
		return -1;
	}
	if (ftruncate(fd, (off_t)size) < 0) {
		vmm_errf(err, VMM_ERR_MAX, "ftruncate of guest memory: %s",
			 strerror(errno));
		close(fd);
		return -1;
	}
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		vmm_errf(err, VMM_ERR_MAX,
			 "mmap of %llu MiB of guest memory: %s",
			 (unsigned long long)(size >> 20), strerror(errno));
		close(fd);
		return -1;
	}
	uint64_t *dirty = calloc((size / AL_PAGE_SIZE + 63) / 64, 8);
	if (!dirty) {
		vmm_errf(err, VMM_ERR_MAX, "out of memory for the dirty map");
		munmap(p, size);
		close(fd);
		return -1;
	}
	/* Guest memory holds the job's data: keep it out of core dumps. */
	madvise(p, size, MADV_DONTDUMP);
	gm->host_dirty = dirty;
	gm->base = p;
	gm->size = size;
	gm->fd = fd;
	return 0;
}

void gm_destroy(struct guest_mem *gm)
{
	if (gm->base)
		munmap(gm->base, gm->size);
	if (gm->fd >= 0)
		close(gm->fd);
	free(gm->host_dirty);
	gm->base = NULL;
	gm->size = 0;
	gm->fd = -1;
	gm->host_dirty = NULL;
}

void gm_mark(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	if (!gm->host_dirty || len == 0 || gpa >= gm->size)
		return;
	if (len > gm->size - gpa)
		len = gm->size - gpa;
	for (uint64_t pg = gpa / AL_PAGE_SIZE;
	     pg <= (gpa + len - 1) / AL_PAGE_SIZE; pg++)
		gm->host_dirty[pg / 64] |= 1ull << (pg % 64);
}

void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	/* Written so that no sum can overflow: gpa <= size first, then the
	 * length against what is left. */
	if (!gm->base || gpa > gm->size || len > gm->size - gpa)
		return NULL;
	return gm->base + gpa;
}

int gm_read(const struct guest_mem *gm, uint64_t gpa, void *dst, uint64_t len)
{
	const void *p = gm_ptr(gm, gpa, len);

	if (!p)
		return -1;
	memcpy(dst, p, len);
	return 0;
}

int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src,
	     uint64_t len)
{
	void *p = gm_ptr(gm, gpa, len);

	if (!p)
		return -1;
	gm_mark(gm, gpa, len);
	memcpy(p, src, len);
	return 0;
}

/* Below this, memset is cheaper than a syscall. */
#define GM_PUNCH_MIN (64u * 1024u)

int gm_zero(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	uint8_t *p = gm_ptr(gm, gpa, len);

	if (!p)
		return -1;
	gm_mark(gm, gpa, len);
	uint64_t lo = (gpa + AL_PAGE_SIZE - 1) & ~(AL_PAGE_SIZE - 1);
	uint64_t hi = (gpa + len) & ~(AL_PAGE_SIZE - 1);
	if (gm->fd >= 0 && hi > lo && hi - lo >= GM_PUNCH_MIN &&
	    fallocate(gm->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)lo, (off_t)(hi - lo)) == 0) {
		/* Whole pages now read as zero without being touched. */
		memset(p, 0, lo - gpa);
		memset(gm->base + hi, 0, gpa + len - hi);
		return 0;
	}
	memset(p, 0, len);
	return 0;
}
