#!/usr/bin/env bash
# k6 scripts against native plans: requests per second, and per second of loader CPU, of a script
# doing one GET and a check next to the same test as a native plan (same VUs, same endpoint), in
# PASSES alternating passes; user-space instructions per request of both, counted by callgrind
# (marginal: the difference between runs of SHORT and LONG iterations, so start-up cancels out; free
# of the timing noise of a shared machine); then the peak resident memory of a script's VUs (each a
# coroutine with its own QuickJS context) at VUS_LIST virtual users, each waiting on a 1 s endpoint.
#
#   bash bench/script.sh                         # 20 VUs, 3 passes of 10 s; memory at 1,000 and 10,000 VUs
#   VUS=50 DUR=20s PASSES=5 VUS_LIST="1000" bash bench/script.sh
#
# Needs GNU time and valgrind (installed with apt-get when missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
VUS=${VUS:-20}
DUR=${DUR:-10s}
VUS_LIST=${VUS_LIST:-"1000 10000"}
PASSES=${PASSES:-3}
SHORT=${SHORT:-1000}
LONG=${LONG:-6000}
for n in $VUS $VUS_LIST $PASSES $SHORT $LONG; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "script.sh: VUS and VUS_LIST must be positive integers" >&2; exit 2; }
done
((LONG > SHORT)) || { echo "script.sh: LONG must exceed SHORT" >&2; exit 2; }
if ! command -v valgrind >/dev/null || ! command -v /usr/bin/time >/dev/null; then
  apt-get update -qq && apt-get install -y -qq time valgrind >/dev/null
fi
(cd "$root" && cargo build --release --locked --bin scalelab)
scalelab=$root/target/release/scalelab
work=$(mktemp -d)
"$scalelab" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>/dev/null &
serve=$!
trap 'kill $serve 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do grep -q listening "$work/serve.out" && break; sleep 0.1; done
target=$(awk '/listening/ { print $NF }' "$work/serve.out")
[[ -n $target ]] || { echo "script.sh: the stress service did not start" >&2; exit 1; }

cat >"$work/plan.yaml" <<PLAN
target: $target
vus: $VUS
duration: $DUR
requests: [{name: ping, path: /ping, checks: {status: 200}}]
PLAN
cat >"$work/ping.js" <<'JS'
import http from 'k6/http';
import { check } from 'k6';
export const options = { vus: Number(__ENV.VUS), duration: __ENV.DUR };
export default function () {
  const res = http.get(`${__ENV.TARGET}/ping`, { tags: { name: 'ping' } });
  check(res, { 'status is 200': (r) => r.status === 200 });
}
JS
cat >"$work/idle.js" <<'JS'
import http from 'k6/http';
export const options = { vus: Number(__ENV.VUS), duration: __ENV.DUR };
export default function () {
  http.get(`${__ENV.TARGET}/timeout?ms=1000`, { tags: { name: 'wait' } });
}
JS

# One loader thread for both, so "per loader core" compares like with like.
measure() { # name, then the command
  local name=$1; shift
  /usr/bin/time -v "$@" --threads 1 --quiet >"$work/$name.out" 2>"$work/$name.time" || true
  local rps cpu
  rps=$(awk '/throughput\.\./ { gsub(",", "", $2); print $2 }' "$work/$name.out")
  cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { print u + s }' "$work/$name.time")
  [[ -n $rps ]] || { echo "script.sh: $name measured nothing:" >&2; cat "$work/$name.out" "$work/$name.time" >&2; exit 1; }
  local secs=${DUR%s}
  echo "$name: $rps requests/s, loader CPU $cpu s over $DUR = $(awk -v r="$rps" -v c="$cpu" -v d="$secs" 'BEGIN { printf "%.0f", r * d / c }') requests per CPU-second"
}
[[ $DUR =~ ^[0-9]+s$ ]] || { echo "script.sh: DUR must be seconds, e.g. 10s" >&2; exit 2; }
for pass in $(seq "$PASSES"); do
  echo "pass $pass"
  measure native "$scalelab" run "$work/plan.yaml"
  measure script "$scalelab" run "$work/ping.js" -e VUS="$VUS" -e DUR="$DUR" -e TARGET="$target"
done

# The same tests with a fixed number of iterations (shared-iterations), under callgrind.
for n in "$SHORT" "$LONG"; do
  cat >"$work/count-$n.yaml" <<PLAN
target: $target
vus: $VUS
iterations: $n
requests: [{name: ping, path: /ping, checks: {status: 200}}]
PLAN
done
cat >"$work/count.js" <<'JS'
import http from 'k6/http';
import { check } from 'k6';
export const options = { vus: Number(__ENV.VUS), iterations: Number(__ENV.N) };
export default function () {
  const res = http.get(`${__ENV.TARGET}/ping`, { tags: { name: 'ping' } });
  check(res, { 'status is 200': (r) => r.status === 200 });
}
JS
instructions() { # kind (native or script), iterations; prints the instructions callgrind counted
  local test=("$work/count-$2.yaml")
  [[ $1 == script ]] && test=("$work/count.js" -e VUS="$VUS" -e N="$2" -e TARGET="$target")
  valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" "$scalelab" run "${test[@]}" \
    --threads 1 --quiet >"$work/callgrind.stdout" 2>"$work/callgrind.err" || true
  awk '/Collected/ { print $NF }' "$work/callgrind.err"
}
for kind in native script; do
  short=$(instructions "$kind" "$SHORT")
  long=$(instructions "$kind" "$LONG")
  [[ -n $short && -n $long ]] || { echo "script.sh: callgrind counted nothing for $kind:" >&2; cat "$work/callgrind.err" >&2; exit 1; }
  echo "$kind: $(( (long - short) / (LONG - SHORT) )) user-space instructions per request (callgrind, marginal over $SHORT..$LONG iterations)"
done

for vus in $VUS_LIST; do
  /usr/bin/time -v "$scalelab" run "$work/idle.js" -e VUS="$vus" -e DUR=15s -e TARGET="$target" \
    --quiet >"$work/idle.out" 2>"$work/idle.time" || true
  rss_kb=$(awk -F': ' '/Maximum resident/ { print $2 }' "$work/idle.time")
  peak=$(awk '/max vus/ { print $3 }' "$work/idle.out")
  [[ -n $peak ]] || { echo "script.sh: $vus VUs measured nothing:" >&2; cat "$work/idle.out" "$work/idle.time" >&2; exit 1; }
  echo "script VUs: $vus (peak running: $peak)  peak RSS: $((rss_kb / 1024)) MB  ($((rss_kb / vus)) kB per VU)"
done
