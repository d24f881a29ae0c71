/*
 * virtio 1.x definitions shared by the VMM (device side) and the built-in guest
 * kernel (driver side): the virtio-mmio version 2 register file, split
 * virtqueue layout, the virtio-vsock packet header and the virtio-blk
 * request format.
 *
 * Freestanding: only fixed-width integer types. All multi-byte fields are
 * little-endian on the wire; both sides are x86-64, so they are used as is.
 */
#ifndef AIRLOCK_VIRTIO_H
#define AIRLOCK_VIRTIO_H

#include <stdint.h>

/* virtio-mmio register offsets (virtio 1.x, section 4.2.2). */
#define VIRTIO_MMIO_MAGIC 0x000 /* "virt" */
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

#define VIRTIO_MMIO_MAGIC_VALUE 0x74726976u /* "virt" little-endian */
#define VIRTIO_MMIO_VERSION_2 2u
#define VIRTIO_VENDOR_AIRLOCK 0x4b4c4941u /* "AILK" */

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED 128u

/* Feature bits. */
#define VIRTIO_F_VERSION_1 32

/* Device IDs. */
#define VIRTIO_ID_BLOCK 2u
#define VIRTIO_ID_VSOCK 19u

/* Split virtqueue (virtio 1.x, section 2.7). */
#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u
#define VIRTQ_DESC_F_INDIRECT 4u

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* queue size entries, then used_event */
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[]; /* queue size entries, then avail_event */
};

/* virtio-vsock (virtio 1.x, section 5.10). */
#define VIRTIO_VSOCK_QUEUE_RX 0
#define VIRTIO_VSOCK_QUEUE_TX 1
#define VIRTIO_VSOCK_QUEUE_EVENT 2

#define VIRTIO_VSOCK_TYPE_STREAM 1

#define VIRTIO_VSOCK_OP_REQUEST 1
#define VIRTIO_VSOCK_OP_RESPONSE 2
#define VIRTIO_VSOCK_OP_RST 3
#define VIRTIO_VSOCK_OP_SHUTDOWN 4
#define VIRTIO_VSOCK_OP_RW 5
#define VIRTIO_VSOCK_OP_CREDIT_UPDATE 6
#define VIRTIO_VSOCK_OP_CREDIT_REQUEST 7

#define VIRTIO_VSOCK_SHUTDOWN_RCV 1u  /* sender will receive no more */
#define VIRTIO_VSOCK_SHUTDOWN_SEND 2u /* sender will send no more */

struct virtio_vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
} __attribute__((packed));

/* virtio-vsock device configuration space. */
struct virtio_vsock_config {
	uint64_t guest_cid;
} __attribute__((packed));

/* virtio-blk (virtio 1.x, section 5.2): one request queue. */
#define VIRTIO_BLK_QUEUE_REQ 0

#define VIRTIO_BLK_F_SIZE_MAX 1 /* size_max bounds one data segment */
#define VIRTIO_BLK_F_SEG_MAX 2	/* seg_max bounds data segments per request */
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_FLUSH 9

#define VIRTIO_BLK_SECTOR_SIZE 512u
#define VIRTIO_BLK_ID_BYTES 20u

#define VIRTIO_BLK_T_IN 0u
#define VIRTIO_BLK_T_OUT 1u
#define VIRTIO_BLK_T_FLUSH 4u
#define VIRTIO_BLK_T_GET_ID 8u

#define VIRTIO_BLK_S_OK 0u
#define VIRTIO_BLK_S_IOERR 1u
#define VIRTIO_BLK_S_UNSUPP 2u

/*
 * A request is one chain: this header (device-readable), the data
 * (device-readable for T_OUT, device-writable for T_IN and T_GET_ID), then
 * one device-writable status byte (VIRTIO_BLK_S_*).
 */
struct virtio_blk_req_hdr {
	uint32_t type; /* VIRTIO_BLK_T_* */
	uint32_t reserved;
	uint64_t sector; /* in 512-byte units, whatever the block size */
} __attribute__((packed));

/* The start of the virtio-blk configuration space: what we offer. */
struct virtio_blk_config {
	uint64_t capacity; /* in 512-byte sectors */
	uint32_t size_max;
	uint32_t seg_max;
} __attribute__((packed));

#endif
