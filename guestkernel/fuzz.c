/*
 * Fuzzing mode: the job's input comes from the VMM through the boot block
 * (struct al_fuzz_state) instead of the stdin stream, and the job's state
 * at the snapshot point is where every input starts. The VMM takes the
 * snapshot while the kernel halts in fuzz_op(AL_FUZZ_OP_POINT); after each
 * input it reverts RAM and vCPU to that instant, so the code after the
 * halt runs once per input, with that input's size and first bytes.
 */
#include "fuzz.h"
#include "vfs.h"

static bool enabled;    /* fuzzing: the input comes from the VMM */
static bool point_only; /* a warm point for serve: streams as usual */
static bool keep_output; /* fuzzing, but the job's output goes out */
static bool pointed;
static uint64_t stdin_off;
static struct gk_inode *input_inode;

#define FUZZ (&GK_BI->fuzz)

static void fuzz_op(uint32_t op)
{
	FUZZ->op = op;
	while (FUZZ->op != AL_FUZZ_OP_NONE)
		pf_halt(0);
}

/* After the point: what the VMM says of this input. */
static void take_input(void)
{
	if (input_inode)
		input_inode->size = FUZZ->input_len;
}

static long point(uint64_t buf, uint64_t len)
{
	FUZZ->buf = buf;
	FUZZ->len = len;
	FUZZ->offset = 0;
	FUZZ->got = 0;
	pointed = true;
	fuzz_op(AL_FUZZ_OP_POINT);
	take_input();
	return (long)GK_MIN(FUZZ->got, len);
}

/* [buf, +len) is validated job memory. */
static long read_at(uint64_t buf, uint64_t len, uint64_t off)
{
	if (!pointed)
		return point(buf, len);
	if (!len || off >= FUZZ->input_len)
		return 0;
	FUZZ->buf = buf;
	FUZZ->len = len;
	FUZZ->offset = off;
	FUZZ->got = 0;
	fuzz_op(AL_FUZZ_OP_READ);
	return (long)GK_MIN(FUZZ->got, len);
}

static long readv_at(const struct gk_iov *iov, unsigned n, uint64_t off)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < n; i++) {
		long got = read_at(iov[i].base, iov[i].len, off + total);
		total += (uint64_t)got;
		if ((uint64_t)got < iov[i].len)
			break;
	}
	return (long)total;
}

static long input_stdin_readv(struct gk_file *f, const struct gk_iov *iov,
			      unsigned n, uint64_t off)
{
	(void)f, (void)off;
	long got = readv_at(iov, n, stdin_off);
	stdin_off += (uint64_t)got;
	return got;
}

static long input_file_read(struct gk_inode *in, uint64_t dst, uint64_t len,
			    uint64_t off)
{
	(void)in;
	return read_at(dst, len, off);
}

static long input_no_write(struct gk_inode *in, uint64_t src, uint64_t len,
			   uint64_t off)
{
	(void)in, (void)src, (void)len, (void)off;
	return -EROFS;
}

static const struct gk_inode_ops input_file_ops = {
	.read = input_file_read,
	.write = input_no_write,
};

static const struct gk_file_ops input_stdin_ops = {
	.readv = input_stdin_readv,
	.writev = file_bad_rw,
	.can_read = file_always_ready,
};

void fuzz_job(const struct al_job *job)
{
	point_only = job->flags & AL_JOB_F_POINT;
	keep_output = job->flags & AL_JOB_F_OUTPUT;
	if (!(job->flags & AL_JOB_F_FUZZ))
		return;
	enabled = true;
	struct gk_file *f = file_new(&input_stdin_ops, O_RDONLY);
	if (!f)
		gk_panic("no memory for the fuzz input");
	f->stream_ino = 1;
	fd_install_at(f, 0, false);
	input_inode = devfs_add_file(AL_FUZZ_INPUT_PATH + sizeof("/dev/") - 1,
				     &input_file_ops);
	if (!input_inode)
		gk_panic("cannot make " AL_FUZZ_INPUT_PATH);
}

bool fuzz_drops_output(void)
{
	return pointed && enabled && !keep_output;
}

static long set_coverage(uint64_t map, uint64_t len)
{
	if (!len || len > AL_COV_MAP_MAX || !user_ok(map, len, true))
		return -EINVAL;
	FUZZ->cov_gpa = map;
	FUZZ->cov_len = len;
	return 0;
}

long fuzz_call(long call, long a1, long a2)
{
	if (!enabled && !point_only)
		return -ENOSYS;
	switch (call) {
	case AL_FUZZ_CALL_COVERAGE:
		return enabled ? set_coverage((uint64_t)a1, (uint64_t)a2)
			       : -ENOSYS;
	case AL_FUZZ_CALL_POINT:
		if (pointed)
			return 0;
		point(0, 0);
		/* Each job from a serve point draws its own randomness: the
		 * VMM reseeded the boot block before resuming. */
		if (point_only)
			random_seed();
		return 0;
	default:
		return -EINVAL;
	}
}

bool fuzz_done(const struct al_result_msg *r)
{
	if (!pointed || !enabled)
		return false;
	FUZZ->kind = r->kind;
	FUZZ->value = r->value;
	FUZZ->fault_addr = r->fault_addr;
	FUZZ->fault_rip = r->fault_rip;
	fuzz_op(AL_FUZZ_OP_DONE);
	return true;
}
