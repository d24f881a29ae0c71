#!/bin/bash
# `airlock run` played by the host's own Linux kernel, to check the
# compatibility cases themselves: the job gets what an airlock guest gives it
# (uid 1000, an empty writable root, cwd /, only the --env variables, the
# drives' ext2 images mounted read-only by the kernel's ext2 driver), so a
# case that fails here is wrong as a test, not a bug in airlock. One
# difference: the program itself is visible at its host path, which bwrap
# needs to start it.
# Needs root, loop devices and bwrap; tests/compat/check-cases.sh runs the
# suites with it.
#   linux-run.sh run [--memory M] [--timeout S] [--drive IMG:PATH]...
#                    [--env K=V]... [--result F] [--verbose] [--] PROG [ARG...]
set -eu
me=linux-run

# A mount namespace of our own, so that the loop mounts go with us.
if [ "${LINUX_RUN_NS-}" != 1 ]; then
	LINUX_RUN_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
unset LINUX_RUN_NS

fail() {
	echo "$me: $2" >&2
	exit "$1"
}
[ "${1-}" = run ] || fail 125 "usage: $me run [OPTIONS] [--] PROG [ARG...]"
shift

drives=()
# uid and gid 1000, as the guest kernel runs every job: not root.
jail=(--unshare-all --uid 1000 --gid 1000 --tmpfs / --dev /dev --proc /proc
	--chdir / --clearenv)
timeout=60
while [ $# -gt 0 ]; do
	case $1 in
	--drive) drives+=("$2"); shift 2 ;;
	--env) jail+=(--setenv "${2%%=*}" "${2#*=}"); shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--memory | --result) shift 2 ;; # nothing to bound or record here
	--verbose) shift ;;
	--) shift; break ;;
	-*) fail 125 "unknown option '$1'" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || fail 125 "no PROGRAM given"
[ -f "$1" ] || fail 127 "$1: not found"

mnt=$(mktemp -d)
i=0
for d in "${drives[@]}"; do
	img=${d%%:*}
	guest=${d#*:}
	[ "${guest%:rw}" = "$guest" ] || fail 125 "$d: writable drives are not played here"
	mkdir "$mnt/$i"
	mount -o loop,ro -t ext2 "$img" "$mnt/$i" || fail 125 "cannot mount $img"
	jail+=(--ro-bind "$mnt/$i" "$guest")
	i=$((i + 1))
done
jail+=(--ro-bind "$1" "$1")
timeout --kill-after=5 "$timeout" bwrap "${jail[@]}" -- "$@" && status=0 || status=$?
for ((j = 0; j < i; j++)); do umount "$mnt/$j"; rmdir "$mnt/$j"; done
rmdir "$mnt"
exit "$status"
