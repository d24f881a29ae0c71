/*
 * virtio-mmio version 2 transport (virtio 1.x, 4.2). One 4 KiB window per
 * device. Registers are 32 bits wide and must be accessed so; the device
 * configuration space from offset 0x100 takes any width. Unknown registers
 * read as 0; writing one ends the VM with a message naming it, because only
 * a broken or hostile guest kernel does that.
 */
#include <string.h>

#include "vmm/vmm_impl.h"

#define QUEUE_NUM_MAX VQ_MAX_SIZE
#define VERSION_1_BIT (1ull << VIRTIO_F_VERSION_1)

/* The transport's state as after a device reset. */
static void transport_clear(struct virtio_dev *d)
{
	d->status = 0;
	d->dev_features_sel = d->drv_features_sel = 0;
	d->drv_features = 0;
	d->queue_sel = 0;
	d->isr = 0;
	memset(d->vq, 0, sizeof(d->vq));
}

void mmio_init(struct virtio_dev *d, const struct guest_mem *gm, uint64_t gpa)
{
	d->gm = gm;
	d->gpa = gpa;
	transport_clear(d);
	d->err[0] = '\0';
}

bool mmio_driver_ok(const struct virtio_dev *d)
{
	return (d->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(d->status & VIRTIO_STATUS_FAILED);
}

static void device_reset(struct virtio_dev *d)
{
	transport_clear(d);
	if (d->reset)
		d->reset(d);
}

static uint64_t offered(const struct virtio_dev *d)
{
	return d->features | VERSION_1_BIT;
}

static struct virtq *selected(struct virtio_dev *d)
{
	return d->queue_sel < d->num_queues ? &d->vq[d->queue_sel] : NULL;
}

static uint32_t reg_read(struct virtio_dev *d, uint64_t off)
{
	struct virtq *q = selected(d);

	switch (off) {
	case VIRTIO_MMIO_MAGIC:
		return VIRTIO_MMIO_MAGIC_VALUE;
	case VIRTIO_MMIO_VERSION:
		return VIRTIO_MMIO_VERSION_2;
	case VIRTIO_MMIO_DEVICE_ID:
		return d->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_VENDOR_AIRLOCK;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (d->dev_features_sel > 1)
			return 0;
		return (uint32_t)(offered(d) >> (32 * d->dev_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q ? QUEUE_NUM_MAX : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return q ? q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return d->isr;
	case VIRTIO_MMIO_STATUS:
		return d->status;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return 0;
	default:
		return 0;
	}
}

static void set_status(struct virtio_dev *d, uint32_t v)
{
	if (v == 0) {
		device_reset(d);
		return;
	}
	if ((v & VIRTIO_STATUS_FEATURES_OK) &&
	    !(d->status & VIRTIO_STATUS_FEATURES_OK)) {
		/* Accept only a subset of what we offered, with VERSION_1:
		 * otherwise leave FEATURES_OK clear, as the spec says, so the
		 * driver sees the refusal. */
		if ((d->drv_features & ~offered(d)) ||
		    !(d->drv_features & VERSION_1_BIT))
			v &= ~VIRTIO_STATUS_FEATURES_OK;
	}
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FEATURES_OK))
		v &= ~VIRTIO_STATUS_DRIVER_OK;
	/* NEEDS_RESET is the device's to set. */
	v = (v & ~VIRTIO_STATUS_NEEDS_RESET) |
	    (d->status & VIRTIO_STATUS_NEEDS_RESET);
	d->status = v;
}

static void set_half(uint64_t *r, bool high, uint32_t v)
{
	if (high)
		*r = (*r & 0xffffffffull) | ((uint64_t)v << 32);
	else
		*r = (*r & ~0xffffffffull) | v;
}

static int queue_write(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	struct virtq *q = selected(d);

	if (!q) {
		vmm_errf(d->err, VMM_ERR_MAX,
			 "virtio-mmio: queue register 0x%llx written for "
			 "missing queue %u",
			 (unsigned long long)off, d->queue_sel);
		return -1;
	}
	if (off == VIRTIO_MMIO_QUEUE_READY) {
		if (v == 0) {
			q->ready = false;
			return 0;
		}
		if (q->ready)
			return 0;
		char err[VMM_ERR_MAX];
		if (vq_validate(d->gm, q, err) < 0) {
			d->status |= VIRTIO_STATUS_NEEDS_RESET;
			vmm_errf(d->err, VMM_ERR_MAX,
				 "virtio-mmio queue %u: %s", d->queue_sel, err);
			return -1;
		}
		q->ready = true;
		q->last_avail = 0;
		q->used_idx = 0;
		return 0;
	}
	/* The driver must not change a live queue: ignore it. */
	if (q->ready)
		return 0;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		q->num = v > 0xffff ? 0 : (uint16_t)v; /* checked at ready */
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		set_half(&q->desc_gpa, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		set_half(&q->avail_gpa, off == VIRTIO_MMIO_QUEUE_DRIVER_HIGH,
			 v);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		set_half(&q->used_gpa, off == VIRTIO_MMIO_QUEUE_DEVICE_HIGH, v);
		break;
	}
	return 0;
}

static int reg_write(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		d->dev_features_sel = v;
		return 0;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (d->drv_features_sel <= 1 &&
		    !(d->status & VIRTIO_STATUS_FEATURES_OK))
			set_half(&d->drv_features, d->drv_features_sel == 1, v);
		return 0;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		d->drv_features_sel = v;
		return 0;
	case VIRTIO_MMIO_QUEUE_SEL:
		d->queue_sel = v;
		return 0;
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_READY:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		return queue_write(d, off, v);
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Before DRIVER_OK, or for a queue that is not live, there is
		 * nothing to do. */
		if (!mmio_driver_ok(d) || v >= d->num_queues || !d->vq[v].ready)
			return 0;
		return d->notify ? d->notify(d, v) : 0;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		d->isr &= ~v;
		return 0;
	case VIRTIO_MMIO_STATUS:
		set_status(d, v);
		return 0;
	default:
		vmm_errf(d->err, VMM_ERR_MAX,
			 "virtio-mmio: write of 0x%x to unknown or read-only "
			 "register 0x%llx (device at 0x%llx)",
			 v, (unsigned long long)off,
			 (unsigned long long)d->gpa);
		return -1;
	}
}

int mmio_access(struct virtio_dev *d, uint64_t off, void *data, uint32_t len,
		bool is_write)
{
	if (len == 0 || len > 8 || off >= AL_MMIO_SLOT_SIZE ||
	    len > AL_MMIO_SLOT_SIZE - off) {
		vmm_errf(d->err, VMM_ERR_MAX,
			 "virtio-mmio: bad %u-byte access at offset 0x%llx",
			 len, (unsigned long long)off);
		return -1;
	}
	if (off >= VIRTIO_MMIO_CONFIG) {
		/* Our devices' configuration is read-only. */
		if (is_write)
			return 0;
		memset(data, 0, len);
		if (d->read_config)
			d->read_config(d, (uint32_t)(off - VIRTIO_MMIO_CONFIG),
				       data, len);
		return 0;
	}
	if (len != 4 || off % 4 != 0) {
		vmm_errf(d->err, VMM_ERR_MAX,
			 "virtio-mmio: %u-byte access to register 0x%llx "
			 "(registers are 32-bit)",
			 len, (unsigned long long)off);
		return -1;
	}
	if (is_write) {
		uint32_t v;
		memcpy(&v, data, 4);
		return reg_write(d, off, v);
	}
	uint32_t v = reg_read(d, off);
	memcpy(data, &v, 4);
	return 0;
}
