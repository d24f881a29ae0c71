/*
 * virtio-blk against a fake guest driver in a memfd-backed guest_mem, no
 * /dev/kvm: register and configuration space, reads, hostile requests, the
 * copy-on-write overlay, and the host image left untouched.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/vmm_impl.h"

#define QN 16u
#define DESC_GPA 0x10000ull
#define AVAIL_GPA 0x11000ull
#define USED_GPA 0x12000ull
#define HDR_GPA 0x13000ull
#define STATUS_GPA 0x13100ull
#define DATA_GPA 0x100000ull /* data buffers: up to BLK_MAX_DATA + slack */
#define MEM (16u << 20)
#define SECT VIRTIO_BLK_SECTOR_SIZE
#define NO_STATUS 0xeeu /* what the status byte holds until answered */

static struct guest_mem gm;
static struct blk *b;
static int img = -1;
static char img_path[] = "/tmp/airlock-test-blk-XXXXXX";
static char err[VMM_ERR_MAX];
static uint16_t avail_idx, used_seen;
static uint32_t room; /* the VM's overlay budget, in chunks */

/* ---- the image ---- */

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + off / 4096 + 1);
}

/* A read-only descriptor of a size-byte image holding pattern(). */
static int make_image(uint64_t size)
{
	int fd = mkstemp(img_path);
	cr_assert_geq(fd, 0);
	uint8_t buf[65536];
	for (uint64_t off = 0; off < size; off += sizeof(buf)) {
		size_t k = size - off < sizeof(buf) ? size - off : sizeof(buf);
		for (size_t i = 0; i < k; i++)
			buf[i] = pattern(off + i);
		cr_assert_eq(pwrite(fd, buf, k, (off_t)off), (ssize_t)k);
	}
	close(fd);
	fd = open(img_path, O_RDONLY);
	cr_assert_geq(fd, 0);
	return fd;
}

static uint64_t image_hash(int fd)
{
	uint8_t buf[65536];
	uint64_t h = 0xcbf29ce484222325ull, off = 0;
	ssize_t r;

	while ((r = pread(fd, buf, sizeof(buf), (off_t)off)) > 0) {
		for (ssize_t i = 0; i < r; i++)
			h = (h ^ buf[i]) * 0x100000001b3ull;
		off += (uint64_t)r;
	}
	return h ^ off;
}

/* ---- the transport ---- */

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0;
	cr_assert_eq(mmio_access(&b->vdev, off, &v, 4, false), 0);
	return v;
}

static int wr(uint64_t off, uint32_t v)
{
	return mmio_access(&b->vdev, off, &v, 4, true);
}

static void driver_init(void)
{
	uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS, st);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(VIRTIO_MMIO_STATUS, st |= VIRTIO_STATUS_FEATURES_OK);
	cr_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, QN);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, DESC_GPA);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, AVAIL_GPA);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, USED_GPA);
	cr_assert_eq(wr(VIRTIO_MMIO_QUEUE_READY, 1), 0, "%s", b->vdev.err);
	wr(VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_DRIVER_OK);
	cr_assert(mmio_driver_ok(&b->vdev));
}

/* A drive over a fresh image of size bytes, driver ready. */
static void start(uint64_t size, bool writable)
{
	img = make_image(size);
	struct vmm_drive d = {
	    .fd = img, .mount = "/data", .writable = writable};
	cr_assert_eq(gm_create(&gm, MEM, err), 0, "%s", err);
	b = calloc(1, sizeof(*b));
	room = BLK_OVERLAY_MAX / BLK_CHUNK_SIZE;
	cr_assert_eq(blk_init(b, &gm, AL_MMIO_GPA, &d, 0, &room, err), 0, "%s",
		     err);
	avail_idx = used_seen = 0;
	driver_init();
}

static void stop(void)
{
	if (b) {
		blk_destroy(b);
		free(b);
		b = NULL;
	}
	gm_destroy(&gm);
	if (img >= 0) {
		close(img);
		unlink(img_path);
		img = -1;
	}
	strcpy(img_path, "/tmp/airlock-test-blk-XXXXXX");
}

TestSuite(vmm_blk, .fini = stop);

/* ---- fake driver ---- */

struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* Offers the chain segs[0..n) from descriptor 0 and notifies. Returns the
 * notify's result; *used gets the used length (UINT32_MAX: not used). */
static int submit(const struct seg *s, unsigned n, uint32_t *used)
{
	for (unsigned i = 0; i < n; i++) {
		struct virtq_desc d = {
		    s[i].gpa, s[i].len,
		    (uint16_t)((s[i].write ? VIRTQ_DESC_F_WRITE : 0) |
			       (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
		    (uint16_t)(i + 1)};
		gm_write(&gm, DESC_GPA + 16ull * i, &d, sizeof(d));
	}
	uint16_t head = 0;
	gm_write(&gm, AVAIL_GPA + 4 + 2ull * (avail_idx % QN), &head, 2);
	avail_idx++;
	gm_write(&gm, AVAIL_GPA + 2, &avail_idx, 2);
	int rc = wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	uint16_t idx;
	gm_read(&gm, USED_GPA + 2, &idx, 2);
	*used = UINT32_MAX;
	if (idx != used_seen) {
		struct virtq_used_elem e;
		gm_read(&gm, USED_GPA + 4 + 8ull * (used_seen % QN), &e,
			sizeof(e));
		cr_assert_eq(e.id, 0);
		*used = e.len;
		used_seen++;
	}
	return rc;
}

static void put_hdr(uint32_t type, uint64_t sector)
{
	struct virtio_blk_req_hdr h = {.type = type, .sector = sector};
	gm_write(&gm, HDR_GPA, &h, sizeof(h));
	uint8_t st = NO_STATUS;
	gm_write(&gm, STATUS_GPA, &st, 1);
}

static uint8_t status(void)
{
	uint8_t st;
	gm_read(&gm, STATUS_GPA, &st, 1);
	return st;
}

/* The usual three-descriptor request; returns the status byte. */
static uint8_t req(uint32_t type, uint64_t sector, uint32_t len, uint32_t *used)
{
	uint32_t u;
	put_hdr(type, sector);
	struct seg s[3] = {{HDR_GPA, 16, false},
			   {DATA_GPA, len, type != VIRTIO_BLK_T_OUT},
			   {STATUS_GPA, 1, true}};
	cr_assert_eq(submit(s, 3, used ? used : &u), 0, "%s", b->vdev.err);
	return status();
}

static void check_pattern(uint64_t gpa, uint64_t off, uint64_t len)
{
	const uint8_t *p = gm_ptr(&gm, gpa, len);
	for (uint64_t i = 0; i < len; i++)
		cr_assert_eq(p[i], pattern(off + i), "byte %llu",
			     (unsigned long long)(off + i));
}

static void check_fill(uint64_t gpa, uint8_t v, uint64_t len)
{
	const uint8_t *p = gm_ptr(&gm, gpa, len);
	for (uint64_t i = 0; i < len; i++)
		cr_assert_eq(p[i], v, "byte %llu", (unsigned long long)i);
}

static uint8_t write_fill(uint64_t sector, uint8_t v, uint32_t len)
{
	memset(gm_ptr(&gm, DATA_GPA, len), v, len);
	return req(VIRTIO_BLK_T_OUT, sector, len, NULL);
}

/* ---- registers and configuration ---- */

static uint64_t config64(uint32_t off)
{
	uint64_t v = 0;
	cr_assert_eq(
	    mmio_access(&b->vdev, VIRTIO_MMIO_CONFIG + off, &v, 8, false), 0);
	return v;
}

static uint64_t features(void)
{
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t lo = rd(VIRTIO_MMIO_DEVICE_FEATURES);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return lo | (uint64_t)rd(VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

Test(vmm_blk, read_only_drive_announces_itself)
{
	start(3 * SECT, false);
	cr_assert_eq(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	uint64_t f = features();
	cr_assert(f & (1ull << VIRTIO_BLK_F_RO));
	cr_assert(f & (1ull << VIRTIO_BLK_F_SIZE_MAX));
	cr_assert(f & (1ull << VIRTIO_BLK_F_SEG_MAX));
	cr_assert(f & (1ull << VIRTIO_F_VERSION_1));
	cr_assert_eq(config64(0), 3);
	cr_assert_eq(config64(8) & 0xffffffff, BLK_SEG_BYTES);
	cr_assert_eq(config64(8) >> 32, BLK_MAX_DATA / BLK_SEG_BYTES);
	cr_assert_eq(config64(16), 0, "nothing past what we offer");
	uint8_t byte = 0xff;
	mmio_access(&b->vdev, VIRTIO_MMIO_CONFIG + 0, &byte, 1, false);
	cr_assert_eq(byte, 3);
}

Test(vmm_blk, writable_drive_is_not_read_only)
{
	start(SECT, true);
	cr_assert_not(features() & (1ull << VIRTIO_BLK_F_RO));
}

Test(vmm_blk, partial_last_sector_reads_zeros_past_the_end)
{
	start(2 * SECT + 100, false);
	cr_assert_eq(config64(0), 3);
	memset(gm_ptr(&gm, DATA_GPA, SECT), 0xaa, SECT);
	cr_assert_eq(req(VIRTIO_BLK_T_IN, 2, SECT, NULL), VIRTIO_BLK_S_OK);
	check_pattern(DATA_GPA, 2 * SECT, 100);
	check_fill(DATA_GPA + 100, 0, SECT - 100);
}

Test(vmm_blk, image_that_is_not_a_file_is_refused)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	struct vmm_drive d = {.fd = p[0], .mount = "/data"};
	struct blk dev;
	cr_assert_eq(gm_create(&gm, MEM, err), 0);
	cr_assert_eq(blk_init(&dev, &gm, AL_MMIO_GPA, &d, 3, &room, err), -1);
	cr_assert(strstr(err, "drive 3 (/data)"), "%s", err);
	d.fd = -1;
	cr_assert_eq(blk_init(&dev, &gm, AL_MMIO_GPA, &d, 3, &room, err), -1);
	cr_assert(strstr(err, "fstat"), "%s", err);
	close(p[0]);
	close(p[1]);
}

/* ---- reads ---- */

Test(vmm_blk, reads_land_in_guest_memory)
{
	uint32_t used;
	start(1 << 20, false);
	cr_assert_eq(req(VIRTIO_BLK_T_IN, 0, SECT, &used), VIRTIO_BLK_S_OK);
	cr_assert_eq(used, SECT + 1);
	check_pattern(DATA_GPA, 0, SECT);
	cr_assert_eq(req(VIRTIO_BLK_T_IN, 9, 64 * SECT, &used),
		     VIRTIO_BLK_S_OK);
	cr_assert_eq(used, 64 * SECT + 1);
	check_pattern(DATA_GPA, 9 * SECT, 64 * SECT);
}

Test(vmm_blk, largest_request_reads_to_the_last_sector)
{
	start(BLK_MAX_DATA + 8 * SECT, false);
	uint64_t last = (BLK_MAX_DATA + 8 * SECT) / SECT;
	cr_assert_eq(req(VIRTIO_BLK_T_IN, 8, BLK_MAX_DATA, NULL),
		     VIRTIO_BLK_S_OK);
	check_pattern(DATA_GPA, 8 * SECT, BLK_MAX_DATA);
	cr_assert_eq(req(VIRTIO_BLK_T_IN, last - 1, SECT, NULL),
		     VIRTIO_BLK_S_OK);
	check_pattern(DATA_GPA, (last - 1) * SECT, SECT);
}

Test(vmm_blk, any_layout_header_data_and_status_split_freely)
{
	uint32_t used;
	start(64 * SECT, false);
	put_hdr(VIRTIO_BLK_T_IN, 3);
	/* Header in two pieces; data in three uneven pieces, the last one
	 * sharing its descriptor with the status byte. */
	uint64_t st = DATA_GPA + 0x10000 + 836;
	struct seg s[] = {{HDR_GPA, 5, false},
			  {HDR_GPA + 5, 11, false},
			  {DATA_GPA, 100, true},
			  {DATA_GPA + 0x8000, 0, true},
			  {DATA_GPA + 0x4000, 600, true},
			  {DATA_GPA + 0x10000, 837, true}};
	cr_assert_eq(submit(s, 6, &used), 0);
	cr_assert_eq(used, 3 * SECT + 1);
	uint8_t v;
	gm_read(&gm, st, &v, 1);
	cr_assert_eq(v, VIRTIO_BLK_S_OK);
	check_pattern(DATA_GPA, 3 * SECT, 100);
	check_pattern(DATA_GPA + 0x4000, 3 * SECT + 100, 600);
	check_pattern(DATA_GPA + 0x10000, 3 * SECT + 700, 836);
}

/* ---- hostile requests ---- */

Test(vmm_blk, out_of_range_sectors_are_io_errors)
{
	uint32_t used;
	start(16 * SECT, false);
	static const uint64_t bad[] = {
	    16,
	    17,
	    UINT64_MAX,
	    UINT64_MAX / SECT,
	    UINT64_MAX / SECT + 1,
	    (UINT64_MAX - 16 * SECT) / SECT,
	    1ull << 55,
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(req(VIRTIO_BLK_T_IN, bad[i], SECT, &used),
			     VIRTIO_BLK_S_IOERR, "sector %llu",
			     (unsigned long long)bad[i]);
		cr_assert_eq(used, 1);
	}
	/* Starts inside, runs past the end. */
	cr_assert_eq(req(VIRTIO_BLK_T_IN, 15, 2 * SECT, NULL),
		     VIRTIO_BLK_S_IOERR);
	cr_assert_eq(req(VIRTIO_BLK_T_IN, 15, SECT, NULL), VIRTIO_BLK_S_OK);
	/* Zero bytes at the very end is in range and does nothing. */
	cr_assert_eq(req(VIRTIO_BLK_T_IN, 16, 0, &used), VIRTIO_BLK_S_OK);
	cr_assert_eq(used, 1);
}

Test(vmm_blk, lengths_must_be_whole_sectors_and_bounded)
{
	start(2 * BLK_MAX_DATA, false);
	cr_assert_eq(req(VIRTIO_BLK_T_IN, 0, SECT - 1, NULL),
		     VIRTIO_BLK_S_IOERR);
	cr_assert_eq(req(VIRTIO_BLK_T_IN, 0, SECT + 1, NULL),
		     VIRTIO_BLK_S_IOERR);
	cr_assert_eq(req(VIRTIO_BLK_T_IN, 0, BLK_MAX_DATA + SECT, NULL),
		     VIRTIO_BLK_S_IOERR);
}

Test(vmm_blk, malformed_requests_are_io_errors)
{
	uint32_t used;
	start(16 * SECT, false);

	/* Header shorter than 16 bytes. */
	put_hdr(VIRTIO_BLK_T_IN, 0);
	struct seg shorthdr[] = {{HDR_GPA, 15, false}, {STATUS_GPA, 1, true}};
	cr_assert_eq(submit(shorthdr, 2, &used), 0);
	cr_assert_eq(status(), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(used, 1);

	/* A read with device-readable data after the header. */
	put_hdr(VIRTIO_BLK_T_IN, 0);
	struct seg extra[] = {{HDR_GPA, 16, false},
			      {DATA_GPA, SECT, false},
			      {STATUS_GPA, 1, true}};
	cr_assert_eq(submit(extra, 3, &used), 0);
	cr_assert_eq(status(), VIRTIO_BLK_S_IOERR);

	/* A flush with data. */
	cr_assert_eq(req(VIRTIO_BLK_T_FLUSH, 0, SECT, NULL),
		     VIRTIO_BLK_S_IOERR);
}

Test(vmm_blk, request_without_status_byte_is_consumed_unanswered)
{
	uint32_t used;
	start(16 * SECT, false);
	put_hdr(VIRTIO_BLK_T_IN, 0);
	struct seg s[] = {{HDR_GPA, 16, false}};
	cr_assert_eq(submit(s, 1, &used), 0);
	cr_assert_eq(used, 0);
	cr_assert_eq(status(), NO_STATUS);
	/* The device goes on. */
	cr_assert_eq(req(VIRTIO_BLK_T_IN, 0, SECT, NULL), VIRTIO_BLK_S_OK);
}

Test(vmm_blk, unknown_types_are_unsupported)
{
	uint32_t used;
	start(16 * SECT, false);
	static const uint32_t types[] = {2, 5, 11, 13, 0x80000000u, UINT32_MAX};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		cr_assert_eq(req(types[i], 0, SECT, &used), VIRTIO_BLK_S_UNSUPP,
			     "type %u", types[i]);
		cr_assert_eq(used, 1);
	}
}

Test(vmm_blk, flush_and_get_id)
{
	uint32_t used;
	start(16 * SECT, false);
	put_hdr(VIRTIO_BLK_T_FLUSH, 0);
	struct seg flush[] = {{HDR_GPA, 16, false}, {STATUS_GPA, 1, true}};
	cr_assert_eq(submit(flush, 2, &used), 0);
	cr_assert_eq(status(), VIRTIO_BLK_S_OK);

	memset(gm_ptr(&gm, DATA_GPA, 64), 'x', 64);
	cr_assert_eq(req(VIRTIO_BLK_T_GET_ID, 0, 64, &used), VIRTIO_BLK_S_OK);
	cr_assert_eq(used, VIRTIO_BLK_ID_BYTES + 1);
	cr_assert_str_eq((char *)gm_ptr(&gm, DATA_GPA, 20), "airlock-drive-0");
	cr_assert_eq(*(char *)gm_ptr(&gm, DATA_GPA + 20, 1), 'x');
	/* A short buffer gets what fits. */
	cr_assert_eq(req(VIRTIO_BLK_T_GET_ID, 0, 7, &used), VIRTIO_BLK_S_OK);
	cr_assert_eq(used, 8);
}

Test(vmm_blk, broken_rings_end_the_vm_with_a_message)
{
	uint32_t used;
	start(16 * SECT, false);
	put_hdr(VIRTIO_BLK_T_IN, 0);
	/* Data outside guest RAM. */
	struct seg s[] = {{HDR_GPA, 16, false},
			  {MEM - SECT / 2, SECT, true},
			  {STATUS_GPA, 1, true}};
	cr_assert_eq(submit(s, 3, &used), -1);
	cr_assert(strstr(b->vdev.err, "virtio-blk drive 0"), "%s", b->vdev.err);
	cr_assert(strstr(b->vdev.err, "outside guest RAM"), "%s", b->vdev.err);
}

Test(vmm_blk, notify_before_driver_ok_does_nothing)
{
	start(16 * SECT, false);
	wr(VIRTIO_MMIO_STATUS, 0);
	cr_assert_eq(blk_process(b), 0);
}

/* ---- writes and the overlay ---- */

Test(vmm_blk, read_only_drive_refuses_writes)
{
	uint32_t used;
	start(16 * SECT, false);
	uint64_t before = image_hash(img);
	cr_assert_eq(write_fill(0, 0x55, SECT), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(req(VIRTIO_BLK_T_IN, 0, SECT, &used), VIRTIO_BLK_S_OK);
	check_pattern(DATA_GPA, 0, SECT);
	cr_assert_eq(image_hash(img), before);
}

Test(vmm_blk, writes_read_back_and_never_reach_the_image)
{
	start(64 * SECT, true);
	uint64_t before = image_hash(img);
	/* Sector 9 lies inside the second 4 KiB chunk: the rest of that
	 * chunk must still read as the image. */
	cr_assert_eq(write_fill(9, 0x55, SECT), VIRTIO_BLK_S_OK);
	cr_assert_eq(req(VIRTIO_BLK_T_IN, 0, 24 * SECT, NULL), VIRTIO_BLK_S_OK);
	check_pattern(DATA_GPA, 0, 9 * SECT);
	check_fill(DATA_GPA + 9 * SECT, 0x55, SECT);
	check_pattern(DATA_GPA + 10 * SECT, 10 * SECT, 14 * SECT);
	/* Overwrite across a chunk boundary, partly over the dirty chunk. */
	cr_assert_eq(write_fill(15, 0x66, 3 * SECT), VIRTIO_BLK_S_OK);
	cr_assert_eq(req(VIRTIO_BLK_T_IN, 8, 16 * SECT, NULL), VIRTIO_BLK_S_OK);
	check_pattern(DATA_GPA, 8 * SECT, SECT);
	check_fill(DATA_GPA + SECT, 0x55, SECT);
	check_pattern(DATA_GPA + 2 * SECT, 10 * SECT, 5 * SECT);
	check_fill(DATA_GPA + 7 * SECT, 0x66, 3 * SECT);
	check_pattern(DATA_GPA + 10 * SECT, 18 * SECT, 6 * SECT);
	cr_assert_eq(image_hash(img), before);
}

Test(vmm_blk, write_of_the_partial_last_sector_keeps_zeros)
{
	start(SECT + 10, true);
	cr_assert_eq(write_fill(0, 0x77, SECT), VIRTIO_BLK_S_OK);
	cr_assert_eq(req(VIRTIO_BLK_T_IN, 0, 2 * SECT, NULL), VIRTIO_BLK_S_OK);
	check_fill(DATA_GPA, 0x77, SECT);
	check_pattern(DATA_GPA + SECT, SECT, 10);
	check_fill(DATA_GPA + SECT + 10, 0, SECT - 10);
}

Test(vmm_blk, write_with_more_than_a_status_byte_writable_is_refused)
{
	start(16 * SECT, true);
	put_hdr(VIRTIO_BLK_T_OUT, 0);
	uint32_t used;
	struct seg s[] = {{HDR_GPA, 16, false},
			  {DATA_GPA, SECT, false},
			  {DATA_GPA + SECT, SECT, true},
			  {STATUS_GPA, 1, true}};
	cr_assert_eq(submit(s, 4, &used), 0);
	cr_assert_eq(status(), VIRTIO_BLK_S_IOERR);
}

Test(vmm_blk, overlay_is_capped_and_a_refused_write_changes_nothing)
{
	const uint64_t size = BLK_OVERLAY_MAX + BLK_MAX_DATA;
	const uint32_t per = BLK_MAX_DATA / SECT;
	start(size, true);
	uint64_t before = image_hash(img);
	uint64_t s = 0;
	for (; s * SECT < BLK_OVERLAY_MAX; s += per)
		cr_assert_eq(write_fill(s, (uint8_t)s, BLK_MAX_DATA),
			     VIRTIO_BLK_S_OK, "sector %llu",
			     (unsigned long long)s);
	/* Full: a write that needs a new chunk fails, also one that
	 * straddles the last dirty chunk, which stays as it was. */
	cr_assert_eq(write_fill(s, 0x99, SECT), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(write_fill(s - 8, 0x99, 16 * SECT), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(req(VIRTIO_BLK_T_IN, s - 8, 16 * SECT, NULL),
		     VIRTIO_BLK_S_OK);
	check_fill(DATA_GPA, (uint8_t)(s - per), 8 * SECT);
	check_pattern(DATA_GPA + 8 * SECT, s * SECT, 8 * SECT);
	/* Rewriting a dirty chunk needs no room. */
	cr_assert_eq(write_fill(0, 0xab, SECT), VIRTIO_BLK_S_OK);
	cr_assert_eq(image_hash(img), before);
}

Test(vmm_blk, overlay_budget_is_the_vms_not_the_drives)
{
	start(64 * SECT, true);
	room = 2; /* as if other drives had taken the rest */
	cr_assert_eq(write_fill(0, 1, 3 * BLK_CHUNK_SIZE), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(room, 2);
	cr_assert_eq(write_fill(0, 1, 2 * BLK_CHUNK_SIZE), VIRTIO_BLK_S_OK);
	cr_assert_eq(room, 0);
	cr_assert_eq(write_fill(16, 1, SECT), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(write_fill(0, 2, SECT), VIRTIO_BLK_S_OK);
}

/* ---- the drive table ---- */

Test(vmm_blk, job_message_carries_the_drive_table)
{
	char *argv[] = {"prog", NULL}, *envp[] = {NULL};
	struct vmm_job_image img = {0};
	struct al_job_drive d[2] = {
	    {.mmio_index = 1, .mount = "/data"},
	    {.mmio_index = 2, .flags = AL_DRIVE_F_WRITABLE, .mount = "/w"},
	};
	uint8_t *msg;
	size_t len;
	struct al_job j;

	cr_assert_eq(control_build_job(argv, envp, &img, 64, 1 << 20, d, 2,
				       &msg, &len, err),
		     0, "%s", err);
	memcpy(&j, msg + sizeof(struct al_msg_hdr), sizeof(j));
	free(msg);
	cr_assert_eq(j.ndrives, 2);
	cr_assert_eq(j.drives[1].mmio_index, 2);
	cr_assert_eq(j.drives[1].flags, AL_DRIVE_F_WRITABLE);
	cr_assert_str_eq(j.drives[0].mount, "/data");
	cr_assert_eq(j.drives[2].mmio_index, 0);
	cr_assert_eq(control_build_job(argv, envp, &img, 64, 1 << 20, d,
				       AL_DRIVES_MAX + 1, &msg, &len, err),
		     -1);
}

static const char *run_with_drives(const struct vmm_drive *d, unsigned n)
{
	static const char kernel[64] = "\x7f"
				       "ELF";
	static char *argv[] = {"prog", NULL}, *envp[] = {NULL};
	static struct vmm_result r;
	struct vmm_config c = {
	    .kvm_fd = -1,
	    .mem_mib = 64,
	    .kernel = kernel,
	    .kernel_len = sizeof(kernel),
	    .job_fd = -1,
	    .job_name = "prog",
	    .argv = argv,
	    .envp = envp,
	    .stdin_fd = -1,
	    .stdout_fd = -1,
	    .stderr_fd = -1,
	    .timeout_ms = 1000,
	    .drives = d,
	    .ndrives = n,
	};
	cr_assert_eq(vmm_run(&c, &r), 0);
	cr_assert_eq(r.outcome, VMM_ERROR);
	return r.message;
}

Test(vmm_blk, bad_drive_configs_are_errors)
{
	struct vmm_drive d[AL_DRIVES_MAX + 1];
	char long_path[AL_MOUNT_MAX + 1];

	for (unsigned i = 0; i <= AL_DRIVES_MAX; i++)
		d[i] = (struct vmm_drive){.fd = -1, .mount = "/data"};
	cr_assert(strstr(run_with_drives(d, AL_DRIVES_MAX + 1), "at most 16"));
	cr_assert(strstr(run_with_drives(NULL, 1), "no drive table"));
	d[1].mount = "data";
	cr_assert(strstr(run_with_drives(d, 2), "drive 1: the guest path"));
	memset(long_path, 'a', sizeof(long_path));
	long_path[0] = '/';
	long_path[AL_MOUNT_MAX] = '\0';
	d[1].mount = long_path;
	cr_assert(strstr(run_with_drives(d, 2), "drive 1: the guest path"));
	d[1].mount = NULL;
	cr_assert(strstr(run_with_drives(d, 2), "drive 1: the guest path"));
}
