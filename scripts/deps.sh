#!/bin/bash
# Install the Debian packages accelshare's build, tests and demo need.
# Idempotent: asks dpkg which are missing and installs only those; silent
# when everything is already present.
set -euo pipefail

pkgs=(
	build-essential pkg-config make gcc
	linux-headers-cloud-amd64 linux-image-cloud-amd64 linux-source-6.1
	linux-headers-6.12-cloud-amd64 linux-image-6.12-cloud-amd64
	qemu-system-x86 busybox-static cpio gzip e2fsprogs kmod coreutils
	libjson-c-dev libcmocka-dev liburing-dev libnuma-dev libopenblas-dev
	flex bison bc libelf-dev libssl-dev dwarves sparse xz-utils rsync
	clang libclang-rt-14-dev fio jq cppcheck perl systemd
)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing missing packages: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
	sudo=()
elif command -v sudo >/dev/null 2>&1; then
	sudo=(sudo)
else
	echo "deps: missing packages (${missing[*]}) and not root, no sudo; install them as root" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt (unattended-upgrades, a second make) rather than fail.
lock=(-o DPkg::Lock::Timeout=600)
"${sudo[@]}" apt-get "${lock[@]}" update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get "${lock[@]}" install -y -q --no-install-recommends "${missing[@]}"
