/*
 * Fuzzing-mode target with a read-only drive at /data: the magic it looks
 * for comes from /data/magic, read before the snapshot point, and every
 * input reads /data/reply after it, so the drive works at the point and
 * after every revert. Exit 3 for an input equal to the magic, 0 for any
 * other, 4 when /data/reply does not read "ok\n", 5 without /data/magic.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static size_t read_all(int fd, char *buf, size_t max)
{
	size_t len = 0;
	ssize_t r;
	while (len < max && (r = read(fd, buf + len, max - len)) > 0)
		len += (size_t)r;
	return len;
}

static size_t read_path(const char *path, char *buf, size_t max)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	size_t len = read_all(fd, buf, max);
	close(fd);
	return len;
}

int main(void)
{
	static char magic[64], input[4096], reply[16];
	size_t magic_len = read_path("/data/magic", magic, sizeof(magic));
	if (!magic_len)
		return 5;
	size_t len = read_all(0, input, sizeof(input));
	if (read_path("/data/reply", reply, sizeof(reply)) != 3 ||
	    memcmp(reply, "ok\n", 3) != 0)
		return 4;
	return len == magic_len && memcmp(input, magic, len) == 0 ? 3 : 0;
}
