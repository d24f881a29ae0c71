/* `airlock policy check FILE` and `airlock policy show [FILE]`. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"
#include "runner/runner.h"
#include "runner/supervise.h"

static void policy_usage(FILE *f)
{
	fputs("usage: airlock policy check FILE\n"
	      "       airlock policy show [FILE]\n"
	      "       airlock policy show --seccomp\n"
	      "check: exits 0 if FILE is a valid policy, 125 with the reason "
	      "if not.\n"
	      "show: prints the effective policy (FILE, or the built-in "
	      "default)\n"
	      "      as JSON, every key present; --seccomp: the VMM's own "
	      "seccomp\n"
	      "      filter (libseccomp's pseudo-filter code).\n",
	      f);
}

/* Loads FILE, or the built-in default when path is NULL. */
static int load(const char *path, struct policy *p)
{
	char err[POLICY_ERR_MAX];
	if (!path) {
		policy_default(p);
		return 0;
	}
	if (policy_load(path, p, err, sizeof(err)) < 0) {
		fprintf(stderr, "airlock: %s\n", err);
		return -1;
	}
	return 0;
}

/* check: loads and says nothing; show: also prints the effective policy. */
static int policy_subcommand(const char *path, bool show)
{
	struct policy p;
	if (load(path, &p) < 0)
		return EXIT_AIRLOCK_ERROR;
	int rc = show && (policy_show(stdout, &p) < 0 || fflush(stdout) == EOF);
	policy_free(&p);
	if (rc)
		perror("airlock: policy show: stdout");
	return rc ? EXIT_AIRLOCK_ERROR : 0;
}

static int show_seccomp(void)
{
	if (supervise_show_seccomp(stdout) < 0 || fflush(stdout) == EOF) {
		perror("airlock: policy show --seccomp");
		return EXIT_AIRLOCK_ERROR;
	}
	return 0;
}

int cmd_policy(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	if (argc == 2 &&
	    (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)) {
		policy_usage(stdout);
		return 0;
	}
	if (strcmp(sub, "check") == 0 && argc == 3)
		return policy_subcommand(argv[2], false);
	if (strcmp(sub, "show") == 0 && argc == 3 &&
	    strcmp(argv[2], "--seccomp") == 0)
		return show_seccomp();
	if (strcmp(sub, "show") == 0 && argc <= 3)
		return policy_subcommand(argc == 3 ? argv[2] : NULL, true);
	policy_usage(stderr);
	return EXIT_AIRLOCK_ERROR;
}
