#!/bin/sh
# make bench, the issue-3 figures: cold start of the static CPython one-liner
# in airlock vs under bwrap natively, and sequential reads from a drive vs
# `cat` of the same file on the host. A figure airlock cannot produce yet
# (before drives and files exist) prints "n/a: reason" instead of failing
# the whole bench.
#   tests/bench/compat.sh BUILD_DIR RUNS
set -eu
build=$1
n=$2
bench="$build/tests/bench"
airlock="$build/airlock"
compat="$build/jobs/compat"
py_n=${BENCH_PY_RUNS:-$(((n + 4) / 5))}
read_mib=${BENCH_READ_MIB:-64}
one_liner='import json, re; print(json.dumps(re.findall("[a-z]+", "a1bc2")))'

# na LABEL CMD...: runs CMD once; on failure prints why and returns 1.
na() {
	label=$1
	shift
	err=$("$@" 2>&1 >/dev/null </dev/null) && return 0
	status=$?
	# The last line: an interpreter's own error comes after its traceback.
	printf '%-34s n/a: %s\n' "$label" \
		"$(printf '%s\n' "${err:-exit status $status}" | tail -n 1)"
	return 1
}

# bench_or_na [--bytes B] LABEL N CMD...: bench, or n/a with the reason.
bench_or_na() {
	bytes=""
	if [ "$1" = --bytes ]; then
		bytes="--bytes $2"
		shift 2
	fi
	label=$1
	runs=$2
	shift 2
	if na "$label" "$@"; then
		# shellcheck disable=SC2086
		"$bench" $bytes "$label" "$runs" "$@"
	fi
}

python_cold_start() {
	echo "cold start of static CPython 3.11, python -c '$one_liner':"
	python=$(realpath "$compat/python")
	bench_or_na "bwrap --unshare-all (native)" "$py_n" \
		"$(command -v bwrap)" --unshare-all --ro-bind / / --dev /dev \
		--clearenv --setenv PYTHONHOME "$(realpath "$compat/pyhome")" \
		-- "$python" -c "$one_liner"
	bench_or_na "airlock run" "$py_n" "$airlock" run --memory 512 \
		--drive "$compat/pystdlib.img:/usr/lib/python3.11" \
		--env PYTHONHOME=/usr -- "$python" -c "$one_liner"
}

# drive_image DIR: one file of read_mib MiB in DIR/data, and DIR/data.img.
drive_image() {
	mkdir -p "$1/data"
	[ -f "$1/data.img" ] && return 0
	head -c "$((read_mib << 20))" /dev/urandom >"$1/data/blob"
	mke2fs -q -F -t ext2 -d "$1/data" "$1/data.img" "$((read_mib + 16))M" \
		>/dev/null
}

# Inside airlock the time of the job's own run phase counts, not the VM's
# start, so that the figure is the drive's.
drive_read() {
	echo "sequential read of $read_mib MiB:"
	dir="$build/bench/drive-${read_mib}M"
	drive_image "$dir"
	bench_or_na --bytes "$((read_mib << 20))" "cat (native)" "$n" \
		/bin/cat "$dir/data/blob"
	label="airlock drive, dd, run phase"
	set -- --drive "$dir/data.img:/data" -- /bin/busybox dd \
		if=/data/blob of=/dev/null bs=1M
	na "$label" "$airlock" run "$@" || return 0
	results="$dir/results"
	rm -rf "$results"
	mkdir -p "$results"
	i=0
	while [ "$i" -lt "$n" ]; do
		"$airlock" run --result "$results/r$i.json" "$@" >/dev/null 2>&1
		i=$((i + 1))
	done
	run_us=$(/usr/bin/python3 tests/bench/phases.py "$results" run | cut -d' ' -f2)
	awk -v l="$label" -v us="$run_us" -v mib="$read_mib" -v n="$n" 'BEGIN {
		printf "%-34s median %9d us   (n=%d)   %.1f MiB/s\n",
			l, us, n, mib / (us / 1e6) }'
}

python_cold_start
drive_read
