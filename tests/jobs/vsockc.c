/*
 * A client of a host service over vsock:
 * vsockc PORT LINE [again | bulk N | shut | nonblock]. Connects to host CID 2
 * port PORT, writes LINE and a newline, reads the reply up to a newline or end
 * of stream and prints "reply: ...". With "again", then connects to PORT a
 * second time and says how that went; with "bulk N", then sends N bytes in
 * 64 KiB pieces to an echo service, reading each piece back and checking
 * it; with "shut", shuts its sending side down right after LINE and, after
 * the reply, expects the service to end the stream; with "nonblock", makes
 * the socket non-blocking and reads once before sending LINE (the reply
 * is then read by retrying). Any failure is printed as "STEP: strerror"
 * with exit status 1.
 *
 * vsockc errors: what the calls a job may get wrong answer, one line each.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

struct vm_addr { /* struct sockaddr_vm */
	unsigned short family, reserved;
	unsigned int port, cid;
	unsigned char flags, zero[3];
};

static int fail(const char *step)
{
	printf("%s: %s\n", step, strerror(errno));
	return 1;
}

static int connect_host(unsigned port)
{
	struct vm_addr a = {.family = AF_VSOCK, .port = port, .cid = 2};
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Reads up to a newline or end of stream; the length, or -1. */
static ssize_t read_line(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	while (got < cap && (got == 0 || buf[got - 1] != '\n')) {
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EAGAIN)
			continue; /* a non-blocking socket: try again */
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Reads exactly len bytes; 0, or -1 (errno 0 at an early end). */
static int read_full(int fd, unsigned char *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

static int bulk_echo(int fd, size_t total)
{
	static unsigned char out[65536], in[65536];
	for (size_t done = 0; done < total;) {
		size_t k =
		    total - done < sizeof(out) ? total - done : sizeof(out);
		for (size_t i = 0; i < k; i++)
			out[i] =
			    (unsigned char)((done + i) * 7 + (done + i) / 251);
		if (write(fd, out, k) != (ssize_t)k)
			return fail("bulk write");
		if (read_full(fd, in, k) < 0)
			return fail("bulk read");
		if (memcmp(in, out, k) != 0) {
			printf("bulk: bytes differ after %zu\n", done);
			return 1;
		}
		done += k;
	}
	printf("bulk: %zu bytes echoed intact\n", total);
	return 0;
}

static void say(const char *what, long r)
{
	printf("%s: %s\n", what, r < 0 ? strerror(errno) : "ok");
}

static int misuse(void)
{
	struct vm_addr guest = {.family = AF_VSOCK, .port = 5000, .cid = 3};
	char c;
	say("socket(AF_INET)", socket(AF_INET, SOCK_STREAM, 0));
	say("socket(SOCK_DGRAM)", socket(AF_VSOCK, SOCK_DGRAM, 0));
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	say("read unconnected", read(fd, &c, 1));
	say("connect cid 3",
	    connect(fd, (struct sockaddr *)&guest, sizeof(guest)));
	say("connect short", connect(fd, (struct sockaddr *)&guest, 4));
	say("connect stdin",
	    connect(0, (struct sockaddr *)&guest, sizeof(guest)));
	say("shutdown unconnected", shutdown(fd, SHUT_WR));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "errors") == 0)
		return misuse();
	char line[4096], reply[4096];
	if (argc < 3) {
		fprintf(stderr, "usage: vsockc PORT LINE [again]\n");
		return 2;
	}
	unsigned port = (unsigned)strtoul(argv[1], NULL, 0);
	int fd = connect_host(port);
	if (fd < 0)
		return fail("connect");
	int len = snprintf(line, sizeof(line), "%s\n", argv[2]);
	bool shut = argc > 3 && strcmp(argv[3], "shut") == 0;
	if (argc > 3 && strcmp(argv[3], "nonblock") == 0) {
		if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
			return fail("fcntl");
		if (read(fd, reply, sizeof(reply)) < 0)
			printf("early read: %s\n", strerror(errno));
	}
	if (write(fd, line, (size_t)len) != len)
		return fail("write");
	if (shut && shutdown(fd, SHUT_WR) < 0)
		return fail("shutdown");
	ssize_t n = read_line(fd, reply, sizeof(reply));
	if (n < 0)
		return fail("read");
	printf("reply: %.*s", (int)n, reply);
	if (n == 0 || reply[n - 1] != '\n')
		printf("\n");
	if (shut) {
		n = read(fd, reply, sizeof(reply));
		if (n < 0)
			return fail("read after the reply");
		printf(n == 0 ? "end of stream\n" : "more: %zd bytes\n", n);
	}
	if (argc > 3 && strcmp(argv[3], "again") == 0) {
		int fd2 = connect_host(port);
		if (fd2 < 0)
			return fail("connect again");
		printf("connected again\n");
	}
	if (argc > 4 && strcmp(argv[3], "bulk") == 0 &&
	    bulk_echo(fd, strtoul(argv[4], NULL, 0)) != 0)
		return 1;
	return close(fd) < 0 ? fail("close") : 0;
}
