/* virtio-mmio transport and hand-built split virtqueues. */
#include "hl.h"

static uint64_t window = AL_MMIO_VA; /* slot 0: virtio-vsock */

static volatile uint32_t *reg(uint32_t off)
{
	return (volatile uint32_t *)(window + off);
}

void hl_use_device(uint32_t device_id)
{
	const struct al_bootinfo *bi = (const void *)AL_BOOTINFO_GPA;
	for (uint32_t i = 0; i < bi->mmio_count && i < AL_MMIO_MAX; i++)
		if (bi->mmio[i].device_id == device_id) {
			window = bi->mmio[i].va;
			return;
		}
	hl_fail(0xf);
}

uint32_t hl_reg_read(uint32_t off)
{
	return *reg(off);
}

void hl_reg_write(uint32_t off, uint32_t v)
{
	*reg(off) = v;
}

void hl_virtio_init(void)
{
	hl_reg_write(VIRTIO_MMIO_STATUS, 0);
	hl_reg_write(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	hl_reg_write(VIRTIO_MMIO_STATUS,
		     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	hl_reg_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	hl_reg_write(VIRTIO_MMIO_DRIVER_FEATURES, 1u << (VIRTIO_F_VERSION_1 - 32));
	hl_reg_write(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
					     VIRTIO_STATUS_DRIVER |
					     VIRTIO_STATUS_FEATURES_OK);
}

void hl_queue_set(unsigned q, uint32_t num, uint64_t desc, uint64_t avail,
		  uint64_t used)
{
	hl_reg_write(VIRTIO_MMIO_QUEUE_SEL, q);
	hl_reg_write(VIRTIO_MMIO_QUEUE_NUM, num);
	hl_reg_write(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	hl_reg_write(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	hl_reg_write(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
	hl_reg_write(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
	hl_reg_write(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
	hl_reg_write(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
}

void hl_queue_ready(unsigned q)
{
	hl_reg_write(VIRTIO_MMIO_QUEUE_SEL, q);
	hl_reg_write(VIRTIO_MMIO_QUEUE_READY, 1);
}

void hl_driver_ok(void)
{
	hl_reg_write(VIRTIO_MMIO_STATUS,
		     VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

void hl_notify(unsigned q)
{
	hl_reg_write(VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

/* Rings of the largest size, one set per vsock queue. */
static struct {
	struct virtq_desc desc[HL_QSIZE];
	uint16_t avail[2 + HL_QSIZE + 1];
	struct virtq_used_elem used[HL_QSIZE + 1];
} rings[2] __attribute__((aligned(4096)));

void hl_vq_setup(struct hl_vq *vq, unsigned q)
{
	memset(&rings[q], 0, sizeof(rings[q])); /* a fresh start after a reset */
	vq->desc = rings[q].desc;
	vq->avail = (struct virtq_avail *)rings[q].avail;
	vq->used = (volatile struct virtq_used *)rings[q].used;
	vq->index = q;
	hl_queue_set(q, HL_QSIZE, (uint64_t)vq->desc, (uint64_t)vq->avail,
		     (uint64_t)vq->used);
	hl_queue_ready(q);
}

void hl_vq_publish(struct hl_vq *vq, uint16_t head)
{
	vq->avail->ring[vq->avail->idx % HL_QSIZE] = head;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vq->avail->idx++;
}
