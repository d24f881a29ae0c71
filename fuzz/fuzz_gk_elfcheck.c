/*
 * The guest kernel's own check of the job's ELF and program headers,
 * compiled for the host: the bytes are whatever the submitter handed in.
 */
#include <stddef.h>
#include <stdint.h>

#include "airlock/boot.h"
#include "guestkernel/host/elfcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gk_elf_info info;
	uint64_t bias = size > 0 && (data[0] & 1) ? AL_JOB_GPA : 0;
	if (size > AL_JOBHDR_SIZE)
		size = AL_JOBHDR_SIZE;
	gk_elf_check(data, size, bias, AL_JOB_GPA, 64ull << 20, &info);
	return 0;
}
