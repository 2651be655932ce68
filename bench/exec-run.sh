#!/bin/bash
# SPDX-License-Identifier: MIT
# Run a benchmark inside a VM (bench/exec_bench.c for "make bench-exec",
# bench/runner_bench.c for "make bench-runner").  The benchmark is packed
# and run like a VM test case, by tests/vm/run.sh, from a staging build
# directory that holds it as its only case and links the real build's
# binaries, libraries and models; nothing of the test suite changes.
# Prints the VM's console, then the benchmark's table again, last.
#
#   BUILD         the build directory (default build)
#   EXEC_BENCH    the benchmark binary (default $BUILD/bench/exec_bench)
#   BENCH_MARK    what its table's first and last lines begin with,
#                 "MARK BEGIN" and "MARK END" (default EXEC-BENCH)
#   BENCH_KERNEL  distro (default) or debug
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
build=$(cd "${BUILD:-build}" && pwd)
bin=${EXEC_BENCH:-$build/bench/exec_bench}
kernel=${BENCH_KERNEL:-distro}
mark=${BENCH_MARK:-EXEC-BENCH}
name=$(basename "$bin")
[ -x "$bin" ] || { echo "exec-run.sh: $bin is not built (make bench-exec)" >&2; exit 1; }

stage=$build/bench/vm
rm -rf "$stage/vm/cases" "$stage/bin" "$stage/lib" "$stage/runner-refs"
mkdir -p "$stage/vm/cases" "$stage/vm/bin"
ln -s "$build/bin" "$stage/bin"
ln -s "$build/lib" "$stage/lib"
[ -d "$build/runner-refs" ] && ln -s "$build/runner-refs" "$stage/runner-refs"
cp "$bin" "$stage/vm/cases/$name"
[ -x "$build/vm/bin/runas" ] && cp "$build/vm/bin/runas" "$stage/vm/bin/runas"

rc=0
ASH_VM_CASE_TIMEOUT=${ASH_VM_CASE_TIMEOUT:-300} \
	"$root/tests/vm/run.sh" --build "$stage" --kernel "$kernel" \
	--cases "$name" || rc=$?
echo
sed -n "/^$mark BEGIN/,/^$mark END/p" "$stage/vm/$kernel/console.log" |
	grep -v "^$mark END" || { echo "exec-run.sh: no table in the console log" >&2; rc=1; }
exit $rc
