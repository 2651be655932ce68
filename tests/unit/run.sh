#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs cmocka test binaries and sums their test cases into one last line,
# "N passed, N failed"; exits non-zero if any case failed or any binary
# died (a sanitizer report ends a binary before cmocka can count: its
# remaining cases count as failed, at least one).  With UNIT_SUMMARY set,
# the last line is also written to that file, for make test's total.
passed=0
failed=0
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	total=$(printf '%s\n' "$out" | sed -n 's/^\[==========\] Running \([0-9]*\) test.*/\1/p' | head -n 1)
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	p=${p:-0}
	if [ -z "$f" ]; then
		f=0
		if [ "$rc" -ne 0 ]; then
			f=$(( ${total:-1} - p ))
			[ "$f" -gt 0 ] || f=1
			echo "$t: exited with status $rc before finishing" >&2
		fi
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ -z "${UNIT_SUMMARY:-}" ] || echo "$passed passed, $failed failed" >"$UNIT_SUMMARY"
[ "$failed" -eq 0 ]
