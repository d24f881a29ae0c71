/*
 * Receiving the job: report READY, take the job message's fixed part into
 * kernel memory, and let the device write the argv/envp strings straight to
 * the top of the job's stack region, where they stay for the job.
 */
#include "gk.h"

static struct {
	struct al_msg_hdr msg;
	struct al_job job;
} job_msg;

/* Receives exactly len bytes of the control stream into [addr, +len). */
static void recv_exact(uint64_t addr, uint64_t len)
{
	while (len) {
		struct gk_iov iov = {addr, len};
		long got = vsock_recv(GK_CONTROL, &iov, 1, true);
		if (got <= 0)
			gk_panic("control stream ended inside the job message");
		addr += (uint64_t)got;
		len -= (uint64_t)got;
	}
}

static void check_header(void)
{
	const struct al_msg_hdr *m = &job_msg.msg;
	const struct al_job *j = &job_msg.job;
	if (m->magic != AL_MSG_MAGIC || m->version != AL_PROTO_VERSION ||
	    m->type != AL_MSG_JOB)
		gk_panic("expected a job message, got type %u (magic %x)",
			 (uint64_t)m->type, (uint64_t)m->magic);
	if (j->strings_len > AL_ARGS_MAX_BYTES ||
	    m->len != sizeof(*j) + j->strings_len)
		gk_panic("job message of %u bytes with %u bytes of strings",
			 (uint64_t)m->len, (uint64_t)j->strings_len);
	if (j->argc < 1 || (uint64_t)j->argc + j->envc > AL_ARGS_MAX_COUNT ||
	    (uint64_t)j->argc + j->envc > j->strings_len)
		gk_panic("job message with argc %u, envc %u",
			 (uint64_t)j->argc, (uint64_t)j->envc);
}

/* The stack region [job_end - stack_bytes, job_end), its lowest page a
 * guard, must hold the strings with room to spare (whether the program fits
 * below it is the ELF check's business). */
static uint64_t place_stack(const struct al_job *j)
{
	uint64_t base = mm_job_base(), end = mm_job_end();
	uint64_t size = j->stack_bytes;
	char why[AL_EXEC_ERROR_MAX];
	if (size % AL_PAGE_SIZE || size < 16 * AL_PAGE_SIZE ||
	    size >= end - base - AL_PAGE_SIZE) {
		gk_fmt(why, sizeof(why),
		       "a stack of %u bytes does not fit %u bytes of job memory",
		       size, end - base);
		exec_refuse(why);
	}
	if ((uint64_t)j->strings_len + 8 * AL_PAGE_SIZE > size) {
		gk_fmt(why, sizeof(why),
		       "arguments and environment (%u bytes) are too large "
		       "for a %u-byte stack",
		       (uint64_t)j->strings_len, size);
		exec_refuse(why);
	}
	return end - size;
}

void job_receive(struct gk_job *job)
{
	/* READY rides on the same exit as the grant for the job header; the
	 * VMM snapshots the pristine state here. */
	vsock_queue_msg(AL_MSG_READY, 0, 0);
	recv_exact((uint64_t)(uintptr_t)&job_msg, sizeof(job_msg));
	check_header();
	job->hdr = &job_msg.job;
	job->stack_lo = place_stack(job->hdr);
	uint64_t len8 = ((uint64_t)job->hdr->strings_len + 7) & ~7ull;
	job->strings = mm_job_end() - len8;
	recv_exact(job->strings, job->hdr->strings_len);
}
