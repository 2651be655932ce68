#!/bin/bash
# SPDX-License-Identifier: MIT
# The loader's streaming core against fio (io_uring, sequential read, same
# block size and queue depth, same file), a plain read() loop and mmap +
# memcpy, cold and warm; prints GB/s (10^9 bytes/s) and the ratios.  Run by
# "make bench"; runs natively on the host.
#
#   BENCH_SIZE   test file size (default 2G; K, M, G suffixes)
#   BENCH_QD     queue depth (default 16)
#   BENCH_CHUNK  bytes per read (default 1M)
#   BENCH_RUNS   runs per measurement, the median is shown (default 3)
#   BENCH_DIR    where the file goes (default build/bench; must be a disk,
#                not a tmpfs)
set -euo pipefail

bin=${BENCH_BIN:-build/bench/loader_bench}
dir=${BENCH_DIR:-build/bench}
size=$(numfmt --from=iec "${BENCH_SIZE:-2G}")
qd=${BENCH_QD:-16}
chunk=$(numfmt --from=iec "${BENCH_CHUNK:-1M}")
runs=${BENCH_RUNS:-3}
file=$dir/loader-bench.bin

command -v fio >/dev/null || { echo "bench: fio is not installed" >&2; exit 1; }
command -v jq >/dev/null || { echo "bench: jq is not installed" >&2; exit 1; }
mkdir -p "$dir"
if [ "$(stat -c %s "$file" 2>/dev/null || echo 0)" != "$size" ]; then
	echo "bench: writing a $(numfmt --to=iec "$size") test file $file" >&2
	"$bin" create "$file" "$size"
fi
fstype=$(stat -f -c %T "$dir")

# Cold: drop the page cache if we may, else drop just this file's pages
# (posix_fadvise DONTNEED works for clean pages without root).
if [ -w /proc/sys/vm/drop_caches ] && echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then
	cold_how="drop_caches"
	evict() { sync; echo 3 > /proc/sys/vm/drop_caches; }
else
	cold_how="fadvise(DONTNEED) of the file"
	evict() { "$bin" evict "$file"; }
fi
warm() { cat "$file" > /dev/null; }

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

fio_gbs() {	# direct
	fio --name=seq --ioengine=io_uring --rw=read --bs="$chunk" \
	    --iodepth="$qd" --direct="$1" --invalidate=0 --filename="$file" \
	    --size="$size" --output-format=json 2>/dev/null |
		jq -r '.jobs[0].read.bw_bytes / 1e9'
}

# measure PREP CMD...: the median of $runs runs of CMD, each after PREP;
# warns if a cold run started with the file still cached.
measure() {
	local prep=$1 r v; shift
	for ((r = 0; r < runs; r++)); do
		$prep
		if [ "$prep" = evict ]; then
			c=$("$bin" cached "$file")
			[ "$c" -le 5 ] || echo "bench: warning: $c% of the file cached before a cold run" >&2
		fi
		v=$("$@" 2>/dev/null)
		echo "$v"
	done | median
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

echo "file: $(numfmt --to=iec "$size") on $fstype ($dir), block $(numfmt --to=iec "$chunk"), queue depth $qd, median of $runs; cold = $cold_how"

# cold
c_ld=$(measure evict "$bin" stream "$file" "$qd" "$chunk" 1)
c_fd=$(measure evict fio_gbs 1)
c_lb=$(measure evict "$bin" stream "$file" "$qd" "$chunk" 0)
c_fb=$(measure evict fio_gbs 0)
c_rd=$(measure evict "$bin" read "$file" "$chunk")
c_mm=$(measure evict "$bin" mmap "$file")
# warm
w_lb=$(measure warm "$bin" stream "$file" "$qd" "$chunk" 0)
w_fb=$(measure warm fio_gbs 0)
w_rd=$(measure warm "$bin" read "$file" "$chunk")
w_mm=$(measure warm "$bin" mmap "$file")

printf '\n%-6s %-34s %8s %10s %10s %10s\n' cache method GB/s "vs fio" "vs read" "vs mmap"
row() { printf '%-6s %-34s %8.2f %10s %10s %10s\n' "$1" "$2" "$3" "$4" "$5" "$6"; }
row cold "loader, O_DIRECT"            "$c_ld" "$(ratio "$c_ld" "$c_fd")" "$(ratio "$c_ld" "$c_rd")" "$(ratio "$c_ld" "$c_mm")"
row cold "fio io_uring, direct=1"      "$c_fd" "" "" ""
row cold "loader, buffered"            "$c_lb" "$(ratio "$c_lb" "$c_fb")" "$(ratio "$c_lb" "$c_rd")" "$(ratio "$c_lb" "$c_mm")"
row cold "fio io_uring, direct=0"      "$c_fb" "" "" ""
row cold "read() loop"                 "$c_rd" "" "" ""
row cold "mmap + memcpy"               "$c_mm" "" "" ""
row warm "loader, buffered"            "$w_lb" "$(ratio "$w_lb" "$w_fb")" "$(ratio "$w_lb" "$w_rd")" "$(ratio "$w_lb" "$w_mm")"
row warm "fio io_uring, direct=0"      "$w_fb" "" "" ""
row warm "read() loop"                 "$w_rd" "" "" ""
row warm "mmap + memcpy"               "$w_mm" "" "" ""
echo
echo "target: loader >= 0.95x fio, cold and warm, and faster than read() and mmap + memcpy"
