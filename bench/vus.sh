#!/usr/bin/env bash
# Memory of many virtual users: peak resident memory of `scalelab quick -c VUS` holding VUS keep-alive
# connections to a stress service on loopback that answers after 1 s (so every VU is always busy).
#
#   bash bench/vus.sh            # 10,000 VUs for 15 s
#   VUS=2000 DUR=10s bash bench/vus.sh
#
# Every VU holds a connection to one address, so VUS is bounded by the ephemeral ports
# (net.ipv4.ip_local_port_range: 28,232 by default) and by the open-file limit, which the script
# raises for itself (beyond the hard limit only as root). Needs GNU time (apt-get install time).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
VUS=${VUS:-10000}
DUR=${DUR:-15s}
[[ $VUS =~ ^[1-9][0-9]*$ ]] || { echo "vus.sh: VUS must be a positive integer" >&2; exit 2; }
read -r low high </proc/sys/net/ipv4/ip_local_port_range
((VUS < high - low + 1)) || {
  echo "vus.sh: $VUS connections to one address need more than the $((high - low + 1)) ephemeral ports (net.ipv4.ip_local_port_range $low-$high)" >&2
  exit 1
}
ulimit -n $((VUS + 1024)) 2>/dev/null || {
  echo "vus.sh: cannot raise the open-file limit to $((VUS + 1024)) (hard limit $(ulimit -Hn))" >&2
  exit 1
}
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
