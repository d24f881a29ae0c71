/*
 * The control stream (proto.h): framed messages. Guest -> host bytes are
 * hostile; they are parsed incrementally into fixed buffers sized by the
 * largest message the guest may send, so nothing the guest says sizes an
 * allocation.
 */
#include <stdlib.h>
#include <string.h>

#include "vmm/vmm_impl.h"

void control_init(struct vmm_control *c, bool verbose)
{
	memset(c, 0, sizeof(*c));
	c->state = CTL_BOOTING;
	c->verbose = verbose;
}

static const char *type_name(uint16_t t)
{
	switch (t) {
	case AL_MSG_READY:
		return "READY";
	case AL_MSG_JOB:
		return "JOB";
	case AL_MSG_RESULT:
		return "RESULT";
	case AL_MSG_ENOSYS:
		return "ENOSYS";
	case AL_MSG_EXEC_ERROR:
		return "EXEC_ERROR";
	case AL_MSG_DRIVE_ERROR:
		return "DRIVE_ERROR";
	default:
		return "unknown";
	}
}

/* Checks a complete header; the payload length it allows per type. */
static int check_header(struct vmm_control *c, char *err)
{
	const struct al_msg_hdr *h = &c->hdr;
	uint32_t want_min, want_max;

	if (h->magic != AL_MSG_MAGIC || h->version != AL_PROTO_VERSION) {
		vmm_errf(err, VMM_ERR_MAX,
			 "control message with magic 0x%x version %u "
			 "(expected 0x%x version %u)",
			 h->magic, h->version, AL_MSG_MAGIC, AL_PROTO_VERSION);
		return -1;
	}
	if (h->len > AL_MSG_MAX_PAYLOAD) {
		vmm_errf(err, VMM_ERR_MAX,
			 "control message of %u bytes (at most %zu)", h->len,
			 (size_t)AL_MSG_MAX_PAYLOAD);
		return -1;
	}
	switch (h->type) {
	case AL_MSG_READY:
		want_min = want_max = 0;
		break;
	case AL_MSG_RESULT:
		want_min = want_max = sizeof(struct al_result_msg);
		break;
	case AL_MSG_ENOSYS:
		want_min = want_max = sizeof(struct al_enosys_msg);
		break;
	case AL_MSG_EXEC_ERROR:
		want_min = 1;
		want_max = AL_EXEC_ERROR_MAX;
		break;
	case AL_MSG_DRIVE_ERROR:
		want_min = 2;
		want_max = AL_EXEC_ERROR_MAX;
		break;
	default:
		vmm_errf(err, VMM_ERR_MAX,
			 "control message of type %u (%s) from the guest",
			 h->type, type_name(h->type));
		return -1;
	}
	if (h->len < want_min || h->len > want_max) {
		vmm_errf(err, VMM_ERR_MAX,
			 "%s control message with %u payload bytes "
			 "(expected %u..%u)",
			 type_name(h->type), h->len, want_min, want_max);
		return -1;
	}
	return 0;
}

/* The guest's word for it: a log line at most. */
static void report_unmade(struct vmm_control *c, uint32_t nr, bool refused)
{
	if (!c->verbose)
		return;
	if (nr < sizeof(c->enosys_seen) * 8) {
		if (c->enosys_seen[nr / 8] & (1u << (nr % 8)))
			return;
		c->enosys_seen[nr / 8] |= (uint8_t)(1u << (nr % 8));
	} else {
		for (unsigned i = 0; i < c->n_enosys_other; i++)
			if (c->enosys_other[i] == nr)
				return;
		/* Only the first few: the guest could send endless
		 * distinct numbers. */
		if (c->n_enosys_other == 16)
			return;
		c->enosys_other[c->n_enosys_other++] = nr;
	}
	const char *name = syscall_name(nr);
	vmm_log("airlock: %s syscall %u (%s)",
		refused ? "the policy refused the job's"
			: "job used unimplemented",
		nr, name ? name : "unknown");
}

static int handle_message(struct vmm_control *c, char *err)
{
	uint16_t type = c->hdr.type;

	if (c->state == CTL_DONE)
		return 0; /* the job has ended; late messages do not matter */
	switch (type) {
	case AL_MSG_READY:
		if (c->state != CTL_BOOTING) {
			vmm_errf(err, VMM_ERR_MAX, "second READY message");
			return -1;
		}
		c->state = CTL_READY;
		return 0;
	case AL_MSG_ENOSYS: {
		struct al_enosys_msg m;
		memcpy(&m, c->payload, sizeof(m));
		report_unmade(c, m.nr, m.refused != 0);
		return 0;
	}
	case AL_MSG_RESULT:
	case AL_MSG_EXEC_ERROR:
	case AL_MSG_DRIVE_ERROR:
		if (c->state != CTL_RUNNING) {
			vmm_errf(err, VMM_ERR_MAX,
				 "%s message before the job was sent",
				 type_name(type));
			return -1;
		}
		break;
	}
	if (type == AL_MSG_EXEC_ERROR || type == AL_MSG_DRIVE_ERROR) {
		/* The drive's index is the guest's word: run.c checks it. */
		unsigned skip = type == AL_MSG_DRIVE_ERROR;
		c->drive_error = skip ? c->payload[0] + 1u : 0;
		vmm_sanitize(c->exec_msg, sizeof(c->exec_msg),
			     c->payload + skip, c->hdr.len - skip);
		c->exec_error = true;
		c->state = CTL_DONE;
		return 0;
	}
	struct al_result_msg r;
	memcpy(&r, c->payload, sizeof(r));
	if (!(r.kind == AL_EXIT_CODE && r.value <= 255) &&
	    !(r.kind == AL_EXIT_SIGNAL && r.value >= 1 && r.value <= 64)) {
		vmm_errf(err, VMM_ERR_MAX,
			 "RESULT message with kind %u value %u", r.kind,
			 r.value);
		return -1;
	}
	c->result = r;
	c->state = CTL_DONE;
	return 0;
}

int control_feed(struct vmm_control *c, const uint8_t *p, size_t len, char *err)
{
	while (len > 0) {
		if (c->hdr_got < sizeof(c->hdr)) {
			size_t k = sizeof(c->hdr) - c->hdr_got;
			if (k > len)
				k = len;
			memcpy((uint8_t *)&c->hdr + c->hdr_got, p, k);
			c->hdr_got += (uint32_t)k;
			p += k;
			len -= k;
			if (c->hdr_got < sizeof(c->hdr))
				return 0;
			if (check_header(c, err) < 0)
				return -1;
			c->payload_got = 0;
		}
		size_t k = c->hdr.len - c->payload_got;
		if (k > len)
			k = len;
		/* check_header bounded hdr.len by sizeof(payload). */
		memcpy(c->payload + c->payload_got, p, k);
		c->payload_got += (uint32_t)k;
		p += k;
		len -= k;
		if (c->payload_got < c->hdr.len)
			return 0;
		c->hdr_got = 0;
		if (handle_message(c, err) < 0)
			return -1;
	}
	return 0;
}

int control_check_args(char *const *argv, char *const *envp, uint32_t *count,
		       uint32_t *bytes, char *err)
{
	uint64_t n = 0, b = 0;
	char *const *lists[2] = {argv, envp};

	for (int l = 0; l < 2; l++) {
		for (size_t i = 0; lists[l] && lists[l][i]; i++) {
			n++;
			b += strlen(lists[l][i]) + 1;
			if (n > AL_ARGS_MAX_COUNT || b > AL_ARGS_MAX_BYTES) {
				vmm_errf(err, VMM_ERR_MAX,
					 "argument list too long (arguments "
					 "and environment: at most %u strings, "
					 "%u bytes)",
					 AL_ARGS_MAX_COUNT, AL_ARGS_MAX_BYTES);
				return -1;
			}
		}
	}
	*count = (uint32_t)n;
	*bytes = (uint32_t)b;
	return 0;
}

static size_t count_strings(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int control_build_job(char *const *argv, char *const *envp,
		      const struct vmm_job_image *img, uint32_t hdr_len,
		      uint64_t stack_bytes, const struct al_job_drive *drives,
		      uint32_t ndrives, uint8_t **msg, size_t *len, char *err)
{
	uint32_t count, bytes;

	if (control_check_args(argv, envp, &count, &bytes, err) < 0)
		return -1;
	size_t argc = count_strings(argv);
	if (ndrives > AL_DRIVES_MAX) {
		vmm_errf(err, VMM_ERR_MAX, "%u drives: at most %u", ndrives,
			 AL_DRIVES_MAX);
		return -1;
	}
	if (argc == 0) {
		vmm_errf(err, VMM_ERR_MAX,
			 "empty argument list (argv[0] unset)");
		return -1;
	}
	size_t total =
	    sizeof(struct al_msg_hdr) + sizeof(struct al_job) + bytes;
	uint8_t *m = malloc(total);
	if (!m) {
		vmm_errf(err, VMM_ERR_MAX, "out of memory for the job message");
		return -1;
	}
	struct al_msg_hdr h = {
	    .magic = AL_MSG_MAGIC,
	    .version = AL_PROTO_VERSION,
	    .type = AL_MSG_JOB,
	    .len = (uint32_t)(sizeof(struct al_job) + bytes),
	};
	struct al_job j = {
	    .load_bias = img->load_bias,
	    .hdr_len = hdr_len,
	    .argc = (uint32_t)argc,
	    .envc = (uint32_t)(count - argc),
	    .strings_len = bytes,
	    .stack_bytes = stack_bytes,
	    .ndrives = ndrives,
	};
	if (ndrives)
		memcpy(j.drives, drives, ndrives * sizeof(*drives));
	memcpy(m, &h, sizeof(h));
	memcpy(m + sizeof(h), &j, sizeof(j));
	uint8_t *s = m + sizeof(h) + sizeof(j);
	char *const *lists[2] = {argv, envp};
	for (int l = 0; l < 2; l++) {
		for (size_t i = 0; lists[l] && lists[l][i]; i++) {
			size_t k = strlen(lists[l][i]) + 1;
			memcpy(s, lists[l][i], k);
			s += k;
		}
	}
	*msg = m;
	*len = total;
	return 0;
}

void control_job_policy(uint8_t *msg, const struct vmm_config *cfg,
			uint32_t flags)
{
	struct al_job *j = (struct al_job *)(msg + sizeof(struct al_msg_hdr));
	j->flags = flags;
	memcpy(j->syscall_refused, cfg->syscall_refused,
	       sizeof(j->syscall_refused));
	j->syscall_action = cfg->syscall_action == AL_SYSCALL_KILL
				? AL_SYSCALL_KILL
				: AL_SYSCALL_ERRNO;
}
