/*
 * The policy parser and validator: any bytes as a policy document. Relative
 * images resolve against policy/examples, so seeds that name testdata.img
 * reach past the image check. Every accepted policy must print as JSON that
 * parses again to the same policy.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

static void check_round_trip(const struct policy *p)
{
	char err[POLICY_ERR_MAX];
	struct policy again;
	json_t *j = policy_to_json(p);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!text)
		abort();
	if (policy_parse_buffer(text, strlen(text), "shown", "/", &again, err,
				sizeof(err)) != 0)
		abort();
	json_t *j2 = policy_to_json(&again);
	char *text2 = j2 ? json_dumps(j2, JSON_COMPACT) : NULL;
	if (!text2 || strcmp(text, text2) != 0)
		abort();
	free(text2);
	json_decref(j2);
	free(text);
	policy_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy p; /* large: keep it off the stack */
	char err[POLICY_ERR_MAX];
	if (policy_parse_buffer(data, size, "fuzz.json", "policy/examples", &p,
				err, sizeof(err)) == 0) {
		check_round_trip(&p);
		policy_free(&p);
	} else if (err[0] == '\0') {
		abort(); /* every refusal says why */
	}
	return 0;
}
