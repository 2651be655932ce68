#!/bin/bash
# The total of make test: host unit tests, the install checks and the VM
# suite on both kernels,
# as one last line "N passed, N failed, N skipped".  A suite that left no
# results counts as a failure.
# Usage: test-summary.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: test-summary.sh BUILD_DIR}
pass=0 fail=0 skip=0

echo
echo "==== make test summary"
unit=$build/unit/summary.txt
if [ -s "$unit" ]; then
	read -r p _ f _ <"$unit"
	echo "unit: $(cat "$unit")"
	pass=$((pass + p)) fail=$((fail + f))
else
	echo "unit: no results"
	fail=$((fail + 1))
fi
inst=$build/install/summary.txt
if [ -s "$inst" ]; then
	read -r p _ f _ <"$inst"
	echo "install: $(cat "$inst")"
	pass=$((pass + p)) fail=$((fail + f))
else
	echo "install: no results"
	fail=$((fail + 1))
fi
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
