/*
 * Hostile guest kernels (tests/hostile/) booted with `airlock run --kernel`:
 * each attacks the VMM from inside the VM in one way. Every one must end
 * with a clear error (125, or 124 for the wall-clock limit) within the
 * limit, with a message that names what the guest did wrong; the VMM must
 * never crash (the ASan build runs these too).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define LIMIT_S "20"

static const char *guest(const char *name)
{
	static char path[128];
	snprintf(path, sizeof(path), "hostile/%s.elf", name);
	return job(path);
}

/* Boots guest NAME (with hello.musl as the job it may ask for). */
static void boot_hostile(struct outcome *o, const char *name,
			 const char *timeout, const char *policy,
			 const void *in, size_t in_len)
{
	const char *const args[] = {
	    "run",   "--timeout", timeout, "--kernel", guest(name),
	    policy ? "--policy" : "--", policy ? policy : job("hello.musl"),
	    policy ? "--" : NULL, job("hello.musl"), NULL};
	require_kvm();
	run_airlock(o, in, in_len, args);
}

/* Guest NAME ends the VM with status want and `why` in the message. */
static void expect_end(const char *name, int want, const char *why)
{
	struct outcome o;
	boot_hostile(&o, name, LIMIT_S, NULL, NULL, 0);
	cr_expect_eq(o.status, want, "%s: status %d, stderr: %s", name,
		     o.status, o.err);
	cr_expect(strstr(o.err, why), "%s: expected '%s' in: %s", name, why,
		  o.err);
	cr_expect_eq(o.out_len, 0, "%s wrote to stdout", name);
	cr_expect_lt(o.seconds, 15.0, "%s took %.1f s", name, o.seconds);
	outcome_free(&o);
}

Test(hostile, bad_kernel_file_is_125)
{
	struct outcome o;
	AIRLOCK(&o, "run", "--kernel", "/nonexistent/kernel.elf", "--",
		job("hello.musl"));
	cr_expect_eq(o.status, 125, "%s", o.err);
	cr_expect(strstr(o.err, "--kernel /nonexistent/kernel.elf"), "%s",
		  o.err);
	outcome_free(&o);
}

Test(hostile, non_elf_kernel_is_125)
{
	struct outcome o;
	require_kvm();
	AIRLOCK(&o, "run", "--kernel", "Makefile", "--", job("hello.musl"));
	cr_expect_eq(o.status, 125, "%s", o.err);
	cr_expect(strstr(o.err, "guest kernel: not an ELF"), "%s", o.err);
	outcome_free(&o);
}

Test(hostile, job_binary_as_kernel_is_125)
{
	struct outcome o;
	require_kvm();
	AIRLOCK(&o, "run", "--kernel", job("hello.musl"), "--",
		job("hello.musl"));
	cr_expect_eq(o.status, 125, "%s", o.err);
	cr_expect(strstr(o.err, "guest kernel:"), "%s", o.err);
	outcome_free(&o);
}

Test(hostile, garbage_in_virtio_registers)
{
	expect_end("garbage_registers", 125, "virtio-mmio");
}

Test(hostile, queue_outside_ram)
{
	expect_end("queue_outside_ram", 125, "outside guest RAM");
}

Test(hostile, queue_wrapping_the_address_space)
{
	expect_end("queue_wraps_address_space", 125, "outside guest RAM");
}

Test(hostile, queues_overlapping_boot_pages_and_each_other)
{
	expect_end("queue_on_boot_pages", 125,
		   "TX chain of 0 readable bytes");
}

Test(hostile, queue_of_2_to_the_16)
{
	expect_end("queue_size_65536", 125, "queue size 0");
}

Test(hostile, descriptor_loop)
{
	expect_end("descriptor_loop", 125, "a loop?");
}

Test(hostile, longest_chain)
{
	expect_end("long_chain", 125, "longer than the queue (256)");
}

Test(hostile, descriptor_length_0xffffffff)
{
	expect_end("length_max", 125, "4294967295 bytes) lies outside");
}

Test(hostile, packet_length_0xffffffff)
{
	expect_end("header_length_max", 125, "claims 4294967295 payload");
}

Test(hostile, ring_index_wraps_then_jumps)
{
	expect_end("ring_wrap", 125, "runs 500 entries ahead");
}

Test(hostile, stray_mmio)
{
	expect_end("stray_mmio", 125, "unexpected MMIO write at 0xd0005000");
}

Test(hostile, stray_port_io)
{
	expect_end("stray_port", 125, "unexpected port I/O write at port 0x3f8");
}

Test(hostile, triple_fault)
{
	expect_end("triple_fault", 125, "triple fault");
}

/* KVM cannot fetch from MMIO; how it says so depends on the KVM backend. */
Test(hostile, executing_from_the_mmio_window)
{
	struct outcome o;
	boot_hostile(&o, "exec_from_mmio", LIMIT_S, NULL, NULL, 0);
	cr_expect_eq(o.status, 125, "status %d: %s", o.status, o.err);
	cr_expect(strstr(o.err, "KVM internal error") ||
		      strstr(o.err, "triple fault"),
		  "%s", o.err);
	outcome_free(&o);
}

Test(hostile, unknown_connections)
{
	expect_end("unknown_connections", 125,
		   "halted with nothing to wait for");
}

Test(hostile, ready_then_garbage_control_messages)
{
	expect_end("ready_then_garbage", 125, "control stream: control message");
}

Test(hostile, result_out_of_range)
{
	expect_end("bad_result", 125, "RESULT message with kind 1 value 256");
}

/* What a guest says reaches the operator's terminal printable, once. */
static void expect_printable(const struct outcome *o)
{
	for (size_t i = 0; i < o->err_len; i++)
		if ((o->err[i] < 0x20 && o->err[i] != '\n') || o->err[i] == 0x7f)
			cr_assert_fail("stderr byte %zu is 0x%02x: %s", i,
				       (unsigned char)o->err[i], o->err);
	cr_expect_eq(strchr(o->err, '\n') - o->err, (long)o->err_len - 1,
		     "one line: %s", o->err);
}

Test(hostile, panic_message_is_bounded_and_printable)
{
	struct outcome o;
	boot_hostile(&o, "panic_escape", LIMIT_S, NULL, NULL, 0);
	cr_expect_eq(o.status, 125, "status %d: %s", o.status, o.err);
	cr_expect(strstr(o.err, "guest kernel panic: ?]0;pwned??[2J"), "%s",
		  o.err);
	cr_expect_lt(o.err_len, 1024, "%zu bytes", o.err_len);
	expect_printable(&o);
	outcome_free(&o);
}

Test(hostile, exec_error_text_is_printable_and_names_the_program_once)
{
	struct outcome o;
	const char *prog = job("hello.musl");
	boot_hostile(&o, "exec_error_escape", LIMIT_S, NULL, NULL, 0);
	cr_expect_eq(o.status, 126, "status %d: %s", o.status, o.err);
	char want[256];
	snprintf(want, sizeof(want), "airlock: %s: ?]0;pwned??[2J?[31mgone???\n",
		 prog);
	cr_expect_str_eq(o.err, want);
	expect_printable(&o);
	outcome_free(&o);
}

Test(hostile, drive_error_for_a_missing_drive_ends_the_vm)
{
	expect_end("drive_error_index", 125,
		   "a mount error for drive 200 of 0");
}

Test(hostile, spin_with_interrupts_off_hits_the_wall_clock_limit)
{
	struct outcome o;
	boot_hostile(&o, "spin_interrupts_off", "2", NULL, NULL, 0);
	cr_expect_eq(o.status, 124, "status %d: %s", o.status, o.err);
	cr_expect_lt(o.seconds, 10.0, "took %.1f s", o.seconds);
	outcome_free(&o);
}

Test(hostile, sleeping_for_centuries_hits_the_wall_clock_limit)
{
	struct outcome o;
	boot_hostile(&o, "sleep_forever", "2", NULL, NULL, 0);
	cr_expect_eq(o.status, 124, "status %d: %s", o.status, o.err);
	cr_expect_lt(o.seconds, 10.0, "took %.1f s", o.seconds);
	outcome_free(&o);
}

Test(hostile, million_notifies_end_within_the_limit)
{
	struct outcome o;
	boot_hostile(&o, "notify_storm", "3", NULL, NULL, 0);
	cr_expect(o.status == 124 || o.status == 125, "status %d: %s",
		  o.status, o.err);
	cr_expect_lt(o.seconds, 10.0, "took %.1f s", o.seconds);
	outcome_free(&o);
}

Test(hostile, huge_credit_never_overfills_a_buffer)
{
	static char in[64 * 1024];
	struct outcome o;
	fill_random(in, sizeof(in), 7);
	boot_hostile(&o, "huge_credit", LIMIT_S, NULL, in, sizeof(in));
	cr_expect_eq(o.status, 125, "status %d: %s", o.status, o.err);
	/* Not a port 0xbad3/0xbad4 exit: the canaries held. */
	cr_expect(strstr(o.err, "halted with nothing to wait for"), "%s",
		  o.err);
	outcome_free(&o);
}

Test(hostile, reset_while_output_is_buffered_loses_nothing)
{
	struct outcome o;
	boot_hostile(&o, "reset_midstream", LIMIT_S, NULL, NULL, 0);
	cr_expect_eq(o.status, 125, "status %d: %s", o.status, o.err);
	cr_expect(strstr(o.err, "halted with nothing to wait for"), "%s",
		  o.err);
	/* 200,000 bytes before the reset, then the credit left. */
	cr_expect(o.out_len > 200000 && o.out_len <= 200000 + 262144,
		  "%zu bytes", o.out_len);
	for (size_t i = 0; i < o.out_len; i++)
		if (o.out[i] != 'r')
			cr_assert_fail("byte %zu of stdout is 0x%02x", i,
				       (unsigned char)o.out[i]);
	outcome_free(&o);
}

/* The guest checks every answer itself; a wrong one is port 0xbadN. */
Test(hostile, writes_past_the_overlay_cap_fail_and_the_rest_holds)
{
	char img[] = "/tmp/airlock-hostile-drive-XXXXXX";
	int fd = mkstemp(img);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 128 << 20), 0); /* sparse */
	close(fd);
	char drive[64];
	snprintf(drive, sizeof(drive), "%s:/data:rw", img);
	struct outcome o;
	require_kvm();
	AIRLOCK(&o, "run", "--drive", drive, "--kernel",
		guest("blk_overlay_bomb"), "--", job("hello.musl"));
	unlink(img);
	cr_expect_eq(o.status, 125, "status %d: %s", o.status, o.err);
	cr_expect(strstr(o.err, "halted with nothing to wait for"), "%s",
		  o.err);
	outcome_free(&o);
}

Test(hostile, stdout_flood_stops_at_the_policy_cap)
{
	char path[] = "/tmp/airlock-hostile-policy-XXXXXX";
	const char *text = "{\"version\": 1, \"limits\": {\"stdout_bytes\": 1000}}";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct outcome o;
	boot_hostile(&o, "stdout_flood", LIMIT_S, path, NULL, 0);
	unlink(path);
	cr_expect_eq(o.status, 125, "status %d: %s", o.status, o.err);
	cr_expect(strstr(o.err, "overran its credit on the stdout stream"),
		  "%s", o.err);
	cr_expect_eq(o.out_len, 1000);
	cr_expect_eq(o.out[0], 'A');
	outcome_free(&o);
}
