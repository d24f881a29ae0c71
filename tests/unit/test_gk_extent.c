/* Unit tests for the guest kernel's free-range bookkeeping (brk/mmap). */
#include <criterion/criterion.h>
#include <stdint.h>

#include "guestkernel/host/extent.h"

#define P 4096ull

static struct gk_extents x;
static uint64_t seen[16][2];
static unsigned nseen;

static void note(uint64_t lo, uint64_t hi, void *ctx)
{
	(void)ctx;
	cr_assert_lt(nseen, 16);
	seen[nseen][0] = lo;
	seen[nseen][1] = hi;
	nseen++;
}

static void check_sorted(void)
{
	for (uint32_t i = 0; i < x.n; i++) {
		cr_assert_lt(x.e[i].lo, x.e[i].hi);
		if (i)
			cr_assert_leq(x.e[i - 1].hi, x.e[i].lo);
		if (i && x.e[i - 1].hi == x.e[i].lo)
			cr_assert_neq(x.e[i - 1].dirty, x.e[i].dirty,
				      "unmerged neighbours at %u", i);
	}
}

Test(gk_extent, fresh_memory_is_clean_and_found_top_down)
{
	gk_ext_init(&x, 10 * P, 100 * P);
	cr_expect_eq(gk_ext_find(&x, 5 * P), 95 * P);
	cr_expect_eq(gk_ext_find(&x, 91 * P), 0);
	nseen = 0;
	cr_assert_eq(gk_ext_take(&x, 95 * P, 100 * P, note, NULL), 0);
	cr_expect_eq(nseen, 0, "clean memory needs no zeroing");
	cr_expect(gk_ext_all_free(&x, 10 * P, 95 * P));
	cr_expect_not(gk_ext_all_free(&x, 10 * P, 96 * P));
	cr_expect_not(gk_ext_any_free(&x, 95 * P, 100 * P));
	check_sorted();
}

Test(gk_extent, released_memory_is_dirty_and_reused_last)
{
	gk_ext_init(&x, 10 * P, 100 * P);
	gk_ext_take(&x, 90 * P, 100 * P, NULL, NULL);
	nseen = 0;
	cr_assert_eq(gk_ext_release(&x, 92 * P, 94 * P, note, NULL), 0);
	cr_assert_eq(nseen, 1);
	cr_expect_eq(seen[0][0], 92 * P);
	cr_expect_eq(seen[0][1], 94 * P);
	/* clean memory below is preferred to the dirty hole above */
	cr_expect_eq(gk_ext_find(&x, 2 * P), 88 * P);
	/* once clean memory is gone, the dirty hole is used and reported */
	gk_ext_take(&x, 10 * P, 90 * P, NULL, NULL);
	cr_expect_eq(gk_ext_find(&x, 2 * P), 92 * P);
	nseen = 0;
	gk_ext_take(&x, 92 * P, 94 * P, note, NULL);
	cr_assert_eq(nseen, 1);
	cr_expect_eq(x.n, 0);
}

Test(gk_extent, release_keeps_clean_parts_and_merges_dirty)
{
	gk_ext_init(&x, 0, 100 * P);
	gk_ext_take(&x, 20 * P, 30 * P, NULL, NULL);
	gk_ext_take(&x, 40 * P, 50 * P, NULL, NULL);
	nseen = 0;
	/* spans in-use, clean free, in-use */
	cr_assert_eq(gk_ext_release(&x, 25 * P, 45 * P, note, NULL), 0);
	cr_assert_eq(nseen, 2);
	cr_expect_eq(seen[0][0], 25 * P);
	cr_expect_eq(seen[0][1], 30 * P);
	cr_expect_eq(seen[1][0], 40 * P);
	cr_expect_eq(seen[1][1], 45 * P);
	check_sorted();
	cr_expect(gk_ext_all_free(&x, 25 * P, 45 * P));
	cr_expect_not(gk_ext_any_free(&x, 20 * P, 25 * P));
	/* releasing the rest merges everything dirty around 30..40 clean */
	gk_ext_release(&x, 20 * P, 25 * P, NULL, NULL);
	gk_ext_release(&x, 45 * P, 50 * P, NULL, NULL);
	check_sorted();
	cr_expect(gk_ext_all_free(&x, 0, 100 * P));
	cr_expect_eq(x.n, 5); /* clean, dirty, clean, dirty, clean */
}

Test(gk_extent, fixed_take_reports_in_use_and_dirty_pieces)
{
	gk_ext_init(&x, 0, 100 * P);
	gk_ext_take(&x, 10 * P, 20 * P, NULL, NULL);
	gk_ext_release(&x, 15 * P, 20 * P, NULL, NULL);
	nseen = 0;
	/* 5..10 clean, 10..15 in use, 15..20 dirty, 20..25 clean */
	cr_assert_eq(gk_ext_take(&x, 5 * P, 25 * P, note, NULL), 0);
	cr_assert_eq(nseen, 2);
	cr_expect_eq(seen[0][0], 10 * P);
	cr_expect_eq(seen[0][1], 15 * P);
	cr_expect_eq(seen[1][0], 15 * P);
	cr_expect_eq(seen[1][1], 20 * P);
	cr_expect_not(gk_ext_any_free(&x, 5 * P, 25 * P));
	cr_expect(gk_ext_all_free(&x, 0, 5 * P));
	cr_expect(gk_ext_all_free(&x, 25 * P, 100 * P));
	check_sorted();
}

Test(gk_extent, full_table_fails_without_change)
{
	gk_ext_init(&x, 0, 4 * GK_EXT_MAX * P);
	/* punch holes until the table is full */
	for (uint64_t i = 0; x.n < GK_EXT_MAX; i++)
		cr_assert_eq(gk_ext_take(&x, (4 * i + 1) * P, (4 * i + 2) * P,
					 NULL, NULL),
			     0);
	uint32_t n = x.n;
	uint64_t last_lo = x.e[n - 1].lo, last_hi = x.e[n - 1].hi;
	cr_expect_eq(gk_ext_take(&x, last_lo + P, last_lo + 2 * P, NULL, NULL),
		     -1);
	cr_expect_eq(x.n, n);
	cr_expect_eq(x.e[n - 1].hi, last_hi);
	/* trimming an edge needs no new entry */
	cr_expect_eq(gk_ext_take(&x, last_lo, last_lo + P, NULL, NULL), 0);
}
