#!/bin/bash
# SPDX-License-Identifier: MIT
# make install and make uninstall into a staging directory, checked as a
# packager and a tenant developer use them:
#  - the module lies under the release its vermagic names, and depmod ran
#    (modules.dep lists it), so modprobe finds it;
#  - every file of docs/admin.md's layout is there, the headers included,
#    and systemd-analyze verify accepts the units (engine, apply, accountd);
#  - a tenant program that uses <accelshare.h> and <linux/accelshare.h>
#    (the op names too) compiles against the staged tree with pkg-config
#    (PKG_CONFIG_SYSROOT_DIR), linked dynamically and statically
#    (--static), and runs;
#  - make install-dkms stages a source tree that dkms builds for both
#    distribution kernel lines (6.1, 6.12);
#  - make uninstall removes every file it put there, and depmod forgets the
#    module.
# Usage: check-install.sh BUILD_DIR; prints PASS/FAIL lines and a last line
# "N passed, N failed", also written to BUILD_DIR/install/summary.txt.
set -uo pipefail
build=${1:?usage: check-install.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$build"
build=$(cd "$build" && pwd)	# absolute: dkms links into it
out=$build/install
stage=$out/stage
rm -rf "$out"
mkdir -p "$out"
# shellcheck source=tests/install/checks.sh
. "$root/tests/install/checks.sh"

if ! make -s -C "$root" BUILD="$build" install DESTDIR="$stage" >"$out/install.log" 2>&1; then
	bad install "make install failed (log: $out/install.log)"
	echo "$pass passed, $fail failed" | tee "$out/summary.txt"
	exit 1
fi
ok install

ko=$(find "$stage/lib/modules" -name accelshare.ko | head -n 1)
rel=${ko#"$stage"/lib/modules/}
rel=${rel%%/*}
vermagic=$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)
check module_release "installed under '$rel', vermagic says '$vermagic'" \
	test -n "$rel" -a "$rel" = "$vermagic"
check depmod "modules.dep does not list extra/accelshare.ko" \
	grep -q '^extra/accelshare.ko:' "$stage/lib/modules/$rel/modules.dep"

missing=
for f in usr/bin/ashctl usr/bin/accelshare-engine usr/bin/accelshare-accountd \
	 usr/bin/ash-model usr/bin/ash-run \
	 usr/lib/libaccelshare.so usr/lib/libaccelshare.so.0 usr/lib/libaccelshare.a \
	 usr/include/accelshare.h usr/include/linux/accelshare.h \
	 usr/include/linux/accelshare_ops.h usr/lib/pkgconfig/accelshare.pc \
	 usr/share/doc/accelshare/admin.md usr/share/doc/accelshare/uapi.md \
	 lib/systemd/system/accelshare-engine@.service \
	 lib/systemd/system/accelshare-engine-owned@.service \
	 lib/systemd/system/accelshare-apply.service \
	 lib/systemd/system/accelshare-accountd.service \
	 usr/lib/modules-load.d/accelshare.conf etc/modprobe.d/accelshare.conf \
	 usr/share/man/man8/ashctl.8 usr/share/man/man8/accelshare-engine.8 \
	 usr/share/man/man8/accelshare-accountd.8 \
	 usr/share/man/man1/ash-model.1 usr/share/man/man1/ash-run.1 \
	 usr/share/man/man4/accelshare.4 usr/share/man/man5/accelshare.conf.5 \
	 usr/share/man/man3/ash_runner_decode.3 \
	 usr/share/man/man3/ash_open.3 usr/share/man/man3/ash_close.3 \
	 $(test -x "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" &&
	   echo usr/lib/accelshare/accelshare-backend-cuda.so); do
	[ -e "$stage/$f" ] || missing="$missing $f"
done
check layout "missing:$missing" test -z "$missing"

# The engine's unit, as systemd reads it: in a root made of the stage and
# the host's own units (systemd-analyze needs its targets), every unit
# directive known and the binary it runs there: no output, exit 0.
sdroot=$out/sdroot
mkdir -p "$sdroot/lib/systemd/system" "$sdroot/usr/bin"
cp -a /lib/systemd/system/. "$sdroot/lib/systemd/system/" 2>/dev/null
cp "$stage"/lib/systemd/system/accelshare-*.service "$sdroot/lib/systemd/system/"
cp "$stage/usr/bin/accelshare-engine" "$stage/usr/bin/accelshare-accountd" \
   "$stage/usr/bin/ashctl" "$sdroot/usr/bin/"
mkdir -p "$sdroot/etc/accelshare"
echo 'ENGINE_OPTS="--mem 1G"' >"$sdroot/etc/accelshare/engine-gpu0.conf"
check systemd_unit "systemd-analyze verify complained" \
	sh -c "out=\$(systemd-analyze verify --root='$sdroot' accelshare-engine@0.service \
			accelshare-engine-owned@gpu0.service \
			accelshare-apply.service accelshare-accountd.service 2>&1) &&
	       [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
rm -rf "$sdroot"

# The installed pages, a .so link among them, render with man without a
# warning.
check man_pages "man --warnings complained about an installed page" \
	sh -c "for p in ashctl accelshare-engine accelshare-accountd ash-model ash-run accelshare accelshare.conf ash_close ash_op_gemm ash_runner_embed; do
		 out=\$(MANPATH='$stage/usr/share/man' LC_ALL=C.UTF-8 MANWIDTH=80 \
		       man --warnings \$p 2>&1 >/dev/null) || exit 1
		 [ -z \"\$out\" ] || { echo \"\$p: \$out\"; exit 1; }
	       done"

# Every installed tool says its version, which is the build's.
want=$(make -s -C "$root" -p -n 2>/dev/null | sed -n 's/^VERSION := //p' | head -n 1)
bad_versions=
for t in ashctl accelshare-engine accelshare-accountd ash-model ash-run; do
	v=$(LD_LIBRARY_PATH=$stage/usr/lib "$stage/usr/bin/$t" --version 2>&1 | head -n 1)
	case $v in "$t $want"*) ;; *) bad_versions="$bad_versions $t:'$v'" ;; esac
done
check version "--version (want $want):$bad_versions" test -n "$want" -a -z "$bad_versions"

cat > "$out/tenant.c" <<'PROG'
#include <stdio.h>
#include <string.h>
#include <accelshare.h>
#include <linux/accelshare.h>

int main(void)
{
	struct ash_gemm_params g = { .m = 1, .n = 1, .k = 1 };
	struct ash_ctx *ctx;
	int ret = ash_open("no-such-partition", &ctx);

	if (!ret)
		ash_close(ctx);
	printf("libaccelshare %s (built against " ACCELSHARE_VERSION_STRING
	       "), op %d, %zu-byte params, ash_open: %s\n", ash_version(),
	       ASH_OP_GEMM, sizeof(g), ret ? strerror(-ret) : "ok");
	return 0;
}
PROG
export PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_LIBDIR=$stage/usr/lib/pkgconfig
cflags=$(pkg-config --cflags accelshare)
check pkgconfig_dynamic "a tenant program did not build or run against the staged tree" \
	sh -c "cc -Werror $cflags '$out/tenant.c' \$(pkg-config --libs accelshare) -o '$out/tenant' &&
	       LD_LIBRARY_PATH='$stage/usr/lib' '$out/tenant'"
check pkgconfig_static "a static tenant program did not build or run (pkg-config --static)" \
	sh -c "cc -static -Werror $cflags '$out/tenant.c' \$(pkg-config --static --libs accelshare) \
		-o '$out/tenant-static' && '$out/tenant-static'"
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR

# DKMS: the source make install-dkms stages builds for both distribution
# kernel lines, in a dkms tree of our own.  dkms makes a signing key in
# /var/lib/dkms the first time; one it made here is removed again.
dk=$out/dkms
mok_before=$([ -e /var/lib/dkms/mok.key ] && echo yes || echo no)
if command -v dkms >/dev/null &&
   make -s -C "$root" BUILD="$build" install-dkms DESTDIR="$dk/stage" >"$out/dkms.log" 2>&1; then
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$dk"/stage/usr/src/accelshare-*/dkms.conf)
	dkmsargs=(--sourcetree "$dk/stage/usr/src" --dkmstree "$dk/tree")
	mkdir -p "$dk/tree"
	dkms add "accelshare/$ver" "${dkmsargs[@]}" >>"$out/dkms.log" 2>&1
	for k in distro distro612; do
		rel=$("$root/tests/vm/kernel.sh" "$k" release 2>>"$out/dkms.log")
		check "dkms_$k" "dkms build for $rel failed or built for another release" \
			sh -c "dkms build 'accelshare/$ver' -k '$rel' ${dkmsargs[*]} &&
			       ko=\$(find '$dk/tree/accelshare/$ver/$rel' -name 'accelshare.ko*' | head -n 1) &&
			       test -n \"\$ko\" &&
			       modinfo -F vermagic \"\$ko\" | grep -q '^$rel '"
	done
else
	bad dkms "dkms missing, or make install-dkms failed (log: $out/dkms.log)"
fi
if [ "$mok_before" = no ]; then
	rm -f /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
fi
rm -rf "$dk"

if make -s -C "$root" BUILD="$build" uninstall DESTDIR="$stage" >"$out/uninstall.log" 2>&1; then
	left=$(find "$stage" -type f ! -name 'modules.*' | sed "s|^$stage/||")
	check uninstall "files left: $left" test -z "$left"
	check uninstall_depmod "modules.dep still lists the module" \
		sh -c "! grep -q accelshare '$stage/lib/modules/$rel/modules.dep'"
else
	bad uninstall "make uninstall failed (log: $out/uninstall.log)"
fi

echo "$pass passed, $fail failed" | tee "$out/summary.txt"
[ "$fail" -eq 0 ]
