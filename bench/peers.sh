#!/usr/bin/env bash
# scalelab beside its peers (wrk, h2load; oha, hey on request) against the same private nginx on
# loopback, with the shared harness (../../shared/bench/peers.sh): loader pinned to core 0, nginx to
# core 1. The harness installs what is missing (apt-get install nginx wrk nghttp2-client time).
#
#   bash bench/peers.sh                       # 50 connections, closed loop and 20,000 req/s
#   CONNS=1 bash bench/peers.sh               # latency-bound
#   PEERS="wrk h2load oha" RATE=50000 bash bench/peers.sh
#
# Environment as the harness reads it (CONNS, DUR, RATE, URLPATH, PEERS, OUT, ...). Results go to
# bench/out/<conns>c by default; the figures measured on the project's machine kind are in README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
harness=${HARNESS:-$root/../shared/bench/peers.sh}
[[ -f $harness ]] || { echo "harness not found: $harness (keep shared/ beside the repository)"; exit 1; }
if [[ -z ${SCALELAB:-} ]]; then   # SCALELAB=path measures another build
  (cd "$root" && cargo build --release --locked --bin scalelab)
  SCALELAB=$root/target/release/scalelab
fi
# The harness reads scalelab's output loosely ("Requests/sec: N", "N requests", no thousands
# separators): a wrapper appends those two lines, taken from the summary, to quick's own output.
wrapper=$(mktemp -d)/scalelab-quick
cat >"$wrapper" <<WRAPPER
#!/bin/sh
out=\$("$SCALELAB" "\$@"); status=\$?
printf '%s\n' "\$out"
printf '%s\n' "\$out" | tr -d , | awk '/^  throughput\./ { print "Requests/sec: " \$2 } /^  requests\./ { print \$2 " requests" }'
exit \$status
WRAPPER
chmod +x "$wrapper"
SCALELAB=$wrapper
export SCALELAB
export PEERS=${PEERS:-"wrk h2load"}
export OUT=${OUT:-$here/out/${CONNS:-50}c}
# Run from a scratch directory, so nothing the harness leaves behind lands in the repository.
cd "$(mktemp -d)"
exec bash "$harness"
