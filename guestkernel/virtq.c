/* Split virtqueues over virtio-mmio; see virtq.h. */
#include "virtq.h"

void vq_setup(struct gk_vq *q, struct gk_vq_mem *mem, uint64_t mmio,
	      uint16_t index)
{
	q->mem = mem;
	q->mmio = mmio;
	q->index = index;
	q->avail_idx = 0;
	q->used_idx = 0;
	mmio_write32(mmio, VIRTIO_MMIO_QUEUE_SEL, index);
	uint32_t max = mmio_read32(mmio, VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (max < GK_VQ_SIZE)
		gk_panic("virtio queue %u holds %u entries, need %u",
			 (uint64_t)index, (uint64_t)max, (uint64_t)GK_VQ_SIZE);
	mmio_write32(mmio, VIRTIO_MMIO_QUEUE_NUM, GK_VQ_SIZE);
	/* Kernel memory lies below 4 GiB and reset left the HIGH halves 0:
	 * each register write is an exit, so only the LOW halves are set. */
	mmio_write32(mmio, VIRTIO_MMIO_QUEUE_DESC_LOW,
		     (uint32_t)(uintptr_t)mem->desc);
	mmio_write32(mmio, VIRTIO_MMIO_QUEUE_DRIVER_LOW,
		     (uint32_t)(uintptr_t)&mem->avail);
	mmio_write32(mmio, VIRTIO_MMIO_QUEUE_DEVICE_LOW,
		     (uint32_t)(uintptr_t)&mem->used);
	mmio_write32(mmio, VIRTIO_MMIO_QUEUE_READY, 1);
}

void vq_publish(struct gk_vq *q, uint16_t head)
{
	q->mem->avail.ring[q->avail_idx % GK_VQ_SIZE] = head;
	gk_barrier(); /* the entry before the index that exposes it */
	q->avail_idx++;
	*(volatile uint16_t *)&q->mem->avail.idx = q->avail_idx;
}

void vq_notify(struct gk_vq *q)
{
	mmio_write32(q->mmio, VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
}

bool vq_next_used(struct gk_vq *q, uint32_t *id, uint32_t *len)
{
	uint16_t idx = *(volatile uint16_t *)&q->mem->used.idx;
	if (idx == q->used_idx)
		return false;
	gk_barrier(); /* read the entry only after seeing the index */
	struct virtq_used_elem *e = &q->mem->used.ring[q->used_idx % GK_VQ_SIZE];
	*id = e->id;
	*len = e->len;
	q->used_idx++;
	return true;
}
