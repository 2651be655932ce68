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

# fio as above, in a process that also holds a resident buffer of the file's
# size, as the loader holds its destination (a device buffer is memory of the
# tenant's process).  fio itself reads into only QD x CHUNK bytes, and on
# some hosts (gVisor sandboxes) the mere presence of a large resident region
# in the reading process slows cold buffered reads several times, for every
# reader alike; this baseline reads under the loader's conditions.  A second
# fio thread (--thread: same address space) fills the region with its one
# null-engine write and sleeps; the reading job starts once it is filled.
fio_resident_gbs() {	# direct
	fio --thread --exitall --output-format=json \
	    --name=resident --ioengine=null --rw=write --bs="$size" \
	    --size="$size" --zero_buffers --time_based --runtime=600 \
	    --thinktime=600000000 \
	    --name=seq --startdelay="$resident_delay" --ioengine=io_uring \
	    --rw=read --bs="$chunk" --iodepth="$qd" --direct="$1" \
	    --invalidate=0 --filename="$file" --size="$size" 2>/dev/null |
		jq -r '.jobs[] | select(.jobname == "seq") | .read.bw_bytes / 1e9'
}
# Seconds for fio to fill the resident buffer: 4 s per GiB here, measured.
resident_delay=$(( (size + (1 << 30) - 1) / (1 << 30) * 4 ))

# The methods, as KEY PREP CMD...; measured in rounds: each round runs every
# method once, in this order, so that drift in the host's storage caches
# (large on virtual disks) touches every method alike rather than the one
# measured while it lasts.  Each value is the median of $runs rounds.
methods=(
	"c_la evict $bin stream $file $qd $chunk auto"
	"c_fd evict fio_gbs 1"
	"c_fb evict fio_gbs 0"
	"c_lb evict $bin stream $file $qd $chunk 0"
	"c_fr evict fio_resident_gbs 0"
	"c_rd evict $bin read $file $chunk"
	"c_mm evict $bin mmap $file"
	"w_la warm $bin stream $file $qd $chunk auto"
	"w_fb warm fio_gbs 0"
	"w_fr warm fio_resident_gbs 0"
	"w_rd warm $bin read $file $chunk"
	"w_mm warm $bin mmap $file"
)
vals=$(mktemp)
trap 'rm -f "$vals"' EXIT
# one PREP CMD...: one run of CMD after PREP; warns if a cold run started
# with the file still cached.
one() {
	local prep=$1; shift
	$prep
	if [ "$prep" = evict ]; then
		c=$("$bin" cached "$file")
		[ "$c" -le 5 ] || echo "bench: warning: $c% of the file cached before a cold run" >&2
	fi
	"$@" 2>/dev/null
}
case $bin$file in *[[:space:]]*)
	echo "bench: $bin and $file must not contain spaces" >&2; exit 1 ;;
esac
echo "file: $(numfmt --to=iec "$size") on $fstype ($dir), block $(numfmt --to=iec "$chunk"), queue depth $qd, median of $runs; cold = $cold_how"
c_pol=$(evict; "$bin" policy "$file")
w_pol=$(warm; "$bin" policy "$file")
for ((r = 0; r < runs; r++)); do
	echo "bench: round $((r + 1)) of $runs" >&2
	for m in "${methods[@]}"; do
		# shellcheck disable=SC2086 # the words of a method, split
		set -- $m
		key=$1; shift
		echo "$key $(one "$@")" >> "$vals"
	done
done
for m in "${methods[@]}"; do
	key=${m%% *}
	printf -v "$key" '%s' "$(awk -v k="$key" '$1 == k {print $2}' "$vals" | median)"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }


# The default load is compared with fio in the I/O mode the loader chose,
# and where it measured which mode is faster, with fio's faster mode.
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'; }
fsame() {	# policy direct-rate buffered-rate
	case $1 in
	O_DIRECT) echo "$2" ;;
	measured) best "$2" "$3" ;;
	*) echo "$3" ;;
	esac
}
c_fsame=$(fsame "$c_pol" "$c_fd" "$c_fb")
w_fsame=$(fsame "$w_pol" "$c_fd" "$w_fb")

printf '\n%-6s %-40s %8s %8s %10s %8s %8s\n' cache method GB/s "vs fio" "vs fio+res" "vs read" "vs mmap"
row() { printf '%-6s %-40s %8.2f %8s %10s %8s %8s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7"; }
row cold "loader, default (chose $c_pol)"  "$c_la" "$(ratio "$c_la" "$c_fsame")" "" "$(ratio "$c_la" "$c_rd")" "$(ratio "$c_la" "$c_mm")"
row cold "loader, buffered (direct_io = -1)" "$c_lb" "$(ratio "$c_lb" "$c_fb")" "$(ratio "$c_lb" "$c_fr")" "$(ratio "$c_lb" "$c_rd")" "$(ratio "$c_lb" "$c_mm")"
row cold "fio io_uring, direct=1"          "$c_fd" "" "" "" ""
row cold "fio io_uring, direct=0"          "$c_fb" "" "" "" ""
row cold "fio direct=0 + resident dest"    "$c_fr" "" "" "" ""
row cold "read() loop"                     "$c_rd" "" "" "" ""
row cold "mmap + memcpy"                   "$c_mm" "" "" "" ""
row warm "loader, default (chose $w_pol)"  "$w_la" "$(ratio "$w_la" "$w_fsame")" "$(ratio "$w_la" "$w_fr")" "$(ratio "$w_la" "$w_rd")" "$(ratio "$w_la" "$w_mm")"
row warm "fio io_uring, direct=0"          "$w_fb" "" "" "" ""
row warm "fio direct=0 + resident dest"    "$w_fr" "" "" "" ""
row warm "read() loop"                     "$w_rd" "" "" "" ""
row warm "mmap + memcpy"                   "$w_mm" "" "" "" ""
echo
echo "vs fio: against fio in the I/O mode the loader used (default: when the file"
echo "is not cached, the faster of O_DIRECT and buffered, which the loader measures"
echo "as it reads, against fio's faster mode; the page cache when it is cached)."
echo "vs fio+res: against fio"
echo "reading under the loader's memory conditions (a resident buffer of the"
echo "file's size in its process; see the comment in bench/run.sh)."
echo "target: loader >= 0.95x fio, cold and warm, and faster than read() and mmap + memcpy"
