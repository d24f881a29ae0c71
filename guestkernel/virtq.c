/* Split virtqueues over virtio-mmio; see virtq.h. */
#include "virtq.h"

#define STATUS_STARTED                                                         \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |                    \
	 VIRTIO_STATUS_FEATURES_OK)

uint64_t virtio_slot(uint32_t index, uint32_t device_id)
{
	const struct al_bootinfo *bi = GK_BI;

	if (index >= bi->mmio_count || index >= AL_MMIO_MAX ||
	    bi->mmio[index].device_id != device_id)
		return 0;
	uint64_t va = bi->mmio[index].va;
	if (va < AL_MMIO_VA ||
	    va >= AL_MMIO_VA + AL_MMIO_MAX * AL_MMIO_SLOT_SIZE ||
	    va % AL_MMIO_SLOT_SIZE)
		gk_panic("virtio device %u window at %x is outside the MMIO "
			 "range",
			 (uint64_t)index, va);
	return va;
}

const char *virtio_start(uint64_t m, uint32_t want, uint32_t *got)
{
	const uint32_t v1 = 1u << (VIRTIO_F_VERSION_1 - 32);

	if (mmio_read32(m, VIRTIO_MMIO_MAGIC) != VIRTIO_MMIO_MAGIC_VALUE ||
	    mmio_read32(m, VIRTIO_MMIO_VERSION) != VIRTIO_MMIO_VERSION_2)
		return "not virtio-mmio version 2";
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE;
	mmio_write32(m, VIRTIO_MMIO_STATUS, 0);
	mmio_write32(m, VIRTIO_MMIO_STATUS, st);
	mmio_write32(m, VIRTIO_MMIO_STATUS, st |= VIRTIO_STATUS_DRIVER);
	mmio_write32(m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	if (!(mmio_read32(m, VIRTIO_MMIO_DEVICE_FEATURES) & v1)) {
		mmio_write32(m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FAILED);
		return "no VIRTIO_F_VERSION_1";
	}
	/* Each register access is an exit: the low words stay 0 from reset
	 * unless there is something to ask for. */
	*got = 0;
	if (want) {
		mmio_write32(m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
		*got = want & mmio_read32(m, VIRTIO_MMIO_DEVICE_FEATURES);
		if (*got) {
			mmio_write32(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
			mmio_write32(m, VIRTIO_MMIO_DRIVER_FEATURES, *got);
		}
	}
	mmio_write32(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_write32(m, VIRTIO_MMIO_DRIVER_FEATURES, v1);
	mmio_write32(m, VIRTIO_MMIO_STATUS, st |= VIRTIO_STATUS_FEATURES_OK);
	if (!(mmio_read32(m, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK)) {
		mmio_write32(m, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FAILED);
		return "features refused";
	}
	return NULL;
}

void virtio_driver_ok(uint64_t m)
{
	mmio_write32(m, VIRTIO_MMIO_STATUS,
		     STATUS_STARTED | VIRTIO_STATUS_DRIVER_OK);
}

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
