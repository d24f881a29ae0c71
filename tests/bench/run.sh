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
