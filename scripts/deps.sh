#!/bin/bash
# Install the Debian packages accelshare needs, by what for:
#   deps.sh [build|demo|test|deb]  build: make's; demo: make demo's (build
#                               and a VM); test (default): everything make
#                               test, make lint and make bench use; deb:
#                               make deb's (debhelper, lintian)
#   deps.sh --check build|...   only say what is missing (exit 1 if any)
# Idempotent: asks dpkg which are missing and installs only those; silent
# when everything is already present.
set -euo pipefail

check=0
if [ "${1:-}" = --check ]; then
	check=1
	shift
fi
group=${1:-test}

build=(build-essential pkg-config make gcc kmod
       libjson-c-dev libinih-dev liburing-dev libnuma-dev libopenblas-dev
       libsqlite3-dev libmicrohttpd-dev libssl-dev)
demo=("${build[@]}" linux-headers-cloud-amd64 linux-image-cloud-amd64
      qemu-system-x86 busybox-static cpio gzip coreutils rsync file)
test=("${demo[@]}" linux-source-6.1
      linux-headers-6.12-cloud-amd64 linux-image-6.12-cloud-amd64
      e2fsprogs libcmocka-dev flex bison bc libelf-dev libssl-dev dwarves
      sparse xz-utils clang libclang-rt-14-dev fio jq cppcheck perl systemd
      dkms python3-venv python3-jsonschema prometheus
      dpkg-dev debhelper dh-dkms lintian debootstrap)
deb=("${build[@]}" dpkg-dev debhelper dh-dkms lintian)
case $group in
build) pkgs=("${build[@]}") ;;
demo) pkgs=("${demo[@]}") ;;
test) pkgs=("${test[@]}") ;;
deb) pkgs=("${deb[@]}") ;;
*) echo "deps: unknown group '$group' (build, demo, test or deb)" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$check" = 1 ]; then
	echo "make: missing Debian packages to $group accelshare: ${missing[*]}." >&2
	echo "make: install them with \"make deps\" (as root), or: apt-get install ${missing[*]}" >&2
	exit 1
fi

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
