# airlock build. `make` builds build/airlock with the guest kernel embedded;
# `make test` installs what it needs, then runs every test, plain and under
# ASan + UBSan; `make demo` runs the bundled example job in a micro-VM.

BUILD ?= build
# Test output is also collected in $(BUILD)/test.log for the closing summary;
# pipefail keeps a failing test run failing through the tee.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
SAN ?=
CC ?= gcc
ifeq ($(origin CC),default)
CC := gcc
endif

PKGS := libelf jansson libseccomp libcap
HOST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Iinclude -I. \
	-D_GNU_SOURCE -fno-strict-aliasing $(SAN) $(shell pkg-config --cflags $(PKGS))
HOST_LDLIBS := $(shell pkg-config --libs $(PKGS))
HOST_LDFLAGS := $(SAN)

# The guest kernel: freestanding, no SIMD (the PVM emulator handles little of
# it), no red zone (exceptions arrive on the same stack), linked at fixed
# physical addresses below AL_JOB_GPA.
GK_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Iinclude -Iguestkernel \
	-ffreestanding -fno-builtin -nostdlib -fno-pie -fno-pic -fno-stack-protector \
	-fno-asynchronous-unwind-tables -mno-red-zone -mgeneral-regs-only \
	-mcmodel=small -fno-strict-aliasing -fcf-protection=none
GK_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-z,noexecstack -Wl,-z,max-page-size=4096 -T guestkernel/kernel.ld

VMM_SRC := $(wildcard vmm/*.c)
RUNNER_SRC := $(filter-out runner/main.c,$(wildcard runner/*.c))
GK_SRC := $(wildcard guestkernel/*.c) $(wildcard guestkernel/*.S)
# Guest-kernel sources that also compile hosted, for unit tests and fuzzing.
GK_HOST_SRC := $(wildcard guestkernel/host/*.c)
POLICY_SRC := $(wildcard policy/*.c)

VMM_OBJ := $(VMM_SRC:%.c=$(BUILD)/obj/%.o)
RUNNER_OBJ := $(RUNNER_SRC:%.c=$(BUILD)/obj/%.o)
GK_OBJ := $(patsubst %,$(BUILD)/gk/%.o,$(basename $(GK_SRC)))
GK_HOST_OBJ := $(GK_HOST_SRC:%.c=$(BUILD)/obj/%.o)
POLICY_OBJ := $(POLICY_SRC:%.c=$(BUILD)/obj/%.o)
JAIL_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard jail/*.c))
LIB_OBJ := $(VMM_OBJ) $(JAIL_OBJ) $(POLICY_OBJ) $(RUNNER_OBJ) $(BUILD)/obj/kernel_blob.o

UNIT_SRC := $(wildcard tests/unit/*.c)
INTEG_SRC := $(wildcard tests/integration/*.c)
JOB_SRC := $(wildcard tests/jobs/*.c)
JOBS := $(foreach j,$(JOB_SRC:tests/jobs/%.c=%),$(BUILD)/jobs/$(j).musl $(BUILD)/jobs/$(j).glibc)

.PHONY: lib soak all deps test check unit integration integration-user asan-test demo bench fuzz fuzz-replay clean format
all: $(BUILD)/airlock

deps:
	@./scripts/install-deps

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/gk/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(GK_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/gk/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(GK_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/guestkernel.elf: $(GK_OBJ) guestkernel/kernel.ld
	$(CC) $(GK_CFLAGS) $(GK_LDFLAGS) $(GK_OBJ) -o $@

$(BUILD)/obj/kernel_blob.o: runner/kernel_blob.S $(BUILD)/guestkernel.elf
	@mkdir -p $(dir $@)
	$(CC) -c -DKERNEL_PATH='"$(BUILD)/guestkernel.elf"' $< -o $@

$(BUILD)/airlock: $(BUILD)/obj/runner/main.o $(LIB_OBJ)
	$(CC) $(HOST_LDFLAGS) $^ $(HOST_LDLIBS) -o $@

# libairlock (include/airlock/airlock.h): everything but main, static and
# shared; the shared one from position-independent objects of its own.
PIC_OBJ := $(patsubst $(BUILD)/obj/%,$(BUILD)/pic/%,$(LIB_OBJ))

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -fPIC -MMD -MP -c $< -o $@

$(BUILD)/pic/kernel_blob.o: $(BUILD)/obj/kernel_blob.o
	@mkdir -p $(dir $@)
	cp $< $@

$(BUILD)/libairlock.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/libairlock.so: $(PIC_OBJ)
	$(CC) -shared $(HOST_LDFLAGS) -Wl,-soname,libairlock.so $^ \
		$(HOST_LDLIBS) -o $@

lib: $(BUILD)/libairlock.a $(BUILD)/libairlock.so

# The same with test hooks (runner/supervise.c, runner/fuzz_child.c), never
# installed or shipped.
HOOKED := supervise fuzz_child
$(BUILD)/obj/runner/%-hooks.o: runner/%.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -DAIRLOCK_TEST_HOOKS -MMD -MP -c $< -o $@

$(BUILD)/airlock-testhooks: $(BUILD)/obj/runner/main.o \
		$(filter-out $(HOOKED:%=$(BUILD)/obj/runner/%.o),$(LIB_OBJ)) \
		$(HOOKED:%=$(BUILD)/obj/runner/%-hooks.o)
	$(CC) $(HOST_LDFLAGS) $^ $(HOST_LDLIBS) -o $@

# Tests -----------------------------------------------------------------
$(BUILD)/tests/unit: $(UNIT_SRC:%.c=$(BUILD)/obj/%.o) $(LIB_OBJ) $(GK_HOST_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_LDFLAGS) $^ $(HOST_LDLIBS) -lcriterion -o $@

$(BUILD)/tests/integration: $(INTEG_SRC:%.c=$(BUILD)/obj/%.o)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_LDFLAGS) $^ -lcriterion $(shell pkg-config --libs jansson) -o $@

$(BUILD)/tests/warm: $(BUILD)/obj/tests/tools/warm.o $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_LDFLAGS) $^ $(HOST_LDLIBS) -o $@

# The library example, linked against the shared library.
$(BUILD)/tests/libexample: tests/tools/libexample.c $(BUILD)/libairlock.so
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(HOST_LDFLAGS) $< -L$(BUILD) -lairlock \
		-Wl,-rpath,$(abspath $(BUILD)) -o $@

$(BUILD)/jobs/%.musl: tests/jobs/%.c
	@mkdir -p $(dir $@)
	musl-gcc -static -O1 -Iinclude -o $@ $<

$(BUILD)/jobs/%.glibc: tests/jobs/%.c
	@mkdir -p $(dir $@)
	gcc -static -O1 -Iinclude -o $@ $<

$(BUILD)/jobs/hello.dyn: tests/jobs/hello.c
	@mkdir -p $(dir $@)
	gcc -O1 -o $@ $<

$(BUILD)/jobs/hello.pie: tests/jobs/hello.c
	@mkdir -p $(dir $@)
	gcc -static-pie -O1 -o $@ $<

TEST_BINS := $(BUILD)/airlock $(BUILD)/airlock-testhooks \
	$(BUILD)/tests/unit $(BUILD)/tests/integration \
	$(BUILD)/tests/bench $(BUILD)/tests/warm $(BUILD)/tests/libexample \
	$(BUILD)/libairlock.a \
	$(JOBS) $(BUILD)/jobs/hello.dyn $(BUILD)/jobs/hello.pie
include tests/hostile/hostile.mk
include tests/compat/compat.mk

# Fuzzing mode (airlock fuzz) begin ---------------------------------------
# libairlock-cov.a: the coverage runtime fuzz targets link. Built with
# clang like the targets, but never with coverage (it is what the
# instrumentation calls) nor $(SAN) (it runs in the guest, where no
# sanitizer runtime is); freestanding, so it calls nothing from any libc.
COVRT_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Iinclude \
	-ffreestanding -fno-builtin -fno-stack-protector -fPIE
FUZZMODE_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Iinclude
FUZZMODE_SRC := $(wildcard tests/fuzzmode/*.c)
FUZZMODE_BINS := $(FUZZMODE_SRC:tests/fuzzmode/%.c=$(BUILD)/fuzzmode/%.cov) \
	$(BUILD)/fuzzmode/chain.afl

$(BUILD)/covrt/airlock_cov.o: guestkernel/covrt/airlock_cov.c
	@mkdir -p $(dir $@)
	clang $(COVRT_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libairlock-cov.a: $(BUILD)/covrt/airlock_cov.o
	rm -f $@
	ar rcs $@ $^

# Targets for airlock fuzz: static (glibc), edges counted by libairlock-cov.
# Without -fno-sanitize-link-runtime clang links its UBSan runtime, whose
# weak callbacks win over the archive's and which crashes in a static
# program at startup.
$(BUILD)/fuzzmode/%.cov: tests/fuzzmode/%.c $(BUILD)/libairlock-cov.a
	@mkdir -p $(dir $@)
	clang -static $(FUZZMODE_CFLAGS) -MMD -MP \
		-fsanitize-coverage=trace-pc-guard,no-prune -fno-sanitize-link-runtime \
		$< $(BUILD)/libairlock-cov.a -o $@

# The same target under AFL++'s own forkserver, to compare against natively.
$(BUILD)/fuzzmode/chain.afl: tests/fuzzmode/chain.c
	@mkdir -p $(dir $@)
	AFL_QUIET=1 afl-clang-fast $(FUZZMODE_CFLAGS) $< -o $@

TEST_BINS += $(BUILD)/libairlock-cov.a $(FUZZMODE_BINS)
# Fuzzing mode (airlock fuzz) end -----------------------------------------

# Criterion runs tests in parallel; integration tests boot VMs, two at a time
# keeps them well inside a 2-core machine.
unit: $(TEST_BINS)
	$(BUILD)/tests/unit --jobs 2 2>&1 | tee -a $(BUILD)/test.log

# Integration tests boot VMs: scripts/with-kvm runs them where /dev/kvm works,
# nested under QEMU when this machine has none.
INTEG_ENV := LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp
integration: $(TEST_BINS)
	WITH_KVM_TIMEOUT=$${WITH_KVM_TIMEOUT:-1200} \
	./scripts/with-kvm env $(INTEG_ENV) AIRLOCK=$(BUILD)/airlock JOBS=$(BUILD)/jobs \
		AIRLOCK_TESTHOOKS=$(BUILD)/airlock-testhooks WARM=$(BUILD)/tests/warm \
		LIBEXAMPLE=$(BUILD)/tests/libexample \
		$(BUILD)/tests/integration --jobs 2 $(INTEG_FILTER) 2>&1 | \
		tee -a $(BUILD)/test.log

# The jail, a few runs and the warm workers of serve and libairlock again
# as an ordinary user in group kvm.
integration-user: $(TEST_BINS)
	WITH_KVM_TIMEOUT=$${WITH_KVM_TIMEOUT:-1200} \
	./scripts/with-kvm env $(INTEG_ENV) AIRLOCK=$(BUILD)/airlock JOBS=$(BUILD)/jobs \
		AIRLOCK_TESTHOOKS=$(BUILD)/airlock-testhooks \
		LIBEXAMPLE=$(BUILD)/tests/libexample \
		tests/integration/as-user $(BUILD)/tests/integration \
		--filter '@(jail|policy|serve)/*' --jobs 2 2>&1 | tee -a $(BUILD)/test.log

check: unit integration integration-user

# The compatibility suites exercise the guest kernel, which no sanitizer
# instruments; the plain run covers them, the ASan run skips them.
asan-test:
	$(MAKE) BUILD=build-asan SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		INTEG_FILTER="--filter '!(compat*)'" check

test: deps
	rm -f build/test.log build-asan/test.log
	$(MAKE) check
	$(MAKE) asan-test
	$(MAKE) fuzz FUZZ_SECONDS=$(CI_FUZZ_SECONDS)
	@awk -F'[:|]' '/Synthesis: Tested/ { p += $$5; f += $$7 + $$9; e += $$3 == 0 } \
		END { printf "tests: %d passed, %d failed\n", p, f; \
		      if (e) printf "tests: %d of the suites ran no test\n", e; \
		      exit f > 0 || e > 0 }' \
		build/test.log build-asan/test.log

demo: deps $(BUILD)/airlock $(BUILD)/jobs/hello.musl
	./scripts/with-kvm $(BUILD)/airlock run -- $(BUILD)/jobs/hello.musl "from a micro-VM"

# The serve endurance test at full length: 1000 sequential jobs.
soak: $(TEST_BINS)
	WITH_KVM_TIMEOUT=$${WITH_KVM_TIMEOUT:-3600} \
	./scripts/with-kvm env AIRLOCK=$(BUILD)/airlock JOBS=$(BUILD)/jobs \
		SERVE_SOAK_JOBS=$${SERVE_SOAK_JOBS:-1000} \
		$(BUILD)/tests/integration --filter 'serve/many_*'

# Runs per figure: `make bench BENCH_RUNS=10` for a quick look.
BENCH_RUNS ?= 50
bench: deps $(TEST_BINS)
	./scripts/with-kvm ./tests/bench/run.sh $(BUILD) $(BENCH_RUNS)

# Fuzzing: one libFuzzer target per parser of untrusted bytes (fuzz/).
FUZZ_SECONDS ?= 30
CI_FUZZ_SECONDS ?= 10
FUZZ := build-fuzz
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=gnu11 -O1 -g -Iinclude -I. -D_GNU_SOURCE $(FUZZ_SAN) \
	-fsanitize=fuzzer-no-link $(shell pkg-config --cflags $(PKGS))
FUZZ_OBJ := $(patsubst %.c,$(FUZZ)/obj/%.o,$(VMM_SRC) $(GK_HOST_SRC) $(POLICY_SRC) \
	runner/wire.c)

$(FUZZ)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

.SECONDARY: $(FUZZ_OBJ)
$(FUZZ)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ $(HOST_LDLIBS) -o $@

# Every committed corpus file (seeds and the regression inputs of bugs
# found) runs once through its target first: a fixed bug that comes back
# fails here, whatever the fuzzer finds in the time it gets.
fuzz-replay: $(FUZZ_TARGETS:%=$(FUZZ)/%)
	@set -e; for t in $(FUZZ_TARGETS); do \
		[ -d fuzz/corpus/$$t ] || continue; \
		echo "fuzz: replaying fuzz/corpus/$$t"; \
		$(FUZZ)/$$t -timeout=10 -rss_limit_mb=2048 \
			$$(find fuzz/corpus/$$t -type f | sort) \
			>$(FUZZ)/$$t.replay.log 2>&1 || \
			{ tail -40 $(FUZZ)/$$t.replay.log; exit 1; }; \
	done

# Each target runs FUZZ_SECONDS from its committed seeds (and, for job
# binaries, the built fixtures); any crash, leak or timeout fails the build.
fuzz: fuzz-replay $(FUZZ_TARGETS:%=$(FUZZ)/%) $(BUILD)/jobs/hello.musl $(BUILD)/jobs/hello.pie
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ)/corpus/$$t; \
		[ -d fuzz/corpus/$$t ] && cp -r fuzz/corpus/$$t/. $(FUZZ)/corpus/$$t/; \
		if [ $$t = fuzz_job_elf ] || [ $$t = fuzz_gk_elfcheck ]; then cp $(BUILD)/jobs/hello.musl \
			$(BUILD)/jobs/hello.pie $(FUZZ)/corpus/$$t/; fi; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		$(FUZZ)/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=2048 -max_len=65536 -print_final_stats=0 \
			-artifact_prefix=$(FUZZ)/$$t- $(FUZZ)/corpus/$$t \
			2>$(FUZZ)/$$t.log || { tail -40 $(FUZZ)/$$t.log; exit 1; }; \
		grep -h "^#.*DONE" $(FUZZ)/$$t.log || true; \
	done

format:
	clang-format -i $(shell git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

$(BUILD)/tests/bench: tests/bench/bench.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $< -o $@
