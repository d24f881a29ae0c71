/*
 * getrandom: ChaCha12 keyed with the boot block's per-run
 * seed (the VMM writes a fresh one for every job, so the generator is keyed
 * when the job starts, never in the snapshot). Twelve rounds keep the
 * security margin of ChaCha at about 60% of ChaCha20's ring-0 instructions,
 * which PVM emulates one by one.
 */
#include "gk.h"

#define ROUNDS 12

static uint32_t key[8];
static uint64_t counter;

void random_seed(void)
{
	const uint64_t *seed = GK_BI->fresh.seed;
	for (unsigned i = 0; i < 4; i++) {
		key[2 * i] = (uint32_t)seed[i];
		key[2 * i + 1] = (uint32_t)(seed[i] >> 32);
	}
	counter = 0;
}

static inline uint32_t rotl(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

#define QR(a, b, c, d)                                                         \
	do {                                                                   \
		a += b, d = rotl(d ^ a, 16);                                   \
		c += d, b = rotl(b ^ c, 12);                                   \
		a += b, d = rotl(d ^ a, 8);                                    \
		c += d, b = rotl(b ^ c, 7);                                    \
	} while (0)

static void chacha_block(uint32_t out[16])
{
	uint32_t in[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,
			   key[0],     key[1],     key[2],     key[3],
			   key[4],     key[5],     key[6],     key[7],
			   (uint32_t)counter, (uint32_t)(counter >> 32), 0, 0};
	uint32_t x[16];
	for (unsigned i = 0; i < 16; i++)
		x[i] = in[i];
	for (unsigned r = 0; r < ROUNDS; r += 2) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (unsigned i = 0; i < 16; i++)
		out[i] = x[i] + in[i];
	counter++;
}

void random_fill(uint64_t dst, uint64_t n)
{
	uint32_t block[16];
	while (n) {
		chacha_block(block);
		uint64_t take = GK_MIN(n, (uint64_t)sizeof(block));
		gk_copy((void *)(uintptr_t)dst, block, take);
		dst += take;
		n -= take;
	}
	gk_zero(block, sizeof(block)); /* no key stream left on the stack */
}
