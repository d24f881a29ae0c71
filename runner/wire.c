/* The serve protocol on the wire (runner/wire.h, include/airlock/serve.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runner/wire.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Appends the strings of list to buf at *off; false if they do not fit. */
static bool put_strings(unsigned char *buf, size_t *off, char *const *list,
			unsigned max, unsigned *count)
{
	*count = 0;
	for (; list && *list; list++) {
		size_t n = strlen(*list) + 1;
		if (*count == max || n > AL_SERVE_REQUEST_MAX - *off)
			return false;
		memcpy(buf + *off, *list, n);
		*off += n;
		(*count)++;
	}
	return true;
}

size_t wire_build_request(void *buf, char *const *argv, char *const *envp,
			  uint32_t flags, uint32_t memory_mib,
			  uint64_t timeout_ms, char *err, size_t errlen)
{
	struct al_serve_request h = {
	    .magic = AL_SERVE_MAGIC,
	    .version = AL_SERVE_VERSION,
	    .flags = flags,
	    .memory_mib = memory_mib,
	    .timeout_ms = timeout_ms,
	};
	size_t off = sizeof(h);
	if (!put_strings(buf, &off, argv, AL_SERVE_ARGS_MAX, &h.argc)) {
		fail(err, errlen, "the arguments exceed %u strings or %u bytes",
		     AL_SERVE_ARGS_MAX, AL_SERVE_STRINGS_MAX);
		return 0;
	}
	if (!put_strings(buf, &off, envp, AL_SERVE_ENV_MAX, &h.envc)) {
		fail(err, errlen,
		     "the environment exceeds %u variables or the strings "
		     "%u bytes",
		     AL_SERVE_ENV_MAX, AL_SERVE_STRINGS_MAX);
		return 0;
	}
	h.length = (uint32_t)off;
	memcpy(buf, &h, sizeof(h));
	return off;
}

int wire_send(int sock, const void *msg, size_t len, const int *fds,
	      unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * AL_SERVE_NFDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (nfds > AL_SERVE_NFDS) {
		errno = EINVAL;
		return -1;
	}
	if (nfds) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return n < 0 ? -1 : 0;
}

void wire_close_fds(struct wire_request *r)
{
	for (int i = 0; i < AL_SERVE_NFDS; i++) {
		if (r->fds[i] >= 0)
			close(r->fds[i]);
		r->fds[i] = -1;
	}
}

/* Takes every descriptor the message carried into r->fds, closing any
 * beyond AL_SERVE_NFDS; returns how many there were. */
static unsigned take_fds(struct msghdr *mh, struct wire_request *r,
			 unsigned *ncmsg)
{
	unsigned got = 0;
	*ncmsg = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c;
	     c = CMSG_NXTHDR(mh, c)) {
		(*ncmsg)++;
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++, got++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (got < AL_SERVE_NFDS)
				r->fds[got] = fd;
			else
				close(fd);
		}
	}
	return got;
}

int wire_recv_request(int sock, struct wire_request *r, char *err,
		      size_t errlen)
{
	union {
		/* Room for more than we accept, so that too many is seen
		 * (and closed) rather than silently truncated. */
		char buf[CMSG_SPACE(sizeof(int) * 2 * AL_SERVE_NFDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = r->msg, .iov_len = sizeof(r->msg)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	for (int i = 0; i < AL_SERVE_NFDS; i++)
		r->fds[i] = -1;
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fail(err, errlen, "recvmsg: %s", strerror(errno));
	unsigned ncmsg;
	unsigned got = take_fds(&mh, r, &ncmsg);
	if (n == 0 && got == 0)
		return 0;
	r->len = (size_t)n;
	int rc = 0;
	if (mh.msg_flags & MSG_TRUNC)
		rc = fail(err, errlen, "request longer than %zu bytes",
			  sizeof(r->msg));
	else if (mh.msg_flags & MSG_CTRUNC || ncmsg != 1 ||
		 got != AL_SERVE_NFDS)
		rc = fail(err, errlen,
			  "request must carry exactly %d descriptors (stdin, "
			  "stdout, stderr, the job binary) in one SCM_RIGHTS "
			  "message",
			  AL_SERVE_NFDS);
	else
		rc = wire_check_request(r, err, errlen);
	if (rc < 0)
		wire_close_fds(r);
	return rc < 0 ? -1 : 1;
}

/* Splits count NUL-terminated strings off [*p, end) into list. */
static bool take_strings(char **p, const char *end, unsigned count,
			 char **list)
{
	for (unsigned i = 0; i < count; i++) {
		char *nul = memchr(*p, '\0', (size_t)(end - *p));
		if (!nul)
			return false;
		list[i] = *p;
		*p = nul + 1;
	}
	list[count] = NULL;
	return true;
}

static int check_header(const struct al_serve_request *h, size_t len,
			char *err, size_t errlen)
{
	if (h->magic != AL_SERVE_MAGIC)
		return fail(err, errlen, "not an airlock request (bad magic)");
	if (h->version != AL_SERVE_VERSION)
		return fail(err, errlen,
			    "protocol version %u is not supported (this "
			    "server speaks version %u)",
			    h->version, AL_SERVE_VERSION);
	if (h->length != len)
		return fail(err, errlen,
			    "length field %u does not match the %zu bytes "
			    "received",
			    h->length, len);
	if (h->flags & ~AL_SERVE_F_ALL || h->reserved)
		return fail(err, errlen, "unknown flags or reserved bits set");
	if (h->argc < 1 || h->argc > AL_SERVE_ARGS_MAX)
		return fail(err, errlen, "argc %u is not within 1..%u", h->argc,
			    AL_SERVE_ARGS_MAX);
	if (h->envc > AL_SERVE_ENV_MAX)
		return fail(err, errlen, "envc %u is more than %u", h->envc,
			    AL_SERVE_ENV_MAX);
	return 0;
}

int wire_check_request(struct wire_request *r, char *err, size_t errlen)
{
	struct al_serve_request h;
	if (r->len < sizeof(h))
		return fail(err, errlen, "request shorter than its header");
	memcpy(&h, r->msg, sizeof(h));
	if (check_header(&h, r->len, err, errlen) < 0)
		return -1;
	struct wire_job *j = &r->job;
	char *p = (char *)r->msg + sizeof(h);
	const char *end = (const char *)r->msg + r->len;
	if (!take_strings(&p, end, h.argc, j->argv) ||
	    !take_strings(&p, end, h.envc, j->envp))
		return fail(err, errlen, "fewer NUL-terminated strings than "
					 "argc + envc");
	if (p != end)
		return fail(err, errlen, "bytes after the last string");
	for (unsigned i = 0; i < h.envc; i++) {
		const char *eq = strchr(j->envp[i], '=');
		if (!eq || eq == j->envp[i])
			return fail(err, errlen,
				    "environment entry %u is not NAME=VALUE", i);
	}
	j->argc = h.argc;
	j->envc = h.envc;
	j->flags = h.flags;
	j->memory_mib = h.memory_mib;
	j->timeout_ms = h.timeout_ms;
	return 0;
}

int wire_send_reply(int sock, const struct airlock_result *res)
{
	struct al_serve_reply rep = {
	    .magic = AL_SERVE_MAGIC,
	    .version = AL_SERVE_VERSION,
	    .length = sizeof(rep),
	    .result = *res,
	};
	return wire_send(sock, &rep, sizeof(rep), NULL, 0);
}

int wire_send_refusal(int sock, const char *reason)
{
	struct airlock_result res = {.exit_status = 125};
	snprintf(res.status, sizeof(res.status), "error");
	snprintf(res.reason, sizeof(res.reason), "%s", reason);
	return wire_send_reply(sock, &res);
}

int wire_recv_reply(int sock, struct airlock_result *res, char *err,
		    size_t errlen)
{
	struct al_serve_reply rep;
	ssize_t n;
	do
		n = recv(sock, &rep, sizeof(rep), MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fail(err, errlen, "recv: %s", strerror(errno));
	if (n == 0)
		return fail(err, errlen, "the server closed the connection "
					 "without a reply (it stopped or "
					 "was killed)");
	if ((size_t)n != sizeof(rep) || rep.magic != AL_SERVE_MAGIC ||
	    rep.version != AL_SERVE_VERSION || rep.length != sizeof(rep))
		return fail(err, errlen, "malformed reply from the server "
					 "(%zd bytes; another version?)",
			    n);
	*res = rep.result;
	res->status[sizeof(res->status) - 1] = '\0';
	res->reason[sizeof(res->reason) - 1] = '\0';
	return 0;
}
