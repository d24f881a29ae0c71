/*
 * Block devices: the virtio-blk drives the VMM announced in bootinfo's
 * mmio[] table (guestkernel/blk.c). Requests are synchronous: the caller's
 * buffer is handed to the device and the call returns when the device has
 * answered. Buffers are kernel memory (identity-mapped guest-physical).
 */
#ifndef GK_BLK_H
#define GK_BLK_H

#include <stdbool.h>
#include <stdint.h>

#define GK_SECTOR_SIZE 512u

struct gk_blockdev;

/* The drive in bootinfo mmio[] slot mmio_index, set up on first use; NULL if
 * that slot is not a virtio-blk device or the device failed to start. */
struct gk_blockdev *blk_get(uint32_t mmio_index);

uint64_t blk_sectors(const struct gk_blockdev *d);
bool blk_read_only(const struct gk_blockdev *d);

/* count sectors at sector into (or from) buf. 0, or -EIO for a device
 * error, -EINVAL past the end, -EROFS writing a read-only drive. */
long blk_read(struct gk_blockdev *d, uint64_t sector, void *buf,
	      uint32_t count);
long blk_write(struct gk_blockdev *d, uint64_t sector, const void *buf,
	       uint32_t count);

#endif
