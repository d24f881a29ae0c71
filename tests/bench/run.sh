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
