#!/bin/bash
# Build a busybox initramfs and boot a VM kernel under qemu (TCG) to run the
# VM test cases (mode "test") or the demo (mode "demo").  See tests/vm/README.md.
#
#   run.sh --kernel distro|distro612|debug [--mode test|demo] [--build DIR]
#          [--cases "name1 name2"] [--module FILE.ko] [--timeout SECS]
#
# Console output is echoed and kept in BUILD/vm/KERNEL/console.log; per-case
# results in BUILD/vm/KERNEL/results.txt.  The last line printed is
# "N passed, N failed, N skipped"; the status is non-zero on any failure, if no
# case ran, or if the VM did not reach its end marker.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

kernel='' mode=test build=build cases=${CASES:-} module='' timeout=''
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--mode) mode=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--cases) cases=$2; shift 2 ;;
	--module) module=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	-h|--help) usage ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
case $kernel in distro|distro612|debug) ;; *) echo "run.sh: --kernel distro, distro612 or debug required" >&2; exit 2 ;; esac
case $mode in test|demo) ;; *) echo "run.sh: --mode must be test or demo" >&2; exit 2 ;; esac
cd "$root"
mkdir -p "$build"
build=$(cd "$build" && pwd)

# VM settings (environment overrides).
vm_ram=${ASH_VM_RAM:-1G}
vm_smp=${ASH_VM_SMP:-2}
mem=${ASH_VM_MEM:-256M}                 # module's mem= for each case
[ "$mode" = demo ] && mem=${ASH_VM_MEM:-1G}
case_timeout=${ASH_VM_CASE_TIMEOUT:-300}
kmemleak=${ASH_VM_KMEMLEAK:-end}        # end | case | off (debug kernel only)
if [ -z "$timeout" ]; then
	timeout=${ASH_VM_TIMEOUT:-}
	[ -n "$timeout" ] || { [ "$kernel" = debug ] && timeout=3600 || timeout=1200; }
fi

out=$build/vm/$kernel
mkdir -p "$out"
rm -f "$out/results.txt"
image=$("$here/kernel.sh" "$kernel" image)
if [ -z "$module" ]; then
	echo "run.sh: building accelshare.ko for the $kernel kernel" >&2
	module=$("$here/build-module.sh" "$kernel" "$build/kmod/$kernel")
fi
[ -r "$module" ] || { echo "run.sh: module $module missing" >&2; exit 1; }

# ---- initramfs -----------------------------------------------------------
stage=$out/root
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,usr/lib,etc,proc,sys,dev,tmp,root,tests,home}
busybox=$(command -v busybox)
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	busybox=/bin/busybox
cp "$busybox" "$stage/bin/busybox"
for l in $("$stage/bin/busybox" --list-full); do
	[ -e "$stage/$l" ] || ln -s /bin/busybox "$stage/$l"
done

elfs=()
add_bin() {     # add_bin SRC DESTDIR
	[ -f "$1" ] && [ -x "$1" ] || return 0
	cp "$1" "$stage/$2/"
	elfs+=("$stage/$2/$(basename "$1")")
}
if [ -d "$build/vm/cases" ]; then
	for c in "$build"/vm/cases/*; do add_bin "$c" tests; done
fi
for f in "$here"/cases/*.params "$here"/cases/*.timeout "$here"/cases/*.manual \
	 "$build"/vm/cases/*.params "$build"/vm/cases/*.timeout; do
	[ -f "$f" ] && cp "$f" "$stage/tests/"
done
for b in ashctl ash-demo-tenant accelshare-engine accelshare-accountd ash-model ash-run ash-bench; do
	add_bin "$build/bin/$b" usr/bin
done
add_bin "$build/vm/bin/runas" usr/bin
# Models and their reference outputs (tests/python/write_runner_refs.py).
if [ -d "$build/runner-refs" ]; then
	mkdir -p "$stage/models"
	cp -r "$build"/runner-refs/* "$stage/models/"
fi
mkdir -p "$stage/examples"
for e in "$build"/examples/*; do add_bin "$e" examples; done
if compgen -G "$build/lib/libaccelshare.so*" >/dev/null; then
	cp -a "$build"/lib/libaccelshare.so* "$stage/usr/lib/"
fi

# Shared libraries (and the dynamic loader) at the host's paths.
for e in "${elfs[@]}"; do
	file -L "$e" | grep -q 'dynamically linked' || continue
	LD_LIBRARY_PATH=$build/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} ldd "$e" |
	awk '/=> \//{print $3} /^[[:space:]]*\//{print $1}'
done | sort -u | while read -r lib; do
	case $lib in "$build"/lib/*) continue ;; esac
	mkdir -p "$stage$(dirname "$lib")"
	cp -L "$lib" "$stage$lib"
done

cp "$module" "$stage/accelshare.ko"
# The module as make install puts it, depmod included, for install_modprobe.
make -s --no-print-directory -C "$here/../.." install-module \
	KDIR="$("$here/kernel.sh" "$kernel" kdir)" MODULE_KO="$module" \
	DESTDIR="$stage" >"$out/install-module.log" 2>&1 ||
	{ cat "$out/install-module.log" >&2
	  echo "run.sh: make install-module into the image failed: install_modprobe will fail" >&2; }
# The module's allocation sites, which the fault_injection case must reach.
"$here/fault-sites.sh" "$module" > "$stage/tests/fault_injection.sites" ||
	{ rm -f "$stage/tests/fault_injection.sites"
	  echo "run.sh: fault-sites.sh failed: fault_injection will fail" >&2; }
cp "$here/init" "$stage/init"
cp "$here/kernel-log-patterns" "$stage/etc/kernel-log-patterns"
[ -f "$here/demo-init" ] && cp "$here/demo-init" "$stage/demo-init"
chmod 0755 "$stage/init"
cat > "$stage/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
alice:x:1000:2000:alice (acme):/home/alice:/bin/sh
bob:x:1001:2001:bob (globex):/home/bob:/bin/sh
carol:x:1002:2002:carol (initech):/home/carol:/bin/sh
dave:x:1003:2003:dave (acme by supplementary group):/home/dave:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat > "$stage/etc/group" <<'GR'
root:x:0:
orga:x:2000:dave
orgb:x:2001:
orgc:x:2002:
dave:x:2003:
nogroup:x:65534:
GR
for u in alice bob carol dave; do mkdir -p "$stage/home/$u"; done
chown 1000:2000 "$stage/home/alice" 2>/dev/null || true
cat > "$stage/etc/vmtest.conf" <<CONF
KERNEL='$kernel'
MODE='$mode'
CASES='$cases'
MEM='$mem'
CASE_TIMEOUT='$case_timeout'
KMEMLEAK='$kmemleak'
CONF
# Knobs for the cases themselves (durations, seeds): every ASH_TEST_*
# variable of the caller's environment, exported to the cases in the VM.
while IFS='=' read -r k v; do
	case $k in ASH_TEST_[A-Z0-9_]*) ;; *) continue ;; esac
	case $v in *"'"*) echo "run.sh: $k must not contain a quote" >&2; exit 2 ;; esac
	printf "export %s='%s'\n" "$k" "$v" >> "$stage/etc/vmtest.conf"
done < <(env)
initrd=$out/initramfs.cpio.gz
(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) | gzip -1 > "$initrd.tmp"
mv "$initrd.tmp" "$initrd"

# ---- boot ----------------------------------------------------------------
log=$out/console.log
# loglevel=5: warnings and worse reach the console (and the host's check).
# init_on_alloc=0: Debian's kernel zeroes every page it hands out by default,
# which would hide a driver that forgets to zero tenant memory.
append="console=ttyS0 panic=-1 loglevel=5 edd=off init_on_alloc=0"
# Two NUMA nodes, the CPUs and the memory split between them, as on a
# two-socket host: the NUMA placement case needs them, and every other case
# runs on the topology a production host has.
smp=$vm_smp numa=()
ram_mib=$(numfmt --from=iec --to-unit=Mi "$vm_ram")
if [ "${ASH_VM_NUMA:-2}" = 2 ] && [ "$vm_smp" -ge 2 ] &&
   [ $((vm_smp % 2)) = 0 ] && [ $((ram_mib % 2)) = 0 ]; then
	half=$((vm_smp / 2))
	# One socket per node, or the kernel warns that a package spans two.
	smp="$vm_smp,sockets=2,cores=$half,threads=1"
	numa=(-object "memory-backend-ram,id=m0,size=$((ram_mib / 2))M"
	      -object "memory-backend-ram,id=m1,size=$((ram_mib / 2))M"
	      -numa "node,nodeid=0,cpus=0-$((half - 1)),memdev=m0"
	      -numa "node,nodeid=1,cpus=$half-$((vm_smp - 1)),memdev=m1")
fi
echo "run.sh: booting the $kernel kernel ($(basename "$image"), ${vm_ram} RAM, ${vm_smp} CPUs, $(( ${#numa[@]} ? 2 : 1 )) NUMA node(s), limit ${timeout}s)" >&2
t0=$(date +%s.%N)
set +e
timeout --foreground -k 10 "$timeout" qemu-system-x86_64 \
	-nographic -no-reboot -m "$vm_ram" -smp "$smp" -cpu max "${numa[@]}" \
	-kernel "$image" -initrd "$initrd" -append "$append" </dev/null 2>&1 |
	sed -u -e 's/\r//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' | tee "$log"
qrc=${PIPESTATUS[0]}
set -e
t1=$(date +%s.%N)
wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')

# ---- verdict -------------------------------------------------------------
exec "$here/parse-log.sh" --kernel "$kernel" --mode "$mode" --qemu-status "$qrc" \
	--wall "$wall" "$log" "$out/results.txt"
