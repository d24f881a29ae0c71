/*
 * The policy schema, one table per JSON object, drives parsing, validation
 * and printing alike: a key that is not in a table is refused, and every key
 * in a table is printed by policy_to_json().
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <seccomp.h>

#include "airlock/boot.h"
#include "airlock/proto.h"
#include "policy/policy.h"

#define PATH_TEXT_MAX 256 /* bytes of a field path in messages */
#define TIB (1ull << 40)
#define GIB (1ull << 30)
#define WEEK_S (7ull * 24 * 3600)

struct parser {
	struct policy *p;
	const char *name;     /* the file, for messages */
	const char *base_dir; /* where relative images are */
	char *err;
	size_t errlen;
};

enum kind {
	F_UINT,	  /* integer in [min, max], stored as uint32_t or uint64_t */
	F_MS,	  /* seconds in the file, milliseconds in [min, max] stored */
	F_BOOL,	  /* true or false */
	F_STRING, /* checked by parse, stored as an owned char * */
	F_OBJECT, /* nested object with its own table, same base */
	F_LIST,	  /* array of objects, see struct list_spec */
	F_CUSTOM, /* parse and show do everything */
};

struct list_spec;

struct field {
	const char *key;
	enum kind kind;
	size_t off, size;
	uint64_t min, max;
	const struct field *fields;   /* F_OBJECT; ends with a NULL key */
	const struct list_spec *list; /* F_LIST */
	int (*parse)(struct parser *, json_t *v, const char *path, void *base);
	json_t *(*show)(const void *base);
	bool required;
};

#define UINT_FIELD(k, type, member, lo, hi)                                    \
	{                                                                      \
		.key = k, .kind = F_UINT, .off = offsetof(type, member),       \
		.size = sizeof(((type *)0)->member), .min = lo, .max = hi      \
	}
#define CUSTOM_FIELD(k, name)                                                  \
	{                                                                      \
		.key = k, .kind = F_CUSTOM, .parse = parse_##name,             \
		.show = show_##name                                            \
	}
#define BOOL_FIELD(k, type, member)                                            \
	{                                                                      \
		.key = k, .kind = F_BOOL, .off = offsetof(type, member)        \
	}

/* Messages -------------------------------------------------------------- */

static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static int fail(struct parser *ps, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes "NAME: PATH: message" and returns -1. */
static int fail(struct parser *ps, const char *path, const char *fmt, ...)
{
	char msg[POLICY_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (*path)
		snprintf(ps->err, ps->errlen, "%s: %s: %s", ps->name, path,
			 msg);
	else
		snprintf(ps->err, ps->errlen, "%s: %s", ps->name, msg);
	sanitize(ps->err);
	return -1;
}

/* A short rendering of what the file said, for "got ..." */
static void describe(const json_t *v, char *out, size_t n)
{
	if (json_is_object(v)) {
		snprintf(out, n, "an object");
		return;
	}
	if (json_is_array(v)) {
		snprintf(out, n, "an array");
		return;
	}
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!s) {
		snprintf(out, n, "a value");
		return;
	}
	size_t len = strlen(s);
	if (len > 40) { /* cut short, at a UTF-8 character boundary */
		len = 37;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	snprintf(out, n, "%.*s%s", (int)len, s, s[len] ? "..." : "");
	free(s);
}

#define GOT(v) (describe((v), got, sizeof(got)), got)

/* "60", "0.5", "0.001" */
static void format_ms(uint64_t ms, char *out, size_t n)
{
	if (ms % 1000 == 0) {
		snprintf(out, n, "%llu", (unsigned long long)(ms / 1000));
		return;
	}
	snprintf(out, n, "%llu.%03llu", (unsigned long long)(ms / 1000),
		 (unsigned long long)(ms % 1000));
	char *end = out + strlen(out) - 1;
	while (*end == '0')
		*end-- = '\0';
}

/* Paths only name fields in messages: a very long one is cut short. */
static void join_path(char *out, const char *parent, const char *key)
{
	snprintf(out, PATH_TEXT_MAX, "%s%s%s", parent, *parent ? "." : "", key);
}

static void index_path(char *out, const char *parent, size_t i)
{
	snprintf(out, PATH_TEXT_MAX, "%.200s[%zu]", parent, i);
}

/* Stored values --------------------------------------------------------- */

static void *at(void *base, size_t off)
{
	return (char *)base + off;
}

static const void *at_const(const void *base, size_t off)
{
	return (const char *)base + off;
}

static void store_uint(const struct field *f, void *base, uint64_t v)
{
	if (f->size == sizeof(uint32_t))
		*(uint32_t *)at(base, f->off) = (uint32_t)v;
	else
		*(uint64_t *)at(base, f->off) = v;
}

static uint64_t load_uint(const struct field *f, const void *base)
{
	if (f->size == sizeof(uint32_t))
		return *(const uint32_t *)at_const(base, f->off);
	return *(const uint64_t *)at_const(base, f->off);
}

/* Generic values -------------------------------------------------------- */

static int parse_uint(struct parser *ps, const struct field *f, json_t *v,
		      const char *path, void *base)
{
	char got[64];
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;
	if (!json_is_integer(v) || n < 0 || (uint64_t)n < f->min ||
	    (uint64_t)n > f->max)
		return fail(ps, path,
			    "expected an integer from %llu to %llu, "
			    "got %s",
			    (unsigned long long)f->min,
			    (unsigned long long)f->max, GOT(v));
	store_uint(f, base, (uint64_t)n);
	return 0;
}

static int parse_ms(struct parser *ps, const struct field *f, json_t *v,
		    const char *path, void *base)
{
	char got[64], lo[32], hi[32];
	/* rounded to the nearest millisecond by truncating ms + 0.5 */
	double s = json_is_number(v) ? json_number_value(v) : -1;
	double ms = s * 1000.0 + 0.5;
	if (!json_is_number(v) || !(ms >= (double)f->min) ||
	    !(ms < (double)f->max + 1.0)) {
		format_ms(f->min, lo, sizeof(lo));
		format_ms(f->max, hi, sizeof(hi));
		return fail(ps, path, "expected seconds from %s to %s, got %s",
			    lo, hi, GOT(v));
	}
	store_uint(f, base, (uint64_t)ms);
	return 0;
}

static int parse_bool(struct parser *ps, json_t *v, const char *path, bool *out)
{
	char got[64];
	if (!json_is_boolean(v))
		return fail(ps, path, "expected true or false, got %s", GOT(v));
	*out = json_is_true(v);
	return 0;
}

static int parse_object(struct parser *ps, json_t *obj,
			const struct field *fields, const char *path,
			void *base);

static int parse_list(struct parser *ps, const struct list_spec *ls, json_t *v,
		      const char *path, void *base);
static json_t *show_list(const struct list_spec *ls, const void *base);

static int parse_field(struct parser *ps, const struct field *f, json_t *v,
		       const char *path, void *base)
{
	switch (f->kind) {
	case F_UINT:
		return parse_uint(ps, f, v, path, base);
	case F_MS:
		return parse_ms(ps, f, v, path, base);
	case F_BOOL:
		return parse_bool(ps, v, path, at(base, f->off));
	case F_OBJECT:
		return parse_object(ps, v, f->fields, path, base);
	case F_LIST:
		return parse_list(ps, f->list, v, path, base);
	case F_STRING:
	case F_CUSTOM:
		return f->parse(ps, v, path, base);
	}
	return fail(ps, path, "internal error: unknown field kind");
}

static const struct field *find_key(const struct field *fields, const char *key)
{
	for (const struct field *f = fields; f->key; f++)
		if (strcmp(f->key, key) == 0)
			return f;
	return NULL;
}

static int unknown_key(struct parser *ps, const struct field *fields,
		       const char *path)
{
	char expected[512] = "";
	size_t used = 0;
	for (const struct field *f = fields; f->key && used < sizeof(expected);
	     f++)
		used += snprintf(expected + used, sizeof(expected) - used,
				 "%s%s", f == fields ? "" : ", ", f->key);
	return fail(ps, path, "unknown key (expected one of: %s)", expected);
}

static int check_object(struct parser *ps, json_t *v, const char *path)
{
	char got[64];
	if (!json_is_object(v))
		return fail(ps, path, "expected an object, got %s", GOT(v));
	return 0;
}

static int parse_object(struct parser *ps, json_t *obj,
			const struct field *fields, const char *path,
			void *base)
{
	char sub[PATH_TEXT_MAX];
	if (check_object(ps, obj, path) < 0)
		return -1;
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		const struct field *f = find_key(fields, key);
		join_path(sub, path, key);
		if (!f)
			return unknown_key(ps, fields, sub);
		if (parse_field(ps, f, v, sub, base) < 0)
			return -1;
	}
	for (const struct field *f = fields; f->key; f++) {
		join_path(sub, path, f->key);
		if (f->required && !json_object_get(obj, f->key))
			return fail(ps, sub, "required");
	}
	return 0;
}

/* Strings --------------------------------------------------------------- */

static int get_string(struct parser *ps, json_t *v, const char *path,
		      size_t min, size_t max, const char **out)
{
	char got[64];
	if (!json_is_string(v))
		return fail(ps, path, "expected a string, got %s", GOT(v));
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len != strlen(s))
		return fail(ps, path, "contains a NUL character");
	if (len < min || len > max)
		return fail(ps, path, "expected %zu to %zu bytes, got %zu", min,
			    max, len);
	*out = s;
	return 0;
}

static int keep_string(struct parser *ps, const char *s, const char *path,
		       char **slot)
{
	free(*slot);
	*slot = strdup(s);
	return *slot ? 0 : fail(ps, path, "out of memory");
}

static bool has_control_chars(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Absolute, no empty, "." or ".." components, no trailing slash. */
static bool is_clean_absolute(const char *s)
{
	if (s[0] != '/' || has_control_chars(s))
		return false;
	for (const char *c = s; *c; c++) {
		if (*c != '/')
			continue;
		const char *next = c + 1;
		size_t n = strcspn(next, "/");
		if (n == 0 || (n == 1 && next[0] == '.') ||
		    (n == 2 && next[0] == '.' && next[1] == '.'))
			return false;
	}
	return true;
}

/* A clean absolute path of at most max bytes, kept in *slot. */
static int take_clean_path(struct parser *ps, json_t *v, const char *path,
			   size_t max, const char *side, char **slot)
{
	const char *s;
	if (get_string(ps, v, path, 1, max, &s) < 0)
		return -1;
	if (!is_clean_absolute(s))
		return fail(ps, path,
			    "expected an absolute %s path below / without "
			    "\".\", \"..\", \"//\" or a trailing slash, got "
			    "\"%s\"",
			    side, s);
	return keep_string(ps, s, path, slot);
}

/* Drives ---------------------------------------------------------------- */

static int parse_image(struct parser *ps, json_t *v, const char *path,
		       void *base)
{
	struct policy_drive *d = base;
	const char *s;
	if (get_string(ps, v, path, 1, PATH_MAX - 1, &s) < 0)
		return -1;
	char joined[2 * PATH_MAX];
	const char *dir = ps->base_dir && *ps->base_dir ? ps->base_dir : ".";
	if (s[0] == '/')
		snprintf(joined, sizeof(joined), "%s", s);
	else
		snprintf(joined, sizeof(joined), "%s/%s", dir, s);
	char resolved[PATH_MAX];
	struct stat st;
	if (!realpath(joined, resolved) || stat(resolved, &st) < 0)
		return fail(ps, path, "cannot use image %s: %s%s", joined,
			    strerror(errno),
			    s[0] == '/' ? ""
					: " (a relative image is relative to "
					  "the policy file's directory)");
	if (!S_ISREG(st.st_mode))
		return fail(ps, path, "%s is not a regular file", resolved);
	if (access(resolved, R_OK) < 0)
		return fail(ps, path, "cannot read %s: %s", resolved,
			    strerror(errno));
	return keep_string(ps, resolved, path, &d->image);
}

static int parse_mount(struct parser *ps, json_t *v, const char *path,
		       void *base)
{
	struct policy_drive *d = base;
	if (take_clean_path(ps, v, path, POLICY_MOUNT_MAX, "guest", &d->mount) <
	    0)
		return -1;
	if (strcmp(d->mount, "/dev") == 0 || strncmp(d->mount, "/dev/", 5) == 0)
		return fail(ps, path, "/dev belongs to the guest kernel");
	return 0;
}

static const struct field drive_fields[] = {
    {.key = "image",
     .kind = F_STRING,
     .parse = parse_image,
     .off = offsetof(struct policy_drive, image),
     .required = true},
    {.key = "mount",
     .kind = F_STRING,
     .parse = parse_mount,
     .off = offsetof(struct policy_drive, mount),
     .required = true},
    BOOL_FIELD("writable", struct policy_drive, writable),
    {0},
};

/* Arrays of objects: each element parsed against a table into its slot,
 * and the unique field's value used by no earlier element. */
struct list_spec {
	const struct field *fields;
	size_t off, elem_size, count_off, cap;
	const char *unique; /* key of an F_STRING or F_UINT field */
};

#define LIST_SPEC(table, member, count, limit, unique_key)                     \
	{                                                                      \
		.fields = table, .off = offsetof(struct policy, member),       \
		.elem_size = sizeof(((struct policy *)0)->member[0]),          \
		.count_off = offsetof(struct policy, count), .cap = limit,     \
		.unique = unique_key                                           \
	}

/* The unique field of an element, as text for comparing and messages. */
static void unique_text(const struct field *f, const void *elem, char *out,
			size_t n)
{
	if (f->kind == F_STRING)
		snprintf(out, n, "%s", *(char *const *)at_const(elem, f->off));
	else
		snprintf(out, n, "%llu",
			 (unsigned long long)load_uint(f, elem));
}

static int check_unique(struct parser *ps, const struct list_spec *ls,
			const char *list, size_t i, const char *list_path,
			const char *path)
{
	const struct field *f = find_key(ls->fields, ls->unique);
	char mine[PATH_TEXT_MAX], theirs[PATH_TEXT_MAX];
	unique_text(f, list + i * ls->elem_size, mine, sizeof(mine));
	for (size_t j = 0; j < i; j++) {
		unique_text(f, list + j * ls->elem_size, theirs,
			    sizeof(theirs));
		if (strcmp(mine, theirs) == 0)
			return fail(ps, path,
				    "%s %s is already used by %s[%zu]", f->key,
				    mine, list_path, j);
	}
	return 0;
}

static int check_array(struct parser *ps, json_t *v, const char *path,
		       size_t cap)
{
	char got[64];
	if (!json_is_array(v))
		return fail(ps, path, "expected an array, got %s", GOT(v));
	if (json_array_size(v) > cap)
		return fail(ps, path, "at most %zu entries, got %zu", cap,
			    json_array_size(v));
	return 0;
}

/* Calls take on each element of an array of at most cap elements. */
static int each_element(struct parser *ps, json_t *v, const char *path,
			size_t cap,
			int (*take)(struct parser *, json_t *, const char *))
{
	if (check_array(ps, v, path, cap) < 0)
		return -1;
	size_t i;
	json_t *elem;
	char sub[PATH_TEXT_MAX];
	json_array_foreach(v, i, elem)
	{
		index_path(sub, path, i);
		if (take(ps, elem, sub) < 0)
			return -1;
	}
	return 0;
}

/* Parses elem into the next free slot of the list at path. The slot counts
 * as used even on failure, so that policy_free() releases what it holds. */
static int add_list_element(struct parser *ps, const struct list_spec *ls,
			    json_t *elem, const char *path, void *base)
{
	char *list = at(base, ls->off);
	size_t *count = at(base, ls->count_off);
	size_t i = *count;
	char sub[PATH_TEXT_MAX];
	index_path(sub, path, i);
	if (i >= ls->cap)
		return fail(ps, sub, "at most %zu entries", ls->cap);
	*count = i + 1;
	if (parse_object(ps, elem, ls->fields, sub, list + i * ls->elem_size) <
		0 ||
	    check_unique(ps, ls, list, i, path, sub) < 0)
		return -1;
	return 0;
}

static int parse_list(struct parser *ps, const struct list_spec *ls, json_t *v,
		      const char *path, void *base)
{
	if (check_array(ps, v, path, ls->cap) < 0)
		return -1;
	size_t i;
	json_t *elem;
	json_array_foreach(v, i, elem)
	{
		if (add_list_element(ps, ls, elem, path, base) < 0)
			return -1;
	}
	return 0;
}

static json_t *show_object(const struct field *fields, const void *base);

static json_t *show_list(const struct list_spec *ls, const void *base)
{
	json_t *a = json_array();
	const char *list = at_const(base, ls->off);
	size_t count = *(const size_t *)at_const(base, ls->count_off);
	for (size_t i = 0; a && i < count; i++)
		if (json_array_append_new(
			a, show_object(ls->fields, list + i * ls->elem_size)))
			return json_decref(a), NULL;
	return a;
}

static const struct list_spec drives_spec =
    LIST_SPEC(drive_fields, drives, ndrives, POLICY_MAX_DRIVES, "mount");

/* vsock ----------------------------------------------------------------- */

static int parse_socket(struct parser *ps, json_t *v, const char *path,
			void *base)
{
	struct policy_vsock *c = base;
	return take_clean_path(ps, v, path, POLICY_SOCKET_PATH_MAX, "host",
			       &c->socket);
}

static const struct field vsock_fields[] = {
    {.key = "port",
     .kind = F_UINT,
     .off = offsetof(struct policy_vsock, port),
     .size = sizeof(uint32_t),
     .min = 1,
     .max = AL_PORT_RESERVED_MIN - 1,
     .required = true},
    {.key = "socket",
     .kind = F_STRING,
     .parse = parse_socket,
     .off = offsetof(struct policy_vsock, socket),
     .required = true},
    {0},
};

static const struct list_spec vsock_spec = LIST_SPEC(
    vsock_fields, vsock_connect, nvsock_connect, POLICY_MAX_VSOCK, "port");

/* Environment ----------------------------------------------------------- */

static bool is_env_name(const char *s)
{
	if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') ||
	      (*s >= 'a' && *s <= 'z')))
		return false;
	for (; *s; s++)
		if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static int check_env_name(struct parser *ps, const char *name, const char *path)
{
	const struct policy *p = ps->p;
	if (strlen(name) > POLICY_ENV_NAME_MAX || !is_env_name(name))
		return fail(ps, path,
			    "expected a variable name (letters, digits and _, "
			    "not starting with a digit, at most %d bytes), "
			    "got \"%s\"",
			    POLICY_ENV_NAME_MAX, name);
	if (p->env.npass + p->env.nset >= POLICY_MAX_ENV)
		return fail(ps, path,
			    "at most %d variables in env.pass and env.set "
			    "together",
			    POLICY_MAX_ENV);
	for (size_t i = 0; i < p->env.npass; i++)
		if (strcmp(p->env.pass[i], name) == 0)
			return fail(ps, path, "%s is already in env.pass[%zu]",
				    name, i);
	for (size_t i = 0; i < p->env.nset; i++)
		if (strcmp(p->env.set[i].name, name) == 0)
			return fail(ps, path, "%s is already in env.set", name);
	return 0;
}

static int add_env_pass(struct parser *ps, json_t *elem, const char *path)
{
	struct policy *p = ps->p;
	const char *name;
	if (get_string(ps, elem, path, 1, POLICY_ENV_NAME_MAX, &name) < 0 ||
	    check_env_name(ps, name, path) < 0 ||
	    keep_string(ps, name, path, &p->env.pass[p->env.npass]) < 0)
		return -1;
	p->env.npass++;
	return 0;
}

static int parse_env_pass(struct parser *ps, json_t *v, const char *path,
			  void *base)
{
	(void)base;
	return each_element(ps, v, path, POLICY_MAX_ENV, add_env_pass);
}

static int add_env_set(struct parser *ps, const char *name, json_t *value,
		       const char *path)
{
	struct policy *p = ps->p;
	struct policy_env_set *e = &p->env.set[p->env.nset];
	const char *s;
	if (check_env_name(ps, name, path) < 0 ||
	    get_string(ps, value, path, 0, POLICY_ENV_VALUE_MAX, &s) < 0)
		return -1;
	p->env.nset++; /* counted first, so that policy_free() frees it */
	if (keep_string(ps, name, path, &e->name) < 0 ||
	    keep_string(ps, s, path, &e->value) < 0)
		return -1;
	return 0;
}

static int parse_env_set(struct parser *ps, json_t *v, const char *path,
			 void *base)
{
	(void)base;
	char sub[PATH_TEXT_MAX];
	if (check_object(ps, v, path) < 0)
		return -1;
	const char *name;
	json_t *value;
	json_object_foreach(v, name, value)
	{
		join_path(sub, path, name);
		if (add_env_set(ps, name, value, sub) < 0)
			return -1;
	}
	return 0;
}

static json_t *show_env_pass(const void *base)
{
	const struct policy *p = base;
	json_t *a = json_array();
	for (size_t i = 0; a && i < p->env.npass; i++)
		if (json_array_append_new(a, json_string(p->env.pass[i])))
			return json_decref(a), NULL;
	return a;
}

static json_t *show_env_set(const void *base)
{
	const struct policy *p = base;
	json_t *o = json_object();
	for (size_t i = 0; o && i < p->env.nset; i++)
		if (json_object_set_new(o, p->env.set[i].name,
					json_string(p->env.set[i].value)))
			return json_decref(o), NULL;
	return o;
}

/* Guest syscalls -------------------------------------------------------- */

static const char *const mode_keys[] = {
    [POLICY_SYSCALLS_DENY] = "deny",
    [POLICY_SYSCALLS_ALLOW] = "allow",
};

static const char *const action_names[] = {
    [POLICY_ACTION_ERRNO] = "errno",
    [POLICY_ACTION_KILL] = "kill",
};

static int add_syscall(struct parser *ps, json_t *elem, const char *path)
{
	struct policy *p = ps->p;
	const char *name;
	if (get_string(ps, elem, path, 1, POLICY_SYSCALL_NAME_MAX - 1, &name) <
	    0)
		return -1;
	int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);
	if (nr < 0)
		return fail(ps, path, "unknown x86-64 syscall \"%s\"", name);
	for (size_t i = 0; i < p->syscalls.count; i++)
		if (p->syscalls.list[i].nr == nr)
			return fail(ps, path, "%s is already listed", name);
	struct policy_syscall *sc = &p->syscalls.list[p->syscalls.count++];
	sc->nr = nr;
	snprintf(sc->name, sizeof(sc->name), "%s", name);
	return 0;
}

static int parse_syscall_list(struct parser *ps, json_t *v, const char *path,
			      enum policy_syscall_mode mode)
{
	ps->p->syscalls.mode = mode;
	return each_element(ps, v, path, POLICY_MAX_SYSCALLS, add_syscall);
}

static int parse_deny(struct parser *ps, json_t *v, const char *path,
		      void *base)
{
	(void)base;
	return parse_syscall_list(ps, v, path, POLICY_SYSCALLS_DENY);
}

static int parse_allow(struct parser *ps, json_t *v, const char *path,
		       void *base)
{
	(void)base;
	return parse_syscall_list(ps, v, path, POLICY_SYSCALLS_ALLOW);
}

static int parse_action(struct parser *ps, json_t *v, const char *path,
			void *base)
{
	struct policy *p = base;
	char got[64];
	for (size_t i = 0; i < sizeof(action_names) / sizeof(*action_names);
	     i++)
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), action_names[i]) == 0) {
			p->syscalls.action = (enum policy_syscall_action)i;
			return 0;
		}
	return fail(ps, path, "expected \"errno\" or \"kill\", got %s", GOT(v));
}

static const struct field syscalls_fields[] = {
    {.key = "deny", .kind = F_CUSTOM, .parse = parse_deny},
    {.key = "allow", .kind = F_CUSTOM, .parse = parse_allow},
    {.key = "action", .kind = F_CUSTOM, .parse = parse_action},
    {0},
};

static int parse_syscalls(struct parser *ps, json_t *v, const char *path,
			  void *base)
{
	if (json_object_get(v, "deny") && json_object_get(v, "allow"))
		return fail(ps, path,
			    "give a deny list or an allow list, "
			    "not both");
	return parse_object(ps, v, syscalls_fields, path, base);
}

static json_t *show_syscalls(const void *base)
{
	const struct policy *p = base;
	json_t *list = json_array();
	for (size_t i = 0; list && i < p->syscalls.count; i++)
		if (json_array_append_new(
			list, json_string(p->syscalls.list[i].name)))
			return json_decref(list), NULL;
	return json_pack("{s:o?, s:s}", mode_keys[p->syscalls.mode], list,
			 "action", action_names[p->syscalls.action]);
}

/* Version --------------------------------------------------------------- */

static int parse_version(struct parser *ps, json_t *v, const char *path,
			 void *base)
{
	(void)base;
	char got[64];
	if (!json_is_integer(v) || json_integer_value(v) != POLICY_VERSION)
		return fail(ps, path,
			    "expected %d (the only version this airlock "
			    "understands), got %s",
			    POLICY_VERSION, GOT(v));
	return 0;
}

static json_t *show_version(const void *base)
{
	(void)base;
	return json_integer(POLICY_VERSION);
}

/* The schema ------------------------------------------------------------ */

static const struct field vm_fields[] = {
    UINT_FIELD("memory_mib", struct policy, vm.memory_mib, AL_MEM_MIN_MIB,
	       AL_MEM_MAX_MIB),
    UINT_FIELD("vcpus", struct policy, vm.vcpus, 1, 1),
    {0},
};

static const struct field limits_fields[] = {
    {.key = "timeout_s",
     .kind = F_MS,
     .off = offsetof(struct policy, limits.timeout_ms),
     .min = 1,
     .max = WEEK_S * 1000},
    UINT_FIELD("cpu_s", struct policy, limits.cpu_s, 1, WEEK_S),
    UINT_FIELD("stdout_bytes", struct policy, limits.stdout_bytes, 0, TIB),
    UINT_FIELD("stderr_bytes", struct policy, limits.stderr_bytes, 0, TIB),
    UINT_FIELD("stdin_bytes", struct policy, limits.stdin_bytes, 0, TIB),
    {0},
};

static const struct field env_fields[] = {
    CUSTOM_FIELD("pass", env_pass),
    CUSTOM_FIELD("set", env_set),
    {0},
};

static const struct field vsock_section_fields[] = {
    {.key = "connect", .kind = F_LIST, .list = &vsock_spec},
    {0},
};

static const struct field guest_fields[] = {
    CUSTOM_FIELD("syscalls", syscalls),
    {0},
};

static const struct field cgroup_fields[] = {
    UINT_FIELD("memory_max_mib", struct policy, jail.cgroup_memory_max_mib, 32,
	       65536),
    UINT_FIELD("pids_max", struct policy, jail.cgroup_pids_max, 4, 4096),
    UINT_FIELD("cpu_max_percent", struct policy, jail.cgroup_cpu_max_percent, 1,
	       10000),
    {0},
};

static const struct field jail_fields[] = {
    UINT_FIELD("uid", struct policy, jail.uid, 1, 4294967294u),
    UINT_FIELD("gid", struct policy, jail.gid, 1, 4294967294u),
    BOOL_FIELD("require_cgroup", struct policy, jail.require_cgroup),
    {.key = "cgroup", .kind = F_OBJECT, .fields = cgroup_fields},
    {0},
};

static const struct field top_fields[] = {
    {.key = "version",
     .kind = F_CUSTOM,
     .parse = parse_version,
     .show = show_version,
     .required = true},
    {.key = "vm", .kind = F_OBJECT, .fields = vm_fields},
    {.key = "limits", .kind = F_OBJECT, .fields = limits_fields},
    {.key = "drives", .kind = F_LIST, .list = &drives_spec},
    {.key = "env", .kind = F_OBJECT, .fields = env_fields},
    {.key = "vsock", .kind = F_OBJECT, .fields = vsock_section_fields},
    {.key = "guest", .kind = F_OBJECT, .fields = guest_fields},
    {.key = "jail", .kind = F_OBJECT, .fields = jail_fields},
    {0},
};

/* The field at a dotted path such as "vm.memory_mib". */
static const struct field *schema_field(const char *path)
{
	const struct field *fields = top_fields, *f = NULL;
	char buf[PATH_TEXT_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	char *save = NULL;
	for (char *key = strtok_r(buf, ".", &save); key;
	     key = strtok_r(NULL, ".", &save)) {
		if (!fields || !(f = find_key(fields, key)))
			return NULL;
		fields = f->fields;
	}
	return f;
}

/* Whole documents ------------------------------------------------------- */

void policy_default(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	p->vm.memory_mib = 64;
	p->vm.vcpus = 1;
	p->limits.timeout_ms = 60 * 1000;
	p->limits.cpu_s = 60;
	p->limits.stdout_bytes = GIB;
	p->limits.stderr_bytes = GIB;
	p->limits.stdin_bytes = GIB;
	p->syscalls.mode = POLICY_SYSCALLS_DENY;
	p->syscalls.action = POLICY_ACTION_ERRNO;
	p->jail.uid = 65534;
	p->jail.gid = 65534;
	p->jail.require_cgroup = false;
	p->jail.cgroup_memory_max_mib =
	    p->vm.memory_mib + POLICY_CGROUP_SLACK_MIB;
	p->jail.cgroup_pids_max = 16;
	p->jail.cgroup_cpu_max_percent = 100;
}

void policy_free(struct policy *p)
{
	for (size_t i = 0; i < p->ndrives; i++) {
		free(p->drives[i].image);
		free(p->drives[i].mount);
	}
	for (size_t i = 0; i < p->env.npass; i++)
		free(p->env.pass[i]);
	for (size_t i = 0; i < p->env.nset; i++) {
		free(p->env.set[i].name);
		free(p->env.set[i].value);
	}
	for (size_t i = 0; i < p->nvsock_connect; i++)
		free(p->vsock_connect[i].socket);
	policy_default(p);
}

/* The cgroup's memory.max follows vm.memory_mib unless the file sets it. */
static int check_cgroup_memory(struct parser *ps, json_t *root)
{
	struct policy *p = ps->p;
	json_t *cg = json_object_get(json_object_get(root, "jail"), "cgroup");
	uint64_t need = p->vm.memory_mib + POLICY_VMM_OVERHEAD_MIB;
	if (!json_object_get(cg, "memory_max_mib")) {
		p->jail.cgroup_memory_max_mib =
		    p->vm.memory_mib + POLICY_CGROUP_SLACK_MIB;
		return 0;
	}
	if (p->jail.cgroup_memory_max_mib < need)
		return fail(ps, "jail.cgroup.memory_max_mib",
			    "expected at least vm.memory_mib + %u (%llu), got "
			    "%llu",
			    POLICY_VMM_OVERHEAD_MIB, (unsigned long long)need,
			    (unsigned long long)p->jail.cgroup_memory_max_mib);
	return 0;
}

static bool only_whitespace(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n", buf[i]))
			return false;
	return true;
}

static int parse_document(struct parser *ps, const char *buf, size_t len)
{
	char got[64];
	const char *nul = memchr(buf, '\0', len);
	if (len > POLICY_FILE_MAX)
		return fail(ps, "", "larger than %d bytes; not a policy",
			    POLICY_FILE_MAX);
	if (nul)
		return fail(ps, "",
			    "binary data (a NUL byte at offset %zu); a policy "
			    "is JSON text",
			    (size_t)(nul - buf));
	if (only_whitespace(buf, len))
		return fail(ps, "",
			    "empty; expected a JSON object with "
			    "\"version\": %d",
			    POLICY_VERSION);
	json_error_t jerr;
	json_t *root = json_loadb(
	    buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!root) {
		snprintf(ps->err, ps->errlen, "%s:%d:%d: %s", ps->name,
			 jerr.line, jerr.column, jerr.text);
		sanitize(ps->err);
		return -1;
	}
	int rc = 0;
	if (!json_is_object(root))
		rc = fail(ps, "", "expected a JSON object at the top, got %s",
			  GOT(root));
	else if (parse_object(ps, root, top_fields, "", ps->p) < 0 ||
		 check_cgroup_memory(ps, root) < 0)
		rc = -1;
	json_decref(root);
	return rc;
}

int policy_parse_buffer(const void *buf, size_t len, const char *name,
			const char *base_dir, struct policy *p, char *err,
			size_t errlen)
{
	struct parser ps = {.p = p,
			    .name = name,
			    .base_dir = base_dir,
			    .err = err,
			    .errlen = errlen};
	policy_default(p);
	if (parse_document(&ps, buf, len) < 0) {
		policy_free(p);
		return -1;
	}
	return 0;
}

/* Reads at most POLICY_FILE_MAX + 1 bytes, so that a larger file is refused
 * rather than read whole. Pipes work too (--policy <(...)). */
static char *read_capped(const char *path, size_t *len, char *err,
			 size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = POLICY_FILE_MAX + 1, used = 0;
	char *buf = fd < 0 ? NULL : malloc(cap);
	while (buf && used < cap) {
		ssize_t n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				free(buf), buf = NULL;
			break;
		}
		used += (size_t)n;
	}
	if (!buf)
		snprintf(err, errlen, "%s: cannot read: %s", path,
			 strerror(errno));
	if (fd >= 0)
		close(fd);
	*len = used;
	return buf;
}

int policy_load(const char *path, struct policy *p, char *err, size_t errlen)
{
	size_t len;
	policy_default(p);
	char *buf = read_capped(path, &len, err, errlen);
	if (!buf)
		return -1;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	int rc = policy_parse_buffer(buf, len, path, dir, p, err, errlen);
	free(buf);
	return rc;
}

/* Printing -------------------------------------------------------------- */

static json_t *show_field(const struct field *f, const void *base)
{
	uint64_t ms;
	switch (f->kind) {
	case F_UINT:
		return json_integer((json_int_t)load_uint(f, base));
	case F_MS:
		ms = load_uint(f, base);
		if (ms % 1000 == 0)
			return json_integer((json_int_t)(ms / 1000));
		return json_real((double)ms / 1000.0);
	case F_BOOL:
		return json_boolean(*(const bool *)at_const(base, f->off));
	case F_STRING:
		return json_string(*(char *const *)at_const(base, f->off));
	case F_OBJECT:
		return show_object(f->fields, base);
	case F_LIST:
		return show_list(f->list, base);
	case F_CUSTOM:
		return f->show(base);
	}
	return NULL;
}

static json_t *show_object(const struct field *fields, const void *base)
{
	json_t *o = json_object();
	for (const struct field *f = fields; o && f->key; f++)
		if (json_object_set_new(o, f->key, show_field(f, base)))
			return json_decref(o), NULL;
	return o;
}

json_t *policy_to_json(const struct policy *p)
{
	return show_object(top_fields, p);
}

int policy_show(FILE *f, const struct policy *p)
{
	json_t *j = policy_to_json(p);
	if (!j)
		return -1;
	int rc = json_dumpf(j, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	json_decref(j);
	if (rc == 0 && fputc('\n', f) == EOF)
		rc = -1;
	return rc;
}

/* Command-line flags ------------------------------------------------------ */

static const char *const limit_paths[] = {
    [POLICY_LIMIT_MEMORY_MIB] = "vm.memory_mib",
    [POLICY_LIMIT_TIMEOUT_MS] = "limits.timeout_s",
    [POLICY_LIMIT_CPU_S] = "limits.cpu_s",
    [POLICY_LIMIT_STDOUT_BYTES] = "limits.stdout_bytes",
    [POLICY_LIMIT_STDERR_BYTES] = "limits.stderr_bytes",
    [POLICY_LIMIT_STDIN_BYTES] = "limits.stdin_bytes",
};

static void format_value(const struct field *f, uint64_t v, char *out, size_t n)
{
	if (f->kind == F_MS) {
		format_ms(v, out, n);
		return;
	}
	snprintf(out, n, "%llu", (unsigned long long)v);
}

static int change_limit(struct policy *p, enum policy_limit which,
			uint64_t value, bool may_widen, char *err,
			size_t errlen)
{
	if ((size_t)which >= sizeof(limit_paths) / sizeof(*limit_paths)) {
		snprintf(err, errlen, "unknown limit %d", (int)which);
		return -1;
	}
	const char *path = limit_paths[which];
	const struct field *f = schema_field(path);
	uint64_t cur = load_uint(f, p);
	char v[32], lo[32], hi[32], now[32];
	format_value(f, value, v, sizeof(v));
	format_value(f, f->min, lo, sizeof(lo));
	format_value(f, f->max, hi, sizeof(hi));
	format_value(f, cur, now, sizeof(now));
	if (value < f->min || value > f->max) {
		snprintf(err, errlen, "%s: expected %s to %s, got %s", path, lo,
			 hi, v);
		return -1;
	}
	if (!may_widen && value > cur) {
		snprintf(err, errlen,
			 "%s: the policy allows at most %s; a flag may only "
			 "lower it, got %s",
			 path, now, v);
		return -1;
	}
	store_uint(f, p, value);
	if (which == POLICY_LIMIT_MEMORY_MIB &&
	    p->jail.cgroup_memory_max_mib < value + POLICY_VMM_OVERHEAD_MIB)
		p->jail.cgroup_memory_max_mib = value + POLICY_CGROUP_SLACK_MIB;
	return 0;
}

int policy_tighten(struct policy *p, enum policy_limit which, uint64_t value,
		   char *err, size_t errlen)
{
	return change_limit(p, which, value, false, err, errlen);
}

int policy_set_limit(struct policy *p, enum policy_limit which, uint64_t value,
		     char *err, size_t errlen)
{
	return change_limit(p, which, value, true, err, errlen);
}

/* Operator grants without a policy file ----------------------------------- */

static void drop_last_element(const struct list_spec *ls, void *base)
{
	size_t *count = at(base, ls->count_off);
	char *elem = (char *)at(base, ls->off) + --*count * ls->elem_size;
	for (const struct field *f = ls->fields; f->key; f++)
		if (f->kind == F_STRING)
			free(*(char **)at(elem, f->off));
	memset(elem, 0, ls->elem_size);
}

int policy_add_drive(struct policy *p, const char *image, const char *mount,
		     bool writable, char *err, size_t errlen)
{
	struct parser ps = {
	    .p = p, .name = "--drive", .err = err, .errlen = errlen};
	json_t *o = json_pack("{s:s, s:s, s:b}", "image", image, "mount", mount,
			      "writable", writable);
	if (!o)
		return fail(&ps, "", "expected UTF-8 text");
	size_t before = p->ndrives;
	int rc = add_list_element(&ps, &drives_spec, o, "drives", p);
	if (rc < 0 && p->ndrives > before)
		drop_last_element(&drives_spec, p);
	json_decref(o);
	return rc;
}

int policy_add_env(struct policy *p, const char *name, const char *value,
		   char *err, size_t errlen)
{
	struct parser ps = {
	    .p = p, .name = "--env", .err = err, .errlen = errlen};
	json_t *v = json_string(value);
	if (!v)
		return fail(&ps, name, "expected UTF-8 text");
	char path[PATH_TEXT_MAX];
	join_path(path, "env.set", name);
	size_t before = p->env.nset;
	int rc = add_env_set(&ps, name, v, path);
	if (rc < 0 && p->env.nset > before) {
		struct policy_env_set *e = &p->env.set[--p->env.nset];
		free(e->name);
		free(e->value);
		e->name = e->value = NULL;
	}
	json_decref(v);
	return rc;
}
