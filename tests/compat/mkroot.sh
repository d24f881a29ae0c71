#!/bin/sh
# Lays out the fixture root for the compatibility tests: DEST/data holds the
# committed input files plus what git cannot hold or should not store (an
# empty directory, a file big enough for indirect blocks, a sparse file,
# inputs derived from the others).
# The same tree is the native run's working directory and, as an ext2 image,
# the drive mounted at /data inside airlock.
#   tests/compat/mkroot.sh SRC_DATA_DIR DEST
set -eu
src=$1
dest=$2
rm -rf "$dest"
mkdir -p "$dest"
cp -a "$src" "$dest/data"
mkdir "$dest/data/tree/empty"
# About 340 KiB: past the direct and single-indirect blocks of a 1 KiB-block
# ext2, so reading it walks double-indirect blocks too.
seq 1 60000 >"$dest/data/big.txt"
# 1 MiB hole, then a few bytes: the hole must read back as zeros.
truncate -s 1M "$dest/data/sparse.bin"
printf 'end of sparse\n' >>"$dest/data/sparse.bin"
base64 "$dest/data/poem.txt" >"$dest/data/poem.b64"
# Relative names, as the tests see them from the root.
(cd "$dest" && md5sum data/poem.txt data/big.txt data/sparse.bin >data/sums.md5)
