/*
 * Fuzzing mode's guest -> host record (struct al_fuzz_state in the boot
 * page): a hostile guest kernel asks for input bytes with any buffer,
 * length and offset, reports any end, or names an operation that does not
 * exist. Input: the record, then the current input's bytes. The snapshot
 * point itself needs a VM, so a POINT request is served as a READ.
 */
#include <stddef.h>
#include <string.h>

#include "vmm/run.h"

#define MEM (16u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem gm;
	static struct run r;
	static struct vmm_result res;
	char err[VMM_ERR_MAX];
	struct al_fuzz_state st;

	if (size < sizeof(st))
		return 0;
	if (!gm.base && gm_create(&gm, MEM, err) < 0)
		return 0;
	memcpy(&st, data, sizeof(st));
	if (st.op == AL_FUZZ_OP_POINT)
		st.op = AL_FUZZ_OP_READ;
	memset(&r, 0, sizeof(r));
	memset(&res, 0, sizeof(res));
	r.gm = gm;
	r.res = &res;
	r.fuzz = true;
	r.snap.saved = (uint8_t *)1; /* as if past the point: READs allowed */
	r.input = data + sizeof(st);
	r.input_len = size - sizeof(st);
	gm_write(&gm, AL_BOOTINFO_GPA + offsetof(struct al_bootinfo, fuzz), &st,
		 sizeof(st));
	fuzz_on_halt(&r);
	memset(gm.host_dirty, 0, (MEM / AL_PAGE_SIZE + 63) / 64 * 8);
	return 0;
}
