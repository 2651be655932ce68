#!/bin/bash
# Judge a VM console log written by tests/vm/run.sh.
#   parse-log.sh [--kernel K] [--mode test|demo] [--qemu-status N] [--wall S]
#                CONSOLE.LOG [RESULTS.TXT]
# Counts the in-VM "PASS/FAIL/SKIP name" lines, and adds failures for
#   vm-boot    the VM never reached its init (no ASH-VM-BEGIN)
#   vm-end     it never reached ASH-VM-END (crash, panic, hang, timeout)
#   kernel-log a kernel complaint on the console outside any case (the init
#              checks the kernel log during boot and inside each case itself)
# Prints the results and, last, "N passed, N failed, N skipped".  Exit status
# 1 on any failure or when no test ran.
set -euo pipefail
kernel='?' mode=test qrc='?' wall='?'
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--mode) mode=$2; shift 2 ;;
	--qemu-status) qrc=$2; shift 2 ;;
	--wall) wall=$2; shift 2 ;;
	*) break ;;
	esac
done
log=${1:?usage: parse-log.sh [options] CONSOLE.LOG [RESULTS.TXT]}
results=${2:-}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

# COMPLAINTS and BENIGN, as the init in the VM uses them.
. "$(dirname "$0")/kernel-log-patterns"

awk -v C="$COMPLAINTS" -v B="$BENIGN" -v mode="$mode" -v qrc="$qrc" '
function add(v, n, rest) { res[++nres] = v " " n rest; cnt[v]++ }
/ASH-VM-BEGIN/ { begun = 1; boot_kcount = kcount; next }
/ASH-VM-END/ { ended = 1; next }
/^=== CASE .* BEGIN/ { incase = 1; next }
/^=== CASE .* END/ { incase = 0; next }
/^(PASS|FAIL|SKIP) [^ ]/ { n = $2; rest = substr($0, length($1) + length($2) + 3)
	add($1, n, rest == "" ? "" : " " rest); next }
$0 ~ C && $0 !~ B && !incase { k[++kcount] = $0; if (begun) outside++ }
END {
	if (!begun) {
		add("FAIL", "vm-boot", " (init never started; qemu status " qrc ")")
		for (i = 1; i <= kcount && i <= 40; i++) print "  kernel: " k[i] > "/dev/stderr"
	} else if (outside) {
		add("FAIL", "kernel-log", " (" outside " kernel complaint lines outside the cases)")
		for (i = boot_kcount + 1; i <= kcount && i <= boot_kcount + 40; i++)
			print "  kernel: " k[i] > "/dev/stderr"
	}
	if (begun && !ended)
		add("FAIL", "vm-end", " (VM stopped before the end marker: crash, panic or timeout; qemu status " qrc ")")
	if (mode == "demo" && begun && ended && !cnt["FAIL"]) add("PASS", "demo", "")
	for (i = 1; i <= nres; i++) print res[i]
	if (cnt["PASS"] + cnt["FAIL"] + cnt["SKIP"] == 0) print "FAIL: no test ran"
	printf "%d passed, %d failed, %d skipped\n", cnt["PASS"], cnt["FAIL"], cnt["SKIP"]
	exit (cnt["FAIL"] > 0 || cnt["PASS"] + cnt["FAIL"] + cnt["SKIP"] == 0) ? 1 : 0
}' "$log" > "$tmp" && rc=0 || rc=$?
# Keep the summary line last: print the header first, then the results file.
echo
echo "==== VM results ($kernel kernel, $mode, ${wall}s wall, console log: $log)"
[ -z "$results" ] || cp "$tmp" "$results"
cat "$tmp"
exit $rc
