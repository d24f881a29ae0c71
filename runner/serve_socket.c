/* The listening socket of `airlock serve` (runner/serve_socket.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "runner/serve_socket.h"

static int address(const char *path, struct sockaddr_un *sa, char *err,
		   size_t errlen)
{
	*sa = (struct sockaddr_un){.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa->sun_path)) {
		snprintf(err, errlen, "--socket %s: path too long (at most %zu "
				      "bytes)",
			 path, sizeof(sa->sun_path) - 1);
		return -1;
	}
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/* Something is at path: only a socket nobody listens on may go. */
static int clear_stale(const char *path, const struct sockaddr_un *sa,
		       char *err, size_t errlen)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen,
			 "--socket %s: exists and is not a socket: remove it "
			 "or choose another path",
			 path);
		return -1;
	}
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	int rc = s < 0 ? -1 : connect(s, (const struct sockaddr *)sa, sizeof(*sa));
	int e = errno;
	if (s >= 0)
		close(s);
	if (rc == 0 || e != ECONNREFUSED) {
		snprintf(err, errlen,
			 "--socket %s: another server is listening there",
			 path);
		return -1;
	}
	if (unlink(path) < 0) {
		snprintf(err, errlen, "--socket %s: removing the stale socket: "
				      "%s",
			 path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Binds and listens on tmp, then renames it to path: a client never
 * finds a socket at path that does not listen yet. */
static int listen_at(int s, const char *path, const struct sockaddr_un *tmp,
		     char *err, size_t errlen)
{
	const char *what = "bind";
	struct stat st;
	/* A socket left over by a server that died here; nothing else. */
	if (lstat(tmp->sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(tmp->sun_path);
	/* Never a moment with a wider mode than 0600. */
	mode_t old = umask(0177);
	int rc = bind(s, (const struct sockaddr *)tmp, sizeof(*tmp));
	umask(old);
	if (rc == 0 && (what = "chmod", chmod(tmp->sun_path, 0600)) == 0 &&
	    (what = "listen", listen(s, 64)) == 0 &&
	    (what = "rename", rename(tmp->sun_path, path)) == 0)
		return 0;
	snprintf(err, errlen, "--socket %s: %s: %s", path, what,
		 strerror(errno));
	if (rc == 0)
		unlink(tmp->sun_path);
	return -1;
}

int serve_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa, tmp;
	char tmp_path[sizeof(sa.sun_path) + 8];
	snprintf(tmp_path, sizeof(tmp_path), "%s.new", path);
	if (address(path, &sa, err, errlen) < 0 ||
	    address(tmp_path, &tmp, err, errlen) < 0 ||
	    clear_stale(path, &sa, err, errlen) < 0)
		return -1;
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       0);
	if (s < 0) {
		snprintf(err, errlen, "socket(AF_UNIX): %s", strerror(errno));
		return -1;
	}
	if (listen_at(s, path, &tmp, err, errlen) < 0) {
		close(s);
		return -1;
	}
	return s;
}

void serve_log_peer(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0)
		fprintf(stderr, "airlock: serve: client pid %d uid %u gid %u\n",
			(int)cr.pid, (unsigned)cr.uid, (unsigned)cr.gid);
	else
		fprintf(stderr, "airlock: serve: client of unknown identity "
				"(SO_PEERCRED: %s)\n",
			strerror(errno));
}
