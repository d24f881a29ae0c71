/* airlock: run untrusted programs in throwaway KVM micro-VMs. */
#include <stdio.h>
#include <string.h>

#include "runner/runner.h"

static void usage(FILE *f)
{
	fputs("usage: airlock run [--memory MIB] [--timeout SEC] [--env K=V]...\n"
	      "                   [--result FILE] [--verbose] [--] PROGRAM [ARG...]\n"
	      "       airlock serve --socket PATH [--policy FILE] [--workers N]\n"
	      "                     [--preload [--] PROGRAM [ARG...]]\n"
	      "       airlock submit --socket PATH [--memory MIB] [--timeout SEC]\n"
	      "                      [--env K=V]... [--result FILE] [--verbose]\n"
	      "                      [--] PROGRAM [ARG...]\n"
	      "       airlock fuzz [--policy FILE] [--memory MIB] [--timeout SEC]\n"
	      "                    [--replay DIR] [--stats FILE] [--verbose]\n"
	      "                    [--] PROGRAM [ARG...]   (under afl-fuzz)\n"
	      "       airlock policy check FILE | airlock policy show [FILE]\n"
	      "       airlock help\n"
	      "Runs PROGRAM, a static x86-64 Linux executable, in a fresh KVM "
	      "micro-VM.\n"
	      "Exit status: the job's own; 128+N if it died of signal N; 124 "
	      "timeout;\n"
	      "125 airlock error; 126 cannot execute; 127 not found.\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_AIRLOCK_ERROR;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(cmd, "submit") == 0)
		return cmd_submit(argc - 1, argv + 1);
	if (strcmp(cmd, "fuzz") == 0)
		return cmd_fuzz(argc - 1, argv + 1);
	if (strcmp(cmd, "policy") == 0)
		return cmd_policy(argc - 1, argv + 1);
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "airlock: unknown command '%s'\n", cmd);
	usage(stderr);
	return EXIT_AIRLOCK_ERROR;
}
