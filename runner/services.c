/*
 * The policy's host sockets (vsock.connect). The jailed VMM can connect()
 * nothing, so the supervisor connects every mapped socket before the jail
 * and hands the connected descriptors over, like the drive images: each
 * carries the one guest connection its port allows per job.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "runner/runner.h"

/* A connected stream socket to path, or -1 with errno set. */
static int connect_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

unsigned services_connect(const struct policy_vsock *map, size_t n,
			  struct vmm_vsock_port *out, bool verbose)
{
	for (size_t i = 0; i < n; i++) {
		out[i].port = map[i].port;
		out[i].fd = connect_unix(map[i].socket);
		/* Not an error of the run: the job sees a reset, as it
		 * would from a service that is down. */
		if (out[i].fd < 0 && verbose)
			fprintf(stderr,
				"airlock: vsock.connect[%zu]: %s: %s; the "
				"job's connections to port %u will be reset\n",
				i, map[i].socket, strerror(errno), map[i].port);
	}
	return (unsigned)n;
}

void services_close(struct vmm_vsock_port *ports, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (ports[i].fd >= 0)
			close(ports[i].fd);
}
