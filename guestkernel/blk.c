/*
 * The virtio-blk driver (blk.h): polling, one request in flight, one notify
 * per request. The VMM completes a request before the notify returns, so the
 * descriptor table is free again afterwards and descriptor 0 always heads
 * the chain: [header, data segments pointing straight at the caller's
 * buffer, status byte].
 */
#include "blk.h"
#include "virtq.h"

/* Data descriptors per request: the table less header and status. */
#define MAX_SEGS (GK_VQ_SIZE - 2)
/* Without SIZE_MAX a segment is bounded only by the descriptor length. */
#define SEG_BYTES_DEFAULT (1u << 31)

struct gk_blockdev {
	struct gk_vq_mem mem;
	struct gk_vq vq;
	uint64_t mmio;
	uint64_t sectors;
	uint32_t seg_bytes; /* a multiple of the sector size */
	uint32_t segs;	    /* data descriptors per request, 1..MAX_SEGS */
	bool read_only;
	bool tried, ready;
	struct virtio_blk_req_hdr hdr;
	volatile uint8_t status;
};

static struct gk_blockdev devs[AL_MMIO_MAX];

/* A 32-bit word of the configuration space. */
#define CONFIG(d, field, add)                                                  \
	mmio_read32((d)->mmio, VIRTIO_MMIO_CONFIG +                            \
				   offsetof(struct virtio_blk_config, field) + \
				   (add))

/* Request geometry from the configuration space; false if unusable. */
static bool read_geometry(struct gk_blockdev *d, uint32_t features)
{
	uint64_t lo = CONFIG(d, capacity, 0), hi = CONFIG(d, capacity, 4);

	d->sectors = lo | hi << 32;
	d->seg_bytes = SEG_BYTES_DEFAULT;
	if (features & (1u << VIRTIO_BLK_F_SIZE_MAX))
		d->seg_bytes = CONFIG(d, size_max, 0) & ~(GK_SECTOR_SIZE - 1);
	d->segs = MAX_SEGS;
	if (features & (1u << VIRTIO_BLK_F_SEG_MAX))
		d->segs = GK_MIN(CONFIG(d, seg_max, 0), MAX_SEGS);
	d->read_only = features & (1u << VIRTIO_BLK_F_RO);
	return d->seg_bytes != 0 && d->segs != 0;
}

static bool start(struct gk_blockdev *d, uint32_t mmio_index)
{
	uint32_t got;

	d->mmio = virtio_slot(mmio_index, VIRTIO_ID_BLOCK);
	if (!d->mmio)
		return false;
	if (virtio_start(d->mmio,
			 (1u << VIRTIO_BLK_F_SIZE_MAX) |
			     (1u << VIRTIO_BLK_F_SEG_MAX) |
			     (1u << VIRTIO_BLK_F_RO),
			 &got))
		return false;
	if (!read_geometry(d, got)) {
		mmio_write32(d->mmio, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FAILED);
		return false;
	}
	vq_setup(&d->vq, &d->mem, d->mmio, VIRTIO_BLK_QUEUE_REQ);
	virtio_driver_ok(d->mmio);
	return true;
}

struct gk_blockdev *blk_get(uint32_t mmio_index)
{
	if (mmio_index >= AL_MMIO_MAX)
		return NULL;
	struct gk_blockdev *d = &devs[mmio_index];
	if (!d->tried) {
		d->tried = true;
		d->ready = start(d, mmio_index);
	}
	return d->ready ? d : NULL;
}

uint64_t blk_sectors(const struct gk_blockdev *d)
{
	return d->sectors;
}

bool blk_read_only(const struct gk_blockdev *d)
{
	return d->read_only;
}

static void set_desc(struct gk_blockdev *d, uint16_t i, uint64_t addr,
		     uint32_t len, uint16_t flags)
{
	d->mem.desc[i] =
	    (struct virtq_desc){addr, len, flags, (uint16_t)(i + 1)};
}

/* One request of at most segs * seg_bytes bytes; returns the bytes it
 * covered, or -EIO. */
static long request(struct gk_blockdev *d, uint32_t type, uint64_t sector,
		    uint64_t buf, uint64_t bytes)
{
	uint16_t dir = type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0;
	uint64_t done = 0;
	uint16_t n = 1;

	d->hdr.type = type;
	d->hdr.sector = sector;
	set_desc(d, 0, (uint64_t)(uintptr_t)&d->hdr, sizeof(d->hdr),
		 VIRTQ_DESC_F_NEXT);
	while (done < bytes && n <= d->segs) {
		uint32_t k = (uint32_t)GK_MIN(bytes - done, d->seg_bytes);
		set_desc(d, n++, buf + done, k, dir | VIRTQ_DESC_F_NEXT);
		done += k;
	}
	set_desc(d, n, (uint64_t)(uintptr_t)&d->status, 1, VIRTQ_DESC_F_WRITE);
	d->status = 0xff;
	vq_publish(&d->vq, 0);
	vq_notify(&d->vq);
	uint32_t id, len;
	if (!vq_next_used(&d->vq, &id, &len) || id != 0)
		gk_panic("virtio-blk at %x did not complete a request",
			 d->mmio);
	return d->status == VIRTIO_BLK_S_OK ? (long)done : -EIO;
}

static long transfer(struct gk_blockdev *d, uint32_t type, uint64_t sector,
		     uint64_t buf, uint32_t count)
{
	if (sector > d->sectors || count > d->sectors - sector)
		return -EINVAL;
	uint64_t left = (uint64_t)count * GK_SECTOR_SIZE;
	while (left > 0) {
		long r = request(d, type, sector, buf, left);
		if (r < 0)
			return r;
		sector += (uint64_t)r / GK_SECTOR_SIZE;
		buf += (uint64_t)r;
		left -= (uint64_t)r;
	}
	return 0;
}

long blk_read(struct gk_blockdev *d, uint64_t sector, void *buf, uint32_t count)
{
	return transfer(d, VIRTIO_BLK_T_IN, sector, (uint64_t)(uintptr_t)buf,
			count);
}

long blk_write(struct gk_blockdev *d, uint64_t sector, const void *buf,
	       uint32_t count)
{
	if (d->read_only)
		return -EROFS;
	return transfer(d, VIRTIO_BLK_T_OUT, sector, (uint64_t)(uintptr_t)buf,
			count);
}
