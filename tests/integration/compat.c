/* Differential runs for the compatibility tests: host vs airlock. */
#include "compat.h"

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define MAX_ARGV 64
/* How much of each stdout a failure message shows. */
#define SHOW_MAX 1500

/* Where the drives appear inside airlock (see compat.h for why /data). */
#define GUEST_DATA "/data"
#define GUEST_PYLIB "/usr/lib/python3.11"
#define GUEST_PYHOME "/usr"

struct prog_spec {
	const char *path; /* absolute, or a fixture under $JOBS */
	const char *memory_mib;
	bool needs_stdlib;
};

static const struct prog_spec progs[] = {
    [COMPAT_BUSYBOX] = {"/bin/busybox", "64", false},
    [COMPAT_LUA] = {"compat/lua", "64", false},
    /* A 9 MiB binary with a heap that grows with the scripts. */
    [COMPAT_PYTHON] = {"compat/python", "512", true},
};

/*
 * Python reads no host state we do not pass: no user site, no bytecode
 * written, fixed hash seed, UTF-8 without locale files (the guest has none).
 */
static const char *const python_env[] = {
    "PYTHONNOUSERSITE=1", "PYTHONDONTWRITEBYTECODE=1", "PYTHONHASHSEED=0",
    "PYTHONUTF8=1",	  "PYTHONCOERCECLOCALE=0",     NULL};

/* Absolute paths of everything a case touches on the host. */
struct fixture {
	char prog[PATH_MAX];
	char root[PATH_MAX];	 /* native cwd, holds data/ */
	char data_img[PATH_MAX]; /* data/ as ext2 */
	char pyhome[PATH_MAX];	 /* holds lib/python3.11 */
	char stdlib_img[PATH_MAX];
};

struct argv_buf {
	const char *v[MAX_ARGV];
	size_t n;
	char text[4][PATH_MAX + 64]; /* storage for composed arguments */
	size_t ntext;
};

static void push(struct argv_buf *a, const char *s)
{
	cr_assert_lt(a->n, MAX_ARGV - 1, "compat: more than %d arguments",
		     MAX_ARGV - 1);
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void pushf(struct argv_buf *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void pushf(struct argv_buf *a, const char *fmt, ...)
{
	cr_assert_lt(a->ntext, sizeof(a->text) / sizeof(a->text[0]));
	char *t = a->text[a->ntext++];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t, sizeof(a->text[0]), fmt, ap);
	va_end(ap);
	push(a, t);
}

static void resolve(char *out, const char *path)
{
	if (path[0] != '/')
		path = job(path);
	cr_assert_not_null(realpath(path, out),
			   "compat fixture %s is missing: build it with `make "
			   "check` (tests/compat/compat.mk)",
			   path);
}

static void find_fixture(struct fixture *f, const struct prog_spec *p)
{
	resolve(f->prog, p->path);
	resolve(f->root, "compat/root");
	resolve(f->data_img, "compat/data.img");
	if (p->needs_stdlib) {
		resolve(f->pyhome, "compat/pyhome");
		resolve(f->stdlib_img, "compat/pystdlib.img");
	}
}

/* env -i -C ROOT [VARS] PROG ARGS: the native side, environment as clean as
 * the guest's. */
static void native_argv(struct argv_buf *a, const struct compat_case *c,
			const struct fixture *f)
{
	push(a, "/usr/bin/env");
	push(a, "-i");
	push(a, "-C");
	push(a, f->root);
	if (progs[c->prog].needs_stdlib) {
		pushf(a, "PYTHONHOME=%s", f->pyhome);
		for (const char *const *e = python_env; *e; e++)
			push(a, *e);
	}
	push(a, f->prog);
	for (const char *const *s = c->args; *s; s++)
		push(a, *s);
}

static void airlock_argv(struct argv_buf *a, const struct compat_case *c,
			 const struct fixture *f, bool on_drive)
{
	const struct prog_spec *p = &progs[c->prog];
	push(a, "run");
	push(a, "--memory");
	push(a, p->memory_mib);
	if (on_drive) {
		push(a, "--drive");
		pushf(a, "%s:%s", f->data_img, GUEST_DATA);
	}
	if (p->needs_stdlib) {
		push(a, "--drive");
		pushf(a, "%s:%s", f->stdlib_img, GUEST_PYLIB);
		push(a, "--env");
		push(a, "PYTHONHOME=" GUEST_PYHOME);
		for (const char *const *e = python_env; *e; e++) {
			push(a, "--env");
			push(a, *e);
		}
	}
	push(a, "--");
	push(a, f->prog);
	for (const char *const *s = c->args; *s; s++)
		push(a, *s);
}

/* The whole stdin file, or NULL with *len 0 when the case has none. */
static char *read_stdin_file(const struct compat_case *c,
			     const struct fixture *f, size_t *len)
{
	*len = 0;
	if (!c->stdin_file)
		return NULL;
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", f->root, c->stdin_file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	cr_assert(fd >= 0 && fstat(fd, &st) == 0, "compat %s: open %s: %m",
		  c->name, path);
	char *buf = malloc((size_t)st.st_size + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(read(fd, buf, (size_t)st.st_size), st.st_size,
		     "compat %s: short read of %s", c->name, path);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

/* 1-based line and byte offset of the first difference of a and b. */
static size_t first_difference(const char *a, size_t alen, const char *b,
			       size_t blen, unsigned *line)
{
	size_t i = 0;
	*line = 1;
	while (i < alen && i < blen && a[i] == b[i]) {
		if (a[i] == '\n')
			*line += 1;
		i++;
	}
	return i;
}

/* The line of s that holds offset at, as (start, length). */
static int line_at(const char *s, size_t len, size_t at, const char **start)
{
	size_t b = at, e = at;
	while (b > 0 && s[b - 1] != '\n')
		b--;
	while (e < len && s[e] != '\n')
		e++;
	*start = s + b;
	return (int)(e - b);
}

static void expect_same_stdout(const struct compat_case *c,
			       const struct outcome *host,
			       const struct outcome *vm)
{
	if (host->out_len == vm->out_len &&
	    memcmp(host->out, vm->out, host->out_len) == 0)
		return;
	unsigned line;
	size_t at = first_difference(host->out, host->out_len, vm->out,
				     vm->out_len, &line);
	const char *hl, *vl;
	int hn = line_at(host->out, host->out_len, at, &hl);
	int vn = line_at(vm->out, vm->out_len, at, &vl);
	cr_expect_fail("compat %s: stdout differs from the native run at line "
		       "%u (byte %zu)\n  native:  %.*s\n  airlock: %.*s\n"
		       "native stdout (%zu bytes):\n%.*s\n"
		       "airlock stdout (%zu bytes):\n%.*s\nairlock stderr:\n%s",
		       c->name, line, at, hn, hl, vn, vl, host->out_len,
		       SHOW_MAX, host->out, vm->out_len, SHOW_MAX, vm->out,
		       vm->err);
}

void compat_check(const struct compat_case *c, bool on_drive)
{
	const struct prog_spec *p = &progs[c->prog];
	cr_assert(on_drive || !p->needs_stdlib,
		  "compat %s: Python needs its standard library drive: make it "
		  "a COMPAT_DRIVE case",
		  c->name);
	struct fixture f;
	find_fixture(&f, p);
	size_t in_len;
	char *in = read_stdin_file(c, &f, &in_len);

	struct argv_buf na = {0}, va = {0};
	native_argv(&na, c, &f);
	airlock_argv(&va, c, &f, on_drive);
	struct outcome host, vm;
	run_cmd(&host, in, in_len, na.v);
	cr_assert_eq(
	    host.status, c->status,
	    "compat %s: the native run exited %d, the case expects %d: "
	    "the case or its fixture is broken; stderr:\n%s",
	    c->name, host.status, c->status, host.err);
	/* After the native run, so that a broken case fails even here. */
	require_kvm();
	run_airlock(&vm, in, in_len, va.v);
	cr_expect_eq(vm.status, host.status,
		     "compat %s: exit status %d in airlock, %d natively; "
		     "airlock stderr:\n%s",
		     c->name, vm.status, host.status, vm.err);
	expect_same_stdout(c, &host, &vm);
	outcome_free(&host);
	outcome_free(&vm);
	free(in);
}
