#!/bin/sh
# Checks the compatibility cases themselves: runs the compat and compat_fs
# suites with tests/compat/linux-run.sh standing in for airlock, so that
# every needs-drive case is shown to pass on Linux reading the very same ext2
# images. Needs root, loop devices, overlayfs and bwrap; no KVM.
#   tests/compat/check-cases.sh [BUILD_DIR] [CRITERION OPTION...]
# The integration tests skip where /dev/kvm is absent; a private mount
# namespace shows them a placeholder /dev/kvm (over an overlay of /dev, so the
# real /dev is untouched) that only linux-run.sh will ever "use".
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
here=$(cd "$(dirname "$0")" && pwd)
ov="$build/check-cases"
rm -rf "$ov"
mkdir -p "$ov/up" "$ov/work"
exec unshare -m --propagation private sh -c '
	ov=$1 build=$2 here=$3
	shift 3
	if [ ! -e /dev/kvm ]; then
		mount -t overlay overlay \
			-o "lowerdir=/dev,upperdir=$ov/up,workdir=$ov/work" /dev
		: >/dev/kvm
	fi
	AIRLOCK=$here/linux-run.sh JOBS=$build/jobs exec \
		"$build/tests/integration" --filter "compat*/*" "$@"
' check-cases "$ov" "$build" "$here" "$@"
