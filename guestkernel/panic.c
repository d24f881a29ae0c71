/* Guest-kernel panics and the little formatter they (and messages) use. */
#include "gk.h"

struct fmt_out {
	char *buf;
	size_t size, len;
};

static void put(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_num(struct fmt_out *o, uint64_t v, unsigned base)
{
	char digits[20];
	unsigned n = 0;
	do {
		unsigned d = (unsigned)(v % base);
		digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	if (base == 16) {
		put(o, '0');
		put(o, 'x');
	}
	while (n)
		put(o, digits[--n]);
}

size_t gk_vfmt(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = {buf, size, 0};
	for (const char *p = fmt; *p; p++) {
		if (*p != '%' || !p[1]) {
			put(&o, *p);
			continue;
		}
		switch (*++p) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			for (s = s ? s : "(null)"; *s; s++)
				put(&o, *s);
			break;
		}
		case 'u':
			put_num(&o, va_arg(ap, uint64_t), 10);
			break;
		case 'x':
			put_num(&o, va_arg(ap, uint64_t), 16);
			break;
		default:
			put(&o, *p);
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return o.len < size ? o.len : (size ? size - 1 : 0);
}

size_t gk_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t n = gk_vfmt(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void gk_panic(const char *fmt, ...)
{
	struct al_bootinfo *bi = GK_BI;
	va_list ap;
	va_start(ap, fmt);
	size_t n = gk_vfmt(bi->panic_msg, AL_PANIC_MSG_MAX, fmt, ap);
	va_end(ap);
	bi->panic_len = (uint32_t)n;
	gk_barrier(); /* message first, then the flag the VMM checks */
	bi->panic_flag = AL_PANIC_MAGIC;
	pf_stop();
}
