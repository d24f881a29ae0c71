/*
 * The coverage runtime of `airlock fuzz` (build/libairlock-cov.a). Link it
 * into a static target built with `clang
 * -fsanitize-coverage=trace-pc-guard,no-prune -fno-sanitize-link-runtime`
 * (no-prune: a counter on every edge, as AFL++ counts them; without the
 * last flag clang links a runtime of its own that takes the callbacks and
 * crashes a static program): it counts
 * the target's edges in a map that it registers with the guest kernel
 * (AL_FUZZ_CALL_COVERAGE, airlock/fuzz.h), which the VMM hands to AFL++ as
 * its shared map. It needs no libc, so it links into musl and glibc static
 * programs alike. Outside `airlock fuzz` it costs a counter per edge and
 * a refused system call at start-up.
 */
#ifndef AIRLOCK_COV_H
#define AIRLOCK_COV_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Declares the snapshot point: every input starts from the job's state as
 * it is at this call, so work done before it (parsing a configuration,
 * opening files, warming caches) is done once, not once per input. Call it
 * at most once, before the first read of the input; without it, that first
 * read is the point. Outside `airlock fuzz` it does nothing.
 */
void airlock_fuzz_point(void);

#ifdef __cplusplus
}
#endif

#endif
