/*
 * virtio-vsock packet handling against a hostile guest. The driver set-up is
 * done properly through the MMIO registers; then the input becomes the
 * guest memory holding the descriptor tables, rings and packets, and the
 * device processes it a few times, as on successive notifies and halts.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/vmm_impl.h"

#define MEM_SIZE (1u << 20)
#define QUEUES_GPA 0x10000ull
#define QN 16u

static int reg(struct vsock *vs, uint64_t off, uint32_t val)
{
	return mmio_access(&vs->vdev, off, &val, 4, true);
}

static int driver_init(struct vsock *vs)
{
	static const uint32_t steps[] = {
		VIRTIO_STATUS_ACKNOWLEDGE,
		VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER,
	};
	int rc = 0;
	for (unsigned i = 0; i < 2; i++)
		rc |= reg(vs, VIRTIO_MMIO_STATUS, steps[i]);
	rc |= reg(vs, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	rc |= reg(vs, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	rc |= reg(vs, VIRTIO_MMIO_STATUS, steps[1] | VIRTIO_STATUS_FEATURES_OK);
	/* Queue q: descriptors at +0, avail ring at +0x100, used ring at
	 * +0x200 of QUEUES_GPA + q * 0x400, so short inputs reach every ring
	 * (fuzz/corpus/fuzz_vsock/ seeds follow this layout). */
	for (uint32_t q = 0; q < 3; q++) {
		uint32_t base = (uint32_t)(QUEUES_GPA + q * 0x400);
		rc |= reg(vs, VIRTIO_MMIO_QUEUE_SEL, q);
		rc |= reg(vs, VIRTIO_MMIO_QUEUE_NUM, QN);
		rc |= reg(vs, VIRTIO_MMIO_QUEUE_DESC_LOW, base);
		rc |= reg(vs, VIRTIO_MMIO_QUEUE_DRIVER_LOW, base + 0x100);
		rc |= reg(vs, VIRTIO_MMIO_QUEUE_DEVICE_LOW, base + 0x200);
		rc |= reg(vs, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	rc |= reg(vs, VIRTIO_MMIO_STATUS,
		  steps[1] | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	if (!ram && !(ram = malloc(MEM_SIZE)))
		return 0;
	/* As in the VMM: a write to a socket shut down is EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	memset(ram, 0, MEM_SIZE);
	struct guest_mem gm = {.base = ram, .size = MEM_SIZE, .fd = -1};
	struct vmm_control ctl;
	struct vmm_stream_stats st[3] = {0};
	/* A host service on port 5000 with a reply waiting, an unreachable
	 * one on 5001: the proxy paths are as exposed as the stdio ones. */
	int svc[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, svc) < 0)
		return 0;
	if (write(svc[1], "reply from the service\n", 23) != 23)
		abort();
	struct vmm_vsock_port ports[2] = {{5000, svc[0]}, {5001, -1}};
	struct vsock_fds fds = {.in = -1,
				.out = -1,
				.err = -1,
				.in_stats = &st[0],
				.out_stats = &st[1],
				.err_stats = &st[2],
				.ports = ports,
				.nports = 2};
	struct vsock *vs = calloc(1, sizeof(*vs));
	if (!vs) {
		close(svc[0]);
		close(svc[1]);
		return 0;
	}
	control_init(&ctl, false);
	vsock_init(vs, &gm, AL_MMIO_GPA, &ctl, &fds);
	if (driver_init(vs) == 0) {
		size_t n = size < MEM_SIZE - QUEUES_GPA ? size : MEM_SIZE - QUEUES_GPA;
		memcpy(ram + QUEUES_GPA, data, n);
		for (int round = 0; round < 4; round++) {
			if (vsock_process(vs) != 0)
				break;
			vsock_flush(vs);
			vsock_on_halt(vs);
		}
	}
	vsock_destroy(vs);
	free(vs);
	close(svc[0]);
	close(svc[1]);
	return 0;
}
