/*
 * vsock.connect: a job reaches the host services its policy maps, and
 * nothing else. The service is an echo server on a unix socket, a thread of
 * the test itself.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

static char dir[] = "/tmp/airlock-vsock-XXXXXX";
static char sock_path[64], policy_path[64];
static int listen_fd = -1;
static pthread_t server;

/* Echoes every byte back until the client ends, one client at a time. */
static void *echo_server(void *arg)
{
	char buf[4096];
	(void)arg;
	for (;;) {
		int c = accept(listen_fd, NULL, NULL);
		if (c < 0)
			return NULL; /* shut down: the test is over */
		ssize_t n;
		while ((n = read(c, buf, sizeof(buf))) > 0)
			if (write(c, buf, (size_t)n) != n)
				break;
		close(c);
	}
}

static void start_service(void)
{
	cr_assert_not_null(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/svc.sock", dir);
	snprintf(policy_path, sizeof(policy_path), "%s/policy.json", dir);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_geq(listen_fd, 0);
	cr_assert_eq(bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(listen_fd, 8), 0);
	cr_assert_eq(pthread_create(&server, NULL, echo_server, NULL), 0);
}

static void stop_service(void)
{
	shutdown(listen_fd, SHUT_RDWR);
	pthread_join(server, NULL);
	close(listen_fd);
	unlink(sock_path);
	unlink(policy_path);
	rmdir(dir);
}

TestSuite(vsock_policy, .init = start_service, .fini = stop_service);

/* A policy mapping port to socket. */
static const char *policy(unsigned port, const char *socket)
{
	FILE *f = fopen(policy_path, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"{\"version\": 1, \"vsock\": {\"connect\": "
		"[{\"port\": %u, \"socket\": \"%s\"}]}}",
		port, socket);
	fclose(f);
	return policy_path;
}

Test(vsock_policy, a_mapped_port_reaches_the_service)
{
	require_kvm();
	const char *p = policy(5000, sock_path);
	const char *jobs[] = {"vsockc.musl", "vsockc.glibc"};
	for (int i = 0; i < 2; i++) {
		struct outcome o;
		AIRLOCK(&o, "run", "--policy", p, job(jobs[i]), "5000",
			"hello over vsock");
		cr_assert_eq(o.status, 0, "%s: %s%s", jobs[i], o.out, o.err);
		cr_assert_str_eq(o.out, "reply: hello over vsock\n");
		outcome_free(&o);
	}
}

Test(vsock_policy, megabytes_cross_both_ways_intact)
{
	require_kvm();
	struct outcome o;
	AIRLOCK(&o, "run", "--policy", policy(5000, sock_path),
		job("vsockc.musl"), "5000", "start", "bulk", "3000000");
	cr_assert_eq(o.status, 0, "%s%s", o.out, o.err);
	cr_assert_str_eq(o.out, "reply: start\n"
				"bulk: 3000000 bytes echoed intact\n");
	outcome_free(&o);
}

Test(vsock_policy, end_of_stream_passes_both_ways)
{
	require_kvm();
	struct outcome o;
	/* The job's SHUT_WR ends the echo service's reading; the service
	 * then closes, which the job reads as the end of the stream. */
	AIRLOCK(&o, "run", "--policy", policy(5000, sock_path),
		job("vsockc.musl"), "5000", "last words", "shut");
	cr_assert_eq(o.status, 0, "%s%s", o.out, o.err);
	cr_assert_str_eq(o.out, "reply: last words\nend of stream\n");
	outcome_free(&o);
}

Test(vsock_policy, a_nonblocking_read_with_nothing_there_says_eagain)
{
	require_kvm();
	struct outcome o;
	AIRLOCK(&o, "run", "--policy", policy(5000, sock_path),
		job("vsockc.musl"), "5000", "patience", "nonblock");
	cr_assert_eq(o.status, 0, "%s%s", o.out, o.err);
	cr_assert_str_eq(o.out, "early read: Resource temporarily unavailable\n"
				"reply: patience\n");
	outcome_free(&o);
}

Test(vsock_policy, misuse_fails_as_on_linux)
{
	require_kvm();
	struct outcome o;
	AIRLOCK(&o, "run", job("vsockc.musl"), "errors"); /* musl's words */
	cr_assert_eq(o.status, 0, "%s%s", o.out, o.err);
	cr_assert_str_eq(o.out,
			 "socket(AF_INET): Address family not supported by "
			 "protocol\n"
			 "socket(SOCK_DGRAM): Socket type not supported\n"
			 "read unconnected: Socket not connected\n"
			 "connect cid 3: Network unreachable\n"
			 "connect short: Invalid argument\n"
			 "connect stdin: Not a socket\n"
			 "shutdown unconnected: Socket not connected\n");
	outcome_free(&o);
}

Test(vsock_policy, a_port_not_in_the_policy_is_reset)
{
	require_kvm();
	struct outcome o;
	AIRLOCK(&o, "run", "--policy", policy(5000, sock_path),
		job("vsockc.musl"), "5001", "x");
	cr_assert_eq(o.status, 1, "%s%s", o.out, o.err);
	cr_assert_str_eq(o.out, "connect: Connection reset by peer\n");
	outcome_free(&o);
}

Test(vsock_policy, a_second_connection_to_a_port_is_reset)
{
	require_kvm();
	struct outcome o;
	AIRLOCK(&o, "run", "--policy", policy(5000, sock_path),
		job("vsockc.musl"), "5000", "first", "again");
	cr_assert_eq(o.status, 1, "%s%s", o.out, o.err);
	cr_assert_str_eq(o.out, "reply: first\n"
				"connect again: Connection reset by peer\n");
	outcome_free(&o);
}

Test(vsock_policy, an_unreachable_socket_is_a_reset_named_with_verbose)
{
	require_kvm();
	struct outcome o;
	char missing[160];
	snprintf(missing, sizeof(missing), "%s/nobody.sock", dir);
	AIRLOCK(&o, "run", "--verbose", "--policy", policy(5000, missing),
		job("vsockc.musl"), "5000", "x");
	cr_assert_eq(o.status, 1, "%s%s", o.out, o.err);
	cr_assert_str_eq(o.out, "connect: Connection reset by peer\n");
	cr_assert(strstr(o.err, "vsock.connect[0]") &&
		      strstr(o.err, "nobody.sock") &&
		      strstr(o.err, "port 5000"),
		  "%s", o.err);
	outcome_free(&o);
}

Test(vsock_policy, the_service_example_runs_without_its_services)
{
	require_kvm();
	struct outcome o;
	AIRLOCK(&o, "run", "--policy",
		"policy/examples/per-request-service.json", job("vsockc.musl"),
		"5000", "x");
	cr_assert_eq(o.status, 1, "%s%s", o.out, o.err);
	cr_assert_str_eq(o.out, "connect: Connection reset by peer\n");
	outcome_free(&o);
}
