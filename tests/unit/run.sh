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
	# A binary may run several groups: each reports its own counts.
	sum() { printf '%s\n' "$out" | sed -n "s/^$1 \\([0-9]*\\) test.*/\\1/p" | awk '{ s += $1 } END { if (NR) print s }'; }
	total=$(sum '\[==========\] Running')
	p=$(sum '\[  PASSED  \]')
	f=$(sum '\[  FAILED  \]')
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
