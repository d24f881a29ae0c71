/*
 * Memory and string helpers. No `rep movs/stos` (PVM emulates them one
 * iteration at a time) and no loops the compiler could turn back into calls
 * to these very functions.
 */
#include "gk.h"

#define GK_NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))

GK_NO_LIBCALLS void gk_copy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	for (; n >= 8; n -= 8, d += 8, s += 8)
		__builtin_memcpy(d, s, 8); /* one unaligned 8-byte move */
	for (; n; n--)
		*d++ = *s++;
}

GK_NO_LIBCALLS void gk_zero(void *dst, size_t n)
{
	unsigned char *d = dst;
	for (; n && ((uintptr_t)d & 7); n--)
		*d++ = 0;
	/* Whole pages are common (reused job memory): 32 bytes a turn. */
	for (; n >= 32; n -= 32, d += 32) {
		volatile uint64_t *w = (volatile uint64_t *)d;
		w[0] = 0;
		w[1] = 0;
		w[2] = 0;
		w[3] = 0;
	}
	for (; n >= 8; n -= 8, d += 8)
		*(volatile uint64_t *)d = 0;
	for (; n; n--)
		*d++ = 0;
}

GK_NO_LIBCALLS size_t gk_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

GK_NO_LIBCALLS void *memcpy(void *dst, const void *src, size_t n)
{
	gk_copy(dst, src, n);
	return dst;
}

GK_NO_LIBCALLS void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (d <= s || d >= s + n) {
		gk_copy(dst, src, n);
		return dst;
	}
	while (n--)
		d[n] = s[n];
	return dst;
}

GK_NO_LIBCALLS void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	if (c == 0) {
		gk_zero(dst, n);
		return dst;
	}
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

GK_NO_LIBCALLS int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}
