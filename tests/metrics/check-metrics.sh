#!/bin/bash
# SPDX-License-Identifier: MIT
# accelshare-accountd's /metrics as Prometheus's own tools read it:
#  - promtool check metrics accepts the text format (0.0.4): no errors, no
#    lint findings;
#  - a Prometheus server on loopback scrapes it (OpenMetrics, as it asks
#    for), the target is up, and queries give the figures served.
# Usage: check-metrics.sh SERVE_BINARY OUT_DIR; PASS/FAIL lines and
# "N passed, N failed", also in OUT_DIR/summary.txt.
set -uo pipefail
serve=${1:?usage: check-metrics.sh SERVE_BINARY OUT_DIR}
out=${2:?usage: check-metrics.sh SERVE_BINARY OUT_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$out"
mkdir -p "$out"
# shellcheck source=tests/install/checks.sh
. "$root/tests/install/checks.sh"

# GET URL [ACCEPT]: the body on stdout.
get() {
	python3 - "$@" <<'PY'
import sys, urllib.request
req = urllib.request.Request(sys.argv[1])
if len(sys.argv) > 2:
    req.add_header("Accept", sys.argv[2])
sys.stdout.write(urllib.request.urlopen(req, timeout=10).read().decode())
PY
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

"$serve" > "$out/port" 2> "$out/serve.log" &
spid=$!
for _ in $(seq 50); do [ -s "$out/port" ] && break; sleep 0.1; done
port=$(cat "$out/port")
trap 'kill $spid 2>/dev/null; [ -n "${ppid:-}" ] && kill $ppid 2>/dev/null' EXIT

get "http://127.0.0.1:$port/metrics" > "$out/metrics.txt"
check promtool "promtool check metrics complained" \
	sh -c "out=\$(promtool check metrics < '$out/metrics.txt' 2>&1) &&
	       [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
get "http://127.0.0.1:$port/metrics" "application/openmetrics-text;version=1.0.0" \
	> "$out/metrics.om"
check openmetrics_eof "the OpenMetrics exposition does not end with # EOF" \
	sh -c "tail -n 1 '$out/metrics.om' | grep -qx '# EOF'"

pport=$(free_port)
cat > "$out/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: accelshare
    static_configs:
      - targets: ["127.0.0.1:$port"]
YML
prometheus --config.file="$out/prometheus.yml" --storage.tsdb.path="$out/tsdb" \
	--web.listen-address="127.0.0.1:$pport" > "$out/prometheus.log" 2>&1 &
ppid=$!

# QUERY: the first result's value, once Prometheus has one.
query() {
	python3 - "http://127.0.0.1:$pport/api/v1/query" "$1" <<'PY'
import json, sys, time, urllib.parse, urllib.request
url = sys.argv[1] + "?" + urllib.parse.urlencode({"query": sys.argv[2]})
for _ in range(300):
    try:
        r = json.load(urllib.request.urlopen(url, timeout=5))
        if r["data"]["result"]:
            print(r["data"]["result"][0]["value"][1])
            sys.exit(0)
    except Exception:
        pass
    time.sleep(0.1)
sys.exit(1)
PY
}

scraped() { [ "$(query 'up{job="accelshare"}')" = 1 ]; }
same_values() {
	[ "$(query 'accelshare_partition_engine_seconds_total{partition="acme"}')" = 1.5 ] &&
	[ "$(query 'accelshare_partition_memory_bytes{partition="globex",kind="private"}')" = 8388608 ] &&
	[ "$(query 'sum(accelshare_partition_engine_seconds_total)')" = 2.5 ] &&
	[ "$(query 'accelshare_device_engine_up')" = 1 ]
}
check prometheus_up "Prometheus did not scrape the target (log: $out/prometheus.log)" scraped
check prometheus_values "Prometheus's figures differ from those served" same_values

echo "$pass passed, $fail failed" | tee "$out/summary.txt"
[ "$fail" -eq 0 ]
