#!/bin/sh
# make bench: airlock side by side with its peers, medians, in one run.
# Usage: tests/bench/run.sh BUILD_DIR [RUNS]
set -eu
build=${1:-build}
n=${2:-${BENCH_RUNS:-50}}
bench="$build/tests/bench"
hello="$build/jobs/hello.musl"

kvm_kind() {
	if [ ! -e /dev/kvm ]; then
		echo "none"
	elif [ -d /sys/module/kvm_pvm ] && ! grep -q 'vmx\|svm' /proc/cpuinfo; then
		echo "PVM (kvm_pvm, shadow paging)"
	elif grep -q 'hypervisor' /proc/cpuinfo && grep -q svm /proc/cpuinfo &&
		[ "$(cat /sys/devices/virtual/dmi/id/sys_vendor 2>/dev/null)" = QEMU ]; then
		echo "nested KVM under QEMU (software-emulated SVM)"
	else
		echo "hardware KVM"
	fi
}

echo "airlock bench on $(uname -r), $(nproc) CPUs, KVM: $(kvm_kind)"
echo "cold start of a static hello world, whole process:"
"$bench" "fork+exec (native)" "$n" "$hello"
if command -v bwrap >/dev/null; then
	"$bench" "bwrap --unshare-all (native)" "$n" "$(command -v bwrap)" \
		--unshare-all --ro-bind / / --dev /dev -- "$hello"
fi
"$bench" "airlock run" "$n" "$build/airlock" run -- "$hello"
# The test build can run the VMM in-process, without the jail: the
# difference is what the jail costs a whole run.
AIRLOCK_TEST_NO_JAIL=1 "$bench" "airlock run without the jail (test)" "$n" \
	"$build/airlock-testhooks" run -- "$hello"

echo "airlock phases (median of $n, microseconds):"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
while [ "$i" -lt "$n" ]; do
	"$build/airlock" run --result "$tmp/r$i.json" -- "$hello" >/dev/null
	i=$((i + 1))
done
echo "  $(/usr/bin/python3 tests/bench/phases.py "$tmp")"
tests/bench/compat.sh "$build" "$n"

echo "warm jobs through airlock serve (1 worker, revert included):"
sock=$tmp/serve.sock
"$build/airlock" serve --socket "$sock" --workers 1 2>"$tmp/serve.log" &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
while [ ! -S "$sock" ]; do
	kill -0 "$serve_pid" || { cat "$tmp/serve.log"; exit 1; }
	sleep 0.1
done
"$bench" "fork+exec (native)" "$n" "$hello"
"$bench" "airlock submit (warm)" "$n" "$build/airlock" submit --socket "$sock" -- "$hello"
"$bench" "airlock run (cold)" "$n" "$build/airlock" run -- "$hello"

# Revert cost against pages dirtied, for a small and a large guest: the
# worker's --result record says how many pages went back and how long.
echo "revert after a job that dirtied N pages (median of $n, warm worker):"
for mib in 64 1024; do
	policy=$tmp/p$mib.json
	printf '{"version": 1, "vm": {"memory_mib": %d}}\n' "$mib" >"$policy"
	s2=$tmp/s$mib.sock
	"$build/airlock" serve --socket "$s2" --policy "$policy" --workers 1 \
		2>>"$tmp/serve.log" &
	p2=$!
	while [ ! -S "$s2" ]; do
		kill -0 "$p2" || { cat "$tmp/serve.log"; exit 1; }
		sleep 0.1
	done
	for pages in 16 256 4096; do
		i=0
		while [ "$i" -lt "$n" ]; do
			"$build/airlock" submit --socket "$s2" \
				--result "$tmp/rv-$mib-$pages-$i.json" -- \
				"$build/jobs/dirty.musl" "$pages" >/dev/null
			i=$((i + 1))
		done
	done
	kill "$p2"
	wait "$p2" || true
done
/usr/bin/python3 - "$tmp" <<'PY'
import glob, json, os, statistics, sys
d = sys.argv[1]
for mib in (64, 1024):
    for pages in (16, 256, 4096):
        rs = [json.load(open(f))["revert"] for f in
              glob.glob(os.path.join(d, "rv-%d-%d-*.json" % (mib, pages)))]
        print("  %4d MiB guest, %4d pages dirtied by the job: %5d pages copied back%s, median %6d us"
              % (mib, pages, statistics.median(r["pages"] for r in rs),
                 " (whole RAM)" if any(r["full"] for r in rs) else "",
                 statistics.median(r["us"] for r in rs)))
PY
kill "$serve_pid"
wait "$serve_pid" || true

# AFL++ on tests/fuzzmode/chain.c, same seeds and time, side by side:
# natively under AFL's own forkserver, and through airlock fuzz, where
# every input runs in the VM from a snapshot that is reverted after it.
# A side that cannot run prints n/a with the reason; the bench goes on.
fuzz_seconds=${FUZZ_BENCH_SECONDS:-30}

# afl_reason LOG: why afl-fuzz stopped (its abort message, colours off).
afl_reason() {
	sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -v '^[[:space:]]*$' >"$1.txt"
	grep 'PROGRAM ABORT' "$1.txt" | tail -n 1 | grep . ||
		tail -n 1 "$1.txt"
}

# afl_rate LABEL OUT CMD...: afl-fuzz CMD for fuzz_seconds; execs per s.
afl_rate() {
	label=$1
	out=$2
	shift 2
	if AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 \
		AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
		afl-fuzz -V "$fuzz_seconds" -i tests/fuzzmode/seeds -o "$out" \
		-- "$@" >"$out.log" 2>&1 </dev/null; then
		rate=$(awk -F' *: *' '$1 == "execs_per_sec" { print $2 }' \
			"$out/default/fuzzer_stats" 2>/dev/null)
		printf '  %-34s %10s execs/s\n' "$label" "${rate:-n/a}"
		last_rate=${rate:-}
	else
		printf '  %-34s n/a: %s\n' "$label" "$(afl_reason "$out.log")"
	fi
}

fuzz() {
	echo "AFL++ for ${fuzz_seconds} s on tests/fuzzmode/chain.c, KVM: $(kvm_kind):"
	if ! command -v afl-fuzz >/dev/null; then
		echo "  n/a: afl-fuzz is not installed (scripts/install-deps)"
		return 0
	fi
	ft=$tmp/fuzz
	mkdir -p "$ft"
	last_rate=""
	afl_rate "afl-fuzz, forkserver (native)" "$ft/native" \
		"$build/fuzzmode/chain.afl"
	native_rate=$last_rate
	# airlock's stderr does not reach us through afl-fuzz: it writes its
	# per-input medians to --stats as it goes.
	last_rate=""
	if err=$("$build/airlock" fuzz --help 2>&1 >/dev/null); then
		afl_rate "afl-fuzz, airlock fuzz" "$ft/airlock" \
			"$build/airlock" fuzz --stats "$ft/airlock.stats" -- \
			"$build/fuzzmode/chain.cov"
		line=$(grep -h '^airlock: fuzz stats:' "$ft/airlock.stats" \
			2>/dev/null | tail -n 1)
		echo "  per input in airlock: ${line:-n/a: no stats written}"
		# The issue's target: at least half the native rate.
		if [ -n "$native_rate" ] && [ -n "$last_rate" ]; then
			awk -v a="$last_rate" -v n="$native_rate" 'BEGIN {
				printf "  airlock fuzz at %.0f%% of the native forkserver\n",
				100 * a / n }'
		fi
	else
		printf '  %-34s n/a: %s\n' "afl-fuzz, airlock fuzz" \
			"$(printf '%s\n' "${err:-no output}" | tail -n 1)"
	fi
}
fuzz
