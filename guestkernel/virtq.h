/*
 * Split virtqueues over virtio-mmio, driver side. The VMM's devices complete
 * work synchronously on the notify exit (and on every wake from `hlt`), so
 * there are no interrupts and no event-index tricks: publish, notify, read
 * the used ring.
 */
#ifndef GK_VIRTQ_H
#define GK_VIRTQ_H

#include "gk.h"

#define GK_VQ_SIZE 16

struct gk_vq_avail {
	uint16_t flags, idx;
	uint16_t ring[GK_VQ_SIZE];
	uint16_t used_event;
};

struct gk_vq_used {
	uint16_t flags, idx;
	struct virtq_used_elem ring[GK_VQ_SIZE];
	uint16_t avail_event;
};

/* The rings of one queue, in kernel memory (the device reads them by
 * guest-physical address, which is the same). */
struct gk_vq_mem {
	struct virtq_desc desc[GK_VQ_SIZE];
	struct gk_vq_avail avail;
	struct gk_vq_used used __attribute__((aligned(4)));
} __attribute__((aligned(64)));

struct gk_vq {
	struct gk_vq_mem *mem;
	uint64_t mmio;      /* the device's register window */
	uint16_t index;     /* queue number, for QueueNotify */
	uint16_t avail_idx; /* our copy of avail.idx */
	uint16_t used_idx;  /* next used entry to look at */
};

static inline uint32_t mmio_read32(uint64_t base, uint32_t reg)
{
	uint32_t v;
	/* A plain mov: the access exits to the VMM, which emulates it. */
	__asm__ volatile("movl (%1), %0"
			 : "=r"(v)
			 : "r"(base + reg)
			 : "memory");
	return v;
}

static inline void mmio_write32(uint64_t base, uint32_t reg, uint32_t v)
{
	/* The memory clobber orders ring updates before the exit. */
	__asm__ volatile("movl %0, (%1)" ::"r"(v), "r"(base + reg) : "memory");
}

/* The register window of the device in bootinfo's mmio[] slot index when
 * it is a device_id device, else 0. The VMM wrote the table: a window
 * outside the MMIO range is a panic. */
uint64_t virtio_slot(uint32_t index, uint32_t device_id);
/* Resets the device at mmio and negotiates VIRTIO_F_VERSION_1 plus those of
 * the low feature bits in want that it offers (*got). Returns NULL, or why
 * the device cannot be driven (then it is marked FAILED). Next: the queues
 * (vq_setup), then virtio_driver_ok. */
const char *virtio_start(uint64_t mmio, uint32_t want, uint32_t *got);
void virtio_driver_ok(uint64_t mmio);

/* Selects queue index of the device at mmio and hands it mem. */
void vq_setup(struct gk_vq *q, struct gk_vq_mem *mem, uint64_t mmio,
	      uint16_t index);
/* Makes the chain starting at descriptor head available (no notify). */
void vq_publish(struct gk_vq *q, uint16_t head);
/* QueueNotify: the device processes the queue before this returns. */
void vq_notify(struct gk_vq *q);
/* Takes the next used entry, if any. */
bool vq_next_used(struct gk_vq *q, uint32_t *id, uint32_t *len);

#endif
