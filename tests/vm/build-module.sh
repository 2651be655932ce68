#!/bin/bash
# Build accelshare.ko for one VM kernel in its own copy of the module tree.
#   build-module.sh distro|debug OUTDIR
# kbuild writes an external module's objects next to its sources, so each
# kernel gets a copy (Kbuild, driver/, include/) under OUTDIR; rsync keeps
# timestamps, so rebuilds are incremental.  Prints the path of the .ko.
# ASH_VM_MODSRC=DIR builds the module tree in DIR instead of the repo's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
kind=${1:?usage: build-module.sh distro|debug OUTDIR}
out=${2:?usage: build-module.sh distro|debug OUTDIR}
src=${ASH_VM_MODSRC:-$root}

kdir=$("$here/kernel.sh" "$kind" kdir)
[ -f "$src/Kbuild" ] || { echo "build-module: $src/Kbuild missing" >&2; exit 1; }
mkdir -p "$out"
items=()
for i in Kbuild driver include; do [ -e "$src/$i" ] && items+=("$src/$i"); done
# --delete so a removed source file does not linger in the copy; kbuild's own
# outputs are excluded from deletion.
rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
	--exclude='*.mod' --exclude='*.mod.c' --exclude='*.o.d' \
	"${items[@]}" "$out/"
log=$out/build.log
if ! make -C "$kdir" M="$(cd "$out" && pwd)" modules >"$log" 2>&1; then
	cat "$log" >&2
	echo "build-module: module build for the $kind kernel failed (log: $log)" >&2
	exit 1
fi
# Show warnings (not the usual CC/LD chatter).
grep -E 'warning|error' "$log" | grep -v 'Skipping BTF generation' >&2 || true
ko=$(cd "$out" && ls ./*.ko 2>/dev/null | head -n 1)
[ -n "$ko" ] || { echo "build-module: no .ko produced in $out" >&2; exit 1; }
echo "$(cd "$out" && pwd)/${ko#./}"
