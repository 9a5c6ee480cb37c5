#!/usr/bin/env bash
# End to end: a real Prometheus server (Debian's package) scrapes `scalelab quick --metrics-addr`
# while the run is live, and its HTTP API returns the run's series before the run is stopped.
# Everything on 127.0.0.1; scalelab binds port 0 and says which port it got; Prometheus is retried on
# another port if the one picked for it was taken meanwhile. Every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v prometheus >/dev/null || { echo "prometheus is missing: run .ci/install-packages"; exit 1; }
cargo build --quiet --locked --bin scalelab
scalelab=target/debug/scalelab
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "prometheus e2e: FAILED: $*" >&2; for log in "$work"/*.out "$work"/*.log; do [ -f "$log" ] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }; done; exit 1; }

# Waits up to $1 seconds for the line matching $2 in file $3 and prints its last field.
await_line() {
  for _ in $(seq $(($1 * 10))); do
    line=$(grep -m1 "$2" "$3" || true)
    [ -n "$line" ] && { echo "${line##* }"; return 0; }
    sleep 0.1
  done
  return 1
}

"$scalelab" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>&1 &
pids+=($!)
target=$(await_line 30 listening "$work/serve.out") || fail "the stress service did not start"

# A long run, stopped as soon as Prometheus has seen its series.
"$scalelab" quick "$target/ping" -c 2 -z 300s --quiet --metrics-addr 127.0.0.1:0 >"$work/quick.out" 2>&1 &
quick=$!
pids+=($quick)
metrics_url=$(await_line 30 '^metrics: http://' "$work/quick.out") || fail "quick did not serve metrics"
metrics_hostport=${metrics_url#http://}
metrics_hostport=${metrics_hostport%/metrics}

cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: scalelab
    static_configs: [{targets: ["$metrics_hostport"]}]
YAML

# Prometheus cannot report a port it chose itself: pick a free one, and pick again if Prometheus
# exits because another process bound it between the pick and Prometheus's own bind.
ready_at() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/-/ready", timeout=2)' "$1" 2>/dev/null; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ready=
for attempt in 1 2 3 4 5; do
  prometheus_port=$(free_port)
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data-$attempt" \
    --web.listen-address="127.0.0.1:$prometheus_port" >"$work/prometheus-$attempt.log" 2>&1 &
  prometheus=$!
  pids+=($prometheus)
  for _ in $(seq 600); do # up to 60 s for /-/ready
    kill -0 "$prometheus" 2>/dev/null || break
    if ready_at "$prometheus_port"; then ready=1; break; fi
    sleep 0.1
  done
  [ -n "$ready" ] && break
  kill "$prometheus" 2>/dev/null || true
  echo "prometheus did not become ready on port $prometheus_port (attempt $attempt); retrying" >&2
done
[ -n "$ready" ] || fail "Prometheus never became ready"
kill -0 "$quick" 2>/dev/null || fail "the run ended before Prometheus was ready"

python3 - "$prometheus_port" <<'PY' || fail "Prometheus did not return the run's series"
import json, sys, time, urllib.parse, urllib.request
port = sys.argv[1]
def query(expr):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as answer:
        body = json.load(answer)
    assert body["status"] == "success", body
    return body["data"]["result"]
def value(result):
    return float(result[0]["value"][1]) if result else 0.0
requests_q = 'scalelab_http_requests_total{scenario="quick",name="/ping",status="200"}'
histogram_q = 'scalelab_http_request_duration_seconds_count{scenario="quick",name="/ping"}'
deadline = time.monotonic() + 120
while True:
    requests, histogram, vus = query(requests_q), query(histogram_q), query("scalelab_vus")
    if value(requests) > 100 and value(histogram) > 100 and value(vus) == 2:
        break
    if time.monotonic() > deadline:
        sys.exit(f"after 120 s: requests {requests}, histogram {histogram}, vus {vus}")
    time.sleep(0.5)
up = query('up{job="scalelab"}')
assert value(up) == 1, f"Prometheus does not see the run's endpoint up: {up}"
print(f"prometheus e2e: ok ({value(requests):.0f} requests, {value(histogram):.0f} latencies seen by Prometheus during the run)")
PY

kill -TERM "$quick"
set +e
wait "$quick"
code=$?
set -e
[ "$code" -eq 105 ] || fail "quick stopped by SIGTERM exited with $code, not 105 (interrupted)"
