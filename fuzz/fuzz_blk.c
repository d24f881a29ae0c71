/*
 * virtio-blk request handling against a hostile guest. The driver set-up is
 * done properly through the MMIO registers; then the input becomes the
 * guest memory holding the descriptor table, rings, request headers and
 * buffers, and the device serves whatever chains it finds, as on a notify.
 * The first input byte picks a read-only or a writable drive (the overlay).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/vmm_impl.h"

#define MEM_SIZE (1u << 20)
#define QUEUES_GPA 0x10000ull
#define QN 16u
/* Small enough that requests reach its end, with a partial last sector. */
#define IMAGE_SIZE (64u * 1024u + 300u)

static int reg(struct blk *b, uint64_t off, uint32_t val)
{
	return mmio_access(&b->vdev, off, &val, 4, true);
}

static int driver_init(struct blk *b)
{
	const uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	int rc = 0;

	rc |= reg(b, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	rc |= reg(b, VIRTIO_MMIO_STATUS, st);
	rc |= reg(b, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	rc |= reg(b, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	rc |= reg(b, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_FEATURES_OK);
	/* Descriptors at +0, avail ring at +0x100, used ring at +0x200 of
	 * QUEUES_GPA (fuzz/corpus/gen_blk_seeds.py follows this layout). */
	rc |= reg(b, VIRTIO_MMIO_QUEUE_SEL, 0);
	rc |= reg(b, VIRTIO_MMIO_QUEUE_NUM, QN);
	rc |= reg(b, VIRTIO_MMIO_QUEUE_DESC_LOW, QUEUES_GPA);
	rc |= reg(b, VIRTIO_MMIO_QUEUE_DRIVER_LOW, QUEUES_GPA + 0x100);
	rc |= reg(b, VIRTIO_MMIO_QUEUE_DEVICE_LOW, QUEUES_GPA + 0x200);
	rc |= reg(b, VIRTIO_MMIO_QUEUE_READY, 1);
	rc |= reg(b, VIRTIO_MMIO_STATUS,
		  st | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	return rc;
}

static int image_fd(void)
{
	static int fd = -1;
	uint8_t buf[IMAGE_SIZE];

	if (fd >= 0)
		return fd;
	fd = memfd_create("fuzz-blk-image", MFD_CLOEXEC);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	if (fd >= 0 && write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static struct blk b;
	char err[VMM_ERR_MAX];

	if (size < 1 || image_fd() < 0)
		return 0;
	if (!ram && !(ram = malloc(MEM_SIZE)))
		return 0;
	memset(ram, 0, MEM_SIZE);
	struct guest_mem gm = {.base = ram, .size = MEM_SIZE, .fd = -1};
	struct vmm_drive d = {
	    .fd = image_fd(), .mount = "/fuzz", .writable = data[0] & 1};
	uint32_t room = BLK_OVERLAY_MAX / BLK_CHUNK_SIZE;
	if (blk_init(&b, &gm, AL_MMIO_GPA, &d, 0, &room, err) < 0)
		return 0;
	if (driver_init(&b) == 0) {
		size_t n = size - 1 < MEM_SIZE - QUEUES_GPA
			       ? size - 1
			       : MEM_SIZE - QUEUES_GPA;
		memcpy(ram + QUEUES_GPA, data + 1, n);
		blk_process(&b);
	}
	blk_destroy(&b);
	return 0;
}
