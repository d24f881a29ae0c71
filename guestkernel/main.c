/* Boot: from the VMM's prepared state to the job in ring 3. */
#include "gk.h"
#include "vfs.h"

static void check_bootinfo(const struct al_bootinfo *bi)
{
	if (bi->magic != AL_BOOTINFO_MAGIC || bi->version != AL_BOOT_VERSION)
		gk_panic("boot block magic %x version %u, want %x version %u",
			 (uint64_t)bi->magic, (uint64_t)bi->version,
			 (uint64_t)AL_BOOTINFO_MAGIC,
			 (uint64_t)AL_BOOT_VERSION);
	if (bi->tsc_khz == 0)
		gk_panic("boot block has no TSC frequency");
}

void gk_main(struct al_bootinfo *bi)
{
	(void)bi; /* == GK_BI, a constant address */
	check_bootinfo(GK_BI);
	mm_boot();
	vsock_init();
	devfs_boot(); /* before READY: the tree is part of the snapshot */
	static struct gk_job job;
	job_receive(&job);
	exec_job(&job);
}
