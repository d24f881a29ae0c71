/* policy: parsing, validation, defaults, printing and flags. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"
#include "runner/runner.h"

#define EXAMPLES "policy/examples"

static struct policy p;
static char err[POLICY_ERR_MAX];

static int parse(const char *doc)
{
	return policy_parse_buffer(doc, strlen(doc), "t.json", EXAMPLES, &p,
				   err, sizeof(err));
}

static void teardown(void)
{
	policy_free(&p);
}

TestSuite(policy, .fini = teardown);

/* Defaults */

Test(policy, default_grants_nothing_but_is_comfortable)
{
	policy_default(&p);
	cr_assert_eq(p.ndrives, 0);
	cr_assert_eq(p.env.npass + p.env.nset, 0);
	cr_assert_eq(p.nvsock_connect, 0);
	cr_assert_eq(p.syscalls.mode, POLICY_SYSCALLS_DENY);
	cr_assert_eq(p.syscalls.count, 0);
	cr_assert_eq(p.vm.memory_mib, 64);
	cr_assert_eq(p.vm.vcpus, 1);
	cr_assert_eq(p.limits.timeout_ms, 60000);
	cr_assert_geq(p.limits.stdout_bytes, 256ull << 20);
	cr_assert_geq(p.limits.stderr_bytes, 256ull << 20);
	cr_assert_eq(p.jail.uid, 65534);
	cr_assert_eq(p.jail.gid, 65534);
	cr_assert_not(p.jail.require_cgroup);
}

Test(policy, minimal_document_is_the_default)
{
	struct policy def;
	policy_default(&def);
	cr_assert_eq(parse("{\"version\": 1}"), 0, "%s", err);
	cr_assert_eq(memcmp(&p, &def, sizeof(p)), 0);
}

Test(policy, issue_example_is_accepted_in_full)
{
	const char *doc =
	    "{ \"version\": 1,"
	    "  \"vm\": { \"memory_mib\": 64, \"vcpus\": 1 },"
	    "  \"limits\": { \"timeout_s\": 10, \"cpu_s\": 10, "
	    "\"stdout_bytes\": 1048576, \"stderr_bytes\": 1048576, "
	    "\"stdin_bytes\": 67108864 },"
	    "  \"drives\": [ { \"image\": \"testdata.img\", \"mount\": "
	    "\"/data\", \"writable\": false } ],"
	    "  \"env\": { \"pass\": [\"LANG\"], \"set\": { \"MODE\": "
	    "\"batch\" } },"
	    "  \"vsock\": { \"connect\": [ { \"port\": 5000, \"socket\": "
	    "\"/run/svc.sock\" } ] },"
	    "  \"guest\": { \"syscalls\": { \"deny\": [\"getrandom\"] } },"
	    "  \"jail\": { \"uid\": 65534, \"gid\": 65534, "
	    "\"require_cgroup\": false, \"cgroup\": { \"memory_max_mib\": "
	    "256, \"pids_max\": 16, \"cpu_max_percent\": 100 } } }";
	cr_assert_eq(parse(doc), 0, "%s", err);
	cr_assert_eq(p.limits.timeout_ms, 10000);
	cr_assert_eq(p.limits.stdin_bytes, 67108864);
	cr_assert_eq(p.ndrives, 1);
	cr_assert_eq(p.drives[0].image[0], '/', "image path is absolute");
	cr_assert_not_null(strstr(p.drives[0].image, "/testdata.img"));
	cr_assert_str_eq(p.drives[0].mount, "/data");
	cr_assert_str_eq(p.env.pass[0], "LANG");
	cr_assert_str_eq(p.env.set[0].name, "MODE");
	cr_assert_str_eq(p.env.set[0].value, "batch");
	cr_assert_eq(p.vsock_connect[0].port, 5000);
	cr_assert_str_eq(p.vsock_connect[0].socket, "/run/svc.sock");
	cr_assert_eq(p.syscalls.count, 1);
	cr_assert_eq(p.syscalls.list[0].nr, 318, "getrandom is 318");
	cr_assert_eq(p.jail.cgroup_memory_max_mib, 256);
}

Test(policy, cgroup_memory_follows_vm_memory_unless_set)
{
	cr_assert_eq(parse("{\"version\":1,\"vm\":{\"memory_mib\":1024}}"), 0,
		     "%s", err);
	cr_assert_eq(p.jail.cgroup_memory_max_mib,
		     1024 + POLICY_CGROUP_SLACK_MIB);
}

Test(policy, fractional_timeout_rounds_to_the_millisecond)
{
	cr_assert_eq(parse("{\"version\":1,\"limits\":{\"timeout_s\":0.0015}}"),
		     0, "%s", err);
	cr_assert_eq(p.limits.timeout_ms, 2);
	policy_free(&p);
	cr_assert_eq(parse("{\"version\":1,\"limits\":{\"timeout_s\":604800}}"),
		     0, "%s", err);
	cr_assert_eq(p.limits.timeout_ms, 604800000ull);
}

Test(policy, syscall_allow_list_and_kill_action)
{
	cr_assert_eq(parse("{\"version\":1,\"guest\":{\"syscalls\":{\"allow\":"
			   "[\"read\",\"write\"],\"action\":\"kill\"}}}"),
		     0, "%s", err);
	cr_assert_eq(p.syscalls.mode, POLICY_SYSCALLS_ALLOW);
	cr_assert_eq(p.syscalls.action, POLICY_ACTION_KILL);
	cr_assert_eq(p.syscalls.count, 2);
	cr_assert_eq(p.syscalls.list[0].nr, 0);
	cr_assert_eq(p.syscalls.list[1].nr, 1);
}

/* Refusals: one document, one expected piece of the message */

struct refusal {
	const char *doc;
	const char *expect;
};

static const struct refusal refusals[] = {
    /* documents */
    {"", "t.json: empty"},
    {"  \n\t ", "t.json: empty"},
    {"[1]", "expected a JSON object at the top, got an array"},
    {"\"x\"", "expected a JSON object at the top"},
    {"{}", "version: required"},
    {"{\"version\":2}", "version: expected 1"},
    {"{\"version\":\"1\"}", "version: expected 1"},
    {"{\"version\":1.0}", "version: expected 1"},
    {"{\"version\":1,}", "t.json:1:"},
    {"{\"version\":1,\n \"vm\":{}, \"vm\":{}}", "t.json:2:"},
    {"{\"version\":1} trailing", "t.json:1:"},
    {"{\"version\":1,\"bogus\":true}",
     "bogus: unknown key (expected one of: version, vm, limits"},
    {"\xff\xfe{}", "t.json:1:"},
    /* vm */
    {"{\"version\":1,\"vm\":{\"memory_mib\":\"lots\"}}",
     "vm.memory_mib: expected an integer from 16 to 2048, got \"lots\""},
    {"{\"version\":1,\"vm\":{\"memory_mib\":15}}", "vm.memory_mib"},
    {"{\"version\":1,\"vm\":{\"memory_mib\":2049}}", "vm.memory_mib"},
    {"{\"version\":1,\"vm\":{\"memory_mib\":-1}}", "vm.memory_mib"},
    {"{\"version\":1,\"vm\":{\"memory_mib\":64.5}}", "vm.memory_mib"},
    {"{\"version\":1,\"vm\":{\"vcpus\":2}}",
     "vm.vcpus: expected an integer from 1 to 1, got 2"},
    {"{\"version\":1,\"vm\":[]}", "vm: expected an object, got an array"},
    {"{\"version\":1,\"vm\":{\"memroy_mib\":64}}",
     "vm.memroy_mib: unknown key (expected one of: memory_mib, vcpus)"},
    /* limits */
    {"{\"version\":1,\"limits\":{\"timeout_s\":0}}",
     "limits.timeout_s: expected seconds from 0.001 to 604800, got 0"},
    {"{\"version\":1,\"limits\":{\"timeout_s\":604800.001}}",
     "limits.timeout_s"},
    {"{\"version\":1,\"limits\":{\"timeout_s\":\"10s\"}}", "limits.timeout_s"},
    {"{\"version\":1,\"limits\":{\"cpu_s\":0}}", "limits.cpu_s"},
    {"{\"version\":1,\"limits\":{\"stdout_bytes\":1099511627777}}",
     "limits.stdout_bytes: expected an integer from 0 to 1099511627776"},
    {"{\"version\":1,\"limits\":{\"stderr_bytes\":null}}",
     "limits.stderr_bytes"},
    {"{\"version\":1,\"limits\":{\"stdin_bytes\":true}}", "limits.stdin_bytes"},
    {"{\"version\":1,\"limits\":{\"stdin_bytes\":"
     "99999999999999999999999}}",
     "t.json:1:"},
    /* drives */
    {"{\"version\":1,\"drives\":{}}", "drives: expected an array"},
    {"{\"version\":1,\"drives\":[{\"mount\":\"/d\"}]}",
     "drives[0].image: required"},
    {"{\"version\":1,\"drives\":[{\"image\":\"testdata.img\"}]}",
     "drives[0].mount: required"},
    {"{\"version\":1,\"drives\":[{\"image\":\"missing.img\","
     "\"mount\":\"/d\"}]}",
     "drives[0].image: cannot use image policy/examples/missing.img"},
    {"{\"version\":1,\"drives\":[{\"image\":\".\",\"mount\":\"/d\"}]}",
     "is not a regular file"},
    {"{\"version\":1,\"drives\":[{\"image\":\"testdata.img\","
     "\"mount\":\"data\"}]}",
     "drives[0].mount: expected an absolute guest path"},
    {"{\"version\":1,\"drives\":[{\"image\":\"testdata.img\","
     "\"mount\":\"/\"}]}",
     "drives[0].mount"},
    {"{\"version\":1,\"drives\":[{\"image\":\"testdata.img\","
     "\"mount\":\"/a/../etc\"}]}",
     "drives[0].mount"},
    {"{\"version\":1,\"drives\":[{\"image\":\"testdata.img\","
     "\"mount\":\"/data/\"}]}",
     "drives[0].mount"},
    {"{\"version\":1,\"drives\":[{\"image\":\"testdata.img\","
     "\"mount\":\"/dev/sda\"}]}",
     "/dev belongs to the guest kernel"},
    {"{\"version\":1,\"drives\":[{\"image\":\"testdata.img\","
     "\"mount\":\"/d\"},{\"image\":\"testdata.img\",\"mount\":\"/d\"}]}",
     "drives[1]: mount /d is already used by drives[0]"},
    {"{\"version\":1,\"drives\":[{\"image\":\"testdata.img\","
     "\"mount\":\"/d\",\"writable\":1}]}",
     "drives[0].writable: expected true or false, got 1"},
    {"{\"version\":1,\"drives\":[{\"image\":\"testdata.img\","
     "\"mount\":\"/d\",\"readonly\":true}]}",
     "drives[0].readonly: unknown key"},
    {"{\"version\":1,\"drives\":[{\"image\":\"\",\"mount\":\"/d\"}]}",
     "drives[0].image: expected 1 to"},
    /* env */
    {"{\"version\":1,\"env\":{\"pass\":[\"1X\"]}}",
     "env.pass[0]: expected a variable name"},
    {"{\"version\":1,\"env\":{\"pass\":[\"A=B\"]}}", "env.pass[0]"},
    {"{\"version\":1,\"env\":{\"pass\":[\"A\",\"A\"]}}",
     "env.pass[1]: A is already in env.pass[0]"},
    {"{\"version\":1,\"env\":{\"pass\":[\"A\"],\"set\":{\"A\":\"x\"}}}",
     "env.set.A: A is already in env.pass[0]"},
    {"{\"version\":1,\"env\":{\"set\":{\"A\":1}}}",
     "env.set.A: expected a string, got 1"},
    {"{\"version\":1,\"env\":{\"set\":[]}}", "env.set: expected an object"},
    {"{\"version\":1,\"env\":{\"pass\":\"LANG\"}}",
     "env.pass: expected an array"},
    {"{\"version\":1,\"env\":{\"set\":{\"A\":\"x\\u0000y\"}}}", "t.json:1:"},
    /* vsock */
    {"{\"version\":1,\"vsock\":{\"connect\":[{\"port\":0,"
     "\"socket\":\"/s\"}]}}",
     "vsock.connect[0].port: expected an integer from 1 to 2701131775"},
    {"{\"version\":1,\"vsock\":{\"connect\":[{\"port\":2701131776,"
     "\"socket\":\"/s\"}]}}",
     "vsock.connect[0].port"},
    {"{\"version\":1,\"vsock\":{\"connect\":[{\"port\":1,"
     "\"socket\":\"s.sock\"}]}}",
     "vsock.connect[0].socket: expected an absolute host path"},
    {"{\"version\":1,\"vsock\":{\"connect\":[{\"port\":1,\"socket\":\"/"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}]}}",
     "vsock.connect[0].socket: expected 1 to 107 bytes, got 112"},
    {"{\"version\":1,\"vsock\":{\"connect\":[{\"port\":1,\"socket\":\"/a\"},"
     "{\"port\":1,\"socket\":\"/b\"}]}}",
     "vsock.connect[1]: port 1 is already used by vsock.connect[0]"},
    {"{\"version\":1,\"vsock\":{\"connect\":[{\"socket\":\"/a\"}]}}",
     "vsock.connect[0].port: required"},
    {"{\"version\":1,\"vsock\":{\"listen\":[]}}",
     "vsock.listen: unknown key (expected one of: connect)"},
    /* guest syscalls */
    {"{\"version\":1,\"guest\":{\"syscalls\":{\"deny\":[\"frobnicate\"]}}}",
     "guest.syscalls.deny[0]: unknown x86-64 syscall \"frobnicate\""},
    {"{\"version\":1,\"guest\":{\"syscalls\":{\"deny\":[\"socketcall\"]}}}",
     "unknown x86-64 syscall \"socketcall\""},
    {"{\"version\":1,\"guest\":{\"syscalls\":{\"deny\":[\"read\"],"
     "\"allow\":[\"write\"]}}}",
     "guest.syscalls: give a deny list or an allow list, not both"},
    {"{\"version\":1,\"guest\":{\"syscalls\":{\"deny\":[\"read\",\"read\"]}}}",
     "guest.syscalls.deny[1]: read is already listed"},
    {"{\"version\":1,\"guest\":{\"syscalls\":{\"deny\":[1]}}}",
     "guest.syscalls.deny[0]: expected a string, got 1"},
    {"{\"version\":1,\"guest\":{\"syscalls\":{\"action\":\"trap\"}}}",
     "guest.syscalls.action: expected \"errno\" or \"kill\", got \"trap\""},
    /* jail */
    {"{\"version\":1,\"jail\":{\"uid\":0}}",
     "jail.uid: expected an integer from 1 to 4294967294, got 0"},
    {"{\"version\":1,\"jail\":{\"gid\":4294967295}}", "jail.gid"},
    {"{\"version\":1,\"jail\":{\"require_cgroup\":\"yes\"}}",
     "jail.require_cgroup: expected true or false"},
    {"{\"version\":1,\"jail\":{\"cgroup\":{\"pids_max\":1}}}",
     "jail.cgroup.pids_max: expected an integer from 4 to 4096"},
    {"{\"version\":1,\"jail\":{\"cgroup\":{\"cpu_max_percent\":0}}}",
     "jail.cgroup.cpu_max_percent"},
    {"{\"version\":1,\"vm\":{\"memory_mib\":1024},\"jail\":{\"cgroup\":"
     "{\"memory_max_mib\":512}}}",
     "jail.cgroup.memory_max_mib: expected at least vm.memory_mib + 16 "
     "(1040), got 512"},
};

#define NREFUSALS (sizeof(refusals) / sizeof(*refusals))

/* Criterion copies parameters into a fresh process image, so the parameter
 * is an index into the table rather than a pointer. */
ParameterizedTestParameters(policy, refuses)
{
	static size_t index[NREFUSALS];
	for (size_t i = 0; i < NREFUSALS; i++)
		index[i] = i;
	return cr_make_param_array(size_t, index, NREFUSALS);
}

ParameterizedTest(size_t *i, policy, refuses)
{
	const struct refusal *r = &refusals[*i];
	cr_assert_eq(parse(r->doc), -1, "accepted: %s", r->doc);
	cr_assert_not_null(strstr(err, r->expect),
			   "for %s\nmessage: %s\nexpected: %s", r->doc, err,
			   r->expect);
	cr_assert_eq(strncmp(err, "t.json:", 7), 0, "names the file: %s", err);
	/* a refused document leaves the default policy behind */
	cr_assert_eq(p.ndrives + p.env.npass + p.env.nset + p.nvsock_connect,
		     0);
}

/* Documents that are not text or too large */

Test(policy, refuses_nul_bytes)
{
	static const char doc[] = "{\"version\":1}\0\x01\x02";
	cr_assert_eq(policy_parse_buffer(doc, sizeof(doc), "t.json", NULL, &p,
					 err, sizeof(err)),
		     -1);
	cr_assert_not_null(strstr(err, "binary data (a NUL byte at offset 13)"),
			   "%s", err);
}

Test(policy, refuses_oversized_documents)
{
	size_t len = POLICY_FILE_MAX + 1;
	char *doc = malloc(len);
	cr_assert_not_null(doc);
	memset(doc, ' ', len);
	memcpy(doc, "{\"version\":1}", 13);
	cr_assert_eq(
	    policy_parse_buffer(doc, len, "t.json", NULL, &p, err, sizeof(err)),
	    -1);
	cr_assert_not_null(strstr(err, "larger than"), "%s", err);
	free(doc);
}

Test(policy, messages_carry_no_control_characters)
{
	cr_assert_eq(parse("{\"version\":1,\"vm\":{\"a\\nb\\u001b\":1}}"), -1);
	for (const char *c = err; *c; c++)
		cr_assert_geq((unsigned char)*c, 0x20, "%s", err);
}

static void refuse_list_over_cap(const char *head, const char *elem_fmt,
				 size_t n, const char *tail, const char *expect)
{
	size_t cap = strlen(head) + strlen(tail) + n * 64 + 1;
	char *doc = malloc(cap);
	cr_assert_not_null(doc);
	size_t used = (size_t)snprintf(doc, cap, "%s", head);
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(doc + used, cap - used, elem_fmt,
					 i ? "," : "", i + 1);
	snprintf(doc + used, cap - used, "%s", tail);
	cr_assert_eq(parse(doc), -1);
	cr_assert_not_null(strstr(err, expect), "%s", err);
	free(doc);
}

Test(policy, refuses_lists_over_their_caps)
{
	refuse_list_over_cap(
	    "{\"version\":1,\"drives\":[",
	    "%s{\"image\":\"testdata.img\",\"mount\":\"/d%zu\"}",
	    POLICY_MAX_DRIVES + 1, "]}", "drives: at most 16 entries, got 17");
	refuse_list_over_cap("{\"version\":1,\"vsock\":{\"connect\":[",
			     "%s{\"port\":%zu,\"socket\":\"/s\"}",
			     POLICY_MAX_VSOCK + 1, "]}}",
			     "vsock.connect: at most 16 entries");
	refuse_list_over_cap("{\"version\":1,\"env\":{\"pass\":[", "%s\"V%zu\"",
			     POLICY_MAX_ENV + 1, "]}}",
			     "env.pass: at most 64 entries");
	refuse_list_over_cap(
	    "{\"version\":1,\"env\":{\"pass\":[\"A\"],\"set\":{",
	    "%s\"V%zu\":\"x\"", POLICY_MAX_ENV, "}}}",
	    "at most 64 variables in env.pass and env.set");
	refuse_list_over_cap(
	    "{\"version\":1,\"guest\":{\"syscalls\":{\"deny\":[",
	    "%s\"read%zu\"", POLICY_MAX_SYSCALLS + 1, "]}}}",
	    "guest.syscalls.deny: at most 512 entries");
}

/* Files, examples and the round trip */

Test(policy, load_names_a_missing_file)
{
	cr_assert_eq(
	    policy_load("policy/examples/nope.json", &p, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "policy/examples/nope.json: cannot read: No such "
			      "file or directory");
}

Test(policy, load_names_file_line_and_column)
{
	char path[] = "/tmp/airlock-policy-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	FILE *f = fdopen(fd, "w");
	fputs("{\"version\": 1,\n  \"vm\": {\"memory_mib\": 64,}\n}\n", f);
	fclose(f);
	cr_assert_eq(policy_load(path, &p, err, sizeof(err)), -1);
	char want[64];
	snprintf(want, sizeof(want), "%s:2:", path);
	cr_assert_eq(strncmp(err, want, strlen(want)), 0, "%s", err);
	unlink(path);
}

/* Prints p, parses the text back and prints again: both texts match. */
static void assert_round_trip(void)
{
	json_t *shown = policy_to_json(&p);
	char *first = json_dumps(shown, JSON_COMPACT);
	struct policy again;
	json_decref(shown);
	cr_assert_not_null(first);
	cr_assert_eq(policy_parse_buffer(first, strlen(first), "shown", "/",
					 &again, err, sizeof(err)),
		     0, "%s\n%s", err, first);
	json_t *j = policy_to_json(&again);
	char *second = json_dumps(j, JSON_COMPACT);
	cr_assert_str_eq(first, second);
	free(second);
	json_decref(j);
	free(first);
	policy_free(&again);
}

Test(policy, default_round_trips)
{
	policy_default(&p);
	assert_round_trip();
}

static void load_example(const char *file)
{
	char path[256];
	snprintf(path, sizeof(path), EXAMPLES "/%s", file);
	cr_assert_eq(policy_load(path, &p, err, sizeof(err)), 0, "%s", err);
	assert_round_trip();
}

Test(policy, example_untrusted_code)
{
	load_example("untrusted-code.json");
	cr_assert_eq(p.ndrives, 1);
	cr_assert_not(p.drives[0].writable);
	cr_assert_eq(p.nvsock_connect, 0);
	cr_assert_eq(p.syscalls.mode, POLICY_SYSCALLS_DENY);
}

Test(policy, example_per_request_service)
{
	load_example("per-request-service.json");
	cr_assert_eq(p.nvsock_connect, 2);
	cr_assert_eq(p.ndrives, 0);
	cr_assert_eq(p.jail.cgroup_pids_max, 8);
}

Test(policy, example_fuzz_target)
{
	load_example("fuzz-target.json");
	cr_assert_eq(p.limits.timeout_ms, 3000);
	cr_assert_eq(p.syscalls.mode, POLICY_SYSCALLS_ALLOW);
	cr_assert_eq(p.syscalls.action, POLICY_ACTION_KILL);
}

Test(policy, free_leaves_the_default)
{
	struct policy def;
	policy_default(&def);
	load_example("untrusted-code.json");
	policy_free(&p);
	cr_assert_eq(memcmp(&p, &def, sizeof(p)), 0);
}

/* Flags */

Test(policy, flags_may_tighten)
{
	load_example("untrusted-code.json");
	cr_assert_eq(policy_tighten_memory(&p, 128, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(p.vm.memory_mib, 128);
	cr_assert_eq(policy_tighten_timeout_ms(&p, 2500, err, sizeof(err)), 0);
	cr_assert_eq(p.limits.timeout_ms, 2500);
	cr_assert_eq(
	    policy_tighten(&p, POLICY_LIMIT_STDOUT_BYTES, 0, err, sizeof(err)),
	    0);
	cr_assert_eq(p.limits.stdout_bytes, 0);
}

Test(policy, flags_may_not_widen)
{
	load_example("untrusted-code.json");
	cr_assert_eq(policy_tighten_memory(&p, 512, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "vm.memory_mib: the policy allows at most 256; "
			      "a flag may only lower it, got 512");
	cr_assert_eq(policy_tighten_timeout_ms(&p, 10001, err, sizeof(err)),
		     -1);
	cr_assert_str_eq(err, "limits.timeout_s: the policy allows at most 10; "
			      "a flag may only lower it, got 10.001");
	cr_assert_eq(
	    policy_tighten(&p, POLICY_LIMIT_CPU_S, 11, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "limits.cpu_s"));
	cr_assert_eq(p.vm.memory_mib, 256, "unchanged after a refusal");
}

Test(policy, flags_stay_in_range)
{
	policy_default(&p);
	cr_assert_eq(policy_tighten_memory(&p, 8, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "vm.memory_mib: expected 16 to 2048, got 8");
	cr_assert_eq(policy_tighten_timeout_ms(&p, 0, err, sizeof(err)), -1);
	cr_assert_eq(policy_set_limit(&p, POLICY_LIMIT_MEMORY_MIB, 4096, err,
				      sizeof(err)),
		     -1);
	cr_assert_eq(
	    policy_tighten(&p, (enum policy_limit)99, 1, err, sizeof(err)), -1);
}

Test(policy, operator_flags_without_a_policy_may_widen)
{
	policy_default(&p);
	cr_assert_eq(policy_set_limit(&p, POLICY_LIMIT_MEMORY_MIB, 2048, err,
				      sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(p.vm.memory_mib, 2048);
	cr_assert_geq(p.jail.cgroup_memory_max_mib,
		      2048 + POLICY_VMM_OVERHEAD_MIB, "cgroup follows");
	cr_assert_eq(policy_set_limit(&p, POLICY_LIMIT_TIMEOUT_MS, 3600000, err,
				      sizeof(err)),
		     0);
	assert_round_trip();
}

/* The command */

static int policy_cmd(const char *a, const char *b)
{
	char *argv[] = {"policy", (char *)a, (char *)b, NULL};
	return cmd_policy(b ? 3 : 2, argv);
}

Test(policy, command_exit_statuses, .init = cr_redirect_stderr)
{
	cr_assert_eq(policy_cmd("check", EXAMPLES "/fuzz-target.json"), 0);
	cr_assert_eq(policy_cmd("check", EXAMPLES "/testdata.img"),
		     EXIT_AIRLOCK_ERROR);
	cr_assert_eq(policy_cmd("check", EXAMPLES "/missing.json"),
		     EXIT_AIRLOCK_ERROR);
	cr_assert_eq(policy_cmd("check", NULL), EXIT_AIRLOCK_ERROR);
	cr_assert_eq(policy_cmd("frobnicate", NULL), EXIT_AIRLOCK_ERROR);
	cr_assert_eq(policy_cmd("show", EXAMPLES "/missing.json"),
		     EXIT_AIRLOCK_ERROR);
}

Test(policy, command_show_prints_the_default, .init = cr_redirect_stdout)
{
	cr_assert_eq(policy_cmd("show", NULL), 0);
	fflush(stdout);
	cr_assert_stdout_neq_str("");
}

Test(policy, command_show_output_passes_check, .init = cr_redirect_stdout)
{
	cr_assert_eq(policy_cmd("show", EXAMPLES "/untrusted-code.json"), 0);
	fflush(stdout);
	FILE *f = cr_get_redirected_stdout();
	char buf[8192];
	size_t len = fread(buf, 1, sizeof(buf), f);
	cr_assert_gt(len, 0);
	cr_assert_lt(len, sizeof(buf));
	cr_assert_eq(
	    policy_parse_buffer(buf, len, "shown", "/", &p, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(p.ndrives, 1);
	cr_assert_eq(p.vm.memory_mib, 256);
}

Test(policy, long_values_are_cut_short_in_messages)
{
	cr_assert_eq(
	    parse("{\"version\":1,\"vm\":{\"memory_mib\":\"aaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}"),
	    -1);
	cr_assert_not_null(
	    strstr(err, "got \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..."), "%s",
	    err);
}

/* Operator grants without a policy file */

Test(policy, operator_grants_are_checked_like_the_file)
{
	policy_default(&p);
	cr_assert_eq(policy_add_drive(&p, EXAMPLES "/testdata.img", "/data",
				      false, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(p.ndrives, 1);
	cr_assert_eq(p.drives[0].image[0], '/');
	cr_assert_eq(policy_add_env(&p, "MODE", "batch", err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_str_eq(p.env.set[0].value, "batch");
	assert_round_trip();
}

Test(policy, operator_grants_refused_leave_the_policy_unchanged)
{
	policy_default(&p);
	cr_assert_eq(policy_add_drive(&p, EXAMPLES "/testdata.img", "/data",
				      true, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(policy_add_drive(&p, EXAMPLES "/testdata.img", "/data",
				      false, err, sizeof(err)),
		     -1);
	cr_assert_str_eq(err, "--drive: drives[1]: mount /data is already used "
			      "by drives[0]");
	cr_assert_eq(
	    policy_add_drive(&p, "missing.img", "/m", false, err, sizeof(err)),
	    -1);
	cr_assert_not_null(strstr(err, "--drive: drives[1].image: cannot use"),
			   "%s", err);
	cr_assert_eq(policy_add_drive(&p, EXAMPLES "/testdata.img", "rel",
				      false, err, sizeof(err)),
		     -1);
	cr_assert_eq(p.ndrives, 1);
	cr_assert_null(p.drives[1].image);
	cr_assert_eq(policy_add_env(&p, "1BAD", "x", err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "--env: env.set.1BAD: expected a "
				       "variable name"),
			   "%s", err);
	cr_assert_eq(policy_add_env(&p, "A", "x", err, sizeof(err)), 0);
	cr_assert_eq(policy_add_env(&p, "A", "y", err, sizeof(err)), -1);
	cr_assert_str_eq(err, "--env: env.set.A: A is already in env.set");
	cr_assert_eq(policy_add_env(&p, "B", "\xff", err, sizeof(err)), -1);
	cr_assert_eq(p.env.nset, 1);
	cr_assert_str_eq(p.env.set[0].value, "x");
}

Test(policy, operator_grants_stop_at_the_caps)
{
	policy_default(&p);
	char mount[16];
	for (int i = 0; i < POLICY_MAX_DRIVES; i++) {
		snprintf(mount, sizeof(mount), "/d%d", i);
		cr_assert_eq(policy_add_drive(&p, EXAMPLES "/testdata.img",
					      mount, false, err, sizeof(err)),
			     0, "%s", err);
	}
	cr_assert_eq(policy_add_drive(&p, EXAMPLES "/testdata.img", "/more",
				      false, err, sizeof(err)),
		     -1);
	cr_assert_str_eq(err, "--drive: drives[16]: at most 16 entries");
	cr_assert_eq(p.ndrives, POLICY_MAX_DRIVES);
}
