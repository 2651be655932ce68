#!/bin/bash
# Build (once) the debug kernel for the VM suite from Debian's linux-source-6.1
# and print the path of its build tree.  The result is cached under
# $ACCELSHARE_CACHE (default ~/.cache/accelshare), keyed by the source
# package's version and this config fragment, so only the first run pays.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
frag=$here/debug-kernel.config
tarball=/usr/src/linux-source-6.1.tar.xz
cache=${ACCELSHARE_CACHE:-$HOME/.cache/accelshare}

[ -r "$tarball" ] || { echo "build-debug-kernel: $tarball missing (apt-get install linux-source-6.1)" >&2; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( (echo "$srcver"; cat "$frag") | sha256sum | cut -c1-16)
out=$cache/debug-kernel-$key

if [ -f "$out/.done" ]; then
	echo "$out/build"
	exit 0
fi

rm -rf "$out"
mkdir -p "$out"
log=$out/build.log
echo "build-debug-kernel: building $srcver debug kernel in $out (first run only, a few minutes)" >&2
{
	tar -C "$out" -xf "$tarball"
	mv "$out"/linux-source-6.1 "$out/build"
	cd "$out/build"
	make -s tinyconfig
	scripts/kconfig/merge_config.sh -m .config "$frag" >/dev/null
	make -s olddefconfig
	# Every option the fragment sets must have survived olddefconfig.
	missing=0
	while IFS= read -r line; do
		case "$line" in CONFIG_*=n) opt=${line%%=*}
			grep -q "^$opt=" .config && { echo "not disabled: $opt"; missing=1; } ;;
		CONFIG_*) grep -qx "$line" .config || { echo "not set: $line"; missing=1; } ;; esac
	done < "$frag"
	[ $missing -eq 0 ]
	make -s -j"$(nproc)" bzImage modules
} >"$log" 2>&1 || { echo "build-debug-kernel: failed, see $log" >&2; tail -20 "$log" >&2; exit 1; }
touch "$out/.done"
echo "$out/build"
