/*
 * Writes argv[1] bytes of a position-dependent pattern to stdout and argv[2]
 * bytes to stderr, interleaved in uneven chunks, so that a test can check
 * both streams byte for byte and that neither was mixed into the other.
 */
#include <stdlib.h>
#include <unistd.h>

static unsigned char byte_at(unsigned long i, int stream)
{
	return (unsigned char)((i * 131 + (i >> 9) + (unsigned)stream * 7) & 0xff);
}

static int emit(int fd, unsigned long *done, unsigned long total, size_t chunk)
{
	static unsigned char buf[70000];
	if (*done >= total)
		return 0;
	if (chunk > total - *done)
		chunk = total - *done;
	for (size_t k = 0; k < chunk; k++)
		buf[k] = byte_at(*done + k, fd);
	for (size_t off = 0; off < chunk;) {
		ssize_t w = write(fd, buf + off, chunk - off);
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	*done += chunk;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long out = argc > 1 ? strtoul(argv[1], NULL, 0) : 0;
	unsigned long err = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;
	unsigned long done_out = 0, done_err = 0;
	size_t sizes[] = {1, 4095, 65536, 69999, 300, 8192};
	for (unsigned i = 0; done_out < out || done_err < err; i++) {
		if (emit(1, &done_out, out, sizes[i % 6]) ||
		    emit(2, &done_err, err, sizes[(i + 3) % 6]))
			return 1;
	}
	return 0;
}
