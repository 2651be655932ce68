#!/bin/bash
# SPDX-License-Identifier: MIT
# Run bench/exec_bench.c inside a VM (run by "make bench-exec").  The
# benchmark is packed and run like a VM test case, by tests/vm/run.sh, from
# a staging build directory that holds it as its only case and links the
# real build's binaries and libraries; nothing of the test suite changes.
# Prints the VM's console, then the benchmark's table again, last.
#
#   BUILD         the build directory (default build)
#   EXEC_BENCH    the benchmark binary (default $BUILD/bench/exec_bench)
#   BENCH_KERNEL  distro (default) or debug
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
build=$(cd "${BUILD:-build}" && pwd)
bin=${EXEC_BENCH:-$build/bench/exec_bench}
kernel=${BENCH_KERNEL:-distro}
[ -x "$bin" ] || { echo "exec-run.sh: $bin is not built (make bench-exec)" >&2; exit 1; }

stage=$build/bench/vm
rm -rf "$stage/vm/cases" "$stage/bin" "$stage/lib"
mkdir -p "$stage/vm/cases" "$stage/vm/bin"
ln -s "$build/bin" "$stage/bin"
ln -s "$build/lib" "$stage/lib"
cp "$bin" "$stage/vm/cases/exec_bench"
[ -x "$build/vm/bin/runas" ] && cp "$build/vm/bin/runas" "$stage/vm/bin/runas"

rc=0
ASH_VM_CASE_TIMEOUT=${ASH_VM_CASE_TIMEOUT:-300} \
	"$root/tests/vm/run.sh" --build "$stage" --kernel "$kernel" \
	--cases exec_bench || rc=$?
echo
sed -n '/^EXEC-BENCH BEGIN/,/^EXEC-BENCH END/p' "$stage/vm/$kernel/console.log" |
	grep -v '^EXEC-BENCH END' || { echo "exec-run.sh: no table in the console log" >&2; rc=1; }
exit $rc
