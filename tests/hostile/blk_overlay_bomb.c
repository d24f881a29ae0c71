/*
 * Writes 4 MiB requests to a writable drive, each to new sectors, far past
 * what the host keeps for a VM's overlays (BLK_OVERLAY_MAX, 64 MiB): the
 * host must refuse each write past the cap with IOERR rather than grow,
 * keep what it accepted, and answer malformed requests without ending the
 * VM. A wrong answer ends the VM at port 0xbad0 + the check's number.
 */
#include "hl.h"

#define MIB (1u << 20)
#define REQ (4 * MIB)
#define OVERLAY_MAX (64 * MIB)

static struct hl_vq vq;
static struct virtio_blk_req_hdr hdr;
static volatile uint8_t status;
static uint8_t *const data = (uint8_t *)AL_JOB_GPA; /* guest RAM of the job */

/* One request: header, data as 1 MiB segments, status; the status. */
static uint8_t request(uint32_t type, uint64_t sector, uint32_t len,
		       bool device_writes)
{
	unsigned n = 0;
	uint16_t data_flags = VIRTQ_DESC_F_NEXT |
			      (device_writes ? VIRTQ_DESC_F_WRITE : 0);

	hdr = (struct virtio_blk_req_hdr){.type = type, .sector = sector};
	vq.desc[n] = (struct virtq_desc){.addr = (uint64_t)&hdr,
					 .len = sizeof(hdr),
					 .flags = VIRTQ_DESC_F_NEXT,
					 .next = 1};
	for (uint32_t off = 0; off < len; off += MIB, n++)
		vq.desc[n + 1] = (struct virtq_desc){
		    .addr = (uint64_t)data + off,
		    .len = len - off < MIB ? len - off : MIB,
		    .flags = data_flags,
		    .next = (uint16_t)(n + 2)};
	vq.desc[n + 1] = (struct virtq_desc){.addr = (uint64_t)&status,
					     .len = 1,
					     .flags = VIRTQ_DESC_F_WRITE};
	status = 0xff;
	hl_vq_publish(&vq, 0);
	hl_notify(VIRTIO_BLK_QUEUE_REQ);
	return status;
}

static void expect(uint8_t got, uint8_t want, unsigned check)
{
	if (got != want)
		hl_fail(check);
}

void hostile_main(struct al_bootinfo *bi)
{
	(void)bi;
	hl_use_device(VIRTIO_ID_BLOCK);
	hl_virtio_init();
	hl_vq_setup(&vq, VIRTIO_BLK_QUEUE_REQ);
	hl_driver_ok();

	memset(data, 'w', REQ);
	for (uint32_t i = 0; i < OVERLAY_MAX / REQ + 4; i++)
		expect(request(VIRTIO_BLK_T_OUT, (uint64_t)i * (REQ / 512), REQ,
			       false),
		       i < OVERLAY_MAX / REQ ? VIRTIO_BLK_S_OK
					     : VIRTIO_BLK_S_IOERR,
		       1);
	memset(data, 0, MIB);
	expect(request(VIRTIO_BLK_T_IN, 8, MIB, true), VIRTIO_BLK_S_OK, 2);
	for (uint32_t k = 0; k < MIB; k++)
		if (data[k] != 'w')
			hl_fail(3);
	expect(request(VIRTIO_BLK_T_IN, ~0ull, 512, true), VIRTIO_BLK_S_IOERR, 4);
	expect(request(VIRTIO_BLK_T_IN, 0, 100, true), VIRTIO_BLK_S_IOERR, 5);
	expect(request(VIRTIO_BLK_T_IN, 0, 8 * MIB, true), VIRTIO_BLK_S_IOERR,
	       6);
	expect(request(0x1234, 0, 512, true), VIRTIO_BLK_S_UNSUPP, 7);
	expect(request(VIRTIO_BLK_T_OUT, 0, 512, true), VIRTIO_BLK_S_IOERR, 8);
}
