/*
 * Host-side checks and loading of job binaries: any file a user submits goes
 * through vmm_check_job, then job_load writes it into guest RAM.
 */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/vmm_impl.h"

#define GUEST_MIB 16u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem gm;
	char err[VMM_ERR_MAX];
	if (!gm.base && gm_create(&gm, (uint64_t)GUEST_MIB << 20, err) != 0)
		return 0;
	int fd = memfd_create("job", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		struct vmm_job_image img;
		uint32_t hdr_len;
		if (vmm_check_job(fd, "job", (uint64_t)GUEST_MIB << 20, &img,
				  err, sizeof(err)) == VMM_JOB_OK)
			job_load(&gm, fd, "job", VMM_STACK_DEFAULT, &img,
				 &hdr_len, err, sizeof(err));
	}
	close(fd);
	return 0;
}
