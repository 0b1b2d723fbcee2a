#!/usr/bin/env bash
# The command-line S3 clients people point at a mirror gateway, against
# `mirror serve` as a process: aws-cli, s3cmd and rclone each download a
# key not yet fetched (one key each, so each is a real miss) and the bytes
# must be the origin's; each lists the bucket and must see exactly the
# keys fetched; each reads a key the origin lacks and must exit non-zero
# naming the not-found. aws-cli reads signed (a key of -credentials) and
# anonymous, s3cmd signed, rclone anonymous. One line per check; exits
# non-zero when any check fails. Needs go, python3, aws, s3cmd and rclone
# (.ci/run installs the clients).
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
origin_pid="" gateway_pid=""
cleanup() {
  for pid in "$gateway_pid" "$origin_pid"; do
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

passed=0 failed=0
# summary: the lines of the last command's output that say what went wrong.
summary() { grep -E 'ERROR|Problem:|[Ee]rror occurred|Failed to' "$tmp/cmd.log" | tail -n2 | tr '\n\t' '  '; }
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

# wait_for FILE REGEX: the first match of REGEX's group 1 in FILE, within
# 10 s.
wait_for() {
  local i line
  for i in $(seq 100); do
    line=$(sed -nE "s/$2/\\1/p" "$1" | head -n1)
    if [ -n "$line" ]; then
      echo "$line"
      return 0
    fi
    sleep 0.1
  done
  echo "timed out waiting for /$2/ in $1:" >&2
  cat "$1" >&2
  return 1
}

echo "building mirror"
go build -o "$tmp/mirror" ./cmd/mirror

# The origin: a directory on loopback (python's http.server answers 404
# for a file it lacks). Big objects stream on their miss, without an ETag.
site="$tmp/site"
mkdir -p "$site/big" "$site/text" "$site/dir/sub"
head -c 307200 /dev/urandom >"$site/big/aws-signed.bin"
printf 'read by aws-cli, anonymous\n' >"$site/text/aws anon.txt"
printf 'read by s3cmd\n' >"$site/text/s3cmd.txt"
head -c 307200 /dev/urandom >"$site/big/s3cmd.bin"
head -c 307200 /dev/urandom >"$site/dir/sub/rclone.bin"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$site" >"$tmp/origin.log" 2>&1 &
origin_pid=$!
origin_port=$(wait_for "$tmp/origin.log" '^Serving HTTP on 127\.0\.0\.1 port ([0-9]+).*')
echo "origin on 127.0.0.1:$origin_port"

# The gateway: bucket my-bucket mirrors the origin; CIKEY may read.
printf '{"source_site": "http://127.0.0.1:%s"}\n' "$origin_port" >"$tmp/rules.json"
printf '{"CIKEY": {"secret": "ci-secret", "access": "read"}}\n' >"$tmp/credentials.json"
"$tmp/mirror" serve -data "$tmp/data" -listen 127.0.0.1:0 -bucket "my-bucket=$tmp/rules.json" \
  -credentials "$tmp/credentials.json" -allow-private-origins 2>"$tmp/gateway.log" &
gateway_pid=$!
gateway=$(wait_for "$tmp/gateway.log" '^listening on (http:\/\/[0-9.:]+)$')
echo "gateway on $gateway"

# aws-cli: path-style, in a config of its own; signed by CIKEY, or not.
export AWS_CONFIG_FILE="$tmp/aws/config" AWS_SHARED_CREDENTIALS_FILE="$tmp/aws/credentials"
export AWS_EC2_METADATA_DISABLED=true AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL
aws configure set default.s3.addressing_style path
aws configure set default.retry_mode standard
aws configure set default.max_attempts 2
aws_signed() { AWS_ACCESS_KEY_ID=CIKEY AWS_SECRET_ACCESS_KEY=ci-secret aws --endpoint-url "$gateway" "$@"; }
aws_anon() { aws --endpoint-url "$gateway" --no-sign-request "$@"; }

# s3cmd: path-style (host_bucket without %(bucket)s), plain http, signed
# (Signature V4) by CIKEY.
hostport=${gateway#http://}
cat >"$tmp/s3cfg" <<EOF
[default]
access_key = CIKEY
secret_key = ci-secret
host_base = $hostport
host_bucket = $hostport
use_https = False
signature_v2 = False
bucket_location = us-east-1
progress_meter = False
EOF
s3c() { s3cmd -c "$tmp/s3cfg" "$@"; }

# rclone: an S3 remote "gw" made of environment variables, anonymous.
# Its S3 backend can not load an AWS_CA_BUNDLE from the environment into
# its own transport (LoadCustomCABundleError), and the gateway is plain
# http: it runs without one.
export RCLONE_CONFIG="$tmp/rclone.conf"
: >"$RCLONE_CONFIG"
export RCLONE_CONFIG_GW_TYPE=s3 RCLONE_CONFIG_GW_PROVIDER=Other RCLONE_CONFIG_GW_ENDPOINT="$gateway"
export RCLONE_CONFIG_GW_FORCE_PATH_STYLE=true RCLONE_CONFIG_GW_ENV_AUTH=false
rc() { env -u AWS_CA_BUNDLE rclone --retries 1 --low-level-retries 1 "$@"; }

out="$tmp/out"
mkdir -p "$out"

# download CLIENT WHAT KEY COMMAND...: COMMAND writes $out/CLIENT; its
# bytes must be the origin's KEY.
download() {
  local client=$1 what=$2 key=$3
  shift 3
  rm -f "$out/$client"
  if ! "$@" >"$tmp/cmd.log" 2>&1; then
    fail "$client: download of $what, $key: exit status non-zero: $(summary)"
  elif ! cmp -s "$site/$key" "$out/$client"; then
    fail "$client: download of $what, $key: the bytes differ from the origin's"
  else
    pass "$client: download of $what, $key: the origin's $(wc -c <"$site/$key") bytes"
  fi
}

# Misses: a small one is answered once stored, ETag and all; a big one
# (over -small-object, 256 KiB) streams, and so does its HEAD: without an
# ETag, since the origin sends no Content-MD5.
download aws-signed "a big miss" "big/aws-signed.bin" aws_signed s3 cp "s3://my-bucket/big/aws-signed.bin" "$out/aws-signed"
download aws-anonymous "a small miss" "text/aws anon.txt" aws_anon s3 cp "s3://my-bucket/text/aws anon.txt" "$out/aws-anonymous"
download s3cmd "a small miss" "text/s3cmd.txt" s3c get --force "s3://my-bucket/text/s3cmd.txt" "$out/s3cmd"
download s3cmd "a big miss" "big/s3cmd.bin" s3c get --force "s3://my-bucket/big/s3cmd.bin" "$out/s3cmd"
download rclone "a big miss" "dir/sub/rclone.bin" rc copyto "gw:my-bucket/dir/sub/rclone.bin" "$out/rclone"

# A stored key is served from the store: the origin's log holds one GET
# for each key, however many downloads.
download aws-signed "a stored key" "big/aws-signed.bin" aws_signed s3 cp "s3://my-bucket/big/aws-signed.bin" "$out/aws-signed"
download s3cmd "a stored key" "big/aws-signed.bin" s3c get --force "s3://my-bucket/big/aws-signed.bin" "$out/s3cmd"
download rclone "a stored key" "big/aws-signed.bin" rc copyto "gw:my-bucket/big/aws-signed.bin" "$out/rclone"
sleep 0.2
for key in big/aws-signed.bin "text/aws%20anon.txt" text/s3cmd.txt big/s3cmd.bin dir/sub/rclone.bin; do
  n=$(grep -c "\"GET /$key HTTP" "$tmp/origin.log" || true)
  if [ "$n" = 1 ]; then
    pass "origin: one GET of $key for all its downloads"
  else
    fail "origin: $n GETs of $key, want 1"
  fi
done

# Each listing must hold exactly the keys fetched.
want=$(printf '%s\n' "big/aws-signed.bin" "big/s3cmd.bin" "dir/sub/rclone.bin" "text/aws anon.txt" "text/s3cmd.txt" | sort)
# listing CLIENT SED COMMAND...: SED takes COMMAND's output to one key a line.
listing() {
  local client=$1 script=$2 got
  shift 2
  if ! "$@" >"$tmp/cmd.log" 2>&1; then
    fail "$client: listing: exit status non-zero: $(summary)"
    return
  fi
  got=$(sed -nE "$script" "$tmp/cmd.log" | sort)
  if [ "$got" = "$want" ]; then
    pass "$client: listing: the $(echo "$want" | wc -l) keys fetched"
  else
    fail "$client: listing: got [$(echo "$got" | paste -sd,)], want [$(echo "$want" | paste -sd,)]"
  fi
}
# "2026-12-07 11:38:45     307200 big/aws-signed.bin"
listing aws-signed 's/^[0-9-]+ [0-9:]+ +[0-9]+ (.*)$/\1/p' aws_signed s3 ls --recursive s3://my-bucket/
listing aws-anonymous 's/^[0-9-]+ [0-9:]+ +[0-9]+ (.*)$/\1/p' aws_anon s3 ls --recursive s3://my-bucket/
# "2026-12-07 11:38     307200  s3://my-bucket/big/s3cmd.bin"
listing s3cmd 's/^.* s3:\/\/my-bucket\/(.*)$/\1/p' s3c ls --recursive s3://my-bucket/
# "   307200 big/s3cmd.bin"
listing rclone 's/^ *[0-9]+ (.*)$/\1/p' rc ls gw:my-bucket
# Without --recursive, aws-cli lists one level: the common prefixes.
if aws_anon s3 ls s3://my-bucket/ >"$tmp/cmd.log" 2>&1 &&
  [ "$(grep -cE '^ +PRE (big|dir|text)/$' "$tmp/cmd.log")" = 3 ]; then
  pass "aws-anonymous: listing one level: PRE big/, dir/, text/"
else
  fail "aws-anonymous: listing one level: $(summary)"
fi

# missing CLIENT REGEX COMMAND...: COMMAND must fail and say REGEX.
missing() {
  local client=$1 regex=$2
  shift 2
  if "$@" >"$tmp/cmd.log" 2>&1; then
    fail "$client: a key the origin lacks: exit status 0"
  elif grep -qiE "$regex" "$tmp/cmd.log"; then
    pass "$client: a key the origin lacks: exit status non-zero, \"$(grep -oiE "$regex" "$tmp/cmd.log" | head -n1)\""
  else
    fail "$client: a key the origin lacks: no /$regex/ in: $(summary)"
  fi
}
missing aws-signed '404|Not Found|NoSuchKey' aws_signed s3 cp s3://my-bucket/nothing/here.txt "$out/missing"
missing aws-anonymous '404|Not Found|NoSuchKey' aws_anon s3 cp s3://my-bucket/nothing/here.txt "$out/missing"
missing s3cmd 'NoSuchKey|does not exist|404' s3c get --force s3://my-bucket/nothing/here.txt "$out/missing"
# rclone's copyto can not tell a missing object of a bucket from an empty
# directory and copies nothing, exit status 0, from any S3 (rclone#3427):
# its file-level copy, operations/copyfile, is what says "not found".
missing rclone "not found|doesn't exist" rc rc --loopback operations/copyfile \
  srcFs=gw:my-bucket srcRemote=nothing/here.txt dstFs="$out" dstRemote=missing

echo "clients: $passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
  echo "gateway log:"
  tail -n 40 "$tmp/gateway.log"
  exit 1
fi
