/*
 * Split virtqueues, device side (virtio 1.x, 2.7). Every ring index,
 * descriptor, address and length is guest-controlled: each is read once
 * into host variables, checked, and turned into host pointers only through
 * gm_ptr. A chain is bounded by the queue size (so a loop cannot run
 * forever) and by VQ_MAX_CHAIN_BYTES.
 */
#include <string.h>

#include "vmm/vmm_impl.h"

#define AVAIL_RING(vq, i) ((vq)->avail_gpa + 4 + 2ull * (i))
#define USED_RING(vq, i) ((vq)->used_gpa + 4 + 8ull * (i))

static int read16(const struct guest_mem *gm, uint64_t gpa, uint16_t *v)
{
	return gm_read(gm, gpa, v, sizeof(*v));
}

int vq_validate(const struct guest_mem *gm, const struct virtq *vq, char *err)
{
	uint64_t n = vq->num;

	if (n == 0 || n > VQ_MAX_SIZE || (n & (n - 1)) != 0) {
		vmm_errf(err, VMM_ERR_MAX,
			 "queue size %llu is not a power of two in 1..%u",
			 (unsigned long long)n, VQ_MAX_SIZE);
		return -1;
	}
	/* Sizes and alignments of virtio 1.x 2.7: descriptor table, driver
	 * area (with used_event), device area (with avail_event). */
	if (vq->desc_gpa % 16 || !gm_ptr(gm, vq->desc_gpa, 16 * n)) {
		vmm_errf(err, VMM_ERR_MAX,
			 "descriptor table at 0x%llx is misaligned or outside "
			 "guest RAM",
			 (unsigned long long)vq->desc_gpa);
		return -1;
	}
	if (vq->avail_gpa % 2 || !gm_ptr(gm, vq->avail_gpa, 6 + 2 * n)) {
		vmm_errf(err, VMM_ERR_MAX,
			 "driver ring at 0x%llx is misaligned or outside guest "
			 "RAM",
			 (unsigned long long)vq->avail_gpa);
		return -1;
	}
	if (vq->used_gpa % 4 || !gm_ptr(gm, vq->used_gpa, 6 + 8 * n)) {
		vmm_errf(err, VMM_ERR_MAX,
			 "device ring at 0x%llx is misaligned or outside guest "
			 "RAM",
			 (unsigned long long)vq->used_gpa);
		return -1;
	}
	return 0;
}

/* How many chains the driver has made available beyond what we took. */
static int avail_count(const struct guest_mem *gm, const struct virtq *vq,
		       char *err)
{
	uint16_t idx;

	if (read16(gm, vq->avail_gpa + 2, &idx) < 0) {
		vmm_errf(err, VMM_ERR_MAX, "driver ring outside guest RAM");
		return -1;
	}
	uint16_t n = (uint16_t)(idx - vq->last_avail);
	if (n > vq->num) {
		vmm_errf(err, VMM_ERR_MAX,
			 "driver ring index %u runs %u entries ahead of the "
			 "device (queue size %u)",
			 idx, n, vq->num);
		return -1;
	}
	return n;
}

int vq_pending(const struct guest_mem *gm, const struct virtq *vq)
{
	char err[VMM_ERR_MAX];

	if (!vq->ready)
		return 0;
	return avail_count(gm, vq, err);
}

static int walk_chain(const struct guest_mem *gm, const struct virtq *vq,
		      uint16_t head, struct vq_chain *c, char *err)
{
	uint16_t i = head;
	bool writing = false;
	uint64_t total = 0;

	c->head = head;
	c->nr = c->nw = 0;
	c->rlen = c->wlen = 0;
	for (unsigned count = 0;; count++) {
		struct virtq_desc d;

		/* A chain visits each descriptor at most once; more means a
		 * loop or a chain longer than the table. */
		if (count >= vq->num) {
			vmm_errf(err, VMM_ERR_MAX,
				 "descriptor chain from %u is longer than the "
				 "queue (%u): a loop?",
				 head, vq->num);
			return -1;
		}
		if (i >= vq->num ||
		    gm_read(gm, vq->desc_gpa + 16ull * i, &d, sizeof(d)) < 0) {
			vmm_errf(err, VMM_ERR_MAX,
				 "descriptor index %u out of range (queue size "
				 "%u)",
				 i, vq->num);
			return -1;
		}
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			vmm_errf(err, VMM_ERR_MAX,
				 "descriptor %u is indirect (not negotiated)",
				 i);
			return -1;
		}
		bool w = d.flags & VIRTQ_DESC_F_WRITE;
		if (writing && !w) {
			vmm_errf(err, VMM_ERR_MAX,
				 "descriptor %u is device-readable after a "
				 "device-writable one",
				 i);
			return -1;
		}
		writing = w;
		void *p = gm_ptr(gm, d.addr, d.len);
		if (!p) {
			vmm_errf(
			    err, VMM_ERR_MAX,
			    "descriptor %u (0x%llx, %u bytes) lies outside "
			    "guest RAM",
			    i, (unsigned long long)d.addr, d.len);
			return -1;
		}
		total += d.len;
		if (total > VQ_MAX_CHAIN_BYTES) {
			vmm_errf(err, VMM_ERR_MAX,
				 "descriptor chain from %u exceeds %llu bytes",
				 head, (unsigned long long)VQ_MAX_CHAIN_BYTES);
			return -1;
		}
		struct iovec *v = &c->iov[c->nr + c->nw];
		v->iov_base = p;
		v->iov_len = d.len;
		if (w) {
			gm_mark(gm, d.addr, d.len); /* the device may write it */
			c->nw++;
			c->wlen += d.len;
		} else {
			c->nr++;
			c->rlen += d.len;
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

int vq_pop(const struct guest_mem *gm, struct virtq *vq, struct vq_chain *c,
	   char *err)
{
	uint16_t head;

	if (!vq->ready)
		return 0;
	int n = avail_count(gm, vq, err);
	if (n <= 0)
		return n;
	if (read16(gm, AVAIL_RING(vq, vq->last_avail % vq->num), &head) < 0) {
		vmm_errf(err, VMM_ERR_MAX, "driver ring outside guest RAM");
		return -1;
	}
	if (walk_chain(gm, vq, head, c, err) < 0)
		return -1;
	vq->last_avail++;
	return 1;
}

void vq_unpop(struct virtq *vq)
{
	vq->last_avail--;
}

int vq_push(const struct guest_mem *gm, struct virtq *vq, uint16_t head,
	    uint32_t len, char *err)
{
	struct virtq_used_elem e = {.id = head, .len = len};

	if (gm_write(gm, USED_RING(vq, vq->used_idx % vq->num), &e, sizeof(e)) <
	    0) {
		vmm_errf(err, VMM_ERR_MAX, "device ring outside guest RAM");
		return -1;
	}
	/* The element must be visible before the index that publishes it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vq->used_idx++;
	if (gm_write(gm, vq->used_gpa + 2, &vq->used_idx,
		     sizeof(vq->used_idx)) < 0) {
		vmm_errf(err, VMM_ERR_MAX, "device ring outside guest RAM");
		return -1;
	}
	return 0;
}
