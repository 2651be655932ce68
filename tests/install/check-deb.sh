#!/bin/bash
# SPDX-License-Identifier: MIT
# The Debian packages, checked as a Debian administrator meets them:
#  - make deb builds accelshare-dkms, libaccelshare0, libaccelshare-dev and
#    accelshare-tools with dpkg-buildpackage, and lintian finds no error or
#    warning in them;
#  - they install with apt into a fresh Debian 12 (a minbase debootstrap,
#    cached), which brings their dependencies, and there every tool says
#    its version, ashctl reads a config file, the headers, the pkg-config
#    file and the manual pages are in place and the DKMS source is
#    registered with dkms.
# Usage: check-deb.sh BUILD_DIR; PASS/FAIL lines, and the last line
# "N passed, N failed", also in BUILD_DIR/deb-check/summary.txt.
set -uo pipefail
build=${1:?usage: check-deb.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$build"
build=$(cd "$build" && pwd)
out=$build/deb-check
cache=${XDG_CACHE_HOME:-$HOME/.cache}/accelshare
mirror=${ASH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
rm -rf "$out"
mkdir -p "$out" "$cache"
# shellcheck source=tests/install/checks.sh
. "$root/tests/install/checks.sh"
finish() {
	echo "$pass passed, $fail failed" | tee "$out/summary.txt"
	[ "$fail" -eq 0 ]
	exit
}

check deb_build "make deb failed or lintian complained" \
	make -s -C "$root" BUILD="$build" deb
debs=()
for p in accelshare-dkms libaccelshare0 libaccelshare-dev accelshare-tools; do
	debs+=("$build"/deb/${p}_*.deb)
done
for d in "${debs[@]}"; do [ -e "$d" ] || finish; done

if [ "$(id -u)" != 0 ]; then
	bad deb_install "installing into a chroot needs root"
	finish
fi

# A minbase Debian 12, made once and kept as a tarball.
base=$cache/debootstrap-bookworm-minbase.tar
if [ ! -s "$base" ]; then
	tmp=$out/bootstrap
	if debootstrap --variant=minbase bookworm "$tmp" "$mirror" >"$out/debootstrap.log" 2>&1 &&
	   tar -C "$tmp" -cf "$base.tmp" . ; then
		mv "$base.tmp" "$base"
	else
		rm -f "$base.tmp"
		bad chroot "debootstrap failed (log: $out/debootstrap.log)"
	fi
	rm -rf "$tmp"
	[ -s "$base" ] || finish
fi

chroot_dir=$out/root
mkdir -p "$chroot_dir"
tar -C "$chroot_dir" -xf "$base"
cp /etc/resolv.conf "$chroot_dir/etc/resolv.conf"
mkdir -p "$chroot_dir/tmp/debs"
cp "${debs[@]}" "$chroot_dir/tmp/debs/"
mount -t proc proc "$chroot_dir/proc"
trap 'umount "$chroot_dir/proc" 2>/dev/null; rm -rf "$chroot_dir"' EXIT
in_root() { chroot "$chroot_dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }

check deb_install "apt could not install the packages into a fresh Debian 12" \
	in_root sh -c 'apt-get -q update &&
		       apt-get -q install -y --no-install-recommends /tmp/debs/*.deb'
if [ "$fail" -eq 0 ]; then
	want=$(sed -n '1s/^accelshare (\([^)]*\)).*/\1/p' "$root/debian/changelog")
	check deb_versions "a tool did not say version $want" \
		in_root sh -c "for t in ashctl accelshare-engine accelshare-accountd ash-model ash-run; do
				 \$t --version | grep -q '^'\$t' $want\b' || { echo \"\$t: \$(\$t --version)\"; exit 1; }
			       done"
	# ashctl parses the file before it looks for the module.
	check deb_ashctl "ashctl apply did not parse a config file in the chroot" \
		in_root sh -c "printf '[partition a]\\nmem = 4G\\nweight = x\\n' |
			       ashctl apply - 2>&1 | grep -q '<stdin>:3: weight takes a number'"
	# The daemon creates its ledger (SQLite, from the package's
	# dependencies) before it looks for the module.
	check deb_accountd "accelshare-accountd did not create a ledger in the chroot" \
		in_root sh -c "accelshare-accountd --once --db /tmp/usage.db 2>&1 |
			       grep -q 'is the accelshare module loaded' &&
			       ashctl usage --db /tmp/usage.db | grep -q 'no usage in the ledger'"
	check deb_files "files missing from the installed packages" \
		in_root sh -c 'for f in /usr/include/accelshare.h /usr/include/linux/accelshare.h \
				  /usr/lib/pkgconfig/accelshare.pc /usr/lib/libaccelshare.so.0 \
				  /usr/share/man/man8/ashctl.8.gz /usr/share/man/man5/accelshare.conf.5.gz \
				  /usr/share/man/man3/ash_open.3.gz /lib/systemd/system/accelshare-apply.service \
				  /lib/systemd/system/accelshare-engine@.service \
				  /lib/systemd/system/accelshare-accountd.service \
				  /usr/share/man/man8/accelshare-accountd.8.gz; do
				   test -e "$f" || { echo "missing: $f"; exit 1; }
			       done'
	check deb_dkms "dkms does not know the accelshare source" \
		in_root sh -c "dkms status accelshare | grep -q '^accelshare/$want'"
fi
finish
