/*
 * virtio-blk: one device per drive, one request queue, requests completed
 * synchronously on the QueueNotify exit (virtio 1.x, 5.2).
 *
 * Every header, length and sector comes from the guest and is hostile. A
 * request that is malformed, out of range or too large is answered with
 * VIRTIO_BLK_S_IOERR (an unknown type with VIRTIO_BLK_S_UNSUPP) and the
 * device carries on; only a broken ring ends the VM (as for vsock).
 *
 * The image is only ever read, with pread64 (the jailed VMM may not do
 * more). Reads go from the image straight into guest memory. A writable
 * drive keeps what the guest writes in a private overlay of dirty 4 KiB
 * chunks in VMM memory, consulted before the image on every read and freed
 * with the device. The overlays of one VM hold at most BLK_OVERLAY_MAX bytes
 * together; past that, a write that needs a new chunk fails with IOERR.
 *
 * An image whose size is not a multiple of 512 is rounded up: the bytes of
 * the last sector past the end of the file read as zeros.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/vmm_impl.h"

#define SECTOR VIRTIO_BLK_SECTOR_SIZE
#define HDR_SIZE sizeof(struct virtio_blk_req_hdr)
#define CHUNK BLK_CHUNK_SIZE

_Static_assert(AL_MMIO_MAX >= 1 + AL_DRIVES_MAX,
	       "every drive needs an MMIO slot next to vsock's");
_Static_assert(BLK_MAX_DATA % SECTOR == 0 && BLK_SEG_BYTES % SECTOR == 0,
	       "request bounds must be whole sectors");

static struct blk *to_blk(struct virtio_dev *d)
{
	return (struct blk *)d; /* vdev is the first member */
}

/* ---- the overlay: an open-addressing map of chunk number -> data ---- */

static uint32_t ov_hash(const struct blk_overlay *ov, uint64_t chunk)
{
	/* Fibonacci hashing: consecutive chunks spread over the table. */
	return (uint32_t)((chunk * 0x9e3779b97f4a7c15ull) >> 32) &
	       (ov->cap - 1);
}

static uint8_t *ov_find(const struct blk_overlay *ov, uint64_t chunk)
{
	if (ov->used == 0)
		return NULL;
	for (uint32_t i = ov_hash(ov, chunk);; i = (i + 1) & (ov->cap - 1)) {
		if (!ov->slot[i].data)
			return NULL;
		if (ov->slot[i].chunk == chunk)
			return ov->slot[i].data;
	}
}

static void ov_put(struct blk_overlay *ov, uint64_t chunk, uint8_t *data)
{
	uint32_t i = ov_hash(ov, chunk);

	while (ov->slot[i].data)
		i = (i + 1) & (ov->cap - 1);
	ov->slot[i].chunk = chunk;
	ov->slot[i].data = data;
	ov->used++;
}

/* Makes room for n more chunks at a load factor of at most 1/2, so every
 * probe ends at an empty slot. */
static int ov_reserve(struct blk_overlay *ov, uint32_t n)
{
	uint32_t want = ov->cap ? ov->cap : 64;

	while ((uint64_t)(ov->used + n) * 2 > want)
		want *= 2;
	if (want == ov->cap)
		return 0;
	struct blk_overlay bigger = {.cap = want};
	bigger.slot = calloc(want, sizeof(*bigger.slot));
	if (!bigger.slot)
		return -1;
	for (uint32_t i = 0; i < ov->cap; i++)
		if (ov->slot[i].data)
			ov_put(&bigger, ov->slot[i].chunk, ov->slot[i].data);
	free(ov->slot);
	*ov = bigger;
	return 0;
}

static void ov_free(struct blk_overlay *ov)
{
	for (uint32_t i = 0; i < ov->cap; i++)
		free(ov->slot[i].data);
	free(ov->slot);
	memset(ov, 0, sizeof(*ov));
}

/* ---- the image ---- */

/* Image bytes [off, off + len) into p; past the end of the file, zeros. */
static int pread_full(const struct blk *b, uint8_t *p, size_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t r = pread(b->fd, p, len, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			memset(p, 0, len);
			return 0;
		}
		p += r;
		off += (uint64_t)r;
		len -= (size_t)r;
	}
	return 0;
}

/* Image bytes [off, off + len) into the part [doff, doff + len) of iov,
 * straight from the file. */
static int read_base(struct blk *b, uint64_t off, const struct iovec *iov,
		     unsigned n, size_t doff, size_t len)
{
	struct iovec *part = b->part;
	unsigned m = iov_slice(iov, n, doff, len, part, VQ_MAX_SIZE);

	for (unsigned i = 0; i < m; i++) {
		if (pread_full(b, part[i].iov_base, part[i].iov_len, off) < 0)
			return -1;
		off += part[i].iov_len;
	}
	return 0;
}

/* Drive bytes [off, off + len) into iov: dirty chunks from the overlay,
 * runs of clean chunks from the image in one go. */
static int read_drive(struct blk *b, uint64_t off, const struct iovec *iov,
		      unsigned n, size_t len)
{
	size_t doff = 0;

	while (len > 0) {
		size_t k = CHUNK - off % CHUNK;
		if (k > len)
			k = len;
		const uint8_t *p = ov_find(&b->ov, off / CHUNK);
		if (p) {
			iov_to(iov, n, doff, p + off % CHUNK, k);
		} else {
			while (k < len && !ov_find(&b->ov, (off + k) / CHUNK))
				k += len - k < CHUNK ? len - k : CHUNK;
			if (read_base(b, off, iov, n, doff, k) < 0)
				return -1;
		}
		off += k;
		doff += k;
		len -= k;
	}
	return 0;
}

/* The overlay chunk for a write of [in, in + len) inside it, created from
 * the image unless the write covers all of it. */
static uint8_t *chunk_for_write(struct blk *b, uint64_t chunk, size_t in,
				size_t len)
{
	uint8_t *p = ov_find(&b->ov, chunk);

	if (p)
		return p;
	p = malloc(CHUNK);
	if (!p)
		return NULL;
	if ((in != 0 || len != CHUNK) &&
	    pread_full(b, p, CHUNK, chunk * CHUNK) < 0) {
		free(p);
		return NULL;
	}
	ov_put(&b->ov, chunk, p);
	(*b->room)--;
	return p;
}

/* Chunks in [off, off + len) that the overlay does not hold yet. */
static uint32_t new_chunks(const struct blk *b, uint64_t off, size_t len)
{
	uint32_t n = 0;

	for (uint64_t c = off / CHUNK; c <= (off + len - 1) / CHUNK; c++)
		n += !ov_find(&b->ov, c);
	return n;
}

/* iov (len bytes) into drive bytes [off, off + len), in the overlay. The
 * room is checked first, so a write past the cap changes nothing. */
static int write_drive(struct blk *b, uint64_t off, const struct iovec *iov,
		       unsigned n, size_t len)
{
	size_t doff = 0;

	if (len == 0)
		return 0;
	uint32_t need = new_chunks(b, off, len);
	if (need > *b->room || ov_reserve(&b->ov, need) < 0)
		return -1;
	while (len > 0) {
		size_t in = off % CHUNK;
		size_t k = CHUNK - in;
		if (k > len)
			k = len;
		uint8_t *p = chunk_for_write(b, off / CHUNK, in, k);
		if (!p)
			return -1;
		iov_from(iov, n, doff, p + in, k);
		off += k;
		doff += k;
		len -= k;
	}
	return 0;
}

/* ---- requests ---- */

/* Whether a transfer of bytes at sector is well-formed and inside the
 * drive; written so that nothing can overflow. */
static bool in_range(const struct blk *b, uint64_t sector, uint64_t bytes)
{
	if (bytes % SECTOR != 0 || bytes > BLK_MAX_DATA)
		return false;
	return sector <= b->sectors && bytes / SECTOR <= b->sectors - sector;
}

static uint8_t do_read(struct blk *b, const struct vq_chain *c,
		       const struct virtio_blk_req_hdr *h, uint32_t *data)
{
	const struct iovec *w = c->iov + c->nr;
	uint64_t len = c->wlen - 1; /* the status byte is the last one */

	if (c->rlen != HDR_SIZE || !in_range(b, h->sector, len))
		return VIRTIO_BLK_S_IOERR;
	if (read_drive(b, h->sector * SECTOR, w, c->nw, len) < 0)
		return VIRTIO_BLK_S_IOERR;
	*data = (uint32_t)len;
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_write(struct blk *b, const struct vq_chain *c,
			const struct virtio_blk_req_hdr *h)
{
	struct iovec *src = b->part;
	uint64_t len = c->rlen - HDR_SIZE;

	if (!b->writable || c->wlen != 1 || !in_range(b, h->sector, len))
		return VIRTIO_BLK_S_IOERR;
	unsigned n = iov_slice(c->iov, c->nr, HDR_SIZE, len, src, VQ_MAX_SIZE);
	if (write_drive(b, h->sector * SECTOR, src, n, len) < 0)
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_get_id(struct blk *b, const struct vq_chain *c,
			 uint32_t *data)
{
	char id[VIRTIO_BLK_ID_BYTES + 1] = {0};
	uint64_t room = c->wlen - 1;

	if (c->rlen != HDR_SIZE)
		return VIRTIO_BLK_S_IOERR;
	/* Not NUL-terminated when it fills all 20 bytes, as the spec says. */
	snprintf(id, sizeof(id), "airlock-drive-%u", b->index);
	*data =
	    (uint32_t)(room < VIRTIO_BLK_ID_BYTES ? room : VIRTIO_BLK_ID_BYTES);
	iov_to(c->iov + c->nr, c->nw, 0, id, *data);
	return VIRTIO_BLK_S_OK;
}

/* Serves one chain; returns the bytes written into it (for the used ring). */
static uint32_t serve(struct blk *b, const struct vq_chain *c)
{
	struct virtio_blk_req_hdr h;
	uint32_t data = 0;
	uint8_t st;

	/* No writable byte: no status to give, nothing to do. */
	if (c->wlen == 0)
		return 0;
	if (c->rlen < HDR_SIZE) {
		st = VIRTIO_BLK_S_IOERR;
	} else {
		iov_from(c->iov, c->nr, 0, &h, HDR_SIZE);
		switch (h.type) {
		case VIRTIO_BLK_T_IN:
			st = do_read(b, c, &h, &data);
			break;
		case VIRTIO_BLK_T_OUT:
			st = do_write(b, c, &h);
			break;
		case VIRTIO_BLK_T_FLUSH:
			/* Nothing is cached: the overlay is the only store. */
			st = c->rlen == HDR_SIZE && c->wlen == 1
				 ? VIRTIO_BLK_S_OK
				 : VIRTIO_BLK_S_IOERR;
			break;
		case VIRTIO_BLK_T_GET_ID:
			st = do_get_id(b, c, &data);
			break;
		default:
			st = VIRTIO_BLK_S_UNSUPP;
			break;
		}
	}
	iov_to(c->iov + c->nr, c->nw, c->wlen - 1, &st, 1);
	return data + 1;
}

static int fail(struct blk *b, const char *what, const char *err)
{
	vmm_errf(b->vdev.err, VMM_ERR_MAX, "virtio-blk drive %u: %s: %s",
		 b->index, what, err);
	return -1;
}

int blk_process(struct blk *b)
{
	struct virtio_dev *d = &b->vdev;
	struct virtq *q = &d->vq[VIRTIO_BLK_QUEUE_REQ];
	char err[VMM_ERR_MAX];

	if (!mmio_driver_ok(d))
		return 0;
	for (;;) {
		int r = vq_pop(d->gm, q, &b->chain, err);
		if (r < 0)
			return fail(b, "request queue", err);
		if (r == 0)
			return 0;
		uint32_t used = serve(b, &b->chain);
		if (vq_push(d->gm, q, b->chain.head, used, err) < 0)
			return fail(b, "request queue", err);
		d->isr |= 1;
	}
}

/* ---- device model glue ---- */

static int blk_notify(struct virtio_dev *d, unsigned queue)
{
	(void)queue; /* there is one */
	return blk_process(to_blk(d));
}

static void blk_read_config(struct virtio_dev *d, uint32_t off, void *buf,
			    uint32_t len)
{
	const struct blk *b = to_blk(d);
	struct virtio_blk_config cfg = {
	    .capacity = b->sectors,
	    .size_max = BLK_SEG_BYTES,
	    .seg_max = BLK_MAX_DATA / BLK_SEG_BYTES,
	};

	if (off >= sizeof(cfg))
		return;
	if (len > sizeof(cfg) - off)
		len = (uint32_t)(sizeof(cfg) - off);
	memcpy(buf, (uint8_t *)&cfg + off, len);
}

int blk_init(struct blk *b, const struct guest_mem *gm, uint64_t gpa,
	     const struct vmm_drive *drive, unsigned index,
	     uint32_t *overlay_room, char *err)
{
	struct stat st;

	memset(b, 0, sizeof(*b));
	if (fstat(drive->fd, &st) < 0) {
		vmm_errf(err, VMM_ERR_MAX, "drive %u (%s): fstat: %s", index,
			 drive->mount, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		vmm_errf(err, VMM_ERR_MAX,
			 "drive %u (%s): the image is not a regular file",
			 index, drive->mount);
		return -1;
	}
	mmio_init(&b->vdev, gm, gpa);
	b->vdev.device_id = VIRTIO_ID_BLOCK;
	b->vdev.features = (1ull << VIRTIO_BLK_F_SIZE_MAX) |
			   (1ull << VIRTIO_BLK_F_SEG_MAX) |
			   (1ull << VIRTIO_BLK_F_FLUSH) |
			   (drive->writable ? 0 : 1ull << VIRTIO_BLK_F_RO);
	b->vdev.num_queues = 1;
	b->vdev.notify = blk_notify;
	b->vdev.read_config = blk_read_config;
	b->fd = drive->fd;
	b->writable = drive->writable;
	b->index = index;
	b->room = overlay_room;
	/* st_size >= 0, so this cannot overflow. */
	b->sectors = ((uint64_t)st.st_size + SECTOR - 1) / SECTOR;
	return 0;
}

void blk_destroy(struct blk *b)
{
	ov_free(&b->ov);
}

void blk_restore(struct blk *b, const struct virtio_dev *vdev)
{
	ov_free(&b->ov);
	b->vdev = *vdev;
}
