/*
 * The memory half of snapshot and revert, without KVM: the guest's writes
 * are stood in for by setting bits in the dirty map, as KVM's log would.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "vmm/vmm_impl.h"

#define MIB (1ull << 20)
#define PG AL_PAGE_SIZE

static struct guest_mem gm;
static struct snapshot snap;
static char err[VMM_ERR_MAX];

static void setup(void)
{
	cr_assert_eq(gm_create(&gm, 16 * MIB, err), 0, "%s", err);
}

static void teardown(void)
{
	snapshot_free(&snap);
	gm_destroy(&gm);
}

TestSuite(vmm_snapshot, .init = setup, .fini = teardown);

static void fill(uint64_t gpa, uint64_t len, uint8_t v)
{
	uint8_t buf[PG];
	memset(buf, v, sizeof(buf));
	for (uint64_t o = 0; o < len; o += PG)
		cr_assert_eq(gm_write(&gm, gpa + o, buf, PG), 0);
}

/* A guest write: no mark by the VMM, only KVM's log would know. */
static void guest_write(uint64_t gpa, uint8_t v)
{
	memset(gm.base + gpa, v, PG);
	snap.dirty[gpa / PG / 64] |= 1ull << (gpa / PG % 64);
}

static bool page_is(uint64_t gpa, uint8_t v)
{
	for (uint64_t i = 0; i < PG; i++)
		if (gm.base[gpa + i] != v)
			return false;
	return true;
}

/* Pages the memfd holds data for. */
static uint64_t data_pages(void)
{
	uint64_t n = 0;
	off_t pos = 0;
	for (;;) {
		off_t lo = lseek(gm.fd, pos, SEEK_DATA);
		if (lo < 0)
			return n;
		off_t hi = lseek(gm.fd, lo, SEEK_HOLE);
		n += (uint64_t)(hi - lo) / PG;
		pos = hi;
	}
}

Test(vmm_snapshot, copies_only_pages_with_data)
{
	fill(0x1000, 3 * PG, 0x11);
	fill(8 * MIB, PG, 0x22);
	cr_assert_eq(snapshot_memory(&snap, &gm, err), 0, "%s", err);
	cr_assert_eq(snap.data_pages, 4);
	cr_assert_eq(snap.saved[0x1000], 0x11);
	cr_assert_eq(snap.saved[8 * MIB + PG - 1], 0x22);
	cr_assert_eq(snap.saved[4 * MIB], 0);
}

Test(vmm_snapshot, revert_undoes_vmm_and_guest_writes)
{
	fill(0x1000, 3 * PG, 0x11);
	cr_assert_eq(snapshot_memory(&snap, &gm, err), 0, "%s", err);
	fill(0x2000, PG, 0x99);       /* over pristine data, by the VMM */
	fill(5 * MIB, 2 * PG, 0x98);  /* over zeros, by the VMM */
	guest_write(0x3000, 0x97);    /* over pristine data, by the guest */
	guest_write(9 * MIB, 0x96);   /* over zeros, by the guest */
	struct vmm_revert_stats st;
	cr_assert_eq(snapshot_restore_memory(&snap, &gm, &st, err), 0, "%s",
		     err);
	cr_assert_eq(st.pages, 5);
	cr_assert_not(st.full);
	cr_assert(page_is(0x1000, 0x11) && page_is(0x2000, 0x11) &&
		  page_is(0x3000, 0x11));
	cr_assert(page_is(5 * MIB, 0) && page_is(5 * MIB + PG, 0) &&
		  page_is(9 * MIB, 0));
	/* The maps start empty for the next job. */
	cr_assert_eq(snapshot_restore_memory(&snap, &gm, &st, err), 0);
	cr_assert_eq(st.pages, 0);
}

Test(vmm_snapshot, mostly_dirty_ram_is_copied_back_whole)
{
	fill(0x1000, 2 * PG, 0x11);
	cr_assert_eq(snapshot_memory(&snap, &gm, err), 0, "%s", err);
	fill(MIB, 8 * MIB, 0x55); /* half of RAM */
	struct vmm_revert_stats st;
	cr_assert_eq(snapshot_restore_memory(&snap, &gm, &st, err), 0, "%s",
		     err);
	cr_assert(st.full);
	cr_assert_eq(st.pages, 8 * MIB / PG);
	/* Emptied and refilled: only the snapshot's data pages remain (count
	 * before reading holes, which a shared mapping fills in). */
	cr_assert_eq(data_pages(), 2);
	cr_assert(page_is(0x1000, 0x11) && page_is(0x2000, 0x11));
	cr_assert(page_is(MIB, 0) && page_is(9 * MIB - PG, 0));
}

Test(vmm_snapshot, marks_are_clipped_to_ram)
{
	cr_assert_eq(snapshot_memory(&snap, &gm, err), 0, "%s", err);
	gm_mark(&gm, 16 * MIB - PG, 10 * PG);
	gm_mark(&gm, 16 * MIB, PG);
	gm_mark(&gm, UINT64_MAX - 5, 100);
	struct vmm_revert_stats st;
	cr_assert_eq(snapshot_restore_memory(&snap, &gm, &st, err), 0);
	cr_assert_eq(st.pages, 1);
}
