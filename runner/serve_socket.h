/*
 * The listening socket of `airlock serve`: a unix SOCK_SEQPACKET socket
 * whose mode (0600) is the access control, and the peer credentials of
 * each client for the log.
 */
#ifndef AIRLOCK_RUNNER_SERVE_SOCKET_H
#define AIRLOCK_RUNNER_SERVE_SOCKET_H

#include <stddef.h>

/*
 * Creates and listens on path, mode 0600, non-blocking. A stale socket
 * (nobody listening) is replaced; anything else at path is refused. Returns
 * the descriptor, or -1 with err naming what failed.
 */
int serve_listen(const char *path, char *err, size_t errlen);

/* Logs the connecting process's pid, uid and gid (SO_PEERCRED). */
void serve_log_peer(int fd);

#endif
