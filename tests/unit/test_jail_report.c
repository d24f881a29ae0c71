/*
 * The supervisor's decoding of the jailed VMM's report: a compromised VMM
 * controls every byte of it, so nothing out of range may get through.
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <string.h>

#include "runner/supervise.h"

static void put_int(unsigned char *raw, size_t off, int v)
{
	memcpy(raw + off, &v, sizeof(v));
}

static void good(unsigned char *raw)
{
	struct vmm_result r;
	memset(&r, 0, sizeof(r));
	r.outcome = VMM_EXITED;
	r.value = 3;
	r.out.bytes = 12;
	memcpy(raw, &r, sizeof(r));
}

Test(jail_report, valid_report_passes)
{
	unsigned char raw[sizeof(struct vmm_result)];
	struct vmm_result res;
	good(raw);
	supervise_decode(raw, sizeof(raw), &res);
	cr_expect_eq(res.outcome, VMM_EXITED);
	cr_expect_eq(res.value, 3);
	cr_expect_eq(res.out.bytes, 12);
	cr_expect_str_eq(res.message, "");
}

Test(jail_report, wrong_size_is_malformed)
{
	unsigned char raw[sizeof(struct vmm_result)];
	struct vmm_result res;
	good(raw);
	supervise_decode(raw, sizeof(raw) - 1, &res);
	cr_expect_eq(res.outcome, VMM_ERROR);
	cr_expect(strstr(res.message, "malformed"), "%s", res.message);
}

Test(jail_report, unknown_outcome_and_bad_signal_are_malformed)
{
	unsigned char raw[sizeof(struct vmm_result)];
	struct vmm_result res;
	good(raw);
	put_int(raw, offsetof(struct vmm_result, outcome), 77);
	supervise_decode(raw, sizeof(raw), &res);
	cr_expect_eq(res.outcome, VMM_ERROR);
	good(raw);
	put_int(raw, offsetof(struct vmm_result, outcome), VMM_SIGNALED);
	put_int(raw, offsetof(struct vmm_result, value), 1000);
	supervise_decode(raw, sizeof(raw), &res);
	cr_expect_eq(res.outcome, VMM_ERROR);
	put_int(raw, offsetof(struct vmm_result, value), -9);
	supervise_decode(raw, sizeof(raw), &res);
	cr_expect_eq(res.outcome, VMM_ERROR);
}

Test(jail_report, exit_code_clamped_message_terminated_and_printable)
{
	unsigned char raw[sizeof(struct vmm_result)];
	struct vmm_result res;
	good(raw);
	put_int(raw, offsetof(struct vmm_result, value), 0x1234);
	size_t m = offsetof(struct vmm_result, message);
	memset(raw + m, 'A', sizeof(res.message)); /* no terminator */
	raw[m] = '\033';
	raw[offsetof(struct vmm_result, out) +
	    offsetof(struct vmm_stream_stats, truncated)] = 0x7f;
	supervise_decode(raw, sizeof(raw), &res);
	cr_expect_eq(res.outcome, VMM_EXITED);
	cr_expect_eq(res.value, 0x34);
	cr_expect_eq(strlen(res.message), sizeof(res.message) - 1);
	cr_expect_eq(res.message[0], '?');
	cr_expect_eq(res.out.truncated, true);
}

Test(jail_report, error_without_message_gets_one)
{
	unsigned char raw[sizeof(struct vmm_result)];
	struct vmm_result res;
	good(raw);
	put_int(raw, offsetof(struct vmm_result, outcome), VMM_ERROR);
	supervise_decode(raw, sizeof(raw), &res);
	cr_expect_eq(res.outcome, VMM_ERROR);
	cr_expect_neq(res.message[0], '\0');
}
