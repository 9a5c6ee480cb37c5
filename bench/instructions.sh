#!/usr/bin/env bash
# User-space instructions per request of `scalelab quick` and wrk against the same private nginx on
# loopback, counted by valgrind's callgrind: free of timing noise, so a change to the client can be
# judged on a busy machine. The figure is marginal — (instructions of a long run − of a short run) /
# (their difference in requests) — so start-up and shutdown cancel out.
#
#   bash bench/instructions.sh                   # 50 connections
#   CONNS=1 SHORT=1000 LONG=10000 bash bench/instructions.sh
#
# Needs valgrind, nginx and wrk (Debian: apt-get install -y valgrind nginx wrk); installs them with
# apt-get when missing and run as root. SCALELAB=path measures another build (default: a release
# build of this tree).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
CONNS=${CONNS:-50}
SHORT=${SHORT:-2000}     # requests of scalelab's short run
LONG=${LONG:-20000}      # ... and of its long run
WRK_SHORT=${WRK_SHORT:-1}  # seconds of wrk's runs under callgrind (wrk has no request count)
WRK_LONG=${WRK_LONG:-4}
for v in CONNS SHORT LONG WRK_SHORT WRK_LONG; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "instructions.sh: $v must be a positive integer" >&2; exit 2; }
done
((LONG > SHORT && WRK_LONG > WRK_SHORT)) || { echo "instructions.sh: LONG must exceed SHORT" >&2; exit 2; }
export PATH="$PATH:/usr/sbin:/sbin"

missing=()
for tool in valgrind:valgrind nginx:nginx wrk:wrk curl:curl; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if ((${#missing[@]})); then
  ((EUID == 0)) || { echo "instructions.sh: missing ${missing[*]}: apt-get install -y ${missing[*]}" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [[ -z ${SCALELAB:-} ]]; then
  (cd "$root" && cargo build --release --locked --bin scalelab)
  SCALELAB=$root/target/release/scalelab
fi

work=$(mktemp -d)
nginx_pid=
cleanup() { [[ -n $nginx_pid ]] && kill "$nginx_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/logs" "$work/tmp"
chmod 755 "$work"
port=
for _ in $(seq 20); do
  p=$((20000 + RANDOM % 40000))
  cat >"$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_timeout 75s;
    keepalive_requests 100000000;
    client_body_temp_path $work/tmp/body;
    proxy_temp_path $work/tmp/proxy;
    fastcgi_temp_path $work/tmp/fastcgi;
    uwsgi_temp_path $work/tmp/uwsgi;
    scgi_temp_path $work/tmp/scgi;
    server {
        listen 127.0.0.1:$p;
        location = /ping { default_type text/plain; return 200 "pong"; }
    }
}
EOF
  nginx -p "$work" -c "$work/nginx.conf" -g 'daemon off;' </dev/null >/dev/null 2>&1 &
  nginx_pid=$!
  for _ in $(seq 50); do
    if curl -fsS --max-time 1 "http://127.0.0.1:$p/ping" 2>/dev/null | grep -q pong; then port=$p; break; fi
    kill -0 "$nginx_pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n $port ]] && break
  kill "$nginx_pid" 2>/dev/null || true
  nginx_pid=
done
[[ -n $port ]] || { echo "instructions.sh: nginx did not start" >&2; exit 1; }
url=http://127.0.0.1:$port/ping

# instructions CMD... — user-space instructions of CMD (all threads), from callgrind's summary.
instructions() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>"$work/cg.err" >"$work/cg.out"
  awk '/Collected :/ { print $NF }' "$work/cg.err"
}

# scalelab_requests — 2xx requests of the last scalelab run, from its summary line.
scalelab_requests() {
  awk '/^ *requests/ { gsub(/,/, "", $0); for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) { print $i; exit } }' "$work/cg.out"
}

# wrk_requests — requests of the last wrk run, from "N requests in T".
wrk_requests() {
  awk '/requests in/ { print $1; exit }' "$work/cg.out"
}

marginal() { # marginal I1 N1 I2 N2
  awk -v i1="$1" -v n1="$2" -v i2="$3" -v n2="$4" 'BEGIN {
    if (n2 <= n1) { print "n/a"; exit 1 } printf "%.0f", (i2 - i1) / (n2 - n1) }'
}

echo "nginx on $url; $CONNS connections; callgrind counts user-space instructions of the loader only"
s1=$(instructions "$SCALELAB" quick "$url" -c "$CONNS" -n "$SHORT" --threads 1 --quiet)
n1=$(scalelab_requests)
s2=$(instructions "$SCALELAB" quick "$url" -c "$CONNS" -n "$LONG" --threads 1 --quiet)
n2=$(scalelab_requests)
[[ -n $n1 && -n $n2 && -n $s1 && -n $s2 ]] || { echo "instructions.sh: scalelab run not measured:" >&2; cat "$work/cg.out" "$work/cg.err" >&2; exit 1; }
w1=$(instructions wrk -t1 -c "$CONNS" -d "${WRK_SHORT}s" "$url")
m1=$(wrk_requests)
w2=$(instructions wrk -t1 -c "$CONNS" -d "${WRK_LONG}s" "$url")
m2=$(wrk_requests)
[[ -n $m1 && -n $m2 && -n $w1 && -n $w2 ]] || { echo "instructions.sh: wrk run not measured:" >&2; cat "$work/cg.out" "$work/cg.err" >&2; exit 1; }
scalelab_per=$(marginal "$s1" "$n1" "$s2" "$n2")
wrk_per=$(marginal "$w1" "$m1" "$w2" "$m2")
printf '%-10s %14s %14s %14s %14s %12s\n' tool "short Ir" "short req" "long Ir" "long req" "Ir / req"
printf '%-10s %14s %14s %14s %14s %12s\n' scalelab "$s1" "$n1" "$s2" "$n2" "$scalelab_per"
printf '%-10s %14s %14s %14s %14s %12s\n' wrk "$w1" "$m1" "$w2" "$m2" "$wrk_per"
awk -v s="$scalelab_per" -v w="$wrk_per" 'BEGIN { printf "scalelab / wrk: %.2fx (target: at most 2x)\n", s / w }'
