#!/bin/bash
# Sum the results files of several VM runs (tests/vm/run.sh writes one per
# kernel) and print "N passed, N failed, N skipped" last.  A missing file
# (the run never got as far as booting) counts as a failure.
set -euo pipefail
pass=0 fail=0 skip=0
echo
echo "==== VM suite summary"
for f in "$@"; do
	kernel=$(basename "$(dirname "$f")")
	if [ ! -s "$f" ]; then
		echo "FAIL $kernel (no results: the run stopped before the VM booted)"
		fail=$((fail + 1))
		continue
	fi
	p=$(grep -c '^PASS ' "$f" || true)
	x=$(grep -c '^FAIL ' "$f" || true)
	s=$(grep -c '^SKIP ' "$f" || true)
	grep '^FAIL ' "$f" | sed "s/^FAIL /FAIL $kernel: /" || true
	echo "$kernel: $p passed, $x failed, $s skipped"
	pass=$((pass + p)) fail=$((fail + x)) skip=$((skip + s))
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ $((pass + skip)) -gt 0 ]
