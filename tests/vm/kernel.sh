#!/bin/bash
# Locate a VM test kernel.
#   kernel.sh distro|distro612|debug kdir    kernel build tree to build the module against
#   kernel.sh distro|distro612|debug image   bootable kernel image
#   kernel.sh distro|distro612|debug release its kernel release string
# distro: the installed linux-image-cloud-amd64 (version derived from the
# metapackage's dependency, else the newest /lib/modules/6.1*cloud*).
# distro612: Debian 13's kernel line as Debian 12 carries it,
# linux-image-6.12-cloud-amd64, likewise.
# debug: the debug kernel from build-debug-kernel.sh (built on first use).
# Overrides: ASH_VM_KDIR, ASH_VM_IMAGE (both kernels, for experiments).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kind=${1:?usage: kernel.sh distro|distro612|debug kdir|image|release}
what=${2:?usage: kernel.sh distro|distro612|debug kdir|image|release}

# The release a Debian cloud kernel metapackage @1 depends on, else the
# newest installed one matching @2.
cloud_release() {
	local kver
	kver=$(dpkg-query -W -f='${Depends}' "$1" 2>/dev/null |
	       sed -n 's/^.*linux-image-\([^ ,]*cloud-amd64\).*$/\1/p')
	if [ -z "$kver" ] || [ ! -d "/lib/modules/$kver" ]; then
		kver=$(ls -d /lib/modules/$2*cloud* 2>/dev/null | sort -V | tail -n 1)
		kver=${kver##*/}
	fi
	[ -n "$kver" ] || { echo "kernel.sh: no $1 installed (apt-get install $1 ${1/image/headers})" >&2; return 1; }
	echo "$kver"
}

case $kind in
distro|distro612)
	if [ "$kind" = distro ]; then
		kver=$(cloud_release linux-image-cloud-amd64 6.1.)
	else
		kver=$(cloud_release linux-image-6.12-cloud-amd64 6.12.)
	fi
	kdir=${ASH_VM_KDIR:-/lib/modules/$kver/build}
	image=${ASH_VM_IMAGE:-/boot/vmlinuz-$kver}
	;;
debug)
	if [ -n "${ASH_VM_KDIR:-}" ]; then
		kdir=$ASH_VM_KDIR
	else
		kdir=$("$here/build-debug-kernel.sh")
	fi
	image=${ASH_VM_IMAGE:-$kdir/arch/x86/boot/bzImage}
	kver=$(cat "$kdir/include/config/kernel.release" 2>/dev/null || echo unknown)
	;;
*)	echo "kernel.sh: unknown kernel '$kind' (distro, distro612 or debug)" >&2; exit 2 ;;
esac

case $what in
kdir)	[ -d "$kdir" ] || { echo "kernel.sh: $kind kernel build tree $kdir missing" >&2; exit 1; }
	echo "$kdir" ;;
image)	[ -r "$image" ] || { echo "kernel.sh: $kind kernel image $image missing or unreadable" >&2; exit 1; }
	echo "$image" ;;
release) echo "$kver" ;;
*)	echo "kernel.sh: unknown query '$what'" >&2; exit 2 ;;
esac
