#!/bin/bash
# Static checks (make lint): every one must be clean.
#   - checkpatch.pl --strict (from Debian's linux-source-6.1) on the driver
#     and the UAPI header;
#   - the module built against Debian's kernel with sparse (C=2) and W=1:
#     any warning fails;
#   - cppcheck on the userspace C.
# Usage: lint.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${1:-$root/build}")
cache=${ACCELSHARE_CACHE:-$HOME/.cache/accelshare}
cd "$root"
failed=()

# checkpatch and the files it reads beside it, extracted once per source
# package version.
tarball=/usr/src/linux-source-6.1.tar.xz
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
cpdir=$cache/checkpatch-$srcver
if [ ! -x "$cpdir/scripts/checkpatch.pl" ]; then
	rm -rf "$cpdir"
	mkdir -p "$cpdir"
	tar -C "$cpdir" --strip-components=1 -xf "$tarball" \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
fi
echo "lint: checkpatch --strict"
if ! "$cpdir/scripts/checkpatch.pl" --strict --no-tree --quiet --terse \
	--show-types -f driver/*.c driver/*.h include/uapi/accelshare.h; then
	failed+=(checkpatch)
fi

# Sparse and W=1 against each distribution kernel line (6.1, 6.12).
for k in distro distro612; do
	echo "lint: sparse and W=1 (module against the $k kernel)"
	kdir=$("$root/tests/vm/kernel.sh" "$k" kdir)
	out=$build/kmod/lint-$k
	mkdir -p "$out"
	rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
		Kbuild driver include "$out/"
	log=$out/build.log
	if ! make -C "$kdir" M="$out" W=1 C=2 modules >"$log" 2>&1; then
		cat "$log" >&2
		failed+=("module-build-$k")
	elif grep -E 'warning|error' "$log" | grep -v 'Skipping BTF generation'; then
		failed+=("sparse/W=1-$k")
	fi
done

echo "lint: manual pages"
if ! "$root/scripts/man.sh" check; then
	failed+=(man)
fi

echo "lint: cppcheck (userspace)"
# The VM cases stop through REQUIRE(), whose vt_bail() never returns;
# cppcheck does not follow that through the macro's statement expression
# and reports the variables REQUIRE() guards as uninitialised.
if ! cppcheck --quiet --error-exitcode=1 --std=c11 \
	--enable=warning,performance,portability --inline-suppr \
	--suppress='uninitvar:tests/vm/cases/*' \
	-D__linux__ -D_GNU_SOURCE -Iinclude -Iruntime -Itools/common \
	-Itools/ashctl -Itests/vm/lib -Itests/fuzz \
	runtime tools tests/vm tests/unit tests/fuzz $( [ -d bench ] && echo bench ); then
	failed+=(cppcheck)
fi

if [ ${#failed[@]} -ne 0 ]; then
	echo "lint: FAILED: ${failed[*]}" >&2
	exit 1
fi
echo "lint: clean"
