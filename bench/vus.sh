#!/usr/bin/env bash
# Memory of many virtual users: peak resident memory of `scalelab quick -c VUS` holding VUS keep-alive
# connections to a stress service on loopback that answers after 1 s (so every VU is always busy).
#
#   bash bench/vus.sh            # 10,000 VUs for 15 s
#   VUS=2000 DUR=10s bash bench/vus.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
VUS=${VUS:-10000}
DUR=${DUR:-15s}
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
(cd "$root" && cargo build --release --locked --bin scalelab)
scalelab=$root/target/release/scalelab
work=$(mktemp -d)
"$scalelab" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>/dev/null &
serve=$!
trap 'kill $serve 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do grep -q listening "$work/serve.out" && break; sleep 0.1; done
target=$(awk '/listening/ { print $NF }' "$work/serve.out")
/usr/bin/time -v "$scalelab" quick "$target/timeout?ms=1000" -c "$VUS" -z "$DUR" --quiet >"$work/quick.out" 2>"$work/time.out"
rss_kb=$(awk -F': ' '/Maximum resident/ { print $2 }' "$work/time.out")
cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { print u + s }' "$work/time.out")
echo "vus: $VUS  duration: $DUR  peak RSS: $((rss_kb / 1024)) MB  ($((rss_kb / VUS)) kB per VU)  loader CPU: ${cpu} s"
grep -E "requests\.\.|throughput|max vus" "$work/quick.out"
