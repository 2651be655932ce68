#!/bin/bash
# The total of make test: host unit tests, /metrics against Prometheus, the
# install and package checks
# and the VM suite on every kernel, as one last line "N passed, N failed,
# N skipped".  A suite that left no results counts as a failure.
# Usage: test-summary.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: test-summary.sh BUILD_DIR}
pass=0 fail=0 skip=0

echo
echo "==== make test summary"
# A suite whose runner wrote "N passed, N failed" to @2.
add_summary() {
	local p f
	if [ -s "$2" ]; then
		read -r p _ f _ <"$2"
		echo "$1: $(cat "$2")"
		pass=$((pass + p)) fail=$((fail + f))
	else
		echo "$1: no results"
		fail=$((fail + 1))
	fi
}
add_summary unit "$build/unit/summary.txt"
add_summary metrics "$build/metrics/check/summary.txt"
add_summary install "$build/install/summary.txt"
add_summary deb "$build/deb-check/summary.txt"
for kernel in distro distro612 debug; do
	f=$build/vm/$kernel/results.txt
	if [ ! -s "$f" ]; then
		echo "vm $kernel: no results"
		fail=$((fail + 1))
		continue
	fi
	p=$(grep -c '^PASS ' "$f" || true)
	x=$(grep -c '^FAIL ' "$f" || true)
	s=$(grep -c '^SKIP ' "$f" || true)
	echo "vm $kernel: $p passed, $x failed, $s skipped"
	pass=$((pass + p)) fail=$((fail + x)) skip=$((skip + s))
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
