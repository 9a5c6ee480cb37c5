#!/usr/bin/env bash
# End to end: a real Prometheus server (Debian's package) scrapes `scalelab quick --metrics-addr`
# during a short run, and its HTTP API then returns the run's series. Everything on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v prometheus >/dev/null || { echo "prometheus is missing: run .ci/install-packages"; exit 1; }
cargo build --quiet --locked --bin scalelab
scalelab=target/debug/scalelab
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
metrics_port=$(free_port)
prometheus_port=$(free_port)

"$scalelab" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>/dev/null &
pids+=($!)
for _ in $(seq 50); do grep -q listening "$work/serve.out" && break; sleep 0.1; done
target=$(awk '/listening/ { print $NF }' "$work/serve.out")

cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: scalelab
    static_configs: [{targets: ["127.0.0.1:$metrics_port"]}]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$prometheus_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)

"$scalelab" quick "$target/ping" -c 2 -z 8s --quiet --metrics-addr "127.0.0.1:$metrics_port" >"$work/quick.out" 2>&1

python3 - "$prometheus_port" <<'PY'
import json, sys, urllib.parse, urllib.request
port = sys.argv[1]
def query(expr):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as answer:
        body = json.load(answer)
    assert body["status"] == "success", body
    return body["data"]["result"]
requests = query('scalelab_http_requests_total{scenario="quick",name="/ping",status="200"}')
assert requests and float(requests[0]["value"][1]) > 100, f"no request counter scraped: {requests}"
histogram = query('scalelab_http_request_duration_seconds_count{name="/ping"}')
assert histogram and float(histogram[0]["value"][1]) > 100, f"no latency histogram scraped: {histogram}"
assert query("scalelab_vus"), "no vus gauge scraped"
print(f"prometheus e2e: ok ({float(requests[0]['value'][1]):.0f} requests seen by Prometheus)")
PY
