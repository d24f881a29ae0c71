/*
 * Virtqueue descriptor walking against a hostile guest: the input is the
 * guest memory image (descriptor table, rings, buffers) plus the queue
 * geometry. Every chain the VMM accepts is touched end to end, so ASan sees
 * any host pointer that strays outside guest RAM.
 */
#include <stdint.h>
#include <string.h>

#include "vmm/vmm_impl.h"

#define MEM_SIZE (64u * 1024u)

static uint8_t ram[MEM_SIZE];

static uint64_t take(const uint8_t **p, size_t *n, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes && *n; i++, (*p)++, (*n)--)
		v |= (uint64_t)**p << (8 * i);
	return v;
}

static void touch(const struct vq_chain *c)
{
	volatile uint8_t sink = 0;
	for (unsigned i = 0; i < c->nr + c->nw; i++) {
		const uint8_t *b = c->iov[i].iov_base;
		size_t len = c->iov[i].iov_len;
		if (len)
			sink ^= b[0] ^ b[len - 1];
	}
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_mem gm = {.base = ram, .size = MEM_SIZE, .fd = -1};
	struct virtq vq = {0};
	char err[VMM_ERR_MAX];
	vq.num = (uint16_t)(1u << (take(&data, &size, 1) % 10));
	vq.desc_gpa = take(&data, &size, 3);
	vq.avail_gpa = take(&data, &size, 3);
	vq.used_gpa = take(&data, &size, 3);
	vq.last_avail = (uint16_t)take(&data, &size, 2);
	vq.used_idx = (uint16_t)take(&data, &size, 2);
	memset(ram, 0, sizeof(ram));
	memcpy(ram, data, size < MEM_SIZE ? size : MEM_SIZE);
	if (vq_validate(&gm, &vq, err) != 0)
		return 0;
	vq.ready = true;
	static struct vq_chain c;
	for (unsigned i = 0; i < 2 * VQ_MAX_SIZE; i++) {
		if (vq_pending(&gm, &vq) <= 0 || vq_pop(&gm, &vq, &c, err) != 1)
			break;
		touch(&c);
		if (vq_push(&gm, &vq, c.head, (uint32_t)c.wlen, err) != 0)
			break;
	}
	return 0;
}
