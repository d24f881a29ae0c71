/*
 * The free address ranges of the job's address space, for brk and mmap
 * bookkeeping. Pure C (hosted unit tests include it too). Job memory is
 * mapped eagerly by the VMM and starts zeroed, so a free range is either
 * clean (never handed out: zero, default PTEs) or dirty (handed out before:
 * must be zeroed and re-mapped when reused). Allocation prefers clean memory
 * because zeroing in ring 0 is expensive on PVM.
 */
#ifndef GK_EXTENT_H
#define GK_EXTENT_H

#include <stdbool.h>
#include <stdint.h>

#define GK_EXT_MAX 256

struct gk_extent {
	uint64_t lo, hi;
	uint32_t dirty;
};

/* Sorted by address, disjoint; adjacent extents of the same kind merged. */
struct gk_extents {
	uint32_t n;
	struct gk_extent e[GK_EXT_MAX];
};

/* Called for each piece of a range that is not clean free memory. */
typedef void (*gk_ext_fn)(uint64_t lo, uint64_t hi, void *ctx);

void gk_ext_init(struct gk_extents *x, uint64_t lo, uint64_t hi);
/* True if all of [lo, hi) is free. */
bool gk_ext_all_free(const struct gk_extents *x, uint64_t lo, uint64_t hi);
/* True if any of [lo, hi) is free. */
bool gk_ext_any_free(const struct gk_extents *x, uint64_t lo, uint64_t hi);
/* Highest address where len free bytes start, clean memory first; 0 if
 * none. */
uint64_t gk_ext_find(const struct gk_extents *x, uint64_t len);
/* Marks [lo, hi) in use. Calls fn for every piece that was in use or dirty
 * (the caller must zero those), in ascending order. Returns -1, changing
 * nothing, when the table is full. */
int gk_ext_take(struct gk_extents *x, uint64_t lo, uint64_t hi, gk_ext_fn fn,
		void *ctx);
/* Marks [lo, hi) free and dirty. Calls fn for every piece that was in use
 * (the caller unmaps those); pieces already free stay as they were.
 * Returns -1 when the table filled up part way. */
int gk_ext_release(struct gk_extents *x, uint64_t lo, uint64_t hi,
		   gk_ext_fn fn, void *ctx);

#endif
