#!/usr/bin/env bash
# bench/vs-nginx.sh: `mirror serve` against the two classic nginx mirrors,
# on one machine, on loopback, all storing on the same disk.
#
#   origin       nginx serving generated files of 4 KiB, 1 MiB, 16 MiB and
#                64 MiB (hard links: a fresh name for every cold request)
#   proxy_store  nginx: try_files $uri @fetch; @fetch proxy_pass + proxy_store
#   proxy_cache  nginx: proxy_cache with proxy_cache_lock on
#   mirror       `mirror serve` built from this repository (GET /bench/KEY)
#   go_store     with BASELINE=1 only: `load gostore`, the smallest honest Go
#                proxy_store (net/http, sendfile on hits, no fsync, no
#                MD5): the floor of a Go implementation on this machine
#
# Workloads, run in interleaved rounds (every server once per workload per
# round, in rotating order):
#   cold-SIZE-cN      N clients (bench/load) each fetching keys nobody asked
#                     for before: every request is a miss that goes to the
#                     origin and is stored.
#   hit-SIZE-cN       wrk, N connections, DURATION seconds on one key
#                     fetched (and stored) just before.
#   stampede-16m-cN   N clients, connected first, send their GET of one
#                     cold 16 MiB key at the same moment: latency, and how
#                     many requests reached the origin.
# For every run: peak resident memory, summed over the server's processes
# (nginx's master and workers), sampled every 20 ms.
#
# Each round is framed by two floors: the median durable 4 KiB commit
# (write, fsync, rename, fsync the directory) and MD5 MB/s over 64 MiB in
# memory. A round starts only once the floors are within 2x of their
# quiet values (the best seen so far), waiting while they are not; a
# round whose floors, before or after it, are more than 2x off (then, or
# against a quieter machine seen later) ran on a busy machine: it is
# discarded and rerun.
#
# Reading the output: for each workload, the median of each server, and
# the ratio mirror ÷ other per round as min / median / max. Throughput:
# above 1, mirror is faster. Latency and memory: below 1, mirror is better.
# nginx's proxies never fsync; mirror makes each object durable before
# the last byte of its first answer (compare with the commit floor).
# Every run starts after a `sync`, so that none writes back the dirty
# pages of another. nginx's access logs are off (mirror logs fetches
# only); its configurations are self-contained, under the workspace.
# The raw numbers of every run (discarded rounds too) are in results.tsv,
# the floors in rounds.tsv, the report in report.md, under RESULTS_DIR.
#
# The machine is shared and noisy: trust medians over rounds, read min /
# max as the spread, and rerun before believing a surprise.
#
# Environment:
#   ROUNDS=6            rounds kept (QUICK=1: 1)
#   DURATION=4          seconds of each wrk run, and the most a cold run
#                       starts requests for (QUICK=1: 1); 4, not 5, keeps
#                       a full run near 20 minutes on 2 cores
#   SIZES="4k 1m 16m 64m"  the sizes run (16m is the stampede)
#   WORKLOADS=          only these workloads (names as below, e.g.
#                       "hit-4k-c64 cold-1m-c1"); empty: every one SIZES picks
#   QUICK=1             one round, small counts: to test this script
#   STAMPEDE_CLIENTS=500
#   MAX_RERUNS=ROUNDS   at most this many discarded rounds are rerun
#   QUIET_WAIT=600      seconds a round waits for quiet floors before it
#                       starts (then it runs anyway, and may be discarded)
#   MIRROR_FLAGS=       extra flags for `mirror serve`
#   BASELINE=0          1: a fourth server, go_store (see above), in every
#                       round, and a table go_store ÷ proxy_store in the report
#   MIRROR_REV=         build mirror from this commit (git archive, read
#                       only) instead of the work tree
#   BENCH_TMP=${TMPDIR:-/var/tmp}  where the servers store (one disk)
#   RESULTS_DIR=bench/results/DATE
#
# Needs go, curl, nginx and wrk; run as root it installs nginx and wrk
# from Debian's packages when missing.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
  ROUNDS=${ROUNDS:-1} DURATION=${DURATION:-1} STAMPEDE_CLIENTS=${STAMPEDE_CLIENTS:-100}
fi
ROUNDS=${ROUNDS:-6}
DURATION=${DURATION:-4}
SIZES=${SIZES:-"4k 1m 16m 64m"}
WORKLOADS=${WORKLOADS:-}
STAMPEDE_CLIENTS=${STAMPEDE_CLIENTS:-500}
MAX_RERUNS=${MAX_RERUNS:-$ROUNDS}
QUIET_WAIT=${QUIET_WAIT:-600}
MIRROR_FLAGS=${MIRROR_FLAGS:-}
BASELINE=${BASELINE:-0}
MIRROR_REV=${MIRROR_REV:-}
BENCH_TMP=${BENCH_TMP:-${TMPDIR:-/var/tmp}}
RESULTS_DIR=${RESULTS_DIR:-$repo/bench/results/$(date +%Y%m%d-%H%M%S)}
servers=(mirror proxy_store proxy_cache)
[ "$BASELINE" = 1 ] && servers+=(go_store)

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# bytes SIZE: a size name's bytes.
bytes() {
  case $1 in
    4k) echo 4096 ;; 1m) echo 1048576 ;; 16m) echo 16777216 ;; 64m) echo 67108864 ;;
    *) die "unknown size $1 (want 4k, 1m, 16m, 64m)" ;;
  esac
}

# cold_count SIZE CLIENTS: keys per client of a cold run (the run also
# stops starting requests after DURATION).
cold_count() {
  local full quick
  case $1-$2 in
    4k-1) full=400 quick=40 ;; 4k-16) full=60 quick=5 ;;
    1m-1) full=60 quick=10 ;; 1m-16) full=8 quick=2 ;;
    64m-1) full=4 quick=1 ;; 64m-16) full=1 quick=1 ;;
    *) die "no count for $1 with $2 clients" ;;
  esac
  if [ "$QUICK" = 1 ]; then echo "$quick"; else echo "$full"; fi
}

has_size() { [[ " $SIZES " == *" $1 "* ]]; }

# --- tools -----------------------------------------------------------------

# install_tools: nginx, wrk (and curl) from Debian's packages when missing,
# as root; the package's own nginx service is kept from starting.
install_tools() {
  local missing=()
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v wrk >/dev/null || missing+=(wrk)
  command -v curl >/dev/null || missing+=(curl)
  command -v go >/dev/null || die "go is not on PATH"
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" != 0 ]; then
    die "missing ${missing[*]}: run as root to install them from Debian's packages (apt-get install -y ${missing[*]}), or install them yourself"
  fi
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them with"
  log "installing ${missing[*]} from Debian's packages"
  local policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then # keep the package from starting nginx on :80
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
  fi
  local rc=0
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; } >&2 || rc=$?
  [ -n "$policy" ] && rm -f "$policy"
  [ $rc -eq 0 ] || die "apt-get install ${missing[*]} failed"
}

install_tools
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ "$(ulimit -n)" -ge 4096 ] || ulimit -n 65536 2>/dev/null || die "need at least 4096 open files (ulimit -n)"

# --- workspace and cleanup ---------------------------------------------------

mkdir -p "$BENCH_TMP" "$RESULTS_DIR"
work=$(mktemp -d "$BENCH_TMP/vs-nginx.XXXXXX")
pids=()
# cleanup: every process this script started, then the workspace, on any
# exit.
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
started=$(date +%s)

# forget PID: a process that ended (or was stopped) needs no cleanup.
forget() {
  local keep=() p
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}

# stop PID: terminate a process this script started and wait for it.
stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget "$1"
}

# --- build -------------------------------------------------------------------

log "building mirror and the load client"
if [ -n "$MIRROR_REV" ]; then
  mkdir -p "$work/src"
  git -C "$repo" archive "$MIRROR_REV" | tar -x -C "$work/src"
  (cd "$work/src" && go build -o "$work/mirror" ./cmd/mirror)
  commit=$(git -C "$repo" rev-parse --short "$MIRROR_REV")
else
  (cd "$repo" && go build -o "$work/mirror" ./cmd/mirror)
  commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [ -n "$(git -C "$repo" status --porcelain -- . ':!bench' 2>/dev/null)" ]; then
    commit="$commit+work-tree-changes"
  fi
fi
(cd "$repo" && go build -o "$work/load" ./bench/load)
MIRROR=$work/mirror LOAD=$work/load

# --- origin ------------------------------------------------------------------

mapfile -t ports < <("$LOAD" ports -n 3)
origin_port=${ports[0]} store_port=${ports[1]} cache_port=${ports[2]}
origin=$work/origin
mkdir -p "$origin/root" "$origin/base" "$origin/logs"
for s in $SIZES; do
  head -c "$(bytes "$s")" /dev/urandom >"$origin/base/$s.bin"
done

# nginx_conf DIR PORT SERVER-BLOCK-BODY [HTTP-EXTRA]: a self-contained nginx
# configuration: everything under DIR, sendfile as Debian's default
# configuration has it, keep-alive connections never cut by a request count.
nginx_conf() {
  local dir=$1 port=$2 body=$3 extra=${4:-} user=""
  [ "$(id -u)" = 0 ] && user="user root root;"
  mkdir -p "$dir/tmp"
  cat >"$dir/nginx.conf" <<EOF
$user
worker_processes auto;
worker_rlimit_nofile 65536;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 8192; }
http {
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  $extra
  server {
    listen 127.0.0.1:$port backlog=4096;
    $body
  }
}
EOF
}

# wait_http URL: until something answers at URL, within 10 s.
wait_http() {
  local i
  for i in $(seq 100); do
    curl -s -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.1
  done
  die "nothing answers at $1"
}

# start_nginx DIR PORT: nginx in the foreground of a background job; its
# master's pid in $! is what the memory sampler follows.
start_nginx() {
  "$NGINX" -p "$1/" -c "$1/nginx.conf" -e "$1/error.log" &
  nginx_pid=$!
  pids+=("$nginx_pid")
  wait_http "http://127.0.0.1:$2/"
}

nginx_conf "$origin" "$origin_port" "root $origin/root; access_log $origin/logs/access.log;"
start_nginx "$origin" "$origin_port"
origin_pid=$nginx_pid
log "origin on 127.0.0.1:$origin_port"

# --- the three servers ---------------------------------------------------------

declare -A base_url server_pid
# listen_addr NAME PID LOG: sets addr to the address a server started in
# the background says it listens on ("listening on http://ADDR" in LOG),
# within 10 s.
listen_addr() {
  local i
  addr=""
  for i in $(seq 100); do
    # The log is made by the background job's redirection: it may not be
    # there yet.
    addr=$( { sed -nE 's/^listening on (http:\/\/[0-9.:]+)$/\1/p' "$3" 2>/dev/null || true; } | head -n1)
    [ -n "$addr" ] && break
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; die "$1 exited"; }
    sleep 0.1
  done
  [ -n "$addr" ] || { cat "$3" >&2; die "$1 did not say where it listens"; }
}

# start_servers DIR: the three mirrors (and go_store with BASELINE=1), each
# storing under DIR (fresh every round, so every round starts with empty
# stores).
start_servers() {
  local dir=$1
  mkdir -p "$dir/store/root" "$dir/cache/cache"
  nginx_conf "$dir/store" "$store_port" "
    location / { root $dir/store/root; try_files \$uri @fetch; }
    location @fetch {
      proxy_pass http://127.0.0.1:$origin_port;
      proxy_store on;
      proxy_store_access user:rw group:rw all:r;
      root $dir/store/root;
    }"
  start_nginx "$dir/store" "$store_port"
  server_pid[proxy_store]=$nginx_pid base_url[proxy_store]="http://127.0.0.1:$store_port/"
  nginx_conf "$dir/cache" "$cache_port" "
    location / {
      proxy_pass http://127.0.0.1:$origin_port;
      proxy_cache mc;
      proxy_cache_key \$uri;
      proxy_cache_valid 200 1d;
      proxy_cache_lock on;
    }" "proxy_cache_path $dir/cache/cache levels=1:2 keys_zone=mc:64m max_size=200g inactive=1d use_temp_path=off;"
  start_nginx "$dir/cache" "$cache_port"
  server_pid[proxy_cache]=$nginx_pid base_url[proxy_cache]="http://127.0.0.1:$cache_port/"
  printf '{"source_site": "http://127.0.0.1:%s"}\n' "$origin_port" >"$dir/rules.json"
  # -access-log off: the proxies log nothing either (access_log off).
  # shellcheck disable=SC2086 # MIRROR_FLAGS is a list of flags
  "$MIRROR" serve -data "$dir/mirror" -listen 127.0.0.1:0 -bucket "bench=$dir/rules.json" \
    -allow-private-origins -access-log off $MIRROR_FLAGS 2>"$dir/mirror.log" &
  server_pid[mirror]=$!
  pids+=("${server_pid[mirror]}")
  local addr
  listen_addr "mirror serve" "${server_pid[mirror]}" "$dir/mirror.log"
  base_url[mirror]="$addr/bench/"
  if [ "$BASELINE" = 1 ]; then
    mkdir -p "$dir/gostore/root"
    "$LOAD" gostore -listen 127.0.0.1:0 -root "$dir/gostore/root" -origin "http://127.0.0.1:$origin_port" \
      2>"$dir/gostore/gostore.log" &
    server_pid[go_store]=$!
    pids+=("${server_pid[go_store]}")
    listen_addr "load gostore" "${server_pid[go_store]}" "$dir/gostore/gostore.log"
    base_url[go_store]="$addr/"
  fi
}

# stop_servers: the three mirrors (and go_store), gracefully.
stop_servers() {
  local s
  for s in "${servers[@]}"; do stop "${server_pid[$s]}"; done
}

# --- runs ----------------------------------------------------------------------

cat >"$work/wrk.lua" <<'EOF'
-- One line of key=value pairs, as bench/load prints them; MB/s counts the
-- payload (WRK_SIZE bytes) of the successful requests. done() runs in a
-- Lua state of its own, which init() never saw: hence the environment.
function done(summary, latency, requests)
  local size = tonumber(os.getenv("WRK_SIZE")) or 0
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  local secs = summary.duration / 1e6
  local ok = summary.requests - errors
  io.write(string.format("WRK requests=%d errors=%d seconds=%.3f req_s=%.2f mb_s=%.2f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
    summary.requests, errors, secs, ok / secs, ok * size / secs / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
EOF

cols=(requests errors seconds req_s mb_s p50_ms p99_ms max_ms)
printf 'attempt\tround\tserver\tworkload\tclients\tsize\t%s\trss_mib\tpss_mib\torigin_reqs\n' \
  "$(IFS=$'\t'; echo "${cols[*]}")" >"$RESULTS_DIR/results.tsv"

# kv KEY LINE: the value of KEY in a key=value line, NaN when absent.
kv() { local v; v=$(grep -oE "(^| )$1=[^ ]+" <<<"$2" | head -n1 | cut -d= -f2); echo "${v:-NaN}"; }

# run_one ATTEMPT ROUND SERVER WORKLOAD: one run, sampled for memory,
# appended to results.tsv.
run_one() {
  local att=$1 round=$2 server=$3 w=$4 kind size clients out rssline prefix url sampler t0
  IFS=- read -r kind size clients <<<"$w"
  clients=${clients#c}
  prefix="r/a$att/$server/$w"
  url=${base_url[$server]}
  t0=$(date +%s.%N)
  sync # dirty pages of the last run are not this run's to write back
  if [ "$kind" = hit ]; then # stored before the sampler starts
    mkdir -p "$origin/root/$prefix"
    ln "$origin/base/$size.bin" "$origin/root/$prefix/k0"
    curl -sf -o /dev/null "$url$prefix/k0" && curl -sf -o /dev/null "$url$prefix/k0" ||
      log "warning: warm-up of $server $w failed"
    sync
  fi
  "$LOAD" rss -pids "${server_pid[$server]}" >"$work/rss.out" &
  sampler=$!
  pids+=("$sampler")
  sleep 0.1 # the sampler's signal handler is in place, and it has a baseline
  case $kind in
    cold)
      out=$("$LOAD" cold -base "$url" -origin "$origin/root" -src "$origin/base/$size.bin" -prefix "$prefix" \
        -clients "$clients" -count "$(cold_count "$size" "$clients")" -duration "${DURATION}s") || out="" ;;
    hit)
      out=$(WRK_SIZE=$(bytes "$size") wrk -t "$((clients < 2 ? 1 : 2))" -c "$clients" -d "${DURATION}s" \
        --timeout 10s -s "$work/wrk.lua" "$url$prefix/k0" | grep '^WRK ') || out="" ;;
    stampede)
      out=$("$LOAD" stampede -url "$url$prefix/k0" -origin "$origin/root" -src "$origin/base/$size.bin" \
        -key "$prefix/k0" -clients "$clients") || out="" ;;
  esac
  stop "$sampler"
  rssline=$(cat "$work/rss.out")
  [ -n "$out" ] || log "warning: $server $w measured nothing"
  local row=("$att" "$round" "$server" "$w" "$clients" "$(bytes "$size")") c
  for c in "${cols[@]}"; do row+=("$(kv "$c" "$out")"); done
  row+=("$(kv rss_mib "$rssline")" "$(kv pss_mib "$rssline")" "$(grep -cF "GET /$prefix/" "$origin/logs/access.log" || true)")
  (IFS=$'\t'; echo "${row[*]}") >>"$RESULTS_DIR/results.tsv"
  log "  $(printf '%-12s %-18s' "$server" "$w") $(kv mb_s "$out") MB/s  $(kv req_s "$out") req/s  p50 $(kv p50_ms "$out") ms  p99 $(kv p99_ms "$out") ms  rss $(kv rss_mib "$rssline") MiB  errors $(kv errors "$out")  origin $(grep -cF "GET /$prefix/" "$origin/logs/access.log" || true)  ($(awk -v t="$t0" -v n="$(date +%s.%N)" 'BEGIN {printf "%.1f", n - t}') s)"
}

workloads=()
for s in 4k 1m 64m; do has_size "$s" && workloads+=("cold-$s-c1" "cold-$s-c16"); done
for s in 4k 1m; do has_size "$s" && workloads+=("hit-$s-c1" "hit-$s-c16" "hit-$s-c64"); done
has_size 16m && workloads+=("stampede-16m-c$STAMPEDE_CLIENTS")
if [ -n "$WORKLOADS" ]; then
  picked=()
  for w in "${workloads[@]}"; do [[ " $WORKLOADS " == *" $w "* ]] && picked+=("$w"); done
  workloads=("${picked[@]}")
fi
[ ${#workloads[@]} -gt 0 ] || die "SIZES=\"$SIZES\" WORKLOADS=\"$WORKLOADS\" select no workload"

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "commit: $commit"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "memory: $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
  echo "disk: $(df -hT "$work" | awk 'NR==2 {print $1 ", " $2 ", " $3 ", " $6 " used"}') at $BENCH_TMP"
  echo "kernel: $(uname -r)"
  echo "nginx: $("$NGINX" -v 2>&1 | sed 's/.*: //')"
  echo "wrk: $(wrk -v 2>&1 | head -n1 | awk '{print $2}')"
  echo "go: $(go version | awk '{print $3}')"
  echo "settings: ROUNDS=$ROUNDS DURATION=${DURATION}s SIZES=\"$SIZES\" WORKLOADS=\"$WORKLOADS\" QUICK=$QUICK STAMPEDE_CLIENTS=$STAMPEDE_CLIENTS MIRROR_FLAGS=\"$MIRROR_FLAGS\"$([ "$BASELINE" = 1 ] && echo " BASELINE=1")"
} >"$RESULTS_DIR/machine.txt"
cat "$RESULTS_DIR/machine.txt" >&2
log "results in $RESULTS_DIR; the machine is shared and noisy: read medians and spreads"

# --- rounds --------------------------------------------------------------------

best_commit="" best_md5=""
# floor: "commit_ms md5_mb_s" now, and the quiet values (the best floors
# seen so far) brought up to date.
floor() {
  local out c m
  out=$("$LOAD" floor -dir "$work/floor")
  rm -rf "$work/floor"
  c=$(kv commit_ms "$out") m=$(kv md5_mb_s "$out")
  best_commit=$(awk -v a="$c" -v b="$best_commit" 'BEGIN {print (b == "" || a < b) ? a : b}')
  best_md5=$(awk -v a="$m" -v b="$best_md5" 'BEGIN {print (b == "" || a > b) ? a : b}')
  echo "$c $m"
}

# quiet COMMIT MD5: whether floors are within 2x of the quiet values.
quiet() {
  awk -v c="$1" -v m="$2" -v bc="$best_commit" -v bm="$best_md5" 'BEGIN {exit !(c <= 2*bc && m >= bm/2)}'
}

# The quiet values start as the best of three floors a second apart.
for _ in 1 2 3; do floor >/dev/null; sleep 1; done
log "quiet floors: commit $best_commit ms, MD5 $best_md5 MB/s"

kept=0 attempt=0 discarded=0 waited=0
declare -A floors rounds status started_at # per attempt
# write_rounds: rounds.tsv anew, after every attempt (a status may change
# later, and a run that dies still leaves its floors).
write_rounds() {
  local a a0 b0 a1 b1
  {
    printf 'attempt\tround\tstatus\tcommit_ms_before\tmd5_before\tcommit_ms_after\tmd5_after\tquiet_commit_ms\tquiet_md5\tstarted\n'
    for a in $(seq "$attempt"); do
      read -r a0 b0 a1 b1 <<<"${floors[$a]}"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$a" "${rounds[$a]}" "${status[$a]}" "$a0" "$b0" "$a1" "$b1" \
        "$best_commit" "$best_md5" "${started_at[$a]}"
    done
  } >"$RESULTS_DIR/rounds.tsv"
}
while [ "$kept" -lt "$ROUNDS" ]; do
  if [ "$attempt" -ge $((ROUNDS + MAX_RERUNS)) ]; then
    log "warning: gave up after $attempt attempts ($discarded discarded): the machine is too busy"
    break
  fi
  attempt=$((attempt + 1))
  round=$((kept + 1))
  [ -d "$origin/base" ] || die "the workspace $work vanished: something else cleans $BENCH_TMP (set BENCH_TMP)"
  # A round starts on a quiet machine: while the floors say it is busy,
  # wait (up to QUIET_WAIT seconds a round, then run anyway).
  c0="" m0="" since=$(date +%s)
  while floor >"$work/f" && read -r c0 m0 <"$work/f" && ! quiet "$c0" "$m0"; do
    if [ $(($(date +%s) - since)) -ge "$QUIET_WAIT" ]; then
      log "warning: still busy after ${QUIET_WAIT}s (commit $c0 ms, MD5 $m0 MB/s): running round $round anyway"
      break
    fi
    log "machine busy (commit $c0 ms, MD5 $m0 MB/s; quiet: $best_commit ms, $best_md5 MB/s): waiting"
    sleep 20
  done
  waited=$((waited + $(date +%s) - since))
  when=$(date +%T)
  log "round $round (attempt $attempt): floors before: commit $c0 ms, MD5 $m0 MB/s"
  dir=$work/a$attempt
  start_servers "$dir"
  i=0
  for w in "${workloads[@]}"; do
    for j in "${!servers[@]}"; do # rotate: each server leads in turn
      run_one "$attempt" "$round" "${servers[$(((attempt + i + j) % ${#servers[@]}))]}" "$w"
    done
    i=$((i + 1))
  done
  stop_servers
  rm -rf "$dir" "$origin/root/r/a$attempt"
  sync # the floors say whether the machine is busy, not this round's deletes
  floor >"$work/f"
  read -r c1 m1 <"$work/f"
  floors[$attempt]="$c0 $m0 $c1 $m1" rounds[$attempt]=$round started_at[$attempt]=$when
  if quiet "$c0" "$m0" && quiet "$c1" "$m1"; then
    status[$attempt]=kept kept=$((kept + 1))
    log "round $round kept: floors after: commit $c1 ms, MD5 $m1 MB/s"
  else
    status[$attempt]=discarded discarded=$((discarded + 1))
    log "round $round (attempt $attempt) discarded: floors before $c0 ms, $m0 MB/s, after $c1 ms, $m1 MB/s; quiet: $best_commit ms, $best_md5 MB/s"
  fi
  # A quieter machine seen since may show that an earlier round ran busy:
  # it is dropped, and another run in its place.
  for a in "${!status[@]}"; do
    [ "${status[$a]}" = kept ] || continue
    read -r a0 b0 a1 b1 <<<"${floors[$a]}"
    if ! quiet "$a0" "$b0" || ! quiet "$a1" "$b1"; then
      status[$a]=discarded kept=$((kept - 1)) discarded=$((discarded + 1))
      log "attempt $a discarded after all: its floors ($a0 / $a1 ms, $b0 / $b1 MB/s) are over 2x the quiet values seen since ($best_commit ms, $best_md5 MB/s)"
    fi
  done
  write_rounds
done

stop "$origin_pid"
elapsed=$(($(date +%s) - started))
{
  if [ "$BASELINE" = 1 ]; then
    echo "# mirror serve vs nginx (proxy_store, proxy_cache with proxy_cache_lock) and go_store (a minimal Go proxy_store)"
  else
    echo "# mirror serve vs nginx (proxy_store, proxy_cache with proxy_cache_lock)"
  fi
  echo
  sed 's/^/    /' "$RESULTS_DIR/machine.txt"
  echo "    took: $((elapsed / 60)) min $((elapsed % 60)) s, of which $((waited / 60)) min $((waited % 60)) s waiting for a quiet machine"
  echo
  "$LOAD" report -results "$RESULTS_DIR/results.tsv" -rounds "$RESULTS_DIR/rounds.tsv"
} >"$RESULTS_DIR/report.md"
cat "$RESULTS_DIR/report.md"
log "took $((elapsed / 60)) min $((elapsed % 60)) s; raw numbers in $RESULTS_DIR/results.tsv"
