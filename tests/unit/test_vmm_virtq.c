/* Split virtqueue, device side, against hostile rings. No /dev/kvm. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "vmm/vmm_impl.h"

#define DESC 0x1000ull
#define AVAIL 0x2000ull
#define USED 0x3000ull
#define BUF 0x10000ull

static struct guest_mem gm;
static struct virtq vq;
static struct vq_chain chain;
static char err[VMM_ERR_MAX];

static void setup(void)
{
	cr_assert_eq(gm_create(&gm, 8 << 20, err), 0, "%s", err);
	memset(&vq, 0, sizeof(vq));
	vq.num = 8;
	vq.desc_gpa = DESC;
	vq.avail_gpa = AVAIL;
	vq.used_gpa = USED;
	cr_assert_eq(vq_validate(&gm, &vq, err), 0, "%s", err);
	vq.ready = true;
}

static void teardown(void)
{
	gm_destroy(&gm);
}

TestSuite(vmm_virtq, .init = setup, .fini = teardown);

static void set_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	struct virtq_desc d = {addr, len, flags, next};
	cr_assert_eq(gm_write(&gm, DESC + 16ull * i, &d, sizeof(d)), 0);
}

static uint16_t avail_idx(void)
{
	uint16_t v;
	gm_read(&gm, AVAIL + 2, &v, 2);
	return v;
}

static void offer(uint16_t head)
{
	uint16_t idx = avail_idx();
	gm_write(&gm, AVAIL + 4 + 2ull * (idx % vq.num), &head, 2);
	idx++;
	gm_write(&gm, AVAIL + 2, &idx, 2);
}

Test(vmm_virtq, empty_queue_gives_nothing)
{
	cr_assert_eq(vq_pop(&gm, &vq, &chain, err), 0);
	cr_assert_eq(vq_pending(&gm, &vq), 0);
}

Test(vmm_virtq, readable_then_writable_chain)
{
	set_desc(0, BUF, 44, VIRTQ_DESC_F_NEXT, 3);
	set_desc(3, BUF + 0x100, 100, VIRTQ_DESC_F_NEXT, 5);
	set_desc(5, BUF + 0x1000, 200, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	cr_assert_eq(vq_pending(&gm, &vq), 1);
	cr_assert_eq(vq_pop(&gm, &vq, &chain, err), 1, "%s", err);
	cr_assert_eq(chain.head, 0);
	cr_assert_eq(chain.nr, 2);
	cr_assert_eq(chain.nw, 1);
	cr_assert_eq(chain.rlen, 144);
	cr_assert_eq(chain.wlen, 200);
	cr_assert_eq(chain.iov[0].iov_base, gm.base + BUF);
	cr_assert_eq(chain.iov[1].iov_base, gm.base + BUF + 0x100);
	cr_assert_eq(chain.iov[2].iov_base, gm.base + BUF + 0x1000);
	cr_assert_eq(vq_push(&gm, &vq, chain.head, 77, err), 0);
	struct virtq_used_elem e;
	uint16_t used_idx;
	gm_read(&gm, USED + 2, &used_idx, 2);
	gm_read(&gm, USED + 4, &e, sizeof(e));
	cr_assert_eq(used_idx, 1);
	cr_assert_eq(e.id, 0);
	cr_assert_eq(e.len, 77);
	cr_assert_eq(vq_pop(&gm, &vq, &chain, err), 0);
}

Test(vmm_virtq, descriptor_loop_is_refused)
{
	set_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	offer(0);
	cr_assert_eq(vq_pop(&gm, &vq, &chain, err), -1);
	cr_assert(strstr(err, "longer than the queue"), "%s", err);
}

Test(vmm_virtq, self_loop_is_refused)
{
	set_desc(2, BUF, 16, VIRTQ_DESC_F_NEXT, 2);
	offer(2);
	cr_assert_eq(vq_pop(&gm, &vq, &chain, err), -1);
}

Test(vmm_virtq, chain_longer_than_queue_is_refused)
{
	/* 8 distinct descriptors is the most; the 8th points back in. */
	for (uint16_t i = 0; i < 8; i++)
		set_desc(i, BUF, 1, VIRTQ_DESC_F_NEXT, (uint16_t)((i + 1) % 8));
	offer(0);
	cr_assert_eq(vq_pop(&gm, &vq, &chain, err), -1);
	/* exactly the queue size is fine */
	set_desc(7, BUF, 1, 0, 0);
	vq.last_avail = 0;
	cr_assert_eq(vq_pop(&gm, &vq, &chain, err), 1, "%s", err);
	cr_assert_eq(chain.nr, 8);
}

Test(vmm_virtq, next_index_out_of_range_is_refused)
{
	set_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 8);
	offer(0);
	cr_assert_eq(vq_pop(&gm, &vq, &chain, err), -1);
	cr_assert(strstr(err, "out of range"), "%s", err);
}

Test(vmm_virtq, head_out_of_range_is_refused)
{
	offer(0xffff);
	cr_assert_eq(vq_pop(&gm, &vq, &chain, err), -1);
}

Test(vmm_virtq, address_past_ram_is_refused)
{
	set_desc(0, gm.size - 8, 16, 0, 0);
	offer(0);
	cr_assert_eq(vq_pop(&gm, &vq, &chain, err), -1);
	cr_assert(strstr(err, "outside guest RAM"), "%s", err);
}

Test(vmm_virtq, wrapping_address_is_refused)
{
	set_desc(0, UINT64_MAX - 7, 16, 0, 0);
	offer(0);
	cr_assert_eq(vq_pop(&gm, &vq, &chain, err), -1);
}

Test(vmm_virtq, length_0xffffffff_is_refused)
{
	set_desc(0, BUF, 0xffffffffu, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	cr_assert_eq(vq_pop(&gm, &vq, &chain, err), -1);
}

Test(vmm_virtq, total_bytes_are_bounded)
{
	/* Each descriptor is inside RAM, the sum is not sane. */
	vq.num = 256;
	cr_assert_eq(vq_validate(&gm, &vq, err), 0, "%s", err);
	for (uint16_t i = 0; i < 256; i++)
		set_desc(i, 0, (uint32_t)gm.size, VIRTQ_DESC_F_NEXT,
			 (uint16_t)(i + 1));
	set_desc(255, 0, (uint32_t)gm.size, 0, 0);
	offer(0);
	cr_assert_eq(vq_pop(&gm, &vq, &chain, err), -1);
	cr_assert(strstr(err, "exceeds"), "%s", err);
}

Test(vmm_virtq, write_before_read_is_refused)
{
	set_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	set_desc(1, BUF + 16, 16, 0, 0);
	offer(0);
	cr_assert_eq(vq_pop(&gm, &vq, &chain, err), -1);
	cr_assert(strstr(err, "readable after"), "%s", err);
}

Test(vmm_virtq, indirect_is_refused)
{
	set_desc(0, BUF, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	cr_assert_eq(vq_pop(&gm, &vq, &chain, err), -1);
	cr_assert(strstr(err, "indirect"), "%s", err);
}

Test(vmm_virtq, avail_index_too_far_ahead_is_refused)
{
	uint16_t idx = 9; /* 9 outstanding in a queue of 8 */
	gm_write(&gm, AVAIL + 2, &idx, 2);
	cr_assert_eq(vq_pop(&gm, &vq, &chain, err), -1);
	cr_assert_eq(vq_pending(&gm, &vq), -1);
}

Test(vmm_virtq, indices_wrap_at_16_bits)
{
	uint16_t start = 0xfffe;
	vq.last_avail = start;
	vq.used_idx = start;
	gm_write(&gm, AVAIL + 2, &start, 2);
	gm_write(&gm, USED + 2, &start, 2);
	for (uint16_t i = 0; i < 3; i++) {
		set_desc(i, BUF + i * 64ull, 64, VIRTQ_DESC_F_WRITE, 0);
		offer(i);
	}
	cr_assert_eq(avail_idx(), 1);
	for (uint16_t i = 0; i < 3; i++) {
		cr_assert_eq(vq_pop(&gm, &vq, &chain, err), 1, "%s", err);
		cr_assert_eq(chain.head, i);
		cr_assert_eq(vq_push(&gm, &vq, chain.head, i, err), 0);
	}
	cr_assert_eq(vq_pop(&gm, &vq, &chain, err), 0);
	uint16_t used;
	gm_read(&gm, USED + 2, &used, 2);
	cr_assert_eq(used, 1);
	/* the third element landed in ring slot 0 (0x10000 % 8) */
	struct virtq_used_elem e;
	gm_read(&gm, USED + 4, &e, sizeof(e));
	cr_assert_eq(e.id, 2);
}

Test(vmm_virtq, unpop_gives_the_chain_back)
{
	set_desc(0, BUF, 64, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	cr_assert_eq(vq_pop(&gm, &vq, &chain, err), 1);
	vq_unpop(&vq);
	cr_assert_eq(vq_pending(&gm, &vq), 1);
	cr_assert_eq(vq_pop(&gm, &vq, &chain, err), 1);
}

Test(vmm_virtq, validate_checks_size_and_rings)
{
	struct virtq q = vq;

	q.num = 0;
	cr_assert_eq(vq_validate(&gm, &q, err), -1);
	q.num = 6;
	cr_assert_eq(vq_validate(&gm, &q, err), -1);
	q.num = 512;
	cr_assert_eq(vq_validate(&gm, &q, err), -1);
	q.num = 256;
	cr_assert_eq(vq_validate(&gm, &q, err), 0, "%s", err);
	q.desc_gpa = gm.size - 16;
	cr_assert_eq(vq_validate(&gm, &q, err), -1);
	q.desc_gpa = DESC + 8; /* misaligned */
	cr_assert_eq(vq_validate(&gm, &q, err), -1);
	q.desc_gpa = DESC;
	q.used_gpa = UINT64_MAX - 8;
	cr_assert_eq(vq_validate(&gm, &q, err), -1);
	q.used_gpa = USED + 2;
	cr_assert_eq(vq_validate(&gm, &q, err), -1);
	q.used_gpa = USED;
	q.avail_gpa = gm.size - 4;
	cr_assert_eq(vq_validate(&gm, &q, err), -1);
}
