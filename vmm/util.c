/* Small helpers shared by the VMM modules: errors, clocks, text, iovecs. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm/vmm_impl.h"

void vmm_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t vmm_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t vmm_realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

void vmm_sanitize(char *dst, size_t dstlen, const void *src, size_t srclen)
{
	const unsigned char *s = src;
	size_t i;

	if (dstlen == 0)
		return;
	for (i = 0; i < srclen && i + 1 < dstlen && s[i]; i++)
		dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
	dst[i] = '\0';
}

void vmm_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write so concurrent log lines do not interleave. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

/* Copies between a flat buffer and part of an iovec list, either way. */
static size_t iov_copy(const struct iovec *iov, unsigned n, size_t off,
		       uint8_t *flat, size_t len, bool to_iov)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t k = iov[i].iov_len - off;
		if (k > len - done)
			k = len - done;
		uint8_t *v = (uint8_t *)iov[i].iov_base + off;
		if (to_iov)
			memcpy(v, flat + done, k);
		else
			memcpy(flat + done, v, k);
		done += k;
		off = 0;
	}
	return done;
}

size_t iov_to(const struct iovec *iov, unsigned n, size_t off, const void *src,
	      size_t len)
{
	return iov_copy(iov, n, off, (uint8_t *)src, len, true);
}

size_t iov_from(const struct iovec *iov, unsigned n, size_t off, void *dst,
		size_t len)
{
	return iov_copy(iov, n, off, dst, len, false);
}

unsigned iov_slice(const struct iovec *iov, unsigned n, size_t off, size_t len,
		   struct iovec *dst, unsigned max)
{
	unsigned m = 0;

	for (unsigned i = 0; i < n && len > 0 && m < max; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t k = iov[i].iov_len - off;
		if (k > len)
			k = len;
		if (k == 0)
			continue;
		dst[m].iov_base = (uint8_t *)iov[i].iov_base + off;
		dst[m].iov_len = k;
		m++;
		len -= k;
		off = 0;
	}
	return m;
}
