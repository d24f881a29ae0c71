/*
 * The control-stream decoder: guest -> host bytes framed as al_msg_hdr
 * messages, fed in chunks of fuzzer-chosen sizes; the first byte's top bit
 * starts it with the job already sent, as the guest's job-time messages
 * (RESULT, EXEC_ERROR, DRIVE_ERROR) find it.
 */
#include <stdint.h>

#include "vmm/vmm_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vmm_control ctl;
	char err[VMM_ERR_MAX];
	control_init(&ctl, false);
	if (size > 0 && data[0] & 0x80)
		ctl.state = CTL_RUNNING;
	while (size > 0) {
		size_t chunk = 1 + data[0] % 64;
		if (chunk > size)
			chunk = size;
		if (control_feed(&ctl, data, chunk, err) != 0)
			break;
		data += chunk;
		size -= chunk;
	}
	return 0;
}
