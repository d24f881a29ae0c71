/*
 * The job's sockets: AF_VSOCK stream sockets that connect to host CID 2,
 * where the VMM proxies a port the policy maps (vsock.connect) to a host
 * service and resets every other. A socket is a file on one vsock.c
 * connection slot; bytes move between the job's buffers and the device
 * without a copy in ring 0, as on the standard streams.
 *
 * Not offered: listening (nothing on the host connects to the guest),
 * datagrams, socket options, sendmsg/recvmsg. A non-blocking read
 * (O_NONBLOCK, MSG_DONTWAIT) fails with EAGAIN when the host has nothing at
 * hand; writes wait for the host's credit whatever O_NONBLOCK says, and
 * poll reports a connected socket as readable and writable (the guest
 * cannot see the host's data without granting credit for it).
 */
#include "sys.h"
#include "vfs.h"

#define AF_VSOCK 40
#define SOCK_STREAM 1
#define SOCK_TYPE_MASK 0xf
#define SOCK_NONBLOCK O_NONBLOCK
#define SOCK_CLOEXEC O_CLOEXEC
#define SHUT_RD 0
#define SHUT_WR 1
#define SHUT_RDWR 2
#define MSG_DONTWAIT 0x40
#define MSG_WAITALL 0x100
#define MSG_NOSIGNAL 0x4000
#define MAX_RW 0x7ffff000ull /* Linux's MAX_RW_COUNT */

/* struct sockaddr_vm */
struct sockaddr_vm {
	uint16_t svm_family;
	uint16_t svm_reserved1;
	uint32_t svm_port;
	uint32_t svm_cid;
	uint8_t svm_flags;
	uint8_t svm_zero[3];
};

struct sock {
	unsigned conn;	/* vsock.c connection slot */
	uint32_t port;	/* the host port, once connected */
	bool connected; /* a connect succeeded (the peer may have left) */
	uint32_t shut;	/* VIRTIO_VSOCK_SHUTDOWN_* the job asked for */
};

static struct sock socks[GK_NSOCKS];

static struct sock *sock_of_file(const struct gk_file *f)
{
	return f->priv;
}

static uint64_t iov_total(const struct gk_iov *iov, unsigned n)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < n; i++)
		total += iov[i].len;
	return total;
}

static long sock_recv(struct sock *sk, const struct gk_iov *iov, unsigned n,
		      bool wait)
{
	if (!sk->connected)
		return -ENOTCONN;
	if (sk->shut & VIRTIO_VSOCK_SHUTDOWN_RCV)
		return 0;
	return vsock_recv(sk->conn, iov, n, wait);
}

static long sock_send(struct sock *sk, const struct gk_iov *iov, unsigned n,
		      bool sigpipe)
{
	if (!sk->connected)
		return -ENOTCONN;
	uint64_t total = iov_total(iov, n);
	long r = (sk->shut & VIRTIO_VSOCK_SHUTDOWN_SEND)
		     ? -EPIPE
		     : (total ? vsock_send(sk->conn, iov, n, total) : 0);
	if (r == -EPIPE && sigpipe)
		proc_raise(GK_SIGPIPE); /* returns unless it kills the job */
	return r;
}

static long sock_readv(struct gk_file *f, const struct gk_iov *iov, unsigned n,
		       uint64_t off)
{
	(void)off;
	return sock_recv(sock_of_file(f), iov, n, !(f->flags & O_NONBLOCK));
}

static long sock_writev(struct gk_file *f, const struct gk_iov *iov, unsigned n,
			uint64_t off)
{
	(void)off;
	return sock_send(sock_of_file(f), iov, n, true);
}

static bool sock_ready(struct gk_file *f)
{
	return sock_of_file(f)->connected;
}

static void sock_release(struct gk_file *f)
{
	vsock_conn_free(sock_of_file(f)->conn);
}

static const struct gk_file_ops sock_ops = {
    .readv = sock_readv,
    .writev = sock_writev,
    .can_read = sock_ready,
    .can_write = sock_ready,
    .release = sock_release,
};

/* The socket behind fd: -EBADF, -ENOTSOCK or 0. */
static long sock_file(long fd, struct gk_file **out)
{
	struct gk_file *f = fd_file(fd);
	if (!f)
		return -EBADF;
	if (f->ops != &sock_ops)
		return -ENOTSOCK;
	*out = f;
	return 0;
}

static long sock_of_fd(long fd, struct sock **out)
{
	struct gk_file *f;
	long r = sock_file(fd, &f);
	if (!r)
		*out = sock_of_file(f);
	return r;
}

GK_SYSCALL(sys_socket)
{
	int type = (int)a1;
	if (type & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	if ((int)a0 != AF_VSOCK)
		return -EAFNOSUPPORT;
	if ((type & SOCK_TYPE_MASK) != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	if ((int)a2 != 0 && (int)a2 != AF_VSOCK)
		return -EPROTONOSUPPORT;
	long conn = vsock_conn_alloc();
	if (conn < 0)
		return conn;
	struct sock *sk = &socks[conn - GK_NSTREAMS];
	*sk = (struct sock){.conn = (unsigned)conn};
	struct gk_file *f =
	    file_new(&sock_ops, O_RDWR | ((uint32_t)type & SOCK_NONBLOCK));
	if (!f) {
		vsock_conn_free((unsigned)conn);
		return -ENOMEM;
	}
	f->priv = sk;
	f->stream_ino = 0x50000 + (uint64_t)conn; /* apart from pipes' */
	long fd = fd_install(f, 0, type & SOCK_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}

GK_SYSCALL(sys_connect)
{
	struct sock *sk;
	long r = sock_of_fd(a0, &sk);
	if (r)
		return r;
	if (sk->connected)
		return -EISCONN;
	/* As Linux: a short or foreign address is invalid here. */
	if ((int)a2 < (int)sizeof(struct sockaddr_vm))
		return -EINVAL;
	if (!user_ok((uint64_t)a1, sizeof(struct sockaddr_vm), false))
		return -EFAULT;
	const struct sockaddr_vm *sa = (const void *)(uintptr_t)a1;
	if (sa->svm_family != AF_VSOCK)
		return -EINVAL;
	/* Only the host is there. */
	if (sa->svm_cid != AL_HOST_CID)
		return -ENETUNREACH;
	uint32_t port = sa->svm_port;
	r = vsock_connect(sk->conn, port);
	sk->connected = r == 0;
	sk->port = port;
	return r;
}

GK_SYSCALL(sys_sendto)
{
	struct sock *sk;
	long r = sock_of_fd(a0, &sk);
	if (r)
		return r;
	if ((int)a3 & ~(MSG_DONTWAIT | MSG_NOSIGNAL))
		return -EOPNOTSUPP;
	if (a4 && a5)
		return sk->connected ? -EISCONN : -EOPNOTSUPP;
	uint64_t len = GK_MIN((uint64_t)a2, MAX_RW);
	if (!user_ok((uint64_t)a1, len, false))
		return -EFAULT;
	struct gk_iov iov = {(uint64_t)a1, len};
	return sock_send(sk, &iov, 1, !((int)a3 & MSG_NOSIGNAL));
}

/* A stream socket has no source address to report: *addrlen becomes 0. */
static long no_source_address(uint64_t uaddrlen)
{
	if (!uaddrlen)
		return 0;
	if (!user_ok(uaddrlen, sizeof(int32_t), true))
		return -EFAULT;
	*(int32_t *)(uintptr_t)uaddrlen = 0;
	return 0;
}

GK_SYSCALL(sys_recvfrom)
{
	struct gk_file *f;
	long r = sock_file(a0, &f);
	if (r)
		return r;
	struct sock *sk = sock_of_file(f);
	int flags = (int)a3;
	bool wait = !(flags & MSG_DONTWAIT) && !(f->flags & O_NONBLOCK);
	if (flags & ~(MSG_DONTWAIT | MSG_WAITALL))
		return -EOPNOTSUPP;
	uint64_t len = GK_MIN((uint64_t)a2, MAX_RW);
	if (!user_ok((uint64_t)a1, len, true))
		return -EFAULT;
	uint64_t got = 0;
	do {
		struct gk_iov iov = {(uint64_t)a1 + got, len - got};
		r = sock_recv(sk, &iov, 1, wait);
		if (r <= 0)
			break;
		got += (uint64_t)r;
	} while ((flags & MSG_WAITALL) && got < len);
	if (!got && r < 0)
		return r;
	r = a4 ? no_source_address((uint64_t)a5) : 0;
	return r ? r : (long)got;
}

GK_SYSCALL(sys_shutdown)
{
	static const uint32_t how[] = {
	    [SHUT_RD] = VIRTIO_VSOCK_SHUTDOWN_RCV,
	    [SHUT_WR] = VIRTIO_VSOCK_SHUTDOWN_SEND,
	    [SHUT_RDWR] =
		VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND,
	};
	struct sock *sk;
	long r = sock_of_fd(a0, &sk);
	if (r)
		return r;
	if ((unsigned long)a1 > SHUT_RDWR)
		return -EINVAL;
	if (!sk->connected)
		return -ENOTCONN;
	uint32_t flags = how[a1] & ~sk->shut;
	sk->shut |= flags;
	if (flags)
		vsock_shutdown(sk->conn, flags);
	return 0;
}

/* Writes {AF_VSOCK, port, cid} to the job's (addr, *addrlen), truncated to
 * what it offers, as getsockname(2) does. */
static long put_address(uint64_t uaddr, uint64_t ulen, uint32_t cid,
			uint32_t port)
{
	if (!user_ok(ulen, sizeof(int32_t), true))
		return -EFAULT;
	int32_t *lenp = (int32_t *)(uintptr_t)ulen;
	if (*lenp < 0)
		return -EINVAL;
	struct sockaddr_vm sa = {
	    .svm_family = AF_VSOCK, .svm_port = port, .svm_cid = cid};
	uint64_t n = GK_MIN((uint64_t)*lenp, sizeof(sa));
	if (!user_ok(uaddr, n, true))
		return -EFAULT;
	gk_copy((void *)(uintptr_t)uaddr, &sa, n);
	*lenp = (int32_t)sizeof(sa);
	return 0;
}

GK_SYSCALL(sys_getsockname)
{
	struct sock *sk;
	long r = sock_of_fd(a0, &sk);
	if (r)
		return r;
	return put_address((uint64_t)a1, (uint64_t)a2, AL_GUEST_CID,
			   vsock_local_port(sk->conn));
}

GK_SYSCALL(sys_getpeername)
{
	struct sock *sk;
	long r = sock_of_fd(a0, &sk);
	if (r)
		return r;
	if (!sk->connected)
		return -ENOTCONN;
	return put_address((uint64_t)a1, (uint64_t)a2, AL_HOST_CID, sk->port);
}
