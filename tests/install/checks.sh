# SPDX-License-Identifier: MIT
# The PASS/FAIL bookkeeping of the install and package checks, sourced with
# $out set: each check's output goes to $out/NAME.log.
pass=0 fail=0

ok() { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
check() {	# check NAME WHY COMMAND...
	local name=$1 why=$2
	shift 2
	if "$@" >"$out/$name.log" 2>&1; then ok "$name"; else bad "$name" "$why (log: $out/$name.log)"; fi
}
