/*
 * policy: what one job may do, as data. A policy file is JSON (format version
 * 1, see policy/README.md); everything it does not grant is denied, and
 * everything it says is checked here before anything runs: unknown or
 * duplicate keys, wrong types, out-of-range numbers, missing images, relative
 * mounts and unknown syscall names are all refused with a message that names
 * the file and the field (or FILE:LINE:COLUMN for a syntax error).
 *
 * Ranges (documented again, for operators, in policy/README.md):
 *   vm.memory_mib          integer, AL_MEM_MIN_MIB..AL_MEM_MAX_MIB (16..2048),
 *                          default 64
 *   vm.vcpus               integer, 1..1 (the built-in guest kernel runs one
 *                          vCPU), default 1
 *   limits.timeout_s       seconds, 0.001..604800 (7 days), fractions rounded
 *                          to the millisecond, default 60
 *   limits.cpu_s           integer seconds, 1..604800, default 60
 *   limits.stdout_bytes    integer, 0..2^40, default 2^30 (1 GiB)
 *   limits.stderr_bytes    integer, 0..2^40, default 2^30
 *   limits.stdin_bytes     integer, 0..2^40, default 2^30
 *   drives                 at most POLICY_MAX_DRIVES, default none
 *   env.pass + env.set     at most POLICY_MAX_ENV names together, default none
 *   vsock.connect          at most POLICY_MAX_VSOCK, ports 1..0xa0ffffff
 *                          (airlock reserves AL_PORT_RESERVED_MIN and up),
 *                          default none
 *   guest.syscalls         deny or allow list of at most POLICY_MAX_SYSCALLS
 *                          x86-64 names, default: deny nothing
 *   jail.uid, jail.gid     integer, 1..4294967294, default 65534
 *   jail.cgroup.memory_max_mib  integer, 32..65536, at least vm.memory_mib +
 *                          POLICY_VMM_OVERHEAD_MIB, default vm.memory_mib +
 *                          POLICY_CGROUP_SLACK_MIB
 *   jail.cgroup.pids_max   integer, 4..4096, default 16
 *   jail.cgroup.cpu_max_percent  integer, 1..10000 (100 = one CPU), default 100
 */
#ifndef AIRLOCK_POLICY_H
#define AIRLOCK_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define POLICY_VERSION 1

/* Caps on every list, and on the strings in them. */
#define POLICY_MAX_DRIVES 16
#define POLICY_MAX_ENV 64 /* env.pass and env.set together */
#define POLICY_MAX_VSOCK 16
#define POLICY_MAX_SYSCALLS 512
#define POLICY_MOUNT_MAX 255	   /* bytes in a guest mount path */
#define POLICY_ENV_NAME_MAX 255	   /* bytes in an environment name */
#define POLICY_ENV_VALUE_MAX 4096  /* bytes in an environment value */
#define POLICY_SOCKET_PATH_MAX 107 /* bytes; sun_path holds 108 with NUL */
#define POLICY_SYSCALL_NAME_MAX 40 /* bytes in a syscall name, with NUL */
#define POLICY_FILE_MAX (1 << 20)  /* bytes in a policy document */

/* The VMM's own memory beside guest RAM, for the cgroup's memory.max. */
#define POLICY_VMM_OVERHEAD_MIB 16u
#define POLICY_CGROUP_SLACK_MIB 64u

/* Room for any message the policy functions write. */
#define POLICY_ERR_MAX 1024

/* One virtio-blk drive. Always read-only on the host: a writable drive
 * writes to a private copy-on-write overlay that dies with the job. */
struct policy_drive {
	char *image; /* absolute host path, resolved against the policy's dir */
	char *mount; /* absolute guest path */
	bool writable;
};

/* One host unix socket the guest may connect to, on one guest-side port. */
struct policy_vsock {
	uint32_t port;
	char *socket; /* absolute host path, shorter than sun_path */
};

struct policy_env_set {
	char *name;
	char *value;
};

struct policy_syscall {
	int nr; /* x86-64 syscall number */
	char name[POLICY_SYSCALL_NAME_MAX];
};

enum policy_syscall_mode {
	POLICY_SYSCALLS_DENY,  /* the listed calls are refused */
	POLICY_SYSCALLS_ALLOW, /* only the listed calls are permitted */
};

enum policy_syscall_action {
	POLICY_ACTION_ERRNO, /* a refused call fails with EPERM */
	POLICY_ACTION_KILL,  /* a refused call ends the job with SIGSYS */
};

struct policy {
	struct {
		uint64_t memory_mib;
		uint64_t vcpus;
	} vm;
	struct {
		uint64_t timeout_ms; /* "timeout_s" in the file */
		uint64_t cpu_s;
		uint64_t stdout_bytes;
		uint64_t stderr_bytes;
		uint64_t stdin_bytes;
	} limits;
	struct policy_drive drives[POLICY_MAX_DRIVES];
	size_t ndrives;
	struct {
		char *pass[POLICY_MAX_ENV]; /* names copied from the host */
		size_t npass;
		struct policy_env_set set[POLICY_MAX_ENV];
		size_t nset;
	} env;
	struct policy_vsock vsock_connect[POLICY_MAX_VSOCK];
	size_t nvsock_connect;
	struct {
		enum policy_syscall_mode mode;
		enum policy_syscall_action action;
		struct policy_syscall list[POLICY_MAX_SYSCALLS];
		size_t count;
	} syscalls;
	struct {
		uint32_t uid;
		uint32_t gid;
		bool require_cgroup;
		uint64_t cgroup_memory_max_mib;
		uint64_t cgroup_pids_max;
		uint64_t cgroup_cpu_max_percent;
	} jail;
};

/* Fills *p with the built-in policy: what every omitted key means. Owns no
 * memory, but policy_free() on it is harmless. */
void policy_default(struct policy *p);

/* Parses and validates the policy in path; relative images are resolved
 * against path's directory. Returns 0, or -1 with a one-line message in err
 * ("FILE:LINE:COLUMN: ..." or "FILE: field.path: ..."). On failure *p holds
 * the default policy. Free a loaded policy with policy_free(). */
int policy_load(const char *path, struct policy *p, char *err, size_t errlen);

/* The same from memory: name is used in messages, base_dir resolves relative
 * images (NULL: the current directory). */
int policy_parse_buffer(const void *buf, size_t len, const char *name,
			const char *base_dir, struct policy *p, char *err,
			size_t errlen);

/* Releases what a loaded policy owns and leaves the default policy in *p. */
void policy_free(struct policy *p);

/* The effective policy, every key present, as a new JSON object that
 * policy_parse_buffer() accepts again. NULL only when out of memory. */
json_t *policy_to_json(const struct policy *p);

/* Writes policy_to_json() to f, indented, with a final newline. 0 or -1. */
int policy_show(FILE *f, const struct policy *p);

/* The limits a command-line flag may change. */
enum policy_limit {
	POLICY_LIMIT_MEMORY_MIB,   /* vm.memory_mib */
	POLICY_LIMIT_TIMEOUT_MS,   /* limits.timeout_s, in milliseconds */
	POLICY_LIMIT_CPU_S,	   /* limits.cpu_s */
	POLICY_LIMIT_STDOUT_BYTES, /* limits.stdout_bytes */
	POLICY_LIMIT_STDERR_BYTES, /* limits.stderr_bytes */
	POLICY_LIMIT_STDIN_BYTES,  /* limits.stdin_bytes */
};

/* A flag under a policy file: lowers the limit to value. Refuses (-1, with a
 * message naming the limit) a value beyond the policy or outside the field's
 * range; returns 0 otherwise. */
int policy_tighten(struct policy *p, enum policy_limit which, uint64_t value,
		   char *err, size_t errlen);

/* A flag without a policy file (the operator's own grant): sets the limit to
 * any value in the field's range. 0, or -1 with a message. */
int policy_set_limit(struct policy *p, enum policy_limit which, uint64_t value,
		     char *err, size_t errlen);

/* Grants from the command line without a policy file (--drive IMG:PATH,
 * --env NAME=VALUE): the operator's own, checked like the keys of a file
 * (image readable, mount clean and unused, name valid and unused, caps) and
 * added to the policy; a relative image is relative to the current
 * directory. Under a policy file such flags would widen it: refuse them.
 * 0, or -1 with "--drive: drives[N].mount: ..." in err and p unchanged. */
int policy_add_drive(struct policy *p, const char *image, const char *mount,
		     bool writable, char *err, size_t errlen);
int policy_add_env(struct policy *p, const char *name, const char *value,
		   char *err, size_t errlen);

static inline int policy_tighten_memory(struct policy *p, uint64_t mib,
					char *err, size_t errlen)
{
	return policy_tighten(p, POLICY_LIMIT_MEMORY_MIB, mib, err, errlen);
}

static inline int policy_tighten_timeout_ms(struct policy *p, uint64_t ms,
					    char *err, size_t errlen)
{
	return policy_tighten(p, POLICY_LIMIT_TIMEOUT_MS, ms, err, errlen);
}

#endif
