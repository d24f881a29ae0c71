/*
 * `airlock run --kernel ELF`: a guest kernel other than the built-in one,
 * read whole by the supervisor before the jail is entered (the jailed VMM
 * can open nothing). The VMM validates the image itself, as it does the
 * built-in one; here only the file is checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/runner.h"

static int read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* shrank while we read it */
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

int kernel_file_load(const char *path, char **image, size_t *len, char *err,
		     size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "--kernel %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	const char *why = NULL;
	if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_size == 0)
		why = "empty file";
	else if (st.st_size > KERNEL_FILE_MAX)
		why = "larger than 64 MiB: not a guest kernel";
	char *buf = why ? NULL : malloc((size_t)st.st_size);
	if (!why && !buf)
		why = "out of memory";
	if (!why && read_all(fd, buf, (size_t)st.st_size) < 0)
		why = strerror(errno);
	close(fd);
	if (why) {
		snprintf(err, errlen, "--kernel %s: %s", path, why);
		free(buf);
		return -1;
	}
	*image = buf;
	*len = (size_t)st.st_size;
	return 0;
}
