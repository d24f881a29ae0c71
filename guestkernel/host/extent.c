/* Free-range bookkeeping for job memory; see extent.h. */
#include "extent.h"

void gk_ext_init(struct gk_extents *x, uint64_t lo, uint64_t hi)
{
	x->n = 0;
	if (lo < hi)
		x->e[x->n++] = (struct gk_extent){lo, hi, 0};
}

/* Index of the first extent ending above a. */
static uint32_t first_above(const struct gk_extents *x, uint64_t a)
{
	uint32_t i = 0;
	while (i < x->n && x->e[i].hi <= a)
		i++;
	return i;
}

bool gk_ext_all_free(const struct gk_extents *x, uint64_t lo, uint64_t hi)
{
	uint64_t cur = lo;
	for (uint32_t i = first_above(x, lo); i < x->n && cur < hi; i++) {
		if (x->e[i].lo > cur)
			return false;
		cur = x->e[i].hi;
	}
	return cur >= hi;
}

bool gk_ext_any_free(const struct gk_extents *x, uint64_t lo, uint64_t hi)
{
	uint32_t i = first_above(x, lo);
	return i < x->n && x->e[i].lo < hi;
}

uint64_t gk_ext_find(const struct gk_extents *x, uint64_t len)
{
	uint64_t dirty_pick = 0;
	for (uint32_t i = x->n; i-- > 0;) {
		const struct gk_extent *e = &x->e[i];
		if (e->hi - e->lo < len)
			continue;
		if (!e->dirty)
			return e->hi - len;
		if (!dirty_pick)
			dirty_pick = e->hi - len;
	}
	return dirty_pick;
}

static void remove_at(struct gk_extents *x, uint32_t i)
{
	for (uint32_t j = i; j + 1 < x->n; j++)
		x->e[j] = x->e[j + 1];
	x->n--;
}

static void insert_at(struct gk_extents *x, uint32_t i, struct gk_extent e)
{
	for (uint32_t j = x->n; j > i; j--)
		x->e[j] = x->e[j - 1];
	x->e[i] = e;
	x->n++;
}

/* Reports the pieces of [lo, hi) that are in use or dirty. */
static void report_unclean(const struct gk_extents *x, uint64_t lo,
			   uint64_t hi, gk_ext_fn fn, void *ctx)
{
	uint64_t cur = lo;
	for (uint32_t i = first_above(x, lo); i < x->n && x->e[i].lo < hi;
	     i++) {
		const struct gk_extent *e = &x->e[i];
		if (e->lo > cur)
			fn(cur, e->lo, ctx);
		uint64_t top = e->hi < hi ? e->hi : hi;
		if (e->dirty)
			fn(e->lo > cur ? e->lo : cur, top, ctx);
		cur = top;
	}
	if (cur < hi)
		fn(cur, hi, ctx);
}

int gk_ext_take(struct gk_extents *x, uint64_t lo, uint64_t hi, gk_ext_fn fn,
		void *ctx)
{
	uint32_t i = first_above(x, lo);
	/* Only a cut strictly inside one extent adds an entry. */
	if (i < x->n && x->e[i].lo < lo && x->e[i].hi > hi &&
	    x->n == GK_EXT_MAX)
		return -1;
	if (fn)
		report_unclean(x, lo, hi, fn, ctx);
	while (i < x->n && x->e[i].lo < hi) {
		struct gk_extent *e = &x->e[i];
		if (e->lo < lo && e->hi > hi) {
			struct gk_extent upper = {hi, e->hi, e->dirty};
			e->hi = lo;
			insert_at(x, i + 1, upper);
			return 0;
		}
		if (e->lo < lo) {
			e->hi = lo;
			i++;
		} else if (e->hi > hi) {
			e->lo = hi;
			return 0;
		} else {
			remove_at(x, i);
		}
	}
	return 0;
}

/* Inserts the in-use piece [lo, hi) as dirty at index i, merging with
 * dirty neighbours. */
static int insert_dirty(struct gk_extents *x, uint32_t i, uint64_t lo,
			uint64_t hi)
{
	struct gk_extent *prev = i > 0 ? &x->e[i - 1] : 0;
	struct gk_extent *next = i < x->n ? &x->e[i] : 0;
	bool join_prev = prev && prev->dirty && prev->hi == lo;
	bool join_next = next && next->dirty && next->lo == hi;
	if (join_prev && join_next) {
		prev->hi = next->hi;
		remove_at(x, i);
	} else if (join_prev) {
		prev->hi = hi;
	} else if (join_next) {
		next->lo = lo;
	} else {
		if (x->n == GK_EXT_MAX)
			return -1;
		insert_at(x, i, (struct gk_extent){lo, hi, 1});
	}
	return 0;
}

int gk_ext_release(struct gk_extents *x, uint64_t lo, uint64_t hi,
		   gk_ext_fn fn, void *ctx)
{
	uint64_t cur = lo;
	uint32_t i = first_above(x, lo);
	while (cur < hi) {
		if (i < x->n && x->e[i].lo <= cur) {
			cur = x->e[i].hi; /* already free */
			i++;
			continue;
		}
		uint64_t end = i < x->n && x->e[i].lo < hi ? x->e[i].lo : hi;
		if (insert_dirty(x, i, cur, end) < 0)
			return -1;
		if (fn)
			fn(cur, end, ctx);
		/* Re-find our place: the insert may have merged or shifted. */
		i = first_above(x, end - 1);
		cur = end;
	}
	return 0;
}
