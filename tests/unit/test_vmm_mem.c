/* Guest memory: the one checked accessor and its edges. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "vmm/vmm_impl.h"

static struct guest_mem gm;
static char err[VMM_ERR_MAX];

static void setup(void)
{
	cr_assert_eq(gm_create(&gm, 1 << 20, err), 0, "%s", err);
}

static void teardown(void)
{
	gm_destroy(&gm);
}

TestSuite(vmm_mem, .init = setup, .fini = teardown);

Test(vmm_mem, accessor_accepts_ranges_inside_ram)
{
	cr_assert_eq(gm_ptr(&gm, 0, 1), gm.base);
	cr_assert_eq(gm_ptr(&gm, 0, gm.size), gm.base);
	cr_assert_eq(gm_ptr(&gm, gm.size - 1, 1), gm.base + gm.size - 1);
	/* an empty range at the very end is still inside */
	cr_assert_not_null(gm_ptr(&gm, gm.size, 0));
}

Test(vmm_mem, accessor_refuses_ranges_past_ram)
{
	cr_assert_null(gm_ptr(&gm, gm.size, 1));
	cr_assert_null(gm_ptr(&gm, gm.size - 1, 2));
	cr_assert_null(gm_ptr(&gm, 0, gm.size + 1));
	cr_assert_null(gm_ptr(&gm, gm.size + 4096, 0));
	cr_assert_null(gm_ptr(&gm, 0xd0000000ull, 4));
}

Test(vmm_mem, accessor_refuses_overflowing_ranges)
{
	cr_assert_null(gm_ptr(&gm, UINT64_MAX, 1));
	cr_assert_null(gm_ptr(&gm, UINT64_MAX - 3, 16));
	cr_assert_null(gm_ptr(&gm, 16, UINT64_MAX));
	cr_assert_null(gm_ptr(&gm, 16, UINT64_MAX - 15));
	cr_assert_null(gm_ptr(&gm, 0x1000, 0xffffffffull));
}

Test(vmm_mem, read_write_round_trip_and_bounds)
{
	uint8_t in[64], out[64];

	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7);
	cr_assert_eq(gm_write(&gm, 0x1234, in, sizeof(in)), 0);
	cr_assert_eq(gm_read(&gm, 0x1234, out, sizeof(out)), 0);
	cr_assert_arr_eq(in, out, sizeof(in));
	cr_assert_eq(gm_write(&gm, gm.size - 8, in, 16), -1);
	cr_assert_eq(gm_read(&gm, gm.size - 8, out, 16), -1);
}

Test(vmm_mem, zero_small_and_large_ranges)
{
	memset(gm.base, 0xaa, gm.size);
	cr_assert_eq(gm_zero(&gm, 100, 50), 0);
	cr_assert_eq(gm.base[99], 0xaa);
	cr_assert_eq(gm.base[100], 0);
	cr_assert_eq(gm.base[149], 0);
	cr_assert_eq(gm.base[150], 0xaa);
	/* large and unaligned: the middle is released, the edges memset */
	cr_assert_eq(gm_zero(&gm, 0x10010, 0x40000), 0);
	cr_assert_eq(gm.base[0x1000f], 0xaa);
	for (uint64_t a = 0x10010; a < 0x50010; a += 0x7ff)
		cr_assert_eq(gm.base[a], 0, "at 0x%llx", (unsigned long long)a);
	cr_assert_eq(gm.base[0x50010], 0xaa);
	cr_assert_eq(gm_zero(&gm, gm.size - 1, 2), -1);
}

Test(vmm_mem, create_refuses_bad_sizes)
{
	struct guest_mem g;

	cr_assert_eq(gm_create(&g, 0, err), -1);
	cr_assert_eq(gm_create(&g, 4095, err), -1);
	cr_assert_null(gm_ptr(&g, 0, 1));
}
